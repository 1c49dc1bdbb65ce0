"""A post's HTML -> well-formed CommonMark: sanitised with a real HTML parser, then converted by markdownify.

BeautifulSoup (Python's own ``html.parser``, so a 10 MB paragraph is not cut as by lxml) builds
the tree; ``sanitise`` drops what must not reach an email (scripts, styles, iframes, tracking
pixels, share buttons, "The post … appeared first on …" trailers) and makes every link and
picture absolute against the post's address. markdownify then writes the tree as Markdown: our
subclass escapes text exactly where CommonMark would misread it, writes ATX headings, and turns a
paragraph that is only ``<strong>Impact on …</strong>`` into the heading line the build splits
stories at (``heading_kind`` in content.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from bs4 import BeautifulSoup
from bs4.element import Comment, NavigableString, Tag
from markdownify import MarkdownConverter

from newsletter.config import Headings
from newsletter.content import heading_kind, normalise_heading
from newsletter.document import MAX_PIXELS

# Elements whose content never belongs in an email, dropped with everything inside them.
DROPPED = {
    "script", "style", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input",
    "button", "select", "textarea", "svg", "canvas", "template", "link", "meta", "head", "title", "audio",
    "video", "source", "track", "map", "area", "dialog", "math",
}  # fmt: skip
# Block-level elements: a text node that opens one starts a Markdown line.
BLOCKS = {
    "[document]", "html", "body", "p", "div", "li", "ul", "ol", "blockquote", "section", "article", "header",
    "footer", "main", "aside", "nav", "figure", "figcaption", "dd", "dt", "dl", "pre", "hr", "address",
    "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
# Containers that may be left empty once share buttons, pixels and trailers are gone.
EMPTIABLE = {"p", "div", "span", "li", "ul", "ol", "figure", "section", "blockquote", "strong", "b", "em", "i",
             "a", "h1", "h2", "h3", "h4", "h5", "h6", "aside", "header", "footer", "nav", "u", "small", "font"}
# A class or id word that marks share buttons, like boxes and "related posts" (Jetpack's sharedaddy
# and jp-relatedposts, AddToAny's a2a_kit, the block editor's wp-block-social-links, YARPP, ...).
SHARE_WORD = re.compile(
    r"(?:^|[-_])(?:share|sharing|sharedaddy|social|addtoany|a2a|relatedposts|related|yarpp|feedflare|likes)"
    r"(?:[-_]|$)",
    re.IGNORECASE,
)
SHARE_LINK = re.compile(
    r"^(?:https?://(?:[\w-]+\.)*(?:facebook\.com/(?:sharer|share\.php|dialog/share)|(?:twitter|x)\.com/(?:intent|share)"
    r"|linkedin\.com/(?:shareArticle|sharing)|pinterest\.\w+/pin/create|reddit\.com/submit|api\.whatsapp\.com/send"
    r"|wa\.me/\?|t(?:elegram)?\.me/share|getpocket\.com/(?:save|edit)|bsky\.app/intent)"
    r"|mailto:\?|whatsapp:)",
    re.IGNORECASE,
)
TRACKER_HOST = re.compile(
    r"(?:^|\.)(?:pixel\.wp\.com|stats\.wp\.com|stats\.wordpress\.com|feeds\.feedburner\.com|feedproxy\.google\.com"
    r"|google-analytics\.com|pixel\.quantserve\.com|scorecardresearch\.com|doubleclick\.net|pixel\.wp\.com"
    r"|feedblitz\.com|pixel\.mathtag\.com)$",
    re.IGNORECASE,
)
# Yoast SEO's RSS footer, in its default English wording.
APPEARED_FIRST = re.compile(r"^the post .+ appeared first on .+$", re.IGNORECASE | re.DOTALL)
MORE_LINK = re.compile(r"^(?:continue reading|read more|keep reading)\b", re.IGNORECASE)
LAZY_SOURCES = ("data-lazy-src", "data-src", "data-original", "data-orig-file", "data-large-file")
# C0 and C1 control characters other than tab and line feed: never meant to be seen, and unsafe in a terminal.
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
LINK_SCHEMES = ("http", "https", "mailto", "tel")
IMAGE_SCHEMES = ("http", "https")


# --- sanitising ----------------------------------------------------------------------------


def parse(html: str) -> BeautifulSoup:
    """The HTML as a tree, by Python's own tolerant HTML parser; control characters are dropped first."""
    return BeautifulSoup(CONTROLS.sub("", html.replace("\r\n", "\n").replace("\r", "\n")), "html.parser")


