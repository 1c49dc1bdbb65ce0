"""The editor's issue.toml: proposed once, edits kept, new stories appended, lost ones warned about."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import Config
from newsletter.errors import ManifestError
from newsletter.manifest import apply_manifest, sync_manifest
from newsletter.pairing import pair_stories
from newsletter.weeks import week_period
from tests.test_pairing import CONFIG, article

PERIOD = week_period("2026-W48")


def stories(*names: str) -> list:  # type: ignore[type-arg]
    result, _ = pair_stories([article(name, headline=f"Story {name[11:12]}") for name in names], CONFIG)
    return result


def first_build(folder: Path, names: tuple[str, ...] = ("2026-11-24-a.txt", "2026-11-23-b.txt")) -> Path:
    manifest = sync_manifest(folder / "issue.toml", PERIOD, stories(*names), CONFIG)
    assert manifest.created and manifest.changed
    (folder / "issue.toml").write_text(manifest.text)
    return folder / "issue.toml"


def test_proposal(tmp_path: Path) -> None:
    path = first_build(tmp_path)
    text = path.read_text()
    assert 'subject = "Newsletter: Story a"' in text and "number = 1" in text
    assert text.index("2026-11-24-a") < text.index("2026-11-23-b")
    assert "# Story a" in text  # the headline beside each id, for the editor


def test_edits_survive_and_new_stories_are_appended(tmp_path: Path) -> None:
    path = first_build(tmp_path)
    text = path.read_text().replace('subject = "Newsletter: Story a"', 'subject = "My subject"  # edited')
    a = text.index("\n[[stories]]") + 1
    b = text.index("\n[[stories]]", a) + 1
    text = text[:a] + text[b:] + "\n" + text[a:b]  # b is now the lead
    path.write_text(text)
    manifest = sync_manifest(path, PERIOD, stories("2026-11-24-a.txt", "2026-11-23-b.txt", "2026-11-25-c.txt"), CONFIG)
    assert manifest.subject == "My subject" and manifest.added == ("2026/11/2026-11-25-c",)
    assert manifest.order == ["2026/11/2026-11-23-b", "2026/11/2026-11-24-a", "2026/11/2026-11-25-c"]
    assert "# edited" in manifest.text  # the editor's comment is kept
    issue = apply_manifest(manifest, PERIOD, stories("2026-11-24-a.txt", "2026-11-23-b.txt", "2026-11-25-c.txt"), [])
    assert [s.id[-1] for s in issue.stories] == ["b", "a", "c"]


def test_excluded_story_does_not_come_back(tmp_path: Path) -> None:
    path = first_build(tmp_path)
    path.write_text(path.read_text().replace("include = true", "include = false", 1))
    manifest = sync_manifest(path, PERIOD, stories("2026-11-24-a.txt", "2026-11-23-b.txt"), CONFIG)
    assert not manifest.changed and manifest.order == ["2026/11/2026-11-23-b"]


def test_vanished_story_warns(tmp_path: Path) -> None:
    path = first_build(tmp_path)
    manifest = sync_manifest(path, PERIOD, stories("2026-11-24-a.txt"), CONFIG)
    assert len(manifest.warnings) == 1
    assert "2026-11-23-b" in manifest.warnings[0] and f"{path}:" in manifest.warnings[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('subject = "unclosed\n', "invalid TOML"),
        ("subject = 3\n", "subject must be text"),
        ('subject = ""\n', "subject is empty"),
        ('subject = "S"\nnumber = "twelve"\n', "number must be a positive whole number"),
        ('subject = "S"\n[[stories]]\ninclude = true\n', "needs id"),
        ('subject = "S"\n[[stories]]\nid = "x"\ninclude = "yes"\n', "include must be true or false"),
    ],
)
def test_broken_manifest(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "issue.toml"
    path.write_text(text)
    with pytest.raises(ManifestError, match=message) as caught:
        sync_manifest(path, PERIOD, stories("2026-11-24-a.txt"), CONFIG)
    assert str(path) in caught.value.message


def test_number_follows_earlier_editions(tmp_path: Path) -> None:
    (tmp_path / "2026-W47").mkdir()
    (tmp_path / "2026-W47" / "issue.toml").write_text('subject = "S"\nnumber = 41\n')
    (tmp_path / "2026-W48").mkdir()
    manifest = sync_manifest(tmp_path / "2026-W48" / "issue.toml", PERIOD, stories("2026-11-24-a.txt"), Config())
    assert manifest.number == 42


# ---- checked like newsletter.toml ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("-5", ["number must be a positive whole number", "1 or more", "not -5"]),
        ("0", ["number must be a positive whole number", "1 or more", "not 0"]),
        ('"12"', ["number must be a positive whole number", 'not "12"', "write number = 12, without quotes"]),
        ("1.5", ["number must be a positive whole number", "not 1.5"]),
        ("true", ["number must be a positive whole number", "not true"]),
    ],
)
def test_a_number_that_is_not_a_positive_whole_number_says_what_is_accepted(
        tmp_path: Path, value: str, words: list[str]) -> None:
    path = first_build(tmp_path)
    path.write_text(path.read_text().replace("number = 1", f"number = {value}", 1))
    with pytest.raises(ManifestError) as caught:
        sync_manifest(path, PERIOD, stories("2026-11-24-a.txt", "2026-11-23-b.txt"), CONFIG)
    message = caught.value.message
    assert f"{path}:8: " in message, message
    for word in words:
        assert word in message, message
    assert "must be a whole number," not in message  # -5 is a whole number: the old message was wrong


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("include = true", "inclde = false", 1),
         ":12: unknown key 'inclde' in a [[stories]] table. Did you mean 'include'? Known keys: id, include."),
        (lambda t: t.replace("subject =", "subjet =", 1),
         ":5: unknown key 'subjet' at the top of issue.toml. Did you mean 'subject'?"),
        (lambda t: t.replace('intro = ""', 'intro = ""\nnumbr = 3', 1), ":8: unknown key 'numbr'"),
        (lambda t: t.replace('intro = ""', 'colour = "red"', 1),
         "unknown key 'colour' at the top of issue.toml. Known"),
        (lambda t: t.replace('intro = ""', 'intro = "Hi \\u0007"', 1), ":7: intro holds the control character U+0007"),
        (lambda t: t.replace("number = 1", "number = -1", 1), ":8: number must be a positive whole number"),
        # a misspelt table is named at its own line, not at line 1
        (lambda t: t.replace("\n[[stories]]", "\n[[story]]", 1), ":10: unknown key 'story' at the top of issue.toml. "
         "Did you mean 'stories'?"),
    ],
)
def test_unknown_keys_and_bad_values_name_their_line(tmp_path: Path, edit: object, message: str) -> None:
    path = first_build(tmp_path)
    path.write_text(edit(path.read_text()))  # type: ignore[operator]
    with pytest.raises(ManifestError) as caught:
        sync_manifest(path, PERIOD, stories("2026-11-24-a.txt", "2026-11-23-b.txt"), CONFIG)
    assert f"{path}{message}" in caught.value.message or message in caught.value.message
    assert str(path) in caught.value.message


def test_a_story_id_typo_suggests_the_story(tmp_path: Path) -> None:
    names = ("2026-11-24-ferry-returns.txt", "2026-11-23-tram-reopens.txt")
    path = first_build(tmp_path, names)
    path.write_text(path.read_text().replace('"2026/11/2026-11-23-tram-reopens"', '"2026/11/2026-11-23-tram-reopns"'))
    with pytest.raises(ManifestError) as caught:
        sync_manifest(path, PERIOD, stories(*names), CONFIG)
    message = caught.value.message
    assert f"{path}:15:" in message
    assert ('no article of this edition has the id "2026/11/2026-11-23-tram-reopns". Did you mean '
            '"2026/11/2026-11-23-tram-reopens"?') in message


def test_a_gone_story_without_a_near_match_is_a_warning(tmp_path: Path) -> None:
    path = first_build(tmp_path)
    manifest = sync_manifest(path, PERIOD, stories("2026-11-24-a.txt", "2026-11-27-zzz-quite-different.txt"), CONFIG)
    assert any("2026-11-23-b has no article file" in warning for warning in manifest.warnings)
    assert manifest.added == ("2026/11/2026-11-27-zzz-quite-different",)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"""\nCouncil votes tonight\n"""', "Council votes tonight"),
        ('"""Council votes\ntonight"""', "Council votes tonight"),
        ('"Council\\r\\nvotes\\ttonight"', "Council votes tonight"),
        ('"Council\\u2028votes\\u000btonight"', "Council votes tonight"),
        ('"\\u200bCouncil\\u00ad votes tonight"', "Council votes tonight"),
    ],
)
def test_subject_and_preheader_are_one_line(tmp_path: Path, value: str, expected: str) -> None:
    path = first_build(tmp_path)
    text = path.read_text().replace('subject = "Newsletter: Story a"', f"subject = {value}")
    text = text.replace("preheader = ", f"preheader = {value}\nignored = ", 1).replace("\nignored = ", "\n#", 1)
    path.write_text(text)
    manifest = sync_manifest(path, PERIOD, stories("2026-11-24-a.txt", "2026-11-23-b.txt"), CONFIG)
    assert manifest.subject == expected and manifest.preheader == expected
    if "\\u200b" not in value:
        assert len(manifest.warnings) == 2
        assert f"{path}:5: the subject has line breaks" in manifest.warnings[0]
        assert f'"{expected}"' in manifest.warnings[0]


def test_a_control_character_in_the_subject_is_named_as_one(tmp_path: Path) -> None:
    path = first_build(tmp_path)
    path.write_text(path.read_text().replace('subject = "Newsletter: Story a"', 'subject = "Council\\u0007votes"'))
    manifest = sync_manifest(path, PERIOD, stories("2026-11-24-a.txt", "2026-11-23-b.txt"), CONFIG)
    assert manifest.subject == "Council votes"
    assert manifest.warnings == [f'{path}:5: the subject has a control character (U+0007); the email uses it as one '
                                 'line, "Council votes" (delete it to silence this)']


def test_a_manifest_that_is_a_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "issue.toml").mkdir()
    with pytest.raises(ManifestError, match="is a folder, not the issue's manifest"):
        sync_manifest(tmp_path / "issue.toml", PERIOD, stories("2026-11-24-a.txt"), CONFIG)


def test_manifest_mistakes_through_the_cli(workspace: Path) -> None:
    from click.testing import CliRunner

    from newsletter.cli import cli

    manifest = workspace / "issues" / "2026-W48" / "issue.toml"
    text = manifest.read_text("utf-8")
    manifest.write_text(text.replace("include = true", "inclde = true", 1), "utf-8")
    result = CliRunner().invoke(cli, ["build", "--week", "2026-W48"])
    assert result.exit_code == 1 and result.stdout == "" and "Traceback" not in result.output
    assert "issues/2026-W48/issue.toml:" in result.stderr and "Did you mean 'include'?" in result.stderr

    manifest.unlink()
    manifest.mkdir()
    result = CliRunner().invoke(cli, ["build", "--week", "2026-W48"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "issues/2026-W48/issue.toml: is a folder" in result.stderr


def test_a_subject_with_line_breaks_never_breaks_the_eml(workspace: Path) -> None:
    """The .eml always has its whole header block, whatever line breaks the editor typed."""
    import email
    import email.policy

    from click.testing import CliRunner

    from newsletter.cli import cli

    manifest = workspace / "issues" / "2026-W48" / "issue.toml"
    text = manifest.read_text("utf-8")
    subject_line = next(line for line in text.splitlines() if line.startswith("subject"))
    for typed in ('"""\nMoney transfers get cheaper\n"""', '"""Money transfers\nget cheaper"""',
                  '"Money transfers\\r\\n\\r\\nget cheaper\\n"'):
        manifest.write_text(text.replace(subject_line, f"subject = {typed}"), "utf-8")
        result = CliRunner().invoke(cli, ["export", "--to", "eml", "--week", "2026-W48"])
        assert result.exit_code == 0, result.output
        assert "the subject has line breaks" in result.stderr and "Wrote" in result.stdout
        raw = (workspace / "issues" / "2026-W48" / "message.eml").read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert message["Subject"] == "Money transfers get cheaper"
        for header in ("Date", "MIME-Version", "List-Unsubscribe", "List-Unsubscribe-Post", "Message-ID"):
            assert message[header], header
        assert message.is_multipart() and not message.defects
