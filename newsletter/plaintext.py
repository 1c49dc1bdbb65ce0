"""The plain-text reader: a ``.txt`` article's lines -> paragraph blocks of literal text.

Paragraphs are one per line, or separated by blank lines; only in a file that separates them
with blank lines does a line that ends mid-sentence continue onto the next (hard-wrapped text).
Heading lines (newsletter.sections) always stand alone, so they can be matched. The text is
literal: ``*``, ``#``, ``<b>`` and ``[x](y)`` are shown as typed, never as markup.
"""

from __future__ import annotations

from collections.abc import Iterator

from newsletter.config import Headings
from newsletter.document import Heading, Para, Str
from newsletter.sections import SENTENCE_END, heading_kind

PARAGRAPH_END = (*SENTENCE_END, ":", ";", '"', "”", "’", "'", ")", "]", "»")


def read_plain(lines: list[str], headings: Headings) -> tuple[Para | Heading, ...]:
    """The paragraphs of a plain-text body (a list of lines without their newlines); a heading
    line (``Saigon Sentinel Analysis``, ``## Impact``) is a Heading block, its text as typed."""
    return tuple(
        Heading(2, (Str(text),)) if heading else Para((Str(" ".join(text.split())),))
        for text, heading in _paragraphs(lines, headings)
    )


def _paragraphs(lines: list[str], headings: Headings) -> Iterator[tuple[str, bool]]:
    text_lines = [line.strip() for line in lines]
    wrapped = "\n\n" in "\n".join(text_lines).strip("\n")
    current: list[str] = []
    for line in text_lines:
        standalone = heading_kind(line, headings) is not None
        ends = bool(current) and current[-1].endswith(PARAGRAPH_END)
        joins = bool(current) and wrapped and not ends and not standalone
        if current and (not line or not joins):
            yield " ".join(current), False
            current = []
        if not line:
            continue
        current.append(line)
        if standalone:
            yield line, True
            current = []
    if current:
        yield " ".join(current), False
