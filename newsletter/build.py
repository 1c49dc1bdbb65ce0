"""build_issue(): the weekly pipeline, top to bottom, one line per stage."""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from msgspec import Struct, field
from msgspec.structs import replace

from newsletter.check.inputs import recorded_paths, source_files
from newsletter.config import Config
from newsletter.content import latest_article_date, load_articles
from newsletter.errors import ContentError, ContentErrors, EmptySelection, StrictFailure, plural, printable, shown
from newsletter.manifest import apply_manifest, save_manifest, sync_manifest
from newsletter.models import Issue, Links, RenderedEmail
from newsletter.pairing import pair_stories
from newsletter.tracking import track_view
from newsletter.weeks import Period, Selection, resolve, week_of
from newsletter.writer import edition_lock, write_edition

HTML_NAME, TEXT_NAME, JSON_NAME, MANIFEST_NAME = "email.html", "email.txt", "issue.json", "issue.toml"


class BuildResult(Struct, frozen=True):
    """What a build made: the issue, the email (links still placeholders) and where it went."""

    issue: Issue
    email: RenderedEmail
    folder: Path
    period: Period
    sizes: dict[str, int]
    skipped: tuple[ContentError, ...] = ()
    manifest_created: bool = False
    stories_added: tuple[str, ...] = field(default_factory=tuple)
    manifest_text: str = ""  # the issue.toml this edition was built from (with the stories it appended)
    # The warnings as issue.json records them: files named from the workspace's root, not the current folder.
    recorded_warnings: tuple[str, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.issue.warnings


def build_issue(
    config: Config,
    selection: Selection,
    *,
    skip_invalid: bool = False,
    now: datetime | None = None,
    write: bool = True,
) -> BuildResult:
    """Articles on disk -> issues/<key>/email.html, email.txt, web.html, issue.json (and issue.toml once).

    A build that writes holds the edition's lock (``writer.edition_lock``) from reading the
    articles to writing the files, so two builds of one edition (two commands, or the preview's
    rebuild and a command) take turns and the later one's files are the ones left.
    """
    period = resolve(selection, config.tz, now)
    with edition_lock(config.out_dir / period.key) if write else contextlib.nullcontext():
        return _build(config, period, skip_invalid=skip_invalid, write=write)


def _build(config: Config, period: Period, *, skip_invalid: bool, write: bool) -> BuildResult:
    """The pipeline, top to bottom: load, pair, manifest, render, inline, text, write."""
    from newsletter.inline import inline_css  # the rendering stack loads only when building
    from newsletter.presentation import present_issue
    from newsletter.render import render_email
    from newsletter.text import plain_text
    from newsletter.web import WEB_NAME, render_web

    if not config.content_dir.is_dir():
        raise EmptySelection(
            f"No articles: the content folder {shown(config.content_dir)} does not exist. "
            "Create it and put article files in it, or point --content "
            "(or [build] content_dir in newsletter.toml) at your articles."
        )
    articles, problems = load_articles(config.content_dir, period, config.headings, config.tz)
    if problems and not skip_invalid:
        raise ContentErrors(problems)
    if not articles:
        raise _empty(config, period)
    stories, warnings = pair_stories(articles, config)
    folder = config.out_dir / period.key
    manifest = sync_manifest(folder / MANIFEST_NAME, period, stories, config)
    issue = apply_manifest(manifest, period, stories, [*warnings, *manifest.warnings])
    if not issue.stories:
        raise EmptySelection(
            f"{shown(manifest.path)}: every story of {period.key} is left out (include = false) or unknown. "
            "Set include = true on at least one [[stories]] block."
        )
    view = present_issue(issue, config, manifest.path, manifest.intro_line)  # what both parts show, decided once
    if view.warnings:
        issue = replace(issue, warnings=(*issue.warnings, *view.warnings))
    if config.strict and issue.warnings:
        raise StrictFailure(_strict_message(issue.warnings))
    placeholders = _placeholders()
    tracked, tracked_config = track_view(view, issue, config)  # [tracking]: UTM parameters on every article link
    html = inline_css(render_email(tracked, tracked_config, placeholders))
    text = plain_text(tracked, tracked_config, placeholders)
    email = RenderedEmail(issue.subject, issue.preheader, html, text, config.publication.language, placeholders)
    links = standalone_links(config, period.key)
    standalone = email.with_links(links)
    files = {HTML_NAME: standalone.html.encode(), TEXT_NAME: standalone.text.encode()}
    files[WEB_NAME] = render_web(issue, config, links, view).encode()  # the web archive's page (newsletter.web)
    sources = source_files(config, [article.path for article in articles], folder)
    skipped = problems if skip_invalid else []
    record = _recorder(config.root, [manifest.path, *(a.path for a in articles), *sources, *(e.path for e in skipped)])
    recorded = tuple(map(record, issue.warnings))
    files[JSON_NAME] = _issue_json(issue, recorded, files, [record(e.describe()) for e in skipped], sources,
                                   config.root).encode()
    sizes = {name: len(data) for name, data in files.items()}
    if manifest.changed:
        sizes[MANIFEST_NAME] = len(manifest.text.encode())
    if write:  # `newsletter export --dry-run` builds in memory only
        # issue.toml first, so its time never postdates the built files' (`newsletter check`
        # compares them); by compare-and-swap, so an edit saved meanwhile is kept
        save_manifest(manifest, stories)
        write_edition(folder, files)  # one step: the old edition or the new one, never a mix
    return BuildResult(
        issue,
        email,
        folder,
        period,
        sizes,
        tuple(problems),
        manifest.created,
        manifest.added if manifest.writable else (),  # a read-only issue.toml was left alone (warned)
        manifest.text,
        recorded,
    )


def standalone_links(config: Config, key: str) -> Links:
    """The footer's links in a build that no mailing service will touch."""
    links = config.links
    return Links(
        *(url.replace("{key}", key) for url in (links.unsubscribe, links.preferences, links.view_online))
    )


def _placeholders() -> Links:
    nonce = secrets.token_hex(6)
    return Links(
        *(f"https://placeholder.invalid/{nonce}/{name}" for name in ("unsubscribe", "preferences", "view-online"))
    )


def _empty(config: Config, period: Period) -> EmptySelection:
    latest = latest_article_date(config.content_dir, config.tz)
    where = f"in {shown(config.content_dir)}"
    if latest is None:
        return EmptySelection(
            f"No articles {where}. Add .txt or .md article files there, or point --content at your articles."
        )
    hint = week_of(latest).key
    return EmptySelection(
        f"No articles dated {period.start} to {period.end} {where}. "
        f"The most recent articles are in week {hint}: try `newsletter build --week {hint}`."
    )


def _strict_message(warnings: tuple[str, ...]) -> str:
    lines = [f"--strict: the build has {plural(len(warnings), 'warning', 'warnings')}:"]
    return "\n".join([*lines, *(f"  {w}" for w in warnings), "Fix them, or build without --strict."])


def _recorder(root: Path, paths: list[Path]) -> Callable[[str], str]:
    """A warning as issue.json records it: the file it opens with (one of ``paths``, as ``shown`` names
    it from the current folder) named from the workspace's ``root`` instead, so the record is the same
    whatever folder the build ran in. Text that opens with none of them is kept as it is."""
    named: dict[str, str] = {}  # as shown -> as issue.json names it (printable, like shown)

    def record(text: str) -> str:
        if not named:  # only a build with something to record pays for naming its files
            ordered = paths[::-1]  # the first of two paths shown alike wins, as before
            named.update(zip(map(shown, ordered), map(printable, recorded_paths(ordered, root)), strict=True))
        for colon in (i for i, char in enumerate(text) if char == ":"):
            recorded = named.get(text[:colon])
            if recorded is not None:
                return recorded + text[colon:]
        return text

    return record


def _issue_json(issue: Issue, warnings: tuple[str, ...], files: dict[str, bytes], skipped: list[str],
                sources: list[Path], root: Path) -> str:
    """issue.json's text. Files (``source``, ``sources``) are named from the workspace's ``root`` when
    inside it (check.inputs.recorded_paths), so moving or cloning the workspace keeps the record true."""
    recorded = recorded_paths([*(s.source for s in issue.stories), *sources], root)
    data: dict[str, Any] = {
        "key": issue.key,
        "start": issue.start.isoformat(),
        "end": issue.end.isoformat(),
        "number": issue.number,
        "subject": issue.subject,
        "preheader": issue.preheader,
        "stories": [
            {
                "id": s.id,
                "headline": s.headline,
                "url": s.url,
                "date": s.date.isoformat(),
                "section": s.section,
                "lang": s.lang,
                "source": recorded[index],
                "has_analysis": s.has_analysis,
                "has_impact": s.has_impact,
            }
            for index, s in enumerate(issue.stories)
        ],
        "warnings": list(warnings),
        "skipped": skipped,
        "sizes": {name: len(data) for name, data in files.items()},
        # Every file this build read: `newsletter check` and export rebuild when one changes or goes.
        "sources": recorded[len(issue.stories):],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def report(result: BuildResult, echo: Callable[[str], Any], echo_error: Callable[[str], Any] | None = None) -> None:
    """Tell the editor what the build did, warnings first so they are not missed.

    Skipped files and warnings go to ``echo_error`` (stderr on the command line), what was
    built to ``echo`` (stdout).
    """
    warn = echo_error or echo
    for error in result.skipped:
        warn(f"Skipped {error.describe()}")
    for warning in result.warnings:
        warn(printable(f"Warning: {warning}"))
    issue = result.issue
    echo(f"Built {shown(result.folder)} ({plural(len(issue.stories), 'story', 'stories')}, "
         f"{issue.start} to {issue.end})")
    if result.manifest_created:
        echo(f"  wrote {shown(result.folder / MANIFEST_NAME)}: edit it to reorder stories or change the subject")
    for story_id in result.stories_added:
        echo(printable(f"  added new story {story_id} at the end of {MANIFEST_NAME}"))
    echo(f"  {HTML_NAME} {result.sizes[HTML_NAME] / 1000:.1f} kB, {TEXT_NAME} {result.sizes[TEXT_NAME] / 1000:.1f} kB")
