"""Render an issue: the theme's Jinja2 templates make MJML, mjml-python compiles it to HTML."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from mjml import mjml2html
from msgspec import Struct

from newsletter.cache import bytecode_cache
from newsletter.config import FONT_LIST as _FONT_LIST
from newsletter.config import HEX_COLOUR as _HEX
from newsletter.config import THEME_COLOURS, Config, Theme
from newsletter.errors import ThemeError
from newsletter.htmlwriter import code_html, fits_phone, inlines_html, longest_word, neutralise, safe
from newsletter.models import Issue, Links
from newsletter.presentation import CONTENT_WIDTH, IssueView, as_view

ENTRY_TEMPLATE = "email.mjml.j2"
__all__ = ["neutralise", "safe", "render_email", "render_mjml", "context", "palette", "theme_dirs", "theme_files"]
# MRML's hidden preheader; replaced by the Litmus pattern (no 1px white text, mso-hide for
# Outlook's Word engine): SpamAssassin scores tiny or white text as invisible or low-contrast.
_PREVIEW_STYLE = (
    '<div style="display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0px;max-width:0px;'
    'opacity:0;overflow:hidden;">'
)
_PREHEADER_STYLE = '<div style="display:none;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all;">'
_PREHEADER_PAD = "&#847;&zwnj;&nbsp;" * 90  # keeps body text out of the inbox preview


def default_theme_dir() -> Path:
    """The packaged theme: newsletter/templates in a wheel, else the checkout's templates/."""
    packaged = resources.files("newsletter") / "templates"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def theme_dirs(config: Config) -> list[Path]:
    """The folders templates are looked up in, first match wins (the preview watches these)."""
    dirs = [config.templates_dir] if config.templates_dir.is_dir() else []
    return [*dirs, default_theme_dir()]


def theme_files(config: Config) -> list[Path]:
    """Every template file that can affect the email, for the preview to watch."""
    return sorted(p for d in theme_dirs(config) for p in d.rglob("*") if p.is_file())


def _finalize(value: Any) -> Any:
    # Every {{ expression }} passes through here (~1,000 calls a build): plain strings are
    # escaped and neutralised; Markup (already-safe HTML from the view or a filter) is left
    # alone. A record of the tool (or a tuple or list of them) has no text form: Jinja would
    # print its Python repr into the email, so it is refused. Strings come first, being most.
    if isinstance(value, str):
        return value if isinstance(value, Markup) else safe(value)
    if isinstance(value, Struct):
        if not hasattr(value, "__html__"):  # a record that writes itself as HTML would be welcome
            raise RecordOutput(value)
    elif isinstance(value, dict) or (  # a table (colors): its repr, {'bg': ...}, is no text either
            isinstance(value, _SEQUENCES) and (next(_records(value), None) is not None
                                               or not value and isinstance(value, tuple))):
        raise RecordOutput(value)
    return value


_SEQUENCES = (tuple, list)


def _records(items: tuple[Any, ...] | list[Any], depth: int = 3) -> Iterator[Struct]:
    """The records in a tuple or list, itself or in nested tuples and lists (a list block's
    items, a table's rows of cells of inlines), up to ``depth`` levels down."""
    for item in items:
        if isinstance(item, Struct):
            yield item
        elif depth > 1 and isinstance(item, _SEQUENCES):
            yield from _records(item, depth - 1)


class RecordOutput(ThemeError):
    """A template printed one of the tool's records, or a tuple or list of them, instead of text.

    Raised from ``_finalize`` while a template renders, where the template's line is unknown;
    the code that renders catches it and raises ``placed()``, the same message after the
    template's file and line. An empty tuple is refused too: the models' sequences are tuples
    (of blocks, of stories), and refusing only full ones would let a theme print "()" in every
    week without an intro and fail in the first week with one.
    """

    def __init__(self, value: Any) -> None:
        super().__init__(f"this expression gives {_what_instead(value)} See `newsletter docs theming` for the "
                         "names templates can use.")

    def placed(self) -> ThemeError:
        """The same message, after the template file and line that printed the record."""
        return ThemeError(f"{_template_position(self)}: {self.message}")


