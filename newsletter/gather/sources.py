"""Which sources a run reads, which of their posts it keeps, and the section each post gets."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import click

from newsletter.config import Config, SourceSettings, line_of
from newsletter.errors import ConfigError, shown
from newsletter.gather.post import Post, Term
from newsletter.manual import see
from newsletter.tracking import slug

EXAMPLE = """[sources.site]
type = "wordpress"                 # or "feed" for an RSS or Atom feed
url = "https://www.example.org/"   # the site's home page; for a feed, the feed's address"""


def select_sources(config: Config, names: Sequence[str]) -> list[SourceSettings]:
    """The sources to read: those named with --source, else every enabled one.

    An unknown name is wrong usage (click.UsageError, exit 2); no source at all, or a chosen
    source whose url holds a user name or password, is a ConfigError.
    """
    where = shown(config.path) if config.path else "newsletter.toml"
    if not config.sources:
        raise ConfigError(
            f"{where}: no sources to gather from. Add a [sources.<name>] table for your site, e.g.\n{EXAMPLE}\n"
            f"{see('sources')}"
        )
    unknown = [name for name in names if name not in config.sources]
    if unknown:
        known = ", ".join(sorted(config.sources))
        raise click.UsageError(f"--source {unknown[0]}: no [sources.{unknown[0]}] in {where}. Known sources: {known}.")
    if names:
        chosen = [config.sources[name] for name in dict.fromkeys(names)]
    else:
        chosen = [source for source in config.sources.values() if source.enabled]
    if not chosen:
        raise ConfigError(
            f"{where}: every source is disabled (enabled = false). Enable one, or name it with --source NAME."
        )
    for source in chosen:
        _refuse_credentials(config, source)
    return chosen


def _refuse_credentials(config: Config, source: SourceSettings) -> None:
    """A user name or password in a source's address is refused before anything is fetched.

    Secrets never belong in newsletter.toml, and an address is repeated in messages and keys
    the download cache on disk; the message does not repeat it.
    """
    try:
        parts = urlsplit(source.url)
    except ValueError:
        return  # not an address at all: the request says so, naming the source
    if parts.username is None and parts.password is None:
        return
    host = parts.hostname or "the site"
    raise ConfigError(
        f"{line_of(config.path, f'sources.{source.name}', 'url')}: [sources.{source.name}] url holds a user name or "
        f"password (before '@{host}'). Secrets never belong in newsletter.toml: remove them from the address. "
        "newsletter gather reads what the site shows every reader (its feed or REST API); if the site asks for "
        "a password, ask its administrator to open the feed to this tool."
    )


def source_where(config: Config, source: SourceSettings) -> str:
    """'newsletter.toml:12', where the source's table is, for messages."""
    return line_of(config.path, f"sources.{source.name}")


def left_out_by(post: Post, source: SourceSettings) -> str | None:
    """Why the source's filters leave the post out, or None when it is kept.

    In a feed, categories and tags are one list (RSS ``<category>``, Atom ``<category term>``),
    so both kinds of filter match it.
    """
    categories, tags = post.categories, post.tags
    if source.type == "feed":
        categories = tags = (*post.categories, *post.tags)
    checks: list[tuple[str, tuple[str, ...], tuple[Term, ...], bool]] = [
        ("categories", source.include_categories, categories, True),
        ("tags", source.include_tags, tags, True),
        ("categories", source.exclude_categories, categories, False),
        ("tags", source.exclude_tags, tags, False),
    ]
    for kind, wanted, terms, include in checks:
        if not wanted:
            continue
        hit = next((w for w in wanted if any(term.matches(w) for term in terms)), None)
        if include and hit is None:
            return f"none of its {kind} is in include_{kind}"
        if not include and hit is not None:
            return f"{kind} '{hit}' is in exclude_{kind}"
    return None


def section_for(post: Post, source: SourceSettings, sections: dict[str, str]) -> str | None:
    """The section slug of a post, from its categories.

    In order: the source's ``sections`` table (category name or slug -> section); a category
    whose slug is a [theme.sections] key or whose name is one of its labels; the source's
    ``section``; and, when the publication has no [theme.sections], the first category's slug.
    """
    for term in post.categories:
        for category, section in source.sections.items():
            if term.matches(category):
                return section
    labels = {label.casefold(): slug for slug, label in sections.items()}
    for term in post.categories:
        if term.slug in sections:
            return term.slug
        if term.name.strip().casefold() in labels:
            return labels[term.name.strip().casefold()]
    if source.section:
        return source.section
    if not sections:
        return next((t.slug for t in post.categories if t.slug and t.slug != "uncategorized"), None)
    return None


def slugify(text: str, limit: int = 80) -> str:
    """A file-name slug at most ``limit`` long: 'Tết ở Sài Gòn' -> 'tet-o-sai-gon' (tracking.slug, cut)."""
    return slug(text)[:limit].rstrip("-")
