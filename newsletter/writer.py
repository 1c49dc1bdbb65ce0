"""Safe writes into an edition's folder: the build's files as one step, the editor's by compare-and-swap.

The folder ``issues/<key>/`` holds three kinds of file, each written its own way::

    issue.toml                      the editor's manifest: a regular file, rewritten only by
                                    ``rewrite_file`` (compare-and-swap, mode kept, through a symlink)
    exports.json, message.eml       export's files: regular files, each replaced atomically
                                    (``write_file``)
    email.html -> .current/email.html   one fixed link per built file, made once
    email.txt  -> .current/email.txt
    issue.json -> .current/issue.json
    .current -> .builds/20261124T101502-4242-3f2a9c    the one link naming the edition in use
    .builds/20261124T101502-4242-3f2a9c/    one folder per build: email.html, email.txt, issue.json
    .lock                           held by whoever writes into the folder (``edition_lock``)

**One step.** ``write_edition`` writes every file of a build into a new folder under ``.builds/``,
flushes them to disk, and then replaces the ``.current`` link with a single rename. That rename
is the step: every path a reader uses (``issues/<key>/email.html``, what the preview, an export,
a browser or ``cp`` open) goes through ``.current``, so it sees the whole old edition or the whole
new one. A kill at any moment leaves one of the two: before the rename the new folder is simply
not in use; after it, the old one is. The first build into a folder of plain files (written by an
older version) first moves the files as they are into a build folder and turns each name into
its link, every step showing the same old edition, and only then writes the new one.

**Leftovers.** Temporary files (``.<name>.<pid>-<tag>.tmp``), backups of older versions
(``.<name>.<pid>.bak``), build folders no longer in use and stray temporary links are removed by
the next build, under the lock, so nothing another writer is still making is ever removed. The
previous build's folder is kept until then, so a reader that has just resolved ``.current`` can
still finish reading it.

**Where links cannot be made** (a FAT drive, Windows without the right to create symbolic links),
``write_edition`` falls back to ``write_files``: each file atomically, all renamed only once all
are written, put back if a rename fails. A kill between two renames can then mix two builds.

**Tests** set ``step_hook`` to a function called with a short name between every two changes on
disk, so they can kill a build at each of those moments.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from newsletter.errors import OutputError, shown

CURRENT = ".current"
BUILDS = ".builds"
LOCK = ".lock"
BUILD_ID = re.compile(r"[0-9]{8}T[0-9]{6}-[0-9]+-[0-9a-f]{6}")
LOCK_WAIT_SECONDS = 60.0
# Names other code writes into an edition's folder: their leftovers are the next build's to remove.
KNOWN_BUILT = ("email.html", "email.txt", "issue.json", "web.html")
KNOWN_NAMES = (*KNOWN_BUILT, "issue.toml", "exports.json", "message.eml")
_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?P<tag>[0-9A-Za-z_-]+)\.(?:tmp|bak)")
_OUR_TAG = re.compile(r"[0-9]+-[0-9a-f]{6}")  # what _tag() makes: this module's temporary files, any name

step_hook: Callable[[str], None] | None = None  # tests only: called between every two changes on disk


def _step(name: str) -> None:
    if step_hook is not None:
        step_hook(name)


def _tag() -> str:
    return f"{os.getpid()}-{secrets.token_hex(3)}"


# ---- one writer per edition folder ---------------------------------------------------------

@contextlib.contextmanager
def edition_lock(folder: Path, wait: float = LOCK_WAIT_SECONDS, name: str = LOCK,
                 note_holder: bool = True) -> Iterator[None]:
    """Hold ``folder/.lock`` (or ``folder/<name>``) while writing into the folder: builds, and the preview's
    rebuilds, take turns; so do two `newsletter archive` runs into one site.

    The lock is an OS file lock (``flock``; ``msvcrt.locking`` on Windows), released by the
    system if the holder dies, so a killed build never blocks the next one. The holder's process
    id is written into the lock file for messages, unless ``note_holder`` is false (a published
    folder whose files must not change when nothing else does). A folder this call created stays
    only if something was written into it. Raises OutputError when the folder
    cannot be made, or when another writer holds it for longer than ``wait`` seconds.
    """
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _output_error(folder, error) from None
    path = folder / name
    started = time.monotonic()
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise _output_error(folder, error) from None
        try:
            locked = _try_lock(fd)
        except OSError as error:
            os.close(fd)
            raise _output_error(folder, error) from None
        if locked:
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except OSError:
                same = False
            if same:
                break
            os.close(fd)  # the lock file was removed and made again meanwhile: lock the new one
            continue
        holder = _holder(fd)
        os.close(fd)
        if time.monotonic() - started > wait:
            raise OutputError(
                f"another newsletter command{holder} has been writing into {shown(folder)} for over "
                f"{wait:g} s. Wait for it to finish or stop it, then run this again."
            )
        time.sleep(0.05)
    try:
        if note_holder:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        if created:
            with contextlib.suppress(OSError):
                if os.listdir(folder) == [name]:  # nothing was built: leave no empty folder behind
                    path.unlink()
                    folder.rmdir()
        os.close(fd)  # releases the lock


def _try_lock(fd: int) -> bool:
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, errno.EDEADLK):
            return False
        raise
    return True


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        pid = int(os.pread(fd, 32, 0).decode().strip()) if hasattr(os, "pread") else 0
        if pid:
            return f" (process {pid})"
    return ""


# ---- the build's files, as one step --------------------------------------------------------

def write_edition(folder: Path, files: dict[str, bytes]) -> None:
    """Replace the edition in ``folder`` by ``files`` as one step (see the module docstring).

    Call it holding ``edition_lock(folder)``. Raises OutputError when the folder cannot be
    written; the edition in use is then the one that was there before.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        clean_leftovers(folder)
        if not _links_work(folder):
            write_files(folder, files)
            return
        _adopt(folder, files)
        previous = current_build(folder)
        build = _new_build(folder, files)
        for name in files:
            _link(folder, name)
        _point(folder, build)
    except OSError as error:
        with contextlib.suppress(OSError):
            clean_leftovers(folder)  # the unfinished build, if the switch did not happen
        raise _output_error(folder, error, "The edition in use is still the previous build.") from None
    with contextlib.suppress(OSError):  # the new edition is in use: tidying up can wait for the next build
        _unlink_dangling(folder)
        _clean_builds(folder, keep={f"{BUILDS}/{build.name}", previous})


