"""Property tests (Hypothesis): whatever an editor puts in the files, the CLI exits 0, 1 or 2, never a traceback.

Random values of every TOML type go into newsletter.toml and issue.toml, random YAML into front
matter, random bytes (control characters, huge lines, odd encodings) into articles. Examples are
few and bounded so the suite stays fast; each runs the real CLI in-process in a fresh workspace.
"""

from __future__ import annotations

import contextlib
import tempfile
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any

import tomlkit
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from newsletter.cli import cli
from newsletter.config import _SECTIONS
from newsletter.content import FRONT_MATTER_KEYS
from tests.conftest import IN_CI

# Random on a developer's machine, to keep finding new cases; the same examples on every CI run.
BOUNDED = settings(max_examples=50, deadline=None, database=None, derandomize=IN_CI,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WEEK = "2026-W48"
ARTICLE = "Ferry returns to the island\nBANGOR – The ferry runs again.\nAnalysis\nMissed.\nImpact\nFaster trips.\n"
SETTINGS: dict[str, Any] = {
    "publication": {"name": "Island Weekly", "timezone": "America/Los_Angeles"},
    "sender": {"name": "Island Weekly", "email": "news@island.example"},
    "build": {"article_url": "https://island.example/{year}/{slug}/"},
}
MANIFEST: dict[str, Any] = {
    "subject": "Island Weekly: Ferry returns", "preheader": "The ferry runs again.", "intro": "", "number": 3,
    "stories": [{"id": "2026-11-24-ferry", "include": True}],
}

# ---- strategies --------------------------------------------------------------------------------

TRICKY_TEXT = st.sampled_from([
    "", " ", "\n", "line\nbreak", "{", "}", "{name}", "{headline}", "{0}", "{name!r}", "{name:d}", "{{", "*|UNSUB|*",
    "\u0007", "\x1b[2J", "\u200b", "\ufeff", "no", "Yes", "1.10", "https://x.example/{key}/", "#zzz", "#12345",
    "a@b", "x@y.example", "Name <x@y.example>", "Etc/GMT+25", "../..", "\u202e", "nan", "\\", '"', "'",
])
TEXT = st.one_of(TRICKY_TEXT, st.text(max_size=40))
SCALARS = st.one_of(
    TEXT, st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(), st.booleans(),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)), st.dates(),
    st.times(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def keys_of(section: str) -> list[str]:
    cls = _SECTIONS.get(section)
    return list(cls.__struct_fields__) if cls else []


SERVICE_KEYS = ["api_url", "api_key", "list_id", "list_ids", "username", "token", "timeout", "retries", "host",
                "security", "port", "template_id"]


@st.composite
def settings_files(draw: st.DrawFn) -> str:
    """A newsletter.toml: the valid settings with a few keys set to random values of random types.

    Mostly known sections and keys, so the values reach the checks and the email behind them.
    """
    if draw(st.integers(0, 19)) == 0:
        return draw(st.text(max_size=200))  # not even TOML
    data: dict[str, Any] = {name: dict(table) for name, table in SETTINGS.items()}
    for _ in range(draw(st.integers(1, 4))):
        choice = draw(st.integers(0, 19))
        if choice == 0:
            data[draw(TEXT)] = draw(VALUES)  # an unknown section or top-level key
        elif choice == 1:
            data["strict"] = draw(VALUES)
        elif choice <= 3:
            table = data.get("export") if isinstance(data.get("export"), dict) else {}
            service = draw(st.sampled_from(["default", "eml", "smtp", "mailchimp", "listmonk", "buttondown"]))
            key = draw(st.sampled_from(SERVICE_KEYS))
            table[service] = draw(VALUES) if service == "default" else {key: draw(VALUES)}
            data["export"] = table
        else:
            section = draw(st.sampled_from(list(_SECTIONS)))
            key = draw(st.sampled_from(keys_of(section))) if draw(st.integers(0, 9)) else draw(TEXT)
            table = data.setdefault(section, {})
            if section == "labels" and draw(st.booleans()):
                table = table.setdefault(draw(st.sampled_from(["vi", "fr", "x-y"])), {})
            elif section == "theme" and key == "sections":
                table = table.setdefault("sections", {})
                key = draw(TEXT)
            table[key] = draw(VALUES) if draw(st.booleans()) else draw(TEXT)
    return dumps(data)


@st.composite
def manifests(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=200))
    data = {**MANIFEST, "stories": [dict(story) for story in MANIFEST["stories"]]}
    for _ in range(draw(st.integers(1, 4))):
        key = draw(st.one_of(st.sampled_from(["subject", "preheader", "intro", "number", "stories", "id", "include"]),
                             TEXT))
        value = draw(VALUES)
        if key in ("id", "include") or draw(st.integers(0, 3)) == 0:
            data["stories"] = data["stories"] if isinstance(data["stories"], list) else []
            data["stories"].append({key: value} if draw(st.booleans()) else {"id": draw(TEXT), key: value})
        else:
            data[key] = value
    return dumps(data)


