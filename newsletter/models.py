"""The data that flows through a build: frozen records, no behaviour beyond views.

Records here and across the package are ``msgspec.Struct`` classes, not dataclasses: the same
typed, frozen, comparable and hashable values (``msgspec.structs.replace`` for a changed copy),
with their methods in C. Python 3.11's ``dataclasses`` writes and compiles six methods for
every frozen class when it is defined, about 0.6 ms a class: some 35 ms of every ``newsletter
build`` for the ~55 classes a build loads, a quarter of all its work beyond its imports
(benchmarks/README.md). Defining a Struct costs microseconds.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from msgspec import Struct, field

from newsletter.document import Block


class Article(Struct, frozen=True):
    """One article file as read from disk, before pairing.

    ``body``, ``analysis`` and ``impact`` are blocks of the document model (newsletter.document);
    ``warnings`` are the reader's (a refused link, a picture left out), each naming file and line.
    """

    path: Path
    headline: str
    date: date
    body: tuple[Block, ...]
    analysis: tuple[Block, ...] = ()
    impact: tuple[Block, ...] = ()
    url: str | None = None
    section: str | None = None
    summary: str | None = None
    author: str | None = None
    image: str | None = None
    image_alt: str | None = None
    image_width: int | None = None  # the picture's size in pixels, as front matter states it
    image_height: int | None = None
    lang: str | None = None
    tags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class Story(Struct, frozen=True):
    """An article paired with its analysis and reader-impact parts, ready to present.

    ``lede`` is one block (the summary, else the story's first paragraph) and ``body`` the
    story's other blocks; what the email shows of them is decided by newsletter.presentation.
    """

    id: str
    source: Path
    headline: str
    url: str
    date: date
    lede: Block
    body: tuple[Block, ...]
    analysis: tuple[Block, ...]
    impact: tuple[Block, ...]
    section: str | None = None
    author: str | None = None
    image: str | None = None
    image_alt: str | None = None
    image_width: int | None = None  # pixels; None when unknown (presentation then assumes 16:9)
    image_height: int | None = None
    lang: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def has_analysis(self) -> bool:
        return bool(self.analysis)

    @property
    def has_impact(self) -> bool:
        return bool(self.impact)


class Issue(Struct, frozen=True):
    """One edition: the manifest's choices applied to the week's stories."""

    key: str  # folder name under issues/: "2026-W48", or "2026-11-01_2026-11-09"
    start: date
    end: date  # inclusive
    subject: str
    preheader: str
    intro: str  # the editor's note, Markdown (presented through the same reader as articles)
    stories: tuple[Story, ...]
    number: int | None = None
    warnings: tuple[str, ...] = ()


class Links(Struct, frozen=True):
    """Where the footer's links point: real URLs, or placeholders a service swaps for merge tags."""

    unsubscribe: str
    preferences: str
    view_online: str


class RenderedEmail(Struct, frozen=True):
    """The finished email, both parts, with its links still as placeholder tokens.

    ``with_links`` swaps the tokens for real URLs (a standalone build) or for a mailing
    service's merge tags (an export). Tokens carry a per-build nonce, so article text can
    never forge one.
    """

    subject: str
    preheader: str
    html: str
    text: str
    lang: str
    placeholders: Links

    def with_links(self, links: Links, *, html_escape: bool = True) -> RenderedEmail:
        from html import escape

        html, text = self.html, self.text
        for name in ("unsubscribe", "preferences", "view_online"):
            token = getattr(self.placeholders, name)
            value = getattr(links, name)
            html = html.replace(token, escape(value, quote=True) if html_escape else value)
            text = text.replace(token, value)
        return RenderedEmail(self.subject, self.preheader, html, text, self.lang, links)


class ExportResult(Struct, frozen=True):
    """What a mailing service did with an issue."""

    service: str
    action: str  # "created", "updated", "written", "sent", "dry-run"
    remote_id: str | None = None
    url: str | None = None
    detail: str = ""
    test_recipients: tuple[str, ...] = field(default_factory=tuple)
