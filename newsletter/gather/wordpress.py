"""A WordPress site's posts from its REST API: ``/wp-json/wp/v2/posts?_embed``, page by page.

Reference: https://developer.wordpress.org/rest-api/reference/posts/ (the post fields, the
``after``/``before``/``page``/``per_page`` arguments) and .../using-the-rest-api/pagination/
(``X-WP-Total``, ``X-WP-TotalPages``). ``_embed`` adds ``_embedded``: ``author``,
``wp:featuredmedia`` and ``wp:term`` (one list per taxonomy), so one request per page suffices.
A site without pretty permalinks answers at ``/?rest_route=/wp/v2/posts`` instead; that is
tried when ``/wp-json/`` is not found.

WordPress compares ``after``/``before`` with the post's date in the site's own time zone, which
we do not know: the range asked for is a day wider on each side, and each post is then kept by
its ``date_gmt`` converted to the publication's time zone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from newsletter.config import Config, SourceSettings
from newsletter.errors import SourceError
from newsletter.gather.client import Client, Fetched, server_message, status_error
from newsletter.gather.html_to_markdown import absolute, html_text
from newsletter.gather.post import Post, Term, pixels
from newsletter.gather.sources import slugify
from newsletter.weeks import Period

PER_PAGE = 100  # the REST API's maximum
IDEAL_IMAGE_WIDTH = 1200  # twice the email's 600 px column, for sharp pictures on high-density screens
WHAT = "WordPress REST API"


def wordpress_posts(
    client: Client, source: SourceSettings, period: Period, config: Config, note: Callable[[str], None]
) -> list[Post]:
    """The site's published posts around ``period`` (filtered to it exactly by the caller)."""
    site = source.url.rstrip("/")
    query = {
        "_embed": "1",
        "per_page": str(PER_PAGE),
        "orderby": "date",
        "order": "desc",
        "after": f"{period.start - timedelta(days=1)}T00:00:00",
        "before": f"{period.end + timedelta(days=2)}T00:00:00",
    }
    endpoints = [(f"{site}/wp-json/wp/v2/posts", {}), (f"{site}/", {"rest_route": "/wp/v2/posts"})]
    endpoint, extra = endpoints[0]
    posts: list[Post] = []
    page, pages = 1, 1
    while page <= pages:
        fetched = client.get(endpoint, source, accept="application/json", params={**extra, **query, "page": str(page)})
        if page == 1 and endpoint == endpoints[0][0] and _no_api(fetched):
            endpoint, extra = endpoints[1]  # a site without pretty permalinks
            continue
        if page == 1 and _no_api(fetched):
            raise SourceError(
                source.name,
                f"{site} has no WordPress REST API (/wp-json/ answered {fetched.status}, not the posts). Check that "
                f"url is the site's home page; if the site is not WordPress or has its API switched off, read its "
                f'feed instead: type = "feed" with url = "{site}/feed/".',
            )
        if fetched.status == 400 and "invalid_page_number" in fetched.body.decode("utf-8", "replace"):
            break  # the site has fewer pages than it said a moment ago
        if not 200 <= fetched.status < 300:
            raise status_error(source, fetched, WHAT)
        if page == 1 and fetched.moved_to:
            note(f"{site} redirects to {fetched.moved_to}: update url in [sources.{source.name}].")
        items = _items(fetched, source)
        posts += [post_of(item, site, source, config) for item in items if isinstance(item, dict)]
        if page == 1:
            pages = _total_pages(fetched)
            if pages > source.max_pages:
                note(
                    f"the site has {pages} pages of posts for this range; only the first {source.max_pages} "
                    "were read (max_pages)."
                )
                pages = source.max_pages
        page += 1
    return posts


def _no_api(fetched: Fetched) -> bool:
    """A 404, or a web page where JSON was expected: what a site without the REST API answers."""
    if fetched.status == 404:
        return True
    return 200 <= fetched.status < 300 and fetched.content_type == "text/html"


def _items(fetched: Fetched, source: SourceSettings) -> list[Any]:
    try:
        data = json.loads(fetched.body)
    except ValueError:
        raise SourceError(
            source.name,
            f"{fetched.url} answered with something that is not JSON ({len(fetched.body):,} bytes, "
            f"{fetched.content_type or 'no content type'}). A plugin or the host may be in the way; "
            "try again later, or read the site's feed instead.",
        ) from None
    if not isinstance(data, list):
        said = server_message(fetched)
        raise SourceError(
            source.name,
            f"{fetched.url} answered with JSON that is not a list of posts{': ' + said if said else ''}.",
        )
    return data


def _total_pages(fetched: Fetched) -> int:
    value = fetched.headers.get("x-wp-totalpages", "1").strip()
    return max(1, int(value)) if value.isascii() and value.isdigit() else 1  # "²".isdigit() is true too


