"""The editor's manifest, issues/<key>/issue.toml: written once, then only ever appended to.

The build proposes a subject, preheader and story order; from then on the file is the
editor's. Rebuilds keep every edit (tomlkit preserves comments and layout), append stories
that appeared since, and warn about stories whose files are gone. The file is only ever
rewritten by compare-and-swap (``save_manifest``), so a save made while a build runs is kept.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from newsletter.config import Config, toml_value
from newsletter.content import DATE_PREFIX, strip_invisible
from newsletter.errors import CONTROL, ManifestError, printable, shown
from newsletter.models import Issue, Story
from newsletter.weeks import Period
from newsletter.writer import ReadOnlyFile, read_only, read_settled, rewrite_file

if TYPE_CHECKING:
    import tomlkit
    from tomlkit.items import Table

# Reading uses the standard library's tomllib (fast, already loaded for the settings); tomlkit,
# which keeps the editor's comments and layout, is imported only to write: once per edition,
# and when stories are appended. Most builds never import it.

PREHEADER_CHARS = 120
KEYS = ("subject", "preheader", "intro", "number", "stories")
STORY_KEYS = ("id", "include")
# "WESTMINSTER, Calif. – " opens most ledes; the inbox preview is better without it.
DATELINE = r"^[A-ZÀ-Ỹ][A-ZÀ-Ỹ .'’-]+(?:, [A-Z][A-Za-z.]+)? [–—-] "  # compiled only for a new issue.toml


class Manifest(Struct):
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
    original: str | None = None  # the file's text as read (None: there was no file)
    writable: bool = True  # False: the file is read-only, so the build leaves it as it is

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added)

    @property
    def intro_line(self) -> int:
        """The line of the ``intro`` key in the text (1 when it has none): its warnings name it."""
        return _line(self.text, "intro")


def sync_manifest(path: Path, period: Period, stories: list[Story], config: Config) -> Manifest:
    """Read issue.toml (or propose one) and append the stories it does not know yet."""
    text = _read_text(path)
    if text is None:
        import tomlkit

        document = _proposal(period, stories, config, _next_number(path.parent.parent, period.key))
        manifest = _read(path, tomlkit.dumps(document), stories)
        manifest.created = True
        return manifest
    manifest = _read(path, text, stories)
    manifest.original = text
    manifest.text, added = _appended(text, manifest, stories)
    if added:
        manifest.order += list(added)
        manifest.added = added
        if read_only(path):
            manifest.writable = False
            manifest.warnings.append(
                f"{shown(path)}: the file is read-only, so the new "
                f"{'stories' if len(added) > 1 else 'story'} {', '.join(added)} "
                f"{'are' if len(added) > 1 else 'is'} shown at the end of this build but not added to it. "
                "Make it writable to keep them in the manifest"
            )
    return manifest


def save_manifest(manifest: Manifest, stories: list[Story]) -> str | None:
    """Write the build's change to issue.toml by compare-and-swap; returns the text on disk afterwards.

    The change is the proposal (first build) or the stories appended since. If the file
    changed after the build read it (the editor saved, another build appended), the stories it
    does not list yet are appended to the text found instead, so nothing saved meanwhile is
    lost; a file deleted meanwhile stays deleted (the next build proposes a new one). The
    file's mode is kept and a symbolic link is written through (``writer.rewrite_file``).
    """
    if not manifest.changed or not manifest.writable:
        return manifest.original

    def merge(current: bytes | None) -> bytes | None:
        if current is None:
            return manifest.text.encode() if manifest.created else None
        text = _decoded(manifest.path, current)
        if text == manifest.original:
            return manifest.text.encode()
        merged, _ = _appended(text, _read(manifest.path, text, stories), stories)
        return merged.encode() if merged != text else None

    try:
        data = rewrite_file(manifest.path, merge)
    except ReadOnlyFile:
        return manifest.original
    return None if data is None else _decoded(manifest.path, data)


def _read_text(path: Path) -> str | None:
    """issue.toml's text, or None when there is none yet; a folder or an unreadable file is a ManifestError."""
    if path.is_dir():
        raise ManifestError(f"{shown(path)}: is a folder, not the issue's manifest. Move it away (the build then "
                            "proposes a new issue.toml), or put the manifest file in its place.")
    try:
        data, _ = read_settled(path)
    except OSError as error:
        raise ManifestError(f"{shown(path)}: cannot be read ({error.strerror or error}). It must be a readable "
                            "file; delete or move what is there to have the build propose a new one.") from None
    return None if data is None else _decoded(path, data)