def current_build(folder: Path) -> str | None:
    """The build folder ``.current`` names, as ``.builds/<id>`` (None without one, or a link not ours)."""
    try:
        return build_named(os.readlink(folder / CURRENT))
    except OSError:
        return None


def build_named(link: str) -> str | None:
    """``.builds/<id>`` if ``link`` (what a ``.current`` link holds) is one this module writes, else None."""
    parts = link.replace("\\", "/").split("/")
    if len(parts) == 2 and parts[0] == BUILDS and BUILD_ID.fullmatch(parts[1]):
        return f"{BUILDS}/{parts[1]}"
    return None


def link_target(name: str) -> str:
    """What the fixed link ``issues/<key>/<name>`` holds."""
    return f"{CURRENT}/{name}"


def _links_work(folder: Path) -> bool:
    """Whether this file system takes symbolic links (FAT drives and some Windows set-ups do not)."""
    if (folder / CURRENT).is_symlink():
        return True
    probe = folder / f".links.{_tag()}.tmp"
    try:
        os.symlink(BUILDS, probe)
    except (OSError, NotImplementedError):
        return False
    probe.unlink()
    return True


def _adopt(folder: Path, files: dict[str, bytes]) -> None:
    """Turn plain built files (an older version's, or a fallback's) into links, the edition unchanged.

    The files as readers see them now are copied into a build folder, ``.current`` is pointed
    at it, and each plain file is replaced by its link: after every step the same edition shows.
    """
    kinds = {name: _entry_kind(folder / name) for name in sorted({*files, *KNOWN_BUILT})}
    plain = [name for name, kind in kinds.items() if kind == "plain"]
    if not plain:
        return
    snapshot = folder / BUILDS / f"{time.strftime('%Y%m%dT%H%M%S')}-{_tag()}"
    snapshot.mkdir(parents=True)
    ours_resolve = current_build(folder) is not None  # .current may be missing, or a link not ours
    for name, kind in kinds.items():
        # Only plain files and our own links through our own .current: a foreign target is never copied in.
        if (kind == "plain" or kind == "ours" and ours_resolve) and (folder / name).is_file():
            shutil.copyfile(folder / name, snapshot / name)
            _fsync(snapshot / name)
    _fsync_dir(snapshot)
    _step("adopt: copied")
    _point(folder, snapshot)
    for name in plain:
        _link(folder, name)
        _step(f"adopt: linked {name}")



