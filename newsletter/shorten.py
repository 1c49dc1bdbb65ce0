"""Shorten a run of blocks to about N words, cutting only between blocks or sentences.

A paragraph may be cut after a sentence (its emphasis and links kept up to the cut); a list
may be cut between its items; nothing is ever cut inside a list item, a quote, a table, a
code block or a picture: such a block is kept whole or left out.
"""

from __future__ import annotations

import re

from msgspec import Struct
from msgspec.structs import replace

from newsletter.document import (
    Block,
    BulletList,
    Code,
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
    inline_text,
)
from newsletter.document import word_count as blocks_word_count

# A sentence ends at . ! ? or … (optionally followed by closing quotes or brackets), then space,
# then something that can open a sentence: an upper-case letter (Vietnamese capitals such as
# Đ, Ư, Ở included, since str.isupper() knows them), a digit or an opening quote.
_END = re.compile(r"[.!?…][\"'”’»)\]]*\s+")
_OPENERS = "\"'“‘«([¿¡"
# Words after which a full stop does not end a sentence (titles, initials' friends, "U.S.").
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "gen", "sen", "rep", "gov", "lt", "col", "capt",
    "sgt", "inc", "co", "corp", "ltd", "vs", "no", "mt", "ft", "u.s", "u.k", "u.n", "e.g", "i.e", "etc",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "ông", "bà", "tp",
}


class Shortened(Struct, frozen=True):
    """The blocks to show, and whether anything was left out."""

    blocks: tuple[Block, ...]
    shortened: bool


def sentence_ends(text: str) -> list[int]:
    """Offsets in ``text`` just after each sentence but the last (where a cut may go)."""
    ends: list[int] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        following = text[end:end + 1]
        if not following or not (following.isupper() or following.isdigit() or following in _OPENERS):
            continue
        before = text[start:match.start() + 1].rsplit(None, 1)[-1].rstrip(".").lower()
        if match.group(0)[0] == "." and (before in _ABBREVIATIONS or (len(before) == 1 and before.isalpha())):
            continue
        ends.append(match.start() + len(match.group(0).rstrip()))
        start = end
    return ends


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences; never splits inside a word, a number or after 'Mr.'."""
    cuts = [0, *sentence_ends(text), len(text)]
    return [part for a, b in zip(cuts, cuts[1:], strict=False) if (part := text[a:b].strip())]


def word_count(text: str) -> int:
    return len(text.split())


def shorten(blocks: tuple[Block, ...], max_words: int) -> Shortened:
    """Keep whole blocks, then whole sentences or list items, while the total stays within
    ``max_words``; at least one sentence (or item, or block) is always kept.

    ``max_words <= 0`` means no limit. A subheading left last, with nothing after it, is dropped.
    """
    if max_words <= 0 or blocks_word_count(blocks) <= max_words:
        return Shortened(blocks, False)
    kept: list[Block] = []
    used = 0
    for block in blocks:
        words = blocks_word_count((block,))
        if used + words <= max_words:
            kept.append(block)
            used += words
            continue
        part = _cut(block, max_words - used, first=not kept)
        if part is not None:
            kept.append(part)
        break
    while kept and isinstance(kept[-1], Heading):
        kept.pop()
    return Shortened(tuple(kept), True)


def _cut(block: Block, budget: int, first: bool) -> Block | None:
    """The start of ``block`` that fits ``budget`` words, cut at a sentence or between list
    items; None when nothing fits (``first``: the first block shown keeps at least a piece)."""
    if isinstance(block, (Para, Plain)):
        text = inline_text(block.inlines)
        keep = 0
        for end in sentence_ends(text):
            if word_count(text[:end]) > budget:
                break
            keep = end
        if not keep and first:
            ends = sentence_ends(text)
            keep = ends[0] if ends else len(text)
        return replace(block, inlines=_truncate(block.inlines, keep)[0]) if keep else None
    if isinstance(block, (BulletList, OrderedList)):
        items: list[tuple[Block, ...]] = []
        used = 0
        for item in block.items:
            words = blocks_word_count(item)
            if used + words > budget and (items or not first):
                break
            items.append(item)
            used += words
        return replace(block, items=tuple(items)) if items else None
    return block if first else None


def _truncate(inlines: tuple[Inline, ...], limit: int) -> tuple[tuple[Inline, ...], int]:
    """The inlines whose plain text (inline_text) is its first ``limit`` characters; returns
    (inlines, characters used). Emphasis and links are kept around what remains of them."""
    result: list[Inline] = []
    used = 0
    for node in inlines:
        if used >= limit:
            break
        room = limit - used
        if isinstance(node, (Str, Code)):
            text = node.text[:room]
            result.append(replace(node, text=text))
            used += len(text)
        elif isinstance(node, (Emph, Strong, Strikeout, Link)):
            inner, count = _truncate(node.inlines, room)
            if inner:
                result.append(replace(node, inlines=inner))
            used += count
        elif isinstance(node, Image):
            if len(node.alt) <= room:
                result.append(node)
            used += len(node.alt)
        else:  # LineBreak, SoftBreak count as one space
            result.append(node)
            used += 1
    return _rstrip(tuple(result)), used


def _rstrip(inlines: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """Without trailing spaces and breaks, so a mark can follow the last word directly."""
    items = list(inlines)
    while items:
        last = items[-1]
        if isinstance(last, Str) and last.text.rstrip() != last.text:
            if last.text.strip():
                items[-1] = Str(last.text.rstrip())
                break
            items.pop()
        elif isinstance(last, (Emph, Strong, Strikeout, Link)):
            inner = _rstrip(last.inlines)
            if inner:
                items[-1] = replace(last, inlines=inner)
                break
            items.pop()
        elif last.kind in ("soft_break", "line_break"):
            items.pop()
        else:
            break
    return tuple(items)
