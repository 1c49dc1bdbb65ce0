"""The editor's manifest, issues/<key>/issue.toml: written once, then only ever appended to.

The build proposes a subject, preheader and story order; from then on the file is the
editor's. Rebuilds keep every edit (tomlkit preserves comments and layout), append stories
that appeared since, and warn about stories whose files are gone.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsletter.config import Config
from newsletter.errors import ManifestError, shown
from newsletter.models import Issue, Story
from newsletter.weeks import Period

if TYPE_CHECKING:
    import tomlkit
    from tomlkit.items import Table

# Reading uses the standard library's tomllib (fast, already loaded for the settings); tomlkit,
# which keeps the editor's comments and layout, is imported only to write: once per edition,
# and when stories are appended. Most builds never import it.

PREHEADER_CHARS = 120
# "WESTMINSTER, Calif. – " opens most ledes; the inbox preview is better without it.
DATELINE = re.compile(r"^[A-ZÀ-Ỹ][A-ZÀ-Ỹ .'’-]+(?:, [A-Z][A-Za-z.]+)? [–—-] ")


@dataclass
class Manifest:
    """The manifest as read (or proposed), and whether the build must write it back."""

    path: Path
    subject: str
    preheader: str
    intro: str
    number: int | None
    order: list[str]  # story ids, lead first, as the editor left them
    excluded: set[str]
    text: str
    created: bool = False
    added: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added)


def sync_manifest(path: Path, period: Period, stories: list[Story], config: Config) -> Manifest:
    """Read issue.toml (or propose one) and append the stories it does not know yet."""
    where = shown(path)
    if not path.exists():
        import tomlkit

        document = _proposal(period, stories, config, _next_number(path.parent.parent, period.key))
        manifest = _read(path, tomlkit.dumps(document), stories)
        manifest.created = True
        return manifest
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError:
        raise ManifestError(f"{where}: is not UTF-8 text. Save it as UTF-8.") from None
    manifest = _read(path, text, stories)
    known = set(manifest.order) | manifest.excluded
    new = [story for story in stories if story.id not in known]
    if new:
        import tomlkit

        document = tomlkit.parse(text)
        table = document.get("stories")
        if table is None:
            table = tomlkit.aot()
            document.append("stories", table)
        for story in new:
            table.append(_story_table(story))
        manifest.text = tomlkit.dumps(document)
        manifest.order += [story.id for story in new]
        manifest.added = tuple(story.id for story in new)
    return manifest


def apply_manifest(manifest: Manifest, period: Period, stories: list[Story], warnings: list[str]) -> Issue:
    """The edition: the manifest's order and words applied to the stories found this build."""
    by_id = {story.id: story for story in stories}
    ordered = tuple(by_id[story_id] for story_id in manifest.order if story_id in by_id)
    return Issue(
        key=period.key,
        start=period.start,
        end=period.end,
        subject=manifest.subject,
        preheader=manifest.preheader,
        intro=manifest.intro,
        stories=ordered,
        number=manifest.number,
        warnings=tuple(warnings),
    )


def _read(path: Path, text: str, stories: list[Story]) -> Manifest:
    where = shown(path)
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ManifestError(
            f"{where}:{_error_line(error)}: invalid TOML ({_reason(error)}). "
            "Fix that line, or delete the file to have the build propose a new one."
        ) from None
    subject = _string(path, text, data, "subject")
    if not subject.strip():
        raise ManifestError(f"{where}:{_line(text, 'subject')}: subject is empty. Write the email's subject line.")
    number = data.get("number")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        raise ManifestError(f"{where}:{_line(text, 'number')}: number must be a whole number, like 12.")
    entries = data.get("stories", [])
    if not isinstance(entries, list):
        raise ManifestError(f"{where}:{_line(text, 'stories')}: stories must be [[stories]] tables, each with an id.")
    order: list[str] = []
    excluded: set[str] = set()
    warnings: list[str] = []
    present = {story.id for story in stories}
    for entry in entries:
        story_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(story_id, str) or not story_id:
            raise ManifestError(f'{where}:{_line(text, "stories")}: every [[stories]] table needs id = "...".')
        include = entry.get("include", True)
        if not isinstance(include, bool):
            raise ManifestError(f"{where}:{_line(text, story_id)}: include must be true or false (story {story_id}).")
        if story_id in order or story_id in excluded:
            warnings.append(f"{where}:{_line(text, story_id)}: story {story_id} is listed twice; the first one counts")
            continue
        if not include:
            excluded.add(story_id)
            continue
        order.append(story_id)
        if story_id not in present:
            warnings.append(
                f"{where}:{_line(text, story_id)}: story {story_id} has no article file in this week "
                "any more (renamed, moved or deleted?); remove it from issue.toml or restore the file"
            )
    return Manifest(
        path,
        subject,
        _string(path, text, data, "preheader"),
        _string(path, text, data, "intro"),
        number,
        order,
        excluded,
        text,
        warnings=warnings,
    )


def _string(path: Path, text: str, data: dict[str, Any], key: str) -> str:
    where = shown(path)
    value = data.get(key, "")
    if not isinstance(value, str):
        raise ManifestError(f'{where}:{_line(text, key)}: {key} must be text in quotes, like {key} = "...".')
    return value


def _line(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*{re.escape(needle)}\s*=", line) or f'"{needle}"' in line:
            return number
    return 1


def _reason(error: tomllib.TOMLDecodeError) -> str:
    return str(error).split(" (at line")[0].split(" (at end of document")[0]


def _error_line(error: tomllib.TOMLDecodeError) -> int:
    # tomllib says where in its message: "Invalid value (at line 3, column 10)".
    match = re.search(r"at line (\d+)", str(error))
    return int(match.group(1)) if match else 1


def _proposal(period: Period, stories: list[Story], config: Config, number: int) -> tomlkit.TOMLDocument:
    import tomlkit

    lead = stories[0]
    document = tomlkit.document()
    document.add(tomlkit.comment(f"The manifest of the {period.key} edition ({period.start} to {period.end})."))
    document.add(tomlkit.comment("It is yours: later builds keep your edits and only append stories that appear."))
    document.add(tomlkit.comment("Reorder the [[stories]] blocks (the first is the lead), or set include = false."))
    document.add(tomlkit.nl())
    document.add(
        "subject",
        config.build.subject.format(
            name=config.publication.name, first_headline=lead.headline, key=period.key, number=number
        ),
    )
    document.add("preheader", _shorten(DATELINE.sub("", lead.lede.text), PREHEADER_CHARS))
    document.add("intro", "")
    document.add("number", number)
    document.add(tomlkit.nl())
    stories_table = tomlkit.aot()
    for story in stories:
        stories_table.append(_story_table(story))
    document.add("stories", stories_table)
    return document


def _story_table(story: Story) -> Table:
    import tomlkit

    table = tomlkit.table()
    table.add("id", story.id)
    table["id"].comment(story.headline[:100])
    table.add("include", True)
    return table


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:–—-")
    return cut + "…"


def _next_number(issues_dir: Path, key: str) -> int:
    """One more than the highest number among the other editions' manifests."""
    highest = 0
    if issues_dir.is_dir():
        for other in issues_dir.glob("*/issue.toml"):
            if other.parent.name >= key:
                continue
            try:
                value = tomllib.loads(other.read_text("utf-8-sig")).get("number")
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                highest = max(highest, int(value))
    return highest + 1


__all__ = ["Manifest", "apply_manifest", "sync_manifest"]
