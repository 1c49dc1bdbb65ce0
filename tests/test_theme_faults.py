"""A theme template whose expression fails when it runs (not only when it is parsed) is the
theme's fault: a ThemeError naming the template's file and line, exit 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.config import Config
from newsletter.errors import ThemeError
from newsletter.render import render_email
from tests.emailgen import PLACEHOLDERS, make_issue

FAILING = [
    ("{{ publication.name.upper(1, 2) }}", "TypeError"),  # a method called with the wrong arguments
    ("{{ 1 // (publication.logo_width - publication.logo_width) }}", "ZeroDivisionError"),
    ("{{ publication.name.index('no such words') }}", "ValueError"),
    ("{{ '{0} {1}'.format(publication.name) }}", "IndexError"),
]


def _footer(root: Path, line: str) -> Path:
    partials = root / "templates" / "partials"
    partials.mkdir(parents=True, exist_ok=True)
    footer = partials / "footer.mjml.j2"
    footer.write_text(f"<mj-section><mj-column>\n<mj-text>\n{line}</mj-text></mj-column></mj-section>\n", "utf-8")
    return footer


@pytest.mark.parametrize(("line", "kind"), FAILING)
def test_a_failing_template_expression_is_a_theme_error_at_its_line(tmp_path: Path, line: str, kind: str) -> None:
    _footer(tmp_path, line)
    with pytest.raises(ThemeError, match=r"footer\.mjml\.j2:3: ") as raised:
        render_email(make_issue(1), Config(root=tmp_path), PLACEHOLDERS)
    assert kind in str(raised.value.message)


def test_a_build_with_a_failing_template_expression_exits_1_without_a_traceback(workspace: Path) -> None:
    from newsletter.cli import cli
    from tests.conftest import SAMPLE_WEEK

    _footer(workspace, FAILING[0][0])
    result = CliRunner().invoke(cli, ["build", "--week", SAMPLE_WEEK])
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, TypeError)  # a ClickException ends with SystemExit(1)
    assert "Traceback" not in result.output
    assert "footer.mjml.j2:3" in result.output and "TypeError" in result.output


def archive_with_index_line(workspace: Path, line: str) -> Result:
    """`newsletter archive` after a build, with a theme index template whose line 3 is ``line``."""
    from newsletter.cli import cli
    from tests.conftest import SAMPLE_WEEK

    runner = CliRunner()
    assert runner.invoke(cli, ["build", "--week", SAMPLE_WEEK]).exit_code == 0
    (workspace / "templates").mkdir(exist_ok=True)
    (workspace / "templates" / "archive.html.j2").write_text(
        f"<!doctype html>\n<title>{{{{ publication.name }}}}</title>\n{line}\n", "utf-8")
    return runner.invoke(cli, ["archive", "--out", str(workspace / "site")])


def test_a_failing_expression_in_the_archive_index_is_a_theme_error(workspace: Path) -> None:
    result = archive_with_index_line(workspace, "{{ editions[0].key.split(1, 2, 3) }}")
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, TypeError)
    assert "archive.html.j2:3" in result.output and "TypeError" in result.output


@pytest.mark.parametrize("declaration", ["float: right", "FLOAT: right", "Float:right"])
def test_a_floated_picture_gets_outlooks_align_attribute_however_the_property_is_spelt(declaration: str) -> None:
    # CSS property names are case-insensitive (CSS Syntax Level 3): a theme that writes FLOAT
    # floats its picture in every client, and Outlook's Word engine needs align= to do the same.
    from newsletter.inline import inline_css

    html = (f'<!doctype html><html><head><style data-inline>.pic {{ {declaration} }}</style></head>'
            '<body><img class="pic" src="https://example.org/a.png" alt="a"></body></html>')
    assert 'align="right"' in inline_css(html)


def test_a_template_that_includes_itself_is_a_theme_error(tmp_path: Path) -> None:
    partials = tmp_path / "templates" / "partials"
    partials.mkdir(parents=True)
    (partials / "footer.mjml.j2").write_text(
        '<mj-section><mj-column><mj-text>x</mj-text></mj-column></mj-section>\n'
        '{% include "partials/footer.mjml.j2" %}\n', "utf-8")
    with pytest.raises(ThemeError, match=r"footer\.mjml\.j2:2: .*(itself|without end)"):
        render_email(make_issue(1), Config(root=tmp_path), PLACEHOLDERS)


def test_an_error_inside_the_tools_own_code_keeps_its_traceback(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the theme's own expressions are the theme's fault: a filter of the tool that fails
    # is a bug, and must not be reported as a mistake in the editor's templates.
    import newsletter.render

    def broken_filter(value: object) -> str:
        raise TypeError("a bug in a filter")

    env = newsletter.render.environment(Config(root=tmp_path))
    monkeypatch.setitem(env.filters, "longest_word", broken_filter)
    monkeypatch.setitem(env.filters, "fits_phone", broken_filter)
    monkeypatch.setitem(env.filters, "inlines", broken_filter)
    with pytest.raises(TypeError, match="a bug in a filter"):
        render_email(make_issue(1), Config(root=tmp_path), PLACEHOLDERS)


def test_a_value_the_css_filter_refuses_is_a_theme_error_at_its_line(tmp_path: Path) -> None:
    _footer(tmp_path, "{{ 'red; } body { background: url(https://evil.example/x)' | css }}")
    with pytest.raises(ThemeError, match=r"footer\.mjml\.j2:3: .*cannot be used in CSS"):
        render_email(make_issue(1), Config(root=tmp_path), PLACEHOLDERS)


@pytest.mark.parametrize(("line", "kind"), [
    ("{{ publication|tojson }}", "TypeError"),  # Jinja's tojson on a record: fails in json, called by Jinja
    ("{{ '%s and %s'|format(publication.name) }}", "TypeError"),  # Jinja's format filter, one value short
    ("{{ publication.name|truncate('ten') }}", "TypeError"),  # a builtin filter given a word for a number
])
def test_a_builtin_filter_the_theme_misuses_is_a_theme_error_at_its_line(tmp_path: Path, line: str,
                                                                         kind: str) -> None:
    """The failure is raised inside Jinja's (or the standard library's) code, called by the theme's line."""
    _footer(tmp_path, line)
    with pytest.raises(ThemeError, match=r"footer\.mjml\.j2:3: ") as raised:
        render_email(make_issue(1), Config(root=tmp_path), PLACEHOLDERS)
    assert kind in str(raised.value.message)
