"""The document model: an article's text as blocks and inlines, in the spirit of pandoc's AST.

Readers (newsletter.markdown, newsletter.plaintext) only produce these values; writers (the
theme's ``partials/blocks.mjml.j2`` with newsletter.htmlwriter for inlines, and newsletter.text)
only consume them. No writer ever re-parses another's output.

Blocks (CommonMark's block structure, plus GFM tables):

=================  ==============================================================================
``Para``           a paragraph: ``inlines``
``Plain``          a paragraph without paragraph spacing (an item of a tight list): ``inlines``
``Heading``        a subheading inside a part: ``level`` (1-6, as written) and ``inlines``
``BulletList``     ``items``: each item a tuple of blocks (nested lists are blocks of an item)
``OrderedList``    ``start`` (the first number) and ``items``
``BlockQuote``     ``blocks``
``Image``          a picture standing alone in its paragraph (the same class as the inline)
``CodeBlock``      ``code`` (verbatim, newlines kept) and ``language`` (the fence's info word)
``HorizontalRule`` a thematic break
``Table``          ``aligns`` (``"left"``, ``"center"``, ``"right"`` or ``""`` per column),
                   ``header`` (one cell per column) and ``rows``; a cell is a tuple of inlines
=================  ==============================================================================

Inlines: ``Str`` (literal text), ``Emph``, ``Strong``, ``Strikeout`` (each holding ``inlines``),
``Code`` (``text``), ``Link`` (``target``, ``inlines``, ``title``), ``Image`` (``src``, ``alt``,
``title``, ``width``, ``height`` in CSS pixels or None when unknown), ``LineBreak`` (a hard
break) and ``SoftBreak`` (a newline inside a paragraph: a space when shown).

Every value is a frozen record (``msgspec.Struct``) with a ``kind`` class attribute naming it in lower case
(``"para"``, ``"bullet_list"``, ...), which is what templates dispatch on. Link targets in a
model built by the readers have already passed the link policy (newsletter.links): they are
``https:``, ``mailto:`` or ``tel:``, percent-encoded. ``Link.line`` and ``Image.line`` keep the
line of the source file they came from (0 when unknown) so later checks can point at it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar, TypeAlias

from msgspec import Struct
from msgspec.structs import replace

# --- inlines ---------------------------------------------------------------------------------


MAX_PIXELS = 20_000  # the largest picture size an article may state, in pixels (front matter or {width=..})

class Str(Struct, frozen=True):
    """Literal text: never markup, whatever characters it holds."""

    text: str
    kind: ClassVar[str] = "str"


class Emph(Struct, frozen=True):
    inlines: tuple[Inline, ...]
    kind: ClassVar[str] = "emph"


class Strong(Struct, frozen=True):
    inlines: tuple[Inline, ...]
    kind: ClassVar[str] = "strong"


class Strikeout(Struct, frozen=True):
    inlines: tuple[Inline, ...]
    kind: ClassVar[str] = "strikeout"


class Code(Struct, frozen=True):
    """Inline code: shown verbatim in a monospace font."""

    text: str
    kind: ClassVar[str] = "code"


class Link(Struct, frozen=True):
    """A link: ``target`` is an absolute ``https:``, ``mailto:`` or ``tel:`` URL."""

    target: str
    inlines: tuple[Inline, ...]
    title: str = ""
    line: int = 0
    kind: ClassVar[str] = "link"


class Image(Struct, frozen=True):
    """A picture: ``src`` is an absolute ``https:`` URL; sizes in CSS pixels, None when unknown.

    Inline inside a paragraph's inlines, or a block of its own when it stands alone.
    """

    src: str
    alt: str = ""
    title: str = ""
    width: int | None = None
    height: int | None = None
    line: int = 0
    kind: ClassVar[str] = "image"

    @property
    def text(self) -> str:
        """Its words: the alt text (as a block, like every block's ``text``)."""
        return " ".join(self.alt.split())


class LineBreak(Struct, frozen=True):
    """A hard line break (two trailing spaces or a backslash in Markdown)."""

    kind: ClassVar[str] = "line_break"


class SoftBreak(Struct, frozen=True):
    """A newline inside a paragraph: shown as a space."""

    kind: ClassVar[str] = "soft_break"


Inline: TypeAlias = Str | Emph | Strong | Strikeout | Code | Link | Image | LineBreak | SoftBreak
Cell: TypeAlias = tuple[Inline, ...]


# --- blocks ----------------------------------------------------------------------------------


class _Block:
    """Shared by every block: its plain text (``.text``), for word counts, ledes and previews."""

    __slots__ = ()

    @property
    def text(self) -> str:
        return block_text(self)  # type: ignore[arg-type]


class Para(_Block, Struct, frozen=True):
    inlines: tuple[Inline, ...]
    kind: ClassVar[str] = "para"


class Plain(_Block, Struct, frozen=True):
    """A paragraph of a tight list item: the same inlines, no paragraph spacing."""

    inlines: tuple[Inline, ...]
    kind: ClassVar[str] = "plain"


class Heading(_Block, Struct, frozen=True):
    level: int
    inlines: tuple[Inline, ...]
    kind: ClassVar[str] = "heading"


class BulletList(_Block, Struct, frozen=True):
    items: tuple[tuple[Block, ...], ...]
    kind: ClassVar[str] = "bullet_list"


class OrderedList(_Block, Struct, frozen=True):
    items: tuple[tuple[Block, ...], ...]
    start: int = 1
    kind: ClassVar[str] = "ordered_list"


class BlockQuote(_Block, Struct, frozen=True):
    blocks: tuple[Block, ...]
    kind: ClassVar[str] = "block_quote"


class CodeBlock(_Block, Struct, frozen=True):
    code: str
    language: str = ""
    kind: ClassVar[str] = "code_block"


class HorizontalRule(_Block, Struct, frozen=True):
    kind: ClassVar[str] = "horizontal_rule"


class Table(_Block, Struct, frozen=True):
    aligns: tuple[str, ...]
    header: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]
    kind: ClassVar[str] = "table"


