"""Reading article files: heading rules, date rules, both formats, and every kind of bad file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from newsletter.config import Headings
from newsletter.content import heading_kind, load_articles, name_date, read_article, read_text
from newsletter.document import Link, Para, Str, Strong, links
from newsletter.errors import ContentError
from newsletter.weeks import week_period

H = Headings()
SENTINEL = Headings(analysis=("Saigon Sentinel Analysis",), impact=("Impact on Vietnamese Americans",))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Analysis", "analysis"),
        ("analysis", "analysis"),
        ("  ANALYSIS  ", "analysis"),
        ("Analysis:", "analysis"),
        ("## Analysis", "analysis"),
        ("# Saigon Sentinel Analysis #", "analysis"),
        ("Saigon Sentinel Analysis", "analysis"),
        ("**Saigon Sentinel Analysis**", "analysis"),
        ("Impact", "impact"),
        ("Impact on Vietnamese Americans", "impact"),
        ("impact on   vietnamese americans :", "impact"),
        ("### Impact on Readers:", "impact"),
        # sentences are never headings
        ("Impact on trade was severe.", None),
        ("Analysis shows the market fell!", None),
        ("Impact on trade?", None),
        # near misses
        ("Psychoanalysis", None),
        ("Impactful reporting", None),
        ("Our Analysis", "analysis"),
        ("Impact on", None),
        ("Analysis and impact on the economy of the region over the next years", None),  # > 10 words
        ("", None),
    ],
)
def test_default_heading_rules(line: str, expected: str | None) -> None:
    assert heading_kind(line, H) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Saigon Sentinel Analysis", "analysis"),
        ("saigon sentinel analysis:", "analysis"),
        ("Analysis", None),  # configuration replaces the defaults
        ("Impact on Vietnamese Americans", "impact"),
        ("Impact on readers", None),
    ],
)
def test_configured_heading_rules(line: str, expected: str | None) -> None:
    assert heading_kind(line, SENTINEL) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2026-11-24-pact.txt", date(2026, 11, 24)),
        ("2026-11-24_pact.md", date(2026, 11, 24)),
        ("2026-11-24.txt", date(2026, 11, 24)),
        ("2026-02-30-bad-day.txt", None),
        ("20261124-pact.txt", None),
        ("pact-2026-11-24.txt", None),
        ("000_af991ba43480b0be.txt", None),
    ],
)
def test_date_from_file_name(name: str, expected: date | None) -> None:
    assert name_date(Path(name)) == expected


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


SEED_STYLE = """Headline of the story
CITY – First paragraph of the story.
Second paragraph.
Saigon Sentinel Analysis
The analysis.
Impact on Vietnamese Americans
The impact.
"""


@pytest.mark.parametrize(
    ("front", "name", "expected"),
    [
        ("date: 2026-11-20\n", "2026-11-24-x.md", date(2026, 11, 20)),  # front matter wins
        ("date: '2026-11-20'\n", "x.md", date(2026, 11, 20)),
        ("date: 2026-11-20T23:30:00\n", "x.md", date(2026, 11, 20)),
        ("title: T\n", "2026-11-24-x.md", date(2026, 11, 24)),
    ],
)
def test_date_rules(tmp_path: Path, front: str, name: str, expected: date) -> None:
    path = write(tmp_path / name, f"---\n{front}---\n# Headline\n\nStory.\n")
    assert read_article(path, H).date == expected


def test_seed_format(tmp_path: Path) -> None:
    article = read_article(write(tmp_path / "2026-11-24-a.txt", SEED_STYLE), H)
    assert article.headline == "Headline of the story"
    assert [p.text for p in article.body] == ["CITY – First paragraph of the story.", "Second paragraph."]
    assert [p.text for p in article.analysis] == ["The analysis."]
    assert [p.text for p in article.impact] == ["The impact."]


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode(),
        lambda s: b"\xef\xbb\xbf" + s.encode(),  # BOM
        lambda s: s.replace("\n", "\r\n").encode(),  # CRLF
        lambda s: s.replace("\n", "\r").encode(),  # old Mac
        lambda s: s.replace("\n", "\n\n").encode(),  # blank-line paragraphs
    ],
)
def test_encodings_and_line_endings(tmp_path: Path, encode: object) -> None:
    article = read_article(write(tmp_path / "2026-11-24-a.txt", encode(SEED_STYLE)), H)  # type: ignore[operator]
    assert article.headline == "Headline of the story"
    assert len(article.body) == 2 and len(article.analysis) == 1 and len(article.impact) == 1


def test_text_is_nfc(tmp_path: Path) -> None:
    decomposed = "Vie\u0323\u0302t Nam\nHA\u0300 NO\u0323\u0302I – Tin.\n"
    article = read_article(write(tmp_path / "2026-11-24-vi.txt", decomposed), H)
    assert article.headline == "Việt Nam"
    assert article.body[0].text == "HÀ NỘI – Tin."


def test_hard_wrapped_paragraphs_are_joined(tmp_path: Path) -> None:
    text = "Headline\n\nCITY – A story that is\nwrapped over two lines.\n\nAnother paragraph.\n"
    article = read_article(write(tmp_path / "2026-11-24-a.txt", text), H)
    assert [p.text for p in article.body] == ["CITY – A story that is wrapped over two lines.", "Another paragraph."]


def test_sentence_starting_like_heading_stays_body(tmp_path: Path) -> None:
    text = "Headline\nStory.\nImpact on trade was severe.\nAnalysis\nThe analysis.\n"
    article = read_article(write(tmp_path / "2026-11-24-a.txt", text), H)
    assert [p.text for p in article.body] == ["Story.", "Impact on trade was severe."]
    assert article.impact == ()


def test_markdown_with_front_matter(tmp_path: Path) -> None:
    text = (
        "---\ntitle: A *big* day\ndate: 2026-11-25\nurl: https://example.com/a\nsection: world\n"
        "summary: The summary.\nimage: https://example.com/a.jpg\nimage_alt: A picture\nlang: vi\n"
        "tags: [one, two]\nauthor: Lan\n---\n\nStory with **bold** and a [link](https://example.com/x).\n\n"
        "## Analysis\n\nThe <b>analysis</b>.\n\n## Impact on readers\n\nThe impact.\n"
    )
    article = read_article(write(tmp_path / "a.md", text), H)
    assert article.headline == "A *big* day"  # front matter is text, not Markdown
    assert article.url == "https://example.com/a" and article.lang == "vi" and article.tags == ("one", "two")
    assert article.body[0].text == "Story with bold and a link."
    assert article.body[0] == Para((Str("Story with "), Strong((Str("bold"),)), Str(" and a "),
                                    Link("https://example.com/x", (Str("link"),), line=14), Str(".")))
    assert article.analysis[0] == Para((Str("The <b>analysis</b>."),))  # raw HTML stays text
    assert article.impact[0].text == "The impact."


def test_plain_text_is_literal(tmp_path: Path) -> None:
    text = "Head <script>alert(1)</script>\n<mj-raw><b>x</b></mj-raw> {{ evil }} {% if %} *|UNSUB|* [a](b)\n"
    article = read_article(write(tmp_path / "2026-11-24-a.txt", text), H)
    assert article.body == (Para((Str("<mj-raw><b>x</b></mj-raw> {{ evil }} {% if %} *|UNSUB|* [a](b)"),)),)


def test_companion_files(tmp_path: Path) -> None:
    write(tmp_path / "2026-11-24-a.txt", "Headline\nThe story.\n")
    write(tmp_path / "2026-11-24-a.analysis.md", "## Analysis\n\nFrom the *companion*.\n")
    write(tmp_path / "2026-11-24-a.impact.txt", "What it means.\n")
    article = read_article(tmp_path / "2026-11-24-a.txt", H)
    assert [p.text for p in article.analysis] == ["From the companion."]
    assert [p.text for p in article.impact] == ["What it means."]
    articles, problems = load_articles(tmp_path, week_period("2026-W48"), H)
    assert [a.path.name for a in articles] == ["2026-11-24-a.txt"] and problems == []


@pytest.mark.parametrize(
    ("name", "data", "problem", "line"),
    [
        ("2026-11-24-empty.txt", b"", "is empty", None),
        ("2026-11-24-blank.txt", b"\n  \n\n", "is empty", None),
        ("2026-11-24-binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary", None),
        ("2026-11-24-latin1.txt", "Headline\nCaf\xe9 story.\n".encode("latin-1"), "not UTF-8", 2),
        ("2026-11-24-nobody.txt", b"Just a headline\n", "no story", None),
        ("2026-11-24-fm.md", b"---\ntitle: [unclosed\n---\nBody.\n", "broken front matter", 2),
        ("2026-11-24-open.md", b"---\ntitle: x\nBody.\n", "never closed", 1),
        ("2026-11-24-key.md", b"---\ntitle: x\ntitel: y\n---\nBody.\n", "unknown front matter key 'titel'", 3),
        ("undated.txt", b"Headline\nStory.\n", "no date", None),
        ("bad-date.md", b"---\ntitle: x\ndate: 2026-13-45\n---\nBody.\n", "not a date: there is no month 13", 3),
        ("2026-11-24-notitle.md", b"---\ndate: 2026-11-24\n---\n\n\n", "no headline", None),
    ],
)
def test_bad_files(tmp_path: Path, name: str, data: bytes, problem: str, line: int | None) -> None:
    path = write(tmp_path / name, data)
    with pytest.raises(ContentError) as caught:
        read_article(path, H)
    assert problem in caught.value.problem
    assert caught.value.line == line
    assert str(path) in caught.value.describe() and caught.value.hint


def test_all_bad_files_reported_in_one_run(tmp_path: Path) -> None:
    write(tmp_path / "2026-11-24-good.txt", SEED_STYLE)
    write(tmp_path / "2026-11-24-empty.txt", b"")
    write(tmp_path / "sub" / "2026-11-25-binary.txt", b"\x00\x01")
    articles, problems = load_articles(tmp_path, week_period("2026-W48"), H)
    assert len(articles) == 1
    assert sorted(p.path.name for p in problems) == ["2026-11-24-empty.txt", "2026-11-25-binary.txt"]


def test_files_dated_outside_the_week_are_never_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import newsletter.content as content

    write(tmp_path / "2026-11-24-in.txt", SEED_STYLE)
    write(tmp_path / "2020-01-01-old.txt", b"\x00 broken, but never read")
    write(tmp_path / "2025" / "12" / "2025-12-01-archived.txt", SEED_STYLE)
    opened: list[str] = []
    real = content.read_text
    monkeypatch.setattr(content, "read_text", lambda path: opened.append(path.name) or real(path))
    listed: list[str] = []
    real_scandir = content.os.scandir
    monkeypatch.setattr(content.os, "scandir", lambda folder: listed.append(str(folder)) or real_scandir(folder))
    articles, problems = load_articles(tmp_path, week_period("2026-W48"), H)
    assert [a.path.name for a in articles] == ["2026-11-24-in.txt"] and problems == []
    assert opened == ["2026-11-24-in.txt"]
    assert listed == [str(tmp_path)]  # a year folder outside the week is not even listed


def test_read_text_rejects_bytes_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="UTF-8"):
        read_text(write(tmp_path / "x.txt", b"ok\n\xff\xfe"))


def test_markdown_lines_join_like_commonmark(tmp_path: Path) -> None:
    text = "---\ntitle: T\ndate: 2026-11-24\n---\nSee [the readings](https://x.example/r)\nand pack masks.\n\nNext.\n"
    article = read_article(write(tmp_path / "a.md", text), H)
    assert [p.text for p in article.body] == ["See the readings and pack masks.", "Next."]


def test_markdown_links_must_be_absolute(tmp_path: Path) -> None:
    text = (
        "---\ntitle: T\ndate: 2026-11-24\n---\n[evil](javascript:alert(1)) [rel](/x) [ok](https://a.example/b) "
        "[mail](mailto:ed@a.example)\n"
    )
    article = read_article(write(tmp_path / "a.md", text), H)
    assert article.body[0].text == "evil rel ok mail"
    assert [link.target for link in links(article.body)] == ["https://a.example/b", "mailto:ed@a.example"]
    assert len(article.warnings) == 2 and all(w.startswith(f"{tmp_path / 'a.md'}:5: link '") for w in article.warnings)
