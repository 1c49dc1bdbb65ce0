"""The link policy: which URLs an email may link to or load, and how they are written.

An email is read far from the website, so every link must work from any inbox:

- ``https:`` links are kept; ``http:`` ones are upgraded to ``https:`` (every site the
  newsroom links to serves https, and a mail client warns about plain http);
- ``mailto:`` and ``tel:`` links are kept (a ``tel:`` number loses its spaces, RFC 3966);
- anything else (relative paths, ``javascript:``, ``data:``, ``file:``, ``ftp:``, ...) is not a
  link: the reader keeps the link's words as text and warns, naming file and line;
- pictures load only from ``https:`` URLs (no upgrade: a picture served over http only would
  break); any other picture is left out with a warning.

URLs are percent-encoded where needed (spaces, non-ASCII letters; RFC 3986), leaving
existing escapes and the query string's ``?``, ``&`` and ``=`` as they are; a non-ASCII host
name is written in IDNA (punycode).
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

LINK_SCHEMES = ("https", "mailto", "tel")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# Characters RFC 3986 allows unescaped in a URL (reserved and unreserved), plus "%" so
# existing escapes stay as written.
_SAFE = "!#$%&'()*+,-./:;=?@[]_~"
_AUTHORITY = re.compile(r"^(https://)([^/?#]*)(.*)$", re.IGNORECASE | re.DOTALL)


def scheme(url: str) -> str:
    """The URL's scheme in lower case, or '' for a relative URL."""
    match = _SCHEME.match(url.strip())
    return match.group(1).lower() if match else ""


def link_target(url: str) -> str | None:
    """The URL a link may point to under the policy, encoded; None when it may not be a link."""
    url = url.strip()
    kind = scheme(url)
    if kind == "http":
        url, kind = "https" + url[4:], "https"
    if kind not in LINK_SCHEMES:
        return None
    rest = url[len(kind) + 1 :]
    if kind == "https":
        return _https(rest)
    if kind == "tel":
        return "tel:" + quote("".join(unquote(rest).split()), safe=_SAFE)
    return "mailto:" + quote(rest, safe=_SAFE) if rest else None


def image_source(url: str) -> str | None:
    """The URL a picture may load from (absolute https only), encoded; else None."""
    url = url.strip()
    if scheme(url) != "https":
        return None
    return _https(url[len("https:") :])


def _https(rest: str) -> str | None:
    match = _AUTHORITY.match("https:" + rest)
    if not match or not match.group(2):
        return None  # "https:/path" or "https://" has no host to go to
    host = match.group(2)
    if not host.isascii():
        try:
            host = ".".join(label.encode("idna").decode("ascii") if not label.isascii() else label
                            for label in host.split("."))
        except UnicodeError:
            return None
    return "https://" + host.lower() + quote(match.group(3), safe=_SAFE)


def shown_target(target: str) -> str:
    """A link target as a reader should see it in plain text: a mailto link shows the address,
    a tel link the number, a web link the URL itself."""
    kind = scheme(target)
    if kind in ("mailto", "tel"):
        return unquote(target[len(kind) + 1 :].split("?", 1)[0])
    return target


# A path or query word opening with one of these names a page that acts on a subscription when
# opened (an unsubscribe, preferences or opt-out page, a subscription centre): such a link is
# never fetched by the check (fetching can unsubscribe a reader) and never given campaign
# parameters (it belongs to the service, not to the story). "voter-preferences" is no such word.
_ACTING_WORDS = ("unsub", "optout", "opt-out", "opt_out", "preferences", "prefs", "manage-subscription",
                 "manage_subscription", "managesubscription", "subscription-center", "subscription_center",
                 "subscriptioncenter", "email-preferences", "email_preferences", "email-settings", "email_settings",
                 "confirm-subscription", "remove-me")
_ACTING_HOSTS = ("list-manage.com",)  # Mailchimp's subscriber pages (profile, unsubscribe)
_WORD_SPLIT = re.compile(r"[/?&=#;]+")


def acts_on_subscription(url: str) -> bool:
    """Whether opening ``url`` may act on a reader's subscription (unsubscribe, preferences, opt-out)."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if any(host == name or host.endswith("." + name) for name in _ACTING_HOSTS):
        return True
    text = f"{unquote(parts.path)}?{unquote(parts.query)}".lower()
    return "unsubscribe" in text or any(word.startswith(_ACTING_WORDS) for word in _WORD_SPLIT.split(text) if word)
