"""`newsletter preview` as an editor uses it: the real command in a subprocess, driven by headless Chromium."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from newsletter.cli import cli

pytestmark = [pytest.mark.server]

WEEK = "2026-W48"
PAST = "2026-W47"
ARTICLE = Path("content/2026/11/2026-11-29-remittance-fees.txt")  # the week's lead story
HEADLINE = "New rules cap fees on money transfers to Vietnam"
EDITED = "Remittance fee caps take effect in July"


@dataclass
class Preview:
    process: subprocess.Popen[str]
    url: str
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    def interrupt(self) -> int:
        """Ctrl-C, as in the terminal; the exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=20)


@contextmanager
def preview_command(workspace: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Preview]:
    """`newsletter preview --week 2026-W48 --port 0 ...` in the workspace, until its URL is printed."""
    command = [sys.executable, "-m", "newsletter.cli", "preview", "--week", WEEK, "--port", "0", *args]
    process = subprocess.Popen(command, cwd=workspace, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})})
    lines: queue.Queue[str] = queue.Queue()
    preview = Preview(process, "")

    def pump(stream: Any, into: list[str], announce: bool) -> None:
        for line in stream:
            into.append(line)
            if announce:
                lines.put(line)

    threads = [threading.Thread(target=pump, args=(process.stdout, preview.stdout, True), daemon=True),
               threading.Thread(target=pump, args=(process.stderr, preview.stderr, False), daemon=True)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while not preview.url:
            try:
                match = re.search(r"http://127\.0\.0\.1:\d+/", lines.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                pytest.fail(f"no URL printed; stderr: {''.join(preview.stderr)}")
            if match:
                preview.url = match.group(0)
        yield preview
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for thread in threads:
            thread.join(5)


def poll(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Wait until a JavaScript expression holds (wait_for_function needs eval, which the page's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            pytest.fail(f"still false after {timeout} s: {expression}")
        time.sleep(0.05)


def email_frame(page: Any) -> Any:
    return page.locator("#email").element_handle().content_frame()


def wait_for_email(page: Any, text: str, timeout: float = 10_000) -> Any:
    page.frame_locator("#email").get_by_text(text).first.wait_for(timeout=timeout)
    return email_frame(page)


def background(frame: Any) -> str:
    return str(frame.evaluate("getComputedStyle(document.body).backgroundColor"))


def brightness(rgb: str) -> int:
    return sum(int(n) for n in re.findall(r"\d+", rgb)[:3])


@pytest.mark.browser
def test_editor_session_in_chromium(workspace: Path, browser: Any, artifacts: Path) -> None:
    assert CliRunner().invoke(cli, ["build", "--week", PAST]).exit_code == 0  # a past edition to open
    manifest = workspace / "issues" / WEEK / "issue.toml"  # a subject too long for a phone: the check's one warning
    manifest.write_text(manifest.read_text("utf-8").replace("Tết fair", "Tết fair at Mile Square Park"), "utf-8")
    article = workspace / ARTICLE
    good = article.read_text()
    with preview_command(workspace, "--no-open") as preview:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(preview.url)
        frame = wait_for_email(page, HEADLINE)
        light = background(frame)
        page.screenshot(path=str(artifacts / "preview-600-light.png"))

        # 375 px and dark: the frame is a phone's width and the email's own dark styles apply.
        page.click("[data-width='375']")
        page.click("[data-scheme='dark']")
        poll(page, "document.querySelector('#email').src.includes('scheme=dark')")
        frame = wait_for_email(page, HEADLINE)
        poll(page, "document.querySelector('#email').contentDocument.readyState === 'complete'")
        assert page.locator("#email").bounding_box()["width"] == 375
        assert frame.evaluate("window.innerWidth") == 375
        dark = background(frame)
        assert dark != light and brightness(dark) < 150 < brightness(light), (light, dark)
        assert frame.evaluate("matchMedia('(max-width: 479px)').matches")  # the email's mobile rules apply too
        page.screenshot(path=str(artifacts / "preview-375-dark.png"))

        # The choices live in the URL: a reload (or a bookmark) keeps them.
        assert page.url.endswith("#width=375&scheme=dark&view=email")
        page.reload()
        frame = wait_for_email(page, HEADLINE)
        assert page.locator("[data-width='375']").get_attribute("aria-pressed") == "true"
        assert page.locator("[data-scheme='dark']").get_attribute("aria-pressed") == "true"
        poll(page, "document.querySelector('#email').contentDocument.readyState === 'complete'")
        assert background(email_frame(page)) == dark

        # An edit on disk reaches the open page by itself, in the same page, keeping width, scheme
        # and the editor's place in the email.
        page.evaluate("window.notReloaded = true")
        email_frame(page).evaluate("window.scrollTo(0, 600)")
        # How fast is measured by `make bench` (benchmarks/preview_bench.py), not here: a busy
        # machine must not fail the suite. The deadline only catches a page that never updates.
        article.write_text(good.replace(HEADLINE, EDITED, 1))
        wait_for_email(page, EDITED, timeout=30_000)
        assert page.evaluate("window.notReloaded") is True
        assert page.locator("#email").bounding_box()["width"] == 375
        poll(page, "document.querySelector('#email').contentDocument.readyState === 'complete'")
        assert background(email_frame(page)) == dark
        poll(page, "document.querySelector('#email').contentWindow.scrollY === 600")

        # A broken article: the page says which file and what to do; the server keeps running.
        article.write_text("")
        page.wait_for_selector("#error:not([hidden])", timeout=10_000)
        message = page.locator("#error").inner_text()
        assert ARTICLE.as_posix() in message and "empty" in message
        assert "Write the article, or delete the file" in message  # the build's hint
        assert page.locator("#stage").is_hidden()
        assert "failed" in page.locator("#status").inner_text()
        page.screenshot(path=str(artifacts / "preview-error.png"))

        # Fixing it brings the email back.
        article.write_text(good)
        page.wait_for_selector("#error", state="hidden", timeout=10_000)
        wait_for_email(page, HEADLINE)
        assert page.locator("#stage").is_visible()

        # The plain-text part, the HTML source and the warnings, each one click away.
        page.click("[data-view='text']")
        assert HEADLINE in page.locator("#text").inner_text() and page.locator("#stage").is_hidden()
        page.screenshot(path=str(artifacts / "preview-plain-text.png"))
        page.click("[data-view='source']")
        source = page.locator("#source").inner_text()
        assert source.lower().startswith("<!doctype html") and "prefers-color-scheme: dark" in source
        page.click("[data-view='warnings']")
        assert page.locator("#warning-count").inner_text() == "0" and page.locator("#no-warnings").is_visible()
        # Beside them, `newsletter check`'s findings, once the background check is done.
        page.wait_for_function("document.querySelector('#check-status').textContent.includes('1 warning')",
                               timeout=30_000)
        assert "[subject-length]" in page.locator("#check-list").inner_text()
        assert page.locator("#check-count").inner_text() == "1"
        page.screenshot(path=str(artifacts / "preview-warnings-check.png"))

        # A past edition from the list, as built, read-only.
        page.click("[data-view='email']")
        options = page.locator("#edition option").all_inner_texts()
        assert options == [f"{WEEK} (live)", PAST]
        page.select_option("#edition", PAST)
        poll(page, f"document.querySelector('#email').src.includes('/issues/{PAST}/email.html')")
        assert "read-only" in page.locator("#status").inner_text()
        assert page.locator("#subject").inner_text().endswith("Library opens oral-history archive of boat people")
        assert "edition=" + PAST in page.url
        page.screenshot(path=str(artifacts / "preview-past-edition.png"))
        assert errors == []
        page.close()

        # An editor whose system is in dark mode still sees the light email when Light is chosen.
        context = browser.new_context(color_scheme="dark", viewport={"width": 1024, "height": 800})
        page = context.new_page()
        page.goto(preview.url + "#width=600&scheme=light")
        frame = wait_for_email(page, HEADLINE)
        poll(page, "document.querySelector('#email').contentDocument.readyState === 'complete'")
        assert background(frame) == light
        context.close()

        assert preview.interrupt() == 0
    assert "Traceback" not in "".join(preview.stderr)


def test_ctrl_c_stops_cleanly_and_the_browser_is_opened(workspace: Path, tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    recorder = tmp_path / "browser.py"
    recorder.write_text(f"import sys\nopen({str(opened)!r}, 'w').write(sys.argv[1])\n")
    # webbrowser runs $BROWSER with %s replaced by the URL: a stand-in browser that writes it down.
    with preview_command(workspace, env={"BROWSER": f"{sys.executable} {recorder} %s"}) as preview:
        deadline = time.monotonic() + 10
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened.read_text() == preview.url
        assert preview.url.startswith("http://127.0.0.1:")
        code = preview.interrupt()
    output, errors = "".join(preview.stdout), "".join(preview.stderr)
    assert code == 0, errors
    assert "Stopped the preview." in output
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors
