"""RSS 2.0, RSS 1.0 and Atom feeds -> posts: fetched by client.py, parsed by feedparser.

feedparser reads the XML (CDATA, entity-encoded HTML, xml:base, Media RSS, Dublin Core). Relative
links in a post are made absolute by our own sanitiser, like every source's, against the
xml:base in effect or else the post's own address (not the feed's: a feed may live elsewhere),
so feedparser's resolving and sanitising of HTML are switched off. A feed that is an RFC 5005
paged feed is followed through its ``rel="next"`` links until the range is covered.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import feedparser

from newsletter.config import Config, SourceSettings
from newsletter.errors import SourceError
from newsletter.gather.client import Client, Fetched, status_error
from newsletter.gather.html_to_markdown import absolute, html_text, parse
from newsletter.gather.post import Post, Term
from newsletter.gather.sources import slugify
from newsletter.weeks import Period

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, "
    "text/xml;q=0.8, */*;q=0.1"
)
HTML_TYPES = ("text/html", "application/xhtml+xml")
# A complete feed ends by closing its root element; a body cut off mid-way does not.
_ROOT_CLOSED = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|RDF)\s*>\s*$", re.IGNORECASE)
_IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif)(?:$|\?)", re.IGNORECASE)


def feed_posts(
    client: Client, source: SourceSettings, period: Period, config: Config, note: Callable[[str], None]
) -> list[Post]:
    """Every post of the feed (following RFC 5005 next pages while they may hold the range)."""
    url: str | None = source.url
    posts: list[Post] = []
    seen: set[str] = set()
    pages = 0
    while url and url not in seen:
        seen.add(url)
        pages += 1
        fetched = client.get(url, source, accept=ACCEPT)
        if not 200 <= fetched.status < 300:
            raise status_error(source, fetched, "feed")
        if fetched.moved_to and pages == 1:
            note(f"{source.url} has moved to {fetched.moved_to}: update url in [sources.{source.name}].")
        parsed = parse_feed(fetched, source)
        language = str(parsed.get("feed", {}).get("language") or "") or None
        page_posts = [post_of(entry, fetched.url, source, language) for entry in parsed.get("entries", [])]
        posts += page_posts
        dates = [p.published for p in page_posts if p.published is not None]
        oldest = min(dates).astimezone(config.tz).date() if dates else None
        following = _next_page(parsed, fetched.url)
        if oldest is None or oldest < period.start or following is None:
            if oldest is not None and oldest > period.start and following is None and len(page_posts) > 1:
                note(
                    f"the feed's oldest post is from {oldest}, after {period.start}: posts before it may be missing "
                    "(a feed holds only the latest posts; a WordPress site can be read with type = \"wordpress\")."
                )
            break
        if pages >= source.max_pages:
            note(f"read {pages} pages of the feed (max_pages); older posts were not read.")
            break
        url = following
    return posts


def parse_feed(fetched: Fetched, source: SourceSettings) -> Any:
    """feedparser's result for a fetched answer; a body that is not a whole feed is a SourceError."""
    parsed = feedparser.parse(
        io.BytesIO(fetched.body),  # bytes, never a str: feedparser would treat a str as a URL or a path
        response_headers={
            "content-location": fetched.url,
            "content-type": fetched.headers.get("content-type", "application/xml"),
        },
        resolve_relative_uris=False,  # html_to_markdown.sanitise does both, the same way for every source
        sanitize_html=False,
    )
    if not parsed.get("version"):
        raise SourceError(source.name, f"{fetched.url} is not a feed: {_what_it_is(fetched)}")
    if parsed.get("bozo") and not _ROOT_CLOSED.search(fetched.body.rstrip()):
        raise SourceError(
            source.name,
            f"the feed at {fetched.url} ends before it is complete (the answer was cut off after "
            f"{len(fetched.body):,} bytes). Nothing from this source was written; run `newsletter gather` again later.",
        )
    return parsed


def _what_it_is(fetched: Fetched) -> str:
    """What a non-feed answer is, and the feed it points to when it is a web page that names one."""
    body = fetched.body[:2_000_000]
    head = body.lstrip()[:200].lower()
    if fetched.content_type == "text/html" or head.startswith((b"<!doctype html", b"<html")):
        soup = parse(body.decode("utf-8", "replace"))
        feeds = [
            urljoin(fetched.url, str(link["href"]))
            for link in soup.find_all("link", href=True)
            if "alternate" in (link.get("rel") or []) and str(link.get("type", "")).lower() in _FEED_TYPES
        ]
        if feeds:
            return f'it is a web page. It names its feed: set url = "{feeds[0]}".'
        if b"/wp-content/" in body or b"wp-json" in body:
            home = f"{urlsplit(fetched.url).scheme}://{urlsplit(fetched.url).netloc}/"
            return f'it is a web page of a WordPress site: use type = "wordpress" with url = "{home}".'
        return "it is a web page. Open the site and look for its RSS or Atom feed's address."
    if fetched.content_type == "application/json":
        return 'it is JSON. For a WordPress site use type = "wordpress" with the site\'s home page as url.'
    return f"its answer ({fetched.content_type or 'no content type'}) is not RSS or Atom. Check the url."


