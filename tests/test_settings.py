"""newsletter.toml is checked when it loads, and found from any folder of the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli

WEEK = ["--week", "2026-W48"]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def set_setting(workspace: Path, section: str, line: str) -> int:
    """Put ``line`` at the top of ``[section]`` in the workspace's newsletter.toml; its line number."""
    path = workspace / "newsletter.toml"
    lines = path.read_text("utf-8").splitlines()
    header = lines.index(f"[{section}]")
    key = line.split("=", 1)[0].strip()
    lines = [item for item in lines if item.split("=", 1)[0].strip() != key or not item.strip()]
    header = lines.index(f"[{section}]")
    lines.insert(header + 1, line)
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return header + 2


@pytest.mark.parametrize(
    ("section", "line", "expected"),
    [
        ("build", 'subject = "{name}: {headline}"',
         ["[build] subject = '{name}: {headline}' uses {headline}, which is not a name it knows.",
          "Did you mean {first_headline}?", "It can use {name}, {first_headline}, {key}, {number}",
          "write a literal brace twice"]),
        ("build", 'article_url = "https://paper.example/{yyyy}/{slug}/"',
         ["[build] article_url = 'https://paper.example/{yyyy}/{slug}/' uses {yyyy}",
          "It can use {slug}, {stem}, {year}, {month}, {day}, {section}"]),
        ("build", 'subject = "{name: {first_headline}"', ["[build] subject", "has a broken brace"]),
        ("build", 'subject = "Week {key}}"', ["has a broken brace", "{{ or }}"]),
        ("build", 'subject = "{name.__class__}"', ["uses {name.__class__}, which is not a name it knows"]),
        ("build", 'subject = "{0}"', ["uses {0}"]),
        ("build", 'subject = "{name!r}"', ["write {name} alone"]),
        ("build", 'subject = "{name:d}"', ["cannot be filled in"]),
        ("build", 'subject = ""', ["[build] subject is empty"]),
        ("links", 'view_online = "https://paper.example/{week}/"', ["[links] view_online uses {week}",
                                                                     "it can use {key}"]),
        ("publication", 'name = "Sentinel\\u0007"', ["[publication] name holds the control character U+0007"]),
        ("sender", 'name = "Saigon\\nSentinel"', ["[sender] name holds a line break: write it on one line"]),
        ("headings", 'analysis = ["Analysis", "Our\\u001bAnalysis"]', ["[headings] analysis holds the control"]),
        ("sender", 'email = "newsletter at paper.example"', ["[sender] email = 'newsletter at paper.example' is not "
                                                             "an email address", "newsletter@yourpaper.com"]),
        ("sender", 'email = "news@localhost"', ["[sender] email = 'news@localhost' is not an email address"]),
        ("sender", 'reply_to = "Editors <editors@paper.example>"',
         ["[sender] reply_to = 'Editors <editors@paper.example>' is not an email address",
          "Write the address alone; the name shown comes from [sender] name."]),
    ],
)
def test_settings_mistakes_name_file_line_and_fix(workspace: Path, section: str, line: str,
                                                  expected: list[str]) -> None:
    number = set_setting(workspace, section, line)
    result = run("build", *WEEK)
    assert result.exit_code == 1, result.output
    assert result.stdout == "" and "Traceback" not in result.output
    assert f"Error: newsletter.toml:{number}: " in result.stderr
    for text in expected:
        assert text in result.stderr


def test_a_template_typo_fails_at_once_not_when_a_new_week_starts(workspace: Path) -> None:
    # W48's manifest exists already, so the subject template would not be used this build.
    assert (workspace / "issues" / "2026-W48" / "issue.toml").exists()
    set_setting(workspace, "build", 'subject = "{name}: {headline}"')
    result = run("build", *WEEK)
    assert result.exit_code == 1 and "{headline}" in result.stderr


@pytest.mark.parametrize(
    ("section", "line"),
    [
        ("publication", 'postal_address = """9200 Bolsa Ave\nWestminster, CA 92683"""'),
        ("build", 'subject = "{name} #{number:03d}: {first_headline}"'),
        ("build", 'article_url = "https://paper.example/{year}/{month}/{day}/{slug}-{{draft}}/"'),
        ("sender", 'reply_to = ""'),
        ("sender", 'email = "bản-tin@báo.example"'),
    ],
)
def test_valid_settings_still_load(workspace: Path, section: str, line: str) -> None:
    set_setting(workspace, section, line)
    result = run("build", *WEEK)
    assert result.exit_code == 0, result.output


def test_strict_must_be_true_or_false(workspace: Path) -> None:
    path = workspace / "newsletter.toml"
    path.write_text('strict = "yes"\n' + path.read_text("utf-8"), "utf-8")
    result = run("build", *WEEK)
    assert result.exit_code == 1 and "newsletter.toml:1: strict must be true or false" in result.stderr


# ---- the workspace is found from any folder in it ------------------------------------------


