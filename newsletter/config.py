"""Typed publication settings from newsletter.toml, with defaults for every key.

``load_config(path, **overrides)``: options the user did not pass are ``None`` and never
override the file. Unknown keys are errors (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import functools
import os
import re
import string
import tomllib
import unicodedata
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import Struct, field
from msgspec.structs import replace

from newsletter.errors import CONTROL, ConfigError, shown
from newsletter.manual import see

CONFIG_NAME = "newsletter.toml"


class Publication(Struct, frozen=True):
    name: str = "Newsletter"
    tagline: str = ""
    url: str = "https://example.com/"
    language: str = "en"
    timezone: str = "UTC"
    postal_address: str = "Postal address not configured"
    reason: str = "You are receiving this email because you subscribed to our newsletter."
    logo: str = ""  # an absolute https URL; empty shows the name as text
    logo_width: int = 180
    logo_height: int = 40


class Sender(Struct, frozen=True):
    name: str = ""
    email: str = "newsletter@example.com"
    reply_to: str = ""


class Headings(Struct, frozen=True):
    """Which heading lines start the analysis and impact parts, and what the email calls them.

    Patterns match a whole heading line case-insensitively; ``*`` stands for any words.
    """

    analysis: tuple[str, ...] = ("Analysis", "* Analysis")
    impact: tuple[str, ...] = ("Impact", "Impact on *")
    analysis_label: str = "Analysis"
    impact_label: str = "Impact"


class LinkSettings(Struct, frozen=True):
    """The footer's links in a standalone build; services replace them with merge tags.

    ``{key}`` in a URL is replaced by the issue's key (e.g. 2026-W48).
    """

    unsubscribe: str = "https://example.com/newsletter/unsubscribe"
    preferences: str = "https://example.com/newsletter/preferences"
    view_online: str = "https://example.com/newsletter/{key}/"
    unsubscribe_mailto: str = ""


class Theme(Struct, frozen=True):
    primary: str = "#9b1c1c"
    text: str = "#1f2328"
    muted: str = "#57606a"
    background: str = "#f4f1ea"
    card: str = "#ffffff"
    analysis_background: str = "#eef3f8"
    analysis_accent: str = "#1d4e89"
    impact_background: str = "#fbf3e4"
    impact_accent: str = "#8a4b08"
    dark_background: str = "#121212"
    dark_card: str = "#1e1e1e"
    dark_text: str = "#e8e6e3"
    dark_muted: str = "#b4b0aa"
    dark_primary: str = "#ff9b8f"
    font_family: str = "Arial, 'Helvetica Neue', Helvetica, 'Segoe UI', Roboto, 'Noto Sans', sans-serif"
    heading_font_family: str = "Georgia, 'Times New Roman', 'Noto Serif', serif"
    max_words_analysis: int = 120
    max_words_impact: int = 80
    lead_words: int = 90  # how much of the lead story's body the email shows after its lede
    sections: dict[str, str] = field(default_factory=dict)  # section slug -> label shown

    def section_label(self, section: str | None) -> str | None:
        """The label a story's section shows: [theme.sections], else the slug in title case."""
        if not section:
            return None
        return self.sections.get(section) or section.replace("-", " ").replace("_", " ").title()


class Labels(Struct, frozen=True):
    """Every word the email itself shows, in the publication's language ([labels]).

    Values are shown as written, except ``issue`` and ``read_more``: format strings that may
    use ``{number}`` and ``{headline}`` (a literal brace is written twice there).
    ``analysis`` and ``impact`` are empty in [labels] (then [headings] analysis_label and
    impact_label apply); a [labels.<lang>] table may set them. ``languages`` holds those
    tables: primary language tag -> the keys it overrides.
    """

    issue: str = "Issue {number}"
    contents: str = "In this issue"
    read_more: str = "Read the full story: {headline}"
    unsubscribe: str = "Unsubscribe"
    preferences: str = "Manage your preferences"
    view_online: str = "View this email in your browser"
    # The web pages' words (web.html and the archive, see docs/archive.md).
    subscribe: str = "Subscribe"
    archive: str = "All editions"
    feed: str = "Feed"
    months: tuple[str, ...] = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    date_order: str = "mdy"  # "mdy": Nov 23 – 29, 2026; "dmy": 23 – 29 Nov 2026
    analysis: str = ""
    impact: str = ""
    languages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def text(self, key: str, **values: object) -> str:
        """The label ``key`` with its placeholders filled in (plain text: escape it where it goes)."""
        template: str = getattr(self, key)
        return template.format(**values) if key in _LABEL_FIELDS else template

    def date_text(self, day: date, year: bool = True) -> str:
        """One day, e.g. 'Nov 23, 2026' (mdy) or '23 nov. 2026' (dmy)."""
        month = self.months[day.month - 1]
        if self.date_order == "dmy":
            return f"{day.day} {month} {day.year}" if year else f"{day.day} {month}"
        return f"{month} {day.day}, {day.year}" if year else f"{month} {day.day}"

    def date_range(self, start: date, end: date) -> str:
        """Inclusive days as a reader says them, e.g. 'Nov 23 – 29, 2026' or '23 – 29 nov. 2026'."""
        if start.year != end.year:
            return f"{self.date_text(start)} – {self.date_text(end)}"
        if start.month != end.month:
            return f"{self.date_text(start, year=False)} – {self.date_text(end)}"
        if self.date_order == "dmy":
            return f"{start.day} – {self.date_text(end)}"
        return f"{self.date_text(start, year=False)} – {end.day}, {end.year}"


