"""Reading article files: one reader per format, every unusable file reported with where and why.

A file whose name dates it (``2026-11-24-slug.txt``) outside the chosen days is never opened,
so a build costs what the week holds, not what the archive holds. "Outside" leaves a day's
slack on each side: a file named by the UTC day may hold a timestamp that falls on the next or
the previous day in the publication's time zone, and its front matter date decides.
"""

from __future__ import annotations

import calendar
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from newsletter.config import LANGUAGE_TAG, Headings
from newsletter.document import MAX_PIXELS, Block
from newsletter.errors import CONTROL, ContentError, shown
from newsletter.links import image_source
from newsletter.markdown import plain_line, read_markdown
from newsletter.models import Article
from newsletter.plaintext import read_plain
from newsletter.sections import block_heading_kind, split_sections
from newsletter.sections import heading_kind as heading_kind  # re-exported: the heading rules' old home
from newsletter.sections import normalise_heading as normalise_heading
from newsletter.weeks import Period

ARTICLE_SUFFIXES = (".txt", ".md", ".markdown")
# Files an editor may well drop into content/ that are not text: each is reported, never
# silently passed over (a story that "vanished" is worse than an error).
UNUSABLE_KINDS = {
    ".docx": "a Word document",
    ".docm": "a Word document",
    ".doc": "a Word document",
    ".dotx": "a Word template",
    ".rtf": "a rich-text (RTF) document",
    ".odt": "an OpenDocument text document",
    ".fodt": "an OpenDocument text document",
    ".pages": "a Pages document",
    ".pdf": "a PDF",
    ".html": "a web page (HTML)",
    ".htm": "a web page (HTML)",
    ".xhtml": "a web page (HTML)",
}
COMPANION_PARTS = ("analysis", "impact")
DATE_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[-_ .]|$)")
FRONT_MATTER_KEYS = {"title", "date", "url", "section", "summary", "author", "image", "image_alt", "lang", "tags"}
TEXT_KEYS = ("title", "url", "section", "summary", "author", "image", "image_alt", "lang")
FRONT_MATTER_KEYS |= {"source", "source_id"}  # written by `newsletter gather` (docs/sources.md)
# The story picture's size in pixels: without it the email can only guess the ratio (16:9), and
# Outlook for Windows draws the picture at the guessed height.
PIXEL_KEYS = ("image_width", "image_height")
FRONT_MATTER_KEYS |= set(PIXEL_KEYS)
# A setext heading's underline, which follows a Markdown headline on the first line
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")

# Limits (docs/formats.md, "Limits"): far above any real article, far below what hurts. lxml
# silently cuts a text node over 10 MB, so nothing near that may reach the renderer.
MAX_ARTICLE_BYTES = 1_000_000
MAX_LINE_CHARS = 100_000
MAX_FOLDER_DEPTH = 32


# --- finding files --------------------------------------------------------------------------


def article_files(content_dir: Path, period: Period | None = None) -> Iterator[Path]:
    """Article files under ``content_dir`` (any depth), sorted; companions and hidden files left out.

    With a ``period``, folders named like a year (``2025``) or a month (``2025/10``) that lie
    outside it are not even listed, and files whose names date them outside it are passed
    over by name alone, so an archive costs next to nothing. Files of a kind that cannot be
    read (``.docx``, ``.pdf``, ...) are listed too, so that reading them reports them.
    """
    yield from find_articles(content_dir, period)[0]


