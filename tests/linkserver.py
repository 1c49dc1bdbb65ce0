"""A loopback website for link-check tests: one path per answer a link can get, every request recorded.

Paths: /ok 200, /moved 301 -> /ok, /chain 302 -> /moved, /missing 404, /gone 410, /error 500,
/slow (answers after ``slow`` seconds), /head-refused (405 to HEAD, 200 to GET), /hold (200
after ``hold`` seconds, to see how many requests run at once), /big.jpg (2 MB, Content-Length),
/streamed.jpg (1.5 MB, no Content-Length), /small.png; anything else is 404. ``never_url`` is
a socket that accepts connections and never answers.
"""

from __future__ import annotations

import functools
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme


@dataclass
class Seen:
    method: str
    path: str
    user_agent: str


@dataclass
class Traffic:
    """Shared by several sites, to count requests in flight across all of them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    most: int = 0


class Site:
    def __init__(self, *, slow: float = 3.0, hold: float = 0.0, traffic: Traffic | None = None) -> None:
        self.slow = slow
        self.hold = hold
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0  # the most requests this site served at once
        self.traffic = traffic or Traffic()
        self.base = ""

    def paths(self, method: str | None = None) -> list[str]:
        with self.lock:
            return [r.path for r in self.requests if method is None or r.method == method]

    def answer(self, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        route = path.split("?", 1)[0]
        if route == "/ok":
            return 200, {"Content-Type": "text/html"}, b"<p>ok</p>"
        if route == "/moved":
            return 301, {"Location": "/ok"}, b""
        if route == "/chain":
            return 302, {"Location": f"{self.base}/moved"}, b""
        if route == "/loop":
            return 302, {"Location": "/loop"}, b""
        if route == "/gone":
            return 410, {}, b"gone"
        if route == "/error":
            return 500, {}, b"oops"
        if route == "/slow":
            time.sleep(self.slow)
            return 200, {}, b"late"
        if route == "/hold":
            time.sleep(self.hold)
            return 200, {}, b"held"
        if route == "/head-refused":
            return (405, {"Allow": "GET"}, b"") if method == "HEAD" else (200, {}, b"<p>fine</p>")
        if route == "/big.jpg":
            return 200, {"Content-Type": "image/jpeg"}, b"\xff" * 2_000_000
        if route == "/streamed.jpg":
            return 200, {"Content-Type": "image/jpeg", "Transfer-Encoding": "chunked"}, b"\xff" * 1_500_000
        if route == "/small.png":
            return 200, {"Content-Type": "image/png"}, b"\x89PNG" + b"\0" * 500
        return 404, {}, b"not found"


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve(send_body=True)

        def do_HEAD(self) -> None:
            self._serve(send_body=False)

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self, send_body: bool) -> None:
            with site.lock:
                site.requests.append(Seen(self.command, self.path, self.headers.get("User-Agent", "")))
                site.in_flight += 1
                site.most = max(site.most, site.in_flight)
            with site.traffic.lock:
                site.traffic.in_flight += 1
                site.traffic.most = max(site.traffic.most, site.traffic.in_flight)
            try:
                status, headers, body = site.answer(self.command, self.path)
                self.send_response(status)
                chunked = headers.pop("Transfer-Encoding", None) == "chunked"
                for name, value in headers.items():
                    self.send_header(name, value)
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body and chunked:
                    for start in range(0, len(body), 65536):
                        piece = body[start:start + 65536]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                elif send_body:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the checker stops reading a big image once it knows enough
            finally:
                with site.lock:
                    site.in_flight -= 1
                with site.traffic.lock:
                    site.traffic.in_flight -= 1

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: a checker that hangs up on a slow answer is expected, not a failure to print."""


@contextmanager
def serve_site(site: Site) -> Iterator[str]:
    """Serve ``site`` over HTTPS on 127.0.0.1 (a free port); yields its base URL.

    HTTPS because an email's links are: the build upgrades http:// to https://. The certificate
    comes from a test authority (trustme) that the checker trusts while the site is served,
    through SSL_CERT_FILE, which httpx reads when it makes a client.
    """
    server = _Server(("127.0.0.1", 0), _handler(site))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    _authority().issue_cert("127.0.0.1").configure_cert(context)
    # The handshake happens in the request's own thread, so a client that never sends a
    # ClientHello cannot hold up the server's accept loop.
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    site.base = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    previous = os.environ.get("SSL_CERT_FILE")
    with _authority().cert_pem.tempfile() as ca_file:
        os.environ["SSL_CERT_FILE"] = ca_file
        try:
            yield site.base
        finally:
            if previous is None:
                os.environ.pop("SSL_CERT_FILE", None)
            else:
                os.environ["SSL_CERT_FILE"] = previous
            server.shutdown()
            server.server_close()


@functools.cache
def _authority() -> trustme.CA:
    return trustme.CA()


@contextmanager
def never_answering() -> Iterator[str]:
    """A port that accepts connections (the kernel completes them) and never says a word."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"  # an email's links are https (see serve_site)
    finally:
        listener.close()