def _rendered(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if isinstance(value, dict):
        value = value.get("rendered")
    return value if isinstance(value, str) else ""


def _published(item: dict[str, Any], config: Config) -> datetime | None:
    gmt, local = item.get("date_gmt"), item.get("date")
    try:
        if isinstance(gmt, str) and gmt:
            return datetime.fromisoformat(gmt.removesuffix("Z")).replace(tzinfo=UTC)
        if isinstance(local, str) and local:  # no GMT date: the site's zone is unknown, take the publication's
            return datetime.fromisoformat(local).replace(tzinfo=config.tz)
    except ValueError:
        return None
    return None


def post_of(item: dict[str, Any], site: str, source: SourceSettings, config: Config) -> Post:
    """One REST post (with ``_embedded``) as a Post; missing fields stay empty for article.py to report."""
    embedded = item.get("_embedded") if isinstance(item.get("_embedded"), dict) else {}
    assert isinstance(embedded, dict)
    link = str(item.get("link") or "")
    yoast = item.get("yoast_head_json")
    if isinstance(yoast, dict) and str(yoast.get("canonical", "")).startswith(("https://", "http://")):
        link = str(yoast["canonical"])
    content = item.get("content") if isinstance(item.get("content"), dict) else {}
    assert isinstance(content, dict)
    image, alt, width, height = _featured(embedded, link or site)
    categories, tags = _terms(embedded)
    post_id = item.get("id")
    guid = _rendered(item, "guid") or (f"{site}/?p={post_id}" if post_id is not None else link)
    slug = item.get("slug")
    return Post(
        source=source.name,
        id=guid,
        link=link,
        title=html_text(_rendered(item, "title")),
        published=_published(item, config),
        html=_rendered(item, "content"),
        summary_html=_rendered(item, "excerpt"),
        base_url=link or f"{site}/",
        author=_author(embedded),
        categories=categories,
        tags=tags,
        image=image,
        image_alt=alt,
        image_width=width,
        image_height=height,
        lang=str(item["lang"]) if isinstance(item.get("lang"), str) and item["lang"] else None,  # Polylang
        slug=slugify(unquote(slug)) if isinstance(slug, str) and slug else None,
        problem="is password-protected" if content.get("protected") is True else "",
    )


def _first(embedded: dict[str, Any], key: str) -> dict[str, Any]:
    """The first embedded object under ``key``, unless it is an error (e.g. rest_forbidden for private media)."""
    values = embedded.get(key)
    first = values[0] if isinstance(values, list) and values else None
    return first if isinstance(first, dict) and "code" not in first else {}


def _author(embedded: dict[str, Any]) -> str | None:
    name = _first(embedded, "author").get("name")
    return html_text(name) or None if isinstance(name, str) else None


def _featured(embedded: dict[str, Any], base: str) -> tuple[str | None, str | None, int | None, int | None]:
    """The featured image: the smallest size at least IDEAL_IMAGE_WIDTH wide, else the largest;
    its alt text, and the width and height of the size chosen (``media_details.sizes.<size>``,
    or ``media_details`` itself for the original file), when WordPress gives them.

    https://developer.wordpress.org/rest-api/reference/media/ (``media_details``, ``alt_text``)
    """
    media = _first(embedded, "wp:featuredmedia")
    if not media or str(media.get("media_type", "image")) != "image":
        return None, None, None, None
    choices: list[tuple[int, str, int | None]] = []
    details = media.get("media_details")
    details = details if isinstance(details, dict) else {}
    sizes = details.get("sizes")
    if isinstance(sizes, dict):
        for size in sizes.values():
            if isinstance(size, dict) and (width := pixels(size.get("width"))) and size.get("source_url"):
                choices.append((width, str(size["source_url"]), pixels(size.get("height"))))
    wide = sorted((c for c in choices if c[0] >= IDEAL_IMAGE_WIDTH), key=lambda c: c[:2])
    chosen = wide[0] if wide else max(choices, key=lambda c: c[:2]) if choices else None
    if chosen is not None:
        url, width, height = chosen[1], chosen[0], chosen[2]
    else:  # the original file, whose size media_details states
        url, width, height = str(media.get("source_url") or ""), pixels(details.get("width")), pixels(
            details.get("height"))
    alt = html_text(str(media.get("alt_text") or "")) or None
    found = absolute(url, base, ("http", "https"))
    return (found, alt, width, height) if found else (None, alt, None, None)


def _terms(embedded: dict[str, Any]) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
    categories: list[Term] = []
    tags: list[Term] = []
    groups = embedded.get("wp:term")
    for group in groups if isinstance(groups, list) else []:
        for term in group if isinstance(group, list) else []:
            if not isinstance(term, dict) or not term.get("name"):
                continue
            name = html_text(str(term["name"]))
            made = Term(name, unquote(str(term.get("slug") or "")) or slugify(name))
            if term.get("taxonomy") == "category":
                categories.append(made)
            elif term.get("taxonomy") == "post_tag":
                tags.append(made)
    return tuple(categories), tuple(tags)
