"""Compiled templates kept between runs: used when the cache folder is writable, skipped when not,
and never stale after a template changes."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest

from newsletter.cache import bytecode_cache


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


def test_a_json_cache_keeps_its_newest_entries_and_survives_a_bad_file(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.cache import JsonCache

    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path))
    cache = JsonCache("things", limit=2)
    for name in ("a", "b", "c"):
        cache.put(JsonCache.key(name), name)
    again = JsonCache("things", limit=2)  # read back from disk
    assert [again.get(JsonCache.key(n)) for n in ("a", "b", "c")] == [None, "b", "c"]
    (tmp_path / "things.json").write_text("{not json")
    assert JsonCache("things").get(JsonCache.key("b")) is None  # a broken file is no cache, not an error


def test_a_json_cache_that_cannot_be_written_is_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.cache import JsonCache

    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(blocked / "cache"))
    cache = JsonCache("things")
    cache.put("k", 1)  # no error
    assert JsonCache("things").get("k") is None


def test_inlining_with_the_kept_style_rules_gives_the_same_email(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.config import load_config
    from newsletter.inline import inline_css
    from newsletter.render import render_email
    from tests.conftest import ROOT
    from tests.emailgen import PLACEHOLDERS, make_issue

    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path))
    html = render_email(make_issue(3), load_config(ROOT / "newsletter.toml"), PLACEHOLDERS)
    cold = inline_css(html)
    assert (tmp_path / "css-rules.json").is_file()
    warm = inline_css(html)
    assert warm == cold and 'style="' in warm


def test_an_accepted_sender_is_remembered_a_refused_one_never(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from newsletter.config import load_config
    from newsletter.errors import ConfigError

    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path / "cache"))
    settings = tmp_path / "newsletter.toml"
    settings.write_text('[sender]\nemail = "desk@paper.example.org"\n', "utf-8")
    load_config(settings)
    remembered = json.loads((tmp_path / "cache" / "addresses.json").read_text())
    assert list(remembered.values()) == [True]
    settings.write_text('[sender]\nemail = "desk@"\n', "utf-8")
    with pytest.raises(ConfigError):
        load_config(settings)
    with pytest.raises(ConfigError):  # refused again: a refusal is never remembered
        load_config(settings)
    assert len(json.loads((tmp_path / "cache" / "addresses.json").read_text())) == 1


def test_kept_declarations_spare_cssutils_and_give_the_same_email(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import cssutils

    from newsletter.config import load_config
    from newsletter.inline import inline_css
    from newsletter.render import render_email
    from tests.conftest import ROOT, as_a_new_process
    from tests.emailgen import PLACEHOLDERS, make_issue

    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path))

    html = render_email(make_issue(3), load_config(ROOT / "newsletter.toml"), PLACEHOLDERS)
    as_a_new_process()
    cold = inline_css(html)
    kept = json.loads((tmp_path / "css-declarations.json").read_text())
    assert kept and all(isinstance(pairs, list) for pairs in kept.values())

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("cssutils parsed a declaration list that was kept")

    as_a_new_process()
    with monkeypatch.context() as patch:
        patch.setattr(cssutils, "parseStyle", no_parsing)
        assert inline_css(html) == cold

    # A damaged entry is parsed again, not trusted.
    (tmp_path / "css-declarations.json").write_text(json.dumps({key: "junk" for key in kept}))
    as_a_new_process()
    assert inline_css(html) == cold


def test_a_floated_picture_still_gets_outlooks_align_attribute() -> None:
    from newsletter.inline import inline_css

    html = ('<!doctype html><html><head><style data-inline>.pic { float: right }</style></head>'
            '<body><img class="pic" src="https://example.org/a.png" alt="a"></body></html>')
    assert 'align="right"' in inline_css(html)
    assert "align=" not in inline_css(html.replace("float: right", "display: block"))


def test_kept_style_rules_are_kept_per_parsing_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.inline import _Inliner

    monkeypatch.setenv("NEWSLETTER_CACHE_DIR", str(tmp_path))
    css = "a:hover { color: red } * { margin: 0 } p { color: blue !important }"
    html = "<html><body><p><a href='https://x.example/'>x</a></p></body></html>"
    first = _Inliner(html)._parse_style_rules(css, 0)  # premailer's defaults, now kept
    for options in ({"exclude_pseudoclasses": False}, {"include_star_selectors": True}, {"strip_important": False}):
        changed = _Inliner(html, **options)._parse_style_rules(css, 0)
        assert changed != first, options  # not the answer kept for other options
        assert _Inliner(html)._parse_style_rules(css, 0) == first
