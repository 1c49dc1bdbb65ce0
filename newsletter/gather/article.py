"""A post -> the text of its article file: YAML front matter and a CommonMark body (docs/formats.md).

The file is a pure function of the post and the settings: no time of gathering, no counters, so
gathering the same post twice gives the same bytes, and a post changed on the site gives a
different file.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import PurePosixPath
from typing import Any

import yaml
from msgspec import Struct

from newsletter.config import Config, SourceSettings, primary_language
from newsletter.gather.html_to_markdown import (
    APPEARED_FIRST,
    escape_inline,
    escape_line_start,
    html_text,
    image_alt,
    image_size,
    post_markdown,
)
from newsletter.gather.post import Post
from newsletter.gather.sources import section_for, slugify
from newsletter.tracking import remove_utm

# What marks a cut excerpt: WordPress's " [&hellip;]", "...", "…", and a "Continue reading" tail.
_CUT = re.compile(r"\s*(?:\[(?:…|\.\.\.)\]|…|\.\.\.)?\s*(?:(?:continue reading|read more)\b.*)?$", re.IGNORECASE)
# Front matter keys `newsletter gather` adds to the build's own (content.FRONT_MATTER_KEYS).
GATHER_KEYS = ("source", "source_id")


class _Dumper(yaml.SafeDumper):
    """YAML as the sample articles write it: one key a line, tags as a [flow, list]."""


_Dumper.add_representer(
    list, lambda dumper, value: dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)
)


class Malformed(Exception):
    """A post that cannot become an article: no title, no date, no content."""


class ArticleFile(Struct, frozen=True):
    """An article as gather would write it: where (under the content folder) and what."""

    source: str
    source_id: str
    link: str
    day: date
    slug: str
    text: str

    @property
    def path(self) -> PurePosixPath:
        """``YYYY/MM/YYYY-MM-DD-<slug>.md`` under the content folder."""
        return PurePosixPath(f"{self.day:%Y}", f"{self.day:%m}", f"{self.day.isoformat()}-{self.slug}.md")

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")


def article_of(post: Post, source: SourceSettings, config: Config) -> ArticleFile:
    """The article file for ``post``; ``Malformed`` says why there can be none."""
    if post.problem:
        raise Malformed(post.problem)
    if not post.title:
        raise Malformed("has no title")
    if post.published is None:
        raise Malformed("has no date")
    drop = [re.compile(pattern, re.IGNORECASE) for pattern in source.drop_paragraphs]
    base = post.base_url or post.link
    body = post_markdown(post.html, base, config.headings, title=post.title, drop=drop)
    if not body.strip():
        raise Malformed("has no content (nothing is left once scripts, embeds and share buttons are removed)")
    day = post.published.astimezone(config.tz).date()
    slug = post.slug or slugify(post.title) or slugify(post.id.rsplit("/", 1)[-1]) or "post"
    # The post's own address: a feed plugin's campaign parameters (?utm_source=rss) would
    # otherwise ride along into the email and claim its clicks for the feed ([tracking] never
    # overwrites a parameter a link has).
    link = remove_utm(post.link)
    meta: dict[str, Any] = {"title": post.title, "date": day}
    if link:
        meta["url"] = link
    section = section_for(post, source, config.theme.sections)
    if section:
        meta["section"] = section
    if post.author:
        meta["author"] = post.author
    summary = excerpt_text(post.summary_html, post.html, base, drop)
    if summary:
        meta["summary"] = escape_line_start(escape_inline(summary))  # the build reads it as inline Markdown
    if post.image:
        meta["image"] = post.image
        alt = post.image_alt or image_alt(post.html, base, post.image)
        if alt:
            meta["image_alt"] = alt
        # Its size, so the email shows it in its own proportions (content.py: image_width, image_height)
        width, height = post.image_width, post.image_height
        if width is None and height is None:
            width, height = image_size(post.html, base, post.image)
        if width:
            meta["image_width"] = width
        if height:
            meta["image_height"] = height
    # A source's own language tag is written only where it differs from the publication's: the
    # build already takes the publication's for the rest, and detects Vietnamese by itself.
    same = primary_language(post.lang) == primary_language(config.publication.language)
    lang = source.lang or (None if same else post.lang)
    if lang:
        meta["lang"] = lang
    tags = [t.name for t in post.tags] or [c.name for c in post.categories if c.slug != "uncategorized"]
    if tags:
        meta["tags"] = list(dict.fromkeys(tags))
    meta["source"] = source.name
    meta["source_id"] = post.id
    front = yaml.dump(meta, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000, default_flow_style=False)
    return ArticleFile(source.name, post.id, link, day, slug[:80], f"---\n{front}---\n\n{body}\n")


def excerpt_text(excerpt_html: str, body_html: str, base: str, drop: list[re.Pattern[str]]) -> str:
    """The post's excerpt as plain text, or "" when it is only the story's opening cut short.

    WordPress makes an excerpt from the first 55 words when the author wrote none; as the email's
    lede that would be a truncated first paragraph, so the build's own lede (the first paragraph,
    whole) is better.
    """
    text = html_text(excerpt_html, base, drop)
    if not text or APPEARED_FIRST.match(text):
        return ""
    text = _CUT.sub("", text).strip()
    words = text.casefold().split()
    opening = html_text(body_html, base, drop).casefold().split()[: len(words)]  # read only when needed
    return "" if not words or words == opening else text