# The labels that are format strings, and the {placeholders} each may use: any other is a
# typo caught when the file is read. The other labels are shown as written.
_LABEL_FIELDS: dict[str, frozenset[str]] = {"issue": frozenset({"number"}), "read_more": frozenset({"headline"})}
_LANGUAGE_ONLY = ("analysis", "impact")  # [labels] itself takes these from [headings]
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}$")  # a BCP 47 primary language subtag (ISO 639)


def primary_language(tag: str | None) -> str:
    """'vi' for 'vi', 'vi-VN' or 'VI_vn'; empty for no tag."""
    return (tag or "").replace("_", "-").split("-")[0].lower()


class Build(Struct, frozen=True):
    content_dir: str = "content"
    out_dir: str = "issues"
    templates_dir: str = "templates"
    subject: str = "{name}: {first_headline}"
    # Where a story links when its file gives no url: {slug} {stem} {year} {month} {day} {section}
    article_url: str = ""


class Tracking(Struct, frozen=True):
    """[tracking]: campaign (UTM) parameters on the email's article and site links; off by default.

    ``utm_source``, ``utm_medium`` and ``utm_campaign`` are format strings that may use the
    names in ``TRACKING_FIELDS`` (``{publication}-{key}`` -> ``saigon-sentinel-2026-W48``);
    ``utm_content`` adds each story's id to its links. Links to a host in ``exclude_hosts``
    (or any of its subdomains) are left alone. newsletter.tracking applies them.
    """

    enabled: bool = False
    utm_source: str = "newsletter"
    utm_medium: str = "email"
    utm_campaign: str = "{publication}-{key}"
    utm_content: bool = True
    exclude_hosts: tuple[str, ...] = ()


# The names [tracking] templates may use; newsletter.tracking fills them in for each issue.
TRACKING_FIELDS = frozenset({"publication", "key", "number", "date"})
_HOST = re.compile(r"^(?=.{1,253}$)[^\s/:?#@\[\]]+$")


class Archive(Struct, frozen=True):
    """The web archive that `newsletter archive` writes (docs/archive.md).

    ``url`` is the public address the folder is published at (https, any sub-path); when it is
    set, ``[links] view_online`` defaults to ``url`` + ``<key>/``. ``subscribe_url`` is the web
    pages' subscribe link (default: ``[publication] url``). ``feed_entries``: how many of the
    newest editions feed.xml carries (0: every edition).
    """

    dir: str = "site"
    url: str = ""
    subscribe_url: str = ""
    feed_entries: int = 20

    @property
    def base_url(self) -> str:
        """``url`` ending in one slash, or empty when the archive has no public address yet."""
        return self.url.rstrip("/") + "/" if self.url else ""


class SourceSettings(Struct, frozen=True):
    """One place `newsletter gather` reads posts from: a ``[sources.<name>]`` table (docs/sources.md).

    ``type`` is "feed" (RSS 2.0, RSS 1.0 or Atom at ``url``) or "wordpress" (the site's home page
    at ``url``; posts from its REST API). Category and tag filters match a term's name or slug,
    case-insensitively. ``timeout`` is in seconds, ``max_bytes`` bounds one answer's size.
    """

    name: str = ""
    type: str = ""
    url: str = ""
    enabled: bool = True
    section: str = ""  # the section of a post whose categories name none
    sections: dict[str, str] = field(default_factory=dict)  # category name or slug -> section slug
    include_categories: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    include_tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    lang: str = ""  # BCP 47 tag for every post of the source; else the post's or feed's own
    limit: int = 0  # at most this many posts per run, newest first; 0: no limit
    drop_paragraphs: tuple[str, ...] = ()  # regular expressions: paragraphs whose whole text matches are dropped
    timeout: int = 20
    retries: int = 3
    max_pages: int = 10
    max_bytes: int = 20_000_000


class CheckSettings(Struct, frozen=True):
    """`newsletter check` ([check]): what a publication accepts on purpose, and the link checker's bounds.

    ``ignore`` lists warning codes (docs/commands.md lists them); ``allow_hosts`` lists hosts
    that are the publication's own although their names look like placeholders (a sample's
    ``.example`` domain, a staging site): they are not reported and never fetched, and neither
    are their subdomains. ``timeout`` bounds each request and ``time_limit`` the whole link
    check, in seconds.
    """

    ignore: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()
    timeout: int = 10
    time_limit: int = 60


