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

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


def cache_root() -> Path:
    """Where the tool keeps its caches (created on first use)."""
    explicit = os.environ.get("NEWSLETTER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "newsletter"


def bytecode_cache(env: jinja2.Environment) -> jinja2.BytecodeCache | None:
    """A FileSystemBytecodeCache for ``env``'s options, or None when no cache folder can be written."""
    import jinja2

    shape = repr((jinja2.__version__, env.block_start_string, env.block_end_string, env.variable_start_string,
                  env.variable_end_string, env.comment_start_string, env.comment_end_string,
                  env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks,
                  env.newline_sequence, env.keep_trailing_newline, env.optimized, env.autoescape,
                  sorted(env.extensions), env.is_async))
    folder = cache_root() / f"jinja-{hashlib.sha256(shape.encode()).hexdigest()[:16]}"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    if not os.access(folder, os.W_OK | os.X_OK):
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


class JsonCache:
    """A small JSON file of ``key -> value`` in the cache folder, read once, written atomically.

    Keys should be hashes of everything the value depends on (``JsonCache.key``). The file holds
    at most ``limit`` entries (the oldest go first), so it never grows without bound.
    """

    def __init__(self, name: str, limit: int = 256):
        self.path = cache_root() / f"{name}.json"
        self.limit = limit
        self._data: dict[str, Any] | None = None

    @staticmethod
    def key(*parts: str) -> str:
        return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()

    def _entries(self) -> dict[str, Any]:
        if self._data is None:
            try:
                data = json.loads(self.path.read_text("utf-8"))
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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entries, handle)
            os.replace(temporary, self.path)
        except OSError:
            pass  # no cache this time
