"""The plain-text part: every story, the configured labels, 78 columns, URLs whole, inert merge tags."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from newsletter.config import Config, Headings, Publication, load_config
from newsletter.text import WIDTH, inert, plain_text, wrap
from tests.emailgen import PLACEHOLDERS, make_issue, make_story

ROOT = Path(__file__).resolve().parent.parent


def sample_text(**issue: object) -> tuple[str, Config]:
    config = load_config(ROOT / "newsletter.toml")
    return plain_text(make_issue(12, **issue), config, PLACEHOLDERS), config


def test_every_story_with_url_lede_analysis_and_impact() -> None:
    issue = make_issue(12)
    config = load_config(ROOT / "newsletter.toml")
    text = plain_text(issue, config, PLACEHOLDERS)
    flat = " ".join(text.split())
    for story in issue.stories:
        assert story.headline in flat
        assert f"\n{story.url}\n" in text
        assert story.lede.text in flat
        assert story.analysis[0].text in flat and story.impact[0].text in flat
    # each story under the labels of its language ([labels.vi] for the Vietnamese ones)
    for part in ("analysis", "impact"):
        expected = Counter(getattr(config.labels_for(s.lang), part).upper() for s in issue.stories)
        assert sum(expected.values()) == 12 and len(expected) == 2
        assert all(text.count(label) == count for label, count in expected.items()), expected
    assert "IN THIS ISSUE" in text and issue.intro.split("\n")[0] in text


def test_lines_fit_78_columns_except_unbreakable_urls() -> None:
    text, _ = sample_text()
    for line in text.splitlines():
        if len(line) > WIDTH:
            assert " " not in line.split(": ", 1)[-1].strip(), line  # only a lone long URL may overflow


def test_urls_are_never_broken() -> None:
    long_url = "https://news.example/2026/11/" + "a-very-long-slug-" * 8 + "end/"
    issue = make_issue(stories=(make_story(0, url=long_url),))
    text = plain_text(issue, Config(), PLACEHOLDERS)
    assert f"\n{long_url}\n" in text
    for url in re.findall(r"https://\S+", text):
        assert url in {long_url, PLACEHOLDERS.unsubscribe, PLACEHOLDERS.preferences, PLACEHOLDERS.view_online} \
            or url.startswith("https://news.example/")


def test_footer_has_address_reason_and_the_three_links_verbatim() -> None:
    publication = Publication(name="Daily", postal_address="1 Main St, Springfield", reason="You signed up.")
    config = Config(publication=publication)
    text = plain_text(make_issue(2), config, PLACEHOLDERS)
    assert "1 Main St, Springfield" in text and "You signed up." in text
    assert f"Unsubscribe: {PLACEHOLDERS.unsubscribe}" in text
    assert f"Manage your preferences: {PLACEHOLDERS.preferences}" in text
    assert f"View this email in your browser: {PLACEHOLDERS.view_online}" in text


def test_labels_come_from_configuration() -> None:
    config = Config(headings=Headings(analysis_label="Phân tích", impact_label="Tác động"))
    text = plain_text(make_issue(1), config, PLACEHOLDERS)
    assert "PHÂN TÍCH\n" in text and "TÁC ĐỘNG\n" in text


def test_long_analysis_is_shortened_like_the_html() -> None:
    issue = make_issue(1)
    config = Config()
    text = plain_text(issue, config, PLACEHOLDERS)
    analysis = text.split("ANALYSIS\n", 1)[1].split("\n\nIMPACT", 1)[0]
    words = len(analysis.split())
    assert words <= config.theme.max_words_analysis + 2
    assert analysis.rstrip().endswith("…")


def test_vietnamese_text_wraps_on_words() -> None:
    issue = make_issue(stories=(make_story(0, vietnamese=True),))
    text = plain_text(issue, Config(), PLACEHOLDERS)
    assert "Người Việt" in text
    assert all(len(line) <= WIDTH for line in text.splitlines() if "https://" not in line)


def test_merge_tag_syntax_in_articles_is_inert() -> None:
    story = make_story(0, headline="Costs {{ UnsubscribeURL }} and *|UNSUB|* {% if x %}")
    text = plain_text(make_issue(stories=(story,)), Config(), PLACEHOLDERS)
    for syntax in ("{{", "}}", "{%", "%}", "*|", "|*"):
        assert syntax not in text
    assert "Costs {{ UnsubscribeURL }} and *|UNSUB|* {% if x %}" in text.replace("\u2060", "")


def test_inert_and_wrap_helpers() -> None:
    assert inert("plain text") == "plain text"
    assert wrap("word " * 40).count("\n") >= 2
    assert wrap("https://example.com/" + "x" * 100) == "https://example.com/" + "x" * 100