class Config(Struct, frozen=True):
    """All settings; ``root`` is the workspace folder relative paths are resolved against."""

    root: Path = field(default_factory=Path.cwd)
    path: Path | None = None
    publication: Publication = field(default_factory=Publication)
    sender: Sender = field(default_factory=Sender)
    headings: Headings = field(default_factory=Headings)
    links: LinkSettings = field(default_factory=LinkSettings)
    theme: Theme = field(default_factory=Theme)
    build: Build = field(default_factory=Build)
    labels: Labels = field(default_factory=Labels)
    archive: Archive = field(default_factory=Archive)
    export: dict[str, Any] = field(default_factory=dict)  # [export] default + [export.<service>]
    tracking: Tracking = field(default_factory=Tracking)
    sources: dict[str, SourceSettings] = field(default_factory=dict)  # [sources.<name>], for `newsletter gather`
    strict: bool = False
    check: CheckSettings = field(default_factory=CheckSettings)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.publication.timezone)

    @property
    def content_dir(self) -> Path:
        return self.root / self.build.content_dir

    @property
    def out_dir(self) -> Path:
        return self.root / self.build.out_dir

    @property
    def templates_dir(self) -> Path:
        return self.root / self.build.templates_dir

    @property
    def archive_dir(self) -> Path:
        return self.root / self.archive.dir

    def service_settings(self, service: str) -> dict[str, Any]:
        table = self.export.get(service, {})
        return dict(table) if isinstance(table, dict) else {}

    def labels_for(self, lang: str | None = None) -> Labels:
        """The labels for text in ``lang`` (default: the publication's language), complete.

        [labels] with the matching [labels.<lang>] table applied; analysis and impact fall back
        to [headings] analysis_label / impact_label.
        """
        base = self.labels
        overrides = base.languages.get(primary_language(lang or self.publication.language), {})
        merged = replace(base, **overrides) if overrides else base
        return replace(
            merged,
            analysis=merged.analysis or self.headings.analysis_label,
            impact=merged.impact or self.headings.impact_label,
        )

    @property
    def default_service(self) -> str:
        value = self.export.get("default", "eml")
        return value if isinstance(value, str) else "eml"


_SECTIONS = {
    "publication": Publication,
    "sender": Sender,
    "headings": Headings,
    "links": LinkSettings,
    "theme": Theme,
    "build": Build,
    "labels": Labels,
    "tracking": Tracking,
    "archive": Archive,
    "check": CheckSettings,
}


def load_config(
    path: Path | str | None = None,
    *,
    content_dir: Path | str | None = None,
    out_dir: Path | str | None = None,
    strict: bool | None = None,
) -> Config:
    """Read newsletter.toml and apply overrides.

    ``path``, else the nearest newsletter.toml in the current folder or one above it (as git
    finds its repository), else the defaults (``Config.path`` is then None). Relative paths in
    the file are resolved against the folder that holds it, wherever the command runs.
    """
    if path is None:
        path = find_config(Path.cwd())
    data: dict[str, Any] = {}
    root = Path.cwd()
    if path is not None:
        path = Path(path)
        data = _composed(_read_toml(path))
        root = path.resolve().parent
    config = _from_dict(data, path, root)
    build = config.build
    if content_dir is not None:
        build = replace(build, content_dir=str(Path(content_dir).resolve()))
    if out_dir is not None:
        build = replace(build, out_dir=str(Path(out_dir).resolve()))
    config = replace(config, build=build, strict=bool(strict) if strict is not None else config.strict)
    _validate(config)
    return config


# Folder names are left as typed: on disk a name may well be decomposed.
_PATH_SETTINGS = {("build", "content_dir"), ("build", "out_dir"), ("build", "templates_dir"), ("archive", "dir")}


