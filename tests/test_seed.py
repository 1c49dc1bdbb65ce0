"""An article someone else wrote in the seed's format builds without edits (../shared/seed/)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.content import read_text
from tests.conftest import SHARED

SEED = SHARED / "seed"


@pytest.mark.skipif(not SEED.is_dir(), reason="../shared/seed is not beside this checkout")
def test_seed_articles_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = tmp_path / "content"
    content.mkdir()
    seeds = sorted(SEED.glob("*.txt"))
    assert seeds
    for index, seed in enumerate(seeds):
        # dropped into content/ under the dated name the newsroom's convention asks for, bytes unchanged
        shutil.copyfile(seed, content / f"2026-11-24-{index:03d}-{seed.stem}.txt")
    monkeypatch.chdir(tmp_path)  # no newsletter.toml: the default heading rules must match the seed
    result = CliRunner().invoke(cli, ["build", "--week", "2026-W48"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "issues" / "2026-W48"
    data = json.loads((folder / "issue.json").read_text())
    assert all("no url" in warning for warning in data["warnings"])  # the seed names no link: nothing else
    assert len(data["stories"]) == len(seeds)
    text = (folder / "email.txt").read_text()
    for story, seed in zip(sorted(data["stories"], key=lambda s: s["id"]), seeds, strict=False):
        lines = [line.strip() for line in read_text(seed).split("\n") if line.strip()]
        assert story["headline"] == lines[0]
        assert story["has_analysis"] and story["has_impact"]
        assert " ".join(lines[-1].split()[:6]) in " ".join(text.split())  # the impact's words reach the text part