Block: TypeAlias = Para | Plain | Heading | BulletList | OrderedList | BlockQuote | Image | CodeBlock \
    | HorizontalRule | Table
Blocks: TypeAlias = tuple[Block, ...]


# --- reading the model -----------------------------------------------------------------------


def is_blank(node: Inline) -> bool:
    """Whether an inline shows nothing but space: a line break, or text of white space only."""
    return isinstance(node, (SoftBreak, LineBreak)) or (isinstance(node, Str) and not node.text.strip())


def inline_text(inlines: tuple[Inline, ...]) -> str:
    """The words of some inlines as plain text: links keep their words, images their alt text."""
    parts: list[str] = []
    for node in inlines:
        if isinstance(node, (Str, Code)):
            parts.append(node.text)
        elif isinstance(node, (Emph, Strong, Strikeout, Link)):
            parts.append(inline_text(node.inlines))
        elif isinstance(node, Image):
            parts.append(node.alt)
        else:  # LineBreak, SoftBreak
            parts.append(" ")
    return "".join(parts)


def block_text(block: Block) -> str:
    """A block's words on one line, spaces collapsed (lists and quotes: every item's words)."""
    if isinstance(block, (Para, Plain, Heading)):
        text = inline_text(block.inlines)
    elif isinstance(block, (BulletList, OrderedList)):
        text = " ".join(block_text(b) for item in block.items for b in item)
    elif isinstance(block, BlockQuote):
        text = " ".join(block_text(b) for b in block.blocks)
    elif isinstance(block, Image):
        text = block.alt
    elif isinstance(block, CodeBlock):
        text = block.code
    elif isinstance(block, Table):
        text = " ".join(inline_text(cell) for row in (block.header, *block.rows) for cell in row)
    else:
        text = ""
    return " ".join(text.split())


