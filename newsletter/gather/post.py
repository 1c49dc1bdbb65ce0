"""One post as a source gives it, whatever the source: the shape feed.py and wordpress.py both produce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Term:
    """A category or tag: the name the site shows and its slug (made from the name when a feed gives none)."""

    name: str
    slug: str

    def matches(self, wanted: str) -> bool:
        """True when ``wanted`` is this term's name or slug, case-insensitively."""
        wanted = wanted.strip().casefold()
        return wanted in (self.name.strip().casefold(), self.slug.casefold())


@dataclass(frozen=True)
class Post:
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
    lang: str | None = None
    slug: str | None = None
    problem: str = ""  # why the source says it cannot be used (e.g. "is password-protected")

    @property
    def where(self) -> str:
        """How messages name the post: its link, else its id."""
        return self.link or self.id
