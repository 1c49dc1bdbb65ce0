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
        ('subject = "S"\nnumber = "twelve"\n', "number must be a whole number"),
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
