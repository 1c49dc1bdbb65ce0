"""Atomic writes: a failed or interrupted build never leaves a half-written or mixed folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write every file to a temporary sibling first, then rename them all into place.

    Renames happen only once every temporary file is complete and flushed, so an error while
    writing leaves the folder exactly as it was.
    """
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
            staged.append((name, Path(temporary)))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        for _, tmp in staged:
            tmp.unlink(missing_ok=True)
        raise
    for name, tmp in staged:
        os.chmod(tmp, 0o644)
        os.replace(tmp, folder / name)


def write_file(path: Path, data: bytes | str) -> None:
    """Atomically replace one file."""
    write_files(path.parent, {path.name: data.encode() if isinstance(data, str) else data})
