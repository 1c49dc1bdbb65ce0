"""Rich Markdown articles through `newsletter build`: what reaches both parts of the email.

One test per kind of fault seen in real newsletters (lists and quotes flattened, link targets
dropped from the text part, hard breaks lost, oversized pictures, tel: links printed raw),
each with its own sample text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.test_email_structure import Page

SETTINGS = """\
[publication]
name = "The Bolsa Ledger"
url = "https://ledger.example/"
timezone = "America/Los_Angeles"
postal_address = "1 Bolsa Ave, Westminster, CA 92683"
reason = "You subscribed at ledger.example."
"""


def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, name: str = "2026-11-24-story.md") \
        -> tuple[str, str, str]:
    """Build a one-article week; returns (HTML, text part, the command's output)."""
    (tmp_path / "newsletter.toml").write_text(SETTINGS, "utf-8")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / name).write_text(body, "utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["build", "--week", "2026-W48"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "issues" / "2026-W48"
    return (folder / "email.html").read_text("utf-8"), (folder / "email.txt").read_text("utf-8"), result.output


def article(story: str, analysis: str = "The analysis.", impact: str = "The impact.") -> str:
    return (f"---\ntitle: Market hours change for the holidays\nurl: https://ledger.example/2026/11/market/\n---\n\n"
            f"{story}\n\n## Analysis\n\n{analysis}\n\n## Impact on readers\n\n{impact}\n")


def test_lists_nested_and_numbered_and_a_quote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    html, text, _ = build(tmp_path, monkeypatch, article(
        "GARDEN GROVE – Three markets change their hours:\n\n"
        "- Phước Lộc Thọ, daily 9 a.m.–7 p.m.\n- Asian Garden Mall, weekends only\n"
        "  - food court open late\n  - parking validated\n- Bolsa Market, closed on the 25th\n\n"
        "> \"Come early on Saturday,\" the manager said.\n\n1. Park on Bolsa.\n2. Enter from Magnolia."))
    assert re.search(r"<ul[^>]*><li[^>]*>Phước Lộc Thọ.*?Asian Garden Mall, weekends only<ul[^>]*><li[^>]*>"
                     r"food court open late</li>", html)
    assert re.search(r"<blockquote[^>]*><p[^>]*>\"Come early on Saturday,\" the manager said.</p></blockquote>", html)
    assert re.search(r"<ol[^>]*><li[^>]*>Park on Bolsa.</li><li[^>]*>Enter from Magnolia.</li></ol>", html)
    assert "&gt;" not in html and "- Phước" not in html
    assert ("- Phước Lộc Thọ, daily 9 a.m.–7 p.m.\n- Asian Garden Mall, weekends only\n  - food court open late\n"
            "  - parking validated\n- Bolsa Market, closed on the 25th") in text
    assert '> "Come early on Saturday," the manager said.' in text
    assert "1. Park on Bolsa.\n2. Enter from Magnolia." in text


def test_every_link_target_reaches_the_text_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    portal = "https://city.example.gov/permits?type=vendor&lang=vi"
    html, text, _ = build(tmp_path, monkeypatch, article(
        f"Vendors must renew on the [city permit portal]({portal}) by Friday.",
        analysis="The [fee schedule](http://city.example.gov/fees.pdf) rose.",
        impact="Questions go to [the permits desk](mailto:permits@city.example.gov)."))
    flat = " ".join(text.split())
    assert f"city permit portal ({portal})" in flat  # the query string whole
    assert "fee schedule (https://city.example.gov/fees.pdf)" in flat  # http upgraded
    assert "the permits desk (permits@city.example.gov)" in flat  # the address, not mailto:
    assert f'href="{portal.replace("&", "&amp;")}"' in html


def test_hard_breaks_in_both_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    html, text, _ = build(tmp_path, monkeypatch, article(
        "The market moves to:\n\nBolsa Plaza  \n9550 Bolsa Ave\\\nWestminster, CA 92683"))
    assert "<p class=\"p\" style=\"margin:0 0 12px\">Bolsa Plaza<br>9550 Bolsa Ave<br>Westminster, CA 92683</p>" \
        in html
    assert "\nBolsa Plaza\n9550 Bolsa Ave\nWestminster, CA 92683\n" in text
    assert "\\" not in text and "\\" not in html.split("</head>")[1]


def test_body_picture_gets_a_size_and_shrinks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    html, text, _ = build(tmp_path, monkeypatch, article(
        "The new stalls:\n\n![Stalls along the parking lot](https://ledger.example/media/stalls.jpg)\n\n"
        "![The floor plan](https://ledger.example/media/plan.png){width=1600 height=1200}"))
    stalls, plan = Page(html).all("img")
    assert (stalls["width"], stalls["height"], stalls["alt"]) == ("552", "310", "Stalls along the parking lot")
    assert (plan["width"], plan["height"]) == ("552", "414")
    for img in (stalls, plan):
        assert "width:100%;max-width:100%;height:auto" in img["style"]
    assert "[Stalls along the parking lot]\n\n[The floor plan]" in text


def test_tel_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    html, text, _ = build(tmp_path, monkeypatch, article(
        "Vendors can call the [permit line](tel:+1-714-555-0199) until 5 p.m."))
    # the link's words never break across lines (html-validate's tel-non-breaking)
    assert re.search(r'<a href="tel:\+1-714-555-0199" class="lk"[^>]*>permit\u00a0line</a>', html)
    assert "permit line (+1-714-555-0199)" in " ".join(text.split())
    assert "](tel:" not in text and "](tel:" not in html


def test_refused_links_and_pictures_warn_with_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    html, text, output = build(tmp_path, monkeypatch, article(
        "Open [the form](javascript:alert(1)) or [the page](/permits).\n\n![Map](http://ledger.example/m.png)"))
    where = str(Path("content") / "2026-11-24-story.md")
    assert f"Warning: {where}:6: link 'javascript:alert(1)' is not an https, mailto or tel link" in output
    assert f"Warning: {where}:6: link '/permits'" in output
    assert f"Warning: {where}:8: image 'http://ledger.example/m.png' is not an absolute https:// URL" in output
    assert "Open the form or the page." in text and "javascript" not in html and "m.png" not in html


def test_a_story_picture_that_is_left_out_is_named_at_its_front_matter_line(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    body = article("The market moves indoors.").replace("---\n\n", "image: http://ledger.example/m.jpg\n---\n\n", 1)
    html, _, output = build(tmp_path, monkeypatch, body)
    where = str(Path("content") / "2026-11-24-story.md")
    assert f"Warning: {where}:4: image 'http://ledger.example/m.jpg' is not an absolute https:// URL" in output
    assert "m.jpg" not in html
    body = body.replace("http://ledger.example/m.jpg", "https://ledger.example/m.jpg")
    (tmp_path / "content" / "2026-11-24-story.md").write_text(body, "utf-8")
    result = CliRunner().invoke(cli, ["build", "--week", "2026-W48"])
    assert f"Warning: {where}:4: image has no image_alt" in result.output


def test_plain_text_article_keeps_its_hash_and_its_markdown_looking_text(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    html, text, _ = build(tmp_path, monkeypatch,
                          "#1 bánh mì shop expands\nWESTMINSTER – The shop *doubles* its [space](https://x.example).\n"
                          "- not a list\nAnalysis\nA.\nImpact\nI.\n", name="2026-11-24-banh-mi.txt")
    assert "#1 bánh mì shop expands" in text and ">#1 bánh mì shop expands</a></h2>" in html
    assert "The shop *doubles* its [space](https://x.example)." in text
    assert "- not a list" in text and "<ul" not in html.split("In this issue")[1].split("</ul>", 1)[1]


def test_the_story_picture_has_its_size_and_is_shown_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 3:2 story picture stays 3:2 (Outlook obeys the height attribute), and a text that opens
    with the same picture in another WordPress size, linked to the full one, does not show it again."""
    uploads = "https://ledger.example/wp-content/uploads/2026/11"
    picture = (f"image: {uploads}/market.jpg\nimage_alt: Stalls under string lights\n"
               "image_width: 1800\nimage_height: 1200\n")
    body = article(f"[![Stalls under string lights]({uploads}/market-1024x683.jpg){{width=1024 height=683}}]"
                   f"({uploads}/market.jpg)\n\nWESTMINSTER – The night market opens on Friday.")
    html, text, output = build(tmp_path, monkeypatch, body.replace("---\n\n", picture + "---\n\n", 1))
    pictures = [img for img in Page(html).all("img") if "/market" in img["src"]]
    assert [(p["src"], p["width"], p["height"]) for p in pictures] == [(f"{uploads}/market.jpg", "552", "368")]
    assert text.count("[Stalls under string lights]") == 1
    assert "[Stalls under string lights]\n\nWESTMINSTER – The night market opens on Friday." in text
    assert "Warning" not in output
