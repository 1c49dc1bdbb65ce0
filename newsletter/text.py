"""The plain-text part of the email, written from the presentation model (never scraped from HTML).

It reads the same ``IssueView`` as the theme (newsletter.presentation): the same ledes, the
same blocks after shortening, the same "…" mark, the same labels. One rule per block kind:

- paragraphs wrapped at 78 columns; a hard line break starts a new line;
- bullet items ``- `` and numbered items ``1. ``, one per line, nested items indented 2 more;
- quotes with ``> `` before every line; code blocks indented 4 spaces, never wrapped;
- a picture as its alt text in brackets, ``[Map of the parade route]``;
- tables as aligned rows under a ``---`` rule, or, when too wide for 78 columns, one
  ``Header: value`` line per cell;
- every link's target right after its words: ``county grants portal (https://…)``; a mailto
  link shows the address, a tel link the number. A URL is never broken across lines (a line
  holding a long URL may pass 78 columns) and never dropped.

Its words are the [labels] of the publication's language, and a story's own headings and
link follow the story's language ([labels.<lang>]).
"""

from __future__ import annotations

import functools
import re
import textwrap

from newsletter.config import Config
from newsletter.document import (
    Block,
    BlockQuote,
    BulletList,
    Code,
    CodeBlock,
    Emph,
    Heading,
    HorizontalRule,
    Image,
    Inline,
    LineBreak,
    Link,
    OrderedList,
    Para,
    Plain,
    Str,
    Strikeout,
    Strong,
    Table,
)
from newsletter.links import scheme, shown_target
from newsletter.models import Issue, Links
from newsletter.presentation import IssueView, StoryView, as_view

WIDTH = 78
RULE = "=" * WIDTH
THIN = "-" * WIDTH
INDENT = "  "  # the analysis and impact, under their labels
# Merge-tag syntax ({{ }}, {% %}, *| |*) is split with an invisible WORD JOINER so that a
# mailing service's template engine never runs article text; readers see the same characters.
_MERGE = re.compile(r"(?<=\{)|(?=\})|(?<=\*)(?=\|)|(?<=\|)(?=\*)")
_JOINER = "\u2060"


def inert(text: str) -> str:
    """Text with merge-tag and template syntax broken up invisibly."""
    if not any(c in text for c in "{}|"):
        return text
    return _MERGE.sub(_JOINER, text)


def wrap(text: str, indent: str = "", width: int = WIDTH) -> str:
    """Wrap at ``width`` columns; a URL or any long word is never broken, it gets a line of its own."""
    wrapper = _wrapper(indent, width)
    room = width - len(indent)
    return "\n".join(
        "" if not line.strip()
        else indent + line.rstrip() if len(line) <= room and "\t" not in line  # what fill() would give, faster
        else wrapper.fill(line)
        for line in text.splitlines())


@functools.lru_cache(maxsize=32)
def _wrapper(indent: str, width: int) -> textwrap.TextWrapper:
    return textwrap.TextWrapper(width=width, initial_indent=indent, subsequent_indent=indent,
                                break_long_words=False, break_on_hyphens=False)


# --- inlines ---------------------------------------------------------------------------------


def inline_plain(inlines: tuple[Inline, ...]) -> str:
    """Inlines as plain text: words inert, link targets after their words, hard breaks as newlines."""
    return "".join(_inline(node) for node in inlines)


def _inline(node: Inline) -> str:
    if isinstance(node, Str):
        return inert(node.text)
    if isinstance(node, Code):
        return inert(node.text)
    if isinstance(node, (Emph, Strong)):
        return inline_plain(node.inlines)
    if isinstance(node, Strikeout):
        return f"~~{inline_plain(node.inlines)}~~"
    if isinstance(node, Link):
        return _link(node)
    if isinstance(node, Image):
        return f"[{inert(node.alt)}]" if node.alt else ""
    if isinstance(node, LineBreak):
        return "\n"
    return " "  # SoftBreak


def _link(node: Link) -> str:
    words = inline_plain(node.inlines).strip()
    target = shown_target(node.target)
    # a web URL is percent-encoded (no braces or bars left); an address or number may hold them
    target = target if scheme(node.target) == "https" else inert(target)
    if not words or " ".join(words.split()) in (target, node.target):
        return target
    return f"{words} ({target})"


# --- blocks: one rule per kind ---------------------------------------------------------------


def blocks_plain(blocks: tuple[Block, ...], width: int = WIDTH) -> list[str]:
    """Each block as text wrapped to ``width`` columns (join them with blank lines)."""
    return [text for block in blocks if (text := block_plain(block, width))]


def block_plain(block: Block, width: int = WIDTH) -> str:
    """One block as text, no line longer than ``width`` except one that holds a long URL."""
    if isinstance(block, (Para, Plain)):
        return wrap(inline_plain(block.inlines), width=width)
    if isinstance(block, Heading):
        text = wrap(" ".join(inline_plain(block.inlines).split()), width=width)
        return text + "\n" + "-" * max(len(line) for line in text.splitlines())
    if isinstance(block, BulletList):
        return _between(block).join(_item("- ", item, width) for item in block.items)
    if isinstance(block, OrderedList):
        size = len(str(block.start + len(block.items) - 1))  # numbers right-aligned: " 9." over "10."
        return _between(block).join(_item(f"{block.start + n:>{size}}. ", item, width)
                                    for n, item in enumerate(block.items))
    if isinstance(block, BlockQuote):
        inner = "\n\n".join(blocks_plain(block.blocks, width - 2))
        return "\n".join(f"> {line}" if line else ">" for line in inner.splitlines())
    if isinstance(block, Image):
        return wrap(f"[{inert(block.alt)}]", width=width) if block.alt else ""
    if isinstance(block, CodeBlock):
        return "\n".join(f"    {inert(line)}" if line else "" for line in block.code.splitlines())
    if isinstance(block, HorizontalRule):
        return "* * *"
    if isinstance(block, Table):
        return _table(block, width)
    return ""


