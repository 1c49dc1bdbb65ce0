"""`newsletter preview` over real HTTP on 127.0.0.1: routes, path safety, rebuilds, errors, the CLI's messages."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.preview import LiveIssue, PreviewServer, bind
from newsletter.preview.live import start_watching
from newsletter.preview.server import browser_url, force_scheme, host_allowed
from newsletter.weeks import Selection

pytestmark = pytest.mark.server

WEEK = "2026-W48"
ARTICLE = Path("content/2026/11/2026-11-29-remittance-fees.txt")  # the week's lead story
HEADLINE = "New rules cap fees on money transfers to Vietnam"


@dataclass
class Running:
    server: PreviewServer
    live: LiveIssue
    lines: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.port

    def builds(self) -> int:
        return sum(1 for line in self.lines if line.startswith(("Built ", "Build failed")))


@contextmanager
def running_preview(workspace: Path, *, watch: bool = True, **overrides: Path) -> Iterator[Running]:
    """The preview as `serve` runs it, on a free port, in this process."""
    lines: list[str] = []
    config = load_config(None, **overrides)  # type: ignore[arg-type]
    live = LiveIssue(config, Selection(week=WEEK), config_path=None, echo=lines.append, echo_error=lines.append)
    server = bind("127.0.0.1", 0, live)
    stop = threading.Event()
    live.rebuild()
    watchers = start_watching(live, stop) if watch else []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield Running(server, live, lines)
    finally:
        stop.set()
        live.close()
        server.shutdown()
        server.server_close()
        for worker in [thread, *watchers]:
            worker.join(5)
            assert not worker.is_alive(), worker.name


def get(port: int, target: str, *, method: str = "GET", host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """A raw request: http.client sends the target exactly as given, so nothing normalises '..'."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, target, skip_host=host is not None, skip_accept_encoding=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> float:
    """Seconds it took for ``condition`` to hold; fails after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - started


def state(port: int) -> dict[str, object]:
    status, _, body = get(port, "/api/state")
    assert status == 200
    data: dict[str, object] = json.loads(body)
    return data


def test_serves_the_page_and_the_built_files(workspace: Path) -> None:
    with running_preview(workspace, watch=False) as run:
        status, headers, body = get(run.port, "/")
        assert status == 200 and headers["content-type"].startswith("text/html")
        assert b'src="/assets/preview.js"' in body and "frame-ancestors 'none'" in headers["content-security-policy"]
        for asset in ("/assets/preview.js", "/assets/preview.css"):
            assert get(run.port, asset)[0] == 200
        folder = workspace / "issues" / WEEK
        kinds = {"email.html": "text/html", "email.txt": "text/plain", "issue.json": "application/json"}
        for name, kind in kinds.items():
            status, headers, body = get(run.port, f"/issues/{WEEK}/{name}")
            assert status == 200 and headers["content-type"].startswith(kind)
            assert body == (folder / name).read_bytes()  # the built file, byte for byte
            assert headers["cache-control"] == "no-store"
        _, headers, _ = get(run.port, f"/issues/{WEEK}/email.html")
        assert "script-src 'none'" in headers["content-security-policy"]
        data = state(run.port)
        assert data["ok"] is True and data["key"] == WEEK and data["editions"] == [WEEK]
        assert get(run.port, f"/issues/{WEEK}/email.html", method="HEAD")[2] == b""


def test_the_reload_script_is_only_in_the_preview_page(workspace: Path) -> None:
    with running_preview(workspace, watch=False) as run:
        on_disk = (workspace / "issues" / WEEK / "email.html").read_text()
        queries = ("", "?scheme=dark", "?scheme=light")
        served = [get(run.port, f"/issues/{WEEK}/email.html{q}")[2].decode() for q in queries]
        for html in [on_disk, *served]:
            assert HEADLINE in html
            for marker in ("<script", "preview.js", "EventSource", "/api/events"):
                assert marker not in html
        assert b"EventSource" in get(run.port, "/assets/preview.js")[2]


TRAVERSALS = [
    "/../newsletter.toml",
    "/..%2fnewsletter.toml",
    "/%2e%2e/newsletter.toml",
    "/%2E%2E/%2e%2e/etc/passwd",
    "/%252e%252e/newsletter.toml",
    "//etc/passwd",
    "/etc/passwd",
    "/issues/../newsletter.toml",
    f"/issues/../{ARTICLE.as_posix()}",
    "/issues/%2e%2e/newsletter.toml",
    f"/issues/%2e%2e/{ARTICLE.as_posix()}",
    f"/issues/{WEEK}/../../newsletter.toml",
    f"/issues/{WEEK}/%2e%2e%2f%2e%2e%2fnewsletter.toml",
    f"/issues/{WEEK}/..%5c..%5cnewsletter.toml",
    "/issues/..%2f..%2fnewsletter.toml/email.html",
    f"/issues/{WEEK}/issue.toml",  # the editor's manifest is a source, not a built file
    f"/issues/{WEEK}/",  # no directory listings
    f"/issues/{WEEK}",
    "/issues/",
    "/issues",
    f"/issues/{WEEK}/.email.html.tmp",
    "/newsletter.toml",
    f"/{ARTICLE.as_posix()}",
    "/content/",
    "/assets/",
    "/assets/index.html",
    "/assets/../live.py",
    "/assets/%2e%2e/live.py",
    "/api/",
    "/favicon.ico",
    "/issues/2026-W01/email.html",  # no such edition
    "http://127.0.0.1/../newsletter.toml",
    f"/issues/{WEEK}/email.html/..",
    "/%ff%fe/",
]


def test_paths_outside_the_built_files_answer_404(workspace: Path) -> None:
    secret = (workspace / "newsletter.toml").read_bytes()
    with running_preview(workspace, watch=False) as run:
        for target in TRAVERSALS:
            status, _, body = get(run.port, target)
            assert status == 404, target
            assert body == b"Not found\n", target
        # Symlinks, even inside issues/, are not followed: one to a folder, one in place of a built file.
        outside = workspace / "outside"
        outside.mkdir()
        (outside / "email.html").write_bytes(secret)
        (workspace / "issues" / "2026-W01").symlink_to(outside, target_is_directory=True)
        built = workspace / "issues" / WEEK / "email.txt"
        built.unlink()
        built.symlink_to(workspace / "newsletter.toml")
        for target in ("/issues/2026-W01/email.html", f"/issues/{WEEK}/email.txt"):
            status, _, body = get(run.port, target)
            assert status == 404 and secret not in body, target
        assert state(run.port)["editions"] == [WEEK]  # the symlinked folder is not offered either
        assert get(run.port, "/", method="POST")[0] == 405


def test_only_local_host_names_are_answered_on_loopback(workspace: Path) -> None:
    with running_preview(workspace, watch=False) as run:
        assert get(run.port, "/", host=f"localhost:{run.port}")[0] == 200
        assert get(run.port, "/", host=f"[::1]:{run.port}")[0] == 200
        # A page on another site that re-points its DNS name at 127.0.0.1 sends its own name.
        assert get(run.port, "/api/state", host=f"attacker.example:{run.port}")[0] == 403


def test_a_change_rebuilds_and_the_builds_own_writes_do_not(workspace: Path) -> None:
    with running_preview(workspace) as run:
        assert run.builds() == 1
        time.sleep(2.0)  # the first build wrote issue.toml, email.html, ...: none of that is a change
        assert run.builds() == 1, run.lines
        article = workspace / ARTICLE
        article.write_text(article.read_text().replace(HEADLINE, "Fee caps on remittances take effect"))
        seconds = wait_until(lambda: b"Fee caps on remittances" in get(run.port, f"/issues/{WEEK}/email.html")[2])
        assert seconds < 5.0
        time.sleep(1.5)
        assert run.builds() == 2, run.lines
        assert state(run.port)["generation"] == 2


def test_an_edit_to_issue_toml_rebuilds(workspace: Path) -> None:
    with running_preview(workspace) as run:
        manifest = workspace / "issues" / WEEK / "issue.toml"
        text = manifest.read_text()
        subject = re.search(r'^subject = "(.*)"$', text, re.MULTILINE)
        assert subject is not None
        manifest.write_text(text.replace(subject.group(0), 'subject = "Edited by the editor"'))
        built = f"/issues/{WEEK}/issue.json"
        wait_until(lambda: json.loads(get(run.port, built)[2])["subject"] == "Edited by the editor")


def test_a_broken_article_shows_where_and_the_preview_recovers(workspace: Path) -> None:
    article = workspace / ARTICLE
    good = article.read_text()
    with running_preview(workspace) as run:
        article.write_text("")
        wait_until(lambda: state(run.port)["ok"] is False)
        data = state(run.port)
        error = data["error"]
        assert isinstance(error, dict)
        assert error["title"] == "Some article files cannot be used"
        [problem] = error["problems"]
        assert problem["where"] == ARTICLE.as_posix() and "empty" in problem["problem"]
        assert problem["hint"]  # what to do
        assert get(run.port, f"/issues/{WEEK}/email.html")[0] == 200  # the last good build stays on disk
        article.write_text(good)
        wait_until(lambda: state(run.port)["ok"] is True)
        assert any(line.startswith("Build failed") and ARTICLE.name in line for line in run.lines)


def test_the_article_folder_removed_and_restored(workspace: Path, tmp_path: Path) -> None:
    with running_preview(workspace) as run:
        (workspace / "content").rename(tmp_path / "away")
        wait_until(lambda: state(run.port)["ok"] is False)
        error = state(run.port)["error"]
        assert isinstance(error, dict) and error["title"] == "No articles for this edition"
        (tmp_path / "away").rename(workspace / "content")
        wait_until(lambda: state(run.port)["ok"] is True)
        article = workspace / ARTICLE  # and the folder is watched again
        article.write_text(article.read_text().replace(HEADLINE, "Watched again"))
        wait_until(lambda: b"Watched again" in get(run.port, f"/issues/{WEEK}/email.html")[2])


def test_a_theme_template_added_later_is_watched(workspace: Path) -> None:
    with running_preview(workspace) as run:
        override = workspace / "templates" / "partials" / "masthead.mjml.j2"  # templates/ does not exist yet
        override.parent.mkdir(parents=True)
        override.write_text("{% broken %}\n")
        wait_until(lambda: state(run.port)["ok"] is False)
        error = state(run.port)["error"]
        assert isinstance(error, dict) and error["title"] == "A theme template is broken"
        assert "masthead.mjml.j2" in str(error["message"])
        override.unlink()
        wait_until(lambda: state(run.port)["ok"] is True)


def test_settings_are_read_again_and_command_line_folders_still_win(workspace: Path, tmp_path: Path) -> None:
    articles = tmp_path / "elsewhere"
    (workspace / "content").rename(articles)
    with running_preview(workspace, content_dir=articles) as run:
        assert state(run.port)["ok"] is True
        settings = workspace / "newsletter.toml"
        text = settings.read_text()
        name = re.search(r'^name = "(.*)"$', text, re.MULTILINE)
        assert name is not None
        settings.write_text(text.replace(name.group(0), 'name = "The Renamed Sentinel"'))
        wait_until(lambda: b"The Renamed Sentinel" in get(run.port, f"/issues/{WEEK}/email.html")[2])
        assert run.live.config.content_dir == articles  # --content still applies after the reload
        settings.write_text(text.replace(name.group(0), "name = [broken"))
        wait_until(lambda: state(run.port)["ok"] is False)
        error = state(run.port)["error"]
        assert isinstance(error, dict) and "newsletter.toml" in str(error["message"])
        assert error["title"] == "The settings cannot be used"


def test_force_scheme_settles_the_emails_own_media_queries() -> None:
    html = (
        '<html style="color-scheme: light dark"><head><meta name="color-scheme" content="light dark">'
        "<style>:root { color-scheme: light dark; } .a{color:red}"
        "@media only screen and (prefers-color-scheme: dark) { .a { color: white } }"
        "@media (prefers-color-scheme:light){.b{color:black}}</style></head>"
        '<body><picture><source media="(prefers-color-scheme: dark)" srcset="d.png"></picture>'
        "<p>Article text may say (prefers-color-scheme: dark) and color-scheme: light dark.</p></body></html>"
    )
    dark = force_scheme(html, "dark")
    assert "@media only screen and (min-width: 0px) { .a" in dark
    assert "@media (max-width: 0px){.b" in dark
    assert 'media="(min-width: 0px)"' in dark
    assert 'content="dark"' in dark and ":root { color-scheme: dark; }" in dark
    assert 'style="color-scheme: dark"' in dark
    assert "<p>Article text may say (prefers-color-scheme: dark) and color-scheme: light dark.</p>" in dark
    light = force_scheme(html, "light")
    assert "and (max-width: 0px) { .a" in light and "@media (min-width: 0px){.b" in light


def test_busy_port_is_a_clear_error(workspace: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["preview", "--week", WEEK, "--port", str(port), "--no-open"])
    assert result.exit_code == 1, result.output
    assert f"Port {port} on 127.0.0.1 is already in use" in result.output
    assert "--port 0" in result.output and f"--port {port + 1}" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert not (workspace / "issues" / WEEK / "email.html").exists()  # it failed before building anything


def test_host_that_is_not_this_machine_is_a_clear_error(workspace: Path) -> None:
    # 203.0.113.0/24 is reserved for documentation: never an address of this machine.
    result = CliRunner().invoke(cli, ["preview", "--week", WEEK, "--host", "203.0.113.7", "--port", "0", "--no-open"])
    assert result.exit_code == 1, result.output
    assert "--host 203.0.113.7 is not an address of this machine" in result.output


def test_addresses_to_open_and_host_names_answered() -> None:
    # Pure functions: tests only ever listen on 127.0.0.1.
    assert browser_url("0.0.0.0", 8000) == "http://127.0.0.1:8000/"
    assert browser_url("::", 8000) == "http://[::1]:8000/"
    assert browser_url("192.168.1.20", 8001) == "http://192.168.1.20:8001/"
    assert host_allowed("127.0.0.1", "localhost:8000") and host_allowed("127.0.0.1", None)
    assert not host_allowed("127.0.0.1", "attacker.example")
    # Listening on the network keeps the check: only names the editor adds join this machine's own.
    assert not host_allowed("0.0.0.0", "newsroom-laptop.example:8000")
    assert host_allowed("0.0.0.0", "newsroom-laptop.example:8000", extra=["Newsroom-Laptop.example."])


def test_the_state_carries_the_checks_findings_links_included(workspace: Path) -> None:
    from tests.linkserver import Site, serve_site

    site = Site()
    manifest = workspace / "issues" / "2026-W48" / "issue.toml"  # a subject too long for a phone: a warning
    manifest.write_text(manifest.read_text("utf-8").replace("Tết fair", "Tết fair at Mile Square Park"), "utf-8")
    with serve_site(site) as base:
        article = workspace / "content" / "2026" / "11" / "2026-11-27-dead-link.md"
        article.write_text("---\ntitle: County grants reopen\nurl: https://saigonsentinel.example/grants/\n---\n\n"
                           f"WESTMINSTER – See [the old rules]({base}/missing).\n\n## Analysis\n\nA.\n\n"
                           "## Impact on Vietnamese Americans\n\nB.\n", "utf-8")
        with running_preview(workspace, watch=False) as run:
            wait_until(lambda: (state(run.port)["check"] or {}).get("status") == "done", timeout=30)  # type: ignore[union-attr]
            check = state(run.port)["check"]
            assert isinstance(check, dict) and check["generation"] == state(run.port)["generation"]
            assert [f["code"] for f in check["errors"]] == ["link-broken"]
            assert check["errors"][0]["where"] == "content/2026/11/2026-11-27-dead-link.md:6"
            assert "subject-length" in {f["code"] for f in check["warnings"]}
            assert "/missing" in site.paths()
            assert any(line.startswith("Checked 2026-W48: 1 error") for line in run.lines), run.lines
            # A failed build has no check: the page shows the build's error instead.
            article.write_text("")
            run.live.rebuild()
            assert state(run.port)["ok"] is False and state(run.port)["check"] is None


def test_one_edit_runs_the_offline_check_once_and_shows_its_findings_throughout(
        workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit, through the watcher, the rebuild and the background check: one run of the offline rules.

    The page gets the offline findings at once, and the same ones again with the links' when the
    links are done. The link check waits at a gate the test opens, so the page is seen at each
    stage without relying on timing.
    """
    from newsletter.check import runner

    offline_runs: list[str] = []
    real_offline, real_links = runner.offline_findings, runner.link_findings
    gate = threading.Event()
    gate.set()

    def counted(*args: Any, **kwargs: Any) -> Any:
        offline_runs.append("offline")
        return real_offline(*args, **kwargs)

    def gated(*args: Any, **kwargs: Any) -> Any:
        assert gate.wait(30), "the test never opened the gate"
        return real_links(*args, **kwargs)

    monkeypatch.setattr(runner, "offline_findings", counted)
    monkeypatch.setattr(runner, "link_findings", gated)
    manifest = workspace / "issues" / WEEK / "issue.toml"  # a subject too long for a phone: an offline warning
    manifest.write_text(manifest.read_text("utf-8").replace("Tết fair", "Tết fair at Mile Square Park"), "utf-8")

    def check() -> dict[str, Any]:
        data = state(run.port)
        found = data["check"]
        assert found is None or isinstance(found, dict)
        return {"generation": data["generation"], **(found or {"status": None})}

    with running_preview(workspace) as run:
        wait_until(lambda: check()["status"] == "done", timeout=30)
        assert run.builds() == 1 and offline_runs == ["offline"], run.lines
        gate.clear()  # the next check stops before its links
        article = workspace / ARTICLE
        article.write_text(article.read_text().replace(HEADLINE, "Fee caps on remittances take effect"))
        wait_until(lambda: check()["generation"] == 2 and check()["status"] == "checking-links", timeout=30)
        early = check()
        assert offline_runs == ["offline"] * 2, "the offline rules ran again for the same build"
        assert "subject-length" in {f["code"] for f in early["warnings"]}
        gate.set()
        wait_until(lambda: check()["status"] == "done", timeout=30)
        done = check()
        assert done["generation"] == 2 and run.builds() == 2, run.lines
        assert offline_runs == ["offline"] * 2, "the offline rules ran again for the same build"
        for kind in ("errors", "warnings"):  # what the page showed early, it still shows
            assert all(finding in done[kind] for finding in early[kind]), kind
            added = {f["code"] for f in done[kind] if f not in early[kind]}
            assert all(code.startswith(("link-", "image-", "spam-")) for code in added), added
