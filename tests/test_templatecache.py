"""Compiled templates kept between runs: used when the cache folder is writable, skipped when not,
and never stale after a template changes."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest

from newsletter.templatecache import bytecode_cache


def test_a_changed_template_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path / "cache"))
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "t.j2").write_text("one {{ x }}")

    def render() -> str:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(theme)), autoescape=True)
        env.bytecode_cache = bytecode_cache(env)
        return env.get_template("t.j2").render(x=1)

    assert render() == "one 1"
    assert list((tmp_path / "cache").rglob("*.cache"))  # compiled code was kept
    assert render() == "one 1"  # ... and read back
    (theme / "t.j2").write_text("two {{ x }}")
    assert render() == "two 1"


def test_no_cache_without_a_writable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(blocked / "cache"))
    assert bytecode_cache(jinja2.Environment()) is None


def test_options_that_change_compiled_code_get_their_own_folder(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path))
    bytecode_cache(jinja2.Environment(trim_blocks=True))
    bytecode_cache(jinja2.Environment(trim_blocks=False))
    assert len(os.listdir(tmp_path)) == 2