def find_articles(content_dir: Path, period: Period | None = None) -> tuple[list[Path], list[ContentError]]:
    """``article_files``, and every folder that could not be listed (unreadable, a link loop, too deep).

    Folders are walked without recursion, following links to folders, each folder once.
    """
    if not content_dir.is_dir():
        return [], []
    found: list[Path] = []
    problems: list[ContentError] = []
    seen: set[tuple[int, int]] = set()
    pending: list[tuple[Path, tuple[str, ...]]] = [(content_dir, ())]
    while pending:
        folder, parts = pending.pop()
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in seen:
                problems.append(ContentError(
                    folder, "is a link to a folder that is read already (a loop of symbolic links)",
                    "Remove the link, or move the articles it should reach into content/."))
                continue
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            problems.append(_unreadable(folder, error))
            continue
        for entry in entries:
            name = entry.name
            if name.startswith((".", "_")):
                continue
            path = Path(entry.path)
            if _is_dir(entry):
                if not _may_hold(period, (*parts, name)):
                    continue
                if (bad_name := _name_problem(path, folder=True)) is not None:
                    problems.append(bad_name)
                    continue
                if len(parts) + 1 > MAX_FOLDER_DEPTH:
                    problems.append(ContentError(
                        path, f"is more than {MAX_FOLDER_DEPTH} folders deep inside the content folder",
                        "Move its articles to a folder nearer the top (content/2026/11/ is deep enough)."))
                    continue
                pending.append((path, (*parts, name)))
                continue
            lower = name.lower()
            unusable = Path(lower).suffix in UNUSABLE_KINDS
            if not (unusable or lower.endswith(ARTICLE_SUFFIXES)):
                continue
            day = name_date(path) if period is not None else None
            if period is not None and day is not None and day not in period and (unusable or not _near(period, day)):
                continue  # dated outside the period by its name: never opened
            if unusable or companion_part(path) is None:
                found.append(path)
    return sorted(found), problems


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows a link; False for a broken or looping one
    except OSError:
        return False


def _unreadable(path: Path, error: OSError) -> ContentError:
    reason = error.strerror or str(error)
    if isinstance(error, PermissionError):
        return ContentError(path, f"cannot be read ({reason})",
                            "Give yourself read permission on it (chmod u+r), or move it out of the content folder.")
    return ContentError(path, f"cannot be read ({reason})", "Check that it is a file or folder you can open.")


NAME_DATE_SLACK = timedelta(days=1)  # a file's name may be a day off its date in the publication's zone


def _near(period: Period, day: date) -> bool:
    """The day is in the period, or a day's slack from it (see the module's docstring)."""
    return period.start - NAME_DATE_SLACK <= day <= period.end + NAME_DATE_SLACK


def _may_hold(period: Period | None, parts: tuple[str, ...]) -> bool:
    """False only for a year or year/month folder that lies wholly outside the period (and its slack)."""
    # ASCII digits only: "²".isdigit() is true, and int() refuses it
    if period is None or not (parts[0].isascii() and parts[0].isdigit()) or len(parts[0]) != 4 or len(parts) > 2:
        return True
    start, end = period.start - NAME_DATE_SLACK, period.end + NAME_DATE_SLACK
    year = int(parts[0])
    if len(parts) == 1:
        return start.year <= year <= end.year
    if not (parts[1].isascii() and parts[1].isdigit() and 1 <= int(parts[1]) <= 12):
        return True
    month = (year, int(parts[1]))
    return (start.year, start.month) <= month <= (end.year, end.month)


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


def latest_article_date(content_dir: Path, tz: tzinfo | None = None) -> date | None:
    """The newest date among the articles, from names where possible (used to suggest a week)."""
    latest: date | None = None
    for path in article_files(content_dir):
        day = name_date(path)
        if day is None:
            try:
                day = read_article(path, Headings(), tz).date
            except ContentError:
                continue
        latest = day if latest is None or day > latest else latest
    return latest


def load_articles(
    content_dir: Path, period: Period, headings: Headings, tz: tzinfo | None = None
) -> tuple[list[Article], list[ContentError]]:
    """The period's articles, and every file that could not be used (all of them, not the first).

    ``tz`` is the publication's time zone: a timestamp with an offset counts on its day there.
    """
    articles: list[Article] = []
    paths, problems = find_articles(content_dir, period)
    for path in paths:
        try:
            article = read_article(path, headings, tz)
        except ContentError as error:
            if (day := name_date(path)) is None or day in period:
                problems.append(error)  # a neighbouring week's file (the slack) is that week's problem
            continue
        if article.date in period:
            articles.append(article)
    return articles, sorted(problems, key=lambda error: str(error.path))


