"""The archive's pages in real headless Chromium: axe-core finds no violation in light or dark, and
nothing scrolls sideways at 320 px; screenshots kept in tests/artifacts/."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.test_archive import QuietHandler, build_all

pytestmark = [pytest.mark.browser, pytest.mark.server]
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# Every WCAG 2.1 A/AA rule and axe's best practices, including the landmark rules that the
# email's audit leaves out: these are web pages.
AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
    resultTypes: ['violations']});
  return {version: axe.version, violations: result.violations.map(v => ({id: v.id, impact: v.impact,
    help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))};
}"""


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample's three editions archived and served from a sub-path of a loopback server."""
    workspace = tmp_path_factory.mktemp("archive-browser")
    import shutil

    from tests.conftest import ROOT

    shutil.copy(ROOT / "newsletter.toml", workspace / "newsletter.toml")
    shutil.copytree(ROOT / "content", workspace / "content")
    for manifest in (ROOT / "issues").glob("*/issue.toml"):
        (workspace / "issues" / manifest.parent.name).mkdir(parents=True)
        shutil.copy(manifest, workspace / "issues" / manifest.parent.name / "issue.toml")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workspace)
        build_all()
        result = CliRunner().invoke(cli, ["archive"])
        assert result.exit_code == 0, result.output
    root = workspace / "www"
    root.mkdir()
    (root / "newsletter").symlink_to(workspace / "site", target_is_directory=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/newsletter/"
    finally:
        server.shutdown()
        server.server_close()


def open_page(browser: Any, url: str, width: int, scheme: str) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    # Offline: only the loopback site loads; remote images stay unloaded (their alt text remains).
    page.route("**/*", lambda route, request: route.continue_() if request.url.startswith("http://127.0.0.1:")
               else route.abort())
    page.goto(url, wait_until="load")
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [320, 1024])
@pytest.mark.parametrize("path", ["index.html", "2026-W48/index.html"])
def test_archive_pages_pass_axe_and_fit_the_screen(browser: Any, artifacts: Path, site_url: str, path: str,
                                                  width: int, scheme: str) -> None:
    page = open_page(browser, site_url + path, width, scheme)
    try:
        name = "index" if path == "index.html" else "edition"
        page.screenshot(path=str(artifacts / f"archive_{name}_{width}_{scheme}.png"), full_page=True)
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background in ("rgb(18, 18, 18)",)) == (scheme == "dark"), background  # the theme's dark_background
        scroll = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate("""w => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 5).map(e => e.outerHTML.slice(0, 80))""",
                             width)
        assert scroll <= width and not wide, wide
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(AXE_RUN)
        assert result["version"] == "4.14.1"
        assert result["violations"] == [], result["violations"]
    finally:
        page.context.close()


def test_links_lead_between_the_pages_in_the_browser(browser: Any, site_url: str) -> None:
    page = open_page(browser, site_url, 1024, "light")
    try:
        page.click("a[href='2026-W47/index.html']")
        page.wait_for_url(site_url + "2026-W47/index.html")
        assert "Library opens oral-history archive of boat people" in page.content()
        page.click("nav a[href='../index.html']")
        page.wait_for_url(site_url + "index.html")
        assert page.title() == "Saigon Sentinel: All editions"
    finally:
        page.context.close()