def _entry_kind(path: Path) -> str:
    """'ours' (our link), 'plain' (a file to adopt), 'missing', or 'other' (a foreign link)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return "missing"
    if stat.S_ISLNK(mode):
        return "ours" if os.readlink(path) == link_target(path.name) else "other"
    return "plain" if stat.S_ISREG(mode) else "other"


def _new_build(folder: Path, files: dict[str, bytes]) -> Path:
    build = folder / BUILDS / f"{time.strftime('%Y%m%dT%H%M%S')}-{_tag()}"
    build.mkdir(parents=True)
    for name, data in files.items():
        path = build / name
        with open(path, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(path, 0o644)
        _step(f"wrote {name}")
    _fsync_dir(build)
    return build


def _link(folder: Path, name: str) -> None:
    """Make ``folder/name`` the fixed link to ``.current/name`` (one rename, replacing what is there)."""
    if _entry_kind(folder / name) == "ours":
        return
    temporary = folder / f".{name}.{_tag()}.tmp"
    os.symlink(link_target(name), temporary)
    _step(f"link made: {name}")
    os.replace(temporary, folder / name)
    _step(f"link in place: {name}")


def _point(folder: Path, build: Path) -> None:
    """The one step: ``.current`` names ``build`` from now on."""
    temporary = folder / f"{CURRENT}.{_tag()}.tmp"
    os.symlink(f"{BUILDS}/{build.name}", temporary)
    _step("current link made")
    os.replace(temporary, folder / CURRENT)
    _fsync_dir(folder)
    _step("switched")


def _unlink_dangling(folder: Path) -> None:
    """A file the new build no longer makes: drop its link rather than leave it pointing at nothing."""
    for entry in os.scandir(folder):
        path = Path(entry.path)
        if entry.is_symlink() and _entry_kind(path) == "ours" and not path.exists():
            path.unlink(missing_ok=True)


def clean_leftovers(folder: Path) -> None:
    """Remove what an interrupted build or write left in ``folder``; call it holding the folder's lock.

    Removes temporary files and links (``*.tmp``), backups of older versions (``*.bak``) of the
    files this tool writes, and build folders other than the one in use.
    """
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    for entry in entries:
        match = _LEFTOVER.fullmatch(entry.name)
        ours = bool(match and (match.group("name") in KNOWN_NAMES or _OUR_TAG.fullmatch(match.group("tag"))))
        link_probe = entry.name.endswith(".tmp") and entry.name.startswith((f"{CURRENT}.", ".links."))
        if ours or link_probe:
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                os.unlink(entry.path)
            _step(f"removed {entry.name}")
    _clean_builds(folder, keep={current_build(folder)})


def _clean_builds(folder: Path, keep: set[str | None]) -> None:
    """Remove the build folders under .builds/ but those in ``keep`` (as ``.builds/<id>``)."""
    builds = folder / BUILDS
    if not builds.is_dir() or builds.is_symlink():
        return
    for build in builds.iterdir():
        if f"{BUILDS}/{build.name}" in keep:
            continue
        if build.is_dir() and not build.is_symlink():
            shutil.rmtree(build, ignore_errors=True)
        else:
            build.unlink(missing_ok=True)
        _step(f"removed build {build.name}")


# ---- the editor's files: compare-and-swap --------------------------------------------------

class ReadOnlyFile(Exception):
    """The file is not writable; it was left as it is."""


def read_only(path: Path) -> bool:
    """Whether the editor made ``path`` read-only (no write bit, e.g. ``chmod a-w``) or we may not write it.

    The mode bits count even where the permission check would not stop us (as root): they are
    the editor's way of saying "leave this file alone".
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not mode & 0o222 or not os.access(path, os.W_OK)


