"""`newsletter init`: a new publication builds, previews and exports at once; nothing is ever overwritten."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.config import _SECTIONS, load_config
from newsletter.content import name_date
from newsletter.preview import LiveIssue, bind
from newsletter.services import SERVICES
from newsletter.weeks import Selection, week_of
from tests.test_preview import get


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def sample_week(folder: Path) -> str:
    days = [name_date(path) for path in (folder / "content").iterdir()]
    assert len(days) == 2 and None not in days  # two samples (on a Monday, both dated that day)
    weeks = {week_of(day).key for day in days if day is not None}
    assert len(weeks) == 1  # both samples in the current week
    return weeks.pop()


def test_init_then_build_preview_and_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("init", "weekly")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "weekly"
    for name in ("newsletter.toml", ".gitignore"):
        assert f"Wrote weekly/{name}" in result.stdout
    assert sorted(p.suffix for p in (folder / "content").iterdir()) == [".md", ".txt"]
    assert "cd weekly" in result.stdout and result.stderr == ""
    week = sample_week(folder)

    monkeypatch.chdir(folder)
    result = run("build", "--week", week, "--strict")  # no warning at all: the samples are complete
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # settings found, nothing to warn about
    built = folder / "issues" / week
    html = (built / "email.html").read_text("utf-8")
    assert "Library opens a reading room for newcomers" in html and "Council approves a night market" in html

    config = load_config(None)
    live = LiveIssue(config, Selection(week=week), config_path=None, echo=lambda _: None)
    server = bind("127.0.0.1", 0, live)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        assert live.rebuild().ok
        status, _, page = get(server.port, "/")
        assert status == 200 and b"preview.js" in page
        status, headers, body = get(server.port, f"/issues/{week}/email.html")
        assert status == 200 and headers["content-type"].startswith("text/html")
        assert "Council approves a night market" in body.decode("utf-8")
    finally:
        live.close()
        server.shutdown()
        server.server_close()
        thread.join(5)

    # The preflight check refuses the values init marks CHANGE, naming each line to edit ...
    refused = run("export", "--to", "eml", "--week", week, "--no-links")
    assert refused.exit_code == 1 and not (built / "message.eml").exists()
    settings = (folder / "newsletter.toml").read_text("utf-8").splitlines()
    for key in ("email", "url", "article_url", "unsubscribe_mailto"):
        line = next(n for n, text in enumerate(settings, 1) if text.startswith(f"{key} = "))
        assert settings[line - 2].startswith("# CHANGE") and f"newsletter.toml:{line} " in refused.stderr, key
    # ... and --force exports all the same (a test message before the settings are real)
    result = run("export", "--to", "eml", "--week", week, "--no-links", "--force")
    assert result.exit_code == 0, result.output
    message = email.message_from_bytes((built / "message.eml").read_bytes(), policy=email.policy.default)
    assert str(message["From"]) == "Example Weekly <newsletter@example.com>"
    assert message["List-Unsubscribe"] and not message.defects


def test_init_never_overwrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "newsletter.toml").write_text("# mine\n", "utf-8")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "2020-01-06-old.txt").write_text("Old story\nCITY – Text.\n", "utf-8")
    result = run("init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "newsletter.toml").read_text("utf-8") == "# mine\n"
    assert "newsletter.toml: exists already, left as it was." in result.stderr
    assert "content: holds articles already, so no samples were added." in result.stderr
    assert [p.name for p in (tmp_path / "content").iterdir()] == ["2020-01-06-old.txt"]
    assert "Wrote .gitignore" in result.stdout

    gitignore = (tmp_path / ".gitignore").read_text("utf-8")
    result = run("init")
    assert result.exit_code == 0 and (tmp_path / ".gitignore").read_text("utf-8") == gitignore
    assert ".gitignore: exists already" in result.stderr and "Wrote" not in result.stdout


def test_init_into_a_file_or_an_unwritable_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").write_text("a file", "utf-8")
    result = run("init", "taken")
    assert result.exit_code == 2 and "is a file" in result.stderr
    result = run("init", "taken/inside")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot write taken/inside/newsletter.toml" in result.stderr


def test_the_settings_file_has_every_key_and_marks_what_to_change(tmp_path: Path) -> None:
    from newsletter.scaffold import init_workspace

    init_workspace(tmp_path, timezone="Asia/Ho_Chi_Minh")
    text = (tmp_path / "newsletter.toml").read_text("utf-8")
    data = tomllib.loads(text)
    for section, cls in _SECTIONS.items():
        for name in cls.__struct_fields__:
            if section == "labels" and name in ("analysis", "impact", "languages"):
                continue  # only in a [labels.<lang>] table, shown as a comment
            assert name in data[section], f"[{section}] {name} is missing from the init file"
    assert data["publication"]["timezone"] == "Asia/Ho_Chi_Minh" and data["strict"] is False
    for name, cls in SERVICES.items():
        for spec in cls.settings_spec:
            if not spec.secret:
                assert f"# {spec.key} = " in text.split(f"# [export.{name}]", 1)[1], (name, spec.key)
            else:
                assert f"NEWSLETTER_{name.upper()}_{spec.key.upper()}" in text
    lines = text.splitlines()
    marked = {lines[i + 1].split("=")[0].strip() for i, line in enumerate(lines) if line.startswith("# CHANGE")}
    assert {"name", "email", "reply_to", "postal_address", "reason", "url", "unsubscribe", "preferences",
            "view_online", "unsubscribe_mailto", "article_url", "timezone"} <= marked
    gitignore = (tmp_path / ".gitignore").read_text("utf-8")
    assert "!/issues/*/issue.toml" in gitignore and ".env" in gitignore


def test_docs_are_shipped_and_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # works outside any checkout or workspace
    result = run("docs")
    assert result.exit_code == 0
    for topic in ("commands", "configuration", "formats", "services", "theming", "preview"):
        assert f"  {topic} " in result.stdout
    result = run("docs", "configuration")
    assert result.exit_code == 0 and result.stdout.startswith("# Configuration")
    result = run("docs", "nonsense")
    assert result.exit_code == 2 and "No topic 'nonsense'" in result.stderr


def test_messages_point_to_docs_that_exist(workspace: Path) -> None:
    """Every "See `newsletter docs X`" in the code names a page the package ships."""
    import re

    from newsletter import manual

    root = Path(manual.__file__).parent
    pointers = set()
    for source in root.rglob("*.py"):
        text = source.read_text("utf-8")
        pointers |= set(re.findall(r"newsletter docs ([a-z]+)", text))
        pointers |= set(re.findall(r"""see\(["']([a-z]+)["']""", text))
        assert "See docs/" not in text, source
    assert pointers and pointers <= set(manual.topics())


def test_the_check_refuses_what_init_wrote_until_the_editor_replaces_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("init", "weekly").exit_code == 0
    folder = tmp_path / "weekly"
    week = sample_week(folder)
    monkeypatch.chdir(folder)
    # The editor replaces every example host, which is what the first check lists ...
    settings = folder / "newsletter.toml"
    samples = sorted((folder / "content").iterdir())
    for path in (settings, *samples):
        path.write_text(path.read_text("utf-8").replace("example.com", "riverweekly.org"), "utf-8")
    result = run("check", "--week", week, "--no-links", "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    # ... but the example name, postal address and footer text, and the two sample articles, stay.
    errors = {(f["code"], f["location"]["setting"] or f["location"]["file"]): f for f in report["errors"]}
    for setting in ("[publication] name", "[sender] name", "[publication] reason"):
        finding = errors[("init-example", setting)]
        assert finding["location"]["line"] and "newsletter init" in finding["message"], setting
    assert "123 Main Street" in errors[("no-postal-address", "[publication] postal_address")]["message"]
    for sample in samples:
        finding = errors[("init-sample", f"content/{sample.name}")]
        line = finding["location"]["line"]
        assert "sample article written by `newsletter init`" in sample.read_text("utf-8").splitlines()[line - 1]
    assert len(report["errors"]) == 6, report["errors"]

    # Once they are the publication's own, the check passes.
    text = settings.read_text("utf-8")
    for old, new in (('name = "Example Weekly"', 'name = "River Weekly"'),
                     ("123 Main Street, Springfield, USA", "PO Box 12, Riverton, OR 97000, USA"),
                     ("subscribed to Example Weekly at", "subscribed to River Weekly at")):
        text = text.replace(old, new)
    settings.write_text(text, "utf-8")
    for sample in samples:
        sample.unlink()
    (folder / "content" / samples[0].name).write_text(
        "Ferry returns to the river\nRIVERTON – The ferry runs again from Monday.\nAnalysis\nIt was missed.\n"
        "Impact on our readers\nCommuters save an hour.\n", "utf-8")
    result = run("check", "--week", week, "--no-links")
    assert result.exit_code == 0, result.output


def test_init_inside_a_workspace_refuses_to_nest_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From content/, a second workspace would make its settings and samples the outer one's articles."""
    monkeypatch.chdir(tmp_path)
    assert run("init", "weekly").exit_code == 0
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path / "weekly" / "content")
    for args in ((), ("drafts",)):
        result = run("init", *args)
        assert result.exit_code == 2, result.output
        assert "is inside the workspace of ../newsletter.toml" in result.stderr and "Traceback" not in result.output
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    monkeypatch.chdir(tmp_path / "weekly")
    assert run("init").exit_code == 0  # the workspace's own folder: nothing to write, nothing refused


@pytest.mark.parametrize("today", ["2026-11-30", "2026-12-02", "2026-12-06"])  # a Monday, a Wednesday, a Sunday
def test_the_samples_are_dated_in_the_week_of_any_day(tmp_path: Path, today: str) -> None:
    from datetime import date

    from newsletter.scaffold import init_workspace

    init_workspace(tmp_path, today=date.fromisoformat(today), timezone="UTC")
    days = [name_date(path) for path in (tmp_path / "content").iterdir()]
    assert len(days) == 2 and {week_of(day).key for day in days if day} == {week_of(date.fromisoformat(today)).key}
