"""Placing gathered articles in content/: new, updated, unchanged, or left alone because the editor changed it.

A post is matched by its source id: first through the ledger (the file it was written to), then
by a ``source_id:`` line in the front matter of the files around its date (a file the editor
moved, or a workspace cloned without the ledger). A file whose bytes no longer hash to what
gather wrote is the editor's: it is never overwritten; nor is a read-only file. A file the editor only moved (into a
folder of their own) is still gather's to update, where it now is. Each file is written atomically
(newsletter.writer.write_file), then the ledger, so an interruption leaves whole files and a
ledger that at worst forgets the last one (which is then found again by its source id).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from msgspec import Struct

from newsletter.content import ARTICLE_SUFFIXES, article_files
from newsletter.gather.article import ArticleFile
from newsletter.gather.ledger import Entry, Ledger, digest
from newsletter.weeks import Period
from newsletter.writer import read_only, write_file

_SOURCE_ID_LINE = re.compile(r"^source_id:\s*(.+?)\s*$", re.MULTILINE)


class Placed(Struct, frozen=True):
    """What happened (or, in a dry run, would happen) to one article."""

    action: str  # "new", "updated", "unchanged", "kept" (the editor's edits), "duplicate"
    path: Path
    article: ArticleFile
    previous: Path | None = None  # the file an update replaced under another name
    note: str = ""
    site_changed: bool | None = None  # for "kept": did the post change on the site since? None: unknown


class Placer:
    """Decides and writes, one article at a time, for one content folder."""

    def __init__(self, content_dir: Path, ledger: Ledger, period: Period, *, dry_run: bool = False):
        self.content_dir = content_dir
        self.ledger = ledger
        self.dry_run = dry_run
        self.period = period
        self.planned: set[Path] = set()  # paths this run writes (a dry run creates none on disk)
        self._by_id: dict[str, Path] | None = None

    def place(self, article: ArticleFile) -> Placed:
        data = article.data
        entry = self.ledger.get(article.source_id)
        if entry is not None and entry.source != article.source and self.ledger.file(entry).is_file():
            return Placed("duplicate", self.ledger.file(entry), article, note=f"already gathered from '{entry.source}'")
        current = self._current(article, entry)
        if current is None:
            path = self._free(self.content_dir / article.path)
            self._write(path, article, data)
            return Placed("new", path, article)
        old = current.read_bytes()
        if old == data:
            if entry is None or entry.sha256 != digest(old) or self.ledger.file(entry) != current:
                self._record(current, article, data)
            return Placed("unchanged", current, article)
        if entry is None or entry.sha256 != digest(old) or self.ledger.file(entry) != current:
            site_changed = None if entry is None else entry.sha256 != digest(data)
            return Placed("kept", current, article, site_changed=site_changed)
        if read_only(current):  # the editor's "leave this file alone", as for issue.toml
            return Placed("kept", current, article, note="read-only", site_changed=True)
        target = self.content_dir / article.path
        if not self._where_gather_put_it(current, entry):
            target = current.parent / target.name  # the editor filed it in a folder of their own: it stays there
        path = current if target == current else self._free(target)
        self._write(path, article, data)
        if path != current and not self.dry_run:
            current.unlink(missing_ok=True)
        return Placed("updated", path, article, previous=current if path != current else None)

    def _where_gather_put_it(self, current: Path, entry: Entry) -> bool:
        """Whether ``current`` is in the YYYY/MM folder gather wrote it to (not moved by the editor)."""
        try:
            day = date.fromisoformat(entry.date)
        except ValueError:
            return True
        return current.parent == self.content_dir / f"{day:%Y}" / f"{day:%m}"

    def _current(self, article: ArticleFile, entry: Entry | None) -> Path | None:
        if entry is not None and self.ledger.file(entry).is_file():
            return self.ledger.file(entry)
        return self._files_by_id().get(article.source_id)

    def _files_by_id(self) -> dict[str, Path]:
        """source_id -> file, from the front matter of the article files around the period (read once)."""
        if self._by_id is None:
            around = Period("scan", self.period.start - timedelta(days=7), self.period.end + timedelta(days=7))
            self._by_id = {}
            for path in article_files(self.content_dir, around):
                try:
                    head = path.read_bytes()[:20_000].decode("utf-8-sig", "replace")
                except OSError:
                    continue
                if not head.startswith("---"):
                    continue
                front = head.split("\n---", 1)[0]
                match = _SOURCE_ID_LINE.search(front)
                if match:
                    self._by_id.setdefault(match.group(1).strip("'\""), path)
        return self._by_id

    def _free(self, target: Path) -> Path:
        """``target``, or ``-2``, ``-3``... when another article (any format) already has its name."""
        stem, number = target.stem, 1
        candidate = target
        while self._taken(candidate):
            number += 1
            candidate = target.with_name(f"{stem}-{number}{target.suffix}")
        return candidate

    def _taken(self, path: Path) -> bool:
        if path in self.planned:
            return True
        # The build names a story by its path without suffix: x.md beside x.txt would be two stories of one id.
        return any(path.with_suffix(suffix).exists() for suffix in ARTICLE_SUFFIXES)

    def _write(self, path: Path, article: ArticleFile, data: bytes) -> None:
        self.planned.add(path)
        if self.dry_run:
            return
        write_file(path, data)
        self._record(path, article, data)

    def _record(self, path: Path, article: ArticleFile, data: bytes) -> None:
        if self.dry_run:
            return
        relative = path.relative_to(self.content_dir).as_posix()
        self.ledger.record(
            article.source_id, Entry(article.source, relative, digest(data), article.link, article.day.isoformat())
        )
        self.ledger.save()
