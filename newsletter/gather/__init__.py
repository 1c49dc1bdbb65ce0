"""`newsletter gather`: the week's posts from the publication's feeds and WordPress sites, as article files.

``gather()`` reads top to bottom: choose the sources, then for each one fetch its posts
(feed.py or wordpress.py through client.py), keep those dated in the range and wanted by its
filters, turn each into an article file (article.py, html_to_markdown.py) and place it in
content/ (writer.py, ledger.py), never over the editor's own changes. A source that cannot be
read is reported and the others go on; the run then ends with exit 1 (docs/sources.md).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import httpx
from msgspec import Struct, field

from newsletter.config import Config, SourceSettings
from newsletter.errors import OutputError, SourceError, SourceErrors, shown
from newsletter.weeks import Period, Selection, resolve

if TYPE_CHECKING:
    from newsletter.gather.client import Client
    from newsletter.gather.post import Post
    from newsletter.gather.writer import Placed

__all__ = ["gather", "GatherResult"]

Echo = Callable[[str], Any]


class GatherResult(Struct):
    """What a run did: every placed article by action, the posts skipped, the sources that failed."""

    period: Period
    dry_run: bool
    placed: list[Placed] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[SourceError] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for p in self.placed if p.action == action)


def gather(
    config: Config,
    selection: Selection,
    *,
    source_names: Sequence[str] = (),
    dry_run: bool = False,
    echo: Echo = click.echo,
    warn: Echo | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: datetime | None = None,
) -> GatherResult:
    """Gather the posts dated in the selected days into ``config.content_dir``.

    Results go to ``echo`` (stdout), warnings to ``warn`` (stderr). Raises ``SourceError`` (one
    source failed) or ``SourceErrors`` (several) after the other sources were gathered; a bad
    ``--source`` is a click.UsageError. ``transport`` and ``sleep`` let tests talk to a local
    server and see the back-off without waiting.
    """
    from newsletter.gather.article import Malformed, article_of
    from newsletter.gather.client import Client, HttpCache, user_agent
    from newsletter.gather.html_to_markdown import CONTROLS
    from newsletter.gather.ledger import STATE_DIR, Ledger
    from newsletter.gather.sources import left_out_by, select_sources, source_where
    from newsletter.gather.writer import Placer

    warn = warn or (lambda text: click.echo(text, err=True))
    period = resolve(selection, config.tz, now)
    sources = select_sources(config, source_names)
    content_dir = config.content_dir
    result = GatherResult(period, dry_run)
    verb = "Would gather" if dry_run else "Gathering"
    echo(f"{verb} posts dated {period.start} to {period.end} into {shown(content_dir)}/")
    with _lock(content_dir / STATE_DIR, dry_run):
        ledger = Ledger(content_dir)
        if ledger.problem:
            warn(f"Warning: {ledger.problem}.")
        cache = HttpCache(content_dir / STATE_DIR / "http", read_only=dry_run)
        placer = Placer(content_dir, ledger, period, dry_run=dry_run)
        with Client(user_agent(config.publication.url), cache, transport=transport, sleep=sleep) as client:
            for source in sources:
                where = source_where(config, source)

                def note(text: str, name: str = source.name) -> None:
                    warn(f"Note: {name}: {text}")

                try:
                    posts = _fetch(client, source, period, config, note)
                except SourceError as error:  # reported at the end, with the others
                    result.failed.append(SourceError(error.source, error.detail, where))
                    echo(f"{source.name}: could not be read (see below)")
                    continue
                finally:
                    _save_cache(cache, warn)
                in_range = [p for p in posts if p.published is None or _day(p.published, config) in period]
                in_range.sort(key=lambda p: p.published.timestamp() if p.published else 0, reverse=True)
                kept, filtered = [], 0
                for post in in_range:
                    if left_out_by(post, source) is None:
                        kept.append(post)
                    else:
                        filtered += 1
                over = kept[source.limit :] if source.limit else []
                kept = kept[: source.limit] if source.limit else kept
                echo(_source_line(source, len(kept), filtered, len(over)))
                for post in kept:
                    try:
                        article = article_of(post, source, config)
                    except Malformed as problem:
                        where = CONTROLS.sub("", post.where)  # a feed's text must not drive the terminal
                        result.skipped.append(where)
                        warn(f"Warning: {source.name}: skipped {where}: it {problem}.")
                        continue
                    placed = placer.place(article)
                    result.placed.append(placed)
                    _tell(placed, dry_run, echo, warn)
    _summary(result, echo)
    if len(result.failed) == 1:
        raise result.failed[0]
    if result.failed:
        closing = "The other sources were gathered." if len(result.failed) < len(sources) else ""
        raise SourceErrors(result.failed, closing)
    return result


def _day(moment: datetime, config: Config) -> date:
    """The day of a moment where the newsroom is."""
    return moment.astimezone(config.tz).date()


def _fetch(client: Client, source: SourceSettings, period: Period, config: Config, note: Echo) -> list[Post]:
    from newsletter.gather.feed import feed_posts
    from newsletter.gather.wordpress import wordpress_posts

    reader = wordpress_posts if source.type == "wordpress" else feed_posts
    return reader(client, source, period, config, note)


def _save_cache(cache: Any, warn: Echo) -> None:
    try:
        cache.save()
    except (OSError, OutputError) as error:  # only a cache: the next run asks again in full
        warn(f"Warning: the download cache cannot be saved ({error}).")


@contextlib.contextmanager
def _lock(folder: Path, dry_run: bool) -> Iterator[None]:
    """One gather at a time per content folder (two would both think a new post is theirs to write)."""
    if dry_run:
        yield
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows: no advisory locks; run one gather at a time)
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / "lock").open("a")
    except OSError as error:
        raise OutputError(
            f"cannot write to {shown(folder)}: {error.strerror or error}. Check the content folder's permissions."
        ) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise OutputError(
                f"another `newsletter gather` is writing to {shown(folder.parent)}. Wait for it to finish."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _source_line(source: SourceSettings, kept: int, filtered: int, over: int) -> str:
    line = f"{source.name}: {kept} post{'s' if kept != 1 else ''} in range"
    extra = []
    if filtered:
        extra.append(f"{filtered} left out by its filters")
    if over:
        extra.append(f"{over} over its limit of {source.limit}")
    return f"{line} ({', '.join(extra)})" if extra else line


def _tell(placed: Placed, dry_run: bool, echo: Echo, warn: Echo) -> None:
    where = shown(placed.path)
    if placed.action == "kept" and placed.site_changed is False:
        echo(f"  {'kept':<12} {where} (your edits; the post is unchanged on the site)")
        return
    if placed.action == "kept" and placed.note == "read-only":
        warn(
            f"Warning: kept {where}: it is read-only, and the post has changed on the site "
            f"({placed.article.link or placed.article.source_id}). To take the site's version, make it writable "
            "(chmod u+w) and gather again."
        )
        return
    if placed.action == "kept":
        why = (
            "you changed it since it was gathered, and the post has changed on the site since"
            if placed.site_changed
            else "it differs from the post on the site and there is no record of what was gathered, so it is yours"
        )
        warn(
            f"Warning: kept {where}: {why} ({placed.article.link or placed.article.source_id}). To take the "
            "site's version instead, move your file away (or delete it) and gather again."
        )
        return
    if placed.action == "duplicate":
        warn(f"Note: {placed.article.source}: {placed.article.link or placed.article.source_id} is {placed.note} "
             f"({where}).")
        return
    words = {"new": "would write" if dry_run else "wrote", "updated": "would update" if dry_run else "updated",
             "unchanged": "unchanged"}
    line = f"  {words[placed.action]:<12} {where}"
    if placed.previous is not None:
        line += f" (was {shown(placed.previous)})"
    echo(line)


def _summary(result: GatherResult, echo: Echo) -> None:
    parts = [f"{result.count(a)} {a}" for a in ("new", "updated", "unchanged", "kept") if result.count(a)]
    if result.skipped:
        parts.append(f"{len(result.skipped)} skipped")
    verb = "Dry run, nothing written" if result.dry_run else "Gathered"
    echo(f"{verb}: {', '.join(parts) if parts else 'no posts'}.")
