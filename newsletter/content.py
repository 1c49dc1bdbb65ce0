"""Reading article files: one reader per format, every unusable file reported with where and why.

A file whose name dates it (``2026-11-24-slug.txt``) outside the chosen days is never opened,
so a build costs what the week holds, not what the archive holds.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from newsletter.config import Headings
from newsletter.document import Block
from newsletter.errors import ContentError, shown
from newsletter.markdown import plain_line, read_markdown
from newsletter.models import Article
from newsletter.plaintext import read_plain
from newsletter.sections import block_heading_kind, split_sections
from newsletter.sections import heading_kind as heading_kind  # re-exported: the heading rules' old home
from newsletter.sections import normalise_heading as normalise_heading
from newsletter.weeks import Period

ARTICLE_SUFFIXES = (".txt", ".md", ".markdown")
COMPANION_PARTS = ("analysis", "impact")
DATE_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[-_ .]|$)")
FRONT_MATTER_KEYS = {"title", "date", "url", "section", "summary", "author", "image", "image_alt", "lang", "tags"}
FRONT_MATTER_KEYS |= {"source", "source_id"}  # written by `newsletter gather` (docs/sources.md)
# A setext heading's underline, which follows a Markdown headline on the first line
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")


# --- finding files --------------------------------------------------------------------------


def article_files(content_dir: Path, period: Period | None = None) -> Iterator[Path]:
    """Article files under ``content_dir`` (any depth), sorted; companions and hidden files left out.

    With a ``period``, folders named like a year (``2025``) or a month (``2025/10``) that lie
    outside it are not even listed, and files whose names date them outside it are passed
    over by name alone, so an archive costs next to nothing.
    """
    if not content_dir.is_dir():
        return
    found: list[Path] = []
    for folder, dirs, files in os.walk(content_dir):
        rel = Path(folder).relative_to(content_dir).parts
        dirs[:] = [d for d in dirs if not d.startswith((".", "_")) and _may_hold(period, (*rel, d))]
        for name in files:
            if name.startswith((".", "_")) or not name.lower().endswith(ARTICLE_SUFFIXES):
                continue
            path = Path(folder, name)
            if period is not None and (day := name_date(path)) is not None and day not in period:
                continue  # dated outside the period by its name: never opened
            if companion_part(path) is None:
                found.append(path)
    yield from sorted(found)


def _may_hold(period: Period | None, parts: tuple[str, ...]) -> bool:
    """False only for a year or year/month folder that lies wholly outside the period."""
    if period is None or not parts[0].isdigit() or len(parts[0]) != 4 or len(parts) > 2:
        return True
    year = int(parts[0])
    if len(parts) == 1:
        return period.start.year <= year <= period.end.year
    if not (parts[1].isdigit() and 1 <= int(parts[1]) <= 12):
        return True
    month = (year, int(parts[1]))
    return (period.start.year, period.start.month) <= month <= (period.end.year, period.end.month)


def companion_part(path: Path) -> str | None:
    """'analysis' for ``x.analysis.md``, 'impact' for ``x.impact.txt``, else None."""
    inner = Path(path.stem).suffix.lower().lstrip(".")
    return inner if inner in COMPANION_PARTS else None


def name_date(path: Path) -> date | None:
    """The date in a ``YYYY-MM-DD-`` file-name prefix, if it has a valid one."""
    match = DATE_PREFIX.match(path.name)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def latest_article_date(content_dir: Path) -> date | None:
    """The newest date among the articles, from names where possible (used to suggest a week)."""
    latest: date | None = None
    for path in article_files(content_dir):
        day = name_date(path)
        if day is None:
            try:
                day = read_article(path, Headings()).date
            except ContentError:
                continue
        latest = day if latest is None or day > latest else latest
    return latest


def load_articles(content_dir: Path, period: Period, headings: Headings) -> tuple[list[Article], list[ContentError]]:
    """The period's articles, and every file that could not be used (all of them, not the first)."""
    articles: list[Article] = []
    problems: list[ContentError] = []
    for path in article_files(content_dir, period):
        try:
            article = read_article(path, headings)
        except ContentError as error:
            problems.append(error)
            continue
        if article.date in period:
            articles.append(article)
    return articles, problems


# --- reading one file ------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A decoded file: NFC text with LF line endings, and the line the body starts on."""

    path: Path
    meta: dict[str, Any]
    body: list[str]
    body_line: int  # 1-based line number of body[0] in the file