def rewrite_file(path: Path, update: Callable[[bytes | None], bytes | None], *, attempts: int = 50) -> bytes | None:
    """Rewrite ``path`` by compare-and-swap: read, ``update``, write aside, and swap in only if unchanged.

    ``update`` gets the bytes on disk (None when there is no file) and returns the new bytes,
    or None to leave the file alone. If the file changes between the read and the swap (the
    editor saved), the new bytes are thrown away and ``update`` runs again on what is there
    now, so no save is lost. The file keeps its mode; a symbolic link is written through (its
    target is replaced, the link stays). Returns the bytes on disk afterwards.

    A save can still land after the last comparison and before the swap. Where the system can
    swap two files atomically (Linux's renameat2 RENAME_EXCHANGE, on ext4, XFS, Btrfs, tmpfs),
    the swap hands back exactly what it took out of place: a save found there is swapped back in
    at once (the file shows the build's text for microseconds) and merged in the next round. An
    editor that saves in place and opened the file just before the swap writes into the file
    taken out: it is watched for ``LATE_SAVE`` seconds before it is let go. Elsewhere
    ``os.replace`` leaves the window of microseconds open.

    Raises ReadOnlyFile when the file exists but is not writable, and OutputError when it
    keeps changing (``attempts`` tries) or cannot be written.
    """
    target = Path(os.path.realpath(path))
    for _ in range(attempts):
        current, signature = read_settled(target)
        new = update(current)
        if new is None or new == current:
            return current
        if current is not None and read_only(target):
            raise ReadOnlyFile(str(path))
        try:
            temporary = _write_aside(target, new, signature)
            _step(f"rewrite: wrote {target.name}")
            try:
                if _signature(target) != signature or _bytes(target) != current:
                    continue  # changed meanwhile: merge again from what is there now
                _step(f"rewrite: checked {target.name}")
                if current is None:
                    try:
                        os.link(temporary, target)  # create only if still absent
                    except FileExistsError:
                        continue
                    except OSError:  # no hard links here (a FAT drive): create exclusively instead
                        try:
                            with open(target, "xb") as handle:
                                handle.write(new)
                        except FileExistsError:
                            continue
                elif _exchange(temporary, target):
                    _step(f"rewrite: swapped {target.name}")
                    if _bytes(temporary) != current or _saved_late(temporary, current):
                        _put_back(temporary, target, new)
                        continue  # a save after our look is in place again: merge into it
                    return new
                else:
                    os.replace(temporary, target)
                _step(f"rewrite: swapped {target.name}")
                return new
            finally:
                temporary.unlink(missing_ok=True)
        except OSError as error:
            raise _output_error(target.parent, error) from None
    raise OutputError(f"{shown(path)} kept changing while the build tried to update it; nothing was lost. "
                      "Run the build again once it is saved.")


def _saved_late(taken_out: Path, expected: bytes) -> bool:
    """Whether an editor saving in place, who opened the file just before the swap, wrote into it after."""
    time.sleep(LATE_SAVE)
    return _bytes(taken_out) != expected


def _put_back(taken_out: Path, target: Path, ours: bytes) -> None:
    """Swap an editor's save that our swap took out of place back in; a newer save that replaced ours
    meanwhile stands instead (an editor's save is the whole file: the newer one supersedes it)."""
    if not _exchange(taken_out, target):
        os.replace(taken_out, target)
        return
    if _bytes(taken_out) not in (ours, None):  # a newer save had replaced ours: it goes back in place
        _exchange(taken_out, target)


