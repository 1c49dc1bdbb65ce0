"""Service settings: what each ``[export.<service>]`` key or NEWSLETTER_<SERVICE>_<KEY> holds, checked as written.

A service declares each setting once (``Setting`` with its ``kind``); ``file_value`` and
``env_value`` check a value against that kind before anything is sent, in a dry run as in a real
export, and turn it into the text the service reads. The file's values keep their TOML types:
TOML's ``true`` is not the number 1 and ``"3"`` is not the number 3, as everywhere else in
newsletter.toml; the environment's values are text, read the way the kind says.
"""

from __future__ import annotations

import math
import re
from typing import Any

import httpx
from msgspec import Struct

from newsletter.config import toml_value
from newsletter.errors import ConfigError
from newsletter.services.redaction import one_line, strip_credentials

# The kinds of value a setting holds.
TEXT = "text"  # a string
URL = "url"  # an http:// or https:// address
HTTPS_URL = "https-url"  # an https:// address
SECONDS = "seconds"  # a finite number of seconds, 0 or more (TOML integer or float)
COUNT = "count"  # a whole number, 0 or more
PORT = "port"  # a TCP port, 1 to 65535
ID = "id"  # a whole number above 0: the id the service shows for a sender, a template, a group
IDS = "ids"  # whole numbers above 0: a TOML list (or one number); comma-separated in the environment
UUIDS = "uuids"  # UUIDs: a TOML list of strings (or one); comma-separated in the environment
FLAG = "flag"  # true or false
CHOICE = "choice"  # one of ``Setting.choices``, in any case

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
UUID_EXAMPLE = "f2fe66a1-43f3-4e3a-87b1-c6a600d805f0"
_NUMERIC = (SECONDS, COUNT, PORT, ID, IDS, FLAG)  # kinds whose value is not a TOML string
_FLAG_WORDS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


class Setting(Struct, frozen=True):
    """One setting a service reads: ``[export.<service>] key`` or ``NEWSLETTER_<SERVICE>_<KEY>``.

    ``kind`` is one of the kinds above; ``default`` is written as the environment would hold
    it ("10", "true"); ``choices`` lists a CHOICE setting's values.
    """

    key: str
    help: str
    required: bool = True
    secret: bool = False
    default: str | None = None
    kind: str = TEXT
    choices: tuple[str, ...] = ()


class _Bad(Exception):
    """A value that is not of its setting's kind; ``why`` (may be empty) says more than the kind does."""

    def __init__(self, why: str = ""):
        self.why = why
        super().__init__(why)


def expected(spec: Setting) -> str:
    """What a value of ``spec`` must be, for messages: "a number of seconds, 0 or more"."""
    if spec.kind == CHOICE:
        quoted = [f'"{choice}"' for choice in spec.choices]
        return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]
    return {
        TEXT: "a string", URL: "a web address starting with https:// (or http://)",
        HTTPS_URL: "a web address starting with https://",
        SECONDS: "a number of seconds, 0 or more", COUNT: "a whole number, 0 or more",
        PORT: "a port number from 1 to 65535", ID: "a whole number above 0 (the ID the service shows)",
        IDS: "a list of whole numbers above 0 (the IDs the service shows)",
        UUIDS: f"a list of IDs like {UUID_EXAMPLE}", FLAG: "true or false",
    }[spec.kind]


def toml_example(spec: Setting) -> str:
    """The setting's default as written in newsletter.toml (``10``, ``"starttls"``, ``false``); unset: ``""``."""
    if spec.default is None:
        return "[]" if spec.kind in (IDS, UUIDS) else '""'
    return spec.default if spec.kind in _NUMERIC else f'"{spec.default}"'


def _checked(spec: Setting, value: Any) -> Any:
    """``value`` (a TOML value, or the environment's text once read) if it is of ``spec``'s kind; else _Bad."""
    kind = spec.kind
    if kind in (SECONDS, COUNT, PORT, ID):
        if isinstance(value, bool):
            raise _Bad("TOML's true and false are not numbers")
        if kind == SECONDS and isinstance(value, float) and not math.isfinite(value):
            raise _Bad("not a finite number")
        if not isinstance(value, int) and not (kind == SECONDS and isinstance(value, float)):
            raise _Bad()
        low, high = {SECONDS: (0, math.inf), COUNT: (0, math.inf), PORT: (1, 65535), ID: (1, 10**18 - 1)}[kind]
        if not low <= value <= high:
            raise _Bad()
        return value
    if kind in (IDS, UUIDS):
        items = value if isinstance(value, list) else [value]
        for item in items:
            if kind == IDS and (isinstance(item, bool) or not isinstance(item, int) or not 1 <= item < 10**18):
                raise _Bad()
            if kind == UUIDS and not (isinstance(item, str) and _UUID.fullmatch(item.strip().lower())):
                raise _Bad()
        return items
    if kind == FLAG:
        if not isinstance(value, bool):
            raise _Bad()
        return value
    if not isinstance(value, str):
        raise _Bad()
    if kind == CHOICE:
        if value.strip().lower() not in spec.choices:
            raise _Bad()
        return value.strip().lower()
    if kind in (URL, HTTPS_URL) and value.strip():
        try:
            url = httpx.URL(value.strip())
        except httpx.InvalidURL:
            raise _Bad() from None
        schemes = ("https",) if kind == HTTPS_URL else ("http", "https")
        if url.scheme not in schemes or not url.host:
            raise _Bad()
    return value