def sanitise(soup: BeautifulSoup, base_url: str, drop: Sequence[re.Pattern[str]] = ()) -> BeautifulSoup:
    """Drop what must not reach an email and make links and pictures absolute; changes ``soup`` in place.

    ``drop``: paragraphs whose whole text matches one of these are removed too (a source's
    ``drop_paragraphs``). A ``<base href>`` in the HTML itself wins over ``base_url``.
    """
    base_tag = soup.find("base", href=True)
    if isinstance(base_tag, Tag):
        base_url = urljoin(base_url, str(base_tag["href"]))
    for node in list(soup.find_all(string=lambda s: isinstance(s, Comment))):
        node.extract()
    for tag in list(soup.find_all(True)):
        if not isinstance(tag, Tag) or _gone(tag):
            continue
        if tag.name in DROPPED or tag.name == "base" or _is_share_box(tag):
            tag.decompose()
    for img in list(soup.find_all("img")):
        _fix_image(img, base_url)
    for link in list(soup.find_all("a")):
        _fix_link(link, base_url)
    for block in list(soup.find_all(["p", "div"])):
        if _gone(block):
            continue
        text = " ".join(block.get_text(" ").split())
        if APPEARED_FIRST.match(text) or any(pattern.fullmatch(text) for pattern in drop):
            block.decompose()
    _remove_empty(soup)
    _tidy_breaks(soup)
    return soup


def _gone(tag: Tag) -> bool:
    """True for a tag already removed with its parent (cheaper than bs4's ``decomposed``, which searches)."""
    return tag.parent is None


def _classes(tag: Tag) -> list[str]:
    value = tag.get("class")
    words = list(value) if isinstance(value, list) else str(value or "").split()
    ident = tag.get("id")
    return [*words, str(ident)] if ident else words


def _is_share_box(tag: Tag) -> bool:
    return tag.name not in ("body", "html", "article", "main") and any(SHARE_WORD.search(w) for w in _classes(tag))


def _pixels(tag: Tag, name: str) -> int | None:
    """The width or height a tag declares (attribute or inline style), in CSS pixels, if it says."""
    value = str(tag.get(name) or "").strip().lower().removesuffix("px")
    if not value:
        match = re.search(rf"(?:^|;)\s*{name}\s*:\s*(\d+(?:\.\d+)?)px", str(tag.get("style") or ""), re.IGNORECASE)
        value = match.group(1) if match else ""
    try:
        return int(float(value))
    except (ValueError, OverflowError):  # "auto", "nan"; "9" * 400 is infinity as a float
        return None


def _real_src(img: Tag) -> str:
    """The address a picture loads from: a lazy-loaded one's ``data-src`` (or the like), not its placeholder."""
    src = str(img.get("src") or "").strip()
    if not src or src.startswith("data:") or "lazy" in src.lower() or src.lower().endswith("blank.gif"):
        src = next((str(img[a]).strip() for a in LAZY_SOURCES if img.get(a)), src)
    return src


def _fix_image(img: Tag, base_url: str) -> None:
    url = absolute(_real_src(img), base_url, IMAGE_SCHEMES)
    width, height = _pixels(img, "width"), _pixels(img, "height")
    tiny = (width is not None and width <= 2) or (height is not None and height <= 2)
    host = urlsplit(url).hostname or "" if url else ""
    if url is None or tiny or TRACKER_HOST.search(host):
        parent = img.parent
        img.decompose()
        if isinstance(parent, Tag) and parent.name == "a" and not parent.get_text(strip=True):
            parent.decompose()  # a linked pixel
        return
    img.attrs = {"src": url, "alt": " ".join(str(img.get("alt") or "").split())}
    # The size the post states is kept ({width=.. height=..} in the Markdown): without it the email
    # can only guess the picture's ratio, and Outlook draws it at the guessed height.
    for name, value in (("width", width), ("height", height)):
        if value is not None and 0 < value <= MAX_PIXELS:
            img[name] = str(value)


