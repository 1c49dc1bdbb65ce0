"""The preview marks the stories `newsletter gather` wrote, with their source, and those the editor changed since."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.preview import LiveIssue, PreviewServer, bind
from newsletter.weeks import Selection
from tests import gather_fixtures as fx
from tests.sites import Site, serve

pytestmark = pytest.mark.server

PACT = "2026/11/2026-11-24-russia-myanmar-defense-pact"
GRANTS = "2026/11/2026-11-25-bolsa-avenue-grants"


@pytest.fixture
def gathered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A workspace whose week was gathered from a feed; one gathered file then edited by hand."""
    ws = tmp_path / "ws"
    monkeypatch.chdir(tmp_path)
    site = Site()
    with serve(site) as base:
        site.page("/feed/", fx.rss_feed(base + "/feed/"), "application/rss+xml")
        fx.write_workspace(ws, f'[sources.sentinel]\ntype = "feed"\nurl = "{base}/feed/"\n')
        monkeypatch.chdir(ws)
        result = CliRunner().invoke(cli, ["gather", "--week", fx.WEEK], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    (ws / "content/2026/11/2026-11-26-by-hand.txt").write_text(
        "A story written by hand\nWESTMINSTER – Not gathered.\nAnalysis\nWhy.\nImpact\nWho.\n"
    )
    grants = ws / "content" / f"{GRANTS}.md"
    grants.write_text(grants.read_text().replace("modest", "small"))
    yield ws


@contextmanager
def preview(ws: Path) -> Iterator[PreviewServer]:
    config = load_config(ws / "newsletter.toml")
    live = LiveIssue(config, Selection(week=fx.WEEK), config_path=None, echo=lambda _: None,
                     echo_error=lambda _: None)
    server = bind("127.0.0.1", 0, live)
    assert live.rebuild().ok
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        live.close()
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_the_state_names_each_gathered_story_and_its_source(gathered: Path) -> None:
    with (
        preview(gathered) as server,
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/api/state", timeout=10) as answer,
    ):
        state = json.loads(answer.read())
    marks = state["gathered"]
    assert set(marks) == {PACT, GRANTS, "2026/11/2026-11-29-tet-grand-marshal"}
    assert marks[PACT] == {"source": "sentinel", "url": f"{fx.SITE}/2026/11/russia-myanmar-defense-pact/",
                           "edited": False}
    assert marks[GRANTS]["edited"] is True


@pytest.mark.browser
def test_the_page_marks_gathered_stories(gathered: Path, browser: Any, artifacts: Path) -> None:
    with preview(gathered) as server:
        page = browser.new_page()
        try:
            page.goto(f"http://127.0.0.1:{server.port}/#view=warnings")
            deadline = time.monotonic() + 15
            while page.locator("#story-list li").count() < 4:
                assert time.monotonic() < deadline, "the stories never appeared"
                time.sleep(0.05)
            rows = {row.get_attribute("data-id"): row.inner_text() for row in page.locator("#story-list li").all()}
            assert "gathered · sentinel" in rows[PACT] and "edited since" not in rows[PACT]
            assert "gathered · sentinel" in rows[GRANTS] and "edited since" in rows[GRANTS]
            assert rows["2026/11/2026-11-26-by-hand"] == "A story written by hand"
            assert page.locator("#gathered").inner_text() == "3 of 4 stories gathered from the website"
            page.screenshot(path=str(artifacts / "preview-gathered.png"), full_page=True)
        finally:
            page.close()
