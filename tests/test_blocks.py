"""Both writers read one presentation model: every block kind in the HTML and in the text part."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from msgspec.structs import replace

from newsletter.config import Config, Theme
from newsletter.document import Image, Link, Para, Str
from newsletter.inline import inline_css
from newsletter.markdown import read_markdown
from newsletter.models import Story
from newsletter.presentation import CONTENT_WIDTH, MARK, THUMBNAIL_WIDTH, fit, present_issue, same_picture
from newsletter.render import render_email
from newsletter.text import WIDTH, plain_text
from tests.emailgen import PLACEHOLDERS, make_issue, make_story, para
from tests.test_email_structure import Page


def blocks(source: str) -> tuple[object, ...]:
    found, warnings = read_markdown(source, "a.md")
    assert warnings == []
    return found


def both_parts(body: str = "", analysis: str = "", intro: str = "", config: Config | None = None,
               **story: object) -> tuple[str, str]:
    """(HTML of the lead card, the lead story's text) for a story whose body/analysis is Markdown."""
    fields: dict[str, object] = {"lede": para("The lede."), "body": blocks(body) if body else (), **story}
    if analysis:
        fields["analysis"] = blocks(analysis)
    return lead_parts(replace(make_story(0), **fields), intro, config)  # type: ignore[arg-type]


def lead_parts(lead: Story, intro: str = "", config: Config | None = None) -> tuple[str, str]:
    """(HTML of the lead card, the lead story's text) for this lead story."""
    issue = make_issue(stories=(lead, make_story(1)), intro=intro)
    config = config or Config()
    view = present_issue(issue, config)
    html = inline_css(render_email(view, config, PLACEHOLDERS))
    text = plain_text(view, config, PLACEHOLDERS)
    card = html[html.index('class="tx sep lead"'):html.index('class="p more"')]
    story = text.split("=" * WIDTH + "\n\n", 2)[1]
    return card, story


CASES = [
    # (Markdown, what the HTML holds, what the text part holds)
    ("- Bolsa\n- Magnolia\n  - walk-ins welcome\n    - bring an ID\n- Brookhurst",
     [r"<ul style=\"margin:0 0 12px 24px;padding:0;\"><li[^>]*>Bolsa</li><li[^>]*>Magnolia<ul[^>]*><li[^>]*>"
      r"walk-ins welcome<ul[^>]*><li[^>]*>bring an ID</li></ul></li></ul></li><li[^>]*>Brookhurst</li></ul>"],
     "- Bolsa\n- Magnolia\n  - walk-ins welcome\n    - bring an ID\n- Brookhurst"),
    # a loose list (its items hold paragraphs) keeps them apart with blank lines, as the HTML does
    ("1. Bring your card.\n\n   The desk copies it.\n2. Fill out the form.",
     [r"<ol[^>]*><li[^>]*><p [^>]*>Bring your card.</p><p [^>]*>The desk copies it.</p></li>"],
     "1. Bring your card.\n\n   The desk copies it.\n\n2. Fill out the form."),
    ("9. Check in\n10. Fill out the form",
     [r'<ol start="9" style="margin:0 0 12px 24px;padding:0;"><li[^>]*>Check in</li>'
      r"<li[^>]*>Fill out the form</li></ol>"],
     " 9. Check in\n10. Fill out the form"),
    ("> \"Do not wait,\" a nurse said.\n>\n> - bring an ID",
     [r'<blockquote class="bq" style="[^"]*border-left:3px solid #[0-9a-f]{6};"><p [^>]*>"Do not wait," '
      r"a nurse said.</p><ul[^>]*><li[^>]*>bring an ID</li></ul></blockquote>"],
     '> "Do not wait," a nurse said.\n>\n> - bring an ID'),
    ("Freedom Park  \n14180 Beach Blvd\\\nWestminster, CA 92683",
     [r"<p [^>]*>Freedom Park<br>14180 Beach Blvd<br>Westminster, CA 92683</p>"],
     "Freedom Park\n14180 Beach Blvd\nWestminster, CA 92683"),
    ("Call the [hotline](tel:+1-714-555-0100) or [write](mailto:help@county.example.gov).",
     [r'<a href="tel:\+1-714-555-0100" class="lk" style="color:#[0-9a-f]{6}">hotline</a>',
      r'<a href="mailto:help@county.example.gov" class="lk"'],
     "Call the hotline (+1-714-555-0100) or write (help@county.example.gov)."),
    ("Apply on the [portal](https://county.example.gov/grants?program=storefront&lang=vi \"Grants\").",
     [r'<a href="https://county.example.gov/grants\?program=storefront&amp;lang=vi" class="lk" title="Grants"'],
     "Apply on the portal\n(https://county.example.gov/grants?program=storefront&lang=vi)."),
    ("<https://county.example.gov/a>", [r'<a href="https://county.example.gov/a" class="lk"[^>]*>https://'],
     "https://county.example.gov/a"),
    ("![Map of the route](https://x.example/map.png){width=1600 height=900}",
     [r'<img src="https://x.example/map.png" alt="Map of the route" width="552" height="310" '
      r'style="display:block;width:100%;max-width:100%;height:auto;'],
     "[Map of the route]"),
    ("![Small logo](https://x.example/logo.png){width=120 height=40}",
     [r'<img src="https://x.example/logo.png" alt="Small logo" width="120" height="40" '
      r'style="display:block;width:100%;max-width:120px;'],
     "[Small logo]"),
    ("| Clinic | Hours |\n|:--|--:|\n| Bolsa | 9–1 |\n| Magnolia | 2–6 |",
     [r'<table class="dt"[^>]*><thead><tr><th scope="col" style="[^"]*text-align:left;[^"]*">Clinic</th>'
      r'<th scope="col" style="[^"]*text-align:right;[^"]*">Hours</th></tr></thead><tbody><tr><td[^>]*>Bolsa</td>'],
     "Clinic    Hours\n--------  -----\nBolsa       9–1\nMagnolia    2–6"),
    # A code block keeps its lines and indentation without CSS white-space, which Outlook for Windows
    # and Samsung Email ignore (caniemail.com): a long line still wraps on a phone.
    ("```\nline <one>\n  line  two\n```",
     [r'<div class="pre" style="(?![^"]*white-space)[^"]*font-family:Menlo[^"]*">line &lt;one&gt;<br>'
      "(?:&nbsp;|\xa0){2}line (?:&nbsp;|\xa0)two</div>"],
     "    line <one>\n      line  two"),
    ("Before.\n\n---\n\nAfter.", [r'<hr class="hr" style="[^"]*">'], "Before.\n\n* * *\n\nAfter."),
    ("## What happens next\n\nMore.", [r"<h3 style=\"[^\"]*\">What happens next</h3>"],
     "What happens next\n-----------------\n\nMore."),
    ("*Em*, **strong**, ~~old~~ and `code`.",
     [r"<em>Em</em>, <strong>strong</strong>, <s>old</s> and <code style=\"[^\"]*\">code</code>."],
     "Em, strong, ~~old~~ and code."),
]


@pytest.mark.parametrize(("source", "html_patterns", "text"), CASES, ids=[c[0][:24] for c in CASES])
def test_block_kind_in_both_parts(source: str, html_patterns: list[str], text: str) -> None:
    card, story = both_parts(body=source)
    for pattern in html_patterns:
        assert re.search(pattern, card), (pattern, card)
    assert f"\n\n{text}\n\n" in story, story
    assert "&gt;" not in re.sub(r'<div class="pre".*?</div>', "", card, flags=re.S)  # a quote is never a literal "> "


def test_wide_table_becomes_header_value_lines_in_text() -> None:
    row = "| " + " | ".join(f"A rather long cell number {n}" for n in range(4)) + " |"
    source = "| " + " | ".join(f"Column {n}" for n in range(4)) + " |\n|---|---|---|---|\n" + row
    _, story = both_parts(body=source)
    assert "Column 0: A rather long cell number 0\nColumn 1: A rather long cell number 1" in story
    assert all(len(line) <= WIDTH for line in story.splitlines())


def test_text_never_breaks_or_drops_a_url() -> None:
    url = "https://county.example.gov/" + "a-very-long-path-segment/" * 5 + "?program=storefront&lang=vi"
    card, story = both_parts(body=f"Read the [whole guide]({url}) and the [short one](https://a.example/s) today, "
                                  "before the deadline passes for every owner on the avenue.")
    assert url in story.split() or f"({url})" in story.split()
    assert "(https://a.example/s)" in story
    for line in story.splitlines():
        assert len(line) <= WIDTH or " " not in line.strip(), line


def test_a_long_list_is_shortened_between_items_with_the_same_mark_in_both_parts() -> None:
    items = "\n".join(f"- Clinic number {n} opens on Saturday morning at nine" for n in range(30))
    config = Config(theme=Theme(max_words_analysis=40))
    card, story = both_parts(analysis=f"Where to go:\n\n{items}\n\n> A quote that never shows.", config=config)
    shown = re.findall(r"Clinic number (\d+)", card)
    assert shown == re.findall(r"Clinic number (\d+)", story) and 0 < len(shown) < 30
    assert "A quote that never shows" not in card + story
    # the mark closes the part, after the list and outside it, in both parts
    assert re.search(rf"</ul><p class=\"p\"[^>]*>{MARK}</p>", card)
    assert re.search(rf"- Clinic number {shown[-1]} opens on Saturday morning at nine\n\n  {MARK}\n", story)


def test_a_quote_or_table_is_never_cut_inside() -> None:
    quote = "> " + " ".join(f"Sentence {n} of the quote." for n in range(40))
    config = Config(theme=Theme(max_words_analysis=30))
    card, story = both_parts(analysis=f"A short opening sentence.\n\n{quote}\n\nAfter.", config=config)
    assert "Sentence 0 of the quote" not in card and "Sentence 0" not in story
    assert f"A short opening sentence. {MARK}" in htmllib.unescape(card) and f"A short opening sentence. {MARK}" \
        in story


def test_shortened_paragraph_keeps_its_link_up_to_the_cut() -> None:
    config = Config(theme=Theme(max_words_analysis=12))
    card, story = both_parts(analysis="See the [county portal](https://county.example/p) for forms today. "
                                      "Another sentence follows here and it is long enough to be cut away.",
                             config=config)
    assert '<a href="https://county.example/p" class="lk"' in card
    assert f"for forms today. {MARK}</p>" in card
    assert f"See the county portal (https://county.example/p) for forms today. {MARK}" in story


def test_lead_story_more_blocks_are_shortened_and_marked() -> None:
    body = "\n\n".join(f"Paragraph {n} has exactly eight words in it." for n in range(30))
    card, story = both_parts(body=body)
    assert "Paragraph 1 has" in card and "Paragraph 29" not in card
    assert f"in it. {MARK}</p>" in card and f"in it. {MARK}\n" in story


@pytest.mark.parametrize(("size", "expected"), [
    ((None, None), (CONTENT_WIDTH, 310)),
    ((1600, 900), (552, 310)),
    ((800, 600), (552, 414)),
    ((300, 200), (300, 200)),
    ((2000, None), (552, 310)),
    ((None, 90), (160, 90)),
])
def test_picture_sizes_fit_the_column_keeping_the_ratio(size: tuple[int | None, int | None],
                                                        expected: tuple[int, int]) -> None:
    image = fit(Image("https://x.example/a.png", "A", width=size[0], height=size[1]))
    assert (image.width, image.height) == expected


def test_every_story_picture_is_shown_the_lead_large(tmp_path: object) -> None:
    stories = tuple(make_story(n, image=True) for n in range(3))
    issue = make_issue(stories=stories)
    html = inline_css(render_email(issue, Config(), PLACEHOLDERS))
    pictures = Page(html).all("img")
    assert [p["src"] for p in pictures] == [s.image for s in stories]
    assert [p["alt"] for p in pictures] == [s.image_alt for s in stories]
    assert [int(p["width"]) for p in pictures] == [CONTENT_WIDTH, THUMBNAIL_WIDTH, THUMBNAIL_WIDTH]
    assert all("max-width" in p["style"] and "height:auto" in p["style"].replace(" ", "") for p in pictures)


@pytest.mark.parametrize(("size", "lead", "thumbnail"), [
    ((1200, 800), (552, 368), (184, 123)),  # a 3:2 photo stays 3:2, not the default 16:9
    ((800, 1000), (552, 690), (184, 230)),  # portrait
    ((400, 300), (400, 300), (184, 138)),  # never enlarged beyond its own width
    ((1600, None), (552, 310), (184, 104)),  # one without the other: the other as without a size
    ((None, 900), (552, 310), (184, 104)),
    ((None, None), (552, 310), (184, 104)),
])
def test_the_story_picture_keeps_its_stated_ratio_in_both_places(
        size: tuple[int | None, int | None], lead: tuple[int, int], thumbnail: tuple[int, int]) -> None:
    stories = tuple(make_story(n, image=True, image_width=size[0], image_height=size[1]) for n in range(2))
    view = present_issue(make_issue(stories=stories), Config())
    shown = [(s.image.width, s.image.height) for s in view.stories if s.image]
    assert shown == [lead, thumbnail]
    html = inline_css(render_email(view, Config(), PLACEHOLDERS))
    pictures = Page(html).all("img")
    assert [(int(p["width"]), int(p["height"])) for p in pictures] == [lead, thumbnail]


FERRY = "https://news.example/media/2026/11/ferry.jpg"
UPLOADS = "https://news.example/wp-content/uploads/2026/11"


@pytest.mark.parametrize(("image", "body", "analysis", "pictures", "text"), [
    # the story's picture again at the top of its text, as gathered WordPress posts often begin
    (FERRY, f"![The ferry at the pier]({FERRY})\n\nThe ferry runs again.", "", [FERRY],
     "The ferry runs again."),
    # the same file in another of WordPress's sizes, with or without its size, linked to the full one
    (f"{UPLOADS}/ferry.jpg", f"![Pier]({UPLOADS}/ferry-1024x683.jpg){{width=1024 height=683}}\n\nIt runs.", "",
     [f"{UPLOADS}/ferry.jpg"], "It runs."),
    (f"{UPLOADS}/ferry-1536x1024.jpg", f"[![Pier]({UPLOADS}/ferry-300x200.jpg)]({UPLOADS}/ferry.jpg)\n\nIt runs.",
     "", [f"{UPLOADS}/ferry-1536x1024.jpg"], "It runs."),
    (f"{UPLOADS}/ferry-scaled.jpg", f"![Pier]({UPLOADS}/ferry.jpg)\n\nIt runs.", "", [f"{UPLOADS}/ferry-scaled.jpg"],
     "It runs."),
    # inside a sentence: the picture goes, the words stay
    (FERRY, f"The ferry ![Pier]({FERRY}) docks at noon.", "", [FERRY], "The ferry docks at noon."),
    # further down the text, and in the analysis: shown once, at the top
    (FERRY, f"It runs.\n\n![Pier]({FERRY})", f"Why:\n\n![Pier]({FERRY})", [FERRY], "It runs."),
    # other pictures are the story's own: kept
    (FERRY, "It runs.\n\n![Route](https://news.example/media/2026/11/ferry-route.jpg)", "",
     [FERRY, "https://news.example/media/2026/11/ferry-route.jpg"], "[Route]"),
    (FERRY, "It runs.\n\n![Pier](https://cdn.example/media/2026/11/ferry.jpg)", "",
     [FERRY, "https://cdn.example/media/2026/11/ferry.jpg"], "[Pier]"),
    (FERRY, f"It runs.\n\n![Pier]({FERRY}?crop=left)", "", [FERRY, f"{FERRY}?crop=left"], "[Pier]"),
    (f"{UPLOADS}/ferry.jpg", f"It runs.\n\n![Pier]({UPLOADS}/ferry-2.jpg)", "",
     [f"{UPLOADS}/ferry.jpg", f"{UPLOADS}/ferry-2.jpg"], "[Pier]"),
])
def test_the_story_picture_is_shown_once_in_both_parts(image: str, body: str, analysis: str, pictures: list[str],
                                                       text: str) -> None:
    card, story = both_parts(body=body, analysis=analysis, image=image, image_alt="The ferry at the pier")
    assert [p["src"] for p in Page(card).all("img")] == pictures
    assert story.count("[The ferry at the pier]") == 1
    assert story.count("[") == len(pictures)  # each picture's [alt] once; no other brackets in these stories
    assert text in " ".join(story.split())


@pytest.mark.parametrize(("other", "same"), [
    (f"{UPLOADS}/ferry.jpg", True),
    (f"{UPLOADS}/ferry.jpg#top", True),
    ("https://NEWS.example/wp-content/uploads/2026/11/ferry.jpg", True),
    (f"{UPLOADS}/ferry-1024x683.jpg", True),
    (f"{UPLOADS}/ferry-150x150.jpg", True),
    (f"{UPLOADS}/ferry-scaled.jpg", True),
    (f"{UPLOADS}/ferry-1024x683.png", False),  # another file
    (f"{UPLOADS}/ferry-boat.jpg", False),
    (f"{UPLOADS}/ferry-1024.jpg", False),
    (f"{UPLOADS}/ferry.jpg?v=2", False),  # a query may name another picture (image.php?id=2)
    ("https://news.example/wp-content/uploads/2025/11/ferry.jpg", False),
    (f"{UPLOADS.replace('news.', 'cdn.')}/ferry.jpg", False),
])
def test_the_same_picture_in_another_wordpress_size(other: str, same: bool) -> None:
    assert same_picture(f"{UPLOADS}/ferry.jpg", other) is same
    assert same_picture(other, f"{UPLOADS}/ferry.jpg") is same


def test_the_picture_shown_takes_the_hidden_ones_description_and_size() -> None:
    """A hand-written story picture without image_alt or a size, repeated with both in the text."""
    card, story = both_parts(body=f"![The ferry at the pier]({FERRY}){{width=1200 height=800}}\n\nIt runs.",
                             image=FERRY, image_alt=None)
    (picture,) = Page(card).all("img")
    assert (picture["alt"], picture["width"], picture["height"]) == ("The ferry at the pier", "552", "368")
    assert story.count("[The ferry at the pier]") == 1


def test_a_lede_that_holds_the_story_picture_keeps_its_words() -> None:
    lede = blocks(f"SEATTLE – ![Pier]({FERRY}) The ferry runs again.")[0]
    view = present_issue(make_issue(stories=(make_story(0), replace(make_story(1), image=FERRY, lede=lede))),
                         Config())
    second = view.stories[1]
    assert [b.text for b in second.lede] == ["SEATTLE – The ferry runs again."]
    assert second.image is not None and second.image.src == FERRY


def test_the_intro_is_markdown_through_the_same_pipeline() -> None:
    intro = "A *busy* week. Read [our guide](https://a.example/g).\n\n- storms\n- grants\n\n[bad](javascript:x)"
    issue = make_issue(2, intro=intro)
    view = present_issue(issue, Config())
    html = inline_css(render_email(view, Config(), PLACEHOLDERS))
    text = plain_text(view, Config(), PLACEHOLDERS)
    assert "<em>busy</em>" in html and '<a href="https://a.example/g" class="lk"' in html
    assert re.search(r"<ul[^>]*><li[^>]*>storms</li><li[^>]*>grants</li></ul>", html)
    assert "A busy week. Read our guide (https://a.example/g).\n\n- storms\n- grants\n\nbad\n" in text
    assert "javascript" not in html and view.warnings == (
        "issue.toml: intro: link 'javascript:x' is not an https, mailto or tel link, so 'bad' is shown "
        "without it; write an absolute https:// URL",)


def test_with_links_rewrites_every_article_link_in_both_parts() -> None:
    issue = make_issue(stories=(make_story(0, lede=Para((Str("See "), Link("https://a.example/x", (Str("this"),))))),),
                       intro="Read [the guide](https://a.example/g).")
    view = present_issue(issue, Config()).with_links(lambda url, story: f"{url}?utm_content={story}")
    html = render_email(view, Config(), PLACEHOLDERS)
    text = plain_text(view, Config(), PLACEHOLDERS)
    story_id = issue.stories[0].id
    for url in ("https://a.example/x", issue.stories[0].url):
        assert f"{url}?utm_content={story_id}" in text and f"{url}?utm_content={story_id}" in html
    assert "https://a.example/g?utm_content=None" in text
    assert PLACEHOLDERS.unsubscribe in text and "utm_content" not in text.split(PLACEHOLDERS.unsubscribe)[1][:5]


HOSTILE = "{{ UnsubscribeURL }} *|UNSUB|* {% if x %} <script>alert(1)</script> </mj-text><mj-raw>"


def test_hostile_text_in_every_block_kind_stays_text() -> None:
    h = HOSTILE.replace("|", "\\|")  # a bar must be escaped inside a table cell
    body = "\n\n".join([
        f"- item {HOSTILE}\n  - nested {HOSTILE}",
        f"> quote {HOSTILE}",
        f"## heading {HOSTILE}",
        f"| head {h} |\n|---|\n| cell {h} |",
        f"```\ncode {HOSTILE}\n```",
        f"[link words {HOSTILE}](https://a.example/x \"title {HOSTILE}\")",
        f"![alt {HOSTILE}](https://a.example/i.png \"title {HOSTILE}\")",
        f"`inline {HOSTILE}`",
    ])
    card, story = both_parts(body=body, config=Config(theme=Theme(lead_words=0)))
    for forbidden in ("{{", "}}", "{%", "%}", "*|", "|*", "<script", "<mj-", "</mj-"):
        assert forbidden not in card, forbidden
    for forbidden in ("{{", "}}", "{%", "%}", "*|", "|*"):  # text/plain is not HTML: only merge tags matter
        assert forbidden not in story, forbidden
    visible = htmllib.unescape(re.sub(r"<[^>]+>", "", card))
    for kind in ("item", "nested", "quote", "heading", "code", "link words", "inline"):
        assert f"{kind} {{{{ UnsubscribeURL }}}}" in visible, kind
    attributes = [htmllib.unescape(a) for a in re.findall(r'(?:alt|title)="([^"]*)"', card)]
    assert f"title {HOSTILE}" in attributes  # titles are taken as typed
    # alt text is the words of the Markdown inside the brackets (CommonMark): "*|UNSUB|*" is emphasis
    assert f"alt {HOSTILE}".replace("*|UNSUB|*", "|UNSUB|") in attributes
    assert f"    code {HOSTILE}" in story.replace("\u2060", "")  # readers of the text part see it as typed


def test_both_parts_read_the_same_view() -> None:
    # the text writer decides nothing: a changed view changes the text exactly so
    issue = make_issue(1)
    view = present_issue(issue, Config())
    lead = view.stories[0]
    changed = replace(view, stories=(replace(lead, lede=(para("A lede only the view knows."),)),))
    assert "A lede only the view knows." in plain_text(changed, Config(), PLACEHOLDERS)
    assert "A lede only the view knows." in render_email(changed, Config(), PLACEHOLDERS)


def test_pictures_in_the_analysis_fit_inside_its_box() -> None:
    card, story = both_parts(analysis="A chart:\n\n![Chart of fees](https://x.example/c.png){width=1200 height=600}")
    (chart,) = [img for img in Page(card).all("img") if img["src"] == "https://x.example/c.png"]
    assert (chart["width"], chart["height"]) == ("516", "258")  # 552 less the box's rule and padding
    assert "width:100%;max-width:516px;height:auto" in chart["style"]


def test_only_a_table_too_wide_for_a_phone_may_break_its_words() -> None:
    from newsletter.htmlwriter import fits_phone

    def table(source: str) -> str:
        body, _ = read_markdown(source)
        return inline_css(render_email(make_issue(stories=(make_story(0, body=body),)), Config(), PLACEHOLDERS))

    narrow, _ = read_markdown("| Clinic | Phone | Tiếng Việt |\n|---|---|---|\n"
                              "| Betio, a long name here | 555-0100 | Có |\n")
    wide, _ = read_markdown("| " + " | ".join(["Population"] * 6) + " |\n|" + "---|" * 6 + "\n| " +
                            " | ".join(["1234567890"] * 6) + " |\n")
    assert fits_phone(narrow[0]) and not fits_phone(wide[0])  # type: ignore[arg-type]
    assert 'class="dt"' in table("| Clinic | Phone |\n|---|---|\n| Betio | 555-0100 |\n")
    assert 'class="dt dtw"' in table("| " + " | ".join(["Population"] * 6) + " |\n|" + "---|" * 6 + "\n")