LATE_SAVE = 0.05  # seconds a swapped-out issue.toml is watched for an in-place save begun before the swap
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (renameat2 with RENAME_EXCHANGE); False where the system cannot."""
    call = _renameat2()
    if call is None:
        return False
    if call(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
        return False  # this file system (or a seccomp filter) does not offer it: plain rename
    raise OSError(code, os.strerror(code), str(second))


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only when a file is swapped: most builds swap none

    try:
        call = ctypes.CDLL(None, use_errno=True).renameat2  # glibc 2.28 and later, musl 1.2.2
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    call.restype = ctypes.c_int
    return call


Signature = tuple[int, int, int, int] | None


def _signature(path: Path) -> Signature:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode)


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


SETTLED = 2.0  # seconds after its last write that a file counts as saved


def read_settled(path: Path, tries: int = 20) -> tuple[bytes | None, Signature]:
    """The file's bytes (None: no file) once two reads a moment apart agree: an editor may be halfway
    through a save (a file truncated, then written again). A file last written more than
    ``SETTLED`` seconds ago is not being saved now: one read does."""
    signature, data = _signature(path), _bytes(path)
    if signature is not None and data is not None and time.time() - signature[2] / 1e9 > SETTLED \
            and _signature(path) == signature:  # and no save began while it was read
        return data, signature
    for _ in range(tries):
        time.sleep(0.005)
        again, more = _signature(path), _bytes(path)
        if again == signature and more == data:
            break
        signature, data = again, more
    return data, signature


def _write_aside(target: Path, data: bytes, signature: Signature) -> Path:
    """``data`` in a temporary file beside ``target``, flushed, with the target's mode."""
    temporary = target.with_name(f".{target.name}.{_tag()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(signature[3]) if signature is not None else 0o644)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


# ---- single files, and several without links -----------------------------------------------

def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write every file to a temporary sibling first, then rename them all into place.

    Renames start only once every temporary file is complete and flushed. Should a rename
    fail part-way (a full disk, a yanked drive), the files already replaced are put back, so
    the folder holds either the whole new set or the whole old one; only a kill between two
    renames can mix them (``write_edition`` has no such gap).
    """
    staged: list[tuple[Path, Path]] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            fd, temporary = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}-", suffix=".tmp", dir=folder)
            staged.append((folder / name, Path(temporary)))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o644)
    except OSError as error:
        _discard(tmp for _, tmp in staged)
        raise _output_error(folder, error) from None
    except BaseException:
        _discard(tmp for _, tmp in staged)
        raise
    _swap_in(folder, staged)


def _swap_in(folder: Path, staged: list[tuple[Path, Path]]) -> None:
    backups: list[tuple[Path, Path | None]] = []  # replaced so far: (target, its old content or None)
    try:
        for target, tmp in staged:
            backup = None
            if target.exists() and not target.is_symlink():
                backup = target.with_name(f".{target.name}.{os.getpid()}.bak")
                os.link(target, backup)  # a second name for the old content, no copy
            try:
                os.replace(tmp, target)
            except OSError:
                if backup is not None:  # still a second name of the untouched target
                    backup.unlink()
                raise
            backups.append((target, backup))
            _step(f"replaced {target.name}")
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
    """Atomically replace one file (through a symbolic link: its target is replaced)."""
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    write_files(target.parent, {target.name: data.encode() if isinstance(data, str) else data})


# ---- helpers -------------------------------------------------------------------------------

def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable; not possible (nor needed) on Windows."""
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        _fsync(folder)


def _output_error(folder: Path, error: OSError, after: str = "Nothing there was changed.") -> OutputError:
    return OutputError(f"cannot write to {shown(folder)}: {error.strerror or error}. {after} Check the folder's "
                       "permissions and free space, or choose another with --out.")
