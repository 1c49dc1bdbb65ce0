"""The theme: overriding templates by file name, theme errors, colours, shortening."""

from __future__ import annotations

from pathlib import Path

import msgspec.structs
import pytest

from newsletter.config import Config, Theme
from newsletter.document import Emph, Link, Para, Str, block_text
from newsletter.errors import ThemeError
from newsletter.inline import inline_css
from newsletter.render import contrast, default_theme_dir, palette, render_email, render_mjml, theme_files
from newsletter.shorten import sentences, shorten
from tests.emailgen import PLACEHOLDERS, make_issue, make_story, para


def config_in(root: Path, **theme: object) -> Config:
    return Config(root=root, theme=Theme(**theme))  # type: ignore[arg-type]


def test_default_theme_ships_the_entry_template() -> None:
    assert (default_theme_dir() / "email.mjml.j2").is_file()
    assert (default_theme_dir() / "partials" / "story.mjml.j2").is_file()


def test_workspace_template_replaces_the_packaged_one_of_the_same_name(tmp_path: Path) -> None:
    (tmp_path / "templates" / "partials").mkdir(parents=True)
    (tmp_path / "templates" / "partials" / "footer.mjml.j2").write_text(
        '<mj-section><mj-column><mj-text><p>Custom footer for {{ publication.name }}</p>'
        '<a href="{{ links.unsubscribe }}">Leave the list</a></mj-text></mj-column></mj-section>\n', "utf-8")
    config = Config(root=tmp_path)
    html = render_email(make_issue(2), config, PLACEHOLDERS)
    assert "Custom footer for Newsletter" in html and "Leave the list" in html
    assert "Manage your preferences" not in html  # the packaged footer is gone
    assert "Read the full story:" in html  # the other partials still come from the package
    assert tmp_path / "templates" / "partials" / "footer.mjml.j2" in theme_files(config)


def test_template_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "templates" / "partials").mkdir(parents=True)
    (tmp_path / "templates" / "partials" / "masthead.mjml.j2").write_text("<mj-section>\n{% if %}\n", "utf-8")
    with pytest.raises(ThemeError, match=r"masthead\.mjml\.j2:2: template syntax error"):
        render_email(make_issue(1), Config(root=tmp_path), PLACEHOLDERS)


def test_undefined_name_in_a_template_is_a_theme_error(tmp_path: Path) -> None:
    (tmp_path / "templates" / "partials").mkdir(parents=True)
    (tmp_path / "templates" / "partials" / "footer.mjml.j2").write_text(
        "<mj-section><mj-column>\n<mj-text>{{ publication.nmae }}</mj-text></mj-column></mj-section>\n", "utf-8")
    with pytest.raises(ThemeError, match=r"footer\.mjml\.j2:2: .*nmae"):
        render_email(make_issue(1), Config(root=tmp_path), PLACEHOLDERS)


def test_invalid_mjml_is_a_theme_error(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "email.mjml.j2").write_text("<mjml><mj-body><mj-section>", "utf-8")
    with pytest.raises(ThemeError, match="does not compile"):
        render_email(make_issue(1), Config(root=tmp_path), PLACEHOLDERS)


def test_bad_colour_is_reported_by_name(tmp_path: Path) -> None:
    with pytest.raises(ThemeError, match=r"\[theme\] primary = 'red;}'"):
        render_email(make_issue(1), config_in(tmp_path, primary="red;}"), PLACEHOLDERS)


def test_font_list_cannot_break_out_of_css(tmp_path: Path) -> None:
    with pytest.raises(ThemeError, match="cannot be used in CSS"):
        render_email(make_issue(1), config_in(tmp_path, font_family="Arial; } body { display:none"), PLACEHOLDERS)


def test_colours_and_fonts_come_from_the_theme(tmp_path: Path) -> None:
    config = config_in(tmp_path, primary="#0b5394", font_family="Verdana, sans-serif")
    html = inline_css(render_email(make_issue(2), config, PLACEHOLDERS))
    assert "#0b5394" in html and "Verdana, sans-serif" in html


@pytest.mark.parametrize("theme", [Theme(), Theme(muted="#cccccc", primary="#ff8888", analysis_accent="#99ccff"),
                                   Theme(dark_text="#444444", dark_primary="#330000", dark_muted="#222222")])
