"""The Markdown reader: CommonMark (plus GFM tables and strikethrough) -> the document model.

The only module that imports markdown-it-py and its plugins. A body is parsed whole by
markdown-it's block parser (so lists, quotes, tables, reference links and link definitions
work as CommonMark says) and its token stream is converted with one rule per token type,
like markdown-it's own renderer. Raw HTML is disabled: ``<b>`` stays the text "<b>".

Pictures may state their size with the attribute syntax of mdit-py-plugins' ``attrs``
plugin, right after the image: ``![Map](https://x.example/map.png){width=1600 height=900}``.

Every link and picture passes the link policy (newsletter.links) here, once: a link that may
not be one keeps its words as text, a picture that may not load is left out, and each is a
warning naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from newsletter.document import (
    MAX_PIXELS,
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
    SoftBreak,
    Str,
    Strikeout,
    Strong,
    Table,
    inline_text,
)
from newsletter.links import image_source, link_target

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

_parser: MarkdownIt | None = None


def parser() -> MarkdownIt:
    """The one configured MarkdownIt instance (built once: building it costs more than a parse)."""
    global _parser
    if _parser is None:
        from markdown_it import MarkdownIt
        from mdit_py_plugins.attrs import attrs_plugin

        md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        md.enable(["table", "strikethrough"])
        # {width=.. height=..} only after an image, so braces elsewhere in a sentence stay text.
        md.use(attrs_plugin, after=("image",))
        # Every target becomes a link token here; the link policy decides afterwards, so a
        # refused link keeps its words (markdown-it's own check would print the raw syntax).
        md.validateLink = lambda url: True  # type: ignore[method-assign]
        _parser = md
    return _parser


class _Reader(Struct):
    """One conversion: where the text came from (for warnings) and the warnings found."""

    where: str
    first_line: int
    warnings: list[str] = field(default_factory=list)

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(f"{self.where}:{line}: {message}" if line else f"{self.where}: {message}")


def read_markdown(text: str, where: str = "", first_line: int = 1) -> tuple[tuple[Block, ...], list[str]]:
    """Markdown text -> (blocks, warnings).

    ``where`` names the source in warnings (a file path, or "issue.toml: intro"); ``first_line``
    is the file line that ``text`` starts on, so warnings point at the right line (0: the text
    has no lines of its own in a file, and warnings name no line).
    """
    reader = _Reader(where, first_line)
    tokens = parser().parse(text)
    blocks, _ = _blocks(reader, tokens, 0, None)
    return tuple(blocks), reader.warnings


def read_inline(text: str, where: str = "", line: int = 0) -> tuple[tuple[Inline, ...], list[str]]:
    """One line of inline Markdown (a summary) -> (inlines, warnings); block syntax stays text."""
    reader = _Reader(where, line or 1)
    tokens = parser().parseInline(text)
    inlines = _inlines(reader, tokens[0].children or [], line or 0) if tokens else ()
    return inlines, reader.warnings


def plain_line(text: str) -> str:
    """A line of Markdown as the words it shows ('# A *big* day' -> 'A big day').

    A line is a heading only where CommonMark says so, so '#1 seller' keeps its '#'.
    """
    for token in parser().parse(text):
        if token.type == "inline":
            return " ".join(inline_text(_inlines(_Reader("", 1), token.children or [], 0)).split())
    return " ".join(text.split())


# --- blocks: one rule per token type ---------------------------------------------------------


def _line(reader: _Reader, token: Token) -> int:
    return reader.first_line + token.map[0] if token.map and reader.first_line else 0


def _blocks(reader: _Reader, tokens: Sequence[Token], start: int, close: str | None) -> tuple[list[Block], int]:
    """Blocks from ``tokens[start:]`` up to the token of type ``close``; returns (blocks, index after)."""
    blocks: list[Block] = []
    index = start
    while index < len(tokens):
        token = tokens[index]
        if token.type == close:
            return blocks, index + 1
        rule = _BLOCK_RULES.get(token.type)
        if rule is None:  # a closing token of a construct we read whole, or one we do not know
            index += 1
            continue
        block, index = rule(reader, tokens, index)
        if block is not None:
            blocks.append(block)
    return blocks, index


def _paragraph(reader: _Reader, tokens: Sequence[Token], index: int) -> tuple[Block | None, int]:
    opening, inline = tokens[index], tokens[index + 1]
    inlines = _inlines(reader, inline.children or [], _line(reader, opening))
    # tokens[index + 2] is paragraph_close
    if len(inlines) == 1 and isinstance(inlines[0], Image):
        return inlines[0], index + 3  # a picture alone in its paragraph is a block of its own
    if not inlines:
        return None, index + 3  # e.g. a paragraph that held only a refused picture
    return (Plain(inlines) if opening.hidden else Para(inlines)), index + 3


def _heading(reader: _Reader, tokens: Sequence[Token], index: int) -> tuple[Block | None, int]:
    opening, inline = tokens[index], tokens[index + 1]
    level = int(opening.tag[1:]) if opening.tag[1:].isdigit() else 2
    inlines = _inlines(reader, inline.children or [], _line(reader, opening))
    return Heading(level, inlines), index + 3


def _list(reader: _Reader, tokens: Sequence[Token], index: int) -> tuple[Block | None, int]:
    opening = tokens[index]
    close = opening.type.replace("_open", "_close")
    items: list[tuple[Block, ...]] = []
    index += 1
    while tokens[index].type != close:
        # list_item_open ... list_item_close
        blocks, index = _blocks(reader, tokens, index + 1, "list_item_close")
        items.append(tuple(blocks))
    if opening.type == "ordered_list_open":
        start = opening.attrGet("start")
        return OrderedList(tuple(items), int(start) if isinstance(start, (int, str)) else 1), index + 1
    return BulletList(tuple(items)), index + 1


def _quote(reader: _Reader, tokens: Sequence[Token], index: int) -> tuple[Block | None, int]:
    blocks, index = _blocks(reader, tokens, index + 1, "blockquote_close")
    return BlockQuote(tuple(blocks)), index


def _code(reader: _Reader, tokens: Sequence[Token], index: int) -> tuple[Block | None, int]:
    token = tokens[index]
    language = token.info.split()[0] if token.info.strip() else ""
    return CodeBlock(token.content.rstrip("\n"), language), index + 1


def _rule(reader: _Reader, tokens: Sequence[Token], index: int) -> tuple[Block | None, int]:
    return HorizontalRule(), index + 1


def _table(reader: _Reader, tokens: Sequence[Token], index: int) -> tuple[Block | None, int]:
    aligns: list[str] = []
    rows: list[tuple[tuple[Inline, ...], ...]] = []
    row: list[tuple[Inline, ...]] = []
    line = 0
    index += 1
    while tokens[index].type != "table_close":
        token = tokens[index]
        if token.type == "tr_open":
            row, line = [], _line(reader, token)
        elif token.type == "tr_close":
            rows.append(tuple(row))
        elif token.type in ("th_open", "td_open"):
            if token.type == "th_open":
                style = str(token.attrGet("style") or "")
                aligns.append(style.removeprefix("text-align:") if style.startswith("text-align:") else "")
            row.append(_inlines(reader, tokens[index + 1].children or [], line))
            index += 2  # the cell's inline token and its closing token
        index += 1
    header, body = (rows[0], tuple(rows[1:])) if rows else ((), ())
    width = len(aligns)
    # GFM: a row with fewer cells is padded with empty ones, extra cells are dropped
    body = tuple(tuple(r[:width]) + ((),) * (width - len(r)) for r in body)
    return Table(tuple(aligns), header, body), index + 1


_BlockRule = Callable[[_Reader, Sequence["Token"], int], tuple[Block | None, int]]
_BLOCK_RULES: dict[str, _BlockRule] = {
    "paragraph_open": _paragraph,
    "heading_open": _heading,
    "bullet_list_open": _list,
    "ordered_list_open": _list,
    "blockquote_open": _quote,
    "fence": _code,
    "code_block": _code,
    "hr": _rule,
    "table_open": _table,
}


# --- inlines ---------------------------------------------------------------------------------

_CONTAINERS: dict[str, Callable[[tuple[Inline, ...]], Inline]] = {
    "em": Emph,
    "strong": Strong,
    "s": Strikeout,
}


def _inlines(reader: _Reader, tokens: Sequence[Token], line: int) -> tuple[Inline, ...]:
    """Inline tokens -> inlines; ``line`` is the file line of the first token (0: unknown)."""
    first_line = line
    stack: list[tuple[Token | None, list[Inline]]] = [(None, [])]
    for token in tokens:
        kind = token.type
        out = stack[-1][1]
        if kind == "text" or kind == "text_special" or kind == "html_inline":
            _append_text(out, token.content)
        elif kind == "softbreak":
            out.append(SoftBreak())
            line += 1 if line else 0
        elif kind == "hardbreak":
            out.append(LineBreak())
            line += 1 if line else 0
        elif kind == "code_inline":
            out.append(Code(token.content))
        elif kind == "image":
            image = _image(reader, token, line)
            if image is not None:
                out.append(image)
        elif kind.endswith("_open"):
            stack.append((token, []))
        elif kind.endswith("_close") and len(stack) > 1:
            opening, children = stack.pop()
            assert opening is not None
            node = _close(reader, opening, tuple(children), line)
            target = stack[-1][1]
            for item in node:
                if isinstance(item, Str):
                    _append_text(target, item.text)
                else:
                    target.append(item)
    while len(stack) > 1:  # unbalanced (never from markdown-it): keep the words
        _, children = stack.pop()
        stack[-1][1].extend(children)
    result = tuple(stack[0][1])
    _warn_about_spaced_links(reader, result, first_line)
    return result


# "[words](address with spaces)": CommonMark makes it text, so the raw syntax would reach readers.
_SPACED_LINK = re.compile(r"!?\[([^\[\]\n]+)\]\(([^()<>\s]+(?:[ \t]+[^()<>\s]+)+)\)")


def _warn_about_spaced_links(reader: _Reader, inlines: tuple[Inline, ...], line: int) -> None:
    for node in inlines:
        if isinstance(node, (SoftBreak, LineBreak)):
            line += 1 if line else 0
        elif isinstance(node, Str):
            for match in _SPACED_LINK.finditer(node.text):
                bang, words, address = match.group(0)[:1].strip("["), match.group(1), match.group(2)
                reader.warn(line, f"'{match.group(0)}' is shown as typed, not as a {'picture' if bang else 'link'}: "
                                  "an address cannot hold spaces. Write it without them, or in angle brackets: "
                                  f"{bang}[{words}](<{address}>)")


def _append_text(out: list[Inline], text: str) -> None:
    # Adjacent text is one Str, so shortening and wrapping see whole sentences.
    if out and isinstance(out[-1], Str):
        out[-1] = Str(out[-1].text + text)
    elif text:
        out.append(Str(text))


def _close(reader: _Reader, opening: Token, children: tuple[Inline, ...], line: int) -> tuple[Inline, ...]:
    name = opening.type.removesuffix("_open")
    if name == "link":
        href = str(opening.attrGet("href") or "")
        target = link_target(href)
        if target is None:
            words = inline_text(children).strip()
            reader.warn(line, f"link '{href}' is not an https, mailto or tel link, so '{words}' is shown "
                              "without it; write an absolute https:// URL")
            return children
        return (Link(target, children, str(opening.attrGet("title") or ""), line),)
    container = _CONTAINERS.get(name)
    return (container(children),) if container else children


def _image(reader: _Reader, token: Token, line: int) -> Image | None:
    src = str(token.attrGet("src") or "")
    alt = " ".join(inline_text(_inlines(reader, token.children or [], line)).split())
    source = image_source(src)
    if source is None:
        reader.warn(line, f"image '{src}' is not an absolute https:// URL, so it is left out")
        return None
    if not alt:
        reader.warn(line, f"image '{src}' has no alt text; describe the picture for readers who cannot see it: "
                          "![what it shows](...)")
    return Image(source, alt, str(token.attrGet("title") or ""), _pixels(token, "width"), _pixels(token, "height"),
                 line)


def _pixels(token: Token, name: str) -> int | None:
    value: Any = token.attrGet(name)
    text = str(value or "").strip().lower().removesuffix("px")
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_PIXELS else None