def _fix_link(link: Tag, base_url: str) -> None:
    if _gone(link):
        return
    href = str(link.get("href") or "").strip()
    classes = " ".join(_classes(link)).lower()
    text = link.get_text(" ", strip=True)
    if SHARE_LINK.match(href) or "more-link" in classes or (MORE_LINK.match(text) and "#more-" in href):
        link.decompose()
        return
    url = absolute(href, base_url, LINK_SCHEMES) if href else None
    if url is None:
        link.unwrap()  # its words stay, as text: a javascript:, data: or empty link goes nowhere
        return
    link.attrs = {"href": url}


def _remove_empty(soup: BeautifulSoup) -> None:
    # Deepest first, so a paragraph emptied by removing its only link goes too.
    for tag in reversed(soup.find_all(list(EMPTIABLE))):
        if not _gone(tag) and not tag.get_text(strip=True) and tag.find(["img", "hr", "br", "table"]) is None:
            tag.decompose()


def _tidy_breaks(soup: BeautifulSoup) -> None:
    """Drop a line break that opens or closes its block, and all but one of a run of them.

    In CommonMark a hard break at the end of a paragraph is a literal backslash, so one there
    must not be written at all.
    """
    for br in list(soup.find_all("br")):
        if _gone(br):
            continue
        following = br.next_sibling
        while isinstance(following, NavigableString) and not following.strip():
            following = following.next_sibling
        if (isinstance(following, Tag) and following.name == "br") or _at_edge(br, True) or _at_edge(br, False):
            br.decompose()


def _at_edge(br: Tag, forward: bool) -> bool:
    """True when nothing visible lies between ``br`` and the end (or start) of its block."""
    node: Any = br
    while True:
        sibling = node.next_sibling if forward else node.previous_sibling
        while sibling is not None:
            if isinstance(sibling, Tag):
                if sibling.name == "img" or sibling.get_text(strip=True) or sibling.find("img") is not None:
                    return False
            elif isinstance(sibling, NavigableString) and not isinstance(sibling, Comment) and sibling.strip():
                return False
            sibling = sibling.next_sibling if forward else sibling.previous_sibling
        parent = node.parent
        if parent is None or parent.name in BLOCKS or parent.name in ("td", "th"):
            return True
        node = parent


def absolute(url: str, base_url: str, schemes: Iterable[str]) -> str | None:
    """``url`` made absolute against ``base_url``; None when its scheme is not one of ``schemes``."""
    url = url.strip()
    if not url:
        return None
    joined = urljoin(base_url, url) if base_url else url
    scheme = urlsplit(joined).scheme.lower()
    return joined if scheme in schemes else None


# --- the analysis and impact headings --------------------------------------------------------


def promote_headings(soup: BeautifulSoup, headings: Headings, title: str = "") -> None:
    """Make the analysis and impact headings real headings; drop a first heading that repeats the title.

    ``<p><strong>Impact on Vietnamese Americans</strong></p>`` becomes ``<h2>``; so does the
    bold lead-in of ``<p><strong>Saigon Sentinel Analysis:</strong> The pact …</p>``, whose
    remaining words stay as the first paragraph of that section.
    """
    for block in list(soup.find_all(["p", "div"])):
        if _gone(block) or block.find(BLOCKS - {"[document]"}) is not None:
            continue
        children = [c for c in block.children if not (isinstance(c, NavigableString) and not c.strip())]
        first = children[0] if children else None
        if not isinstance(first, Tag) or first.name not in ("strong", "b"):
            continue
        label = " ".join(first.get_text(" ").split())
        if heading_kind(label, headings) is None:
            continue
        heading = soup.new_tag("h2")
        heading.string = normalise_heading(label)
        block.insert_before(heading)
        first.decompose()
        _strip_leading(block)
        if not block.get_text(strip=True) and block.find("img") is None:
            block.decompose()
    first_block = next((t for t in soup.find_all(True) if t.name in BLOCKS and t.get_text(strip=True)), None)
    if (
        title
        and isinstance(first_block, Tag)
        and first_block.name in ("h1", "h2", "h3")
        and " ".join(first_block.get_text(" ").split()).casefold() == " ".join(title.split()).casefold()
    ):
        first_block.decompose()


