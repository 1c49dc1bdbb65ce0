"""build_archive(): the built editions as a static web site: a page each, an index, an Atom feed, a sitemap.

The archive publishes what `newsletter build` made and builds nothing itself: each edition's
page is its ``issues/<key>/web.html`` as built, and the index and the feed come from its
``issue.json``. So the site shows exactly the editions the editor built and checked (a build
also writes issue.toml and may add stories, which publishing must never do); rebuild an
edition to change its page. Layout of the site (``[archive] dir``, default ``site/``)::

    index.html            every edition, newest first
    <key>/index.html      one edition (its web.html)
    feed.xml              Atom, the newest [archive] feed_entries editions with their content
    sitemap.xml           every page (needs [archive] url: a sitemap holds absolute URLs)
    .newsletter-archive.json   what was written from what (hashes), so later runs skip the rest
    .newsletter-archive.lock   held by the run writing the site (writer.edition_lock): runs take turns

Every link between the pages is relative and names its file (``../index.html``), so the site
works from any sub-path of a web server and opened from disk. Only what changed is written,
each file atomically (newsletter.writer), pages before the index that links to them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from msgspec import Struct, field

from newsletter.config import Config
from newsletter.errors import OutputError, ThemeError, shown
from newsletter.feed import Entry, Feed, atom, sitemap, timestamp
from newsletter.manual import see
from newsletter.tracking import slug
from newsletter.web import WEB_LABELS, WEB_NAME, page_url, subscribe_url
from newsletter.writer import current_build, edition_lock, write_file

JSON_NAME = "issue.json"
STATE_NAME = ".newsletter-archive.json"
LOCK_NAME = ".newsletter-archive.lock"  # held while a run writes the site: two runs take turns
INDEX_TEMPLATE = "archive.html.j2"
INDEX, FEED, SITEMAP = "index.html", "feed.xml", "sitemap.xml"
KEY = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}")  # an edition's folder name, as the preview accepts it
_BODY = re.compile(rb"<body\b[^>]*>(.*)</body\s*>", re.DOTALL | re.IGNORECASE)
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)  # MSO conditionals: nothing for a feed reader


class Edition(Struct, frozen=True):
    """One built edition as the archive reads it: issue.json's facts and where its web.html is."""

    key: str
    start: date
    end: date
    number: int | None
    subject: str
    preheader: str
    headlines: tuple[tuple[str, str | None], ...]  # (headline, lang) in the edition's order, lead first
    web: Path  # the web.html of the build in use, where it lies (.builds/<id>/web.html, see _read_editions)
    folder: Path  # issues/<key>/

    @property
    def shown_web(self) -> str:
        """How messages name the page: ``issues/<key>/web.html``, the path the editor knows."""
        return shown(self.folder / WEB_NAME)

    @property
    def href(self) -> str:
        return f"{self.key}/{INDEX}"


class ArchiveResult(Struct):
    """What a run did; paths are relative to the site folder."""

    folder: Path
    editions: list[Edition]
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def build_archive(config: Config, out: Path | None = None, *, now: datetime | None = None) -> ArchiveResult:
    """issues/*/web.html + issue.json -> the site in ``out`` (default ``[archive] dir``), writing only what changed.

    Raises OutputError when the folder cannot be written, holds files that no archive run
    made, or another run keeps it for over a minute (two runs take turns); ThemeError for a
    broken archive.html.j2.
    """
    site = (out or config.archive_dir).resolve()
    with edition_lock(site, name=LOCK_NAME, note_holder=False):  # a run with nothing to do changes no file
        return _build_archive(config, site, (now or datetime.now(UTC)).replace(microsecond=0))


