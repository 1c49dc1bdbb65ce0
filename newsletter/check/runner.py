"""check_issue(): what a careful editor checks before a send, as findings that say where and what to do.

The pipeline: build if the edition is missing or older than its sources → read both parts
→ offline rules (settings, leftovers, size, subject, link words, stories) → SpamAssassin and
the links over HTTP, side by side → drop the warnings the publication ignores on purpose.
`newsletter export` runs the same check through ``preflight`` and refuses what it refuses.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import click
import httpx
from msgspec import Struct
from msgspec.structs import replace

from newsletter.build import BuildResult, build_issue, standalone_links
from newsletter.check.findings import Finding, Location, Report, silence
from newsletter.check.inputs import (
    HTML_NAME,
    JSON_NAME,
    TEXT_NAME,
    Edition,
    Sources,
    StoryRef,
    built_at,
    changed_since_build,
    recorded_files,
)
from newsletter.check.linkcheck import (
    BROKEN,
    CACHE_NAME,
    LARGE_IMAGE_BYTES,
    REDIRECT,
    UNAVAILABLE,
    UNCHECKED,
    UNRESOLVABLE,
    LinkChecker,
    LinkResult,
    Progress,
    user_agent,
)
from newsletter.check.rules import allowed_host, is_placeholder_host, offline_findings, url_host
from newsletter.check.scan import Scan, scan_email
from newsletter.config import Config
from newsletter.errors import CheckFailed, ContentError, NewsletterError, shown
from newsletter.links import acts_on_subscription
from newsletter.tracking import as_written
from newsletter.weeks import Period, Selection, resolve

Echo = Callable[[str], Any]
SPAM_THRESHOLD = 3.0
# Merge tags of the mailing services (matched after percent-decoding): *|UNSUB|*, {{ x }}, {% x %}, %%x%%, [[x]], {$x}.
_MERGE_TAG = re.compile(r"\*\||\|\*|\{\{|\}\}|\{%|%\}|%%|\[\[|\]\]|\{\$|<%")


# -- the pipeline ----------------------------------------------------------------------------


def check_issue(config: Config, selection: Selection, *, links: bool = True, echo: Echo | None = None,
                progress: Progress | None = None, transport: httpx.AsyncBaseTransport | None = None) -> Report:
    """Build the edition if it is missing or stale (saying why), then check it."""
    notice = echo or _stderr
    period = resolve(selection, config.tz)
    folder = config.out_dir / period.key
    changed = stale_sources(config, period)
    edition = None if changed is None or changed else read_edition(folder, config)
    if edition is None:
        if changed:
            notice(describe_changes(period.key, changed))
        # --strict is the check's to apply: the build's warnings become findings, not a failure.
        result = build_issue(replace(config, strict=False), selection)
        notice(f"Built {shown(result.folder)} ({len(result.issue.stories)} stories)")
        edition = edition_of(result, config)
    return check_edition(config, edition, links=links, progress=progress, transport=transport)


class OfflineCheck(Struct, frozen=True):
    """The rules that need no network, run once on one edition, with what they read (to reuse for the rest)."""

    scan: Scan
    sources: Sources
    findings: tuple[Finding, ...]


def check_offline(config: Config, edition: Edition) -> OfflineCheck:
    """The offline rules on a built edition: its links found, its sources read, their findings."""
    scan = scan_email(edition.html, edition.text)
    sources = Sources(config, edition.folder, edition.stories)
    return OfflineCheck(scan, sources, tuple(offline_findings(config, edition, scan, sources)))


def check_edition(config: Config, edition: Edition, *, links: bool = True, spam: bool = True,
                  save_cache: bool = True, progress: Progress | None = None,
                  transport: httpx.AsyncBaseTransport | None = None, stop: threading.Event | None = None,
                  offline: OfflineCheck | None = None) -> Report:
    """Every rule on a built edition; SpamAssassin runs while the links are checked.

    ``offline``: the offline rules already run on this edition (``check_offline``), not run again;
    the preview shows them first, then the whole report.
    """
    offline = offline or check_offline(config, edition)
    scan, sources = offline.scan, offline.sources
    findings = list(offline.findings)
    notes: list[str] = []
    counts: dict[str, Any] = {"found": len(scan.urls())}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="spamassassin") as pool:
        scored = pool.submit(spam_findings, config, edition) if spam else None
        if links:
            found, counts = link_findings(config, edition, scan, sources, save_cache=save_cache, progress=progress,
                                          transport=transport, stop=stop)
            findings += found
        else:
            notes.append("links and images were not fetched (--no-links)")
        if scored is not None:
            spam_found, note = scored.result()
            findings += spam_found
            notes += [note] if note else []
    kept, ignored = silence(findings, config.check.ignore)
    return Report(edition.key, kept, ignored, tuple(notes), counts)


# -- the edition -------------------------------------------------------------------------------


def edition_of(result: BuildResult, config: Config) -> Edition:
    """A fresh build as the check reads it: with the real footer links a standalone send would carry."""
    email = result.email.with_links(standalone_links(config, result.period.key))
    stories = tuple(StoryRef(s.id, s.headline, s.url, s.source, s.has_analysis, s.has_impact)
                    for s in result.issue.stories)
    return Edition(result.period.key, result.folder, email.subject, email.preheader, email.html, email.text,
                   email.lang, stories, result.recorded_warnings)  # as issue.json has them


def read_edition(folder: Path, config: Config) -> Edition | None:
    """The edition as the last build left it in ``folder``, or None when its files are missing or damaged.

    The three files are read from the build folder ``.current`` names at this moment, not through
    their links one by one, so a build switching ``.current`` meanwhile (the preview's) cannot pair
    one build's issue.json with another's email.html.
    """
    from newsletter.writer import current_build

    built = folder / (current_build(folder) or "")
    try:
        data = json.loads((built / JSON_NAME).read_text("utf-8"))
        sources = recorded_files((s["source"] for s in data["stories"]), config.root)
        stories = tuple(StoryRef(str(s["id"]), str(s["headline"]), str(s["url"]), source,
                                 bool(s["has_analysis"]), bool(s["has_impact"]))
                        for s, source in zip(data["stories"], sources, strict=True))
        return Edition(folder.name, folder, str(data["subject"]), str(data.get("preheader") or ""),
                       (built / HTML_NAME).read_text("utf-8"), (built / TEXT_NAME).read_text("utf-8"),
                       config.publication.language, stories, tuple(str(w) for w in data.get("warnings", [])))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def stale_sources(config: Config, period: Period) -> list[Path] | None:
    """The sources changed since the edition's last build ([] when fresh), or None when it was never built."""
    from newsletter.content import article_files, name_date, read_article

    folder = config.out_dir / period.key
    when = built_at(folder)
    if when is None:
        return None

    def in_period(path: Path) -> bool:
        if name_date(path) in period:
            return True  # article_files has already passed over the names dated further off
        try:  # undated by its name, or named for a day beside the period: its own date decides
            if path.stat().st_mtime <= when:
                return False  # unchanged: if it belongs to the edition, issue.json lists it
            return read_article(path, config.headings).date in period
        except (OSError, ContentError):
            return True  # unreadable now: the build will say why

    return changed_since_build(config, folder, [p for p in article_files(config.content_dir, period) if in_period(p)])


def describe_changes(key: str, changed: list[Path]) -> str:
    named = [shown(p) + ("" if p.exists() else " (deleted)") for p in changed[:8]]
    more = f" and {len(changed) - 8} more" if len(changed) > 8 else ""
    return f"Rebuilding {key}: changed since its last build: {', '.join(named)}{more}."


# -- SpamAssassin ----------------------------------------------------------------------------


def spam_findings(config: Config, edition: Edition) -> tuple[list[Finding], str | None]:
    """([spam-score] or nothing, a note when SpamAssassin could not give a score)."""
    from newsletter.check.spam import ENV, score_message, spamassassin_command
    from newsletter.mime import build_message, message_bytes
    from newsletter.models import RenderedEmail

    command = spamassassin_command()
    if command is None:
        return [], f"the spam score was not checked (SpamAssassin is not installed or {ENV} is off)"
    links = standalone_links(config, edition.key)
    email = RenderedEmail(edition.subject, edition.preheader, edition.html, edition.text, edition.lang, links)
    result = score_message(message_bytes(build_message(email, config, edition.key)), command)
    if isinstance(result, str):
        return [], result
    if result.score < SPAM_THRESHOLD:
        return [], None
    rules = ", ".join(f"{name} {points:+.1f}" for points, name, _ in result.rules if points > 0)
    return [Finding("spam-score", f"SpamAssassin scores the message {result.score:.1f} (rules: {rules or 'none'}).",
                    Location())], None


# -- links -------------------------------------------------------------------------------------


def fetch_plan(config: Config, key: str, urls: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], Counter[str]]:
    """(the addresses to fetch, why each other one is not): never an unsubscribe, preferences or merge-tag link."""
    standalone = standalone_links(config, key)
    never = {standalone.unsubscribe, standalone.preferences}
    fetch: list[tuple[str, str]] = []
    skipped: Counter[str] = Counter()
    for url, kind in urls:
        lowered = url.lower()
        host = url_host(url)
        if not lowered.startswith(("http://", "https://")):
            skipped["not web addresses (mailto:, tel:)"] += 1
        elif _MERGE_TAG.search(unquote(url)):
            skipped["holding a merge tag"] += 1
        elif url in never or (kind == "link" and acts_on_subscription(url)):
            skipped["unsubscribe or preferences links, which can act when opened"] += 1
        elif url == standalone.view_online:
            skipped["web version, published with the send"] += 1
        elif allowed_host(host, config.check.allow_hosts):
            skipped["on hosts in [check] allow_hosts"] += 1
        elif is_placeholder_host(host):
            skipped["on placeholder hosts (errors above)"] += 1
        else:
            fetch.append((url, kind))
    return fetch, skipped


