"""The preview under load and attack: bursts of requests, idle connections, foreign Host names, linked files.

The load test (200 requests at once while 50 connections sit idle) runs in CI like every test
marked ``server``; it asserts that every request is answered, never how fast.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from newsletter import writer
from newsletter.preview.server import HostNames, read_built
from tests.test_preview import WEEK, get, running_preview, wait_until

pytestmark = pytest.mark.server


def test_a_burst_of_requests_with_idle_connections_open_is_answered_in_full(workspace: Path) -> None:
    with running_preview(workspace, watch=False) as run:
        idle = []
        for _ in range(50):  # connected, silent: each holds a thread until the idle timeout
            sock = socket.create_connection(("127.0.0.1", run.port), timeout=30)
            idle.append(sock)
        targets = ["/", "/api/state", f"/issues/{WEEK}/email.html", f"/issues/{WEEK}/email.txt"]
        barrier = threading.Barrier(200, timeout=60)

        def one(i: int) -> int:
            barrier.wait()  # all 200 at the same moment
            return get(run.port, targets[i % len(targets)])[0]

        try:
            with ThreadPoolExecutor(max_workers=200) as pool:
                statuses = list(pool.map(one, range(200), timeout=120))
        finally:
            for sock in idle:
                sock.close()
    assert statuses == [200] * 200


def test_an_idle_connection_is_closed(workspace: Path) -> None:
    with running_preview(workspace, watch=False) as run:
        run.server.idle_timeout = 0.5
        with socket.create_connection(("127.0.0.1", run.port), timeout=30) as sock:
            started = time.monotonic()
            assert sock.recv(1) == b""  # the server hung up on the silent client
            assert time.monotonic() - started < 25
        # A connection that sends half a request and then nothing is closed too (slowloris).
        with socket.create_connection(("127.0.0.1", run.port), timeout=30) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
            assert sock.recv(1) == b""
        assert get(run.port, "/")[0] == 200  # and it still serves


def test_host_names_answered_whatever_the_listening_address() -> None:
    own = socket.gethostname().split(".")[0]
    for bound in ("127.0.0.1", "0.0.0.0", "::"):
        names = HostNames(bound, extra=["newsroom.example"])
        allowed = ["localhost:8000", "LOCALHOST", "preview.localhost", "127.0.0.1:8000", "[::1]:8000", own,
                   f"{own}.local:8000", "newsroom.example", "NewsRoom.Example.:8000", None]
        refused = ["attacker.example", "attacker.example:8000", "127.0.0.1.attacker.example",
                   "localhost.attacker.example", "203.0.113.9:8000", "[2001:db8::1]:8000",
                   "newsroom.example.attacker.example", "", "a b", "x:y:z", "[::1", "localhost:80x"]
        for header in allowed:
            assert names.allows(header), (bound, header)
        for header in refused:
            assert not names.allows(header), (bound, header)


def test_allow_host_reaches_the_server(workspace: Path) -> None:
    from newsletter.config import load_config
    from newsletter.preview import LiveIssue, bind
    from newsletter.weeks import Selection

    live = LiveIssue(load_config(None), Selection(week=WEEK), config_path=None, echo=lambda _: None,
                     echo_error=lambda _: None)
    server = bind("127.0.0.1", 0, live, allowed_hosts=("newsroom.example",))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        assert get(server.port, "/", host="newsroom.example:8000")[0] == 200
        assert get(server.port, "/", host="elsewhere.example:8000")[0] == 403
    finally:
        live.close()
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_only_regular_files_with_one_link_are_served(workspace: Path, tmp_path: Path) -> None:
    secret = workspace / "newsletter.toml"
    with running_preview(workspace, watch=False) as run:
        folder = workspace / "issues" / WEEK
        build = folder / writer.current_build(folder)  # type: ignore[operator]
        assert get(run.port, f"/issues/{WEEK}/email.txt")[0] == 200
        # A hard link: a second name, inside issues/, of a file outside it.
        (build / "email.txt").unlink()
        os.link(secret, build / "email.txt")
        status, _, body = get(run.port, f"/issues/{WEEK}/email.txt")
        assert status == 404 and secret.read_bytes() not in body
        # .current pointed outside the edition's own builds.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / "email.html").write_bytes(secret.read_bytes())
        (folder / ".current").unlink()
        (folder / ".current").symlink_to(elsewhere)
        assert get(run.port, f"/issues/{WEEK}/email.html")[0] == 404
        # An edition folder of plain files (an older version's) is served; a FIFO in it is not, and never hangs.
        legacy = workspace / "issues" / "2026-W47"
        legacy.mkdir(exist_ok=True)
        (legacy / "email.html").write_text("<p>an older build</p>")
        os.mkfifo(legacy / "email.txt")
        assert get(run.port, "/issues/2026-W47/email.html")[2] == b"<p>an older build</p>"
        assert get(run.port, "/issues/2026-W47/email.txt")[0] == 404
        # A link to the edition's own file, made by hand, is still a link.
        (legacy / "issue.json").symlink_to(legacy / "email.html")
        assert get(run.port, "/issues/2026-W47/issue.json")[0] == 404
    assert read_built(workspace / "issues", "2026-W47", "email.html") == b"<p>an older build</p>"
    assert read_built(workspace / "issues", "..", "email.html") is None


def test_a_rebuild_while_pages_load_never_serves_a_missing_file(workspace: Path) -> None:
    """The edition switches in one step: a reader gets the old or the new file, never a 404 in between."""
    with running_preview(workspace, watch=False) as run:
        stop = threading.Event()
        statuses: list[int] = []

        def reader() -> None:
            while not stop.is_set():
                statuses.append(get(run.port, f"/issues/{WEEK}/email.html")[0])

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            for _ in range(5):
                run.live.rebuild()
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
        wait_until(lambda: run.live.outcome.ok)
    assert statuses and set(statuses) == {200}
