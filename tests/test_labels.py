"""[labels] and [labels.<lang>]: every word the email shows is configurable, checked and escaped."""

from __future__ import annotations

import html as htmllib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newsletter.config import Config, Headings, Labels, Publication, load_config
from newsletter.errors import ConfigError
from newsletter.inline import inline_css
from newsletter.models import Issue
from newsletter.render import render_email
from newsletter.text import plain_text
from tests.emailgen import PLACEHOLDERS, make_issue, make_story

ROOT = Path(__file__).resolve().parent.parent

# The English the default theme and text part would show: none may survive a translation.
ENGLISH = ["Issue", "In this issue", "Read the full story", "Unsubscribe", "Manage your preferences",
           "View this email in your browser", "Analysis", "Impact"]
ENGLISH_MONTHS = ["Nov", "Dec"]

FRENCH = """\
[publication]
name = "Le Veilleur"
language = "fr"
postal_address = "12 rue de la Paix, 75002 Paris, France"
reason = "Vous recevez ce courriel car vous vous êtes abonné à notre lettre."

[headings]
analysis_label = "Notre analyse"
impact_label = "Ce que cela change pour vous"

[labels]
issue = "Numéro {number}"
contents = "Dans ce numéro"
read_more = "Lire l'article complet : {headline}"
unsubscribe = "Se désabonner"
preferences = "Gérer vos préférences"
view_online = "Voir ce courriel dans votre navigateur"
months = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
date_order = "dmy"

[theme.sections]
world = "Monde"
us = "États-Unis"
vietnam = "Viêt Nam"
community = "Communauté"
business = "Économie"
"""

BILINGUAL = """\
[publication]
name = "Saigon Sentinel"
language = "en"

[headings]
analysis_label = "Saigon Sentinel Analysis"
impact_label = "Impact on Vietnamese Americans"

[labels.vi]
analysis = "Phân tích của Saigon Sentinel"
impact = "Tác động đến người Mỹ gốc Việt"
read_more = "Đọc toàn bài: {headline}"
"""


def config_from(tmp_path: Path, toml: str) -> Config:
    path = tmp_path / "newsletter.toml"
    path.write_text(toml, "utf-8")
    return load_config(path)