def _what_instead(value: Any) -> str:
    """What ``value`` is and what a template writes instead: the sentence's end, for RecordOutput."""
    # Imported here: only a theme's mistake comes this way, never a normal build.
    from newsletter.document import Block, Image, Inline
    from newsletter.presentation import IssueView, PartView, StoryView

    if isinstance(value, dict):
        keys = [str(key) for key in value][:4]
        return (f"a table (keys: {', '.join(keys) or 'none'}{', ...' if len(value) > 4 else ''}), not text; write "
                "one entry: the table's name, a dot and a key, as in {{ colors.text }} for the colours.")
    if isinstance(value, _SEQUENCES):
        records = list(_records(value))
        kind = "a list" if records else "an empty list"
        if not records or any(isinstance(r, Block) and not isinstance(r, Image) for r in records):
            return (f"{kind} of blocks, not text; write them with the `blocks` macro of partials/blocks.mjml.j2: "
                    '{% import "partials/blocks.mjml.j2" as b with context %} then {{ b.blocks(story.lede) }}, '
                    "{{ b.blocks(intro) }}, ...")
        if any(isinstance(r, Inline) and not isinstance(r, Image) for r in records):
            return (f"{kind} of inlines (a paragraph's text), not text; write them with the `inlines` filter: "
                    "{{ block.inlines|inlines }}.")
        if all(isinstance(r, StoryView) for r in records):
            return (f"{kind} of stories, not text; write each one's fields in a loop: "
                    "{% for story in all_stories %}{{ story.headline }}{% endfor %}.")
        if all(isinstance(r, Image) for r in records):
            return (f"{kind} of pictures, not text; write blocks with {{{{ b.blocks(...) }}}} (the `blocks` macro "
                    "of partials/blocks.mjml.j2) and inlines with the `inlines` filter: {{ block.inlines|inlines }}.")
        return f"{kind} of {type(records[0]).__name__} records, not text; loop over it and write each one's fields."
    if isinstance(value, StoryView):
        return ("a story (StoryView), not text; write its fields: {{ story.headline }}, {{ story.url }}, "
                "{{ story.date }}, ..., and its blocks with the `blocks` macro of partials/blocks.mjml.j2: "
                "{{ b.blocks(story.lede) }}.")
    if isinstance(value, IssueView):
        return ("the issue (IssueView), not text; write its fields: {{ issue.subject }}, {{ issue.number }}, "
                "{{ issue.date_range }}, ...")
    if isinstance(value, PartView):
        part = f"story.{value.kind}"
        return (f"a story's {value.kind} (PartView), not text; write its label and blocks: {{{{ {part}.label }}}} "
                f"and {{{{ b.blocks({part}.blocks) }}}} (the `blocks` macro of partials/blocks.mjml.j2).")
    if isinstance(value, Image):
        return ("a picture (Image), not text; write its fields into an <img>: "
                '<img src="{{ story.image.src }}" alt="{{ story.image.alt }}" width="{{ story.image.width }}" '
                'height="{{ story.image.height }}">.')
    if isinstance(value, Block):
        return (f"one block ({type(value).__name__}), not text; write it with the `block_html` macro of "
                "partials/blocks.mjml.j2: {{ b.block_html(block) }}, or a list of blocks with {{ b.blocks(...) }}.")
    if isinstance(value, Inline):
        return (f"one inline ({type(value).__name__}), not text; write a paragraph's inlines together with the "
                "`inlines` filter: {{ block.inlines|inlines }}.")
    record = type(value).__name__
    name = record.lower()
    fields = [f for f in value.__struct_fields__ if isinstance(getattr(value, f), (str, int, float))]
    shown = ", ".join(f"{{{{ {name}.{f} }}}}" for f in fields[:4])
    return f"the {record} record, not text; write one of its fields: {shown}{', ...' if len(fields) > 4 else '.'}"


def environment(config: Config) -> jinja2.Environment:
    """The theme's Jinja environment: one per set of theme folders, kept for the process.

    Jinja caches compiled templates per environment and recompiles a template whose file
    changed (``auto_reload``), so a long-running preview still sees every edit, while repeated
    builds stop paying for compiling the theme each time.
    """
    return _environment(tuple(str(d) for d in theme_dirs(config)))


@functools.lru_cache(maxsize=8)
def _environment(folders: tuple[str, ...]) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(folder) for folder in folders]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["css"] = _css_value
    env.filters["paragraphs"] = _paragraphs
    env.bytecode_cache = bytecode_cache(env)  # compiled templates kept between runs (newsletter.cache)
    env.filters["inlines"] = inlines_html
    env.filters["longest_word"] = longest_word
    env.filters["fits_phone"] = fits_phone
    env.filters["code"] = code_html
    return env


# --- colours: every foreground is checked against its background in both schemes ---------

def _rgb(colour: str) -> tuple[float, float, float]:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return (int(value[0:2], 16) / 255, int(value[2:4], 16) / 255, int(value[4:6], 16) / 255)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in rgb)


