"""Render an issue: the theme's Jinja2 templates make MJML, mjml-python compiles it to HTML."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape
from mjml import mjml2html

from newsletter.config import Config, Labels, Theme
from newsletter.errors import ThemeError
from newsletter.models import Issue, Links, Paragraph, Story
from newsletter.shorten import shorten

ENTRY_TEMPLATE = "email.mjml.j2"
# Merge-tag syntax of the mailing services (Mailchimp *|UNSUB|*, listmonk and Buttondown
# {{ ... }} / {% ... %}) must never come alive from article text, so these characters are
# written as character references, which the services do not parse but every client shows.
_MERGE_CHARS = {"{": "&#123;", "}": "&#125;", "|": "&#124;"}
_MERGE_RE = re.compile(r"[{}|]")
# MRML's hidden preheader; replaced by the Litmus pattern (no 1px white text, mso-hide for
# Outlook's Word engine): SpamAssassin scores tiny or white text as invisible or low-contrast.
_PREVIEW_STYLE = (
    '<div style="display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0px;max-width:0px;'
    'opacity:0;overflow:hidden;">'
)
_PREHEADER_STYLE = '<div style="display:none;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all;">'
_PREHEADER_PAD = "&#847;&zwnj;&nbsp;" * 90  # keeps body text out of the inbox preview
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
_FONT_LIST = re.compile(r"^[A-Za-z0-9 ,'-]+$")
IMAGE_WIDTH, IMAGE_HEIGHT = 552, 311  # 16:9 at the content width; CSS keeps the real ratio


def neutralise(text: str) -> str:
    """Entity-encode the characters of merge-tag syntax in already-escaped HTML text."""
    return _MERGE_RE.sub(lambda m: _MERGE_CHARS[m.group(0)], text)


def safe(text: str) -> Markup:
    """Article or editor text as HTML: escaped, and merge-tag syntax neutralised."""
    return Markup(neutralise(str(escape(text))))


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
    # Every {{ expression }} passes through here: plain strings are escaped and neutralised;
    # Markup (already-safe HTML from the view or a filter) is left alone.
    if isinstance(value, str) and not isinstance(value, Markup):
        return safe(value)
    return value


def environment(config: Config) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(d)) for d in theme_dirs(config)]
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
    for name in ("primary", "text", "muted", "background", "card", "analysis_background", "analysis_accent",
                 "impact_background", "impact_accent", "dark_background", "dark_card", "dark_text",
                 "dark_muted", "dark_primary"):
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

@dataclass(frozen=True)
class Part:
    """The analysis or impact of a story as shown: label, paragraphs and whether it was cut."""

    label: Markup
    paragraphs: tuple[Markup, ...]
    shortened: bool


@dataclass(frozen=True)
class StoryView:
    """One story, ready for the theme: every text field is safe HTML."""

    id: str
    headline: Markup
    url: str
    section: Markup | None
    lang: str | None  # set only when it differs from the publication's language
    lede: Markup
    more: tuple[Markup, ...]  # extra story paragraphs (the lead story only)
    analysis: Part | None
    impact: Part | None
    image: str | None
    image_alt: Markup
    image_width: int
    image_height: int
    author: Markup | None
    date: str
    read_more: Markup  # "Read the full story: <headline>" in the story's language


def _html(paragraph: Paragraph) -> Markup:
    return Markup(neutralise(str(paragraph.html)))


def _part(label: str, paragraphs: tuple[Paragraph, ...], max_words: int) -> Part | None:
    if not paragraphs:
        return None
    result = shorten(paragraphs, max_words)
    return Part(safe(label), tuple(_html(p) for p in result.paragraphs), result.shortened)


def story_lang(story: Story, config: Config) -> str | None:
    if story.lang and story.lang.split("-")[0].lower() != config.publication.language.split("-")[0].lower():
        return story.lang
    return None


def story_view(story: Story, config: Config, lead: bool = False) -> StoryView:
    more: tuple[Markup, ...] = ()
    if lead:
        rest = tuple(p for p in story.body if p.text != story.lede.text)
        more = tuple(_html(p) for p in shorten(rest, config.theme.lead_words).paragraphs) if rest else ()
    section = config.theme.section_label(story.section)
    # A story's own words (its headings, its link, its date) follow its language; the section
    # label is the publication's, like the rest of the email around the card.
    labels = config.labels_for(story.lang)
    return StoryView(
        id=story.id,
        headline=safe(story.headline),
        url=story.url,
        section=safe(section) if section else None,
        lang=story_lang(story, config),
        lede=_html(story.lede),
        more=more,
        analysis=_part(labels.text("analysis"), story.analysis, config.theme.max_words_analysis),
        impact=_part(labels.text("impact"), story.impact, config.theme.max_words_impact),
        image=story.image if story.image and story.image.startswith("https://") else None,
        image_alt=safe(story.image_alt or ""),
        image_width=IMAGE_WIDTH,
        image_height=IMAGE_HEIGHT,
        author=safe(story.author) if story.author else None,
        date=labels.date_text(story.date),
        # Formatted as plain text first, then escaped whole: neither the label nor the headline
        # can add markup or merge tags.
        read_more=safe(labels.text("read_more", headline=story.headline)),
    )


def label_view(labels: Labels, issue: Issue) -> dict[str, Markup]:
    """The email-wide words, as safe HTML: ``labels.issue``, ``labels.contents``, the footer links."""
    view = {key: safe(labels.text(key)) for key in ("contents", "unsubscribe", "preferences", "view_online")}
    view["issue"] = safe(labels.text("issue", number=issue.number)) if issue.number else Markup("")
    return view


def context(issue: Issue, config: Config, links: Links) -> dict[str, Any]:
    """Everything a template can use; documented in docs/theming.md."""
    stories = [story_view(s, config, lead=(i == 0)) for i, s in enumerate(issue.stories)]
    labels = config.labels_for(config.publication.language)
    return {
        "issue": issue,
        "subject": safe(issue.subject),
        "preheader": safe(issue.preheader),
        "preheader_pad": Markup(_PREHEADER_PAD),
        "intro": _paragraphs(issue.intro),
        "date_range": labels.date_range(issue.start, issue.end),
        "lead": stories[0] if stories else None,
        "stories": stories[1:],
        "all_stories": stories,
        "publication": config.publication,
        "theme": config.theme,
        "headings": config.headings,
        "labels": label_view(labels, issue),
        "colors": palette(config.theme),
        "links": links,
        "lang": config.publication.language,
    }


def render_mjml(issue: Issue, config: Config, links: Links) -> str:
    """The theme's MJML for an issue (before compiling); theme errors name file and line."""
    env = environment(config)
    try:
        template = env.get_template(ENTRY_TEMPLATE)
        return template.render(context(issue, config, links))
    except jinja2.TemplateSyntaxError as error:
        where = f"{error.filename or error.name}:{error.lineno}"
        raise ThemeError(f"{where}: template syntax error: {error.message}") from None
    except jinja2.TemplateNotFound as error:
        folders = ", ".join(map(str, theme_dirs(config)))
        raise ThemeError(f"theme template '{error.name}' not found in {folders}.") from None
    except jinja2.UndefinedError as error:
        raise ThemeError(f"{_template_position(error)}: {error.message}. See `newsletter docs theming` for the "
                         f"names templates can use.") from None


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


def render_email(issue: Issue, config: Config, links: Links) -> str:
    """Issue -> HTML (CSS not yet inlined); footer links are ``links`` verbatim."""
    source = render_mjml(issue, config, links)
    try:
        html = str(mjml2html(source, disable_comments=True, fonts={}))
    except ValueError as error:
        raise ThemeError(f"the theme's MJML does not compile: {error}. Check the templates in "
                         f"{', '.join(map(str, theme_dirs(config)))}.") from None
    return html.replace(_PREVIEW_STYLE, _PREHEADER_STYLE, 1)
