"""Front matter means what the editor typed, and dates count in the publication's time zone."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.config import Headings
from newsletter.content import parse_article_date, read_article
from newsletter.errors import ContentError

H = Headings()
LA = ZoneInfo("America/Los_Angeles")
PARTS = "\nBANGOR – The ferry runs again.\n\n## Analysis\n\nIt was missed.\n\n## Impact\n\nCommuters save an hour.\n"


def article(tmp_path: Path, front: str, name: str = "2026-11-24-ferry.md") -> Path:
    path = tmp_path / name
    path.write_text(f"---\n{front}---\n{PARTS}", "utf-8")
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


# ---- YAML 1.1's implicit types: every value is the text typed -------------------------------


@pytest.mark.parametrize(
    ("front", "field", "expected"),
    [
        ("title: Yes\n", "headline", "Yes"),
        ("title: No\n", "headline", "No"),
        ("title: off\n", "headline", "off"),
        ("title: 1.10\n", "headline", "1.10"),
        ("title: 0x1F\n", "headline", "0x1F"),
        ("title: 2026-11-24\n", "headline", "2026-11-24"),
        ("title: 1_000\n", "headline", "1_000"),
        ("title: .inf\n", "headline", ".inf"),
        ("title: '~'\n", "headline", "~"),
        ("title: Ferry\nlang: no\n", "lang", "no"),
        ("title: Ferry\nlang: NO\n", "lang", "NO"),
        ("title: Ferry\nauthor: On\n", "author", "On"),
        ("title: Ferry\nauthor: y\n", "author", "y"),
        ("title: Ferry\nsection: 2026\n", "section", "2026"),
        ("title: Ferry\nsummary: 3.0\n", "summary", "3.0"),
        ("title: Ferry\nimage_alt: null\n", "image_alt", None),  # unquoted null: not set
        ("title: Ferry\nimage_alt: 'null'\n", "image_alt", "null"),  # quoted: the word
        ("title: Ferry\nurl:\n", "url", None),
    ],
)
def test_values_are_the_text_typed(tmp_path: Path, front: str, field: str, expected: str | None) -> None:
    assert getattr(read_article(article(tmp_path, front), H), field) == expected


def test_tags_are_words(tmp_path: Path) -> None:
    assert read_article(article(tmp_path, "title: F\ntags: [yes, 1.5, ferry]\n"), H).tags == ("yes", "1.5", "ferry")
    assert read_article(article(tmp_path, "title: F\ntags: ferry, harbour\n"), H).tags == ("ferry", "harbour")


@pytest.mark.parametrize(
    ("front", "problem", "line", "hint"),
    [
        ("title: [a, b]\n", "front matter 'title' must be text", 2, "title: some text"),
        ("title: F\nauthor: {name: x}\n", "front matter 'author' must be text", 3, "author: some text"),
        ("title: F\ntags: {a: b}\n", "'tags' must be a list of words", 3, "tags: ["),
        ("title: F\nlang: Norwegian bokmal\n", "is not a language tag", 3, "BCP 47"),
        ("title: F\nTitle: G\n", "unknown front matter key 'Title'", 3, "Did you mean 'title'?"),
        ("title: F\nimgae: x\n", "unknown front matter key 'imgae'", 3, "Did you mean 'image'?"),
        ("title: F\ntitle: G\n", "sets 'title' twice (first on line 2)", 3, "Keep one"),
        ("title: &t F\nsummary: *t\n", "anchor (&t)", 2, "not allowed"),
        ("title: F\nsummary: *t\n", "uses a YAML alias (*t)", 3, "not allowed"),
        ("title: [unclosed\n", "broken front matter", 2, "Fix the YAML"),
        ("title: F\ntags: [[[[[[deep]]]]]]\n", "nested too deeply", 3, "one 'key: value'"),
        # YAML reads " #" as a comment: a value that starts with # would silently be empty
        ("title: #1 pho shop in town\n", "'title' is empty: YAML reads '#1 pho shop in town' as a comment", 2,
         'title: "#1 pho shop in town"'),
        ("title: F\ntags: #food\n", "'tags' is empty", 3, 'tags: "#food"'),
        # a tab where YAML wants spaces: say so, not "found character '\t'"
        ("title:\tFerry\n", "a tab", 2, "spaces"),
        ("title: F\n\tauthor: G\n", "a tab", 3, "spaces"),
    ],
)
def test_wrong_shapes_name_the_line(tmp_path: Path, front: str, problem: str, line: int, hint: str) -> None:
    with pytest.raises(ContentError) as caught:
        read_article(article(tmp_path, front), H)
    assert problem in caught.value.problem
    assert caught.value.line == line
    assert hint in caught.value.hint


def test_an_alias_bomb_costs_nothing(tmp_path: Path) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    levels += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
    path = article(tmp_path, "title: F\n" + "\n".join(levels) + "\n")
    with pytest.raises(ContentError, match="anchor"):
        read_article(path, H)


def test_yaml_kinds_through_the_cli(workspace: Path) -> None:
    """The email and issue.json show the words typed, never True/False."""
    content = workspace / "content"
    (content / "2026-11-24-norsk.md").write_text(
        "---\ntitle: Bergen bakery wins prize\nlang: no\nurl: https://x.example/a/\n---\n" + PARTS, "utf-8")
    (content / "2026-11-25-yes.md").write_text(
        "---\ntitle: Yes\nauthor: Off\nsummary: 1.10\nurl: https://x.example/b/\n---\n" + PARTS, "utf-8")
    (workspace / "issues" / "2026-W48" / "issue.toml").unlink()
    result = run("build", "--week", "2026-W48")
    assert result.exit_code == 0, result.output
    data = json.loads((workspace / "issues" / "2026-W48" / "issue.json").read_text("utf-8"))
    stories = {s["id"].rsplit("/", 1)[-1]: s for s in data["stories"]}
    assert stories["2026-11-24-norsk"]["lang"] == "no"
    assert stories["2026-11-25-yes"]["headline"] == "Yes"
    html = (workspace / "issues" / "2026-W48" / "email.html").read_text("utf-8")
    assert 'lang="no"' in html and ">Yes<" in html and "1.10" in html
    assert "False" not in html and "True" not in html


# ---- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-29", date(2026, 11, 29)),
        ("2026-11-30T06:30:00Z", date(2026, 11, 29)),  # 10:30 p.m. Sunday in Los Angeles
        ("2026-11-30t06:30:00z", date(2026, 11, 29)),
        ("2026-11-30 06:30:00 +00:00", date(2026, 11, 29)),
        ("2026-11-30T13:30:00+07:00", date(2026, 11, 29)),  # the same moment, written in Hanoi
        ("2026-11-30T08:30:00.123+0000", date(2026, 11, 30)),  # 00:30 Monday in Los Angeles
        ("2026-11-29T23:30:00", date(2026, 11, 29)),  # no offset: local time already
        ("2026-11-29 23:30", date(2026, 11, 29)),
        ("2026-1-5", date(2026, 1, 5)),
    ],
)
def test_timestamps_count_in_the_publications_zone(value: str, expected: date) -> None:
    assert parse_article_date(value, LA) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-02-30", "2026-02-30 is not a day that exists (February 2026 has 28 days)"),
        ("2028-02-30", "(February 2028 has 29 days)"),
        ("2026-04-31", "(April 2026 has 30 days)"),
        ("2026-13-01", "there is no month 13"),
        ("2026-11-24T25:00:00Z", "time of day that does not exist"),
        ("2026-11-24T10:00:00+25:00", "offset that does not exist"),
        ("next tuesday", "is not a date"),
    ],
)
def test_impossible_dates_say_why(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_article_date(value, LA)


def test_impossible_day_in_a_file_name_is_named(tmp_path: Path) -> None:
    path = tmp_path / "2026-11-31-ferry.txt"
    path.write_text("Ferry returns\nBANGOR – It runs.\n", "utf-8")
    with pytest.raises(ContentError) as caught:
        read_article(path, H)
    assert "2026-11-31 is not a day that exists (November 2026 has 30 days)" in caught.value.problem
    assert "Rename" in caught.value.hint
    path.write_text("---\ndate: 2026-11-30\n---\nFerry returns\nBANGOR – It runs.\n", "utf-8")
    assert read_article(path, H).date == date(2026, 11, 30)  # front matter wins


def test_a_utc_timestamp_lands_in_the_newsrooms_week(workspace: Path) -> None:
    settings = workspace / "newsletter.toml"
    assert 'timezone = "America/Los_Angeles"' in settings.read_text("utf-8")
    (workspace / "content" / "late-vote.md").write_text(
        "---\ntitle: Harbour board votes late\ndate: 2026-11-30T07:15:00Z\nurl: https://x.example/v/\n---\n" + PARTS,
        "utf-8")
    result = run("build", "--week", "2026-W48")
    assert result.exit_code == 0, result.output
    data = json.loads((workspace / "issues" / "2026-W48" / "issue.json").read_text("utf-8"))
    [story] = [s for s in data["stories"] if s["id"] == "late-vote"]
    assert story["date"] == "2026-11-29"
    result = run("build", "--week", "2026-W49")
    assert result.exit_code == 1 and "No articles dated 2026-11-30 to 2026-12-06" in result.stderr


def test_a_timestamp_a_day_off_its_file_name_is_in_its_own_week(workspace: Path) -> None:
    """A CMS names the file by the UTC day and stamps it in UTC: the story must not fall between two weeks."""
    folder = workspace / "content" / "2026" / "11"
    (folder / "2026-11-29-late-vote.md").write_text(  # 2:00 a.m. Monday 30 November in Los Angeles
        "---\ntitle: Harbour board votes late\ndate: 2026-11-30T10:00:00Z\nurl: https://x.example/v/\n---\n" + PARTS,
        "utf-8")
    # a broken file named for the Sunday before the week is the week before's problem, not this one's
    (folder / "2026-11-29-broken.md").write_text("---\ntitle: [unclosed\n---\nText.\n", "utf-8")
    result = run("build", "--week", "2026-W49")
    assert result.exit_code == 0, result.output
    data = json.loads((workspace / "issues" / "2026-W49" / "issue.json").read_text("utf-8"))
    assert [(s["id"], s["date"]) for s in data["stories"]] == [("2026/11/2026-11-29-late-vote", "2026-11-30")]
    result = run("build", "--week", "2026-W48")
    assert result.exit_code == 1 and "2026-11-29-broken.md:2: broken front matter" in result.stderr
    (folder / "2026-11-29-broken.md").unlink()
    assert run("build", "--week", "2026-W48").exit_code == 0
    data = json.loads((workspace / "issues" / "2026-W48" / "issue.json").read_text("utf-8"))
    assert "2026/11/2026-11-29-late-vote" not in {s["id"] for s in data["stories"]}


def test_bad_dates_through_the_cli(workspace: Path) -> None:
    (workspace / "content" / "2026-11-24-feb.md").write_text("---\ntitle: T\ndate: 2026-02-30\n---\n" + PARTS)
    (workspace / "content" / "2026-11-31-oops.txt").write_text("Oops\nCITY – Story.\n")
    result = run("build", "--week", "2026-W48")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stdout == ""
    assert "content/2026-11-24-feb.md:3: front matter date 2026-02-30 is not a day that exists" in result.stderr
    assert "content/2026-11-31-oops.txt: the date in its name is wrong: 2026-11-31 is not a day" in result.stderr
    assert "has no date" not in result.stderr


# ---- the story picture's size ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("image_width: 1200\nimage_height: 800\n", (1200, 800)),
        ("image_width: '1200'\nimage_height: \"800\"\n", (1200, 800)),  # quoted: the same number
        ("image_width: 1600\n", (1600, None)),  # one without the other: the other is derived
        ("image_height: 900\n", (None, 900)),
        ("image_width: 20000\nimage_height: 1\n", (20000, 1)),  # the bounds themselves
        ("image_width:\nimage_height: ~\n", (None, None)),  # empty: not set
        ("", (None, None)),
    ],
)
def test_the_story_pictures_size_is_whole_pixels(tmp_path: Path, front: str, expected: tuple[int | None, ...]) -> None:
    path = article(tmp_path, f"title: Ferry\nimage: https://x.example/ferry.jpg\nimage_alt: The ferry\n{front}")
    found = read_article(path, H)
    assert (found.image_width, found.image_height) == expected
    assert found.warnings == ()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0", "'image_width' must be a whole number of pixels from 1 to 20000, not '0'"),
        ("-640", "not '-640'"),
        ("1200.5", "not '1200.5'"),
        ("1200px", "not '1200px'"),
        ("wide", "not 'wide'"),
        ("1e3", "not '1e3'"),
        ("١٢٠٠", "not '١٢٠٠'"),  # Arabic-Indic digits: isdigit() says yes, a size says no
        ("20001", "not '20001'"),
        ("9" * 5000, "not '" + "9" * 40 + "…'"),  # int() refuses 4,300 digits; the message is cut short
        ("[1200, 800]", "'image_width' must be a whole number of pixels"),
    ],
)
def test_a_wrong_picture_size_names_the_line_and_what_to_write(tmp_path: Path, value: str, problem: str) -> None:
    path = article(tmp_path, f"title: Ferry\nimage: https://x.example/ferry.jpg\nimage_alt: The ferry\n"
                             f"image_width: {value}\nimage_height: 800\n")
    with pytest.raises(ContentError) as caught:
        read_article(path, H)
    assert problem in caught.value.problem
    assert caught.value.line == 5
    assert "image_width: 1200" in caught.value.hint and "width in pixels" in caught.value.hint


def test_a_picture_size_without_a_picture_is_a_warning(tmp_path: Path) -> None:
    path = article(tmp_path, "title: Ferry\nimage_height: 800\n")
    assert read_article(path, H).warnings == (
        f"{path}:3: image_height is set but there is no image; it sizes nothing (add image: or remove the line)",)
