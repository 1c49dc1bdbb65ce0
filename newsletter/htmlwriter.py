"""The HTML writer's Python half: inlines -> email-safe HTML, and the escaping every writer shares.

Blocks are written by the theme (``templates/partials/blocks.mjml.j2``, one macro per block
kind, so a workspace theme can restyle or replace them); the text inside a block (its
inlines) is written here, exposed to templates as the ``inlines`` filter. Text is escaped and
merge-tag characters (``{`` ``}`` ``|``) become character references, so article text can
never become markup, template syntax or a mailing service's merge tag.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from markupsafe import Markup, escape
from msgspec.structs import replace

from newsletter.document import (
    Code,
    Emph,
    Image,
    Inline,
    LineBreak,
    Link,
    SoftBreak,
    Str,
    Strikeout,
    Strong,
    Table,
    inline_text,
)
from newsletter.presentation import CONTENT_WIDTH

# Merge-tag syntax of the mailing services (Mailchimp *|UNSUB|*, listmonk and Buttondown
# {{ ... }} / {% ... %}) must never come alive from article text, so these characters are
# written as character references, which the services do not parse but every client shows.
_MERGE_CHARS = {"{": "&#123;", "}": "&#125;", "|": "&#124;"}
_MERGE_RE = re.compile(r"[{}|]")
CODE_STYLE = "font-family:Menlo,Consolas,'Courier New',monospace;font-size:0.9em;"
# width:100% capped by max-width = "as wide as stated, narrower on a phone"; the width attribute
# alone would hold MJML's table cells open at 552 px on a 320 px screen.
INLINE_IMAGE_STYLE = "width:100%;max-width:{width};height:auto;border:0;vertical-align:middle;"


def neutralise(text: str) -> str:
    """Entity-encode the characters of merge-tag syntax in already-escaped HTML text."""
    return _MERGE_RE.sub(lambda m: _MERGE_CHARS[m.group(0)], text)


def safe(text: str) -> Markup:
    """Article or editor text as HTML: escaped, and merge-tag syntax neutralised."""
    return Markup(neutralise(str(escape(text))))


def inlines_html(inlines: tuple[Inline, ...]) -> Markup:
    """Inlines as HTML: ``<em>``, ``<strong>``, ``<s>``, ``<code>``, ``<a class="lk">``,
    ``<img>`` (with its width and height), ``<br>``; everything else escaped text."""
    return Markup("".join(_inline(node) for node in inlines))


def code_html(code: str) -> Markup:
    """A code block's text as HTML that keeps its lines and indentation in every client:
    ``<br>`` between lines, ``&nbsp;`` for indentation and runs of spaces (a single space stays
    a place to wrap), tabs as four spaces. No CSS ``white-space``: Outlook for Windows and
    Samsung Email ignore it, so a ``<pre>`` there would not wrap and would widen a phone screen."""
    lines = [str(safe(line.expandtabs(4))) for line in code.split("\n")]
    return Markup("<br>".join(_HARD_SPACE.sub("&nbsp;", line) for line in lines))


_HARD_SPACE = re.compile(r"(?<= ) |^ |(?<=&nbsp;) ", re.MULTILINE)


def longest_word(inlines: tuple[Inline, ...]) -> int:
    """The length of the longest word (or URL) the inlines show: a table cell with a long one
    may break it anywhere, so the table still fits a phone."""
    return max((len(word) for word in inline_text(inlines).split()), default=0)


# The narrowest place a table may be on a phone: a 320 px screen less the card's padding (24 px
# each side) and, inside an analysis or impact box, the box's rule and padding (4 + 12 + 12 px).
PHONE_TABLE_WIDTH = 320 - 2 * 24 - (4 + 12 + 12)
TABLE_FONT_PX, TABLE_CELL_PX = 13, 2 * 6 + 1  # the phone's table font size; a cell's padding and border
# Advance widths in em of the body fonts (Arial and its look-alikes), by class of letter; the
# rest are about 0.56 em. Bold adds about 8 %. Rounded up: a table judged to fit must fit.
_EM = {**dict.fromkeys("iljI.,:;'|!", 0.29), **dict.fromkeys("frt-()[]/ ", 0.34),
       **dict.fromkeys("mwMW@%", 0.95), **dict.fromkeys("ABCDEFGHKLNOPQRSTUVXYZ&", 0.74)}


def text_width(word: str, size: float = TABLE_FONT_PX, bold: bool = False) -> float:
    """About how wide ``word`` is set in the body font at ``size`` px (accents ride on their letter)."""
    em = sum(_EM.get(unicodedata.normalize("NFD", char)[0], 0.56) for char in word)
    return em * size * (1.08 if bold else 1.0)


def fits_phone(table: Table) -> bool:
    """Whether a table fits PHONE_TABLE_WIDTH with every word whole: each column as wide as its
    widest word (headers bold) plus the cell's padding. A table that does not fit may break words
    anywhere on a phone (the ``dtw`` class); one that does keeps them whole."""
    columns = len(table.header) or max((len(row) for row in table.rows), default=0)
    needed = 1.0
    for column in range(columns):
        widest = 0.0
        for row, bold in ((table.header, True), *((row, False) for row in table.rows)):
            if column < len(row):
                words = inline_text(row[column]).split()
                widest = max(widest, *(text_width(word, bold=bold) for word in words), 0.0)
        needed += widest + TABLE_CELL_PX
    return needed <= PHONE_TABLE_WIDTH


def _attr(value: str) -> str:
    return str(safe(value))


def _wrap(tag: str) -> Callable[[Emph | Strong | Strikeout], str]:
    return lambda node: f"<{tag}>{inlines_html(node.inlines)}</{tag}>"


def _link(node: Link) -> str:
    title = f' title="{_attr(node.title)}"' if node.title else ""
    inner = node.inlines
    if node.target.startswith("tel:"):  # a phone number must not break across lines
        inner = _nonbreaking(inner)
    return f'<a href="{_attr(node.target)}" class="lk"{title}>{inlines_html(inner)}</a>'


def _nonbreaking(inlines: tuple[Inline, ...]) -> tuple[Inline, ...]:
    return tuple(Str(n.text.replace(" ", "\u00a0")) if isinstance(n, Str)
                 else replace(n, inlines=_nonbreaking(n.inlines)) if isinstance(n, (Emph, Strong, Strikeout))
                 else n for n in inlines)


def _image(node: Image) -> str:
    size = f' width="{node.width}" height="{node.height}"' if node.width and node.height else ""
    title = f' title="{_attr(node.title)}"' if node.title else ""
    width = node.width or CONTENT_WIDTH
    style = INLINE_IMAGE_STYLE.format(width="100%" if width >= CONTENT_WIDTH else f"{width}px")
    return f'<img src="{_attr(node.src)}" alt="{_attr(node.alt)}"{size}{title} style="{style}">'


_RULES: dict[type, Callable[..., str]] = {
    Str: lambda node: _attr(node.text),
    Emph: _wrap("em"),
    Strong: _wrap("strong"),
    Strikeout: _wrap("s"),
    Code: lambda node: f'<code style="{CODE_STYLE}">{_attr(node.text)}</code>',
    Link: _link,
    Image: _image,
    LineBreak: lambda node: "<br>",
    SoftBreak: lambda node: " ",
}


def _inline(node: Inline) -> str:
    return _RULES[type(node)](node)