def _loose(item: tuple[Block, ...]) -> bool:
    """CommonMark's loose list: its items hold paragraphs (Para), where a tight one's hold Plain."""
    return any(isinstance(block, Para) for block in item)


def _between(block: BulletList | OrderedList) -> str:
    return "\n\n" if any(_loose(item) for item in block.items) else "\n"


def _item(marker: str, item: tuple[Block, ...], width: int) -> str:
    """A list item: the marker, then its blocks indented under the item's first word (a blank line
    between them in a loose list, as its paragraphs have space between them in the HTML)."""
    pad = " " * len(marker)
    text = ("\n\n" if _loose(item) else "\n").join(blocks_plain(item, width - len(marker)))
    lines = text.splitlines() or [""]
    return "\n".join([marker + lines[0], *((pad + line) if line else "" for line in lines[1:])])


def _table(table: Table, width: int) -> str:
    header = [_cell(cell) for cell in table.header]
    rows = [[_cell(cell) for cell in row] for row in table.rows]
    columns = len(header)
    sizes = [max(len(r[c]) for r in [header, *rows]) for c in range(columns)]
    if sum(sizes) + 2 * (columns - 1) <= width:
        def line(cells: list[str]) -> str:
            return "  ".join(_align(text, sizes[c], table.aligns[c]) for c, text in enumerate(cells)).rstrip()
        return "\n".join([line(header), "  ".join("-" * size for size in sizes), *(line(r) for r in rows)])
    # Too wide for a row per line: each row as "Header: value" lines, rows apart
    records = []
    for row in rows:
        records.append("\n".join(
            wrap(f"{header[c]}: {text}" if header[c] else text, width=width).replace("\n", "\n  ")
            for c, text in enumerate(row) if text))
    return "\n\n".join(records)


def _cell(cell: tuple[Inline, ...]) -> str:
    return " ".join(inline_plain(cell).split())


def _align(text: str, size: int, align: str) -> str:
    if align == "right":
        return text.rjust(size)
    if align == "center":
        return text.center(size)
    return text.ljust(size)


# --- the email -------------------------------------------------------------------------------


def _story(story: StoryView) -> list[str]:
    parts: list[str] = []
    heading = f"{inert(story.section).upper()}\n" if story.section else ""
    parts.append(heading + wrap(inert(story.headline)) + "\n" + story.url)
    if story.image and story.image.alt:
        parts.append(wrap(f"[{inert(story.image.alt)}]"))
    parts += blocks_plain(story.lede)
    parts += blocks_plain(story.more)
    for part in (story.analysis, story.impact):
        if part is None:
            continue
        body = "\n\n".join(_indent(text) for text in blocks_plain(part.blocks, WIDTH - len(INDENT)))
        parts.append(f"{wrap(inert(part.label)).upper()}\n{body}")
    parts.append(wrap(inert(story.read_more)) + "\n" + story.url)
    return parts


def _indent(text: str) -> str:
    return "\n".join(INDENT + line if line else "" for line in text.splitlines())


def plain_text(issue: Issue | IssueView, config: Config, links: Links) -> str:
    """The text/plain part: masthead, intro, contents, every story, footer; 78 columns.

    Pass the ``IssueView`` the build presented, so both parts read the same one; an ``Issue``
    is presented here first.
    """
    view = as_view(issue, config)
    publication = config.publication
    masthead = [wrap(inert(publication.name)).upper()]
    if publication.tagline:
        masthead.append(wrap(inert(publication.tagline)))
    issue_label = view.labels.get("issue", "")
    masthead.append(wrap(inert(f"{issue_label} · {view.date_range}")) if issue_label else view.date_range)
    blocks = ["\n".join(masthead)]
    blocks += blocks_plain(view.intro)
    if view.stories:
        contents = [f"{n:>2}. {inert(s.headline)}" for n, s in enumerate(view.stories, 1)]
        blocks.append(wrap(inert(view.labels["contents"])).upper() + "\n" + "\n".join(
            textwrap.fill(line, WIDTH, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)
            for line in contents))
    for story in view.stories:
        blocks.append(RULE)
        blocks += _story(story)
    blocks.append(THIN)
    blocks.append(wrap(inert(publication.reason)))
    blocks.append(wrap(inert(f"{publication.name} · {publication.postal_address}")))
    # One line per link, label then URL: a URL is never wrapped, so a long line may overflow.
    blocks.append("\n".join(
        f"{inert(view.labels[key])}: {url}"
        for key, url in (("unsubscribe", links.unsubscribe), ("preferences", links.preferences),
                         ("view_online", links.view_online))))
    return "\n\n".join(blocks) + "\n"