def _strip_leading(block: Tag) -> None:
    """Remove the line break, colon and spaces left at the start of a paragraph whose lead-in was cut."""
    while block.contents:
        node = block.contents[0]
        if isinstance(node, Tag) and node.name == "br":
            node.decompose()
        elif isinstance(node, NavigableString):
            rest = node.lstrip().lstrip(":").lstrip("–—-").lstrip()
            if rest:
                node.replace_with(rest)
                return
            node.extract()
        else:
            return


# --- Markdown -------------------------------------------------------------------------------

_ALWAYS = re.compile(r"([\\`*\[\]<~])")
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# What opens a block when it starts a line: an ATX heading, a quote, a list item, a setext underline.
_LINE_START = re.compile(r"^( {0,3})(#{1,6}(?=\s|$)|>|[-+](?=\s|$)|=+\s*$|-+\s*$)")
_NUMBERED = re.compile(r"^( {0,3}\d{1,9})([.)])(?=\s|$)")


def escape_inline(text: str, *, in_table: bool = False) -> str:
    """Plain text as CommonMark inline text that renders as exactly these characters."""
    text = _ALWAYS.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _ENTITY.sub(r"\\&", text)
    return text.replace("|", r"\|") if in_table else text


def escape_line_start(text: str) -> str:
    """Escape a block marker (``#``, ``>``, ``-``, ``+``, ``1.``, ``===``) that opens a line of text."""
    text = _NUMBERED.sub(r"\1\\\2", text, count=1)
    return _LINE_START.sub(r"\1\\\2", text, count=1)


def _starts_line(node: Any) -> bool:
    """True when a text node is the first thing on a Markdown line (a block's start, or after <br>)."""
    while True:
        previous = node.previous_sibling
        while previous is not None and (
            isinstance(previous, Comment) or (isinstance(previous, NavigableString) and not previous.strip())
        ):
            previous = previous.previous_sibling
        if previous is not None:
            return isinstance(previous, Tag) and previous.name in ("br", *BLOCKS)
        parent = node.parent
        if parent is None or parent.name in BLOCKS:
            return True
        if parent.name in ("td", "th"):
            return False
        node = parent


def _follows_image(node: Any) -> bool:
    """True when a text node comes right after a picture on its line (nothing between them)."""
    while True:
        previous = node.previous_sibling
        while isinstance(previous, Comment):
            previous = previous.previous_sibling
        if previous is not None:
            return isinstance(previous, Tag) and previous.name == "img"
        parent = node.parent
        if parent is None or parent.name in BLOCKS or parent.name in ("td", "th"):
            return False
        node = parent


def _link_target(url: str) -> str:
    """A URL as a CommonMark link destination: spaces, parentheses and angle brackets percent-encoded."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~-._")


class _Converter(MarkdownConverter):
    """markdownify's converter with CommonMark-exact escaping, ATX headings and email-ready links."""

    def escape(self, text: str, parent_tags: set[str]) -> str:
        return escape_inline(text, in_table=bool({"td", "th"} & parent_tags)) if text else ""

    def process_text(self, el: Any, parent_tags: set[str] | None = None) -> str:
        text: str = super().process_text(el, parent_tags=parent_tags)  # type: ignore[misc]  # not in the stub
        tags = parent_tags or set()
        if text and "_noformat" not in tags and "_inline" not in tags and _starts_line(el):
            text = escape_line_start(text)
        if text.startswith("{") and "_noformat" not in tags and _follows_image(el):
            text = "\\" + text  # "{...}" right after a picture would be read as its attributes
        return text

    def convert_hN(self, n: int, el: Any, text: str, parent_tags: set[str]) -> str:  # noqa: N802 (markdownify's name)
        text = " ".join(text.split())
        while len(text) > 4 and text.startswith("**") and text.endswith("**"):
            text = text[2:-2].strip()  # a bold heading is a heading
        if "_inline" in parent_tags or not text:
            return text
        return f"\n\n{'#' * max(2, min(6, n))} {text}\n\n"  # the title is the only level-1 heading

    def convert_a(self, el: Any, text: str, parent_tags: set[str]) -> str:
        href = el.get("href")
        if not href or "_noformat" in parent_tags:
            return text
        words = text.strip()
        if not words:
            return ""
        space_before = " " if text[:1].isspace() else ""
        space_after = " " if text[-1:].isspace() else ""
        return f"{space_before}[{words}]({_link_target(str(href))}){space_after}"

    def convert_img(self, el: Any, text: str, parent_tags: set[str]) -> str:
        alt = escape_inline(str(el.get("alt") or ""))
        src = _link_target(str(el.get("src") or ""))
        if "_inline" in parent_tags:
            return alt
        size = " ".join(f"{name}={el[name]}" for name in ("width", "height") if el.get(name))
        return f"![{alt}]({src}){{{size}}}" if size else f"![{alt}]({src})"

    def convert_figcaption(self, el: Any, text: str, parent_tags: set[str]) -> str:
        text = text.strip()
        if not text:
            return ""
        return f"\n\n*{text}*\n\n" if "*" not in text.replace(r"\*", "") else f"\n\n{text}\n\n"