def _build_archive(config: Config, site: Path, now: datetime) -> ArchiveResult:
    state = _load_state(site)
    loaded = json.dumps(state, sort_keys=True) + "\n"  # no indent: the C encoder
    base = config.archive.base_url
    result = ArchiveResult(site, [])
    editions = _read_editions(config, result.warnings)
    result.editions = editions
    known: dict[str, Any] = state.setdefault("editions", {})
    if base != state.get("base_url"):
        for record in known.values():  # the pages' addresses changed: read every page again
            record["web"] = None

    bodies: dict[str, bytes] = {}
    for edition in editions:
        record = known.get(edition.key, {})
        data = _page(edition, record, site / edition.key / INDEX)
        if data is None:
            continue  # unchanged since the last run, and the page on disk is the one written then
        digest = _hash(data)
        if base and f"{base}{edition.key}/" not in data.decode("utf-8", "replace"):
            result.warnings.append(
                f"{edition.shown_web} was built for another [archive] url: its canonical and Open Graph "
                f"addresses are wrong. Rebuild it: newsletter build {_selection(edition)}")
        target = site / edition.key / INDEX
        if digest != record.get("hash") or _stat(target) != record.get("page"):
            write_file(target, data)
            result.written.append(f"{edition.key}/{INDEX}")
            record = {**record, "hash": digest, "updated": timestamp(now)}
            record.setdefault("published", timestamp(now))
        known[edition.key] = {**record, "web": _stat(edition.web), "page": _stat(target)}
        bodies[edition.key] = data

    files: dict[str, bytes] = {}
    feed_count = config.archive.feed_entries or len(editions)
    in_feed = editions[:feed_count]
    for edition in in_feed:
        if edition.key not in bodies:
            bodies[edition.key] = edition.web.read_bytes()
    files[FEED] = _feed(config, in_feed, known, bodies, state, now)
    if base:
        files[SITEMAP] = sitemap([(base, _latest(editions, known)),
                                  *((f"{base}{e.key}/", _when(known[e.key]["updated"])) for e in editions)])
    else:
        result.warnings.append(
            "[archive] url is not set: no sitemap.xml, no canonical addresses, and the feed's links are relative. "
            "Set it in newsletter.toml to the address the site will be published at.")
    files[INDEX] = _index(config, editions)  # last: it links to the pages written above
    written_files: dict[str, Any] = state.setdefault("files", {})
    for name, data in files.items():
        target = site / name
        digest = _hash(data)
        if written_files.get(name, {}).get("hash") == digest and _stat(target) == written_files[name].get("stat"):
            continue
        write_file(target, data)
        result.written.append(name)
        written_files[name] = {"hash": digest, "stat": _stat(target)}

    current = {e.key for e in editions}
    for key in sorted(set(known) - current):
        # Only the page of an edition whose folder is gone from issues/ is taken down; an edition
        # skipped with a warning keeps the page it had.
        if not (config.out_dir / key).is_dir() and KEY.fullmatch(key):
            shutil.rmtree(site / key, ignore_errors=True)
            result.removed.append(f"{key}/")
            del known[key]
    state["base_url"] = base
    text = json.dumps(state, sort_keys=True) + "\n"  # no indent: the C encoder
    if text != loaded:
        write_file(site / STATE_NAME, text)
    return result


def report(result: ArchiveResult, echo: Callable[[str], Any], warn: Callable[[str], Any]) -> None:
    """What the run did, to ``echo``; warnings to ``warn`` (stderr)."""
    for warning in result.warnings:
        warn(f"Warning: {warning}")
    count = len(result.editions)
    pages = sum(1 for name in result.written if name.endswith(f"/{INDEX}"))
    others = [name for name in result.written if "/" not in name]
    echo(f"Archive {shown(result.folder)}: {count} edition{'s' if count != 1 else ''}, "
         f"{pages} page{'s' if pages != 1 else ''} written, {count - pages} unchanged"
         + (f"; wrote {', '.join(others)}" if others else "; index, feed and sitemap unchanged"))
    for name in result.removed:
        echo(f"  removed {name} (its edition is gone from the issues folder)")


# --- reading the built editions ------------------------------------------------------------

def _read_editions(config: Config, warnings: list[str]) -> list[Edition]:
    try:
        folders = sorted(p for p in config.out_dir.iterdir() if p.is_dir() and KEY.fullmatch(p.name))
    except FileNotFoundError:
        folders = []
    except OSError as error:
        raise OutputError(f"cannot read {shown(config.out_dir)}: {error.strerror or error}.") from None
    editions = []
    for folder in folders:
        # Both files from the build in use, read where it lies (.builds/<id>/, which no build
        # rewrites): a build that switches the edition meanwhile cannot pair one build's
        # issue.json with another's web.html, nor leave the record of a page that was not read.
        built = folder / (current_build(folder) or "")
        summary = built / JSON_NAME
        if not (folder / JSON_NAME).is_file() or not summary.is_file():
            continue  # never built: nothing to publish
        edition = _edition(folder, summary, built / WEB_NAME)
        if not (folder / WEB_NAME).is_file() or not edition.web.is_file():
            warnings.append(f"{shown(folder)} has no {WEB_NAME} (it was built by an older version), so it is not "
                            f"in the archive. Rebuild it: newsletter build {_selection(edition)}")
            continue
        editions.append(edition)
    return sorted(editions, key=lambda e: (e.end, e.start, e.key), reverse=True)  # newest last day first