def _decoded(path: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ManifestError(f"{shown(path)}: is not UTF-8 text. Save it as UTF-8.") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as a text-mode read gives it


def _appended(text: str, manifest: Manifest, stories: list[Story]) -> tuple[str, tuple[str, ...]]:
    """``text`` with a [[stories]] table for each story it does not list yet, and their ids."""
    known = set(manifest.order) | manifest.excluded
    new = [story for story in stories if story.id not in known]
    if not new:
        return text, ()
    import tomlkit

    document = tomlkit.parse(text)
    table = document.get("stories")
    if table is None:
        table = tomlkit.aot()
        document.append("stories", table)
    for story in new:
        table.append(_story_table(story))
    return tomlkit.dumps(document), tuple(story.id for story in new)


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
    """Check issue.toml as strictly as newsletter.toml: every key known, every value of its type."""
    where = shown(path)
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ManifestError(
            f"{where}:{_error_line(error)}: invalid TOML ({_reason(error)}). "
            "Fix that line, or delete the file to have the build propose a new one."
        ) from None
    _check_keys(path, text, data)
    warnings: list[str] = []
    subject = _one_line(path, text, data, "subject", warnings)
    if not subject:
        raise ManifestError(f"{where}:{_line(text, 'subject')}: subject is empty. Write the email's subject line.")
    preheader = _one_line(path, text, data, "preheader", warnings)
    intro = _string(path, text, data, "intro")
    control = CONTROL.search(intro)
    if control:
        raise ManifestError(f"{where}:{_line(text, 'intro')}: intro holds the control character "
                            f"U+{ord(control.group(0)):04X}, which no email can show. Delete it.")
    number = data.get("number")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 1):
        # The edition's number as readers see it ("Issue 12"): the first edition is 1.
        quoted = isinstance(number, str) and re.fullmatch(r"\s*0*[1-9][0-9]{0,17}\s*", number) is not None
        instead = f"write number = {int(number)}, without quotes" if quoted else "write it like number = 12"
        raise ManifestError(f"{where}:{_line(text, 'number')}: number must be a positive whole number (1 or more), "
                            f"not {toml_value(number)}: {instead}.")
    entries = data.get("stories", [])
    if not isinstance(entries, list):
        raise ManifestError(f"{where}:{_line(text, 'stories')}: stories must be [[stories]] tables, each with an id.")
    order: list[str] = []
    excluded: set[str] = set()
    present = [story.id for story in stories]
    listed = {entry["id"] for entry in entries if isinstance(entry, dict) and isinstance(entry.get("id"), str)}
    for index, entry in enumerate(entries):
        story_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(story_id, str) or not story_id:
            line = _story_line(text, index) or _line(text, "stories")
            raise ManifestError(f'{where}:{line}: every [[stories]] table needs id = "...".')
        include = entry.get("include", True)
        if not isinstance(include, bool):
            line = _story_line(text, index, "include") or _line(text, story_id)
            raise ManifestError(f"{where}:{line}: include must be true or false (story {printable(story_id)}).")
        if story_id in order or story_id in excluded:
            warnings.append(f"{where}:{_line(text, story_id)}: story {story_id} is listed twice; the first one counts")
            continue
        if not include:
            excluded.add(story_id)
            continue
        order.append(story_id)
        if story_id not in present:
            line = _story_line(text, index, "id") or _line(text, story_id)
            close = _nearest(story_id, [other for other in present if other not in listed])
            if close:
                # A typo: left alone, the story it meant would be appended at the end as "new".
                raise ManifestError(
                    f'{where}:{line}: no article of this edition has the id "{printable(story_id)}". Did you mean '
                    f'"{close}"? Correct the id (or delete that [[stories]] block).'
                )
            warnings.append(
                f"{where}:{line}: story {story_id} has no article file in this week "
                "any more (renamed, moved or deleted?); remove it from issue.toml or restore the file"
            )
    return Manifest(path, subject, preheader, intro, number, order, excluded, text, warnings=warnings)