def luminance(colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(a: str, b: str, weight: float) -> str:
    """``weight`` of colour ``a`` over colour ``b``."""
    ra, rb = _rgb(a), _rgb(b)
    return _hex(tuple(weight * x + (1 - weight) * y for x, y in zip(ra, rb, strict=True)))  # type: ignore[arg-type]


def legible(foreground: str, background: str, minimum: float = 4.6) -> str:
    """The foreground, moved towards black or white just enough to reach ``minimum`` contrast."""
    if contrast(foreground, background) >= minimum:
        return foreground
    target = "#000000" if luminance(background) > 0.18 else "#ffffff"
    for step in range(1, 21):
        candidate = mix(target, foreground, step / 20)
        if contrast(candidate, background) >= minimum:
            return candidate
    return target


def palette(theme: Theme) -> dict[str, str]:
    """The theme's colours, validated, completed for dark mode, and adjusted to 4.5:1 contrast."""
    for name in THEME_COLOURS:  # load_config checks them at their line; a Theme made in code is checked here
        value = getattr(theme, name)
        if not _HEX.match(value):
            raise ThemeError(f"[theme] {name} = '{value}' is not a colour: write it as #rrggbb in newsletter.toml.")
    t = theme
    dark_analysis = mix(t.analysis_accent, t.dark_card, 0.22)
    dark_impact = mix(t.impact_accent, t.dark_card, 0.22)
    light = {
        "bg": t.background, "card": t.card,
        "text": legible(t.text, t.card), "muted": legible(t.muted, t.card), "link": legible(t.primary, t.card),
        "foot": legible(t.muted, t.background),
        "an_bg": t.analysis_background, "an_text": legible(t.text, t.analysis_background),
        "an_label": legible(t.analysis_accent, t.analysis_background), "an_rule": t.analysis_accent,
        "im_bg": t.impact_background, "im_text": legible(t.text, t.impact_background),
        "im_label": legible(t.impact_accent, t.impact_background), "im_rule": t.impact_accent,
        "rule": mix(t.muted, t.card, 0.25),
        # a quote's rule needs 3:1 against the card (WCAG 1.4.11, non-text contrast)
        "quote": legible(t.analysis_accent, t.card, 3.0),
        "an_link": legible(t.primary, t.analysis_background), "im_link": legible(t.primary, t.impact_background),
    }
    dark = {
        "bg": t.dark_background, "card": t.dark_card,
        "text": legible(t.dark_text, t.dark_card), "muted": legible(t.dark_muted, t.dark_card),
        "link": legible(t.dark_primary, t.dark_card), "foot": legible(t.dark_muted, t.dark_background),
        "an_bg": dark_analysis, "an_text": legible(t.dark_text, dark_analysis),
        "an_label": legible(mix("#ffffff", t.analysis_accent, 0.6), dark_analysis),
        "an_rule": legible(t.analysis_accent, t.dark_card, 3.0),
        "im_bg": dark_impact, "im_text": legible(t.dark_text, dark_impact),
        "im_label": legible(mix("#ffffff", t.impact_accent, 0.6), dark_impact),
        "im_rule": legible(t.impact_accent, t.dark_card, 3.0),
        "rule": mix(t.dark_muted, t.dark_card, 0.3),
        "quote": legible(t.analysis_accent, t.dark_card, 3.0),
        "an_link": legible(t.dark_primary, dark_analysis), "im_link": legible(t.dark_primary, dark_impact),
    }
    return {**light, **{f"dark_{k}": v for k, v in dark.items()}}


def _css_value(value: Any) -> Markup:
    """A config value placed raw into CSS (a <style> block does not decode entities), so check it."""
    text = str(value)
    if _HEX.match(text) or _FONT_LIST.match(text):
        return Markup(text)
    raise ThemeError(f"'{text}' cannot be used in CSS: colours are #rrggbb, fonts a comma-separated list of names.")


def _paragraphs(text: str) -> list[Markup]:
    """An editor's note as paragraphs: blank lines (or single newlines) separate them."""
    return [safe(part.strip()) for part in re.split(r"\n\s*\n|\n", text) if part.strip()]


# --- what the templates see ----------------------------------------------------------------

def context(view: IssueView, config: Config, links: Links) -> dict[str, Any]:
    """Everything a template can use; documented in docs/theming.md."""
    return {
        "issue": view,
        "subject": view.subject,
        "preheader": view.preheader,
        "preheader_pad": Markup(_PREHEADER_PAD),
        "intro": view.intro,
        "date_range": view.date_range,
        "lead": view.lead,
        "stories": view.rest,
        "all_stories": view.stories,
        "publication": config.publication,
        "theme": config.theme,
        "headings": config.headings,
        "labels": view.labels,
        "colors": palette(config.theme),
        "links": links,
        "lang": view.lang,
        "content_width": CONTENT_WIDTH,
        "web": None,  # the web page's data in web.html (newsletter.web), none in the email
    }


def render_mjml(issue: Issue | IssueView, config: Config, links: Links, extra: Mapping[str, Any] | None = None) -> str:
    """The theme's MJML for an issue (before compiling); theme errors name file and line.

    Pass the ``IssueView`` the build presented (newsletter.presentation), so the text part
    reads the same one; an ``Issue`` is presented here first. ``extra`` adds to (or replaces)
    names of ``context``: the web page passes ``web``.
    """
    env = environment(config)
    try:
        template = env.get_template(ENTRY_TEMPLATE)
        return template.render({**context(as_view(issue, config), config, links), **(extra or {})})
    except jinja2.TemplateSyntaxError as error:
        where = f"{error.filename or error.name}:{error.lineno}"
        raise ThemeError(f"{where}: template syntax error: {error.message}") from None
    except jinja2.TemplateNotFound as error:
        folders = ", ".join(map(str, theme_dirs(config)))
        raise ThemeError(f"theme template '{error.name}' not found in {folders}.") from None
    except jinja2.UndefinedError as error:
        raise ThemeError(f"{_template_position(error)}: {error.message}. See `newsletter docs theming` for the "
                         f"names templates can use.") from None
    except ThemeError as error:  # a record printed, a filter's refusal (|css): placed at the template's line
        raise ThemeError(f"{_template_position(error)}: {error.message}") from None
    except TEMPLATE_FAULTS as error:
        fault = theme_fault(error)
        if fault is None:
            raise  # the tool's own code failed: a bug, shown with its traceback
        raise fault from None
    except RecursionError as error:  # an include or macro that reaches itself again
        raise ThemeError(f"{_template_position(error)}: the templates include or call themselves without end "
                         "(RecursionError). Check the {% include %} and macro calls on that line.") from None


# What an expression a theme writes can raise when it runs: a method called with the wrong
# arguments, a division by zero, an index out of range, a conversion of text that is no number.
TEMPLATE_FAULTS = (TypeError, ValueError, ArithmeticError, LookupError, AttributeError)


def theme_fault(error: BaseException) -> ThemeError | None:
    """A ThemeError naming the template file and line whose expression raised ``error``; None
    when it was raised inside the tool's own code (a bug, to be re-raised with its traceback).

    Jinja rewrites a traceback so its last frame is the template line that was running
    (``jinja2.debug.rewrite_traceback_stack``): the error is the theme's when the frame that
    raised it is a template's.

    A builtin filter the theme misuses (``|tojson`` on a record, ``|format`` one value short)
    raises in Jinja's or the standard library's code below the template's frame: still the
    theme's. Any other code below it (the tool's own filters) makes it a bug.
    """
    tb = error.__traceback__
    template: Any = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            template = tb
        elif template is not None and not _library_code(filename):
            template = None  # below the template, code that is neither Jinja's nor Python's: a bug
        tb = tb.tb_next
    if template is None:
        return None
    return ThemeError(f"{template.tb_frame.f_code.co_filename}:{template.tb_lineno}: {type(error).__name__}: "
                      f"{error}. Fix the expression on that line (`newsletter docs theming` lists what templates "
                      "can use).")


def _library_code(filename: str) -> bool:
    """Whether ``filename`` is Jinja's own code or the standard library's (not another installed package)."""
    import os
    import sysconfig

    path = os.path.realpath(filename)
    if path.startswith(os.path.realpath(os.path.dirname(jinja2.__file__)) + os.sep):
        return True
    packages = {os.path.realpath(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")}
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"]) + os.sep
    return path.startswith(stdlib) and not any(path.startswith(folder + os.sep) for folder in packages) \
        or filename.startswith("<frozen ")


def _template_position(error: BaseException) -> str:
    # Jinja rewrites tracebacks so template frames carry the template's file and line.
    tb = error.__traceback__
    where = "theme template"
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") or "/templates/" in filename:
            where = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def render_email(issue: Issue | IssueView, config: Config, links: Links,
                 extra: Mapping[str, Any] | None = None) -> str:
    """Issue -> HTML (CSS not yet inlined); footer links are ``links`` verbatim; ``extra`` as in render_mjml."""
    source = render_mjml(issue, config, links, extra)
    try:
        html = str(mjml2html(source, disable_comments=True, fonts={}))
    except ValueError as error:
        raise ThemeError(f"the theme's MJML does not compile: {error}. Check the templates in "
                         f"{', '.join(map(str, theme_dirs(config)))}.") from None
    return html.replace(_PREVIEW_STYLE, _PREHEADER_STYLE, 1)