def blocks_text(blocks: tuple[Block, ...]) -> str:
    """The words of a run of blocks, one line (used for word counts and language detection)."""
    return " ".join(t for t in (block_text(b) for b in blocks) if t)


def word_count(blocks: tuple[Block, ...]) -> int:
    return sum(len(block_text(b).split()) for b in blocks)


def children(block: Block) -> tuple[Block, ...]:
    """The blocks directly inside a block (list items' blocks, a quote's blocks)."""
    if isinstance(block, (BulletList, OrderedList)):
        return tuple(b for item in block.items for b in item)
    if isinstance(block, BlockQuote):
        return block.blocks
    return ()


def block_inlines(block: Block) -> Iterator[tuple[Inline, ...]]:
    """Every run of inlines that belongs to the block itself (a table yields one per cell)."""
    if isinstance(block, (Para, Plain, Heading)):
        yield block.inlines
    elif isinstance(block, Table):
        for row in (block.header, *block.rows):
            yield from row


def walk(blocks: tuple[Block, ...]) -> Iterator[Inline | Block]:
    """Every block and inline, depth first, in reading order."""
    for block in blocks:
        yield block
        yield from walk(children(block))
        for inlines in block_inlines(block):
            yield from _walk_inlines(inlines)


def _walk_inlines(inlines: tuple[Inline, ...]) -> Iterator[Inline]:
    for node in inlines:
        yield node
        if isinstance(node, (Emph, Strong, Strikeout, Link)):
            yield from _walk_inlines(node.inlines)


def links(blocks: tuple[Block, ...]) -> Iterator[Link]:
    """Every link, in reading order (for link checking, tracking parameters, reports)."""
    return (node for node in walk(blocks) if isinstance(node, Link))


def images(blocks: tuple[Block, ...]) -> Iterator[Image]:
    """Every picture, block or inline, in reading order."""
    return (node for node in walk(blocks) if isinstance(node, Image))


# --- changing the model ----------------------------------------------------------------------


def map_inlines(blocks: tuple[Block, ...], change: Callable[[Inline], Inline]) -> tuple[Block, ...]:
    """A copy of ``blocks`` with ``change`` applied to every inline, innermost first.

    Block images pass through ``change`` too (they are the same class as inline images), so
    one function can rewrite every link target or size every picture::

        map_inlines(blocks, lambda n: replace(n, target=track(n.target)) if isinstance(n, Link) else n)
    """
    return tuple(_map_block(block, change) for block in blocks)


def _map_block(block: Block, change: Callable[[Inline], Inline]) -> Block:
    if isinstance(block, (Para, Plain, Heading)):
        return replace(block, inlines=_map_inlines(block.inlines, change))
    if isinstance(block, (BulletList, OrderedList)):
        return replace(block, items=tuple(map_inlines(item, change) for item in block.items))
    if isinstance(block, BlockQuote):
        return replace(block, blocks=map_inlines(block.blocks, change))
    if isinstance(block, Table):
        return replace(
            block,
            header=tuple(_map_inlines(cell, change) for cell in block.header),
            rows=tuple(tuple(_map_inlines(cell, change) for cell in row) for row in block.rows),
        )
    if isinstance(block, Image):
        changed = change(block)
        return changed if isinstance(changed, Image) else block
    return block


def _map_inlines(inlines: tuple[Inline, ...], change: Callable[[Inline], Inline]) -> tuple[Inline, ...]:
    result: list[Inline] = []
    for node in inlines:
        if isinstance(node, (Emph, Strong, Strikeout, Link)):
            node = replace(node, inlines=_map_inlines(node.inlines, change))
        result.append(change(node))
    return tuple(result)


def para(text: str) -> Para:
    """A paragraph of literal text (a plain-text article's paragraph, a summary)."""
    return Para((Str(text),))
