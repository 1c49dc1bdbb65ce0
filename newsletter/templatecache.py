"""Compiled theme templates kept between runs (Jinja's bytecode cache), so a build skips compiling them.

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
import os
from pathlib import Path

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
