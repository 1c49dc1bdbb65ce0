"""The presentation model: what the email shows of each story, decided once for every writer.

``present_issue(issue, config)`` computes an ``IssueView``: per story the lede, the lead
story's further blocks, the analysis and impact after shortening (with the "…" mark already
in place), the labels in the story's language, the section label, the date text, every
picture sized for the 552 px content column (the story's own picture at the ratio its front
matter states, and shown once: a picture of its text that repeats it is left out, see
``without_picture``), and the editor's intro as blocks. The MJML theme
(newsletter.render) and the plain-text writer (newsletter.text) both read only this model, so
the two parts of the email can never tell different stories; a web page made from the same
model (the archive) tells the same one too.

All text here is plain ``str`` (never HTML): each writer escapes it its own way. Blocks are
the document model's (newsletter.document), with two guarantees added: every ``Image`` has
``width`` and ``height`` (CSS pixels, width at most ``CONTENT_WIDTH``, ``PART_WIDTH`` inside
the analysis and impact boxes), and every ``Heading``
has the level it takes in the email's outline (h1 masthead, h2 headlines, h3 part labels).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from msgspec import Struct
from msgspec.structs import replace

from newsletter.config import Config
from newsletter.document import (
    Block,
    BlockQuote,
    BulletList,
    Emph,
    Heading,
    Image,
    Inline,
    Link,
    OrderedList,
    Para,
    Plain,
    Str,
    Strikeout,
    Strong,
    is_blank,
    map_inlines,
    walk,
)
from newsletter.errors import shown
from newsletter.markdown import read_markdown
from newsletter.models import Issue, Story
from newsletter.shorten import shorten

CONTENT_WIDTH = 552  # px: the 600 px column less the cards' 24 px padding on each side
PART_WIDTH = CONTENT_WIDTH - 36  # px: inside the analysis and impact boxes (4 px rule, 16 px padding)
THUMBNAIL_WIDTH = 184  # px: a story picture beside the text (every story but the lead)
DEFAULT_RATIO = 9 / 16  # height / width of a picture whose size nobody stated
MARK = "…"  # ends a shortened run of blocks, in both parts
# Heading levels in the email's outline, for subheadings inside each kind of text
INTRO_LEVEL, STORY_LEVEL, PART_LEVEL = 2, 3, 4


class PartView(Struct, frozen=True):
    """A story's analysis or impact as shown: its label, blocks and whether they were cut."""

    kind: str  # "analysis" or "impact"
    label: str  # in the story's language: [labels.<lang>], else [headings]
    blocks: tuple[Block, ...]  # shortened to [theme] max_words_<kind>; ends with MARK when cut
    shortened: bool


class StoryView(Struct, frozen=True):
    """One story as the email shows it (plain text fields; blocks of the document model)."""

    id: str
    headline: str
    url: str  # where the headline and the closing link go (absolute https)
    section: str | None  # the section's label, in the publication's language
    lang: str | None  # set only when it differs from the publication's language
    is_lead: bool
    lede: tuple[Block, ...]  # one block: the summary or the first paragraph
    more: tuple[Block, ...]  # the lead story's further blocks, shortened to [theme] lead_words
    more_shortened: bool
    analysis: PartView | None
    impact: PartView | None
    image: Image | None  # the story's picture, sized: CONTENT_WIDTH for the lead, else a thumbnail
    author: str | None
    date: str  # e.g. "Nov 24, 2026", in the story's language
    read_more: str  # e.g. "Read the full story: <headline>", in the story's language


class IssueView(Struct, frozen=True):
    """One edition as both parts of the email show it."""

    key: str
    number: int | None
    subject: str
    preheader: str
    intro: tuple[Block, ...]  # the editor's note from issue.toml, read as Markdown
    date_range: str  # e.g. "Nov 23 – 29, 2026"
    lang: str  # the publication's language
    stories: tuple[StoryView, ...]  # in the manifest's order: the lead first
    labels: dict[str, str]  # the email-wide words: issue, contents, unsubscribe, preferences, view_online
    warnings: tuple[str, ...] = ()  # found while presenting (a link in the intro refused)

    @property
    def lead(self) -> StoryView | None:
        return self.stories[0] if self.stories else None

    @property
    def rest(self) -> tuple[StoryView, ...]:
        return self.stories[1:]

    def with_links(self, change: Callable[[str, str | None], str]) -> IssueView:
        """A copy with every article link rewritten by ``change(url, story_id)``: each story's
        URL and every ``Link`` target in its blocks (``story_id`` None for the intro's links).
        Pictures and the footer's links are not article links and are left alone. For link
        rewriting such as campaign tracking parameters, applied once to the model both parts read.
        """
        def blocks(items: tuple[Block, ...], story: str | None) -> tuple[Block, ...]:
            return map_inlines(items, lambda n: replace(n, target=change(n.target, story))
                               if isinstance(n, Link) else n)

        def part(view: PartView | None, story: str) -> PartView | None:
            return replace(view, blocks=blocks(view.blocks, story)) if view else None

        stories = tuple(
            replace(s, url=change(s.url, s.id), lede=blocks(s.lede, s.id), more=blocks(s.more, s.id),
                    analysis=part(s.analysis, s.id), impact=part(s.impact, s.id))
            for s in self.stories
        )
        return replace(self, intro=blocks(self.intro, None), stories=stories)


def present_issue(issue: Issue, config: Config, manifest: Path | None = None, intro_line: int = 0) -> IssueView:
    """The issue as the email shows it.

    ``manifest`` (issue.toml) and ``intro_line``, the line of its ``intro`` key, are named in the
    intro's warnings: ``issues/2026-W48/issue.toml:7: intro: link 'ftp://…' is not …``.
    """
    labels = config.labels_for(config.publication.language)
    where = f"{shown(manifest) if manifest else 'issue.toml'}{f':{intro_line}' if intro_line else ''}: intro"
    intro, warnings = read_markdown(issue.intro, where, 0) if issue.intro.strip() else ((), [])
    words = {key: labels.text(key) for key in ("contents", "unsubscribe", "preferences", "view_online")}
    words["issue"] = labels.text("issue", number=issue.number) if issue.number else ""
    return IssueView(
        key=issue.key,
        number=issue.number,
        subject=issue.subject,
        preheader=issue.preheader,
        intro=prepare(intro, INTRO_LEVEL),
        date_range=labels.date_range(issue.start, issue.end),
        lang=config.publication.language,
        stories=tuple(present_story(s, config, lead=i == 0) for i, s in enumerate(issue.stories)),
        labels=words,
        warnings=tuple(warnings),
    )


def as_view(issue: Issue | IssueView, config: Config) -> IssueView:
    """``issue`` presented, or the view itself when the caller (the build) has presented it already."""
    return issue if isinstance(issue, IssueView) else present_issue(issue, config)


def present_story(story: Story, config: Config, lead: bool = False) -> StoryView:
    """One story as the email shows it; ``lead`` shows more of the story and a large picture."""
    theme = config.theme
    # A story's own words (its headings, its link, its date) follow its language; the section
    # label is the publication's, like the rest of the email around the card.
    labels = config.labels_for(story.lang)
    more: tuple[Block, ...] = ()
    cut = False
    # a body that still holds its lede (a summary repeating the first paragraph) shows it once
    rest = story.body[1:] if story.body and story.body[0].text == story.lede.text else story.body
    lede: tuple[Block, ...] = (story.lede,)
    analysis, impact = story.analysis, story.impact
    hidden: list[Image] = []
    if story.image:  # the story's own picture is shown once, above the text (gathered posts often repeat it)
        lede, rest, analysis, impact = (without_picture(b, story.image, hidden) for b in (lede, rest, analysis, impact))
    if lead and rest:
        result = shorten(rest, theme.lead_words)
        more, cut = mark(result.blocks, result.shortened), result.shortened
    return StoryView(
        id=story.id,
        headline=story.headline,
        url=story.url,
        section=theme.section_label(story.section),
        lang=story_lang(story, config),
        is_lead=lead,
        lede=prepare(lede, STORY_LEVEL),
        more=prepare(more, STORY_LEVEL),
        more_shortened=cut,
        analysis=_part("analysis", labels.text("analysis"), analysis, theme.max_words_analysis),
        impact=_part("impact", labels.text("impact"), impact, theme.max_words_impact),
        image=_story_image(story, lead, hidden),
        author=story.author,
        date=labels.date_text(story.date),
        read_more=labels.text("read_more", headline=story.headline),
    )


def story_lang(story: Story, config: Config) -> str | None:
    """The story's language when it differs from the publication's (for ``lang=""``), else None."""
    if story.lang and story.lang.split("-")[0].lower() != config.publication.language.split("-")[0].lower():
        return story.lang
    return None


def _part(kind: str, label: str, blocks: tuple[Block, ...], max_words: int) -> PartView | None:
    if not blocks:
        return None
    result = shorten(blocks, max_words)
    blocks = prepare(mark(result.blocks, result.shortened), PART_LEVEL, PART_WIDTH)
    return PartView(kind, label, blocks, result.shortened)


def mark(blocks: tuple[Block, ...], shortened: bool) -> tuple[Block, ...]:
    """Blocks with MARK after their last words when something was left out: inside a last
    paragraph, else as a paragraph of its own (never inside a list item or a quote)."""
    if not shortened or not blocks:
        return blocks
    last = blocks[-1]
    if isinstance(last, Para):
        return (*blocks[:-1], replace(last, inlines=(*last.inlines, Str(" " + MARK))))
    return (*blocks, Para((Str(MARK),)))


def prepare(blocks: tuple[Block, ...], level: int, width: int = CONTENT_WIDTH) -> tuple[Block, ...]:
    """Pictures sized for ``width`` px, and subheadings renumbered from ``level`` without gaps."""
    if not blocks:
        return blocks
    nodes = list(walk(blocks))
    used = sorted({n.level for n in nodes if isinstance(n, Heading)})
    if used:
        rank = {found: min(6, level + index) for index, found in enumerate(used)}
        blocks = tuple(_relevel(b, rank) for b in blocks)
    if any(isinstance(n, Image) for n in nodes):  # most text has no picture: nothing to rebuild
        blocks = map_inlines(blocks, lambda n: fit(n, width) if isinstance(n, Image) else n)
    return blocks


def _relevel(block: Block, rank: dict[int, int]) -> Block:
    if isinstance(block, Heading):
        return replace(block, level=rank[block.level])
    if isinstance(block, (BulletList, OrderedList)):
        return replace(block, items=tuple(tuple(_relevel(b, rank) for b in item) for item in block.items))
    if isinstance(block, BlockQuote):
        return replace(block, blocks=tuple(_relevel(b, rank) for b in block.blocks))
    return block


def fit(image: Image, width: int = CONTENT_WIDTH) -> Image:
    """The picture with a width and height to show it at: its stated size scaled down to
    ``width`` keeping its ratio; an unknown size gets ``width`` and the default 16:9 ratio.
    (The theme also gives every picture ``max-width:100%;height:auto``, so clients that read
    CSS keep the real ratio on narrow screens.)"""
    w, h = image.width, image.height
    if w and h:
        shown_width = min(w, width)
        return replace(image, width=shown_width, height=max(1, round(h * shown_width / w)))
    if w:
        shown_width = min(w, width)
        return replace(image, width=shown_width, height=max(1, round(shown_width * DEFAULT_RATIO)))
    if h:
        shown_width = min(width, round(h / DEFAULT_RATIO))
        return replace(image, width=shown_width, height=round(shown_width * DEFAULT_RATIO))
    return replace(image, width=width, height=round(width * DEFAULT_RATIO))


def _story_image(story: Story, lead: bool, hidden: list[Image]) -> Image | None:
    """The story's picture sized for its place: the front matter's size, else the size the text
    states for the very same file where it was hidden; its alt text, else the hidden one's."""
    if not story.image:
        return None
    width, height = story.image_width, story.image_height
    if width is None and height is None:
        stated = next((p for p in hidden if p.src == story.image and (p.width or p.height)), None)
        width, height = (stated.width, stated.height) if stated else (None, None)
    alt = story.image_alt or next((p.alt for p in hidden if p.alt), "")
    return fit(Image(story.image, alt, width=width, height=height), CONTENT_WIDTH if lead else THUMBNAIL_WIDTH)


