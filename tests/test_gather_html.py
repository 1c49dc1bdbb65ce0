"""A post's HTML -> CommonMark: what is kept, what is dropped, and text that survives exactly (html_to_markdown.py)."""

from __future__ import annotations

import unicodedata
from html import escape
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from newsletter.config import Headings
from newsletter.content import heading_kind
from newsletter.gather.html_to_markdown import html_text, post_markdown

HEADINGS = Headings(analysis=("Analysis", "* Analysis"), impact=("Impact", "Impact on *"))
BASE = "https://news.example/2026/11/a-story/"
COMMONMARK = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def convert(html: str, **kwargs: Any) -> str:
    return post_markdown(html, BASE, HEADINGS, **kwargs)


def blocks(markdown: str) -> list[str]:
    """The block structure CommonMark reads: token types without the inline ones."""
    return [t.type for t in COMMONMARK.parse(markdown) if t.type != "inline" and not t.type.endswith("_close")]


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<p>One.</p><p>Two.</p>", "One.\n\nTwo."),
        ("<p>A <strong>bold</strong> and <em>leaning</em> word.</p>", "A **bold** and *leaning* word."),
        ('<p><a href="/x/">rel</a> <a href="https://o.example/a b">abs</a></p>',
         "[rel](https://news.example/x/) [abs](https://o.example/a%20b)"),
        ('<p><img src="pic.jpg" alt="A [boat]"></p>', "![A \\[boat\\]](https://news.example/2026/11/a-story/pic.jpg)"),
        ("<h1>Top</h1><h2>Sub</h2><h4>Deep</h4>", "## Top\n\n## Sub\n\n#### Deep"),
        ("<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul>", "- a\n- b\n  - c"),
        ('<ol start="3"><li>x</li><li>y</li></ol>', "3. x\n4. y"),
        ("<blockquote><p>Said.</p></blockquote>", "> Said."),
        ("<p>line one<br>line two</p>", "line one\\\nline two"),
        ("<p>Trailing break<br></p><p><br>Leading break</p>", "Trailing break\n\nLeading break"),
        ("<p>Two<br><br>breaks</p><ul><li>item<br></li></ul>", "Two\\\nbreaks\n\n- item"),
        ("<p>HTML's own\nline breaks   collapse</p>", "HTML's own line breaks collapse"),
        ("<figure><img src='/f.jpg' alt='F'><figcaption>The caption</figcaption></figure>",
         "![F](https://news.example/f.jpg)\n\n*The caption*"),
        ("<p>&nbsp;</p><p>Kept</p><p> </p>", "Kept"),
        ("<!-- wp:paragraph --><p>Gutenberg</p><!-- /wp:paragraph -->", "Gutenberg"),
        ("<table><tr><th>Fee</th><th>Who</th></tr><tr><td>$5 | flat</td><td>all</td></tr></table>",
         "| Fee | Who |\n| --- | --- |\n| $5 \\| flat | all |"),
    ],
)
def test_kept_as_commonmark(html: str, markdown: str) -> None:
    assert convert(html) == markdown


@pytest.mark.parametrize(
    "html",
    [
        "<script>track()</script>",
        "<style>p { color: red }</style>",
        '<iframe src="https://www.youtube.com/embed/x"></iframe>',
        '<noscript><img src="https://pixel.example/p.gif"></noscript>',
        '<img src="https://news.example/t.gif" width="1" height="1">',
        '<img src="https://news.example/t.gif" style="width:1px;height:1px">',
        '<img src="https://pixel.wp.com/g.gif?blog=1">',
        '<a href="https://feeds.feedburner.com/~ff/x?a=1"><img src="https://feeds.feedburner.com/~ff/x?d=2"></a>',
        '<div class="sharedaddy sd-sharing-enabled"><h3>Share this:</h3><a href="https://x.example">X</a></div>',
        '<div class="wp-block-social-links"><a href="https://facebook.com/us">Facebook</a></div>',
        '<div class="a2a_kit"><a class="a2a_button_email" href="#">Email</a></div>',
        '<div id="jp-relatedposts"><h3>Related</h3><p>Another story</p></div>',
        '<p><a href="https://www.facebook.com/sharer.php?u=1">Share on Facebook</a></p>',
        '<p><a href="https://twitter.com/intent/tweet?text=x">Post</a> <a href="mailto:?subject=x">Email</a></p>',
        '<p>The post <a href="https://s.example/p">A title</a> appeared first on <a href="https://s.example">S</a>.</p>',
        '<p><a class="more-link" href="https://s.example/p/#more-12">Continue reading</a></p>',
        '<form action="/subscribe"><input name="email"><button>Go</button></form>',
        '<object data="x.swf"></object><embed src="y.swf"><video src="v.mp4"></video><audio src="a.mp3"></audio>',
    ],
)
def test_dropped(html: str) -> None:
    assert convert(f"<p>Story.</p>{html}") == "Story."


def test_a_sources_own_trailers_are_dropped() -> None:
    import re

    html = "<p>Story.</p><p>Follow us on Zalo and Facebook!</p><p>Follow the money, says the audit.</p>"
    drop = [re.compile(r"follow us on .*", re.IGNORECASE)]
    assert convert(html, drop=drop) == "Story.\n\nFollow the money, says the audit."


