"""A theme expression that gives one of the tool's records (a story, blocks, inlines, a settings
table) instead of text stops the build with the template's file and line and what to write
instead: Python's repr of a record, e.g. ``(Para(inlines=(Str(text='...'),)),)``, must never
reach subscribers. Text, numbers, Markup and None print exactly as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from markupsafe import Markup

from newsletter.config import Config
from newsletter.document import Para, Str
from newsletter.errors import ThemeError
from newsletter.render import environment, render_email
from newsletter.web import render_web
from tests.emailgen import PLACEHOLDERS, make_issue

# (the expression, what the message must tell the editor to write instead)
IN_A_STORY = [
    ("{{ story.lede }}", "b.blocks(story.lede)"),
    ("{{ story.more }}", "b.blocks("),  # the lead's further blocks
    ("{{ story.lede|list }}", "b.blocks("),
    ("{{ story.lede[0] }}", "b.block_html("),
    ("{{ story.lede[0].inlines }}", "|inlines"),
    ("{{ story.lede[0].inlines[0] }}", "|inlines"),
    ("{{ story }}", "story.headline"),
    ("{{ story.analysis }}", "story.analysis.label"),
    ("{{ story.impact }}", "b.blocks(story.impact.blocks)"),
    ("{{ story.analysis.blocks }}", "b.blocks("),
    ("{{ story.image }}", "story.image.src"),
]
IN_THE_FOOTER = [
    ("{{ issue }}", "issue.subject"),
    ("{{ intro }}", "b.blocks("),
    ("{{ issue.intro }}", "b.blocks("),
    ("{{ all_stories }}", "{% for story in"),
    ("{{ lead }}", "story.headline"),
    ("{{ publication }}", "publication.name"),
    ("{{ theme }}", "theme.primary"),
    ("{{ headings }}", "headings.analysis_label"),
    ("{{ links }}", "links.unsubscribe"),
    ("{{ colors }}", "colors.text"),  # a table (dict) prints Python's repr just the same
]


def _template(root: Path, name: str, line: str) -> None:
    """A workspace template whose third line is ``line``."""
    path = root / "templates" / "partials" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<mj-section><mj-column>\n<mj-text>\n{line}</mj-text></mj-column></mj-section>\n", "utf-8")


def _refused(error: ThemeError, file: str, hint: str) -> None:
    message = str(error.message)
    assert message.startswith(f"{file}:3: ") or f"/{file}:3: " in message, message
    assert hint in message, message
    assert "newsletter docs theming" in message, message
    assert "Str(text=" not in message and "Para(" not in message  # the message itself shows no repr


@pytest.mark.parametrize(("line", "hint"), IN_A_STORY)
def test_a_story_record_in_a_template_is_a_theme_error_saying_what_to_write(tmp_path: Path, line: str,
                                                                           hint: str) -> None:
    _template(tmp_path, "story.mjml.j2", line)
    with pytest.raises(ThemeError) as raised:
        render_email(make_issue(3), Config(root=tmp_path), PLACEHOLDERS)
    _refused(raised.value, "partials/story.mjml.j2", hint)


@pytest.mark.parametrize(("line", "hint"), IN_THE_FOOTER)
def test_an_issue_or_settings_record_in_a_template_is_a_theme_error(tmp_path: Path, line: str, hint: str) -> None:
    _template(tmp_path, "footer.mjml.j2", line)
    with pytest.raises(ThemeError) as raised:
        render_email(make_issue(2), Config(root=tmp_path), PLACEHOLDERS)
    _refused(raised.value, "partials/footer.mjml.j2", hint)


def test_an_empty_list_of_blocks_is_refused_too(tmp_path: Path) -> None:
    # A week without an intro would print "()"; refusing it there means the theme's mistake
    # shows on the first build, not on the first week that has an intro.
    _template(tmp_path, "footer.mjml.j2", "{{ intro }}")
    with pytest.raises(ThemeError) as raised:
        render_email(make_issue(1, intro=""), Config(root=tmp_path), PLACEHOLDERS)
    _refused(raised.value, "partials/footer.mjml.j2", "b.blocks(")


def test_the_web_page_refuses_a_record_as_the_email_does(tmp_path: Path) -> None:
    _template(tmp_path, "web-nav.mjml.j2", "{{ issue.stories[0].lede }}")
    render_email(make_issue(1), Config(root=tmp_path), PLACEHOLDERS)  # the email has no web-nav
    with pytest.raises(ThemeError) as raised:
        render_web(make_issue(1), Config(root=tmp_path), PLACEHOLDERS)
    _refused(raised.value, "partials/web-nav.mjml.j2", "b.blocks(")


def test_nested_lists_of_records_are_refused(tmp_path: Path) -> None:
    # a list's items (tuples of blocks) and a table's rows (tuples of cells of inlines)
    template = environment(Config(root=tmp_path)).from_string("{{ value }}")
    para = Para((Str("words"),))
    for value in (((para,), (para,)), (((Str("cell"),),),)):
        with pytest.raises(ThemeError, match="newsletter docs theming"):
            template.render(value=value)


def test_text_numbers_markup_and_none_print_as_before(tmp_path: Path) -> None:
    template = environment(Config(root=tmp_path)).from_string(
        "{{ a }},{{ b }},{{ c }},{{ d }},{{ e }},{{ f }},{{ g }},{{ h }},{{ i }}")
    out = template.render(a="<x> {{ tag }}", b=Markup("<b>ok</b>"), c=3, d=None, e=1.5, f=True,
                          g=["a", 1], h=("a", "b"), i=[])
    assert out == ("&lt;x&gt; &#123;&#123; tag &#125;&#125;,<b>ok</b>,3,None,1.5,True,"
                   "[&#39;a&#39;, 1],(&#39;a&#39;, &#39;b&#39;),[]")


def test_a_build_with_a_record_in_a_template_exits_1_without_a_traceback(workspace: Path) -> None:
    from newsletter.cli import cli
    from tests.conftest import SAMPLE_WEEK

    _template(workspace, "story.mjml.j2", "{{ story.lede }}")
    result = CliRunner().invoke(cli, ["build", "--week", SAMPLE_WEEK])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "story.mjml.j2:3" in result.output and "b.blocks(story.lede)" in result.output
    assert not (workspace / "issues" / SAMPLE_WEEK / "email.html").exists() or \
        "Para(" not in (workspace / "issues" / SAMPLE_WEEK / "email.html").read_text("utf-8")


def test_a_record_in_the_archive_index_is_a_theme_error(workspace: Path) -> None:
    from tests.test_theme_faults import archive_with_index_line

    result = archive_with_index_line(workspace, "<p>{{ publication }}</p>")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "archive.html.j2:3" in result.output and "publication.name" in result.output
