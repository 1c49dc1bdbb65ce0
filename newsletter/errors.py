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
    └── ServiceError         a mailing service refused or could not be reached
        ├── SettingMissing   a service setting is set nowhere
        └── UnsupportedFeature  the service cannot do what was asked

A bug is not a NewsletterError: it is not caught, so it shows its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click


def shown(path: Path | str) -> str:
    """A path as the user should read it: relative to the current folder when inside it."""
    path = Path(path)
    try:
        # The folder resolved, the name kept: a built file is a link into .builds/, shown by its own name.
        real = path.parent.resolve() / path.name
        return str(real.relative_to(Path.cwd().resolve())) if path.is_absolute() else str(path)
    except (ValueError, OSError):
        return str(path)


class NewsletterError(click.ClickException):
    """Base class: Click prints ``Error: <message>`` and exits with 1."""

    exit_code = 1


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


class ServiceError(NewsletterError):
    """A mailing service refused the request or could not be reached."""

    def __init__(self, service: str, message: str):
        self.service = service
        super().__init__(f"{service}: {message}")


class SettingMissing(ServiceError):
    """A required service setting is set in none of the places it can come from."""


class UnsupportedFeature(ServiceError):
    """The service has no way to do what was asked (anymail's ``unsupported_feature``)."""
