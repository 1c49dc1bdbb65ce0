"""The archive's machine-readable files: an Atom feed (RFC 4287) and a sitemap (sitemaps.org 0.9)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from msgspec import Struct

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


class Entry(Struct, frozen=True):
    """One edition in the feed. ``content`` is HTML (sent escaped, ``type="html"``); links may be relative."""

    id: str  # a permanent IRI: tag:<host>,<date>:<name>/<key> (RFC 4151), never reused
    title: str
    link: str
    updated: datetime
    published: datetime
    summary: str
    content: str
    content_base: str  # xml:base for the relative links inside content


class Feed(Struct, frozen=True):
    """The feed itself: ``self_link`` is its own public address (None while the archive has no URL)."""

    id: str
    title: str
    subtitle: str
    author: str
    link: str  # the archive's index page
    self_link: str | None
    lang: str
    updated: datetime


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC, whole seconds: ``2026-11-29T18:00:00Z``."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom(feed: Feed, entries: Sequence[Entry]) -> bytes:
    """The Atom document: id, title, updated, author and links on the feed; id, title, updated, link on each entry."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": feed.lang})
    _text(root, "id", feed.id)
    _text(root, "title", feed.title)
    if feed.subtitle:
        _text(root, "subtitle", feed.subtitle)
    _text(root, "updated", timestamp(feed.updated))
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    _text(author, "name", feed.author)
    ET.SubElement(root, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html", "href": feed.link})
    if feed.self_link:
        ET.SubElement(root, f"{{{ATOM}}}link", {"rel": "self", "type": "application/atom+xml", "href": feed.self_link})
    ET.SubElement(root, f"{{{ATOM}}}generator").text = "newsletter"
    for entry in entries:
        node = ET.SubElement(root, f"{{{ATOM}}}entry")
        _text(node, "id", entry.id)
        _text(node, "title", entry.title)
        ET.SubElement(node, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html", "href": entry.link})
        _text(node, "published", timestamp(entry.published))
        _text(node, "updated", timestamp(entry.updated))
        if entry.summary:
            _text(node, "summary", entry.summary)
        content = ET.SubElement(node, f"{{{ATOM}}}content", {"type": "html", XML_BASE: entry.content_base})
        content.text = entry.content
    return _document(root)


def sitemap(urls: Sequence[tuple[str, datetime | None]]) -> bytes:
    """A sitemap of absolute URLs, each with its last modification day when known."""
    ET.register_namespace("", SITEMAP)
    root = ET.Element(f"{{{SITEMAP}}}urlset")
    for url, modified in urls:
        node = ET.SubElement(root, f"{{{SITEMAP}}}url")
        ET.SubElement(node, f"{{{SITEMAP}}}loc").text = url
        if modified is not None:
            ET.SubElement(node, f"{{{SITEMAP}}}lastmod").text = timestamp(modified)
    return _document(root)


def _text(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{name}").text = value


def _document(root: ET.Element) -> bytes:
    ET.indent(root, space=" ")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"
