"""SpamAssassin's opinion of the message, offline: `spamassassin -t -L` run on the .eml where it is installed.

``-L`` keeps SpamAssassin to its local rules (no DNS blocklists, no network); automatic Bayes
learning is switched off so a check never trains the user's own filter. The environment
variable ``NEWSLETTER_SPAMASSASSIN`` names another command, or ``off`` to skip the score.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from msgspec import Struct

ENV = "NEWSLETTER_SPAMASSASSIN"
_STATUS = re.compile(r"^X-Spam-Status:.*?score=(-?[\d.]+)", re.MULTILINE | re.DOTALL)
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]{2,})\s+(\S.*)$")


class SpamScore(Struct, frozen=True):
    """The score (SpamAssassin calls 5 spam) and the rules that scored, highest first: (points, name, description)."""

    score: float
    rules: tuple[tuple[float, str, str], ...]


def spamassassin_command() -> str | None:
    """The command to run, or None when SpamAssassin is not installed or the user switched it off."""
    chosen = os.environ.get(ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "no", "0", "false") else chosen
    return shutil.which("spamassassin")


def score_message(message: bytes, command: str, timeout: float = 60.0) -> SpamScore | str:
    """SpamAssassin's score of an RFC 5322 message, or a sentence saying why there is none."""
    try:
        run = subprocess.run([command, "-t", "-L", "--cf=bayes_auto_learn 0"], input=message, capture_output=True,
                             timeout=timeout, check=False)
    except FileNotFoundError:
        return f"{command} was not found, so the spam score was not checked"
    except subprocess.TimeoutExpired:
        return f"SpamAssassin gave no score within {timeout:g} s"
    except OSError as error:
        return f"SpamAssassin could not run ({error.strerror})"
    report = run.stdout.decode("utf-8", "replace")
    status = _STATUS.search(report.split("\n\n", 1)[0] if "\n\n" in report else report) or _STATUS.search(report)
    if status is None:
        return "SpamAssassin gave no score (no X-Spam-Status in its answer)"
    rules: dict[str, tuple[float, str, str]] = {}  # -t prints the table twice: in the headers and the body
    details = report.partition("Content analysis details:")[2]
    for line in details.splitlines():
        match = _RULE.match(line)
        if match:
            rules.setdefault(match.group(2), (float(match.group(1)), match.group(2), match.group(3).strip()))
    return SpamScore(float(status.group(1)), tuple(sorted(rules.values(), key=lambda rule: -rule[0])))