def link_findings(config: Config, edition: Edition, scan: Scan, sources: Sources, *, save_cache: bool = True,
                  progress: Progress | None = None, transport: httpx.AsyncBaseTransport | None = None,
                  stop: threading.Event | None = None) -> tuple[list[Finding], dict[str, Any]]:
    """Fetch what may be fetched and turn each answer into a finding where there is something to say."""
    urls = scan.urls()
    fetch, skipped = fetch_plan(config, edition.key, urls)
    checker = LinkChecker(user_agent=user_agent(config.publication.url), timeout=config.check.timeout,
                          time_limit=config.check.time_limit, cache=edition.folder / CACHE_NAME,
                          save_cache=save_cache, transport=transport, progress=progress, stop=stop)
    results = checker.check(fetch) if fetch else []
    counts: dict[str, Any] = {"found": len(urls), "fetched": sum(not r.cached for r in results),
                              "cached": sum(r.cached for r in results), "not_fetched": sum(skipped.values()),
                              "why_not_fetched": dict(sorted(skipped.items()))}
    findings: list[Finding] = []
    unchecked: list[LinkResult] = []
    reported: set[tuple[str, Location, str | None]] = set()
    for result in results:
        if result.outcome == UNCHECKED:
            unchecked.append(result)
            continue
        finding = finding_for(result, sources)
        # one link written once may be fetched twice: each story's copy has its own utm_content
        if finding is not None and (finding.code, finding.where, finding.url) not in reported:
            reported.add((finding.code, finding.where, finding.url))
            findings.append(finding)
    if unchecked:
        findings.append(Finding("link-unchecked", f"{len(unchecked)} of {len(results)} addresses were not checked "
                                f"within {config.check.time_limit} s ([check] time_limit), e.g. {unchecked[0].url}.",
                                Location(edition.folder / HTML_NAME), url=unchecked[0].url))
    return findings, counts