def _read_text(spec: Setting, text: str) -> Any:
    """The environment's text as the value it stands for (a number, a list, a flag); _Bad if it stands for none."""
    kind = spec.kind
    if kind == SECONDS:
        try:
            return float(text)
        except ValueError:
            raise _Bad() from None
    if kind in (COUNT, PORT, ID):
        if not re.fullmatch(r"-?[0-9]{1,18}", text):
            raise _Bad()
        return int(text)
    if kind in (IDS, UUIDS):
        items = [item.strip() for item in text.split(",") if item.strip()]
        if kind == UUIDS:
            return items
        if not all(re.fullmatch(r"-?[0-9]{1,18}", item) for item in items):
            raise _Bad()
        return [int(item) for item in items]
    if kind == FLAG:
        if text.lower() not in _FLAG_WORDS:
            raise _Bad()
        return _FLAG_WORDS[text.lower()]
    return text


def _as_text(value: Any) -> str:
    """A checked value as the text the service reads (what the environment would hold)."""
    if isinstance(value, list):
        return ",".join(_as_text(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _unset(value: Any) -> bool:
    """An empty string or list leaves a setting unset, as the init file's placeholders are written."""
    return isinstance(value, (str, list)) and not value


def file_value(spec: Setting, value: Any, where: str, section: str) -> str | None:
    """``[section] key = value`` as the text the service reads (None: unset); a value not of the setting's
    kind is a ConfigError at ``where`` ("newsletter.toml:12") saying what to write instead."""
    if _unset(value) or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return _as_text(_checked(spec, value))
    except _Bad as bad:
        why = f" ({bad.why})" if bad.why else ""
        # An address may carry a user name and password: never shown.
        shown = toml_value(strip_credentials(value) if isinstance(value, str) else value)
        raise ConfigError(f"{where}: [{section}] {spec.key} must be {expected(spec)}, not {shown}{why}: "
                          f"{_instead(spec, value)}.") from None


def env_value(spec: Setting, text: str, variable: str) -> str | None:
    """The environment variable's text, checked against the setting's kind (None: empty); else a ConfigError."""
    if not text.strip():
        return None
    try:
        return _as_text(_checked(spec, _read_text(spec, text.strip())))
    except _Bad as bad:
        why = f" ({bad.why})" if bad.why else ""
        shown = "" if spec.secret else f", not {one_line(strip_credentials(text), 80)!r}"
        example = {IDS: "3 or 2,7", UUIDS: UUID_EXAMPLE}.get(spec.kind) or spec.default or _EXAMPLES.get(spec.kind)
        if spec.kind == CHOICE:
            example = _choice_example(spec)
        hint = f", e.g. {variable}={example}" if example else ""
        raise ConfigError(f"The environment variable {variable} must be {expected(spec)}{shown}{why}: set it "
                          f"again{hint}.") from None


_EXAMPLES = {SECONDS: "10", COUNT: "3", PORT: "587", ID: "12", IDS: "[3, 5]", FLAG: "true",
             URL: '"https://api.example.com"', HTTPS_URL: '"https://example.com/unsubscribe"',
             UUIDS: f'["{UUID_EXAMPLE}"]'}


def _instead(spec: Setting, value: Any) -> str:
    """What to write instead of ``value``: the same value unquoted or quoted when that is all that is wrong,
    else the default or an example (or, without one, the kind's example)."""
    key = spec.key
    if isinstance(value, str) and spec.kind in _NUMERIC:
        try:
            fixed = _checked(spec, _read_text(spec, value.strip()))
        except _Bad:
            fixed = None
        if fixed is not None:
            return f"write {key} = {toml_value(fixed)}, without quotes"
    if spec.kind == TEXT and not isinstance(value, (dict, list)):
        return f"write {key} = {toml_value(toml_value(value))}"
    if spec.kind == CHOICE:
        if spec.default is not None:
            return f'write {key} = "{spec.default}" (the default)'
        return f'write {key} = "{_choice_example(spec)}", for example'
    example = toml_example(spec) if spec.default is not None else _EXAMPLES.get(spec.kind, '"..."')
    return f"write {key} = {example}" + ("" if spec.default is not None else ", for example")


def _choice_example(spec: Setting) -> str:
    """The choice to suggest: the default where there is one (smtp's "starttls", not the first, "none")."""
    return spec.default if spec.default is not None else spec.choices[0]
