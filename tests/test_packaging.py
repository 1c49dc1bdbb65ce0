"""The wheel carries the default theme, so `pip install .` works outside the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("newsletter-*.whl")
    return built


def test_wheel_contains_theme_and_entry_point(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    theme = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file())
    assert theme and all(f"newsletter/{name}" in names for name in theme)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "newsletter = newsletter.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_builds_a_workspace_without_templates(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    workspace = tmp_path / "ws"
    shutil.copytree(ROOT / "content", workspace / "content")  # no templates/, no newsletter.toml
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", "from newsletter.cli import main; main()", "build", "--week", "2026-W48"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    probe = "import newsletter, sys; print(newsletter.__file__)"
    where = subprocess.run([sys.executable, "-c", probe], cwd=workspace, env=env, capture_output=True, text=True)
    assert where.stdout.startswith(str(site))  # the wheel's copy ran, not the repository's
    assert "<!doctype html>" in (workspace / "issues" / "2026-W48" / "email.html").read_text().lower()


def test_installed_wheel_starts_a_publication_and_shows_its_docs(wheel: Path, tmp_path: Path) -> None:
    """`newsletter init` and `newsletter docs` work from the wheel alone, far from any checkout."""
    names = zipfile.ZipFile(wheel).namelist()
    for page in (ROOT / "docs").glob("*.md"):
        assert f"newsletter/docs/{page.name}" in names
    assert "newsletter/skeleton/newsletter.toml" in names and "newsletter/skeleton/gitignore" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}

    def newsletter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "from newsletter.cli import main; main()", *args]
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)

    result = newsletter("init", "weekly", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    result = newsletter("build", cwd=tmp_path / "weekly" / "content")  # found from a subfolder
    assert result.returncode == 0, result.stdout + result.stderr
    assert list((tmp_path / "weekly" / "issues").glob("*/email.html"))
    result = newsletter("docs", "services", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("# ")
    assert str(site) in newsletter("docs", cwd=tmp_path).stdout  # the wheel's own copy