@st.composite
def front_matters(draw: st.DrawFn) -> str:
    """Front matter from random keys and values, or YAML-looking text with anchors, tags and braces."""
    if draw(st.booleans()):
        pieces = st.sampled_from([
            "title: ", "date: ", "tags: ", "lang: ", "&a ", "*a", "!!python/object:os.system", "[", "]", "{", "}",
            "? ", ": ", "- ", "\n", "  ", "'", '"', "|", ">", "~", "%YAML 1.1", "2026-11-30T06:30:00Z", "2026-02-30",
            "no", "Yes", "1.10", "---", "...", "#", ",", '"\\a"', '"\\ud800"', '"\\u200b"'])
        return "".join(draw(st.lists(pieces | TEXT, max_size=25)))
    data = {draw(st.one_of(st.sampled_from(sorted(FRONT_MATTER_KEYS)), TEXT)): draw(VALUES)
            for _ in range(draw(st.integers(0, 5)))}
    data.setdefault("title", draw(TEXT))
    try:
        return yaml.safe_dump(data, allow_unicode=draw(st.booleans()))
    except yaml.YAMLError:
        assume(False)
        raise


ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "cp1252", "cp1258", "latin-1", "shift_jis",
             "mac_roman"]


@st.composite
def article_bytes(draw: st.DrawFn) -> bytes:
    """Article files as an editor's tools might leave them, or worse."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.binary(max_size=3000))
    alphabet = st.one_of(st.characters(), st.sampled_from("\x00\x07\x08\x0b\x0c\x1b\x7f\x85\x93\u2028\u200b\u00ad"
                                                          "\ufeff\u202e\r\n\t#*_[]()<>{}|-—"))
    lines = draw(st.lists(st.text(alphabet, max_size=80), max_size=12))
    if draw(st.integers(0, 5)) == 0:
        lines.append("x" * draw(st.sampled_from([99_999, 100_001, 250_000])))
    text = "\n".join([draw(st.sampled_from(["Ferry returns", "", "---", "# Heading", "\ufeffTitle"])), *lines])
    if kind == 2:
        text = ARTICLE + text
    encoding = draw(st.sampled_from(ENCODINGS))
    return text.encode(encoding, errors="replace" if encoding not in ("utf-8", "utf-8-sig") else "surrogatepass")


def dumps(data: dict[str, Any]) -> str:
    try:
        return tomlkit.dumps(data)
    except (TypeError, ValueError, tomlkit.exceptions.TOMLKitError):
        assume(False)
        raise


# ---- the property ------------------------------------------------------------------------------


def run_in_workspace(files: dict[str, str | bytes], *args: str) -> Result:
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        for name, data in {"newsletter.toml": dumps(SETTINGS), "content/2026-11-24-ferry.txt": ARTICLE,
                           **files}.items():
            path = Path(folder, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
        return CliRunner().invoke(cli, list(args))


def assert_clean_exit(result: Result) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        raise AssertionError(f"a traceback instead of a message:\n{trace}")
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code:
        assert result.stderr.strip(), "an error without a message"


@BOUNDED
@given(settings_files())
def test_any_newsletter_toml(text: str) -> None:
    assert_clean_exit(run_in_workspace({"newsletter.toml": text}, "export", "--to", "eml", "--week", WEEK))


@BOUNDED
@given(manifests())
def test_any_issue_toml(text: str) -> None:
    result = run_in_workspace({f"issues/{WEEK}/issue.toml": text}, "export", "--to", "eml", "--week", WEEK)
    assert_clean_exit(result)


@BOUNDED
@given(front_matters(), st.sampled_from([".md", ".txt"]))
def test_any_front_matter(front: str, suffix: str) -> None:
    article = f"---\n{front}\n---\n\nBANGOR – The ferry runs again.\n\n## Analysis\n\nMissed.\n"
    result = run_in_workspace({f"content/2026-11-25-front{suffix}": article}, "build", "--week", WEEK)
    assert_clean_exit(result)


@BOUNDED
@given(article_bytes(), st.sampled_from(["2026-11-25-x.txt", "2026-11-25-x.md", "2026-11-25-x.analysis.md",
                                         "2026-11-24-ferry.impact.txt", "undated.md"]))
def test_any_article_bytes(data: bytes, name: str) -> None:
    assert_clean_exit(run_in_workspace({f"content/{name}": data}, "build", "--week", WEEK))