# --- reading one file ------------------------------------------------------------------------


class Source(Struct, frozen=True):
    """A decoded file: NFC text with LF line endings, and the line the body starts on.

    ``meta`` holds the front matter as typed: every value is text (or a list of texts), never
    a YAML 1.1 boolean, number or date; ``lines`` gives the file line of each key.
    """

    path: Path
    meta: dict[str, Any]
    body: list[str]
    body_line: int  # 1-based line number of body[0] in the file
    lines: dict[str, int] = field(default_factory=dict)


# C0 controls other than tab and line feed, DEL and the C1 controls: no email can show them.
_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "BACKSPACE", 0x0B: "VERTICAL TAB", 0x0C: "FORM FEED", 0x1B: "ESC",
                  0x7F: "DEL"}
# Invisible format characters that only ever get in the way in text an editor pastes: soft
# hyphen, word joiner, invisible operators, and a byte-order mark anywhere but the start.
# Zero-width space, non-joiner and joiner are kept only between two characters of a script
# that uses them (Thai word breaks, Persian and Indic joining, emoji sequences such as a
# family 👨‍👩‍👧); next to Latin letters, digits, spaces or an edge they are stray.
_NEEDS_JOINERS = "[^\\s\x00-\u024f\u1e00-\u1eff\u2000-\u206f]"
_INVISIBLE = (  # compiled on first use (re caches it): most text has no invisible character at all
    "[\u00ad\u180e\u2060-\u2064\ufeff]"
    f"|(?<!{_NEEDS_JOINERS})[\u200b-\u200d]"
    f"|[\u200b-\u200d](?!{_NEEDS_JOINERS})"
)
_ANY_INVISIBLE = re.compile("[\u00ad\u180e\u2060-\u2064\ufeff\u200b-\u200d]")  # a quick scan first: most text has none
# Signatures of documents that are not text, whatever their file is called.
_SIGNATURES = (
    (b"%PDF-", "a PDF"),
    (b"{\\rtf", "a rich-text (RTF) document"),
    (b"PK\x03\x04", "a Word, OpenDocument or other zipped document"),
    (b"\xd0\xcf\x11\xe0", "an old Word (.doc) document"),
)
_SAVE_AS_TEXT = (
    "Save it as plain text (.txt, UTF-8) or Markdown (.md) and keep the original out of the content "
    "folder (or start its name with _ so it is passed over)."
)


def strip_invisible(text: str) -> str:
    """``text`` without stray invisible format characters (soft hyphens, zero-width spaces, ...).

    Joiners that do a job (in emoji sequences, in scripts that join letters) are kept.
    """
    return re.sub(_INVISIBLE, "", text) if _ANY_INVISIBLE.search(text) else text


def read_text(path: Path) -> str:
    """An article file as text: NFC, LF line endings, stray invisible characters removed.

    UTF-8 with or without a BOM, or UTF-16/UTF-32 with a BOM (Word's "Unicode text"). Raises
    ContentError for a file name that is not printable UTF-8, a kind of file that is not text,
    another encoding (naming the one it seems to be), control characters, a file over
    MAX_ARTICLE_BYTES or a line over MAX_LINE_CHARS.
    """
    _check_name(path)
    kind = UNUSABLE_KINDS.get(path.suffix.lower())
    if kind:
        raise ContentError(path, f"is {kind}, not a text file", _SAVE_AS_TEXT)
    data = _read_bytes(path)
    if not data.strip():
        raise ContentError(path, "is empty", "Write the article, or delete the file.")
    text = _decode(path, data)
    if not text.strip():
        raise ContentError(path, "is empty", "Write the article, or delete the file.")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    _check_characters(path, text)
    return unicodedata.normalize("NFC", strip_invisible(text))