def test_palette_reaches_aa_contrast_in_both_schemes(theme: Theme) -> None:
    colours = palette(theme)
    for scheme in ("", "dark_"):
        c = {k.removeprefix(scheme): v for k, v in colours.items() if k.startswith("dark_") == bool(scheme)}
        for fg, bg in (("text", "card"), ("muted", "card"), ("link", "card"), ("foot", "bg"), ("an_text", "an_bg"),
                       ("an_label", "an_bg"), ("im_text", "im_bg"), ("im_label", "im_bg")):
            assert contrast(c[fg], c[bg]) >= 4.5, (scheme, fg, bg, c[fg], c[bg])


def test_section_labels_come_from_configuration(tmp_path: Path) -> None:
    issue = make_issue(stories=(make_story(0, section="us"), make_story(1, section="arts-and-culture")))
    config = msgspec.structs.replace(Config(root=tmp_path), theme=Theme(sections={"us": "United States"}))
    mjml = render_mjml(issue, config, PLACEHOLDERS)
    assert ">United States<" in mjml and ">Arts And Culture<" in mjml


def test_story_in_the_publication_language_gets_no_lang(tmp_path: Path) -> None:
    issue = make_issue(stories=(make_story(0, lang="en-US"), make_story(1, lang="vi")))
    mjml = render_mjml(issue, Config(root=tmp_path), PLACEHOLDERS)
    assert 'lang="en-US"' not in mjml and mjml.count('lang="vi"') == 2


def test_intro_is_optional(tmp_path: Path) -> None:
    html = render_email(make_issue(2, intro=""), Config(root=tmp_path), PLACEHOLDERS)
    assert "In this issue" in html


# --- shortening ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("One. Two three. Four!", ["One.", "Two three.", "Four!"]),
    ("Mr. Smith went to Washington. He stayed.", ["Mr. Smith went to Washington.", "He stayed."]),
    ("The U.S. economy grew 2.5 percent. Then it slowed.", ["The U.S. economy grew 2.5 percent.", "Then it slowed."]),
    ("John F. Kennedy spoke. Crowds listened.", ["John F. Kennedy spoke.", "Crowds listened."]),
    ("Ông Được nói: “Giá tăng.” Đó là sự thật. Ước tính 5%.",
     ["Ông Được nói: “Giá tăng.”", "Đó là sự thật.", "Ước tính 5%."]),
    ("“Is it over?” she asked. No.", ["“Is it over?” she asked.", "No."]),
    ("Prices rose… Then fell.", ["Prices rose…", "Then fell."]),
])
def test_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_shorten_keeps_whole_paragraphs_and_sentences() -> None:
    paragraphs = (para("One two three. Four five six."), para("Seven eight. Nine ten eleven. Twelve."))
    result = shorten(paragraphs, 9)
    assert result.shortened
    assert [p.text for p in result.blocks] == ["One two three. Four five six.", "Seven eight."]
    assert result.blocks[0] is paragraphs[0]  # untouched paragraphs are the same blocks


def test_shorten_never_cuts_a_sentence_and_keeps_at_least_one() -> None:
    result = shorten((para("A very long first sentence that goes on and on. Short."),), 3)
    assert [p.text for p in result.blocks] == ["A very long first sentence that goes on and on."]


def test_shorten_leaves_short_text_alone() -> None:
    paragraphs = (para("Short. Text."),)
    assert shorten(paragraphs, 10).blocks == paragraphs and not shorten(paragraphs, 10).shortened
    assert not shorten(paragraphs, 0).shortened


def test_shortened_paragraph_keeps_its_emphasis_and_links_up_to_the_cut() -> None:
    link = Link("https://a.example/", (Str("the portal"),))
    block = Para((Str("Apply on "), link, Str(" today. "), Emph((Str("Another sentence"),)), Str(" here. And more.")))
    (kept,) = shorten((block,), 5).blocks
    assert kept == Para((Str("Apply on "), link, Str(" today.")))
    assert block_text(kept) == "Apply on the portal today."


def test_preheader_is_hidden_without_tiny_or_white_text(tmp_path: Path) -> None:
    # render.py rewrites mj-preview's div by its exact spelling; if mjml-python's output ever
    # changes, this fails instead of silently bringing back SpamAssassin's FONT_INVIS/LOW_CONTRAST.
    html = render_email(make_issue(), Config(root=tmp_path), PLACEHOLDERS)
    body = html[html.index("<body"):]
    hidden = body[body.index(">") + 1:].lstrip()
    style = "display:none;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all;"
    assert hidden.startswith(f'<div style="{style}">')
    assert "font-size:1px" not in hidden[:200] and "#ffffff" not in hidden[:200]
