"""What a built email shows and points to: its links, images and visible text, read with a real HTML parser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from msgspec import Struct

# Characters the text writer and the theme put inside words on purpose (to break merge-tag
# syntax or pad the preheader); a reader sees none of them, so a search must not either.
INVISIBLE = dict.fromkeys(map(ord, "\u2060\u200b\u200c\u200d\ufeff\u00ad\u034f"), None)
# A URL in the plain-text part: up to white space; trailing punctuation belongs to the sentence.
_TEXT_URL = re.compile(r"\b(?:https?://|mailto:|tel:)[^\s<>\"]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\"»”’"
_HIDDEN_CONTENT = {"style", "script", "head", "template"}
_VOID = {"br", "img", "hr", "wbr", "input", "meta", "link", "source", "col", "area", "base", "embed", "track"}


class Anchor(Struct, frozen=True):
    """An ``<a href>``: where it goes, the words it shows (an image's alt when it holds one), its line in the HTML."""

    href: str
    words: str
    line: int


class Image(Struct, frozen=True):
    """An ``<img>`` (each ``srcset`` candidate counts as one too)."""

    src: str
    alt: str | None
    line: int


class Scan(Struct, frozen=True):
    """The email as a checker reads it: both parts' visible text and every address they hold."""

    anchors: tuple[Anchor, ...]
    images: tuple[Image, ...]
    html_text: str  # the HTML's visible text (and alt text), one chunk per line
    text_part: str  # the plain-text part with its URLs taken out
    text_urls: tuple[str, ...]  # the URLs of the plain-text part, in order

    def visible(self) -> str:
        """Everything a reader can see in either part, URLs left out."""
        return f"{self.html_text}\n{self.text_part}"

    def urls(self) -> list[tuple[str, str]]:
        """(url, "link" or "image") for every address in the email, first occurrence first, no repeats."""
        seen: dict[str, str] = {}
        for image in self.images:
            seen.setdefault(image.src, "image")
        for anchor in self.anchors:
            seen.setdefault(anchor.href, "link")
        for url in self.text_urls:
            seen.setdefault(url, "link")
        return list(seen.items())


def scan_email(html: str, text: str) -> Scan:
    """Parse both parts; entities are decoded, comments (Outlook's conditional blocks included) skipped."""
    parser = _Parser()
    parser.feed(html)
    parser.close()
    # An address inside code (`curl https://api.example.org/…`) is part of a sample, shown as
    # text in both parts: not a link the editor made, so neither a placeholder nor fetched.
    code = "\n".join(parser.code)
    urls = [url for m in _TEXT_URL.finditer(text) if (url := _trim(m.group(0))) not in code]
    text_only = _TEXT_URL.sub(" ", text).translate(INVISIBLE)
    return Scan(tuple(parser.anchors), tuple(parser.images), "\n".join(parser.chunks).translate(INVISIBLE),
                text_only, tuple(urls))


def words(text: str) -> str:
    """Text as a reader takes it in: invisible characters gone, white space collapsed."""
    return " ".join(text.translate(INVISIBLE).split())


def _trim(url: str) -> str:
    while url and url[-1] in _TRAILING:
        url = url[:-1]
    # A closing bracket ends the URL unless the URL opened it (Wikipedia's "Foo_(bar)").
    while url.endswith((")", "]")) and url.count(url[-1]) > url.count("(" if url[-1] == ")" else "["):
        url = url[:-1]
    return url


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[Anchor] = []
        self.images: list[Image] = []
        self.chunks: list[str] = []
        self._hidden = 0  # depth inside <style>, <script>, <head>
        self.code: list[str] = []  # the text of code: <code>, and a code block's <div class="pre">
        self._code: list[str] = []  # the open elements, innermost last, while inside code
        self._open: list[tuple[str, int, list[str]]] = []  # open <a>: href, line, words so far

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        line = self.getpos()[0]
        opens_code = tag in ("code", "pre") or (tag == "div" and "pre" in values.get("class", "").split())
        if (self._code or opens_code) and tag not in _VOID:
            self._code.append(tag)
        if tag in _HIDDEN_CONTENT:
            self._hidden += 1
        elif tag == "a" and "href" in values:
            self._open.append((values["href"].strip(), line, []))
        elif tag == "img":
            self._image(values, line)
        elif tag == "source" and values.get("srcset"):
            for candidate in _srcset(values["srcset"]):
                self.images.append(Image(candidate, None, line))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def _image(self, values: dict[str, str], line: int) -> None:
        alt = values.get("alt")
        if values.get("src", "").strip():
            self.images.append(Image(values["src"].strip(), alt, line))
        for candidate in _srcset(values.get("srcset", "")):
            self.images.append(Image(candidate, alt, line))
        if alt and not self._hidden:
            self.chunks.append(alt)
            for _, _, collected in self._open:
                collected.append(alt)

    def handle_endtag(self, tag: str) -> None:
        if self._code and tag in self._code:
            while self._code and self._code.pop() != tag:
                pass
        if tag in _HIDDEN_CONTENT:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "a" and self._open:
            href, line, collected = self._open.pop()
            self.anchors.append(Anchor(href, words(" ".join(collected)), line))

    def handle_data(self, data: str) -> None:
        if self._hidden or not data.strip():
            return
        if self._code:
            self.code.append(data)
        self.chunks.append(data)
        for _, _, collected in self._open:
            collected.append(data)

    def close(self) -> None:
        super().close()
        while self._open:  # an <a> never closed still counts
            self.handle_endtag("a")


def _srcset(value: str) -> list[str]:
    return [part.strip().split()[0] for part in value.split(",") if part.strip()]
