"""`newsletter build` end to end through the CLI: exit codes, messages, files, atomicity."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli

WEEK = ["--week", "2026-W48"]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def snapshot(folder: Path) -> dict[str, bytes]:
    """The edition as a reader sees it: each file by its name (built files are links into .builds/)."""
    if not folder.exists():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.startswith(".") and p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """Temporary files and backups an interrupted or failed write could leave behind."""
    return [p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".bak"))]


def test_build_sample_week(workspace: Path) -> None:
    (workspace / "issues" / "2026-W48" / "issue.toml").unlink()  # a first build proposes the manifest
    result = run("build", *WEEK)
    assert result.exit_code == 0, result.output
    folder = workspace / "issues" / "2026-W48"
    assert {"email.html", "email.txt", "issue.json", "issue.toml"} <= {p.name for p in folder.iterdir()}
    assert not leftovers(folder)
    data = json.loads((folder / "issue.json").read_text())
    assert len(data["stories"]) == 8 and data["warnings"] == []
    assert all(s["has_analysis"] and s["has_impact"] for s in data["stories"])
    assert {"id", "headline", "url", "date", "has_analysis", "has_impact"} <= set(data["stories"][0])
    assert data["sizes"]["email.html"] == (folder / "email.html").stat().st_size
    assert "Built" in result.output and "issue.toml" in result.output


def test_rebuild_keeps_editor_changes_and_appends(workspace: Path) -> None:
    assert run("build", *WEEK).exit_code == 0
    manifest = workspace / "issues" / "2026-W48" / "issue.toml"
    text = manifest.read_text()
    manifest.write_text(text.replace(text.split("\n")[4], 'subject = "Edited by the editor"'))
    new = workspace / "content" / "2026-11-26-new-story.txt"
    new.write_text("A brand new story\nCITY – Text.\nAnalysis\nA.\nImpact\nI.\n")
    result = run("build", *WEEK)
    assert result.exit_code == 0, result.output
    assert "added new story 2026-11-26-new-story" in result.output
    text = manifest.read_text()
    assert 'subject = "Edited by the editor"' in text and text.rstrip().endswith("include = true")
    assert "2026-11-26-new-story" in text.split("[[stories]]")[-1]
    html = (workspace / "issues" / "2026-W48" / "email.html").read_text()
    assert "<title>Edited by the editor</title>" in html and "A brand new story" in html
    new.unlink()
    result = run("build", *WEEK)
    assert result.exit_code == 0 and "2026-11-26-new-story has no article file" in result.output


def test_bad_files_all_reported_nothing_written(workspace: Path) -> None:
    assert run("build", *WEEK).exit_code == 0
    folder = workspace / "issues" / "2026-W48"
    before = snapshot(folder)
    (workspace / "content" / "2026-11-25-empty.txt").write_bytes(b"")
    (workspace / "content" / "2026-11-26-binary.md").write_bytes(b"\x00\x01\x02")
    (workspace / "content" / "2026-11-27-front.md").write_text("---\ntitle: [oops\n---\nBody.\n")
    result = run("build", *WEEK)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "3 article files cannot be used" in result.output
    assert "2026-11-25-empty.txt: is empty" in result.output
    assert "2026-11-26-binary.md: is a binary file" in result.output
    assert "2026-11-27-front.md:2: broken front matter" in result.output
    assert "--skip-invalid" in result.output
    assert snapshot(folder) == before


def test_skip_invalid_builds_the_rest(workspace: Path) -> None:
    (workspace / "content" / "2026-11-25-empty.txt").write_bytes(b"")
    result = run("build", *WEEK, "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "Skipped" in result.output and "2026-11-25-empty.txt" in result.output
    data = json.loads((workspace / "issues" / "2026-W48" / "issue.json").read_text())
    assert len(data["stories"]) == 8 and "2026-11-25-empty.txt" in data["skipped"][0]


def test_strict_makes_warnings_fatal(workspace: Path) -> None:
    (workspace / "content" / "2026-11-25-half.txt").write_text("Half a story\nCITY – Only the story.\n")
    result = run("build", *WEEK)
    assert result.exit_code == 0 and "Warning:" in result.output and "2026-11-25-half.txt: no analysis" in result.output
    result = run("build", *WEEK, "--strict")
    assert result.exit_code == 1
    assert "--strict" in result.output and "2026-11-25-half.txt: no reader-impact section" in result.output


def test_empty_week_names_latest_week(workspace: Path) -> None:
    result = run("build", "--week", "2026-W50")
    assert result.exit_code == 1
    assert "most recent articles are in week 2026-W48" in result.output


def test_range_build(workspace: Path) -> None:
    result = run("build", "--since", "2026-11-17", "--until", "2026-11-29")
    assert result.exit_code == 0, result.output
    data = json.loads((workspace / "issues" / "2026-11-17_2026-11-29" / "issue.json").read_text())
    assert len(data["stories"]) == 12  # the sample articles of 2026-W47 and 2026-W48


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "--week", "48"], "not an ISO week"),
        (["build", "--week", "2026-W48", "--since", "2026-11-01", "--until", "2026-11-02"], "not both"),
        (["build", "--since", "2026-11-01"], "go together"),
        (["build", "--since", "yesterday", "--until", "2026-11-02"], "yesterday"),
        (["build", "--nope"], "No such option"),
        (["export", "--to", "carrier-pigeon", "--week", "2026-W48"], "carrier-pigeon"),
    ],
)
def test_wrong_usage_exits_2(workspace: Path, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[publication\nname = 'x'\n", "newsletter.toml: invalid TOML"),
        ("[publication]\ntimezone = 'Mars/Olympus'\n", "newsletter.toml:2: unknown time zone"),
        ("[publication]\nnmae = 'x'\n", "newsletter.toml:2: unknown setting 'nmae'"),
        ("[theme]\nmax_words_analysis = 'many'\n", "must be a whole number"),
        ("[links]\nunsubscribe = 'http://x.example/u'\n", "must be an absolute https:// URL"),
        ("[colours]\n", "unknown section [colours]"),
        # a typo gets the setting or section it probably meant
        ("[publication]\ntimezon = 'UTC'\n", "url. Did you mean 'timezone'?"),
        ("[publicaton]\nname = 'x'\n", "[sources]. Did you mean [publication]?"),
        ("[labels]\nread_mor = 'x'\n", "Did you mean 'read_more'?"),
        # theme values are checked when the settings load, at their line, not when a template uses them
        ("[theme]\nprimary = 'red'\n", "newsletter.toml:2: [theme] primary = 'red' is not a colour"),
        ("[theme]\n\nfont_family = 'Arial; color: red'\n", "newsletter.toml:3: [theme] font_family"),
        ("[theme]\nlead_words = -5\n", "newsletter.toml:2: [theme] lead_words must be 0 or more"),
        ("[theme]\nmax_words_impact = -1\n", "newsletter.toml:2: [theme] max_words_impact must be 0 or more"),
        ("[theme.sections]\nlocal = 5\n", "newsletter.toml:2: [theme] sections must be a table of strings: local = 5"),
        ("[publication]\nname = { a = 1 }\n", "newsletter.toml:2: [publication] name must be a string"),
        # a logo wider than the email's column would widen it in Outlook, which ignores max-width
        ("[publication]\nlogo_width = 2000\n", "newsletter.toml:2: [publication] logo_width = 2000 is wider than"),
        ("[publication]\nlogo_height = 0\n", "newsletter.toml:2: [publication] logo_height"),
    ],
)
def test_bad_configuration(workspace: Path, toml: str, message: str) -> None:
    (workspace / "newsletter.toml").write_text(toml)
    result = run("build", *WEEK)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_missing_config_file_is_named(workspace: Path) -> None:
    result = run("build", *WEEK, "--config", "nope.toml")
    assert result.exit_code == 1 and "nope.toml: no such configuration file" in result.output


def test_defaults_without_newsletter_toml(workspace: Path) -> None:
    (workspace / "newsletter.toml").unlink()
    result = run("build", *WEEK)
    assert result.exit_code == 0, result.output
    assert "Newsletter" in (workspace / "issues" / "2026-W48" / "email.html").read_text()


def test_content_and_out_options(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    result = run("build", *WEEK, "--content", str(workspace / "content"), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "2026-W48" / "email.html").exists()


def test_broken_manifest_names_line(workspace: Path) -> None:
    assert run("build", *WEEK).exit_code == 0
    manifest = workspace / "issues" / "2026-W48" / "issue.toml"
    manifest.write_text(manifest.read_text() + "\n[[stories]\n")
    result = run("build", *WEEK)
    assert result.exit_code == 1 and f"{manifest.relative_to(workspace)}:" in result.output.replace(
        str(workspace) + "/", ""
    )


def test_help_does_not_import_the_rendering_stack() -> None:
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom newsletter.cli import cli\n"
        "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0\n"
        "for c in ['build', 'preview', 'export']: assert CliRunner().invoke(cli, [c, '--help']).exit_code == 0\n"
        "heavy = ('mjml', 'premailer', 'jinja2', 'httpx', 'markdown_it', 'yaml', 'watchfiles')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_content_folder(workspace: Path) -> None:
    result = run("build", *WEEK, "--content", "nope")
    assert result.exit_code == 1 and "nope does not exist" in result.output and "--content" in result.output


def test_unwritable_output_is_a_clear_error(workspace: Path) -> None:
    blocker = workspace / "blocked"
    blocker.write_text("a file where a folder should be")
    result = run("build", *WEEK, "--out", str(blocker / "issues"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot write to blocked/issues/2026-W48" in result.output and "--out" in result.output


def test_failed_write_leaves_folder_unchanged(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from newsletter import writer

    assert run("build", *WEEK).exit_code == 0
    folder = workspace / "issues" / "2026-W48"
    before = snapshot(folder)
    (workspace / "content" / "2026-11-25-new.txt").write_text("New\nCITY – Body.\nAnalysis\nA.\nImpact\nI.\n")
    real_replace = os.replace
    calls: list[str] = []

    def failing_replace(src: str, dst: str) -> None:
        if Path(dst).is_relative_to(workspace):  # not the tool's cache folder
            calls.append(str(dst))
        if len(calls) == 1:  # the rename that would switch to the new edition fails: a full disk, a yanked drive
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    def failing_exchange(first: Path, second: Path) -> bool:  # issue.toml's swap (writer.rewrite_file)
        failing_replace(str(first), str(second))
        return True  # put in place by the rename above (what it took out is gone, as with a rename)

    monkeypatch.setattr(os, "replace", failing_replace)
    monkeypatch.setattr(writer, "_exchange", failing_exchange)
    result = run("build", *WEEK)
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert not leftovers(folder)
    assert snapshot(folder) == before  # still the previous edition, and issue.toml untouched


def test_every_story_excluded_is_an_error(workspace: Path) -> None:
    manifest = workspace / "issues" / "2026-W48" / "issue.toml"
    manifest.write_text(manifest.read_text().replace("include = true", "include = false"))
    result = run("build", *WEEK)
    assert result.exit_code == 1 and "every story of 2026-W48 is left out" in result.output
    assert "issues/2026-W48/issue.toml:" in result.output  # relative, like every path shown