@pytest.mark.parametrize(
    ("html", "href"),
    [
        ('<a href="javascript:alert(1)">words</a>', None),
        ('<a href="data:text/html,x">words</a>', None),
        ('<a href="">words</a>', None),
        ('<a href="mailto:desk@news.example">words</a>', "mailto:desk@news.example"),
        ('<a href="tel:+17145550100">words</a>', "tel:+17145550100"),
        ('<a href="//cdn.example/x">words</a>', "https://cdn.example/x"),
        ('<a href="#part-2">words</a>', "https://news.example/2026/11/a-story/#part-2"),
        ('<a href="../other/">words</a>', "https://news.example/2026/11/other/"),
    ],
)
def test_links_are_absolute_or_plain_words(html: str, href: str | None) -> None:
    markdown = convert(f"<p>{html}</p>")
    assert markdown == (f"[words]({href})" if href else "words")


def test_lazy_loaded_pictures_use_their_real_source() -> None:
    html = ('<img src="data:image/gif;base64,R0lGOD" data-lazy-src="/up/real.jpg" alt="Real">'
            '<img src="/wp-content/plugins/lazy/placeholder.png" data-src="/up/two.jpg" alt="Two">')
    assert convert(html) == "![Real](https://news.example/up/real.jpg)![Two](https://news.example/up/two.jpg)"


def test_a_base_element_wins_over_the_post_address() -> None:
    assert convert('<base href="https://cdn.example/p/"><p><img src="i.png" alt="I"></p>') == (
        "![I](https://cdn.example/p/i.png)"
    )


@pytest.mark.parametrize(
    ("html", "heading", "rest"),
    [
        ("<h2>Saigon Sentinel Analysis</h2><p>Why.</p>", "## Saigon Sentinel Analysis", "Why."),
        ("<h3><strong>Analysis</strong></h3><p>Why.</p>", "### Analysis", "Why."),
        ("<p><strong>Impact on Vietnamese Americans</strong></p><p>Who.</p>", "## Impact on Vietnamese Americans",
         "Who."),
        ("<p><b>Impact on Vietnamese Americans:</b></p><p>Who.</p>", "## Impact on Vietnamese Americans", "Who."),
        ("<p><strong>Saigon Sentinel Analysis:</strong> Why it matters.</p>", "## Saigon Sentinel Analysis",
         "Why it matters."),
        ("<p><strong>Impact on Vietnamese Americans</strong><br>Who it touches.</p>",
         "## Impact on Vietnamese Americans", "Who it touches."),
        ("<p><strong>Impact on Vietnamese Americans</strong> – who it touches.</p>",
         "## Impact on Vietnamese Americans", "who it touches."),
    ],
)
def test_analysis_and_impact_become_heading_lines(html: str, heading: str, rest: str) -> None:
    markdown = convert(f"<p>Story.</p>{html}")
    assert markdown == f"Story.\n\n{heading}\n\n{rest}"
    assert heading_kind(heading, HEADINGS) is not None


@pytest.mark.parametrize(
    "html",
    [
        "<p><strong>Impact on trade was severe.</strong> Exporters lost a month.</p>",  # a sentence, not a heading
        "<p><strong>Prices</strong> rose again.</p>",
        "<p>Analysis <strong>of the vote</strong> came later.</p>",
    ],
)
def test_bold_words_that_are_not_headings_stay_text(html: str) -> None:
    assert "#" not in convert(html)


def test_a_first_heading_that_repeats_the_title_is_dropped() -> None:
    assert convert("<h1>Pact signed</h1><p>Story.</p>", title="Pact signed") == "Story."
    assert convert("<h2>Background</h2><p>Story.</p>", title="Pact signed") == "## Background\n\nStory."


@pytest.mark.parametrize(
    ("text", "expected_blocks"),
    [
        ("1. Not a list", ["paragraph_open"]),
        ("2026) was a year", ["paragraph_open"]),
        ("# not a heading", ["paragraph_open"]),
        ("> not a quote", ["paragraph_open"]),
        ("- not an item", ["paragraph_open"]),
        ("+ not an item", ["paragraph_open"]),
        ("* not an item", ["paragraph_open"]),
        ("---", ["paragraph_open"]),
        ("```not code", ["paragraph_open"]),
        ("<div>not html</div>", ["paragraph_open"]),
    ],
)
def test_text_that_looks_like_markdown_stays_text(text: str, expected_blocks: list[str]) -> None:
    markdown = convert(f"<p>{escape(text)}</p>")
    assert blocks(markdown) == expected_blocks
    assert _text_of(markdown) == text


def _text_of(markdown: str) -> str:
    """The text CommonMark renders, hard breaks as newlines."""
    parts: list[str] = []
    for token in COMMONMARK.parse(markdown):
        if token.type == "inline":
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type == "softbreak":
                    parts.append(" ")
                elif child.type == "hardbreak":
                    parts.append("\n")
    return "".join(parts)


