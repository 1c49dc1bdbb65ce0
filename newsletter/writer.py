"""Atomic writes: a failed or interrupted build never leaves a half-written or mixed folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from newsletter.errors import OutputError, shown


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write every file to a temporary sibling first, then rename them all into place.

    Renames start only once every temporary file is complete and flushed. Should a rename
    fail part-way (a full disk, a yanked drive), the files already replaced are put back, so
    the folder holds either the whole new build or the whole old one.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
            staged.append((folder / name, Path(temporary)))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o644)
    except OSError as error:
        _discard(tmp for _, tmp in staged)
        raise OutputError(
            f"cannot write to {shown(folder)}: {error.strerror or error}. Nothing there was changed; "
            "check the folder's permissions and free space, or choose another with --out."
        ) from None
    except BaseException:
        _discard(tmp for _, tmp in staged)
        raise
    _swap_in(folder, staged)


def _swap_in(folder: Path, staged: list[tuple[Path, Path]]) -> None:
    backups: list[tuple[Path, Path | None]] = []  # replaced so far: (target, its old content or None)
    try:
        for target, tmp in staged:
            backup = None
            if target.exists():
                backup = target.with_name(f".{target.name}.{os.getpid()}.bak")
                os.link(target, backup)  # a second name for the old content, no copy
            try:
                os.replace(tmp, target)
            except OSError:
                if backup is not None:  # still a second name of the untouched target
                    backup.unlink()
                raise
            backups.append((target, backup))
    except OSError as error:
        for target, backup in reversed(backups):
            if backup is not None:
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)
        _discard(tmp for _, tmp in staged)
        raise OutputError(
            f"cannot replace files in {shown(folder)}: {error.strerror or error}. The previous build was kept."
        ) from None
    _discard(backup for _, backup in backups if backup is not None)


def _discard(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def write_file(path: Path, data: bytes | str) -> None:
    """Atomically replace one file."""
    write_files(path.parent, {path.name: data.encode() if isinstance(data, str) else data})
