"""issue.json names the files an edition was built from relative to the workspace's root, so a
workspace moved or cloned elsewhere still reads as built: `newsletter check` finds it fresh and
every file where it now is. Older editions' absolute paths are still read."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from tests.conftest import SAMPLE_WEEK

WEEK = ["--week", SAMPLE_WEEK]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def summary(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "issues" / SAMPLE_WEEK / "issue.json").read_text("utf-8"))
    return data


def recorded(data: dict[str, Any]) -> list[str]:
    return [*data["sources"], *(story["source"] for story in data["stories"])]


def check(root: Path) -> tuple[Result, dict[str, Any]]:
    result = run("check", *WEEK, "--no-links", "--json")
    assert result.exit_code in (0, 1) and "Traceback" not in result.output, result.output
    return result, json.loads(result.stdout)


def test_issue_json_names_the_workspace_files_from_its_root(workspace: Path) -> None:
    assert run("build", *WEEK).exit_code == 0
    data = summary(workspace)
    root = workspace.resolve()
    assert "newsletter.toml" in data["sources"] and f"issues/{SAMPLE_WEEK}/issue.toml" in data["sources"]
    for entry in recorded(data):
        path = Path(entry)
        if path.is_absolute():  # only a file outside the workspace, such as the packaged theme's
            assert not path.is_relative_to(root), entry
        else:
            assert (root / path).is_file() and ".." not in path.parts, entry
    assert all(not Path(story["source"]).is_absolute() for story in data["stories"])
    assert str(root) not in json.dumps(data)


@pytest.mark.parametrize("how", ["moved", "copied"])
def test_a_workspace_moved_elsewhere_still_checks_clean(workspace: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    assert run("build", *WEEK).exit_code == 0
    before = (workspace / "issues" / SAMPLE_WEEK / "issue.json").read_bytes()
    _, first = check(workspace)
    elsewhere = tmp_path / "another" / "place" / "ws"
    elsewhere.parent.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    if how == "moved":
        shutil.move(workspace, elsewhere)
    else:  # a copy keeping the files' times (cp -a, rsync -a); the original stays where it was
        shutil.copytree(workspace, elsewhere, symlinks=True)
    monkeypatch.chdir(elsewhere)
    result, report = check(elsewhere)
    assert "Rebuilding" not in result.stderr and "Built" not in result.stderr, result.stderr  # not stale
    assert (elsewhere / "issues" / SAMPLE_WEEK / "issue.json").read_bytes() == before  # read, not rebuilt
    assert report["ok"] == first["ok"] and {f["code"] for f in report["errors"] + report["warnings"]} == \
        {f["code"] for f in first["errors"] + first["warnings"]}
    for finding in report["errors"] + report["warnings"]:
        file = (finding.get("location") or {}).get("file")
        if file:  # every finding points at a file that is there, in the workspace where it is now
            path = Path(file) if Path(file).is_absolute() else elsewhere / file
            assert path.exists(), finding
            assert str(workspace) not in file or how == "copied" and str(elsewhere) in file, finding


def test_an_older_editions_absolute_paths_are_still_read(workspace: Path) -> None:
    assert run("build", *WEEK).exit_code == 0
    root = workspace.resolve()
    path = workspace / "issues" / SAMPLE_WEEK / "issue.json"
    data = summary(workspace)
    data["sources"] = [str(root / entry) for entry in data["sources"]]  # as builds before this one wrote them
    for story in data["stories"]:
        story["source"] = str(root / story["source"])
    times = os.stat(path, follow_symlinks=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    result, report = check(workspace)
    assert "Rebuilding" not in result.stderr and "Built" not in result.stderr, result.stderr
    assert report["ok"], report
    # A story file changed since that build is still noticed through its absolute path.
    story = Path(data["stories"][0]["source"])
    later = time.time() + 10
    os.utime(story, (later, later))
    result, _ = check(workspace)
    assert "Rebuilding" in result.stderr and story.name in result.stderr, result.stderr