_RENAME = "Rename the file with letters, digits and dashes, like 2026-11-24-council-vote.txt."


def _check_name(path: Path) -> None:
    problem = _name_problem(path)
    if problem is not None:
        raise problem


def _name_problem(path: Path, folder: bool = False) -> ContentError | None:
    """A file or folder name that would reach issue.toml, the email or the terminal garbled."""
    name = path.name
    rename = "Rename the folder with letters, digits and dashes, like 2026 or world-news." if folder else _RENAME
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8, kept by Python as lone surrogates
        return ContentError(path, "its name is not UTF-8 text", rename)
    if CONTROL.search(name):
        return ContentError(path, "its name holds control characters", rename)
    return None


def _read_bytes(path: Path) -> bytes:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise ContentError(path, f"is {what}", "Article files must be ordinary .txt or .md files.")
        if info.st_size > MAX_ARTICLE_BYTES:
            raise _too_big(path, info.st_size)
        with path.open("rb") as handle:
            data = handle.read(MAX_ARTICLE_BYTES + 1)
    except OSError as error:
        raise _unreadable(path, error) from None
    if len(data) > MAX_ARTICLE_BYTES:  # grew while we looked
        raise _too_big(path, len(data))
    return data


def _too_big(path: Path, size: int) -> ContentError:
    return ContentError(
        path, f"is {size:,} bytes, over the limit of {MAX_ARTICLE_BYTES:,} for one article",
        "An article is text only: link to pictures and documents with https:// URLs, and split a very long text.")


