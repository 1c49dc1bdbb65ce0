"""Articles -> stories: lede, url, language and the warnings for missing parts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from msgspec.structs import replace

from newsletter.config import Build, Config, Headings
from newsletter.content import read_article
from newsletter.document import para as text_paragraph
from newsletter.models import Article
from newsletter.pairing import pair_stories


def article(name: str = "2026-11-24-pact.txt", **changes: object) -> Article:
    base = Article(
        path=Path("/ws/content/2026/11") / name,
        headline="Pact signed",
        date=date(2026, 11, 24),
        body=(text_paragraph("YANGON – First."), text_paragraph("Second.")),
        analysis=(text_paragraph("Analysis."),),
        impact=(text_paragraph("Impact."),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


CONFIG = Config(
    root=Path("/ws"),
    headings=Headings(analysis_label="Our Analysis", impact_label="Impact on Readers"),
    build=Build(article_url="https://news.example/{year}/{month}/{slug}/"),
)


def test_story_fields() -> None:
    (story,), warnings = pair_stories([article()], CONFIG)
    assert story.id == "2026/11/2026-11-24-pact"
    assert story.lede.text == "YANGON – First."
    assert [p.text for p in story.body] == ["Second."]
    assert story.url == "https://news.example/2026/11/pact/"
    assert story.has_analysis and story.has_impact and story.lang == "en"
    assert warnings == []


def test_summary_is_the_lede() -> None:
    (story,), _ = pair_stories([article(summary="In short.")], CONFIG)
    assert story.lede.text == "In short." and len(story.body) == 2


def test_missing_parts_warn_with_file_and_part() -> None:
    _, warnings = pair_stories([article(analysis=(), impact=())], CONFIG)
    assert len(warnings) == 2
    assert all("/ws/content/2026/11/2026-11-24-pact.txt" in w for w in warnings)
    assert "no analysis" in warnings[0] and "Our Analysis" in warnings[0]
    assert "no reader-impact" in warnings[1] and "2026-11-24-pact.impact.md" in warnings[1]


def test_newest_first() -> None:
    stories, _ = pair_stories([article("2026-11-23-a.txt", date=date(2026, 11, 23)), article()], CONFIG)
    assert [s.id for s in stories] == ["2026/11/2026-11-24-pact", "2026/11/2026-11-23-a"]


def test_vietnamese_detected() -> None:
    vi = article(headline="Hội chợ Tết dời về công viên", body=(text_paragraph("Ban tổ chức thông báo hôm thứ Bảy."),))
    (story,), _ = pair_stories([vi], CONFIG)
    assert story.lang == "vi"


def test_image_rules(tmp_path: Path) -> None:
    (story,), _ = pair_stories([article(image="http://x.example/a.jpg", image_alt="A")], CONFIG)
    assert story.image is None
    # The warnings are the reader's, which names the front matter's line.
    path = tmp_path / "2026-11-24-a.md"
    path.write_text("---\ntitle: A\nimage: https://x.example/a.jpg\n---\n\nCITY – Text.\n", "utf-8")
    assert read_article(path, Headings()).warnings == (
        f"{path}:3: image has no image_alt; describe the picture for readers who cannot see it",)
    path.write_text("---\ntitle: A\nimage_alt: A\nimage: http://x.example/a.jpg\n---\n\nCITY – Text.\n", "utf-8")
    assert read_article(path, Headings()).warnings == (
        f"{path}:4: image 'http://x.example/a.jpg' is not an absolute https:// URL, so it is left out",)


def test_no_url_anywhere_links_home_and_warns() -> None:
    config = replace(CONFIG, build=Build())
    (story,), warnings = pair_stories([article()], config)
    assert story.url == config.publication.url and any("no url" in w for w in warnings)


@pytest.mark.parametrize(
    ("url", "expected", "warning"),
    [
        ("https://news.example/a", "https://news.example/a", None),
        ("http://news.example/a", "https://news.example/a", "is not https://"),
        ("javascript:alert(1)", "https://news.example/2026/11/pact/", "not an absolute https:// URL"),
        ("/2026/11/a/", "https://news.example/2026/11/pact/", "not an absolute https:// URL"),
    ],
)
def test_story_links_are_absolute_https(url: str, expected: str, warning: str | None) -> None:
    (story,), warnings = pair_stories([article(url=url)], CONFIG)
    assert story.url == expected
    assert (warning is None and warnings == []) or any(warning in w for w in warnings if warning)


@pytest.mark.parametrize("picture", [
    "[![The pier](https://x.example/pier-1024x683.jpg){width=1024 height=683}](https://x.example/pier.jpg)",
    "![The pier](https://x.example/pier.jpg) ![The ferry](https://x.example/ferry.jpg)",
    "![The pier](https://x.example/pier.jpg)\n*Photo: The Ledger*",  # a picture with its caption under it
    "![The pier](https://x.example/pier.jpg)\n\n*Photo: The Ledger*",  # a figure's caption, as gather writes it
])
def test_a_paragraph_of_pictures_is_not_the_lede(tmp_path: Path, picture: str) -> None:
    """WordPress posts often open with the featured picture linked to its full size: a paragraph
    of pictures, not words. The lede is the first paragraph with words; the picture stays in the story."""
    path = tmp_path / "2026-11-24-ferry.md"
    path.write_text(f"---\ntitle: Ferry\n---\n\n{picture}\n\nBANGOR – The ferry runs again.\n\nMore.\n", "utf-8")
    (story,), _ = pair_stories([read_article(path, Headings())], CONFIG)
    assert story.lede.text == "BANGOR – The ferry runs again."
    assert story.body[-1].text == "More." and "pier.jpg" in repr(story.body[0])


def test_the_story_picture_keeps_its_stated_size() -> None:
    (story,), _ = pair_stories([article(image="https://x.example/a.jpg", image_alt="A", image_width=1200,
                                        image_height=800)], CONFIG)
    assert (story.image, story.image_width, story.image_height) == ("https://x.example/a.jpg", 1200, 800)