def finding_for(result: LinkResult, sources: Sources) -> Finding | None:
    """What one fetched address calls for, located in the sources; None when it is fine."""
    what = "Image" if result.kind == "image" else "Link"
    where = sources.locate_url(result.url)
    # With [tracking] on, the build added utm_* parameters: name the address the editor wrote.
    url = as_written(result.url, sources.config.tracking)
    if result.outcome == BROKEN:
        return Finding(f"{result.kind}-broken", f"{what} {url} {result.detail}.", where, url=url)
    if result.outcome == UNRESOLVABLE:
        return Finding(f"{result.kind}-unresolvable", f"{what} {url} {result.detail}.", where, url=url)
    if result.outcome == UNAVAILABLE:
        return Finding("link-unavailable", f"{what} {url} {result.detail}.", where, url=url)
    if result.kind == "image" and result.size is not None and result.size > LARGE_IMAGE_BYTES:
        size = "more than 1 MB" if result.size == LARGE_IMAGE_BYTES + 1 else f"{result.size / 1_000_000:.1f} MB"
        return Finding("image-large", f"Image {url} is {size}.", where, url=url)
    if result.outcome == REDIRECT and result.final_url and result.final_url != result.url:
        final = as_written(result.final_url, sources.config.tracking)
        return Finding("link-redirect", f"{what} {url} redirects to {final}.", where,
                       hint=f"Link to {final} instead.", url=url)
    return None


# -- the command line and export -----------------------------------------------------------


