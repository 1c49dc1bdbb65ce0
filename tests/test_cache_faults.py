"""The build's caches when the cache folder is damaged, missing or not the user's own: a build
never fails for them and never uses what it cannot trust (newsletter.cache, newsletter.inline)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner

from newsletter.cache import JsonCache, bytecode_cache, cache_root


def _theme(tmp_path: Path) -> Path:
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "t.j2").write_text("one {{ x }}", "utf-8")
    return theme


def _environment(theme: Path) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(theme)), autoescape=True)
    env.bytecode_cache = bytecode_cache(env)
    return env


@pytest.mark.parametrize("keep", [0, 3, 12, 40, 200])
def test_a_truncated_compiled_template_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         keep: int) -> None:
    # A full disk or a killed process can leave any prefix of a compiled template behind.
    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path / "cache"))
    theme = _theme(tmp_path)
    assert _environment(theme).get_template("t.j2").render(x=1) == "one 1"
    [kept] = (tmp_path / "cache").rglob("*.cache")
    kept.write_bytes(kept.read_bytes()[:keep])
    assert _environment(theme).get_template("t.j2").render(x=1) == "one 1"


def test_a_compiled_template_with_garbage_after_its_header_is_compiled_again(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path / "cache"))
    theme = _theme(tmp_path)
    _environment(theme).get_template("t.j2")
    [kept] = (tmp_path / "cache").rglob("*.cache")
    header = jinja2.bccache.bc_magic
    for junk in (b"\x80\x05\x95garbage", b"\x00" * 64, b"cos\nsystem\n(S'true'\ntR."):
        kept.write_bytes(header + junk)
        assert _environment(theme).get_template("t.j2").render(x=2) == "one 2"


def test_a_cache_folder_removed_while_running_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The preview keeps one environment for its life; the user may empty ~/.cache meanwhile.
    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path / "cache"))
    theme = _theme(tmp_path)
    env = _environment(theme)
    assert env.get_template("t.j2").render(x=1) == "one 1"
    shutil.rmtree(tmp_path / "cache")
    (theme / "t.j2").write_text("two {{ x }}", "utf-8")
    assert env.get_template("t.j2").render(x=1) == "two 1"


def test_a_cache_folder_others_may_write_holds_no_code_we_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Compiled templates are executed: a folder another user can write into (a shared
    # NEWSLETTER_CACHE_DIR, a folder planted in /tmp) must not be trusted, as Jinja's own
    # default cache folder is not.
    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path / "cache"))
    assert bytecode_cache(jinja2.Environment()) is not None
    [folder] = (tmp_path / "cache").iterdir()
    for mode in (0o777, 0o770, 0o707):
        folder.chmod(mode)
        assert bytecode_cache(jinja2.Environment()) is None
    folder.chmod(0o700)
    assert bytecode_cache(jinja2.Environment()) is not None


def _no_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HOME and no password entry for the user (a container's arbitrary uid, a service account):
    pathlib's home() then raises RuntimeError."""
    for name in ("NEWSLETTER_CACHE_DIR", "XDG_CACHE_HOME", "HOME"):
        monkeypatch.delenv(name, raising=False)

    def no_home(cls: type[Path]) -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", classmethod(no_home))


def test_without_a_home_folder_there_is_no_cache_and_no_error(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _no_home(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert bytecode_cache(jinja2.Environment()) is None
    cache = JsonCache("things")
    cache.put("k", 1)
    assert JsonCache("things").get("k") is None
    assert list(tmp_path.iterdir()) == []  # nothing written in the current folder instead


def test_a_build_without_a_home_folder_succeeds(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter import render
    from newsletter.cli import cli
    from tests.conftest import SAMPLE_WEEK

    _no_home(monkeypatch)
    render._environment.cache_clear()  # the environment a new process would make
    try:
        result = CliRunner().invoke(cli, ["build", "--week", SAMPLE_WEEK])
    finally:
        render._environment.cache_clear()
    assert result.exit_code == 0, result.output
    assert (workspace / "issues" / SAMPLE_WEEK / "email.html").is_file()


@pytest.mark.parametrize("value", ["relative-cache", "./cache", ""])
def test_a_relative_xdg_cache_home_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    # XDG Base Directory Specification: "If an implementation encounters a relative path in any
    # of these variables it should consider the path invalid and ignore it."
    monkeypatch.delenv("NEWSLETTER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", value)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert cache_root() == tmp_path / "home" / ".cache" / "newsletter"


def test_a_damaged_style_rules_entry_is_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.config import load_config
    from newsletter.inline import inline_css
    from newsletter.render import render_email
    from tests.conftest import ROOT
    from tests.emailgen import PLACEHOLDERS, make_issue

    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path))
    html = render_email(make_issue(2), load_config(ROOT / "newsletter.toml"), PLACEHOLDERS)
    cold = inline_css(html)
    kept = json.loads((tmp_path / "css-rules.json").read_text("utf-8"))
    assert kept
    damaged: list[object] = [
        [[1, 2], [3]],  # rules that are not (specificity, selector, declarations)
        [[[[0, 1], ".p"]], []],  # a rule one item short
        [[[5, ".p", "color:red"]], []],  # a specificity that is not a list
        [[[[0, 1], 7, None]], []],  # a selector and declarations that are not text
        [[], [1]],  # leftover rules that are not (selector, declarations)
        [[], [["a:hover", 3]]],
    ]
    for entry in damaged:
        (tmp_path / "css-rules.json").write_text(json.dumps({key: entry for key in kept}), "utf-8")
        assert inline_css(html) == cold, entry


def test_damaged_declarations_are_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.config import load_config
    from newsletter.inline import inline_css
    from newsletter.render import render_email
    from tests.conftest import ROOT, as_a_new_process
    from tests.emailgen import PLACEHOLDERS, make_issue

    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path))

    html = render_email(make_issue(2), load_config(ROOT / "newsletter.toml"), PLACEHOLDERS)
    as_a_new_process()
    cold = inline_css(html)
    kept = json.loads((tmp_path / "css-declarations.json").read_text("utf-8"))
    # pairs of the right shape but not text: taken as written they would put "1:2" into the email
    (tmp_path / "css-declarations.json").write_text(json.dumps({key: [[1, 2]] for key in kept}), "utf-8")
    as_a_new_process()
    assert inline_css(html) == cold


def test_a_kept_file_others_may_write_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The kept style declarations go into every subscriber's email: a file another user could
    # have written (group- or world-writable) is no cache.
    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path))
    JsonCache("things").put("k", "v")
    assert JsonCache("things").get("k") == "v"
    for mode in (0o666, 0o620, 0o602):
        (tmp_path / "things.json").chmod(mode)
        assert JsonCache("things").get("k") is None


def test_a_cache_write_that_fails_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A full disk or a folder in the file's place: each build would otherwise leave one more
    # partial ".things.json.*" behind, filling the disk further.
    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path))
    (tmp_path / "things.json").mkdir()
    for run in range(3):
        JsonCache("things").put("k", run)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["things.json"]

    (tmp_path / "things.json").rmdir()

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(json, "dump", disk_full)
    JsonCache("things").put("k", 1)
    assert list(tmp_path.iterdir()) == []