def test_run_from_a_subfolder_uses_the_workspace(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace / "content" / "2026" / "11")
    result = run("build", *WEEK)
    assert result.exit_code == 0, result.output
    assert "No newsletter.toml" not in result.stderr
    assert (workspace / "issues" / "2026-W48" / "email.html").is_file()
    assert not (workspace / "content" / "2026" / "11" / "issues").exists()
    assert not (workspace / "content" / "content").exists()
    assert "Built ../../../issues/2026-W48 (8 stories" in result.stdout

    monkeypatch.chdir(workspace / "issues" / "2026-W48")
    result = run("export", "--to", "eml", *WEEK)
    assert result.exit_code == 0, result.output
    assert "Wrote message.eml" in result.stdout


def test_without_settings_the_defaults_are_announced_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "2026-11-24-ferry.txt").write_text(
        "Ferry returns\nBANGOR – The ferry runs again.\nAnalysis\nMissed.\nImpact\nFaster.\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("build", *WEEK)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("No newsletter.toml in this folder or any folder above it") == 1
    assert "`newsletter init`" in result.stderr
    assert "No newsletter.toml" not in result.stdout and "Built issues/2026-W48 (1 story," in result.stdout


def test_a_config_option_still_wins(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other.toml"
    other.write_text('[publication]\nname = "Other Paper"\ntimezone = "America/Los_Angeles"\n', "utf-8")
    monkeypatch.chdir(workspace / "content")
    result = run("build", *WEEK, "--config", str(other), "--content", ".", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "Other Paper" in (tmp_path / "out" / "2026-W48" / "email.html").read_text("utf-8")


# ---- streams ---------------------------------------------------------------------------------


def test_warnings_on_stderr_results_on_stdout(workspace: Path) -> None:
    (workspace / "content" / "2026-11-24-lonely.txt").write_text("Lonely story\nCITY – No analysis here.\n", "utf-8")
    result = run("build", *WEEK)
    assert result.exit_code == 0, result.output
    assert "Warning: content/2026-11-24-lonely.txt: no analysis" in result.stderr
    assert "Warning" not in result.stdout
    assert result.stdout.startswith("Built issues/2026-W48 (9 stories, 2026-11-23 to 2026-11-29)")
    assert "added new story 2026-11-24-lonely" in result.stdout

    result = run("export", "--to", "eml", *WEEK)
    assert result.exit_code == 0
    assert "Warning: content/2026-11-24-lonely.txt" in result.stderr and "Warning" not in result.stdout
    assert "Wrote issues/2026-W48/message.eml" in result.stdout

    (workspace / "content" / "2026-11-25-bad.md").write_text("---\ntitle: [x\n---\n", "utf-8")
    result = run("build", *WEEK, "--skip-invalid")
    assert result.exit_code == 0
    assert "Skipped content/2026-11-25-bad.md:2: broken front matter" in result.stderr
    assert "Skipped" not in result.stdout


def test_settings_and_manifest_typed_in_decomposed_vietnamese_match_the_articles(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Some macOS editors save Vietnamese decomposed (NFD); articles are read as NFC, so must the settings be."""
    import unicodedata

    def nfd(text: str) -> str:
        return unicodedata.normalize("NFD", text)

    (tmp_path / "newsletter.toml").write_text(nfd(
        '[publication]\nname = "Tin Sài Gòn"\npostal_address = "12 Lê Lợi, Quận 1"\n'
        '[headings]\nanalysis = ["Phân tích"]\nimpact = ["Tác động *"]\n'
        'analysis_label = "Phân tích"\nimpact_label = "Tác động đến độc giả"\n'
        '[theme.sections]\n"thời-sự" = "Thời sự"\n'), "utf-8")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "2026-11-24-tin.txt").write_text(
        "---\nsection: thời-sự\nurl: https://tin.example/1/\n---\nChợ Bến Thành mở cửa lại\n"
        "SÀI GÒN – Chợ mở cửa lại sau ba tháng.\nPhân tích\nĐây là phân tích.\nTác động đến độc giả\n"
        "Đây là tác động.\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("build", *WEEK, "--strict")  # no "no analysis" or "no impact" warning
    assert result.exit_code == 0, result.output
    text = (tmp_path / "issues" / "2026-W48" / "email.txt").read_text("utf-8")
    assert text == unicodedata.normalize("NFC", text)
    assert "THỜI SỰ\n" in text and "PHÂN TÍCH\n  Đây là phân tích." in text and "12 Lê Lợi, Quận 1" in text
    manifest = tmp_path / "issues" / "2026-W48" / "issue.toml"
    manifest.write_text(manifest.read_text("utf-8").replace('intro = ""', nfd('intro = "Chào bạn đọc."')), "utf-8")
    assert run("build", *WEEK).exit_code == 0
    assert "Chào bạn đọc." in (tmp_path / "issues" / "2026-W48" / "email.txt").read_text("utf-8")
