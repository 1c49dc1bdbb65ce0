"""One post as a source gives it, whatever the source: the shape feed.py and wordpress.py both produce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msgspec import Struct

from newsletter.document import MAX_PIXELS


class Term(Struct, frozen=True):
    """A category or tag: the name the site shows and its slug (made from the name when a feed gives none)."""

    name: str
    slug: str

    def matches(self, wanted: str) -> bool:
        """True when ``wanted`` is this term's name or slug, case-insensitively."""
        wanted = wanted.strip().casefold()
        return wanted in (self.name.strip().casefold(), self.slug.casefold())


class Post(Struct, frozen=True):
    """A post of the week, before it becomes an article file.

    ``html`` and ``summary_html`` are the post's HTML as the source sent it (not yet sanitised);
    ``base_url`` is what relative links in them are resolved against (xml:base, else the post's
    link, else the feed's address). ``published`` is timezone-aware.
    """

    source: str  # the [sources.<name>] it came from
    id: str  # stable: the feed's guid / atom:id, WordPress's guid (https://site/?p=123)
    link: str  # the post's canonical address; "" when the source gives none
    title: str  # plain text
    published: datetime | None
    html: str
    summary_html: str = ""
    base_url: str = ""
    author: str | None = None
    categories: tuple[Term, ...] = ()
    tags: tuple[Term, ...] = ()
    image: str | None = None
    image_alt: str | None = None
    image_width: int | None = None  # pixels, as the source states them for that very file
    image_height: int | None = None
    lang: str | None = None
    slug: str | None = None
    problem: str = ""  # why the source says it cannot be used (e.g. "is password-protected")

    @property
    def where(self) -> str:
        """How messages name the post: its link, else its id."""
        return self.link or self.id


def pixels(value: Any) -> int | None:
    """A picture's width or height as a source states it (a JSON number, or digits in an XML or
    HTML attribute, "683" or "683px"), when it is one: a whole number from 1 to MAX_PIXELS."""
    if isinstance(value, bool):  # JSON true is an int to Python, and no size
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_PIXELS else None
    text = str(value or "").strip().lower().removesuffix("px").strip()
    # len: int() refuses more than 4,300 digits, and no size needs more than six
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 and 0 < int(text) <= MAX_PIXELS else None
