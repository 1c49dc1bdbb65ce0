"""An edition that cannot be built, as a check's report: the build's error as findings, located at its file and line.

`newsletter check --json` prints this in place of the findings, so a script reading the
report always gets one JSON document in the same shape (``Report.to_json``).
"""

from __future__ import annotations

import re
from pathlib import Path

from newsletter.check.findings import Finding, Location, Report
from newsletter.errors import (
    ConfigError,
    ContentError,
    ContentErrors,
    EmptySelection,
    ManifestError,
    NewsletterError,
    ThemeError,
    printable,
)

NOT_BUILT = "the edition could not be built, so nothing else was checked"
# The finding's code for each kind of build failure (findings.KINDS documents them); others are "build-failed".
CODES: tuple[tuple[type[NewsletterError], str], ...] = (
    (ConfigError, "settings-invalid"),
    (ContentError, "article-invalid"),
    (ManifestError, "manifest-invalid"),
    (EmptySelection, "no-stories"),
    (ThemeError, "theme-invalid"),
)
_LINE = re.compile(r"(.+):(\d+)")
# tomllib names the place in its own words: "Invalid value (at line 3, column 10)".
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def failure_report(error: NewsletterError, key: str) -> Report:
    """The report of a check whose edition ``key`` could not be built because of ``error``."""
    return Report(key, failure_findings(error), notes=(NOT_BUILT,))


def failure_findings(error: NewsletterError) -> tuple[Finding, ...]:
    """``error`` as error findings: one per unusable article file, else one with the place its message names."""
    code = next((code for kind, code in CODES if isinstance(error, kind)), "build-failed")
    if isinstance(error, ContentErrors):
        return tuple(finding for each in error.errors for finding in failure_findings(each))
    if isinstance(error, ContentError):
        return (Finding(code, printable(error.problem), Location(error.path, error.line), hint=printable(error.hint)),)
    where, message = locate(error.format_message())
    return (Finding(code, message, where),)


def locate(message: str) -> tuple[Location, str]:
    """(where, the rest) of a message that opens with a file as ``errors.shown`` writes it, ``path:line: ...``.

    The file must exist (seen from the current folder, as ``shown`` names it); a message that
    names none has no location and is kept whole. The line of a TOML syntax error is in
    tomllib's words later in the message.
    """
    head, sep, rest = message.partition(": ")
    if not sep:
        return Location(), message
    numbered = _LINE.fullmatch(head)
    name, line = (numbered.group(1), int(numbered.group(2))) if numbered else (head, None)
    path = Path(name)
    try:
        exists = path.exists()
    except (OSError, ValueError):  # a name too long, or holding a NUL: not a file
        exists = False
    if not exists:
        return Location(), message
    if line is None and (toml := _TOML_LINE.search(rest)):
        line = int(toml.group(1))
    return Location(path.absolute(), line), rest