# Letters, marks, numbers, punctuation, symbols and spaces: everything a paragraph's text may hold.
TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp"), blacklist_characters="\ufeff"),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=3))
def test_any_text_survives_exactly(lines: list[str]) -> None:
    """Whatever a paragraph says, CommonMark reads back the same words: escaping is exact, never lossy."""
    lines = [" ".join(line.split()) for line in lines]
    lines = [line for line in lines if line]
    if not lines:
        return
    markdown = convert("<p>" + "<br>".join(escape(line) for line in lines) + "</p>")
    expected = unicodedata.normalize("NFC", "\n".join(lines))
    assert set(blocks(markdown)) == {"paragraph_open"}, markdown
    assert [" ".join(line.split()) for line in _text_of(markdown).split("\n")] == expected.split("\n"), markdown


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("Russia&#8217;s <em>pact</em>", "Russia’s pact"),
        ("AT&amp;T &lt;cable&gt;", "AT&T <cable>"),
        ("<p>One</p><p>Two</p>", "One Two"),
        ("<p>Story</p><script>x()</script>", "Story"),
        ("Plain words, no markup", "Plain words, no markup"),
    ],
)
def test_html_as_plain_text(html: str, text: str) -> None:
    assert html_text(html) == text


def test_control_characters_never_reach_the_article() -> None:
    assert convert("<p>Bell\x07 and \x1b[31mescape\x85 &#27;[0m</p>") == "Bell and \\[31mescape \\[0m"
    assert html_text("Title\x07 with\x1b bell") == "Title with bell"


# --- pictures keep the size the post gives them ----------------------------------------------


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ('<img src="/up/a.jpg" alt="A" width="1024" height="683">',
         "![A](https://news.example/up/a.jpg){width=1024 height=683}"),
        ('<img src="/up/a.jpg" alt="A" style="width: 800px; height:533px">',
         "![A](https://news.example/up/a.jpg){width=800 height=533}"),
        ('<img src="/up/a.jpg" alt="A" width="640">', "![A](https://news.example/up/a.jpg){width=640}"),
        ('<img src="/up/a.jpg" alt="A" width="100%" height="auto">', "![A](https://news.example/up/a.jpg)"),
        ('<img src="/up/a.jpg" alt="A" width="30000" height="20001">', "![A](https://news.example/up/a.jpg)"),
        # a number no float can hold, and one that is not a number: no size, and no crash
        (f'<img src="/up/a.jpg" alt="A" width="{"9" * 400}" height="nan">', "![A](https://news.example/up/a.jpg)"),
    ],
)
def test_a_pictures_stated_size_is_kept(html: str, markdown: str) -> None:
    assert convert(html) == markdown


def test_the_build_reads_a_gathered_pictures_size() -> None:
    """The Markdown reader (attrs after an image) gets the size the HTML stated, so the email keeps the ratio."""
    from newsletter.document import Image, walk
    from newsletter.markdown import read_markdown

    body, warnings = read_markdown(convert('<p>Story.</p><figure><img src="/up/a.jpg" alt="A" width="1024" '
                                           'height="683"><figcaption>Cap</figcaption></figure>'))
    images = [node for node in walk(body) if isinstance(node, Image)]
    assert not warnings
    assert [(i.src, i.width, i.height) for i in images] == [("https://news.example/up/a.jpg", 1024, 683)]


@pytest.mark.parametrize("text", ["{width=9 height=9} words", "{.class} words", "{width=9}"])
def test_braces_after_a_picture_stay_text(text: str) -> None:
    """Text that follows a picture and opens with '{' is the post's words, never a size or attribute."""
    from newsletter.document import Image, inline_text, walk
    from newsletter.markdown import read_markdown

    for size in ("", ' width="300" height="200"'):
        body, _ = read_markdown(convert(f'<p><img src="/up/a.jpg" alt="A"{size}>{escape(text)}</p>'))
        images = [node for node in walk(body) if isinstance(node, Image)]
        assert [(i.width, i.height) for i in images] == [(300, 200) if size else (None, None)]
        assert text in inline_text(body[0].inlines)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "shown",
    [
        "/wp-content/uploads/2026/11/market.jpg",
        "/wp-content/uploads/2026/11/market-1024x683.jpg",
        "/wp-content/uploads/2026/11/market-scaled.jpg?resize=300",
        "https://news.example/wp-content/uploads/2026/11/market-300x200.jpg",
    ],
)
def test_the_alt_text_of_the_featured_picture_is_found_in_any_of_its_sizes(shown: str) -> None:
    """A feed's media:content names the full picture; the post shows one of WordPress's sizes of it."""
    from newsletter.gather.html_to_markdown import image_alt

    html = f'<p>Story.</p><figure><img src="{shown}" alt="Food stalls under string lights"></figure>'
    featured = "https://news.example/wp-content/uploads/2026/11/market.jpg"
    assert image_alt(html, BASE, featured) == "Food stalls under string lights"
    assert image_alt(html, BASE, "https://news.example/wp-content/uploads/2026/11/marketing.jpg") is None
    assert image_alt(html, BASE, "https://news.example/wp-content/uploads/2025/11/market.jpg") is None