def _edition(folder: Path, summary: Path, web: Path) -> Edition:
    try:
        data = json.loads(summary.read_text("utf-8"))
        return Edition(
            key=folder.name,
            start=date.fromisoformat(data["start"]),
            end=date.fromisoformat(data["end"]),
            number=data.get("number"),
            subject=str(data["subject"]),
            preheader=str(data.get("preheader") or ""),
            headlines=tuple((str(s["headline"]), s.get("lang")) for s in data.get("stories", [])),
            web=web,
            folder=folder,
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise OutputError(
            f"{shown(folder / JSON_NAME)} cannot be read ({type(error).__name__}: {error}). The build writes it: "
            f"rebuild that edition (newsletter build --week {folder.name}, or --since/--until for a custom range), "
            "then run newsletter archive again.") from None


def _selection(edition: Edition) -> str:
    if re.fullmatch(r"\d{4}-W\d{2}", edition.key):
        return f"--week {edition.key}"
    return f"--since {edition.start} --until {edition.end}"


def _page(edition: Edition, record: dict[str, Any], target: Path) -> bytes | None:
    """The edition's page to write, or None when neither its web.html nor the written page changed."""
    if record and _stat(edition.web) == record.get("web") and _stat(target) == record.get("page"):
        return None
    try:
        return edition.web.read_bytes()
    except OSError as error:
        raise OutputError(f"cannot read {edition.shown_web}: {error.strerror or error}.") from None


# --- the index and the feed ----------------------------------------------------------------

def _index(config: Config, editions: list[Edition]) -> bytes:
    import jinja2
    from markupsafe import Markup

    from newsletter.render import TEMPLATE_FAULTS, RecordOutput, environment, palette, safe, theme_fault

    labels = config.labels_for(config.publication.language)
    words: dict[str, Markup] = {key: safe(labels.text(key)) for key in (*WEB_LABELS, "contents")}
    items = [
        {
            "key": e.key,
            "href": e.href,
            "number": labels.text("issue", number=e.number) if e.number else "",
            "date_range": labels.date_range(e.start, e.end),
            "start": e.start.isoformat(),
            "subject": e.subject,
            "preheader": e.preheader,
            "lead": {"headline": e.headlines[0][0], "lang": _other_lang(e.headlines[0][1], config)}
            if e.headlines else None,
            "stories": [{"headline": h, "lang": _other_lang(lang, config)} for h, lang in e.headlines[1:]],
        }
        for e in editions
    ]
    context = {
        "publication": config.publication,
        "theme": config.theme,
        "colors": palette(config.theme),
        "lang": config.publication.language,
        "labels": words,
        "editions": items,
        "canonical": config.archive.base_url or None,
        "feed_href": FEED,
        "subscribe_url": subscribe_url(config),
        "description": config.publication.tagline or config.publication.name,
    }
    try:
        template = environment(config).get_template(INDEX_TEMPLATE)
        return template.render(context).encode()
    except jinja2.TemplateSyntaxError as error:
        where = f"{error.filename or error.name}:{error.lineno}"
        raise ThemeError(f"{where}: template syntax error: {error.message}") from None
    except jinja2.TemplateNotFound as error:
        raise ThemeError(f"theme template '{error.name}' not found: the archive's index needs it.") from None
    except jinja2.UndefinedError as error:
        raise ThemeError(f"{INDEX_TEMPLATE}: {error.message}. {see('archive', 'theme')}") from None
    except RecordOutput as error:
        raise error.placed() from None
    except TEMPLATE_FAULTS as error:
        fault = theme_fault(error)
        if fault is None:
            raise  # the tool's own code failed: a bug, shown with its traceback
        raise fault from None


def _other_lang(lang: str | None, config: Config) -> str | None:
    if lang and lang.split("-")[0].lower() != config.publication.language.split("-")[0].lower():
        return lang
    return None


def _feed(config: Config, editions: list[Edition], known: dict[str, Any], bodies: dict[str, bytes],
          state: dict[str, Any], now: datetime) -> bytes:
    base = config.archive.base_url
    publication = config.publication
    host = urlsplit(publication.url).hostname or "localhost"
    name = slug(publication.name) or "newsletter"
    created = state.setdefault("created", timestamp(now))
    entries = []
    for edition in editions:
        record = known[edition.key]
        link = page_url(config, edition.key) or edition.href
        entries.append(Entry(
            id=f"tag:{host},{edition.start.isoformat()}:{name}/{edition.key}",
            title=edition.subject,
            link=link,
            updated=_when(record["updated"]),
            published=_when(record.get("published", record["updated"])),
            summary=edition.preheader,
            content=_content(bodies[edition.key]),
            content_base=link,
        ))
    updated = max((e.updated for e in entries), default=_when(created))
    feed = Feed(
        id=f"tag:{host},{created[:10]}:{name}/editions",
        title=publication.name,
        subtitle=publication.tagline,
        author=publication.name,
        link=base or INDEX,
        self_link=f"{base}{FEED}" if base else None,
        lang=publication.language,
        updated=updated,
    )
    return atom(feed, entries)


def _content(page: bytes) -> str:
    """The page's body for a feed reader: the same markup, without Outlook's conditional comments."""
    match = _BODY.search(page)
    body = match.group(1) if match else page
    return _COMMENT.sub(b"", body).decode("utf-8", "replace").strip()


def _latest(editions: list[Edition], known: dict[str, Any]) -> datetime | None:
    return max((_when(known[e.key]["updated"]) for e in editions), default=None)


# --- bookkeeping ---------------------------------------------------------------------------

def _load_state(site: Path) -> dict[str, Any]:
    path = site / STATE_NAME
    try:
        data = json.loads(path.read_text("utf-8"))
        if isinstance(data, dict) and data.get("version") == 1:
            return data
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        return {"version": 1}  # unreadable: every file is checked and rewritten as needed
    if site.is_dir() and any(path.name != LOCK_NAME for path in site.iterdir()):
        raise OutputError(
            f"{shown(site)} is not empty and was not written by `newsletter archive` (it has no {STATE_NAME}). "
            "Choose an empty or new folder with --out (or [archive] dir), or empty this one.")
    return {"version": 1}


def _stat(path: Path) -> list[int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]


def _hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
