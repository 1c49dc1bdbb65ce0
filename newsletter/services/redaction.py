"""Secrets kept out of every message: each form a secret takes in text, credentials in URLs, unsafe characters.

A secret leaks in more shapes than its own: split at a line break inside an HTTP library's
error, escaped in a ``repr``, URL-encoded in a query or a Location header, base64-encoded in an
SMTP reply that echoes ``AUTH PLAIN`` (where it sits inside a longer blob, so its own base64
never appears: every base64-looking word is decoded and checked instead).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

REDACTED = "***"
MIN_FORM = 4  # derived forms of shorter secrets would blank out ordinary words
_BASE64_WORD = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_AUTHORIZATION = re.compile(r"(?i)(authorization:\s*\w+\s+)\S+")


class Secrets:
    """The secrets of one service, and ``redact`` to take every form of them out of a text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._forms: list[str] = []

    def add(self, value: str) -> None:
        if not value or value in self._values:
            return
        self._values.add(value)
        self._forms = sorted({form for secret in self._values for form in forms_of(secret)}, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._values)

    def redact(self, text: str) -> str:
        """``text`` with every secret, in every form, and any Authorization header value replaced by ***."""
        for form in self._forms:
            if len(form) >= MIN_FORM:
                text = text.replace(form, REDACTED)
            else:  # a secret this short would be starred inside every word that holds its letters
                text = re.sub(rf"(?<![\w]){re.escape(form)}(?![\w])", REDACTED, text)
        long_enough = [value for value in self._values if len(value) >= MIN_FORM]
        if long_enough:
            text = _BASE64_WORD.sub(lambda m: REDACTED if _hides(m.group(), long_enough) else m.group(), text)
        return _AUTHORIZATION.sub(rf"\g<1>{REDACTED}", text)


def forms_of(secret: str) -> set[str]:
    """The ways ``secret`` can be written in a message."""
    forms = {secret}
    if len(secret) >= MIN_FORM:
        encoded = base64.b64encode(secret.encode()).decode()
        forms |= {
            quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1],
            repr(secret)[1:-1], repr(secret.encode())[2:-1], encoded, encoded.rstrip("="),
            base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
        }
        forms |= {part for part in re.split(r"[\r\n]+|\\r|\\n", secret) if len(part) >= MIN_FORM}
    return {form for form in forms if form}


def _hides(word: str, secrets: Iterable[str]) -> bool:
    """Whether a base64-looking word decodes to text holding one of the secrets."""
    padded = word + "=" * (-len(word) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            data = decode(padded)
        except (binascii.Error, ValueError):
            continue
        text = data.decode("utf-8", "replace")
        if any(secret in text for secret in secrets):
            return True
    return False


def url_credentials(url: str) -> tuple[str, str] | None:
    """The (user, password) written into an http(s) URL (``https://user:pass@host``), if any."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or "@" not in parts.netloc:
        return None
    return parts.username or "", parts.password or ""


def strip_credentials(url: str) -> str:
    """``url`` without a user name and password (``https://user:pass@host/x`` -> ``https://host/x``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def web_url(value: object) -> str | None:
    """A link from a service's answer fit to show and store: http(s), printable, no credentials; else None."""
    if not isinstance(value, str) or len(value) > 2048 or not re.fullmatch(r"https?://[^\s\x00-\x1f\x7f]+", value):
        return None
    return strip_credentials(value) if one_line(value) == value else None


def one_line(text: str, limit: int = 500) -> str:
    """``text`` safe for a terminal and one line: control, format and bidi characters escaped, cut at ``limit``."""
    out = []
    for char in text:
        if char in "\r\n\t":
            out.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp"):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    shown = re.sub(r" {2,}", " ", "".join(out)).strip()
    return shown if len(shown) <= limit else shown[:limit] + "…"


def describe_character(char: str) -> str:
    """A character named without showing it: 'U+00A0 NO-BREAK SPACE', 'a line break'."""
    if char in "\r\n":
        return "a line break"
    if char == "\t":
        return "a tab"
    return f"U+{ord(char):04X} {unicodedata.name(char, 'control character')}"


def unsafe_character(text: str, *, ascii_only: bool = False) -> str | None:
    """The first control character in ``text`` (or non-ASCII one, with ``ascii_only``), if any."""
    for char in text:
        if unicodedata.category(char) == "Cc" or (ascii_only and not char.isascii()):
            return char
    return None
