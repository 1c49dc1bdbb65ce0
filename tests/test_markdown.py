"""The readers: Markdown and plain text into the document model, the link policy, the split into parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import Headings
from newsletter.content import read_article
from newsletter.document import (
    BlockQuote,
    BulletList,
    Code,
    CodeBlock,
    Emph,
    Heading,
    HorizontalRule,
    Image,
    LineBreak,
    Link,
    OrderedList,
    Para,
    Plain,
    SoftBreak,
    Str,
    Strikeout,
    Strong,
    Table,
    block_text,
    images,
    links,
    map_inlines,
)
from newsletter.links import link_target, shown_target
from newsletter.markdown import plain_line, read_inline, read_markdown
from newsletter.plaintext import read_plain
from newsletter.sections import split_sections

H = Headings()


def md(text: str) -> tuple[object, ...]:
    blocks, warnings = read_markdown(text, "a.md")
    assert warnings == []
    return blocks


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Plain *em* **strong** ~~gone~~ `x < y`",
         Para((Str("Plain "), Emph((Str("em"),)), Str(" "), Strong((Str("strong"),)), Str(" "),
               Strikeout((Str("gone"),)), Str(" "), Code("x < y")))),
        ("## A subheading", Heading(2, (Str("A subheading"),))),
        ("Setext\n------", Heading(2, (Str("Setext"),))),
        ("- one\n- two", BulletList(((Plain((Str("one"),)),), (Plain((Str("two"),)),)))),
        ("3. three\n4. four", OrderedList(((Plain((Str("three"),)),), (Plain((Str("four"),)),)), start=3)),
        ("- loose\n\n- items", BulletList(((Para((Str("loose"),)),), (Para((Str("items"),)),)))),
        ("> quoted\n> words", BlockQuote((Para((Str("quoted"), SoftBreak(), Str("words"))),))),
        ("```python\nprint('<b>')\n```", CodeBlock("print('<b>')", "python")),
        ("    indented code", CodeBlock("indented code")),
        ("***", HorizontalRule()),
        ("![Map](https://x.example/m.png)", Image("https://x.example/m.png", "Map", line=1)),
        ("![Map](https://x.example/m.png \"Route\"){width=1600 height=900}",
         Image("https://x.example/m.png", "Map", "Route", 1600, 900, line=1)),
        # a size in other digits ("²" passes str.isdigit) is no size, and no traceback
        ('![Map](https://x.example/m.png){width="²" height="９"}', Image("https://x.example/m.png", "Map", line=1)),
        ("| Clinic | Fee |\n|:--|--:|\n| Bolsa | $0 |\n| Magnolia |",
         Table(("left", "right"), ((Str("Clinic"),), (Str("Fee"),)),
               (((Str("Bolsa"),), (Str("$0"),)), ((Str("Magnolia"),), ())))),
        ("Line one  \nline two\\\nline three",
         Para((Str("Line one"), LineBreak(), Str("line two"), LineBreak(), Str("line three")))),
        ("<b>raw</b> <script>x</script>", Para((Str("<b>raw</b> <script>x</script>"),))),
        ("{{ UnsubscribeURL }} *|UNSUB|* {width=3}", Para((Str("{{ UnsubscribeURL }} "),
                                                          Emph((Str("|UNSUB|"),)), Str(" {width=3}")))),
    ],
)
def test_every_block_kind(source: str, expected: object) -> None:
    assert md(source) == (expected,)


def test_nested_lists_three_levels_and_a_list_inside_a_quote() -> None:
    (outer,) = md("- one\n  - two\n    - three\n- back")
    assert isinstance(outer, BulletList)
    two = outer.items[0][1]
    assert isinstance(two, BulletList)
    three = two.items[0][1]
    assert isinstance(three, BulletList) and block_text(three) == "three"
    assert block_text(outer.items[1][0]) == "back"
    (quote,) = md("> Said:\n>\n> 1. first\n> 2. second")
    assert isinstance(quote, BlockQuote) and isinstance(quote.blocks[1], OrderedList)


def test_reference_links_and_definitions_resolve() -> None:
    (block,) = md("See [the portal][p] and [Docs].\n\n[p]: https://county.example/grants \"Grants\"\n"
                  "[docs]: <https://docs.example/a b>")
    assert [(link.target, link.title) for link in links((block,))] == [
        ("https://county.example/grants", "Grants"), ("https://docs.example/a%20b", "")]


@pytest.mark.parametrize(
    ("href", "target"),
    [
        ("https://a.example/x?program=storefront&lang=vi", "https://a.example/x?program=storefront&lang=vi"),
        ("http://a.example/x", "https://a.example/x"),
        ("HTTPS://A.EXAMPLE/Path", "https://a.example/Path"),
        ("mailto:grants@county.example.gov", "mailto:grants@county.example.gov"),
        ("tel:+1 714 555 0100", "tel:+17145550100"),
        ("https://a.example/phở bò?q=cà phê", "https://a.example/ph%E1%BB%9F%20b%C3%B2?q=c%C3%A0%20ph%C3%AA"),
        ("https://a.example/already%20encoded", "https://a.example/already%20encoded"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("javascript:alert(1)", None),
        ("data:text/html;base64,PHNjcmlwdD4=", None),
        ("file:///etc/passwd", None),
        ("/relative/path", None),
        ("//host.example/x", None),
        ("ftp://files.example/x", None),
        ("https://", None),
    ],
)
def test_link_policy(href: str, target: str | None) -> None:
    assert link_target(href) == target


@pytest.mark.parametrize("href", ["https://a.example/x", "http://a.example/x", "mailto:ed@a.example",
                                  "tel:+17145550100"])
def test_links_of_each_allowed_scheme_stay_links(href: str) -> None:
    (block,) = md(f"Go [there]({href}) now.")
    (link,) = links((block,))
    assert link.target == link_target(href) and block_text(block) == "Go there now."


@pytest.mark.parametrize("href", ["javascript:alert(1)", "data:text/html,x", "file:///x", "relative/page.html",
                                  "ftp://x.example/"])
def test_refused_links_keep_their_words_and_warn_with_file_and_line(href: str) -> None:
    blocks, warnings = read_markdown(f"First line.\n\nSecond para with\n[the words]({href}) here.", "content/a.md", 10)
    assert not list(links(blocks))
    assert block_text(blocks[1]) == "Second para with the words here."
    assert len(warnings) == 1 and warnings[0].startswith("content/a.md:13: link '")
    assert "the words" in warnings[0]


def test_a_link_whose_address_has_spaces_warns_and_says_how_to_write_it() -> None:
    # CommonMark: a link destination holds no spaces, so this is text; the editor must hear of it.
    blocks, warnings = read_markdown("Intro.\n\nCall the [hotline](tel:+1 714 555 0100) or\n"
                                     "see [the map](https://x.example/a map.png).", "content/a.md", 4)
    assert not list(links(blocks))
    assert [w.split(": ", 1)[0] for w in warnings] == ["content/a.md:6", "content/a.md:7"]
    assert "'[hotline](tel:+1 714 555 0100)' is shown as typed" in warnings[0]
    assert "[hotline](<tel:+1 714 555 0100>)" in warnings[0]
    # ... which works, spaces and all
    (block,) = md("Call the [hotline](<tel:+1 714 555 0100>).")
    assert [link.target for link in links((block,))] == ["tel:+17145550100"]
    # Code and a real link with a title are not mistaken for one.
    assert read_markdown("`[a](b c)` and [x](https://x.example \"Title\")")[1] == []


def test_pictures_that_may_not_load_are_left_out_with_a_warning() -> None:
    blocks, warnings = read_markdown("Text.\n\n![Map](http://x.example/m.png)\n\n![](https://x.example/ok.png)",
                                     "a.md", 5)
    assert [image.src for image in images(blocks)] == ["https://x.example/ok.png"]
    assert warnings[0].startswith("a.md:7: image 'http://x.example/m.png' is not an absolute https")
    assert warnings[1].startswith("a.md:9: image 'https://x.example/ok.png' has no alt text")


def test_inline_markdown_and_plain_lines() -> None:
    inlines, warnings = read_inline("A *short* summary with [a link](https://a.example).")
    assert warnings == [] and isinstance(inlines[1], Emph) and isinstance(inlines[3], Link)
    assert plain_line("# A *big* day") == "A big day"
    assert plain_line("#1 seller") == "#1 seller"  # CommonMark: no space, no heading
    assert plain_line("Phở & <b>bánh mì</b>") == "Phở & <b>bánh mì</b>"


def test_plain_text_is_literal() -> None:
    blocks = read_plain(["#1 seller of *phở*", "- not a list", "> not a quote", "[a](javascript:x)"], H)
    assert [b.inlines for b in blocks] == [(Str("#1 seller of *phở*"),), (Str("- not a list"),),
                                           (Str("> not a quote"),), (Str("[a](javascript:x)"),)]


def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def test_txt_headline_keeps_its_hash_and_md_headline_follows_commonmark(tmp_path: Path) -> None:
    txt = read_article(write(tmp_path / "2026-11-24-a.txt", "#1 seller closes\nThe story.\n"), H)
    assert txt.headline == "#1 seller closes" and txt.body[0].text == "The story."
    assert read_article(write(tmp_path / "2026-11-24-b.md", "#1 seller closes\n\nThe story.\n"), H).headline \
        == "#1 seller closes"
    setext = read_article(write(tmp_path / "2026-11-24-c.md", "The *real* headline\n===\n\nThe story.\n"), H)
    assert setext.headline == "The real headline" and [b.text for b in setext.body] == ["The story."]


def test_heading_lines_inside_a_markdown_paragraph_still_split_the_parts() -> None:
    blocks = md("The story goes on.\nAnalysis\nThe analysis.\n\n**Impact on readers**\n\n- what\n- to do")
    sections = split_sections(blocks, H)
    assert [b.text for b in sections["story"]] == ["The story goes on."]
    assert [b.text for b in sections["analysis"]] == ["The analysis."]
    assert isinstance(sections["impact"][0], BulletList)


def test_an_unrelated_subheading_stays_a_subheading() -> None:
    sections = split_sections(md("Story.\n\n## What happened next\n\nMore.\n\n## Analysis\n\nWhy."), H)
    assert isinstance(sections["story"][1], Heading) and sections["analysis"][0].text == "Why."


def test_every_existing_article_splits_as_before() -> None:
    # The sample articles' parts, as the line-based reader found them before the block model
    root = Path(__file__).resolve().parent.parent / "content" / "2026" / "11"
    expected = {
        "2026-11-17-h1b-fee-ruling.md": (1, 1, 1), "2026-11-18-pho-shop-award.txt": (2, 1, 1),
        "2026-11-19-vietnam-export-growth.md": (1, 1, 1), "2026-11-21-refugee-oral-history.txt": (2, 1, 1),
        "2026-11-23-typhoon-central-vietnam.txt": (2, 1, 1), "2026-11-24-russia-myanmar-defense-pact.txt": (4, 3, 1),
        "2026-11-25-hanoi-air-quality.md": (3, 2, 1), "2026-11-26-orange-county-business-grants.txt": (2, 1, 1),
        "2026-11-27-mekong-delta-salinity.md": (2, 2, 1), "2026-11-28-tet-festival-vi.md": (2, 1, 1),
        "2026-11-29-remittance-fees.txt": (3, 1, 1),
    }
    sentinel = Headings(analysis=("Analysis", "* Analysis", "Phân tích"), impact=("Impact", "Impact on *",
                                                                                   "Tác động đến *"))
    for name, counts in expected.items():
        article = read_article(root / name, sentinel)
        assert (len(article.body), len(article.analysis), len(article.impact)) == counts, name
        assert all(isinstance(b, Para) for b in (*article.body, *article.analysis, *article.impact)), name


def test_map_inlines_rewrites_every_link_once() -> None:
    blocks = md("[a](https://a.example) and\n\n- [b](https://b.example)\n\n> [c](https://c.example)\n\n"
                "| x |\n|---|\n| [d](https://d.example) |")
    changed = map_inlines(blocks, lambda n: Link(n.target + "?t=1", n.inlines) if isinstance(n, Link) else n)
    assert [link.target for link in links(changed)] == [f"https://{x}.example?t=1" for x in "abcd"]


def test_shown_targets() -> None:
    assert shown_target("mailto:grants@county.example.gov?subject=Hi") == "grants@county.example.gov"
    assert shown_target("tel:+17145550100") == "+17145550100"
    assert shown_target("https://a.example/x") == "https://a.example/x"


def test_a_hash_makes_a_heading_only_where_commonmark_says_so(tmp_path: Path) -> None:
    md_article = read_article(write(tmp_path / "2026-11-24-a.md", "# Headline\n\nStory.\n\n#Analysis of the week\n\n"
                                                                   "## Analysis\n\nWhy.\n"), H)
    assert [b.text for b in md_article.body] == ["Story.", "#Analysis of the week"]
    assert [b.text for b in md_article.analysis] == ["Why."]
    txt = read_article(write(tmp_path / "2026-11-24-b.txt", "Headline\nStory.\n#2 in the state\n## Analysis\nWhy.\n"),
                       H)
    assert [b.text for b in txt.body] == ["Story.", "#2 in the state"]  # a plain line keeps its '#'
    assert [b.text for b in txt.analysis] == ["Why."]  # '## Analysis' is a heading line in plain text too