def _decode(path: Path, data: bytes) -> str:
    for bom, encoding in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                          (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise ContentError(path, f"starts with a {encoding.upper()} byte-order mark but is not "
                                   f"{encoding.upper()} text", "Save it again as UTF-8 in your editor.") from None
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            raise ContentError(path, f"is {kind} with a text file's name", _SAVE_AS_TEXT)
    head = data[:8192]
    if b"\x00" in head:
        if _looks_utf16(head):
            raise ContentError(path, "seems to be UTF-16 text without a byte-order mark",
                               "Save it as UTF-8 in your editor.")
        raise ContentError(path, "is a binary file, not text", "Article files must be UTF-8 text (.txt or .md).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        guess = _guess_encoding(data)
        seems = f": it seems to be {guess}" if guess else ""
        raise ContentError(path, f"is not UTF-8 text{seems}", "Save it with UTF-8 encoding in your editor.",
                           line) from None


def _looks_utf16(head: bytes) -> bool:
    """Mostly-ASCII UTF-16 has a zero byte at every other position."""
    even, odd = head[0::2], head[1::2]
    if len(odd) < 4:
        return False
    for zeros, others in ((even, odd), (odd, even)):
        if zeros.count(0) >= 0.4 * len(zeros) and others.count(0) <= 0.05 * len(others):
            return True
    return False


def _guess_encoding(data: bytes) -> str | None:
    """The encoding the bytes seem to be in, as a person would name it (charset-normalizer's guess).

    Candidates are the encodings a newsroom's files come in. On short text several decode to
    the same characters (Windows-1250 and -1252 agree on é and ü): then the commoner one, by
    far, is named.
    """
    from charset_normalizer import from_bytes

    sample = data[:65536]
    results = list(from_bytes(sample, cp_isolation=list(_ENCODING_NAMES)))
    if not results:
        return None
    candidates = [result.encoding for result in results]
    if candidates[0] != "cp1258" and ("cp1252" in candidates or _same_text(sample, candidates[0], "cp1252")):
        # charset-normalizer lists one of the encodings that read the bytes alike, not always the commoner
        return _ENCODING_NAMES["cp1252"]
    return _ENCODING_NAMES.get(candidates[0], candidates[0])


def _same_text(data: bytes, encoding: str, other: str) -> bool:
    try:
        return data.decode(encoding) == data.decode(other)
    except (UnicodeDecodeError, LookupError):
        return False


_ENCODING_NAMES = {
    "cp1252": "Windows-1252 (Western European)",
    "cp1258": "Windows-1258 (Vietnamese)",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "iso8859_15": "ISO-8859-15 (Latin-9)",
    "mac_roman": "Mac OS Roman",
    "koi8_r": "KOI8-R (Russian)",
    "big5": "Big5 (Traditional Chinese)",
    "gb2312": "GB2312 (Simplified Chinese)",
    "gb18030": "GB18030 (Chinese)",
    "shift_jis": "Shift JIS (Japanese)",
    "cp932": "Shift JIS (Japanese)",
    "euc_kr": "EUC-KR (Korean)",
    "tis_620": "TIS-620 (Thai)",
}


def _check_characters(path: Path, text: str) -> None:
    match = CONTROL.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        code = ord(match.group(0))
        name = f" ({_CONTROL_NAMES[code]})" if code in _CONTROL_NAMES else ""
        more = len(CONTROL.findall(text)) - 1
        others = f"; {more} more in the file" if more else ""
        if 0x80 <= code <= 0x9F:
            hint = ("Such characters come from text converted from Windows-1252 the wrong way (curly quotes and "
                    "dashes become them): retype the punctuation there.")
        else:
            hint = "Delete it: it is invisible, no email can show it, and your editor may show it as a box or ^"
            hint += (chr(code + 64) if code < 0x20 else "?") + "."
        raise ContentError(path, f"has a control character, U+{code:04X}{name}, at column {column}{others}",
                           hint, line)
    for number, line_text in enumerate(text.split("\n"), 1):
        if len(line_text) > MAX_LINE_CHARS:
            raise ContentError(
                path, f"has a line of {len(line_text):,} characters, over the limit of {MAX_LINE_CHARS:,}",
                "Is a picture or other data pasted in? Link to pictures with an https:// URL; split long "
                "paragraphs.", number)


# --- front matter ----------------------------------------------------------------------------


_NOT_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _check_escapes(path: Path, key: str, value: Any, line: int) -> None:
    """YAML escapes in double quotes ("\\a", "\\x1b", "\\ud800") can make what the file itself may not hold."""
    texts = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else [value]
    for text in texts:
        if isinstance(text, (list, dict)):
            _check_escapes(path, key, text, line)
            continue
        found = _NOT_TEXT.search(text) if isinstance(text, str) else None
        if found:
            code = ord(found.group(0))
            what = "a lone surrogate, not a character" if 0xD800 <= code <= 0xDFFF else "a control character"
            raise ContentError(path, f"front matter '{key}' holds U+{code:04X}, {what}",
                               "Delete the escape that makes it (such as \\a or \\x1b inside double quotes).", line)


def split_front_matter(path: Path, text: str) -> Source:
    """Separate YAML front matter (between ``---`` lines at the top) from the body.

    Values are taken as typed: ``lang: no`` is "no" and ``title: Yes`` is "Yes" (YAML 1.1 would
    make them booleans), ``1.10`` stays "1.10". Aliases and anchors are refused.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return Source(path, {}, lines, 1)
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise ContentError(path, "front matter opened with '---' is never closed", "Add a '---' line after it.", 1)
    from newsletter.frontmatter import FrontMatterProblem, read_front_matter  # PyYAML, only when a file has some

    try:
        entries = read_front_matter("\n".join(lines[1:end]))
    except FrontMatterProblem as problem:
        raise ContentError(path, problem.problem, problem.hint, problem.line + 1) from None
    meta: dict[str, Any] = {}
    key_lines: dict[str, int] = {}
    for key, value, line in entries:
        line += 1  # the text starts after the opening '---'
        if key in meta:
            raise ContentError(path, f"front matter sets '{key}' twice (first on line {key_lines[key]})",
                               "Keep one of them.", line)
        meta[key] = value
        key_lines[key] = line
        _check_escapes(path, key, meta[key], line)
    return Source(path, meta, lines[end + 1 :], end + 2, key_lines)


def read_article(path: Path, headings: Headings, tz: tzinfo | None = None) -> Article:
    """One article file, in either format, with its companion files; ``tz`` dates timestamps.

    The body becomes blocks (newsletter.document) by the format's reader, and is split into
    story, analysis and impact at the heading lines (newsletter.sections).
    """
    source = split_front_matter(path, read_text(path))
    markdown = is_markdown(path)
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
    day = _article_date(source, tz)
    parts: dict[str, tuple[Block, ...]] = {}
    for part in COMPANION_PARTS:  # a companion file is read (and checked) even when unused
        companion, more = _companion(path, part, headings)
        parts[part] = tuple(sections[part]) or companion
        warnings += more if not sections[part] else []
    analysis, impact = parts["analysis"], parts["impact"]
    image, image_alt = _meta_str(source, "image"), _meta_str(source, "image_alt")
    if image and image_source(image) is None:  # the rule pairing applies to show it
        warnings.append(f"{shown(path)}:{_meta_line(source, 'image')}: image '{image}' is not an absolute https:// "
                        "URL, so it is left out")
    elif image and not image_alt:
        warnings.append(f"{shown(path)}:{_meta_line(source, 'image')}: image has no image_alt; describe the picture "
                        "for readers who cannot see it")
    width, height = (_meta_pixels(source, key) for key in PIXEL_KEYS)
    for key, value in zip(PIXEL_KEYS, (width, height), strict=True):
        if value is not None and not image:
            warnings.append(f"{shown(path)}:{_meta_line(source, key)}: {key} is set but there is no image; it sizes "
                            "nothing (add image: or remove the line)")
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
        image=image,
        image_alt=image_alt,
        image_width=width,
        image_height=height,
        lang=_meta_str(source, "lang"),
        tags=meta_tags(source),
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
    """Every key known, every value of the right shape; names the line and what to write."""
    for key, value in source.meta.items():
        line = _meta_line(source, key)
        if key not in FRONT_MATTER_KEYS:
            from difflib import get_close_matches  # only when something is misspelt
            close = get_close_matches(key.lower(), sorted(FRONT_MATTER_KEYS), n=1, cutoff=0.6)
            did_you_mean = f"Did you mean '{close[0]}'? " if close else ""
            raise ContentError(
                source.path,
                f"unknown front matter key '{key}'",
                f"{did_you_mean}Known keys: {', '.join(sorted(FRONT_MATTER_KEYS))}.",
                line,
            )
        if key in TEXT_KEYS or key == "date":
            _meta_str(source, key)
        elif key in PIXEL_KEYS:
            _meta_pixels(source, key)
        elif key == "tags" and not _is_word_list(value):
            raise ContentError(source.path, "front matter 'tags' must be a list of words",
                               "Write 'tags: [health, environment]'.", line)
    lang = _meta_str(source, "lang")
    if lang is not None and not LANGUAGE_TAG.match(lang):
        raise ContentError(source.path, f"front matter lang '{lang}' is not a language tag",
                           "Write a BCP 47 tag such as en, vi or pt-BR.", _meta_line(source, "lang"))


def _is_word_list(value: Any) -> bool:
    return not isinstance(value, dict) and not (
        isinstance(value, list) and any(isinstance(item, (list, dict)) for item in value))




def _meta_line(source: Source, key: str) -> int:
    return source.lines.get(key, 1)


def _meta_str(source: Source, key: str) -> str | None:
    value = source.meta.get(key)
    if isinstance(value, (dict, list)):
        raise ContentError(
            source.path, f"front matter '{key}' must be text", f"Write '{key}: some text'.", _meta_line(source, key)
        )
    text = strip_invisible(str(value)) if value is not None else ""
    return _clean(text) if text.strip() else None


def _meta_pixels(source: Source, key: str) -> int | None:
    """``image_width: 1200`` as 1200: a whole number of pixels from 1 to MAX_PIXELS, else a ContentError."""
    value = source.meta.get(key)
    text = "" if isinstance(value, (dict, list)) else strip_invisible(str(value or "")).strip()
    if value is None or (not text and not isinstance(value, (dict, list))):
        return None  # missing or empty: not set, like every key
    # ASCII digits only ("١٢٠٠".isdigit() is true too), and few of them (int() refuses 4,300)
    if text.isascii() and text.isdigit() and len(text) <= 6 and 0 < int(text) <= MAX_PIXELS:
        return int(text)
    dimension = key.removeprefix("image_")
    typed = f", not '{text if len(text) <= 40 else text[:40] + '…'}'" if text else ""
    raise ContentError(
        source.path,
        f"front matter '{key}' must be a whole number of pixels from 1 to {MAX_PIXELS}{typed}",
        f"Write the picture's {dimension} in pixels, digits only, as in '{key}: "
        f"{1200 if dimension == 'width' else 800}'; leave the line out if you do not know it.",
        _meta_line(source, key),
    )


def meta_tags(source: Source) -> tuple[str, ...]:
    """``tags: [a, b]`` or ``tags: a, b`` as ("a", "b")."""
    value = source.meta.get("tags")
    if value is None:
        return ()
    items = value if isinstance(value, list) else str(value).split(",")
    return tuple(tag for tag in (_clean(str(item)) for item in items if item is not None) if tag)


# One YAML 1.1 timestamp as typed: 2026-11-30, 2026-11-30T06:30:00Z, 2026-11-30 06:30 -08:00, ...
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?"
    r"[ \t]*(Z|z|[-+]\d{1,2}(?::?\d{2})?)?)?$"
)


def parse_article_date(value: str, tz: tzinfo | None = None) -> date:
    """The day of a front matter date in the publication's time zone ``tz`` (default UTC).

    A timestamp with an offset or ``Z`` is converted to ``tz`` before its day is taken; one
    without is taken to be in ``tz`` already. Raises ValueError saying what is wrong.
    """
    match = _TIMESTAMP.match(value.strip())
    if not match:
        raise ValueError(f"'{value}' is not a date")
    year, month, day = (int(match.group(i)) for i in (1, 2, 3))
    _check_day(year, month, day)
    if match.group(4) is None:
        return date(year, month, day)
    hour, minute, second = int(match.group(4)), int(match.group(5)), int(match.group(6) or 0)
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError(f"'{value}' has a time of day that does not exist")
    offset = match.group(7)
    when = datetime(year, month, day, hour, minute, min(second, 59))
    if offset is None:
        return when.date()  # local time where the newsroom is
    return when.replace(tzinfo=_offset(offset, value)).astimezone(tz or UTC).date()


def _check_day(year: int, month: int, day: int) -> None:
    if not 1 <= month <= 12:
        raise ValueError(f"{year:04d}-{month:02d}-{day:02d} is not a date: there is no month {month}")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise ValueError(f"{year:04d}-{month:02d}-{day:02d} is not a day that exists "
                         f"({calendar.month_name[month]} {year} has {last} days)")


def _offset(text: str, value: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"'{value}' has a time-zone offset that does not exist")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


_DATE_HINT = "Write it as YYYY-MM-DD; a time may follow, as in 2026-11-24T18:30:00-08:00."


def _article_date(source: Source, tz: tzinfo | None = None) -> date:
    value = _meta_str(source, "date")
    if value is not None:
        try:
            return parse_article_date(value, tz)
        except ValueError as error:
            raise ContentError(
                source.path, f"front matter date {error}", _DATE_HINT, _meta_line(source, "date")
            ) from None
    match = DATE_PREFIX.match(source.path.name)
    if match is None:
        raise ContentError(
            source.path, "has no date", "Start the file name with YYYY-MM-DD- or add 'date: YYYY-MM-DD' front matter."
        )
    try:
        _check_day(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as error:
        raise ContentError(source.path, f"the date in its name is wrong: {error}",
                           "Rename the file with the right YYYY-MM-DD- prefix.") from None
    return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))


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
