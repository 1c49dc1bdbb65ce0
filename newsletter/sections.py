"""The heading rules: which lines start the analysis and impact parts, and the split on blocks."""

from __future__ import annotations

import re
from functools import lru_cache

from newsletter.config import Headings
from newsletter.document import Block, Heading, Inline, LineBreak, Para, SoftBreak, Str, block_text, inline_text

SENTENCE_END = (".", "!", "?", "…", "。")
MAX_HEADING_WORDS = 10
PARTS = ("story", "analysis", "impact")


def normalise_heading(line: str) -> str:
    """Strip Markdown ``#`` marks, emphasis, surrounding spaces and a trailing colon."""
    text = line.strip().lstrip("#").strip().strip("*_").strip()
    text = text.rstrip("#").strip()
    return text[:-1].rstrip() if text.endswith(":") else text


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    """'Impact on *' -> a regex where ``*`` is any words and spaces match any run of spaces."""
    words = [".+" if word == "*" else re.escape(word).replace(r"\*", ".*") for word in pattern.split()]
    return re.compile("^" + r"\s+".join(words) + "$", re.IGNORECASE)


def heading_kind(line: str, headings: Headings) -> str | None:
    """'analysis' or 'impact' when the line is such a heading, else None.

    A heading is a short line (at most ten words) that does not end in sentence punctuation,
    so "Impact on trade was severe." stays body text.
    """
    text = normalise_heading(line)
    words = text.split()
    if not words or len(words) > MAX_HEADING_WORDS or text.endswith(SENTENCE_END):
        return None
    text = " ".join(words)
    for kind, patterns in (("analysis", headings.analysis), ("impact", headings.impact)):
        if any(_pattern(p).match(text) for p in patterns):
            return kind
    return None


def block_heading_kind(block: Block, headings: Headings) -> str | None:
    """The part a block starts: a subheading or a one-line paragraph that is a heading line."""
    if isinstance(block, Heading):
        return heading_kind(block_text(block), headings)
    if isinstance(block, Para) and _short(block.inlines):
        return _line_kind(block_text(block), headings)
    return None


def _line_kind(text: str, headings: Headings) -> str | None:
    """A paragraph's line is a heading line only without a '#' of its own: '#' marks a heading
    only where CommonMark says so (the reader made those Heading blocks already)."""
    return None if text.lstrip().startswith("#") else heading_kind(text, headings)


def _short(inlines: tuple[Inline, ...]) -> bool:
    """Cheap test that a paragraph could be a heading line (ten words), before joining its text."""
    return len(inlines) <= 12 and sum(len(n.text) for n in inlines if isinstance(n, Str)) <= 200


def split_sections(blocks: tuple[Block, ...] | list[Block], headings: Headings) -> dict[str, list[Block]]:
    """Story blocks until the first heading line, then the analysis and impact parts.

    A heading line inside a Markdown paragraph (a line of its own, without blank lines around
    it) still starts its part, as it does in a plain-text file. A second heading of a part
    that already has text stays where it is, as text of the current part.
    """
    sections: dict[str, list[Block]] = {part: [] for part in PARTS}
    current = "story"
    for block in blocks:
        for piece in _heading_lines_apart(block, headings):
            kind = block_heading_kind(piece, headings)
            if kind is not None and not sections[kind]:
                current = kind
                continue
            sections[current].append(piece)
    return sections


def _heading_lines_apart(block: Block, headings: Headings) -> list[Block]:
    """A paragraph split so that each of its lines that is a heading line stands alone."""
    if not isinstance(block, Para) or not any(isinstance(n, (SoftBreak, LineBreak)) for n in block.inlines):
        return [block]
    lines: list[list[Inline]] = [[]]
    breaks: list[Inline] = []
    for node in block.inlines:
        if isinstance(node, (SoftBreak, LineBreak)):
            lines.append([])
            breaks.append(node)
        else:
            lines[-1].append(node)
    kinds = [_line_kind(inline_text(tuple(line)), headings) for line in lines]
    if not any(kinds):
        return [block]
    pieces: list[Block] = []
    current: list[Inline] = []
    for number, line in enumerate(lines):
        if kinds[number]:
            if current:
                pieces.append(Para(tuple(current)))
            pieces.append(Para(tuple(line)))
            current = []
            continue
        if current:
            current.append(breaks[number - 1])
        current.extend(line)
    if current:
        pieces.append(Para(tuple(current)))
    return pieces
