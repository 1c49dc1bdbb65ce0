"""`newsletter init`: a new publication's workspace, ready to build, that never overwrites a file."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import tomllib
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from string import Template
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import click
from msgspec import Struct

from newsletter.config import CONFIG_NAME, find_config
from newsletter.errors import OutputError, shown

SKELETON = "skeleton"  # package data: newsletter/skeleton/
# Words both sample articles hold, by which `newsletter check` knows a sample left in an edition.
SAMPLE_MARK = "a sample article written by `newsletter init`"


class Written(Struct, frozen=True):
    """One file of the new workspace, and whether init wrote it (False: it was there already)."""

    path: Path
    written: bool
    why: str = ""  # why it was left alone, e.g. "exists already, left as it was"


def init_workspace(folder: Path, *, today: date | None = None, timezone: str | None = None) -> list[Written]:
    """Write newsletter.toml, a .gitignore and two sample articles of the current week into ``folder``.

    The settings file has every key with its default, the values a publication must change
    marked ``# CHANGE``, and an [export.<service>] block for each service. ``timezone`` defaults
    to this computer's (else UTC); ``today``, in that zone, dates the samples. A file that
    exists is never touched, and the samples are left out when content/ holds articles
    already. Raises OutputError when the folder cannot be written.
    """
    from newsletter.content import article_files

    _refuse_nesting(folder)
    zone = timezone or local_timezone()
    day = today or datetime.now(ZoneInfo(zone)).date()
    monday = day - timedelta(days=day.weekday())
    results = [
        _create(folder / CONFIG_NAME, _settings(zone)),
        _create(folder / ".gitignore", _skeleton("gitignore")),
    ]
    content = folder / "content"
    if content.is_dir() and next(article_files(content), None) is not None:
        why = "holds articles already, so no samples were added"
        return [*results, Written(content, False, why)]
    results.append(_create(content / f"{monday.isoformat()}-welcome.txt", _sample("sample.txt", monday)))
    results.append(_create(content / f"{day.isoformat()}-night-market.md", _sample("sample.md", day)))
    return results


def _refuse_nesting(folder: Path) -> None:
    """A workspace inside another (init run from content/) would make its settings and samples the
    outer one's articles, and its commands would stop finding the outer settings: a usage error."""
    if (folder / CONFIG_NAME).exists():
        return  # init again in a workspace's own folder: it writes only what is missing
    outer = find_config(folder.resolve().parent) if folder.resolve() != folder.resolve().parent else None
    if outer is not None:
        name = "This folder" if folder.resolve() == Path.cwd().resolve() else shown(folder)
        raise click.UsageError(
            f"{name} is inside the workspace of {shown(outer)}. A publication's folder cannot be inside "
            "another's (its settings and sample articles would become that one's articles): run `newsletter init` "
            "with a folder of its own, e.g. `newsletter init ~/my-weekly`.")


def local_timezone() -> str:
    """This computer's IANA time zone name (TZ, else /etc/localtime, else /etc/timezone), else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(os.readlink("/etc/localtime").partition("zoneinfo/")[2])
    with contextlib.suppress(OSError, UnicodeDecodeError):
        candidates.append(Path("/etc/timezone").read_text("utf-8").strip())
    known = available_timezones()
    for name in candidates:
        if name in known and name not in ("Etc/UTC", "UTC", "Etc/Universal", "Universal", "Zulu"):
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return name
    return "UTC"


@functools.cache
def example_settings() -> dict[tuple[str, str], str]:
    """The example values init's newsletter.toml marks ``# CHANGE``, by (section, key).

    ``newsletter check`` refuses an edition that still carries them. A ``# CHANGE (check)``
    value (the time zone, taken from this computer) is a real proposal, not an example.
    """
    text = _skeleton("newsletter.toml")
    data = tomllib.loads(Template(text).substitute(timezone="UTC"))
    examples: dict[tuple[str, str], str] = {}
    section, marked = "", False
    for line in text.splitlines():
        table = re.match(r"^\[([^\]]+)\]", line)
        key = re.match(r"^([a-z_]+) = ", line)
        if table:
            section = table.group(1)
        elif key and marked and isinstance(value := data.get(section, {}).get(key.group(1)), str):
            examples[(section, key.group(1))] = value
        marked = line.startswith("# CHANGE:")
    return examples


def _skeleton(name: str) -> str:
    return (resources.files("newsletter") / SKELETON / name).read_text("utf-8")


def _settings(zone: str) -> str:
    text = Template(_skeleton("newsletter.toml")).substitute(timezone=zone)
    return text + _service_blocks()


def _service_blocks() -> str:
    """A commented [export.<service>] table per service, from each service's own list of settings."""
    from newsletter.services import SERVICES
    from newsletter.services.settings import toml_example

    lines: list[str] = []
    for name, cls in SERVICES.items():
        settings = [spec for spec in cls.settings_spec if not spec.secret]
        secrets = [spec for spec in cls.settings_spec if spec.secret]
        if not cls.settings_spec:
            continue
        lines += ["", f"# {cls.label}: {cls.summary}."]
        for spec in secrets:
            lines.append(f"# Secret, set only in the environment: NEWSLETTER_{name.upper()}_{spec.key.upper()} "
                         f"({spec.help}).")
        lines.append(f"# [export.{name}]")
        for spec in settings:
            lines.append(f"# {spec.key} = {toml_example(spec)}  # {spec.help}")
    return "\n".join(lines) + "\n"


def _sample(name: str, day: date) -> str:
    values = {"date": day.isoformat(), "year": f"{day.year:04d}", "month": f"{day.month:02d}",
              "weekday": day.strftime("%A")}
    return Template(_skeleton(name)).substitute(values)


def _create(path: Path, text: str) -> Written:
    """Create ``path`` with ``text`` unless it exists (checked and created in one step: never overwritten)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except FileExistsError:
        return Written(path, False, "exists already, left as it was")
    except OSError as error:
        raise OutputError(f"cannot write {shown(path)}: {error.strerror or error}. Check that the folder "
                          "is yours to write in, or give `newsletter init` another folder.") from None
    return Written(path, True)