def _composed(value: Any, where: tuple[str, ...] = ()) -> Any:
    """Every text of the settings, keys too, in NFC, as article text is read: Vietnamese typed
    decomposed (some macOS editors save it so) would otherwise never match a heading, a section
    or a label written composed, and would reach the email in two forms."""
    if isinstance(value, str):
        return value if where[-2:] in _PATH_SETTINGS else unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {unicodedata.normalize("NFC", k): _composed(v, (*where, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_composed(item, where) for item in value]
    return value


def find_config(start: Path) -> Path | None:
    """The nearest newsletter.toml in ``start`` or a folder above it; None when there is none."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        try:
            if candidate.is_file():
                return candidate
            if candidate.exists():
                raise ConfigError(f"{shown(candidate)}: is not a file. The settings file must be a TOML file.")
        except OSError:
            continue  # a folder we may not look into: keep looking above it
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{shown(path)}: no such configuration file. Check --config, or run without it to use the defaults."
        ) from None
    except OSError as error:
        raise ConfigError(f"{shown(path)}: cannot be read ({error.strerror}).") from None
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{shown(path)}: is not UTF-8 text. Save it as UTF-8.") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{shown(path)}: invalid TOML: {error}. {see('configuration')}") from None


@functools.lru_cache(maxsize=8)
def _index(path: str, mtime_ns: int, size: int) -> dict[tuple[str, str | None], int]:
    """Where each ``[section]`` header and ``[section] key`` first stands in the settings file.

    Built once per version of the file (``mtime_ns``, ``size``): line_of is asked for every key
    the settings hold, so each answer is a look-up. ``""`` is the part before the first table.
    """
    lines = unicodedata.normalize("NFC", Path(path).read_text("utf-8-sig")).splitlines()
    index: dict[tuple[str, str | None], int] = {}
    section = ""
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("["):
            # "[export.listmonk]  # our list server": the comment after the header is no part of its name
            header = re.match(r"\[\[?([^\]]*)\]", stripped)
            section = (header.group(1) if header else stripped).strip("[] ")
            index.setdefault((section, None), number)
            parent, _, last = section.rpartition(".")
            if parent:  # [export.listmonk.headers] is also key "headers" of [export.listmonk]
                index.setdefault((parent.strip(), last.strip()), number)
        elif stripped:
            key = stripped.split("=", 1)[0].strip().strip('"')
            index.setdefault((section, key), number)
            table, _, last = key.rpartition(".")
            if table:  # listmonk.timeout = ... in [export] is key "timeout" of [export.listmonk]
                name = ".".join(filter(None, (section, *(part.strip() for part in table.split(".")))))
                index.setdefault((name, last.strip()), number)
    return index


@functools.lru_cache(maxsize=8)
def _shown(path: Path, cwd: str) -> str:
    return shown(path)


def line_of(path: Path | None, section: str, key: str | None = None) -> str:
    """Best-effort 'file:line' of ``[section] key``, so an error points where to look."""
    if path is None:
        return "configuration"
    where = _shown(path, os.getcwd())
    try:
        stat = path.stat()
        number = _index(str(path), stat.st_mtime_ns, stat.st_size).get((section, key))
    except (OSError, UnicodeDecodeError):
        return where
    return f"{where}:{number}" if number else where


def _from_dict(data: dict[str, Any], path: Path | None, root: Path) -> Config:
    values: dict[str, Any] = {"root": root, "path": path}
    for section, value in data.items():
        if section == "export":
            if not isinstance(value, dict):
                raise ConfigError(f"{line_of(path, section)}: [export] must be a table.")
            values["export"] = value
        elif section == "strict":
            if not isinstance(value, bool):
                raise ConfigError(f"{line_of(path, '', section)}: strict must be true or false, not "
                                  f"{toml_value(value)}.")
            values["strict"] = value
        elif section == "sources":
            values["sources"] = _sources(value, path)
        elif section == "labels":
            if not isinstance(value, dict):
                raise ConfigError(f"{line_of(path, '', section)}: [labels] must be a table.")
            values["labels"] = _labels(value, path)
        elif section in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{line_of(path, section)}: [{section}] must be a table.")
            values[section] = _section(_SECTIONS[section], section, value, path)
        else:
            names = [*_SECTIONS, "export", "sources"]
            from difflib import get_close_matches  # only when something is misspelt
            close = get_close_matches(section, names, n=1, cutoff=0.6)
            hint = f" Did you mean [{close[0]}]?" if close else ""
            known = ", ".join(f"[{name}]" for name in names)
            raise ConfigError(f"{line_of(path, section)}: unknown section [{section}]. Known sections: {known}.{hint}")
    links = data.get("links")
    archive: Archive | None = values.get("archive")
    if archive is not None and archive.url and not (isinstance(links, dict) and "view_online" in links):
        # The web version is the archive's page: the email links there unless [links] says otherwise.
        values["links"] = replace(values.get("links", LinkSettings()), view_online=archive.base_url + "{key}/")
    return Config(**values)


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """" Did you mean 'x'?" for the known name nearest a typo, or ''."""
    from difflib import get_close_matches  # only when something is misspelt
    close = get_close_matches(word.lower(), list(known), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def _check_table(table: dict[str, Any], section: str, name: str, path: Path | None, where: str) -> None:
    """A table of text (``[theme.sections]``, or ``sections = { ... }``): each value a string, else an
    error at its own line (``where``, the line of ``name = {...}``, when it is written inline)."""
    for key, value in table.items():
        if not isinstance(value, str):
            at = line_of(path, f"{section}.{name}", key)
            raise ConfigError(f"{where if path is None or at == shown(path) else at}: [{section}] {name} must be a "
                              f'table of strings: {key} = {toml_value(value)} is not text; write {key} = "...".')


def _fields(cls: type) -> tuple[str, ...]:
    """A settings record's field names, in order (``msgspec.Struct.__struct_fields__``)."""
    assert issubclass(cls, Struct)
    return cls.__struct_fields__


def _section(cls: type, name: str, table: dict[str, Any], path: Path | None,
             exclude: frozenset[str] = frozenset()) -> Any:
    """``cls`` from a settings table, every key known and of its type; ``exclude``: fields no file sets."""
    # The annotations as written (strings, under `from __future__ import annotations`): _coerce
    # reads them as text, so typing.get_type_hints' evaluation would only cost time.
    hints = {name: cls.__annotations__[name] for name in _fields(cls) if name not in exclude}
    known = set(hints)
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        where = line_of(path, name, key)
        if key not in known:
            raise ConfigError(
                f"{where}: unknown setting '{key}' in [{name}]. Known settings: {', '.join(sorted(known))}."
                f"{did_you_mean(key, known)}"
            )
        if isinstance(value, dict) and str(hints[key]).startswith("dict"):  # e.g. [theme.sections]
            _check_table(value, name, key, path, where)
        kwargs[key] = _coerce(hints[key], value, f"{where}: [{name}] {key}", key)
        _check_characters(kwargs[key], f"{where}: [{name}] {key}", multiline=(name, key) in _MULTILINE)
    return cls(**kwargs)


# Settings shown as paragraphs may hold line breaks; every other one ends up in a header, a
# URL or a single line of the email, where a line break would break it.
_MULTILINE = {("publication", "postal_address"), ("publication", "reason"), ("publication", "tagline")}


def _check_characters(value: Any, where: str, multiline: bool) -> None:
    """No control characters anywhere (TOML lets ``"\\u0007"`` through), no line breaks in one-line settings."""
    texts = value if isinstance(value, tuple) else value.values() if isinstance(value, dict) else [value]
    for text in texts:
        if not isinstance(text, str):
            continue
        control = CONTROL.search(text)
        if control:
            raise ConfigError(f"{where} holds the control character U+{ord(control.group(0)):04X}, which no email "
                              "can show. Delete it (it may be written as an escape such as \\u0007).")
        if not multiline and any(char in text for char in "\r\n\u2028\u2029"):
            raise ConfigError(f"{where} holds a line break: write it on one line.")


def _labels(table: dict[str, Any], path: Path | None) -> Labels:
    """[labels] and its [labels.<lang>] tables, every value checked where it is written."""
    own = {k: v for k, v in table.items() if not isinstance(v, dict)}
    _check_label_keys(own, "labels", path, language=False)
    labels: Labels = _section(Labels, "labels", own, path)
    _check_label_values(labels, own, "labels", path)
    languages: dict[str, dict[str, Any]] = {}
    for tag, value in table.items():
        if not isinstance(value, dict):
            continue
        name = f"labels.{tag}"
        where = line_of(path, name)
        if where == str(path):  # written inline in [labels] as `tag = { ... }`
            where = line_of(path, "labels", tag)
        if not _LANGUAGE_TAG.match(tag):
            raise ConfigError(
                f"{where}: [{name}] is not a language: name the table after a language tag such as "
                "[labels.vi] or [labels.fr]."
            )
        for key, item in value.items():
            if isinstance(item, dict):
                at = line_of(path, name, key)
                raise ConfigError(
                    f"{line_of(path, f'{name}.{key}') if at == str(path) else at}: [{name}] must be a "
                    f"table of strings; '{key}' is a table."
                )
        _check_label_keys(value, name, path, language=True)
        checked = _section(Labels, name, value, path)
        _check_label_values(checked, value, name, path)
        languages[tag.lower()] = {key: getattr(checked, key) for key in value}
    return replace(labels, languages=languages)


def _check_label_keys(table: dict[str, Any], name: str, path: Path | None, language: bool) -> None:
    known = [name for name in _fields(Labels) if name != "languages" and (language or name not in _LANGUAGE_ONLY)]
    for key in table:
        if key in known:
            continue
        where = line_of(path, name, key)
        if key in _LANGUAGE_ONLY:
            raise ConfigError(
                f"{where}: [labels] {key} is set in [headings] as {key}_label; only a [labels.<language>] "
                f"table (e.g. [labels.vi]) sets {key}, for the stories in that language."
            )
        hint = did_you_mean(key, known)
        if not language and _LANGUAGE_TAG.match(key):
            hint = f" A language's labels are a table: [labels.{key}] with the same settings."
        raise ConfigError(
            f"{where}: unknown setting '{key}' in [{name}]. Known settings: {', '.join(sorted(known))}.{hint}"
        )


def _check_label_values(labels: Labels, table: dict[str, Any], name: str, path: Path | None) -> None:
    for key in table:
        where = line_of(path, name, key)
        value = getattr(labels, key)
        if key == "months":
            if len(value) != 12:
                raise ConfigError(f"{where}: [{name}] months must list 12 month names, not {len(value)}.")
            continue
        if key == "date_order":
            if value not in ("mdy", "dmy"):
                raise ConfigError(f'{where}: [{name}] date_order must be "mdy" or "dmy", not \'{value}\'.')
            continue
        if key not in _LABEL_FIELDS:
            continue  # shown as written
        allowed = _LABEL_FIELDS[key]
        can = " or ".join(f"{{{a}}}" for a in sorted(allowed))
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError as error:
            raise ConfigError(
                f"{where}: [{name}] {key} = '{value}' is not a valid label ({error}); "
                "write a literal brace twice ({{ or }})."
            ) from None
        for _, field_name, spec, conversion in parts:
            if field_name is None:
                continue
            if field_name not in allowed or spec or conversion:
                raise ConfigError(
                    f"{where}: [{name}] {key} = '{value}' has an unknown placeholder; {key} can use {can} "
                    "(write a literal brace twice: {{ or }})."
                )


_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_SOURCE_TYPES = ("feed", "wordpress")
_SOURCE_BOUNDS = {"limit": (0, 100_000), "timeout": (1, 600), "retries": (0, 10), "max_pages": (1, 1000),
                  "max_bytes": (10_000, 1_000_000_000)}
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")  # a BCP 47 tag: vi, en-US, pt-BR


def _sources(table: Any, path: Path | None) -> dict[str, SourceSettings]:
    """[sources.<name>] tables for `newsletter gather`, each key checked where it is written."""
    if not isinstance(table, dict):
        raise ConfigError(f"{line_of(path, '', 'sources')}: [sources] must hold tables such as [sources.site].")
    sources: dict[str, SourceSettings] = {}
    for name, value in table.items():
        section = f"sources.{name}"
        where = line_of(path, section)
        if path is not None and where == shown(path):  # written inline in [sources] as `name = { ... }`
            where = line_of(path, "sources", name)
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: [sources] {name} must be a table: [sources.{name}] with type and url.")
        if not _SOURCE_NAME.match(name):
            raise ConfigError(f"{where}: [{section}]: a source's name is letters, digits, '-' and '_'.")
        for key in ("type", "url"):
            if key not in value:
                raise ConfigError(
                    f'{where}: [{section}] has no {key}. Write type = "feed" or "wordpress" and the url to read.'
                )
        # the name is the table's, never a key in it
        settings: SourceSettings = replace(_section(SourceSettings, section, value, path, frozenset({"name"})),
                                           name=name)
        _check_source(settings, section, path)
        sources[name] = settings
    return sources


def _check_source(source: SourceSettings, section: str, path: Path | None) -> None:
    def where(key: str) -> str:
        return line_of(path, section, key)

    if source.type not in _SOURCE_TYPES:
        raise ConfigError(f'{where("type")}: [{section}] type must be "feed" or "wordpress", not \'{source.type}\'.')
    if not re.match(r"^https?://[^/\s]+", source.url):
        raise ConfigError(
            f"{where('url')}: [{section}] url must be an absolute http:// or https:// address, not '{source.url}'."
        )
    for key, (low, high) in _SOURCE_BOUNDS.items():
        number = getattr(source, key)
        if not low <= number <= high:
            raise ConfigError(f"{where(key)}: [{section}] {key} must be between {low} and {high}, not {number}.")
    if source.lang and not LANGUAGE_TAG.match(source.lang):
        raise ConfigError(f"{where('lang')}: [{section}] lang must be a language tag such as 'vi' or 'en-US'.")
    for pattern in source.drop_paragraphs:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ConfigError(
                f"{where('drop_paragraphs')}: [{section}] drop_paragraphs: '{pattern}' is not a regular "
                f"expression ({error})."
            ) from None


def _coerce(hint: Any, value: Any, where: str, key: str = "") -> Any:
    text = str(hint)
    if hint is bool or text == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, not {toml_value(value)}.")
        return value
    if hint is str or text == "str":
        if not isinstance(value, str):
            quoted = toml_value(toml_value(value)) if _scalar(value) else '"..."'
            instead = f": write {key} = {quoted}" if key else ""
            raise ConfigError(f"{where} must be a string, not {toml_value(value)}{instead}.")
        return value
    if hint is int or text == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            bare = f": write {key} = {value.strip()}, without quotes" if key and isinstance(value, str) and \
                value.strip().isdigit() else ""
            raise ConfigError(f"{where} must be a whole number, not {toml_value(value)}{bare}.")
        return value
    if text.startswith("tuple"):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of strings.")
        return tuple(value)
    if text.startswith("dict"):
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{where} must be a table of strings.")
        return dict(value)
    return value


def _scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def toml_value(value: Any, limit: int = 80) -> str:
    """``value`` as it is written in TOML (tomlkit), for messages: ``2026-11-30``, ``{a = 1}``,
    ``"180"``, never Python's ``datetime.date(2026, 11, 30)``; cut to ``limit`` characters."""
    import tomlkit

    def item(value: Any) -> Any:
        if isinstance(value, dict):
            table = tomlkit.inline_table()
            table.update({key: item(inner) for key, inner in value.items()})
            return table
        if isinstance(value, list):
            array = tomlkit.array()
            array.extend(item(inner) for inner in value)
            return array
        return tomlkit.item(value)

    written = str(item(value).as_string()).strip()
    return written if len(written) <= limit else written[:limit - 1] + "…"


def _validate(config: Config) -> None:
    try:
        ZoneInfo(config.publication.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        where = line_of(config.path, "publication", "timezone")
        raise ConfigError(
            f"{where}: unknown time zone '{config.publication.timezone}'. "
            "Use an IANA name such as 'America/Los_Angeles'."
        ) from None
    for name in ("url", "subscribe_url"):
        url = getattr(config.archive, name)
        if url and (not url.startswith("https://") or re.search(r'[\s"<>{}|\\^`]', url)):
            where = line_of(config.path, "archive", name)
            raise ConfigError(f"{where}: [archive] {name} must be an absolute https:// URL (or left out), not '{url}'.")
    if config.archive.feed_entries < 0:
        where = line_of(config.path, "archive", "feed_entries")
        raise ConfigError(f"{where}: [archive] feed_entries must be 0 (every edition) or more.")
    for name in ("unsubscribe", "preferences", "view_online"):
        url = getattr(config.links, name)
        if not url.startswith("https://"):
            where = line_of(config.path, "links", name)
            raise ConfigError(f"{where}: [links] {name} must be an absolute https:// URL, not '{url}'.")
    if config.publication.logo and not config.publication.logo.startswith("https://"):
        where = line_of(config.path, "publication", "logo")
        raise ConfigError(f"{where}: [publication] logo must be an absolute https:// URL.")
    if not config.build.subject.strip():
        raise ConfigError(f"{line_of(config.path, 'build', 'subject')}: [build] subject is empty. Write the subject "
                          "the first build proposes, e.g. \"{name}: {first_headline}\".")
    for (section, key), allowed in TEMPLATE_FIELDS.items():
        check_template(getattr(getattr(config, section), key), allowed, line_of(config.path, section, key),
                       f"[{section}] {key}")
    for name in ("unsubscribe", "preferences", "view_online"):
        for braces in re.findall(r"\{[^{}]*\}", getattr(config.links, name)):
            if braces != "{key}":
                raise ConfigError(f"{line_of(config.path, 'links', name)}: [links] {name} uses {braces}, which it does "
                                  "not know; it can use {key} (the edition, e.g. 2026-W48).")
    _check_address(config, "email", required=True)
    _check_address(config, "reply_to", required=False)
    _check_theme(config)
    _check_logo(config)
    _check_tracking(config)
    _validate_check(config)


HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
FONT_LIST = re.compile(r"^[A-Za-z0-9 ,'-]+$")  # written raw into <style>: nothing that could end a rule
THEME_COLOURS = ("primary", "text", "muted", "background", "card", "analysis_background", "analysis_accent",
                 "impact_background", "impact_accent", "dark_background", "dark_card", "dark_text", "dark_muted",
                 "dark_primary")


def _check_theme(config: Config) -> None:
    """[theme] colours, fonts and word counts, each at its line (not when a template first uses it)."""
    theme = config.theme
    for name in THEME_COLOURS:
        value = getattr(theme, name)
        if not HEX_COLOUR.match(value):
            raise ConfigError(f"{line_of(config.path, 'theme', name)}: [theme] {name} = '{value}' is not a colour: "
                              'write it as #rrggbb, e.g. "#9b1c1c".')
    for name in ("font_family", "heading_font_family"):
        value = getattr(theme, name)
        if not FONT_LIST.match(value):
            raise ConfigError(f"{line_of(config.path, 'theme', name)}: [theme] {name} = '{value}' is not a list of "
                              "font names: write names separated by commas, e.g. \"Arial, 'Noto Sans', sans-serif\" "
                              "(letters, digits, spaces, hyphens and quotes only).")
    for name in ("max_words_analysis", "max_words_impact", "lead_words"):
        if getattr(theme, name) < 0:
            raise ConfigError(f"{line_of(config.path, 'theme', name)}: [theme] {name} must be 0 or more "
                              "(0: never shortened).")


def _check_logo(config: Config) -> None:
    """The logo's size is what the email shows: at least 1 px, at most the email's column."""
    from newsletter.presentation import CONTENT_WIDTH

    publication = config.publication
    for name in ("logo_width", "logo_height"):
        if getattr(publication, name) < 1:
            raise ConfigError(f"{line_of(config.path, 'publication', name)}: [publication] {name} must be 1 or more "
                              "(CSS pixels, the size the email shows the logo at).")
    if publication.logo_width > CONTENT_WIDTH:
        raise ConfigError(
            f"{line_of(config.path, 'publication', 'logo_width')}: [publication] logo_width = "
            f"{publication.logo_width} is wider than the email's {CONTENT_WIDTH} px column, and Outlook for Windows "
            "would show it that wide. Give the size to show it at (the picture itself may be larger, e.g. twice "
            "as large for sharp screens), with logo_height in the same ratio.")


def _check_tracking(config: Config) -> None:
    """[tracking] templates use only known {names}; hosts are bare host names."""
    tracking = config.tracking
    for key in ("utm_source", "utm_medium", "utm_campaign"):
        value = getattr(tracking, key)
        where = line_of(config.path, "tracking", key)
        check_template(value, tuple(sorted(TRACKING_FIELDS)), where, f"[tracking] {key}")
        if tracking.enabled and key != "utm_campaign" and not value.strip():
            raise ConfigError(f"{where}: [tracking] {key} must not be empty when tracking is enabled.")
    for host in tracking.exclude_hosts:
        if not _HOST.match(host.strip()):
            where = line_of(config.path, "tracking", "exclude_hosts")
            raise ConfigError(f"{where}: [tracking] exclude_hosts: '{host}' is not a host name; write names such "
                              "as \"shop.example.com\" (no https://, no path).")


def _validate_check(config: Config) -> None:
    """[check]: only known warning codes may be ignored (errors never), hosts are bare names, bounds positive."""
    settings = config.check
    if settings.ignore:
        from newsletter.check.findings import KINDS, WARNING
    for code in settings.ignore:
        where = line_of(config.path, "check", "ignore")
        kind = KINDS.get(code)
        if kind is None:
            known = ", ".join(sorted(c for c, k in KINDS.items() if k.severity == WARNING))
            raise ConfigError(f"{where}: [check] ignore: unknown finding code '{code}'. Warning codes: {known}.")
        if kind.severity != WARNING:
            raise ConfigError(f"{where}: [check] ignore: '{code}' is an error, and errors cannot be ignored: "
                              "fix it, or export once anyway with `newsletter export --force`.")
    for host in settings.allow_hosts:
        if not re.fullmatch(r"[A-Za-z0-9.-]+", host) or host.strip(".") != host or not host:
            where = line_of(config.path, "check", "allow_hosts")
            raise ConfigError(f"{where}: [check] allow_hosts: '{host}' is not a host name; write names such as "
                              '"saigonsentinel.example", without https:// or a path.')
    for key in ("timeout", "time_limit"):
        if getattr(settings, key) <= 0:
            raise ConfigError(f"{line_of(config.path, 'check', key)}: [check] {key} must be a number of seconds "
                              "above 0.")


# The settings that are format strings, and the {names} each may use (docs/configuration.md).
TEMPLATE_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("build", "subject"): ("name", "first_headline", "key", "number"),
    ("build", "article_url"): ("slug", "stem", "year", "month", "day", "section"),
}


def check_template(value: str, allowed: tuple[str, ...], where: str, setting: str) -> None:
    """A format string uses only the ``allowed`` names, with valid braces; else ConfigError at ``where``.

    Checked when the settings load, so a typo fails at once, naming the line, not days later
    when a new week's manifest is first written.
    """
    names = ", ".join(f"{{{name}}}" for name in allowed)
    brace = "write a literal brace twice: {{ or }}"
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError as error:
        raise ConfigError(f"{where}: {setting} = '{value}' has a broken brace ({error}). It can use {names}; "
                          f"{brace}.") from None
    for _, field_name, spec, conversion in parts:
        if field_name is None:
            continue
        if field_name not in allowed:
            from difflib import get_close_matches  # only when something is misspelt
            close = get_close_matches(field_name, allowed, n=1, cutoff=0.6)
            did_you_mean = f" Did you mean {{{close[0]}}}?" if close else ""
            raise ConfigError(f"{where}: {setting} = '{value}' uses {{{field_name}}}, which is not a name it "
                              f"knows.{did_you_mean} It can use {names}; {brace}.")
        if conversion or "{" in (spec or ""):
            raise ConfigError(f"{where}: {setting} = '{value}': write {{{field_name}}} alone, without ! or "
                              "nested braces.")
    try:
        value.format(**{name: 1 if name == "number" else "text" for name in allowed})
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{where}: {setting} = '{value}' cannot be filled in ({error}). It can use "
                          f"{names}; {brace}.") from None


def _check_address(config: Config, key: str, required: bool) -> None:
    """[sender] email and reply_to are email addresses (syntax only: no DNS lookup at load time).

    An address email-validator accepted once is remembered (newsletter.cache): loading the
    library costs more than the rest of the settings (about 25 ms of every command).
    """
    from newsletter import __version__
    from newsletter.cache import JsonCache

    value = getattr(config.sender, key)
    if not value and not required:
        return
    accepted = JsonCache("addresses")
    known = accepted.key(__version__, value)
    if accepted.get(known):
        return
    from email_validator import EmailNotValidError, validate_email

    where = line_of(config.path, "sender", key)
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        hint = ("Write the address alone; the name shown comes from [sender] name." if "<" in value
                else "Write it like newsletter@yourpaper.com.")
        reason = str(error).rstrip(".")
        raise ConfigError(f"{where}: [sender] {key} = '{value}' is not an email address: {reason}. {hint}") from None
    accepted.put(known, True)


def env_setting(service: str, key: str) -> str | None:
    """The environment's value for a service setting: NEWSLETTER_<SERVICE>_<KEY>."""
    return os.environ.get(f"NEWSLETTER_{service.upper()}_{key.upper()}")
