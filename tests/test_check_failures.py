"""`newsletter check --json` when the edition cannot be built: still one JSON report on stdout, exit 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from tests.conftest import SAMPLE_WEEK

WEEK = ["--week", SAMPLE_WEEK]
PACT = Path("content/2026/11/2026-11-24-russia-myanmar-defense-pact.txt")
LEAD = Path("content/2026/11/2026-11-29-remittance-fees.txt")
MANIFEST = Path(f"issues/{SAMPLE_WEEK}/issue.toml")
REPORT_KEYS = {"issue", "ok", "strict", "errors", "warnings", "ignored", "notes", "links"}
FINDING_KEYS = {"code", "severity", "message", "fix", "where", "location", "url"}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def failed_json(*args: str) -> tuple[dict[str, Any], Result]:
    """The report a failed check prints: exit 1, and stdout is one JSON document in the report's shape."""
    result = run("check", "--json", *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    report = json.loads(result.stdout)  # nothing else on stdout
    assert set(report) == REPORT_KEYS and report["ok"] is False and report["warnings"] == []
    assert report["errors"] and all(set(f) == FINDING_KEYS and f["severity"] == "error" for f in report["errors"])
    assert all(f["message"] and f["fix"] for f in report["errors"])
    return report, result


def prepend_key(path: Path, line_number: int, text: str) -> None:
    """Insert ``text`` as line ``line_number`` of ``path``."""
    lines = path.read_text("utf-8").splitlines(keepends=True)
    lines.insert(line_number - 1, text + "\n")
    path.write_text("".join(lines), "utf-8")


def with_front_matter(path: Path, extra: str) -> None:
    """Give a plain article front matter holding ``extra`` (one ``key: value`` line, on line 2)."""
    path.write_text(f"---\n{extra}\n---\n" + path.read_text("utf-8"), "utf-8")


def test_a_bad_article_is_an_error_finding_at_its_file_and_line(workspace: Path) -> None:
    with_front_matter(PACT, "sectoin: world")
    report, result = failed_json(*WEEK, "--no-links")
    [error] = report["errors"]
    assert error["code"] == "article-invalid" and report["issue"] == SAMPLE_WEEK
    assert error["location"]["file"] == str(PACT) and error["location"]["line"] == 2
    assert error["where"] == f"{PACT}:2"
    assert "unknown front matter key 'sectoin'" in error["message"] and str(PACT) not in error["message"]
    assert "section" in error["fix"]  # the reader's own hint: did you mean
    assert "sectoin" in result.stderr  # and the terminal still hears why


def test_every_bad_article_is_its_own_finding(workspace: Path) -> None:
    with_front_matter(PACT, "sectoin: world")
    with_front_matter(LEAD, "auther: Linh")
    report, _ = failed_json(*WEEK, "--no-links")
    assert sorted(f["location"]["file"] for f in report["errors"]) == sorted([str(PACT), str(LEAD)])
    assert {f["code"] for f in report["errors"]} == {"article-invalid"}


def test_bad_settings_are_an_error_finding_at_the_line(workspace: Path) -> None:
    text = Path("newsletter.toml").read_text("utf-8")
    Path("newsletter.toml").write_text(text.replace('timezone = "America/Los_Angeles"', 'timezone = "Mars/Olympus"'),
                                       "utf-8")
    line = 1 + text.splitlines().index('timezone = "America/Los_Angeles"')
    report, _ = failed_json(*WEEK, "--no-links", "--strict")
    [error] = report["errors"]
    assert error["code"] == "settings-invalid" and report["strict"] is True and report["issue"] == SAMPLE_WEEK
    assert error["location"]["file"] == "newsletter.toml" and error["location"]["line"] == line
    assert "Mars/Olympus" in error["message"]


def test_settings_that_are_not_toml_are_located_by_the_parsers_line(workspace: Path) -> None:
    prepend_key(Path("newsletter.toml"), 4, "name = = 1")
    report, _ = failed_json(*WEEK, "--no-links")
    [error] = report["errors"]
    assert error["code"] == "settings-invalid"
    assert error["location"]["file"] == "newsletter.toml" and error["location"]["line"] == 4


def test_an_issue_toml_error_is_an_error_finding_at_its_line(workspace: Path) -> None:
    prepend_key(MANIFEST, 8, 'subjet = "A typo"')
    report, _ = failed_json(*WEEK, "--no-links")
    [error] = report["errors"]
    assert error["code"] == "manifest-invalid"
    assert error["location"]["file"] == str(MANIFEST) and error["location"]["line"] == 8
    assert "unknown key 'subjet'" in error["message"] and "Did you mean 'subject'?" in error["message"]


def test_an_empty_week_is_an_error_finding(workspace: Path) -> None:
    report, _ = failed_json("--week", "2026-W10", "--no-links")
    [error] = report["errors"]
    assert error["code"] == "no-stories" and report["issue"] == "2026-W10"
    assert "2026-W48" in error["message"]  # where the articles are


def test_every_story_left_out_is_an_error_finding_at_issue_toml(workspace: Path) -> None:
    MANIFEST.write_text(MANIFEST.read_text("utf-8").replace("include = true", "include = false"), "utf-8")
    report, _ = failed_json(*WEEK, "--no-links")
    [error] = report["errors"]
    assert error["code"] == "no-stories" and error["location"]["file"] == str(MANIFEST)


def test_a_subfolder_names_the_files_from_where_it_runs(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_front_matter(PACT, "sectoin: world")
    monkeypatch.chdir(workspace / "content")
    report, _ = failed_json(*WEEK, "--no-links")
    [error] = report["errors"]
    assert error["location"]["file"] == str(PACT.relative_to("content")) and error["location"]["line"] == 2


def test_without_json_the_failure_is_reported_as_before(workspace: Path) -> None:
    with_front_matter(PACT, "sectoin: world")
    result = run("check", *WEEK, "--no-links")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: 1 article file cannot be used:") and f"{PACT}:2" in result.stderr


def test_with_json_diagnostics_stay_off_stdout(workspace: Path) -> None:
    """A build that warns, and no settings file: stdout is still only the report."""
    Path("newsletter.toml").unlink()
    Path("content/2026/11/2026-11-27-photo.md").write_text(
        "---\ntitle: A photo\nurl: https://saigonsentinel.example/p/\nimage: https://saigonsentinel.example/p.jpg\n"
        "---\n\nWESTMINSTER – A photo, and [a form](javascript:alert(1)).\n", "utf-8")
    result = run("check", "--json", *WEEK, "--no-links")
    assert result.exit_code == 1 and "Traceback" not in result.output
    report = json.loads(result.stdout)
    assert set(report) == REPORT_KEYS and "no-settings" in {f["code"] for f in report["errors"]}
    assert "No newsletter.toml" in result.stderr and "Built issues/2026-W48" in result.stderr


def test_a_broken_template_is_an_error_finding_at_its_line(workspace: Path) -> None:
    from tests.conftest import ROOT

    template = Path("templates/email.mjml.j2")
    template.parent.mkdir()
    lines = (ROOT / "templates" / "email.mjml.j2").read_text("utf-8").splitlines(keepends=True)
    template.write_text("".join([*lines[:6], "{% if %}\n", *lines[6:]]), "utf-8")
    report, _ = failed_json(*WEEK, "--no-links")
    [error] = report["errors"]
    assert error["code"] == "theme-invalid" and "template syntax error" in error["message"]
    assert error["location"]["file"] == str(template) and error["location"]["line"] == 7