_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")


def _next_page(parsed: Any, base: str) -> str | None:
    for link in parsed.get("feed", {}).get("links", []):
        if link.get("rel") == "next" and link.get("href"):
            return urljoin(base, str(link["href"]))
    return None


def post_of(entry: Any, feed_url: str, source: SourceSettings, feed_language: str | None) -> Post:
    """One feed entry as a Post (fields it lacks stay empty; article.py reports what is missing)."""
    link = str(entry.get("feedburner_origlink") or entry.get("link") or "")
    contents = [c for c in entry.get("content", []) if c.get("value")]
    best = next((c for c in contents if c.get("type") in HTML_TYPES), contents[0] if contents else None)
    summary = entry.get("summary_detail") or {}
    if best is not None:
        html = _as_html(str(best.get("value", "")), str(best.get("type", "")))
        base = _base(best, link, feed_url)
        excerpt = str(summary.get("value") or "")
        excerpt_html = _as_html(excerpt, str(summary.get("type", ""))) if excerpt != best.get("value") else ""
        language = best.get("language")
    else:  # a feed of excerpts: the description is all there is
        html = _as_html(str(summary.get("value") or ""), str(summary.get("type", "")))
        base = _base(summary, link, feed_url)
        excerpt_html = ""
        language = summary.get("language")
    title_detail = entry.get("title_detail") or {}
    title = str(entry.get("title") or "")
    title = html_text(title) if title_detail.get("type") in HTML_TYPES else " ".join(title.split())
    image = _image(entry, base)
    terms = tuple(
        Term(" ".join(name.split()), slugify(name))
        for tag in entry.get("tags", [])
        if (name := html_text(str(tag.get("label") or tag.get("term") or "")))
    )
    return Post(
        source=source.name,
        id=str(entry.get("id") or link),
        link=link,
        title=title,
        # dict.get: feedparser's own get maps a missing updated_parsed to published_parsed, with a warning
        published=_when(dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")),
        html=html,
        summary_html=excerpt_html,
        base_url=base,
        author=_author(entry),
        categories=terms,
        image=image,
        lang=str(language or "") or feed_language,
        slug=_slug_of(link),
    )


def _base(detail: Any, link: str, feed_url: str) -> str:
    """What relative links in a post are relative to: its xml:base, else its own address, else the feed's."""
    base = str(detail.get("base") or "")
    return base if base and base != feed_url else (link or feed_url)


def _as_html(value: str, kind: str) -> str:
    """Text content as paragraphs of HTML; HTML content as it is."""
    if kind in HTML_TYPES or not kind:
        return value
    return "".join(f"<p>{escape(p.strip())}</p>" for p in re.split(r"\n\s*\n", value) if p.strip())


def _when(parsed: Any) -> datetime | None:
    """feedparser's UTC time tuple as an aware datetime."""
    if not parsed:
        return None
    try:
        return datetime(*parsed[:6]).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _author(entry: Any) -> str | None:
    detail = entry.get("author_detail") or {}
    name = html_text(str(detail.get("name") or entry.get("author") or ""))
    return name or None


def _image(entry: Any, base: str) -> str | None:
    """The post's picture: Media RSS content, else an image enclosure, else a Media RSS thumbnail."""
    candidates: list[str] = []
    for media in entry.get("media_content", []):
        kind = f"{media.get('medium', '')} {media.get('type', '')}".lower()
        url = str(media.get("url") or "")
        if "image" in kind or (not kind.strip() and _IMAGE_FILE.search(url)):
            candidates.append(url)
    for link in entry.get("enclosures", []):
        if str(link.get("type", "")).lower().startswith("image/"):
            candidates.append(str(link.get("href") or ""))
    candidates += [str(t.get("url") or "") for t in entry.get("media_thumbnail", [])]
    for candidate in candidates:
        found = absolute(candidate, base, ("http", "https"))
        if found:
            return found
    return None


def _slug_of(link: str) -> str | None:
    """The last path segment of the post's address, when it reads like a slug."""
    path = unquote(urlsplit(link).path).rstrip("/")
    last = path.rsplit("/", 1)[-1]
    last = re.sub(r"\.(?:html?|php|aspx?)$", "", last, flags=re.IGNORECASE)
    slug = slugify(last)
    return slug if slug and not slug.isdigit() and slug not in ("index", "feed") else None
