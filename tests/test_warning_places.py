"""Where the build's warnings point: issue.json names files from the workspace's root, whatever folder the
build ran in; the intro's warnings name the line of issue.toml's ``intro``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from tests.conftest import SAMPLE_WEEK

WEEK = ["--week", SAMPLE_WEEK]
MANIFEST = Path(f"issues/{SAMPLE_WEEK}/issue.toml")
ISSUE_JSON = Path(f"issues/{SAMPLE_WEEK}/issue.json")
ARTICLE = Path("content/2026/11/2026-11-27-refused.md")
SALINITY = Path("content/2026/11/2026-11-27-mekong-delta-salinity.md")
BROKEN = Path("content/2026/11/2026-11-26-broken.md")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def set_intro(value: str) -> int:
    """Make issue.toml's intro ``value`` (a TOML value, as written); returns the line of the intro key."""
    lines = MANIFEST.read_text("utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("intro = "))
    lines[index] = f"intro = {value}\n"
    MANIFEST.write_text("".join(lines), "utf-8")
    return index + 1


def intro_line() -> int:
    return next(i for i, line in enumerate(MANIFEST.read_text("utf-8").splitlines(), 1) if line.startswith("intro = "))


def warned_workspace() -> None:
    """Warnings of every kind: an article's, a companion's, issue.toml's, the intro's, and a skipped file."""
    ARTICLE.write_text("---\ntitle: Grants reopen\nurl: https://saigonsentinel.example/g/\n"
                       "image: https://saigonsentinel.example/g.jpg\n---\n\n"
                       "WESTMINSTER – Open [the form](javascript:alert(1)).\n", "utf-8")
    SALINITY.with_name(SALINITY.stem + ".analysis.md").write_text(
        "The river is saltier. ![](https://saigonsentinel.example/chart.png)\n", "utf-8")
    BROKEN.write_text("---\nsectoin: world\n---\nA headline\n\nText.\n", "utf-8")
    set_intro('"Read [our guide](ftp://saigonsentinel.example/guide)."')
    text = MANIFEST.read_text("utf-8")
    MANIFEST.write_text(text + '\n[[stories]]\nid = "2026/11/2026-11-22-gone"\ninclude = true\n', "utf-8")


def built(workspace: Path) -> dict[str, Any]:
    result = run("build", *WEEK, "--skip-invalid")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads((workspace / ISSUE_JSON).read_text("utf-8"))
    return data


# -- issue.json: from the workspace's root, wherever the build ran --------------------------------


def test_issue_json_names_files_from_the_workspace_root(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warned_workspace()
    monkeypatch.chdir(workspace / "content" / "2026")
    data = built(workspace)
    warnings = data["warnings"]
    assert any(w.startswith(f"{ARTICLE}:7: link 'javascript:alert(1)'") for w in warnings), warnings
    assert any(w.startswith(f"{ARTICLE}:4: image has no image_alt") for w in warnings), warnings
    assert any(w.startswith(f"{SALINITY.with_name(SALINITY.stem + '.analysis.md')}:1: image") for w in warnings)
    assert any(w.startswith(f"{MANIFEST}:") and "2026-11-22-gone" in w for w in warnings), warnings
    [skipped] = data["skipped"]
    assert skipped.startswith(f"{BROKEN}:2: unknown front matter key 'sectoin'")
    assert not any(w.startswith(("11/", "../")) for w in [*warnings, *data["skipped"]])


def test_issue_json_is_the_same_built_from_any_folder(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warned_workspace()
    built(workspace)
    from_root = ISSUE_JSON.read_bytes()
    for folder in ("content/2026/11", f"issues/{SAMPLE_WEEK}", "content"):
        monkeypatch.chdir(workspace / folder)
        result = run("build", *WEEK, "--skip-invalid")
        assert result.exit_code == 0, result.output
        assert (workspace / ISSUE_JSON).read_bytes() == from_root, folder
        monkeypatch.chdir(workspace)
    assert json.loads(from_root)["warnings"]  # there was something to compare


def test_the_terminal_names_files_from_where_the_build_runs(workspace: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    warned_workspace()
    monkeypatch.chdir(workspace / "content" / "2026")
    result = run("build", *WEEK, "--skip-invalid")
    assert f"Warning: 11/{ARTICLE.name}:7: link 'javascript:alert(1)'" in result.stderr
    assert f"Skipped 11/{BROKEN.name}:2:" in result.stderr


def test_the_check_finds_the_files_issue_json_names_from_any_folder(workspace: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    warned_workspace()
    built(workspace)
    intro = intro_line()
    monkeypatch.chdir(workspace / "issues")
    result = run("check", *WEEK, "--json", "--no-links")
    assert result.stderr == ""  # checked as built, from issue.json
    report = json.loads(result.stdout)
    places = {f["where"] for f in report["warnings"] + report["errors"] if f["code"] == "build-warning"}
    assert f"../{ARTICLE}:7" in places and f"{SAMPLE_WEEK}/issue.toml:{intro}" in places, places


# -- the intro's warnings: at the line of `intro` in issue.toml -----------------------------------


INTRO_PROBLEMS = (
    ("[the form](javascript:alert(1))", "intro: link 'javascript:alert(1)' is not an https, mailto or tel link"),
    ("![chart](http://saigonsentinel.example/c.png)", "intro: image 'http://saigonsentinel.example/c.png' is not "
                                                      "an absolute https:// URL, so it is left out"),
    ("![](https://saigonsentinel.example/c.png)", "intro: image 'https://saigonsentinel.example/c.png' has no alt"),
    ("[the guide](https://saigonsentinel.example/a guide)", "intro: '[the guide](https://saigonsentinel.example/a "
                                                            "guide)' is shown as typed"),
)


@pytest.mark.parametrize(("markdown", "warning"), INTRO_PROBLEMS)
def test_the_intros_warnings_name_the_line_of_intro(workspace: Path, markdown: str, warning: str) -> None:
    line = set_intro(json.dumps(f"A busy week. See {markdown}."))
    result = run("build", *WEEK)
    assert result.exit_code == 0, result.output
    assert f"Warning: {MANIFEST}:{line}: {warning}" in result.stderr
    [recorded] = [w for w in json.loads(ISSUE_JSON.read_text("utf-8"))["warnings"] if "intro:" in w]
    assert recorded.startswith(f"{MANIFEST}:{line}: {warning}")


def test_a_long_intros_warnings_name_the_line_of_intro(workspace: Path) -> None:
    line = set_intro('"""\nA busy week.\n\nRead [the form](javascript:alert(1)).\n"""')
    result = run("build", *WEEK)
    assert f"Warning: {MANIFEST}:{line}: intro: link 'javascript:alert(1)'" in result.stderr


def test_the_check_puts_the_intros_warning_at_its_line(workspace: Path) -> None:
    line = set_intro('"Read [the form](javascript:alert(1))."')
    result = run("check", *WEEK, "--json", "--no-links")
    [finding] = [f for f in json.loads(result.stdout)["warnings"] if f["code"] == "build-warning"]
    assert finding["location"]["file"] == str(MANIFEST) and finding["location"]["line"] == line
    assert finding["message"].startswith("intro: link 'javascript:alert(1)'")


def test_the_intros_line_is_its_key_not_a_subject_quoting_the_word(workspace: Path) -> None:
    text = MANIFEST.read_text("utf-8")
    subject = next(line for line in text.splitlines() if line.startswith("subject = "))
    MANIFEST.write_text(text.replace(subject, """subject = 'Our "intro" to the Tết fair, and new remittance rules'"""),
                        "utf-8")
    line = set_intro('"Read [the form](javascript:alert(1))."')
    assert line != 5
    result = run("build", *WEEK)
    assert f"Warning: {MANIFEST}:{line}: intro: link 'javascript:alert(1)'" in result.stderr