def run(load: Callable[[], Config], selection: Selection, *, links: bool, strict: bool, as_json: bool) -> None:
    """`newsletter check`: the report on stdout (text or JSON); exit 1 when it fails.

    ``load`` reads the settings. With ``as_json``, stdout is always one report: settings or an
    edition that cannot be used (an article, issue.toml, an empty week) become its error
    findings (``check.failure``), and the error is also told on stderr as without --json.
    """
    load = _with_export_settings(load)
    if as_json:
        report, strict = _json_report(load, selection, links=links, strict=strict)
        click.echo(json.dumps(report.to_json(strict), ensure_ascii=False, indent=2))
        if report.failed(strict):
            raise click.exceptions.Exit(1)
        return
    config = load()
    report = check_issue(config, selection, links=links, progress=terminal_progress())
    strict = strict or config.strict
    for line in report.lines():
        click.echo(line)
    if report.errors:
        raise CheckFailed(f"{report.summary()}: fix the errors before exporting.")
    if strict and report.warnings:
        raise CheckFailed(f"{report.summary()}: --strict makes every warning an error.")


def _with_export_settings(load: Callable[[], Config]) -> Callable[[], Config]:
    """``load``, then every [export.<service>] table checked as export checks it: what export would
    refuse at its line, the check refuses first."""
    def loaded() -> Config:
        config = load()
        if any(name != "default" for name in config.export):  # only then: the services cost ~50 ms to import
            from newsletter.export import check_export_settings

            check_export_settings(config)
        return config
    return loaded


def _json_report(load: Callable[[], Config], selection: Selection, *, links: bool,
                 strict: bool) -> tuple[Report, bool]:
    """(the report, whether it is strict): the check's, or the failure's when the edition cannot be built."""
    from newsletter.check.failure import failure_report

    config: Config | None = None
    try:
        config = load()
        strict = strict or config.strict
        return check_issue(config, selection, links=links, progress=terminal_progress()), strict
    except NewsletterError as error:
        error.show()  # on stderr, as without --json
        key = resolve(selection, (config or Config()).tz).key
        return failure_report(error, key), strict


def preflight(config: Config, result: BuildResult, *, links: bool, force: bool, save_cache: bool,
              echo: Echo | None = None, dry_run: bool = False) -> list[str]:
    """`newsletter export`'s check of the build it is about to send; errors stop it unless ``force``.

    A ``dry_run`` sends nothing, so its errors are listed and it goes on: the editor sees the
    findings and the requests together. Returns the codes of the errors ``force`` let through
    (to record in exports.json).
    """
    say = echo or _stderr
    report = check_edition(config, edition_of(result, config), links=links, save_cache=save_cache,
                           progress=terminal_progress())
    already = {"build-warning", "story-no-analysis", "story-no-impact"}  # the build printed these
    for finding in report.warnings:
        if finding.code not in already:
            say(f"Warning: {finding.where.describe()}: {finding.message} [{finding.code}]")
    if not report.errors:
        return []
    listed = "\n".join(_finding_lines(report.errors))
    if dry_run and not force:
        say(f"The check found {report.summary()}; a real export would stop here:\n{listed}")
        return []
    if not force:
        raise CheckFailed(f"the check found {report.summary()}; nothing was exported.\n{listed}\n"
                          "Fix them (`newsletter check` lists them again), or export anyway with --force "
                          "(recorded in exports.json).")
    say(f"--force: exporting despite {len(report.errors)} error{'s' if len(report.errors) != 1 else ''}:\n{listed}")
    return sorted({f.code for f in report.errors})


def _finding_lines(findings: tuple[Finding, ...]) -> list[str]:
    return [f"  {f.where.describe()}: {f.message} [{f.code}]\n      {f.fix}" for f in findings]


def announce_changes(config: Config, selection: Selection, echo: Echo | None = None) -> None:
    """Before export rebuilds: name the sources changed since the last build (nothing if never built)."""
    period = resolve(selection, config.tz)
    changed = stale_sources(config, period)
    say: Echo = echo or _stderr
    if changed:
        say(describe_changes(period.key, changed))


def terminal_progress() -> Progress | None:
    """A one-line progress counter on stderr, only when it is a terminal (never in logs or pipes)."""
    stream = sys.stderr
    if not stream.isatty():
        return None

    def show(done: int, total: int) -> None:
        stream.write("\r\033[K" if done >= total else f"\rChecking links and images: {done}/{total}\033[K")
        stream.flush()

    return show


def _stderr(text: str) -> None:
    click.echo(text, err=True)
