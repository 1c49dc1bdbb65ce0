"""Structural checks on the finished email: the built sample week and a generated 12-story week."""

from __future__ import annotations

import html as htmllib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from msgspec.structs import replace

from newsletter.config import Config, load_config
from newsletter.document import blocks_text
from newsletter.inline import inline_css
from newsletter.markdown import read_markdown
from newsletter.models import Issue
from newsletter.render import render_email
from tests.emailgen import PLACEHOLDERS, make_issue, make_story, para

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 90_000  # bytes: Gmail clips at ~102 KB and services add their own markup


class Page(HTMLParser):
    """Elements with their attributes, headings in order, and the text of <title>."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.headings: list[tuple[int, str]] = []
        self.title = ""
        self._open: list[str] = []
        self._heading: list[str] | None = None
        self.feed(source)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        self._open.append(tag)
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append((int(tag[1]), " ".join("".join(self._heading).split())))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] == "title":
            self.title += data
        if self._heading is not None:
            self._heading.append(data)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.elements if name == tag]


@pytest.fixture(scope="module")
def sample_config() -> Config:
    return load_config(ROOT / "newsletter.toml")


@pytest.fixture(scope="module")
def generated(sample_config: Config) -> tuple[Issue, str]:
    issue = make_issue(12)
    return issue, inline_css(render_email(issue, sample_config, PLACEHOLDERS))


@pytest.fixture
def built_sample(workspace: Path) -> tuple[Issue, str]:
    from newsletter.build import build_issue
    from newsletter.weeks import Selection

    result = build_issue(load_config(workspace / "newsletter.toml"), Selection(week="2026-W48"))
    return result.issue, (result.folder / "email.html").read_text("utf-8")


def check_structure(issue: Issue, source: str, config: Config) -> None:
    """The properties every built email must have, whatever its stories."""
    page = Page(source)
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", source))
    # doctype, title, language
    assert source.startswith("<!doctype html>")
    assert page.title == issue.subject
    assert page.all("html")[0]["lang"] == config.publication.language
    # headings: one h1, then h2 per block, h3 inside stories, never skipping a level
    levels = [level for level, _ in page.headings]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    h2 = [heading for level, heading in page.headings if level == 2]
    # every story: headline, analysis and impact under the configured labels, descriptive link
    for story in issue.stories:
        assert story.headline in h2
        read_more = config.labels_for(story.lang).text("read_more", headline=story.headline)
        assert read_more in " ".join(text.split())
        assert any(a.get("href") == story.url for a in page.all("a"))
    labels = [heading for level, heading in page.headings if level == 3]
    for story in issue.stories:  # a story's headings are in its own language ([labels.<lang>])
        story_labels = config.labels_for(story.lang)
        analysed = sum(s.has_analysis for s in issue.stories if config.labels_for(s.lang) == story_labels)
        assert labels.count(story_labels.analysis) == analysed
        assert labels.count(story_labels.impact) == sum(s.has_impact for s in issue.stories
                                                        if config.labels_for(s.lang) == story_labels)
    # images: alt, width and height
    for img in page.all("img"):
        assert "alt" in img and img["width"].isdigit() and img["height"].isdigit(), img
    # links: absolute https (placeholders included), or an article's mailto: and tel: links;
    # pictures and stylesheets https only
    for element in page.all("a"):
        assert element["href"].startswith(("https://", "mailto:", "tel:")), element
    for tag, attr in (("img", "src"), ("link", "href")):
        for element in page.all(tag):
            assert element[attr].startswith("https://"), element
    assert "http://" not in re.sub(r'xmlns(:\w+)?="http://[^"]+"', "", source)
    # layout tables are presentation; a data table from an article keeps its table role and
    # gives its column headers a scope
    assert all(t.get("role") == "presentation" or t.get("class") == "dt" for t in page.all("table"))
    assert all(th.get("scope") == "col" for th in page.all("th"))
    # hidden preheader, padded so body text does not leak into the preview
    hidden = re.search(r'<div style="display:none;[^"]*">(.*?)</div>', source, re.S)
    assert hidden and hidden.start() < source.index('role="article"')
    assert re.fullmatch(re.escape(issue.preheader) + "(\u034f\u200c\u00a0){60,}", htmllib.unescape(hidden.group(1)))
    # footer links are the placeholders, verbatim
    hrefs = {a.get("href") for a in page.all("a")}
    assert {PLACEHOLDERS.unsubscribe, PLACEHOLDERS.preferences, PLACEHOLDERS.view_online} <= hrefs \
        or config.links.unsubscribe.replace("{key}", issue.key) in hrefs
    assert config.publication.postal_address in text
    # dark mode and responsive CSS survive inlining, in <style> blocks
    styles = "".join(re.findall(r"<style[^>]*>(.*?)</style>", source, re.S))
    assert "@media (prefers-color-scheme: dark)" in styles
    assert "@media only screen and (max-width: 479px)" in styles
    assert "[data-ogsc]" in styles and "[data-ogsb]" in styles
    assert '<meta name="color-scheme" content="light dark">' in source
    assert '<meta name="supported-color-schemes" content="light dark">' in source
    # Outlook's conditional markup is intact
    assert source.count("<!--[if mso | IE]>") >= len(issue.stories)
    assert "<o:OfficeDocumentSettings>" in source and "<!--[if lte mso 11]>" in source
    assert "data-inline" not in source and "data-premailer" not in source


def test_generated_week_structure(generated: tuple[Issue, str], sample_config: Config) -> None:
    issue, source = generated
    check_structure(issue, source, sample_config)


def test_generated_week_of_full_length_articles_is_under_budget(generated: tuple[Issue, str]) -> None:
    issue, source = generated
    assert len(issue.stories) == 12
    assert all(len(" ".join(p.text for p in s.analysis).split()) > 300 for s in issue.stories)
    size = len(source.encode("utf-8"))
    assert size < BUDGET, f"12-story email is {size} bytes"


def test_built_sample_week_structure(built_sample: tuple[Issue, str], workspace: Path) -> None:
    issue, source = built_sample
    config = load_config(workspace / "newsletter.toml")
    assert len(issue.stories) >= 5
    check_structure(issue, source, config)
    # a standalone build points the footer at the configured URLs
    hrefs = {a.get("href") for a in Page(source).all("a")}
    assert config.links.unsubscribe in hrefs and config.links.preferences in hrefs
    assert config.links.view_online.replace("{key}", issue.key) in hrefs
    assert "placeholder.invalid" not in source


def test_story_in_another_language_is_marked(generated: tuple[Issue, str]) -> None:
    issue, source = generated
    vietnamese = [s for s in issue.stories if s.lang == "vi"]
    assert vietnamese
    page = Page(source)
    marked = [attrs for _, attrs in page.elements if attrs.get("lang") == "vi"]
    assert len(marked) == 2 * len(vietnamese)  # the card and its line in "In this issue"


def test_lead_story_gets_its_image_and_more_room(generated: tuple[Issue, str]) -> None:
    issue, source = generated
    lead = issue.stories[0]
    images = Page(source).all("img")
    assert [img["src"] for img in images] == [lead.image]
    assert images[0]["alt"] == lead.image_alt
    assert lead.body[1].text in htmllib.unescape(source)  # beyond the lede
    assert issue.stories[1].body[1].text not in htmllib.unescape(source)


def test_long_analysis_is_shortened_at_a_sentence(generated: tuple[Issue, str], sample_config: Config) -> None:
    issue, source = generated
    text = htmllib.unescape(source)
    story = issue.stories[1]
    first = story.analysis[0].text
    assert first in text
    assert story.analysis[-1].text not in text  # the rest is one click away
    box = re.search(r'<div class="an"[^>]*>(.*?)</div>', source, re.S)
    assert box
    words = len(re.sub(r"<[^>]+>", " ", box.group(1)).split())
    assert words <= sample_config.theme.max_words_analysis + 10
    assert re.search(r"[.!?] …</p>", box.group(1))


INJECTIONS = [
    "{{ UnsubscribeURL }}", "*|UNSUB|*", "{% if true %}x{% endif %}", "<mj-raw><b>raw</b></mj-raw>",
    "<script>alert(1)</script>", "{{ subscriber.email }}", "</mj-text><mj-button href=\"https://evil.example\">",
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_article_text_cannot_inject(payload: str) -> None:
    story = make_story(1, headline=f"Headline {payload}", section=f"sec {payload}", lede=para(f"Lede {payload}"),
                       image="https://news.example/i.jpg", image_alt=f"alt {payload}")
    story = replace(story, analysis=(para(f"Analysis {payload}."),))
    issue = make_issue(stories=(story,), subject=f"Subject {payload}", preheader=f"Pre {payload}",
                       intro=f"Intro {payload}")
    source = inline_css(render_email(issue, Config(), PLACEHOLDERS))
    body = re.sub(r"<style.*?</style>|<!--.*?-->", "", source, flags=re.S)
    for forbidden in ("{{", "}}", "{%", "%}", "*|", "|*", "<script", "<mj-", "<b>raw", "evil.example\">"):
        assert forbidden not in body, forbidden
    assert "mj-" not in re.sub(r'class="[^"]*"', "", body).replace("&lt;mj-", "").replace("&lt;/mj-", "")
    # readers still see exactly what the article says
    visible = htmllib.unescape(re.sub(r"<[^>]+>", "", body))
    for field in ("Headline", "Lede", "Analysis"):
        assert f"{field} {payload}" in visible
    # the intro is Markdown: "*|UNSUB|*" is emphasis there, and the reader sees its words
    assert blocks_text(read_markdown(f"Intro {payload}")[0]) in " ".join(visible.split())
    alts = [img["alt"] for img in Page(source).all("img")]
    assert alts == [f"alt {payload}"]

