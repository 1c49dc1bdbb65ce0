"""A publication's website on 127.0.0.1 for `newsletter gather` tests: feeds, a WordPress REST API, faults.

Pages are registered by path (a fixed answer, or a function of the query); faults queued for a
path are answered first, once each: a status with headers (429 with Retry-After, 500), a delay
past the client's timeout, or a body cut off after some bytes while Content-Length announces it
all. ETag and Last-Modified validators are honoured with 304, as a real server does.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    cut_after: int | None = None  # send this many bytes of the body, then drop the connection


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


Route = Answer | Callable[[dict[str, list[str]]], Answer]


class Site:
    """Routes and faults; ``serve`` puts it on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.faults: dict[str, list[Answer]] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.base_url = ""

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def page(self, path: str, body: bytes | str, content_type: str, **headers: str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Answer(200, data, content_type, {k.replace("_", "-"): v for k, v in headers.items()})

    def fault(self, path: str, *answers: Answer) -> None:
        self.faults.setdefault(path, []).extend(answers)

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def answer(self, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Answer:
        with self.lock:
            self.requests.append(Request(path, query, headers))
            queued = self.faults.get(path)
            if queued:
                return queued.pop(0)
            route = self.routes.get(path)
        if route is None:
            return Answer(404, b"<!doctype html><title>Not found</title><h1>Page not found</h1>")
        answer = route(query) if callable(route) else route
        etag = answer.headers.get("ETag")
        modified = answer.headers.get("Last-Modified")
        if answer.status == 200 and (
            (etag and headers.get("if-none-match") == etag)
            or (modified and not etag and headers.get("if-modified-since") == modified)
        ):
            return Answer(304, b"", answer.content_type, dict(answer.headers))
        return answer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        answer = self.server.site.answer(parts.path, parse_qs(parts.query, keep_blank_values=True), headers)
        if answer.delay:
            time.sleep(answer.delay)
        try:
            self.send_response(answer.status)
            if answer.status != 304:
                self.send_header("Content-Type", answer.content_type)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(0 if answer.status == 304 else len(answer.body)))
            self.end_headers()
            if answer.status == 304:
                return
            if answer.cut_after is not None:
                self.wfile.write(answer.body[: answer.cut_after])
                self.wfile.flush()
                # RST: the client sees the connection drop with the body incomplete.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            self.wfile.write(answer.body)
        except OSError:
            self.close_connection = True  # the client gave up (a timeout test)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: Site


@contextmanager
def serve(site: Site) -> Iterator[str]:
    """Run ``site`` on a free port of 127.0.0.1; yields its base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.site = site
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-site", daemon=True)
    thread.start()
    try:
        yield site.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