_CONVERTER = _Converter(
    heading_style="atx",
    bullets="-",
    strong_em_symbol="*",
    newline_style="backslash",  # a visible hard break that editors' "trim trailing spaces" cannot remove
    wrap=True,  # collapse the HTML's own line breaks: only <br> and blocks break lines
    wrap_width=None,
    escape_misc=False,  # our escape() does CommonMark's exact needs instead
    autolinks=False,
)


def to_markdown(soup: BeautifulSoup) -> str:
    """A sanitised tree as CommonMark: blank lines between blocks, NFC text, no trailing spaces."""
    markdown: str = _CONVERTER.convert_soup(soup)
    lines = [line.rstrip() for line in markdown.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return unicodedata.normalize("NFC", CONTROLS.sub("", text))  # also those written as &#27;


def post_markdown(
    html: str, base_url: str, headings: Headings, *, title: str = "", drop: Sequence[re.Pattern[str]] = ()
) -> str:
    """A post's HTML as the Markdown body of an article file (empty when nothing is left)."""
    soup = sanitise(parse(html), base_url, drop)
    promote_headings(soup, headings, title)
    return to_markdown(soup)


# --- plain text -------------------------------------------------------------------------------


def html_text(html: str, base_url: str = "", drop: Sequence[re.Pattern[str]] = ()) -> str:
    """An HTML fragment (a title, an excerpt) as one line of plain NFC text."""
    if "<" not in html and "&" not in html:
        return unicodedata.normalize("NFC", " ".join(CONTROLS.sub("", html).split()))
    soup = sanitise(parse(html), base_url, drop)
    return unicodedata.normalize("NFC", " ".join(CONTROLS.sub("", soup.get_text(" ")).split()))


# WordPress serves each upload in several sizes, named after the original: market.jpg,
# market-1024x683.jpg, market-scaled.jpg (the large original scaled down on upload).
_WORDPRESS_SIZE = re.compile(r"-(?:\d{1,5}x\d{1,5}|scaled)(?=\.\w{2,5}$)", re.IGNORECASE)


def _same_picture(url: str) -> str:
    """What two addresses of one picture share: no query or fragment, no WordPress size suffix."""
    parts = urlsplit(url)
    return f"{parts.netloc.lower()}{_WORDPRESS_SIZE.sub('', parts.path)}"


def image_alt(html: str, base_url: str, image_url: str) -> str | None:
    """The alt text the post's own HTML gives the picture at ``image_url`` (in any of its sizes), if it shows it."""
    wanted = _same_picture(image_url)
    for img in parse(html).find_all("img"):
        src = absolute(str(img.get("src") or ""), base_url, IMAGE_SCHEMES)
        alt = " ".join(str(img.get("alt") or "").split())
        if src and alt and _same_picture(src) == wanted:
            return alt
    return None


def image_size(html: str, base_url: str, image_url: str) -> tuple[int | None, int | None]:
    """The width and height the post's own ``<img>`` of the file at ``image_url`` states, in pixels
    (attributes or inline style), when it shows that very file. Another of WordPress's sizes of
    the picture says nothing sure about this one (``-150x150`` is cropped square)."""
    for img in parse(html).find_all("img"):
        if absolute(_real_src(img), base_url, IMAGE_SCHEMES) != image_url:
            continue
        width, height = (value if value is not None and 0 < value <= MAX_PIXELS else None
                         for value in (_pixels(img, "width"), _pixels(img, "height")))
        if width or height:
            return width, height
    return None, None
