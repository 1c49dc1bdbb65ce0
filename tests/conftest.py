"""Shared fixtures: a throwaway copy of the sample workspace, and real headless Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CHROMIUM = Path(os.environ.get("NEWSLETTER_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "tests" / "artifacts"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SAMPLE_WEEK = "2026-W48"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def as_a_new_process() -> None:
    """Forget what inlining parsed in memory (premailer's cache, the kept declarations read once),
    so the next inline_css starts as a new process does: from the cache files alone."""
    import premailer.cache

    import newsletter.inline
    from newsletter.cache import JsonCache

    premailer.cache.cache.clear()
    if newsletter.inline._declarations is not None:
        newsletter.inline._declarations.cache = JsonCache("css-declarations", limit=1024)


def need(condition: bool, reason: str) -> None:
    """Skip on a developer's laptop that lacks a tool; in CI a missing tool is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI must run this test: .ci/run installs it)")
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tool's caches (newsletter.cache) in a folder of the test session, not the user's."""
    previous = os.environ.get("NEWSLETTER_CACHE_DIR")
    os.environ["NEWSLETTER_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("NEWSLETTER_CACHE_DIR", None)
    else:
        os.environ["NEWSLETTER_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def _spamassassin_only_where_asked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """`newsletter check` (and so every export) runs SpamAssassin for about a second and a half; tests
    that do not test the spam score switch it off (NEWSLETTER_SPAMASSASSIN=off). Mark a test
    ``@pytest.mark.spamassassin`` to keep it on."""
    if request.node.get_closest_marker("spamassassin") is None:
        monkeypatch.setenv("NEWSLETTER_SPAMASSASSIN", "off")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's sample workspace (settings, content, templates), as cwd."""
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(ROOT / "newsletter.toml", ws / "newsletter.toml")
    shutil.copytree(ROOT / "content", ws / "content")
    (ws / "issues").mkdir()
    for manifest in (ROOT / "issues").glob("*/issue.toml"):  # the sample editions' edited manifests
        (ws / "issues" / manifest.parent.name).mkdir()
        shutil.copy(manifest, ws / "issues" / manifest.parent.name / "issue.toml")
    monkeypatch.chdir(ws)
    return ws


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the session, driven by Playwright."""
    need(CHROMIUM.exists(), f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        need(False, "playwright is not installed")
        raise
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def artifacts() -> Path:
    """Where tests keep screenshots for people to look at (tests/artifacts/, git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def listmonk(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A loopback listmonk (tests/servers.py) the sample workspace's settings point at."""
    from tests.servers import FakeListmonk, serve

    fake = FakeListmonk()
    with serve(fake) as url:
        for key, value in {"API_URL": url, "USERNAME": fake.username, "TOKEN": fake.token, "LIST_IDS": "3",
                           "RETRY_BASE_DELAY": "0.01", "TIMEOUT": "5"}.items():
            monkeypatch.setenv(f"NEWSLETTER_LISTMONK_{key}", value)
        yield fake
