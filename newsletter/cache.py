"""What a build keeps between runs so the next one skips work whose result cannot have changed.

Three things, each keyed by everything that shapes it, so a cache can only be missing, never
stale: the theme's compiled templates (Jinja's bytecode cache), the theme's inlined style rules
as premailer parses them (``JsonCache("css-rules")``, newsletter.inline), and the sender
addresses email-validator already accepted (``JsonCache("addresses")``, newsletter.config).
A cache that cannot be read or written is simply not used: it never fails a command.

Compiling the theme's templates to Python is a good part of a build's own work (about 25 ms
each time the email or the web page is rendered). Jinja can keep the compiled code on disk,
checked against each template's source (a changed template is compiled again). The cache
lives in ``$NEWSLETTER_CACHE_DIR``, else ``$XDG_CACHE_HOME/newsletter``, else
``~/.cache/newsletter``, in a folder named after everything that shapes the compiled code
(Jinja's version and the environment's syntax options); without a writable folder there is
no cache and templates are compiled as before.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


def cache_root() -> Path | None:
    """Where the tool keeps its caches (created on first use); None when there is nowhere.

    A relative ``$XDG_CACHE_HOME`` is ignored, as the XDG Base Directory Specification asks
    (it would put a cache folder in whatever folder a command runs in). Without ``$HOME`` and
    without a password entry for the user (a container's arbitrary uid), there is no home and
    so no cache.
    """
    explicit = os.environ.get("NEWSLETTER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "newsletter"
    try:
        return Path.home() / ".cache" / "newsletter"
    except RuntimeError:  # pathlib: "Could not determine home directory."
        return None


def bytecode_cache(env: jinja2.Environment) -> jinja2.BytecodeCache | None:
    """A FileSystemBytecodeCache for ``env``'s options, or None when no cache folder can be written."""
    import jinja2

    shape = repr((jinja2.__version__, env.block_start_string, env.block_end_string, env.variable_start_string,
                  env.variable_end_string, env.comment_start_string, env.comment_end_string,
                  env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks,
                  env.newline_sequence, env.keep_trailing_newline, env.optimized, env.autoescape,
                  sorted(env.extensions), env.is_async))
    root = cache_root()
    if root is None:
        return None
    folder = root / f"jinja-{hashlib.sha256(shape.encode()).hexdigest()[:16]}"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = os.stat(folder)
    except OSError:
        return None
    # Compiled templates are run: only from a folder no other user can write into (Jinja's own
    # default folder is checked the same way), never from a shared or planted one.
    if not stat.S_ISDIR(info.st_mode) or not _own(info):
        return None
    if not os.access(folder, os.W_OK | os.X_OK):
        return None
    return _kept_bytecode()(str(folder))


@functools.cache
def _kept_bytecode() -> type[jinja2.FileSystemBytecodeCache]:
    """FileSystemBytecodeCache that takes a damaged file for a missing one and a failed write for none.

    Jinja reads a cache file's checksum with ``pickle.load``, which raises on a file cut short
    (a full disk, a killed process) and would run whatever a pickle asks for; here the file's
    start is compared with the bytes Jinja would write for the template's checksum instead
    (``Bucket.write_bytecode``: the magic header, the checksum pickled with protocol 2, then the
    marshalled code). Jinja's own writer raises when its temporary file cannot be made (the
    folder removed while the preview runs, a full disk): that only means no cache this time.
    """
    import marshal
    import pickle
    import types

    import jinja2
    from jinja2.bccache import Bucket, bc_magic

    class KeptBytecode(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket: Bucket) -> None:
            try:
                with open(self._get_cache_filename(bucket), "rb") as handle:
                    data = handle.read()
            except OSError:
                return
            header = bc_magic + pickle.dumps(bucket.checksum, 2)
            if not data.startswith(header):
                return
            try:
                code = marshal.loads(data[len(header):])
            except (EOFError, ValueError, TypeError):
                return
            if isinstance(code, types.CodeType):
                bucket.code = code

        def dump_bytecode(self, bucket: Bucket) -> None:
            with contextlib.suppress(OSError):  # no cache this time
                super().dump_bytecode(bucket)

    return KeptBytecode


class JsonCache:
    """A small JSON file of ``key -> value`` in the cache folder, read once, written atomically.

    Keys should be hashes of everything the value depends on (``JsonCache.key``). The file holds
    at most ``limit`` entries (the oldest go first), so it never grows without bound.
    """

    def __init__(self, name: str, limit: int = 256):
        root = cache_root()
        self.path = root / f"{name}.json" if root is not None else None  # None: no cache at all
        self.limit = limit
        self._data: dict[str, Any] | None = None

    @staticmethod
    def key(*parts: str) -> str:
        return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()

    def _entries(self) -> dict[str, Any]:
        if self._data is None:
            try:
                data = json.loads(_own_text(self.path)) if self.path is not None else {}
            except (OSError, ValueError):
                data = {}
            self._data = data if isinstance(data, dict) else {}
        return self._data

    def get(self, key: str) -> Any:
        return self._entries().get(key)

    def put(self, key: str, value: Any) -> None:
        self.update({key: value})

    def update(self, values: dict[str, Any]) -> None:
        """Add or refresh several entries, writing the file once."""
        entries = self._entries()
        for key, value in values.items():
            entries.pop(key, None)
            entries[key] = value
        while len(entries) > self.limit:
            del entries[next(iter(entries))]
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        except OSError:
            return  # no cache this time
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entries, handle)
            os.replace(temporary, self.path)
        except OSError:  # no cache this time, and no partial file left behind (a full disk)
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _own_text(path: Path) -> str:
    """The text of a cache file this user wrote (ours, writable by no one else), else "" (no cache).

    What is kept ends up in the email (style declarations): a file planted in a shared cache
    folder must not be.
    """
    with open(path, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not _own(info):
            return ""
        return handle.read().decode("utf-8")


def _own(info: os.stat_result) -> bool:
    """Whether a file or folder is this user's and no one else may write it (POSIX; elsewhere, yes)."""
    if not hasattr(os, "getuid"):  # Windows: no owner ids or mode bits to compare
        return True
    return info.st_uid == os.getuid() and not info.st_mode & 0o022
