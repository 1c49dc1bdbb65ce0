"""Typed publication settings from newsletter.toml, with defaults for every key.

``load_config(path, **overrides)``: options the user did not pass are ``None`` and never
override the file. Unknown keys are errors (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.errors import ConfigError

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
}


def load_config(
    path: Path | str | None = None,
    *,
    content_dir: Path | str | None = None,
    out_dir: Path | str | None = None,
    strict: bool | None = None,
) -> Config:
    """Read newsletter.toml (``path``, else ./newsletter.toml, else defaults) and apply overrides."""
    if path is None:
        candidate = Path.cwd() / CONFIG_NAME
        path = candidate if candidate.is_file() else None
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


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such configuration file. Check --config, or run without it to use the defaults."
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror}).") from None
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text. Save it as UTF-8.") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}. See docs/configuration.md for the format.") from None


def line_of(path: Path | None, section: str, key: str | None = None) -> str:
    """Best-effort 'file:line' of ``[section] key``, so an error points where to look."""
    if path is None:
        return "configuration"
    try:
        lines = path.read_text("utf-8-sig").splitlines()
    except OSError:
        return str(path)
    in_section = False
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = stripped.strip("[] ") == section
            if in_section and key is None:
                return f"{path}:{number}"
        elif in_section and key and stripped.split("=", 1)[0].strip().strip('"') == key:
            return f"{path}:{number}"
    return str(path)


def _from_dict(data: dict[str, Any], path: Path | None, root: Path) -> Config:
    values: dict[str, Any] = {"root": root, "path": path}
    for section, value in data.items():
        if section == "export":
            if not isinstance(value, dict):
                raise ConfigError(f"{line_of(path, section)}: [export] must be a table.")
            values["export"] = value
        elif section == "strict":
            values["strict"] = bool(value)
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
    return cls(**kwargs)


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


def env_setting(service: str, key: str) -> str | None:
    """The environment's value for a service setting: NEWSLETTER_<SERVICE>_<KEY>."""
    return os.environ.get(f"NEWSLETTER_{service.upper()}_{key.upper()}")