def config_error(tmp_path: Path, toml: str) -> str:
    path = tmp_path / "newsletter.toml"
    path.write_text(toml, "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


class Visible(HTMLParser):
    """What a reader can see or hear: text outside <style>, plus alt and title attributes."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self.feed(source)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        self.parts += [value or "" for name, value in attrs if name in ("alt", "title", "aria-label")]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def both_parts(issue: Issue, config: Config) -> tuple[str, str, str]:
    """(inlined HTML source, its visible text, the text part)."""
    source = inline_css(render_email(issue, config, PLACEHOLDERS))
    return source, Visible(source).text, plain_text(issue, config, PLACEHOLDERS)


# --- configuration ---------------------------------------------------------------------------

@pytest.mark.parametrize(("toml", "line", "message"), [
    ('[labels]\ncontents = "x"\ncontens = "y"\n', 3, "unknown setting 'contens' in [labels]"),
    ('[labels]\n\n[labels.vi]\nread_mor = "x"\n', 4, "unknown setting 'read_mor' in [labels.vi]"),
    ('[labels]\nread_more = "More: {title}"\n', 2, "read_more = 'More: {title}' has an unknown placeholder"),
    ('[labels.vi]\nread_more = "{headline.__class__}"\n', 2, "unknown placeholder"),
    ('[labels]\nissue = "No. {number:>5}"\n', 2, "unknown placeholder"),
    ('[labels]\nissue = "Issue {headline}"\n', 2, "issue can use {number}"),
    ('[labels]\nread_more = "Read {headline"\n', 2, "not a valid label"),
    ('[labels]\nvi = "Tiếng Việt"\n', 2, "A language's labels are a table: [labels.vi]"),
    ('strict = false\nlabels = "Deutsch"\n', 2, "[labels] must be a table"),
    ('[labels.vi]\nanalysis = 3\n', 2, "[labels.vi] analysis must be a string"),
    ('[labels.vi]\n[labels.vi.extra]\nanalysis = "x"\n', 2, "[labels.vi] must be a table of strings"),
    ('[labels.vietnamese]\nanalysis = "x"\n', 1, "[labels.vietnamese] is not a language"),
    ('[labels]\nanalysis = "Our view"\n', 2, "set in [headings] as analysis_label"),
    ('[labels]\nmonths = ["Jan", "Feb"]\n', 2, "months must list 12 month names, not 2"),
    ('[labels.fr]\ndate_order = "ymd"\n', 2, 'date_order must be "mdy" or "dmy"'),
])
def test_bad_labels_are_errors_naming_file_and_line(tmp_path: Path, toml: str, line: int, message: str) -> None:
    error = config_error(tmp_path, toml)
    assert error.startswith(f"{tmp_path / 'newsletter.toml'}:{line}: "), error
    assert message in error, error


def test_read_more_without_headline_and_literal_braces_are_fine(tmp_path: Path) -> None:
    config = config_from(tmp_path, '[labels]\nread_more = "Continue reading"\nissue = "{{No.}} {number}"\n'
                                   'contents = "Stories {this week}"\n')
    labels = config.labels_for(None)
    assert labels.text("read_more", headline="H") == "Continue reading"
    assert labels.text("issue", number=4) == "{No.} 4"
    assert labels.text("contents") == "Stories {this week}"  # not a format string: shown as written


def test_english_defaults_are_unchanged() -> None:
    labels = Config().labels_for(None)
    assert (labels.issue, labels.contents, labels.read_more) == (
        "Issue {number}", "In this issue", "Read the full story: {headline}")
    assert (labels.unsubscribe, labels.preferences, labels.view_online) == (
        "Unsubscribe", "Manage your preferences", "View this email in your browser")
    assert (labels.analysis, labels.impact) == ("Analysis", "Impact")  # from [headings]
    issue = make_issue(3)
    _, visible, text = both_parts(issue, Config())
    assert "Issue 48 · Nov 23 – 29, 2026" in visible and "Issue 48 · Nov 23 – 29, 2026" in text
    assert "In this issue" in visible and "\nIN THIS ISSUE\n" in text
    assert f"Read the full story: {issue.stories[1].headline}" in visible
    assert "Unsubscribe · Manage your preferences · View this email in your browser" in visible
    assert f"View this email in your browser: {PLACEHOLDERS.view_online}" in text


@pytest.mark.parametrize(("start", "end", "mdy", "dmy"), [
    ((2026, 11, 23), (2026, 11, 29), "Nov 23 – 29, 2026", "23 – 29 Nov 2026"),
    ((2026, 11, 30), (2026, 12, 6), "Nov 30 – Dec 6, 2026", "30 Nov – 6 Dec 2026"),
    ((2026, 12, 28), (2027, 1, 3), "Dec 28, 2026 – Jan 3, 2027", "28 Dec 2026 – 3 Jan 2027"),
])
def test_date_ranges_in_both_orders(start: tuple[int, int, int], end: tuple[int, int, int], mdy: str,
                                    dmy: str) -> None:
    from datetime import date

    assert Labels().date_range(date(*start), date(*end)) == mdy
    assert Labels(date_order="dmy").date_range(date(*start), date(*end)) == dmy


# --- a publication in another language --------------------------------------------------------

def test_french_publication_shows_no_english(tmp_path: Path) -> None:
    config = config_from(tmp_path, FRENCH)
    # Vietnamese-pool article text without a lang: the stories are in the publication's language,
    # and their text has no English words that could be confused with a label.
    stories = tuple(make_story(n, vietnamese=True, lang=None, image=n == 0, image_alt="Photo") for n in range(4))
    issue = make_issue(stories=stories, subject="Le Veilleur : la semaine", preheader="Quatre articles cette semaine.",
                       intro="Bonne lecture.")
    source, visible, text = both_parts(issue, config)
    text_words = re.sub(r"https://\S+", "", text)  # the placeholder URLs say "unsubscribe"
    for english in ENGLISH:
        assert not re.search(rf"\b{re.escape(english)}\b", visible, re.IGNORECASE), english
        assert not re.search(rf"\b{re.escape(english)}\b", text_words, re.IGNORECASE), english
    for month in ENGLISH_MONTHS:
        assert not re.search(rf"\b{month}\b", visible) and not re.search(rf"\b{month}\b", text_words), month
    # ... and the French is there, in both parts
    assert "Numéro 48 · 23 – 29 nov. 2026" in visible and "Numéro 48 · 23 – 29 nov. 2026" in text
    assert "Dans ce numéro" in visible and "DANS CE NUMÉRO\n" in text
    assert f"Lire l'article complet : {stories[2].headline}" in visible
    assert f"Lire l'article complet : {stories[2].headline}" in " ".join(text.split())
    assert visible.count("Notre analyse") == 4 and text.count("NOTRE ANALYSE\n") == 4
    assert "Se désabonner · Gérer vos préférences · Voir ce courriel dans votre navigateur" in visible
    assert f"Se désabonner: {PLACEHOLDERS.unsubscribe}" in text
    assert '<html lang="fr"' in source


def test_publication_language_table_overrides_labels(tmp_path: Path) -> None:
    config = config_from(tmp_path, '[publication]\nlanguage = "fr-CA"\n\n[labels]\ncontents = "Contents"\n\n'
                                   '[labels.fr]\ncontents = "Au sommaire"\nanalysis = "Analyse"\n')
    source, visible, text = both_parts(make_issue(2), config)
    assert "Au sommaire" in visible and "AU SOMMAIRE\n" in text and "Contents" not in visible
    assert source.count(">Analyse</h3>") == 2 and "Analysis</h3>" not in source  # no lang: the story is fr-CA


# --- a bilingual publication: stories in their own language -----------------------------------

def test_vietnamese_story_gets_vietnamese_labels_in_both_parts(tmp_path: Path) -> None:
    config = config_from(tmp_path, BILINGUAL)
    stories = (make_story(0), make_story(1, vietnamese=True, lang="vi-VN"), make_story(2))
    issue = make_issue(stories=stories)
    source, visible, text = both_parts(issue, config)
    flat = " ".join(text.split())
    vi, en = stories[1], (stories[0], stories[2])
    assert f"Đọc toàn bài: {vi.headline}" in visible and f"Đọc toàn bài: {vi.headline}" in flat
    assert visible.count("Phân tích của Saigon Sentinel") == 1 and visible.count("Tác động đến người Mỹ gốc Việt") == 1
    assert text.count("PHÂN TÍCH CỦA SAIGON SENTINEL\n") == 1 and text.count("TÁC ĐỘNG ĐẾN NGƯỜI MỸ GỐC VIỆT\n") == 1
    for story in en:
        assert f"Read the full story: {story.headline}" in visible and f"Read the full story: {story.headline}" in flat
    assert visible.count("Saigon Sentinel Analysis") == 2 and text.count("SAIGON SENTINEL ANALYSIS\n") == 2
    assert visible.count("Impact on Vietnamese Americans") == 2
    assert f"Read the full story: {vi.headline}" not in visible
    # the Vietnamese words sit inside the card marked lang="vi-VN"; the email-wide words stay English
    card = re.search(r'lang="vi-VN">(.*?)</a></p>', source, re.S)
    assert card and "Phân tích của Saigon Sentinel" in card.group(1)
    assert "Đọc toàn bài" in htmllib.unescape(card.group(0))
    assert "In this issue" in visible and "Unsubscribe" in visible and "IN THIS ISSUE\n" in text
    assert ">Us</p>" in card.group(1)  # the section label stays the publication's


def test_sample_workspace_labels_its_vietnamese_story() -> None:
    config = load_config(ROOT / "newsletter.toml")
    assert config.labels_for("vi").read_more == "Đọc toàn bài: {headline}"
    assert config.labels_for("vi").analysis != config.headings.analysis_label
    assert config.labels_for(None).analysis == config.headings.analysis_label


# --- labels are text, never markup or merge tags ----------------------------------------------

def test_labels_are_escaped_and_inert() -> None:
    payload = "<b>bold</b> {{ x }} *|UNSUB|* {% if y %}"
    literal = payload.replace("{", "{{").replace("}", "}}")  # format strings write braces twice
    labels = Labels(contents=payload, unsubscribe=payload, preferences=payload, view_online=payload,
                    read_more=f"{literal} {{headline}}", issue=f"{literal} {{number}}")
    config = Config(labels=labels, headings=Headings(analysis_label=payload, impact_label=payload),
                    publication=Publication(language="en"))
    issue = make_issue(stories=(make_story(0), make_story(1)))
    source, visible, text = both_parts(issue, config)
    body = re.sub(r"<style.*?</style>|<!--.*?-->", "", source, flags=re.S)
    for forbidden in ("<b>", "{{", "}}", "{%", "%}", "*|", "|*"):
        assert forbidden not in body, forbidden
        assert forbidden == "<b>" or forbidden not in text, forbidden  # plain text has no markup to fear
    # readers still see the words as written: every label, in both parts
    shown = text.replace("\u2060", "")
    assert visible.count(payload) == 2 + 3 + 2 * 2 + 2  # issue, contents, footer x3, headings, links
    assert shown.count(payload) == 1 + 3 + 2  # issue, footer x3, links (contents/headings are upper-cased)
    assert shown.count(payload.upper()) == 1 + 2 * 2