def read_text(path: Path) -> str:
    """UTF-8 (BOM or not, any line endings) normalised to NFC; unusable bytes are a ContentError."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ContentError(path, f"cannot be read ({error.strerror})", "Check the file's permissions.") from None
    if not data.strip():
        raise ContentError(path, "is empty", "Write the article, or delete the file.")
    if b"\x00" in data[:8192]:
        raise ContentError(path, "is a binary file, not text", "Article files must be UTF-8 text (.txt or .md).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ContentError(path, "is not UTF-8 text", "Save it with UTF-8 encoding in your editor.", line) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def split_front_matter(path: Path, text: str) -> Source:
    """Separate YAML front matter (between ``---`` lines at the top) from the body."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return Source(path, {}, lines, 1)
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise ContentError(path, "front matter opened with '---' is never closed", "Add a '---' line after it.", 1)
    import yaml  # only files with front matter need it: PyYAML costs ~15 ms of a build's start-up

    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except ValueError as error:  # PyYAML builds dates itself: "date: 2026-13-45" fails here
        line = next((i for i in range(1, end) if lines[i].split(":", 1)[0].strip() == "date"), 0) + 1
        raise ContentError(
            path, f"front matter has a value that is not a date ({error})", "Write dates as YYYY-MM-DD.", line
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ContentError(
            path,
            f"broken front matter: {problem}",
            "Fix the YAML between the '---' lines (quote values that contain ':').",
            line,
        ) from None
    if not isinstance(meta, dict):
        raise ContentError(
            path, "front matter is not a list of 'key: value' lines", "Write it as 'title: ...' lines.", 2
        )
    return Source(path, meta, lines[end + 1 :], end + 2)


def read_article(path: Path, headings: Headings) -> Article:
    """One article file, in either format, with its companion files.

    The body becomes blocks (newsletter.document) by the format's reader, and is split into
    story, analysis and impact at the heading lines (newsletter.sections).
    """
    source = split_front_matter(path, read_text(path))
    markdown = is_markdown(path)
    meta = source.meta
    _check_meta(source)
    body, body_line = source.body, source.body_line
    title = _meta_str(source, "title")
    if title is None:  # the first non-blank line is the headline, alone
        first = next((i for i, line in enumerate(body) if line.strip()), None)
        if first is None:
            raise ContentError(path, "has no headline", "The first non-blank line must be the headline.")
        # Markdown: the words the line shows ('# A *big* day' -> 'A big day'); plain text: as typed
        title = plain_line(body[first]) if markdown else body[first].strip()
        skip = 2 if markdown and first + 1 < len(body) and _SETEXT_UNDERLINE.match(body[first + 1]) else 1
        body, body_line = body[first + skip :], body_line + first + skip
    blocks, warnings = read_body(path, body, body_line, markdown, headings)
    sections = split_sections(blocks, headings)
    if not sections["story"] and not sections["analysis"] and not sections["impact"]:
        raise ContentError(path, "has a headline but no story", "Write the story on the lines after the headline.")
    day = _article_date(source)
    parts: dict[str, tuple[Block, ...]] = {}
    for part in COMPANION_PARTS:  # a companion file is read (and checked) even when unused
        companion, more = _companion(path, part, headings)
        parts[part] = tuple(sections[part]) or companion
        warnings += more if not sections[part] else []
    analysis, impact = parts["analysis"], parts["impact"]
    tags = meta.get("tags") or ()
    return Article(
        path=path,
        headline=_clean(title),
        date=day,
        body=tuple(sections["story"]),
        analysis=analysis,
        impact=impact,
        url=_meta_str(source, "url"),
        section=_meta_str(source, "section"),
        summary=_meta_str(source, "summary"),
        author=_meta_str(source, "author"),
        image=_meta_str(source, "image"),
        image_alt=_meta_str(source, "image_alt"),
        lang=_meta_str(source, "lang"),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (str(tags),),
        warnings=tuple(warnings),
    )


def is_markdown(path: Path) -> bool:
    return path.suffix.lower() in (".md", ".markdown")


def read_body(
    path: Path, lines: list[str], first_line: int, markdown: bool, headings: Headings
) -> tuple[tuple[Block, ...], list[str]]:
    """A body's lines -> (blocks, warnings) by the format's reader (Markdown or plain text)."""
    if markdown:
        return read_markdown("\n".join(lines), shown(path), first_line)
    return read_plain(lines, headings), []


def _check_meta(source: Source) -> None:
    unknown = sorted(set(source.meta) - FRONT_MATTER_KEYS)
    if unknown:
        raise ContentError(
            source.path,
            f"unknown front matter key '{unknown[0]}'",
            f"Known keys: {', '.join(sorted(FRONT_MATTER_KEYS))}.",
            _meta_line(source, unknown[0]),
        )


def _meta_line(source: Source, key: str) -> int:
    try:
        lines = source.path.read_text("utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    for number, line in enumerate(lines[: source.body_line], 1):
        if line.split(":", 1)[0].strip() == key:
            return number
    return 1


def _meta_str(source: Source, key: str) -> str | None:
    value = source.meta.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        raise ContentError(
            source.path, f"front matter '{key}' must be text", f"Write '{key}: some text'.", _meta_line(source, key)
        )
    return _clean(str(value))


def _article_date(source: Source) -> date:
    value = source.meta.get("date")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise ContentError(
                source.path,
                f"front matter date '{value}' is not a date",
                "Write it as YYYY-MM-DD.",
                _meta_line(source, "date"),
            ) from None
    if value is not None:
        raise ContentError(
            source.path,
            f"front matter date {value!r} is not a date",
            "Write it as YYYY-MM-DD.",
            _meta_line(source, "date"),
        )
    day = name_date(source.path)
    if day is None:
        raise ContentError(
            source.path, "has no date", "Start the file name with YYYY-MM-DD- or add 'date: YYYY-MM-DD' front matter."
        )
    return day


def _companion(path: Path, part: str, headings: Headings) -> tuple[tuple[Block, ...], list[str]]:
    """Blocks from ``<stem>.analysis.md`` / ``<stem>.impact.txt`` next to the article, if any."""
    for suffix in (".md", ".txt", ".markdown"):
        candidate = path.with_name(f"{path.stem}.{part}{suffix}")
        if candidate.is_file():
            source = split_front_matter(candidate, read_text(candidate))
            found, warnings = read_body(candidate, source.body, source.body_line, suffix != ".txt", headings)
            blocks = list(found)
            if blocks and block_heading_kind(blocks[0], headings) == part:
                blocks.pop(0)
            if not blocks:
                raise ContentError(candidate, f"{part} file is empty", f"Write the {part}, or delete the file.")
            return tuple(blocks), warnings
    return (), []


def _clean(text: str) -> str:
    return " ".join(text.split())
