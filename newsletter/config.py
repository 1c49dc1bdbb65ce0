"""Typed publication settings from newsletter.toml, with defaults for every key.

``load_config(path, **overrides)``: options the user did not pass are ``None`` and never
override the file. Unknown keys are errors (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date
from difflib import get_close_matches
from pathlib import Path
from typing import Any, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.errors import ConfigError, shown
from newsletter.manual import see

CONFIG_NAME = "newsletter.toml"


@dataclass(frozen=True)
class Publication:
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


@dataclass(frozen=True)
class Sender:
    name: str = ""
    email: str = "newsletter@example.com"
    reply_to: str = ""


@dataclass(frozen=True)
class Headings:
    """Which heading lines start the analysis and impact parts, and what the email calls them.

    Patterns match a whole heading line case-insensitively; ``*`` stands for any words.
    """

    analysis: tuple[str, ...] = ("Analysis", "* Analysis")
    impact: tuple[str, ...] = ("Impact", "Impact on *")
    analysis_label: str = "Analysis"
    impact_label: str = "Impact"


@dataclass(frozen=True)
class LinkSettings:
    """The footer's links in a standalone build; services replace them with merge tags.

    ``{key}`` in a URL is replaced by the issue's key (e.g. 2026-W48).
    """

    unsubscribe: str = "https://example.com/newsletter/unsubscribe"
    preferences: str = "https://example.com/newsletter/preferences"
    view_online: str = "https://example.com/newsletter/{key}/"
    unsubscribe_mailto: str = ""


@dataclass(frozen=True)
class Theme:
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


@dataclass(frozen=True)
class Labels:
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


@dataclass(frozen=True)
class Build:
    content_dir: str = "content"
    out_dir: str = "issues"
    templates_dir: str = "templates"
    subject: str = "{name}: {first_headline}"
    # Where a story links when its file gives no url: {slug} {stem} {year} {month} {day} {section}
    article_url: str = ""


@dataclass(frozen=True)
class Config:
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
    export: dict[str, Any] = field(default_factory=dict)  # [export] default + [export.<service>]
    strict: bool = False

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
        data = _read_toml(path)
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


def line_of(path: Path | None, section: str, key: str | None = None) -> str:
    """Best-effort 'file:line' of ``[section] key``, so an error points where to look."""
    if path is None:
        return "configuration"
    try:
        lines = path.read_text("utf-8-sig").splitlines()
    except OSError:
        return shown(path)
    in_section = section == ""  # "": a key before the first [table]
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = stripped.strip("[] ") == section
            if in_section and key is None:
                return f"{shown(path)}:{number}"
        elif in_section and key and stripped.split("=", 1)[0].strip().strip('"') == key:
            return f"{shown(path)}:{number}"
    return shown(path)


def _from_dict(data: dict[str, Any], path: Path | None, root: Path) -> Config:
    values: dict[str, Any] = {"root": root, "path": path}
    for section, value in data.items():
        if section == "export":
            if not isinstance(value, dict):
                raise ConfigError(f"{line_of(path, section)}: [export] must be a table.")
            values["export"] = value
        elif section == "strict":
            if not isinstance(value, bool):
                raise ConfigError(f"{line_of(path, '', section)}: strict must be true or false, not {value!r}.")
            values["strict"] = value
        elif section == "labels":
            if not isinstance(value, dict):
                raise ConfigError(f"{line_of(path, '', section)}: [labels] must be a table.")
            values["labels"] = _labels(value, path)
        elif section in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{line_of(path, section)}: [{section}] must be a table.")
            values[section] = _section(_SECTIONS[section], section, value, path)
        else:
            known = ", ".join(f"[{name}]" for name in [*_SECTIONS, "export"])
            raise ConfigError(f"{line_of(path, section)}: unknown section [{section}]. Known sections: {known}.")
    return Config(**values)


def _section(cls: type, name: str, table: dict[str, Any], path: Path | None) -> Any:
    assert is_dataclass(cls)
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        where = line_of(path, name, key)
        if key not in known:
            raise ConfigError(
                f"{where}: unknown setting '{key}' in [{name}]. Known settings: {', '.join(sorted(known))}."
            )
        kwargs[key] = _coerce(hints[key], value, f"{where}: [{name}] {key}")
        _check_characters(kwargs[key], f"{where}: [{name}] {key}", multiline=(name, key) in _MULTILINE)
    return cls(**kwargs)


# Settings shown as paragraphs may hold line breaks; every other one ends up in a header, a
# URL or a single line of the email, where a line break would break it.
_MULTILINE = {("publication", "postal_address"), ("publication", "reason"), ("publication", "tagline")}
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _check_characters(value: Any, where: str, multiline: bool) -> None:
    """No control characters anywhere (TOML lets ``"\\u0007"`` through), no line breaks in one-line settings."""
    texts = value if isinstance(value, tuple) else value.values() if isinstance(value, dict) else [value]
    for text in texts:
        if not isinstance(text, str):
            continue
        control = _CONTROL.search(text)
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
    known = [f.name for f in fields(Labels) if f.name != "languages" and (language or f.name not in _LANGUAGE_ONLY)]
    for key in table:
        if key in known:
            continue
        where = line_of(path, name, key)
        if key in _LANGUAGE_ONLY:
            raise ConfigError(
                f"{where}: [labels] {key} is set in [headings] as {key}_label; only a [labels.<language>] "
                f"table (e.g. [labels.vi]) sets {key}, for the stories in that language."
            )
        hint = ""
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


def _coerce(hint: Any, value: Any, where: str) -> Any:
    text = str(hint)
    if hint is str or text == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, not {value!r}.")
        return value
    if hint is int or text == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number, not {value!r}.")
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


def _validate(config: Config) -> None:
    try:
        ZoneInfo(config.publication.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        where = line_of(config.path, "publication", "timezone")
        raise ConfigError(
            f"{where}: unknown time zone '{config.publication.timezone}'. "
            "Use an IANA name such as 'America/Los_Angeles'."
        ) from None
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
    """[sender] email and reply_to are email addresses (syntax only: no DNS lookup at load time)."""
    from email_validator import EmailNotValidError, validate_email

    value = getattr(config.sender, key)
    if not value and not required:
        return
    where = line_of(config.path, "sender", key)
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        hint = ("Write the address alone; the name shown comes from [sender] name." if "<" in value
                else "Write it like newsletter@yourpaper.com.")
        reason = str(error).rstrip(".")
        raise ConfigError(f"{where}: [sender] {key} = '{value}' is not an email address: {reason}. {hint}") from None


def env_setting(service: str, key: str) -> str | None:
    """The environment's value for a service setting: NEWSLETTER_<SERVICE>_<KEY>."""
    return os.environ.get(f"NEWSLETTER_{service.upper()}_{key.upper()}")
