"""Shorten a run of paragraphs to about N words, cutting only at a sentence boundary."""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from newsletter.models import Paragraph

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


@dataclass(frozen=True)
class Shortened:
    """The paragraphs to show, and whether anything was left out."""

    paragraphs: tuple[Paragraph, ...]
    shortened: bool


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences; never splits inside a word, a number or after 'Mr.'."""
    result: list[str] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        following = text[end:end + 1]
        if not following or not (following.isupper() or following.isdigit() or following in _OPENERS):
            continue
        before = text[start:match.start() + 1].rsplit(None, 1)[-1].rstrip(".").lower()
        if match.group(0)[0] == "." and (before in _ABBREVIATIONS or (len(before) == 1 and before.isalpha())):
            continue
        result.append(text[start:end].strip())
        start = end
    tail = text[start:].strip()
    if tail:
        result.append(tail)
    return result


def word_count(text: str) -> int:
    return len(text.split())


def shorten(paragraphs: tuple[Paragraph, ...], max_words: int) -> Shortened:
    """Keep whole sentences while the total stays within ``max_words`` (at least one sentence).

    Whole paragraphs keep their HTML (links, emphasis); a paragraph cut short is rebuilt from
    its plain text, escaped, because cutting HTML at a sentence would risk unbalanced tags.
    ``max_words <= 0`` means no limit.
    """
    if max_words <= 0 or sum(word_count(p.text) for p in paragraphs) <= max_words:
        return Shortened(paragraphs, False)
    kept: list[Paragraph] = []
    used = 0
    for paragraph in paragraphs:
        words = word_count(paragraph.text)
        if used + words <= max_words:
            kept.append(paragraph)
            used += words
            continue
        partial: list[str] = []
        for sentence in sentences(paragraph.text):
            count = word_count(sentence)
            if used + count > max_words and (kept or partial):
                break
            partial.append(sentence)
            used += count
        if partial:
            text = " ".join(partial)
            kept.append(Paragraph(text, Markup(escape(text))))
        break
    return Shortened(tuple(kept), True)
