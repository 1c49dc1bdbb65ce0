"""The files an edition is built from: which changed since its last build, and where a piece of the email came from.

A check reports each problem where the editor can fix it: the article's file and line, the
line of issue.toml, the setting in newsletter.toml, a template. ``Sources`` reads those files
once and searches them; ``changed_since_build`` compares their times with the built files'.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote

from msgspec import Struct

from newsletter.check.findings import Location
from newsletter.config import Config
from newsletter.tracking import remove_utm

MANIFEST_NAME, HTML_NAME, TEXT_NAME, JSON_NAME = "issue.toml", "email.html", "email.txt", "issue.json"
# What may follow an address where it ends: anything but a character that would continue it (a
# sentence's punctuation may, when no word follows it).
_URL_ENDS = r"(?![\w/?#&=%~+@-]|[.,:;!][\w/])"
_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")


class StoryRef(Struct, frozen=True):
    """A story of a built edition, as a check needs it (issue.json has the same fields)."""

    id: str
    headline: str
    url: str
    source: Path
    has_analysis: bool
    has_impact: bool


class Edition(Struct, frozen=True):
    """A built edition as a check reads it: both parts with their real links, and what issue.json says."""

    key: str
    folder: Path
    subject: str
    preheader: str
    html: str
    text: str
    lang: str
    stories: tuple[StoryRef, ...]
    warnings: tuple[str, ...]


class _File(Struct, frozen=True):
    path: Path
    lines: tuple[str, ...]
    kind: str  # "story", "manifest", "settings", "template"
    story: str | None = None


def companions(source: Path) -> list[Path]:
    """The files beside an article that add to it: ``<stem>.analysis.md``, ``<stem>.impact.txt`` (existing ones).

    Named one by one rather than globbed: a folder may hold thousands of articles.
    """
    from newsletter.content import ARTICLE_SUFFIXES, COMPANION_PARTS

    return [candidate for part in COMPANION_PARTS for suffix in ARTICLE_SUFFIXES
            if (candidate := source.with_name(f"{source.stem}.{part}{suffix}")).is_file()]


def _lines(path: Path) -> tuple[str, ...]:
    try:
        text = path.read_bytes().decode("utf-8-sig", "replace")
    except OSError:
        return ()
    return tuple(unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).split("\n"))


class Sources:
    """The edition's story files (with companions), its issue.toml, newsletter.toml and the workspace's templates."""

    def __init__(self, config: Config, folder: Path, stories: Iterable[StoryRef]):
        self.config = config
        self.stories = tuple(stories)
        files: list[_File] = []
        for story in self.stories:
            for path in [story.source, *companions(story.source)]:
                files.append(_File(path, _lines(path), "story", story.id))
        self.manifest = _File(folder / MANIFEST_NAME, _lines(folder / MANIFEST_NAME), "manifest")
        files.append(self.manifest)
        self.settings = _File(config.path, _lines(config.path), "settings") if config.path else None
        if self.settings:
            files.append(self.settings)
        templates = config.templates_dir
        if templates.is_dir():
            files += [_File(p, _lines(p), "template") for p in sorted(templates.rglob("*")) if p.is_file()]
        self.files = tuple(files)

    # -- searching ------------------------------------------------------------------------

    def find(self, pattern: re.Pattern[str] | str, *, kinds: tuple[str, ...] = ("story", "manifest", "settings",
                                                                                "template")) -> list[Location]:
        """Every line holding ``pattern`` (a regex, or a literal string), stories first; TOML comments skipped."""
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        found: list[Location] = []
        for file in self.files:
            if file.kind not in kinds:
                continue
            for number, line in enumerate(file.lines, 1):
                if file.kind in ("manifest", "settings") and line.lstrip().startswith("#"):
                    continue
                if regex.search(line):
                    found.append(self.place(file, number))
        return found

    def first(self, pattern: re.Pattern[str] | str, **kwargs: tuple[str, ...]) -> Location | None:
        found = self.find(pattern, **kwargs)
        return found[0] if found else None

    def place(self, file: _File, number: int) -> Location:
        setting = _setting_at(file.lines, number) if file.kind in ("manifest", "settings") else None
        return Location(file.path, number, setting=setting if file.kind == "settings" else None, story=file.story)

    def setting(self, section: str, key: str) -> Location:
        """Where ``[section] key`` is set in newsletter.toml, or that its default applies."""
        name = f"[{section}] {key}"
        if self.settings is not None:
            for number, _ in enumerate(self.settings.lines, 1):
                if _setting_at(self.settings.lines, number) == name:
                    return Location(self.settings.path, number, setting=name)
        return Location(setting=name, default=True)

    def manifest_key(self, key: str) -> Location | None:
        """The line of ``key = ...`` at the top of issue.toml (subject, preheader, intro)."""
        for number, line in enumerate(self.manifest.lines, 1):
            if _TABLE.match(line):
                return None
            match = _KEY.match(line)
            if match and match.group(1).strip("\"'") == key:
                return Location(self.manifest.path, number)
        return None

    def story_for_url(self, url: str) -> StoryRef | None:
        return next((s for s in self.stories if s.url == url), None)

    def locate_url(self, url: str) -> Location:
        """Where a link or image address comes from, as precisely as the sources allow."""
        for candidate in _spellings(url):
            # the whole address, not the start of a longer one (".../ok" is not ".../ok/guide")
            found = self.first(re.compile(re.escape(candidate) + _URL_ENDS))
            if found is not None:
                return found
        story = self.story_for_url(url)
        if story is not None:
            # Not written anywhere: made from [build] article_url, or [publication] url as a fallback.
            where = self.setting("build", "article_url")
            if where.default:
                where = self.setting("publication", "url")
            return Location(where.file, where.line, where.setting, story.id, where.default)
        return Location(Path(self.manifest.path.parent / HTML_NAME))


def _spellings(url: str) -> Iterator[str]:
    """A URL as the sources may hold it: as is, as http:// (the build upgrades story links), with &amp;,
    without the campaign parameters the build adds."""
    untracked = remove_utm(url)
    if untracked != url:
        yield from _spellings(untracked)
    yield url
    if unquote(url) != url:
        yield unquote(url)  # Markdown percent-encodes what the file holds as | or spaces
    if url.startswith("https://"):
        yield "http://" + url[len("https://"):]
    if "&" in url:
        yield url.replace("&", "&amp;")
    if url.endswith("/") and len(url) > len("https://x/"):
        yield url.rstrip("/")


def _setting_at(lines: tuple[str, ...], number: int) -> str | None:
    """'[section] key' for the key set on line ``number`` of a TOML file, or the table it opens."""
    table = ""
    for line in lines[:number - 1]:
        match = _TABLE.match(line)
        if match:
            table = match.group(1)
    line = lines[number - 1]
    match = _TABLE.match(line)
    if match:
        return f"[{match.group(1)}]"
    key = _KEY.match(line)
    if key is None:
        return f"[{table}]" if table else None
    name = key.group(1).strip("\"'")
    return f"[{table}] {name}" if table else name


# -- freshness ------------------------------------------------------------------------------


def recorded_paths(paths: Iterable[Path], root: Path) -> list[str]:
    """Each path as issue.json records it: from the workspace's ``root`` ("content/2026/11/a.md") when
    inside it, so the record holds when the workspace is moved or cloned; absolute when outside it.

    A path's folder is resolved and its name kept (a linked article is named as the link); the root
    and each folder are resolved once (a build records ~70 paths).
    """
    base = root.resolve()
    folders: dict[Path, Path] = {}
    records = []
    for path in paths:
        folder = folders.get(path.parent)
        if folder is None:
            folder = folders[path.parent] = path.parent.resolve()
        real = folder / path.name
        records.append(real.relative_to(base).as_posix() if real.is_relative_to(base) else str(real))
    return records


def recorded_files(entries: Iterable[object], root: Path) -> list[Path]:
    """Paths issue.json records, as paths to open: from the workspace's ``root`` (resolved once), or
    as they are when absolute (what builds before relative records wrote)."""
    base = root.resolve()
    return [base / str(entry) for entry in entries]


def built_at(folder: Path) -> float | None:
    """When the edition in ``folder`` was last built (its oldest built file), or None if it never was."""
    try:
        return min((folder / name).stat().st_mtime for name in (HTML_NAME, TEXT_NAME, JSON_NAME))
    except OSError:
        return None


def source_files(config: Config, articles: Iterable[Path], folder: Path) -> list[Path]:
    """Every file a build of the edition in ``folder`` reads: articles and companions, issue.toml, settings, theme."""
    from newsletter.render import theme_files

    paths: list[Path] = []
    for article in articles:
        paths += [article, *companions(article)]
    paths.append(folder / MANIFEST_NAME)
    if config.path is not None:
        paths.append(config.path)
    paths += theme_files(config)
    return list(dict.fromkeys(path.resolve() for path in paths))


def changed_since_build(config: Config, folder: Path, period_files: Iterable[Path]) -> list[Path] | None:
    """The sources changed, added or gone since the last build in ``folder``; None when it was never built.

    issue.json lists the files the build read (``sources``, from the workspace's root: see
    ``recorded_paths``); a file newer than the build, or one of those that is gone, counts.
    ``period_files`` are the article files of the period now, so that a new article counts too.
    """
    when = built_at(folder)
    if when is None:
        return None
    try:
        data = json.loads((folder / JSON_NAME).read_text("utf-8"))
        listed = data.get("sources")
        entries = listed or [s["source"] for s in data.get("stories", [])]
        recorded = recorded_files(entries, config.root)
    except (OSError, ValueError, TypeError, KeyError):
        return None  # a damaged issue.json: rebuild as if never built
    current = source_files(config, period_files, folder)
    # Settings and theme files the last build did not read (another --config, a template copied in
    # with its old time) change the email whatever their time says.
    unread = set(source_files(config, [], folder)) - set(recorded) if listed else set()
    changed: list[Path] = []
    for path in dict.fromkeys([*recorded, *current]):
        try:
            if path.stat().st_mtime > when or path in unread:
                changed.append(path)
        except OSError:
            if path in recorded:
                changed.append(path)  # read by the last build, gone now
    return changed