def _nearest(story_id: str, candidates: list[str]) -> str | None:
    """The unlisted story whose id ``story_id`` is most likely a typo of, if any.

    Ids of one week share long prefixes (``2026/11/2026-11-2``), so they are compared by their
    slug, the file name after its date: "story-huor" is near "story-hour", "b" is near nothing.
    """
    from difflib import SequenceMatcher  # only when a story went missing

    def slug(text: str) -> str:
        name = text.rsplit("/", 1)[-1]
        return DATE_PREFIX.sub("", name) or name

    best, best_score = None, 0.0
    for candidate in candidates:
        score = SequenceMatcher(None, slug(story_id).lower(), slug(candidate).lower()).ratio()
        if score > best_score:
            best, best_score = candidate, score
    return best if best_score >= 0.75 else None


_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029"


def _check_keys(path: Path, text: str, data: dict[str, Any]) -> None:
    """Unknown keys are errors with their line and the nearest known key: a typo must not be ignored."""
    for key in data:
        if key not in KEYS:
            raise ManifestError(_unknown(path, _line(text, key), key, KEYS, "at the top of issue.toml"))
    entries = data.get("stories")
    if not isinstance(entries, list):
        return
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        for key in entry:
            if key not in STORY_KEYS:
                line = _story_line(text, index, key) or _line(text, key)
                raise ManifestError(_unknown(path, line, key, STORY_KEYS, "in a [[stories]] table"))


def _unknown(path: Path, line: int, key: str, known: tuple[str, ...], place: str) -> str:
    from difflib import get_close_matches  # only when something is misspelt
    close = get_close_matches(key.lower(), known, n=1, cutoff=0.6)
    did_you_mean = f"Did you mean '{close[0]}'? " if close else ""
    return (f"{shown(path)}:{line}: unknown key '{printable(key)}' {place}. {did_you_mean}"
            f"Known keys: {', '.join(known)}.")


def _one_line(path: Path, text: str, data: dict[str, Any], key: str, warnings: list[str]) -> str:
    """A header's text on one line: line breaks (which would end the header block) become spaces."""
    value = strip_invisible(_string(path, text, data, key)).replace("\t", " ")
    if _BREAKS.search(value):
        control = next((c for c in value if _BREAKS.match(c) and c not in _LINE_BREAKS), None)
        value = " ".join(_BREAKS.sub(" ", value).split())
        what, fix = ((f"a control character (U+{ord(control):04X})", "delete it") if control
                     else ("line breaks", "write it on one line"))
        warnings.append(f"{shown(path)}:{_line(text, key)}: the {key} has {what}; the email uses it as one "
                        f'line, "{value}" ({fix} to silence this)')
    return value.strip()


def _string(path: Path, text: str, data: dict[str, Any], key: str) -> str:
    where = shown(path)
    value = data.get(key, "")
    if not isinstance(value, str):
        raise ManifestError(f'{where}:{_line(text, key)}: {key} must be text in quotes, like {key} = "...".')
    return unicodedata.normalize("NFC", value)  # as article text is read: decomposed Vietnamese too


def _line(text: str, needle: str) -> int:
    """The line of ``needle``: where it is set as a key, else where a [table] or a quoted value names it."""
    key = re.compile(rf"""\s*(?:{re.escape(needle)}|"{re.escape(needle)}"|'{re.escape(needle)}')\s*=""")
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):  # a key first: a subject may quote the word "intro"
        if key.match(line):
            return number
    for number, line in enumerate(lines, 1):
        if (f'"{needle}"' in line
                or re.match(rf"\s*\[\[?\s*{re.escape(needle)}\s*[\].]", line)):  # [table], [[array]], [a.b]
            return number
    return 1


def _reason(error: tomllib.TOMLDecodeError) -> str:
    return str(error).split(" (at line")[0].split(" (at end of document")[0]


def _error_line(error: tomllib.TOMLDecodeError) -> int:
    # tomllib says where in its message: "Invalid value (at line 3, column 10)".
    match = re.search(r"at line (\d+)", str(error))
    return int(match.group(1)) if match else 1


def _story_line(text: str, index: int, key: str | None = None) -> int | None:
    """The line of ``key`` in the ``index``-th [[stories]] table (of its header without a key)."""
    count, inside = -1, False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped.replace(" ", "").startswith("[[stories]]")
            count += inside
            if inside and count == index and key is None:
                return number
        elif inside and count == index and key is not None and re.match(rf'"?{re.escape(key)}"?\s*=', stripped):
            return number
    return None


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
    document.add("preheader", _shorten(re.sub(DATELINE, "", lead.lede.text), PREHEADER_CHARS))
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


__all__ = ["Manifest", "apply_manifest", "save_manifest", "sync_manifest"]
