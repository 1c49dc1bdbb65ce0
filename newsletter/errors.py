"""Expected failures: each one ends the command with a clear message, never a traceback.

The tree (exit code 1 unless noted; wrong usage is ``click.UsageError``, exit 2)::

    NewsletterError(click.ClickException)
    ├── ConfigError          newsletter.toml (or an option) is wrong
    ├── ContentError         one article file cannot be used (path, line, hint)
    │   └── ContentErrors    several files at once: every unusable file in one run
    ├── ManifestError        issues/<week>/issue.toml cannot be used
    ├── EmptySelection       no articles in the chosen range
    ├── StrictFailure        --strict and the build had warnings
    ├── ThemeError           a template in the theme is broken
    ├── OutputError          issues/<week>/ cannot be written (permissions, a full disk)
    ├── CheckFailed          `newsletter check` (or export's check) found errors
    ├── ServiceError         a mailing service refused or could not be reached
    │   ├── SettingMissing   a service setting is set nowhere
    │   └── UnsupportedFeature  the service cannot do what was asked
    └── SourceError          `newsletter gather`: a feed or WordPress site cannot be read
        └── SourceErrors     several sources at once: every failed source in one run

A bug is not a NewsletterError: it is not caught, so it shows its traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import click

# Characters a terminal would act on or hide: C0 and C1 controls, DEL, the bidirectional
# overrides and isolates (which reorder what follows: "Trojan Source"), and the lone
# surrogates Python uses for bytes of a file name that are not UTF-8.
# Control characters a text may not hold (tab and line feed are text): articles, settings, issue.toml
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


_DOUBLED_STOP = re.compile(r"(?<!\.)([.!?])\.(?=\s|$)")


def printable(text: str, keep: str = "") -> str:
    """``text`` safe to print on a terminal: unprintable characters as ``\\x1b``-style escapes.

    A byte of a file name that is not UTF-8 (a surrogate from ``os.fsdecode``) shows as the
    byte, ``\\xff``; ``keep`` lists characters left as they are (e.g. a newline in a message).
    """

    def escape(match: re.Match[str]) -> str:
        char = match.group(0)
        if char in keep:
            return char
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte
            return f"\\x{code - 0xDC00:02x}"
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escape, text)


def plural(count: int, one: str, many: str) -> str:
    """'1 story', '2 stories'."""
    return f"{count} {one if count == 1 else many}"


def _workspace_of(folder: Path) -> Path | None:
    """The nearest folder at or above ``folder`` holding a newsletter.toml (as load_config finds it)."""
    for candidate in (folder, *folder.parents):
        if (candidate / "newsletter.toml").is_file():
            return candidate
    return None


def shown(path: Path | str) -> str:
    """A path as the user should read it, printable: relative to the current folder when inside it,
    or inside the workspace the current folder belongs to (``../issues/2026-W48/message.eml`` seen
    from content/), else absolute. The same file is shown the same way wherever the workspace lives."""
    path = Path(path)
    text = str(path)
    if path.is_absolute():
        try:
            # The folder resolved, the name kept: a built file is a link into .builds/, shown by its own name.
            real = path.parent.resolve() / path.name
            here = Path.cwd().resolve()
            relative = os.path.relpath(real, here)
            if ".." in Path(relative).parts:
                root = _workspace_of(here)
                if root is None or not real.is_relative_to(root):
                    relative = text
        except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
            relative = text
        text = relative
    return printable(text)


class NewsletterError(click.ClickException):
    """Base class: Click prints ``Error: <message>`` and exits with 1."""

    exit_code = 1

    def format_message(self) -> str:
        # Messages quote what the user wrote (a TOML string may hold "\u001b"): never let it
        # drive the terminal. A quoted sentence that ends in a full stop, followed by ". What
        # to do", would show two: keep one (an ellipsis and "/../" in a URL stay as they are).
        message = _DOUBLED_STOP.sub(r"\1", super().format_message())
        return printable(message, keep="\n\t")


class ConfigError(NewsletterError):
    """The configuration file or a setting in it is wrong."""


class ContentError(NewsletterError):
    """An article file that cannot be used, with where and what to do."""

    def __init__(self, path: Path | str, problem: str, hint: str = "", line: int | None = None):
        self.path = Path(path)
        self.problem = problem
        self.hint = hint
        self.line = line
        super().__init__(self.summary())

    def summary(self) -> str:
        """What Click prints: this file's problem (ContentErrors lists every file)."""
        return self.describe()

    @property
    def where(self) -> str:
        return f"{shown(self.path)}:{self.line}" if self.line else shown(self.path)

    def describe(self) -> str:
        text = f"{self.where}: {self.problem}"
        return f"{text}. {self.hint}" if self.hint else text


class ContentErrors(ContentError):
    """Every unusable file of a run, reported together."""

    def __init__(self, errors: Sequence[ContentError]):
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.path, first.problem, first.hint, first.line)

    def summary(self) -> str:
        count = len(self.errors)
        lines = [f"{count} article file{'s' if count != 1 else ''} cannot be used:"]
        lines += [f"  {error.describe()}" for error in self.errors]
        lines.append(f"Fix {'it' if count == 1 else 'them'}, or pass --skip-invalid to build from the rest.")
        return "\n".join(lines)


class ManifestError(NewsletterError):
    """The issue manifest (issue.toml) cannot be read or is inconsistent."""


class EmptySelection(NewsletterError):
    """No article falls in the chosen week or date range."""


class StrictFailure(NewsletterError):
    """--strict turns the build's warnings into a failure."""


class ThemeError(NewsletterError):
    """A theme template does not compile or render."""


class OutputError(NewsletterError):
    """The edition's folder cannot be written; nothing in it was changed."""


class CheckFailed(NewsletterError):
    """The check found errors (or, with --strict, warnings); the message lists them."""


class ServiceError(NewsletterError):
    """A mailing service refused the request or could not be reached."""

    def __init__(self, service: str, message: str):
        self.service = service
        super().__init__(f"{service}: {message}")


class SettingMissing(ServiceError):
    """A required service setting is set in none of the places it can come from."""


class UnsupportedFeature(ServiceError):
    """The service has no way to do what was asked (anymail's ``unsupported_feature``)."""


class SourceError(NewsletterError):
    """A source of `newsletter gather` (a feed, a WordPress site) cannot be read: which, why, what to do.

    ``where`` is the file and line of its [sources.<name>] table, once known.
    """

    def __init__(self, source: str, message: str, where: str = ""):
        self.source = source
        self.detail = message
        self.where = where
        super().__init__(f"{where + ': ' if where else ''}source '{source}': {message}")


class SourceErrors(SourceError):
    """Several sources failed in one `newsletter gather` run, each named with what to do."""

    def __init__(self, errors: Sequence[SourceError], closing: str = ""):
        self.errors = list(errors)
        lines = [f"{len(self.errors)} sources could not be read:"]
        lines += [f"  {error.format_message()}" for error in self.errors]
        NewsletterError.__init__(self, "\n".join([*lines, closing] if closing else lines))
        first = self.errors[0]
        self.source, self.detail, self.where = first.source, first.detail, first.where