# WordPress serves each upload in several sizes named after the original: photo.jpg,
# photo-1024x683.jpg, and photo-scaled.jpg for a large original it scaled down on upload
# (https://developer.wordpress.org/reference/classes/wp_image_editor/get_suffix/,
# https://make.wordpress.org/core/2019/10/09/introducing-handling-of-big-images-in-wordpress-5-3/).
_WORDPRESS_SIZE = re.compile(r"-(?:\d{1,5}x\d{1,5}|scaled)(?=\.[A-Za-z0-9]{2,5}$)", re.IGNORECASE)


def same_picture(one: str, other: str) -> bool:
    """Whether two picture URLs show one picture: the same address (a ``#fragment`` aside), or
    the same file in another of WordPress's sizes (``photo-1024x683.jpg`` is ``photo.jpg``).
    A different query string is a different picture (``image.php?id=2``)."""
    return _picture_key(one) == _picture_key(other)


def _picture_key(url: str) -> tuple[str, str, str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower(), _WORDPRESS_SIZE.sub("", parts.path), parts.query


def without_picture(blocks: tuple[Block, ...], src: str, hidden: list[Image]) -> tuple[Block, ...]:
    """``blocks`` without the picture at ``src`` (in any of its sizes, see ``same_picture``),
    standing alone, inside a paragraph, or linked; each one taken out is appended to ``hidden``.
    A paragraph, link, list item or quote left empty by it goes too; the words around it stay."""
    if not any(isinstance(n, Image) and same_picture(n.src, src) for n in walk(blocks)):
        return blocks  # most text does not repeat its picture: nothing to rebuild
    kept: list[Block] = []
    for block in blocks:
        if isinstance(block, Image):
            if same_picture(block.src, src):
                hidden.append(block)
                continue
        elif isinstance(block, (Para, Plain, Heading)):
            inlines = _without_picture(block.inlines, src, hidden)
            if inlines is not block.inlines:
                if not _shows_anything(inlines):
                    continue
                block = replace(block, inlines=inlines)
        elif isinstance(block, (BulletList, OrderedList)):
            items = tuple(without_picture(item, src, hidden) for item in block.items)
            items = tuple(new for new, old in zip(items, block.items, strict=True) if new or not old)
            if not items and block.items:
                continue
            block = replace(block, items=items)
        elif isinstance(block, BlockQuote):
            inner = without_picture(block.blocks, src, hidden)
            if not inner and block.blocks:
                continue
            block = replace(block, blocks=inner)
        kept.append(block)  # a table keeps its cells as they are: its shape is its meaning
    return tuple(kept)


def _without_picture(inlines: tuple[Inline, ...], src: str, hidden: list[Image]) -> tuple[Inline, ...]:
    """``inlines`` without the picture; the run is returned unchanged (the same tuple) when it is not there."""
    kept: list[Inline] = []
    gap = False  # a picture was just taken out: the space after it may double the one before it
    for node in inlines:
        if isinstance(node, Image) and same_picture(node.src, src):
            hidden.append(node)
            gap = True
            continue
        if isinstance(node, (Emph, Strong, Strikeout, Link)):
            inner = _without_picture(node.inlines, src, hidden)
            if inner is not node.inlines:
                if not _shows_anything(inner):
                    gap = True
                    continue  # a link around the picture alone (to its full size) goes with it
                node = replace(node, inlines=inner)
        before = kept[-1] if kept else None
        if gap and isinstance(node, Str) and isinstance(before, Str) and before.text[-1:].isspace():
            # "SEATTLE – " + " The ferry": the picture between them leaves one space, not two
            kept.pop()
            node = Str(before.text + node.text.lstrip())
        gap = False
        kept.append(node)
    if len(kept) == len(inlines) and all(a is b for a, b in zip(kept, inlines, strict=True)):
        return inlines
    while kept and is_blank(kept[0]):
        kept.pop(0)
    while kept and is_blank(kept[-1]):
        kept.pop()
    if kept and isinstance(kept[0], Str):
        kept[0] = Str(kept[0].text.lstrip())
    if kept and isinstance(kept[-1], Str):
        kept[-1] = Str(kept[-1].text.rstrip())
    return tuple(kept)


def _shows_anything(inlines: tuple[Inline, ...]) -> bool:
    return any(not is_blank(node) for node in inlines)
