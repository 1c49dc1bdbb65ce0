"""What `newsletter gather` wrote: each post's file and a hash of its bytes, in content/.gather/ledger.json.

The ledger is how gather knows a post it has seen (by its source id, so it is never written twice)
and whether the editor changed the file since (the file's bytes no longer hash to what was
written, so it is never overwritten). It holds no timestamps: gathering twice changes nothing,
so the ledger can be committed with the articles. The HTTP cache beside it (``http/``) is
ignored by git through the folder's own .gitignore.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from msgspec import Struct
from msgspec.structs import asdict

from newsletter.writer import write_file

STATE_DIR = ".gather"  # under the content folder; a leading dot keeps the build from reading it
LEDGER_NAME = "ledger.json"
GITIGNORE = "# newsletter gather: commit ledger.json with the articles; http/ is a cache\nhttp/\nlock\n"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Entry(Struct, frozen=True):
    """One gathered post: where its file is (relative to the content folder) and what was written."""

    source: str
    path: str  # POSIX path under the content folder
    sha256: str
    link: str = ""
    date: str = ""  # YYYY-MM-DD, the day the file is dated

    @property
    def story_id(self) -> str:
        """The id the build gives the story: its path without the suffix (pairing.story_id)."""
        return str(Path(self.path).with_suffix("").as_posix())


class Ledger:
    """The ledger of one content folder; ``save`` writes it atomically (writer.write_file)."""

    def __init__(self, content_dir: Path):
        self.content_dir = content_dir
        self.folder = content_dir / STATE_DIR
        self.entries: dict[str, Entry] = {}
        self.problem: str | None = None
        path = self.folder / LEDGER_NAME
        if not path.exists():
            return
        try:
            data = json.loads(path.read_text("utf-8"))
            posts = data["posts"] if isinstance(data, dict) else None
            if not isinstance(posts, dict):
                raise ValueError("no 'posts' table")
            for source_id, value in posts.items():
                self.entries[str(source_id)] = Entry(**{k: str(v) for k, v in value.items() if k in _FIELDS})
        except (OSError, ValueError, TypeError, KeyError) as error:
            # Without the ledger every gathered file looks edited, which is safe: nothing is overwritten.
            self.problem = f"{path} cannot be read ({error}); gathered files are treated as edited"
            self.entries = {}

    def get(self, source_id: str) -> Entry | None:
        return self.entries.get(source_id)

    def file(self, entry: Entry) -> Path:
        return self.content_dir / entry.path

    def record(self, source_id: str, entry: Entry) -> None:
        self.entries[source_id] = entry

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        ignore = self.folder / ".gitignore"
        if not ignore.exists():
            write_file(ignore, GITIGNORE)
        posts = {key: asdict(self.entries[key]) for key in sorted(self.entries)}
        text = json.dumps({"version": 1, "posts": posts}, indent=1, ensure_ascii=False) + "\n"
        write_file(self.folder / LEDGER_NAME, text)


_FIELDS = {"source", "path", "sha256", "link", "date"}


def gathered_stories(content_dir: Path, start: date, end: date) -> dict[str, dict[str, Any]]:
    """For the preview: story id -> {source, url, edited} for each gathered file dated start..end that exists."""
    ledger = Ledger(content_dir)
    stories: dict[str, dict[str, Any]] = {}
    for entry in ledger.entries.values():
        try:
            day = date.fromisoformat(entry.date)
        except ValueError:
            continue
        if not start <= day <= end:
            continue
        try:
            data = ledger.file(entry).read_bytes()
        except OSError:
            continue
        stories[entry.story_id] = {"source": entry.source, "url": entry.link, "edited": digest(data) != entry.sha256}
    return stories
