"""Golden files: the sample week's email, byte for byte. Regenerate with `make golden`.

Beside the exact comparison, structural tests (test_email_structure.py) say what must hold,
so that a harmless markup change is easy to review: run `make golden`, read the diff.
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.conftest import ROOT, SAMPLE_WEEK

GOLDEN = ROOT / "tests" / "golden" / SAMPLE_WEEK
REGEN = os.environ.get("NEWSLETTER_REGEN_GOLDEN") == "1"


@pytest.mark.parametrize("name", ["email.html", "email.txt"])
def test_sample_week_matches_golden(workspace: Path, name: str) -> None:
    result = CliRunner().invoke(cli, ["build", "--week", SAMPLE_WEEK])
    assert result.exit_code == 0, result.output
    built = (workspace / "issues" / SAMPLE_WEEK / name).read_text()
    golden = GOLDEN / name
    if REGEN:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_text(built)
        shutil.copy(workspace / "issues" / SAMPLE_WEEK / "issue.toml", GOLDEN / "issue.toml")
        return
    assert golden.exists(), "no golden file yet: run `make golden`"
    expected = golden.read_text()
    if built != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), built.splitlines(True), f"golden/{name}", f"built/{name}", n=2
            )
        )
        pytest.fail(f"{name} differs from tests/golden (if intended, run `make golden`):\n{diff[:6000]}")
