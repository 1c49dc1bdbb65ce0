"""The preview's HTTP side: a fixed set of routes, the editions' built files and nothing else."""

from __future__ import annotations

import errno
import ipaddress
import json
import re
import socket
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from newsletter.errors import NewsletterError
from newsletter.preview.live import LiveIssue

# An edition's folder name: 2026-W48, or 2026-11-01_2026-11-09. No dots, no slashes: no way out.
KEY = r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}"
BUILT_FILES = {"email.html": "text/html; charset=utf-8", "email.txt": "text/plain; charset=utf-8",
               "issue.json": "application/json; charset=utf-8"}
ASSETS = {"preview.css": "text/css; charset=utf-8", "preview.js": "text/javascript; charset=utf-8"}
ROUTES = [
    (re.compile(r"/"), "shell"),
    (re.compile(r"/assets/(preview\.css|preview\.js)"), "asset"),
    (re.compile(r"/api/state"), "state"),
    (re.compile(r"/api/events"), "events"),
    (re.compile(rf"/issues/({KEY})/(email\.html|email\.txt|issue\.json)"), "built"),
]
SHELL_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-src 'self'; "
             "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
# The email may load its images and fonts from anywhere, as in a mail client, but never run a script.
EMAIL_CSP = "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
KEEPALIVE_SECONDS = 15.0


def editions(out_dir: Path) -> list[str]:
    """Every built edition under issues/, newest key first."""
    try:
        folders = list(out_dir.iterdir())
    except OSError:
        return []
    keys = [f.name for f in folders if re.fullmatch(KEY, f.name) and not f.is_symlink()
            and f.is_dir() and (f / "email.html").is_file()]
    return sorted(keys, reverse=True)


def built_file(out_dir: Path, key: str, name: str) -> Path | None:
    """The path of one built file, or None: symlinks and anything resolving outside issues/ are refused."""
    if not re.fullmatch(KEY, key) or name not in BUILT_FILES:
        return None
    folder = out_dir / key
    path = folder / name
    if folder.is_symlink() or path.is_symlink() or not path.is_file():
        return None
    try:
        path.resolve(strict=True).relative_to(out_dir.resolve(strict=True))
    except (OSError, ValueError):
        return None
    return path


# -- light and dark -----------------------------------------------------------------------
# Chromium gives a framed page the browser's prefers-color-scheme whatever the iframe's
# `color-scheme` says, so the page cannot switch a frame to dark. Instead the frame loads a
# served variant of email.html in which the email's own scheme media queries are settled:
# the chosen scheme's rules always apply, the other's never. The file on disk is untouched.
_FEATURE = re.compile(r"\(\s*prefers-color-scheme\s*:\s*(dark|light)\s*\)", re.IGNORECASE)
_ALWAYS, _NEVER = "(min-width: 0px)", "(max-width: 0px)"
_STYLE_BLOCK = re.compile(r"(<style\b[^>]*>)(.*?)(</style\s*>)", re.IGNORECASE | re.DOTALL)
_MEDIA_ATTR = re.compile(r"""(\smedia\s*=\s*)("[^"]*"|'[^']*')""", re.IGNORECASE)
_STYLE_ATTR = re.compile(r"""(\sstyle\s*=\s*)("[^"]*"|'[^']*')""", re.IGNORECASE)
_SCHEME_PROPERTY = re.compile(r"(?<![-\w])(color-scheme\s*:\s*)([^;}\"']+)", re.IGNORECASE)
_SCHEME_META = re.compile(
    r"""(<meta\b[^>]*\bname\s*=\s*["']?(?:color-scheme|supported-color-schemes)["']?[^>]*\bcontent\s*=\s*)"""
    r"""("[^"]*"|'[^']*')""", re.IGNORECASE)


def force_scheme(html: str, scheme: str) -> str:
    """email.html as a client in ``scheme`` (light or dark) shows it, whatever the browser prefers."""

    def feature(match: re.Match[str]) -> str:
        return _ALWAYS if match.group(1).lower() == scheme else _NEVER

    def declared(text: str) -> str:
        # color-scheme: light dark would let the browser's own preference pick the canvas colour.
        return _SCHEME_PROPERTY.sub(lambda m: m.group(1) + scheme + (" " if m.group(2).endswith(" ") else ""), text)

    def style_block(match: re.Match[str]) -> str:
        return match.group(1) + declared(_FEATURE.sub(feature, match.group(2))) + match.group(3)

    html = _STYLE_BLOCK.sub(style_block, html)
    html = _MEDIA_ATTR.sub(lambda m: m.group(1) + _FEATURE.sub(feature, m.group(2)), html)
    html = _STYLE_ATTR.sub(lambda m: m.group(1) + declared(m.group(2)), html)
    return _SCHEME_META.sub(lambda m: f'{m.group(1)}"{scheme}"', html)


def _gathered(live: LiveIssue) -> dict[str, Any]:
    """Story id -> {source, url, edited} for the live edition's stories that `newsletter gather` wrote."""
    from newsletter.gather.ledger import gathered_stories
    from newsletter.weeks import resolve

    period = resolve(live.selection, live.config.tz)
    return gathered_stories(live.config.content_dir, period.start, period.end)


# -- the server ---------------------------------------------------------------------------


class PreviewServer(ThreadingHTTPServer):
    """A threading HTTP server that knows the live edition and which Host names it answers to."""

    daemon_threads = True  # an open event stream must not keep Ctrl-C waiting

    def __init__(self, address: tuple[str, int], live: LiveIssue):
        self.live = live
        super().__init__(address, PreviewHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def host(self) -> str:
        return str(self.server_address[0])

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def host_allowed(self, header: str | None) -> bool:
        return host_allowed(self.host, header)


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def host_allowed(bound: str, header: str | None) -> bool:
    """On loopback, answer only to local names: a web page cannot reach the preview by DNS rebinding."""
    if header is None or not is_loopback(bound):
        return True
    name = header.rsplit(":", 1)[0] if not header.endswith("]") else header
    return name.strip("[]").lower() in {"localhost", "127.0.0.1", "::1", bound}


def browser_url(host: str, port: int) -> str:
    """The address to open: a wildcard listener is opened through loopback."""
    if host in {"0.0.0.0", ""}:
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def bind(host: str, port: int, live: LiveIssue) -> PreviewServer:
    """Listen on host:port, or explain in one sentence why it is not possible and what to do."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        raise NewsletterError(f"--host {host}: no such address on this machine. "
                              "Leave --host out to use 127.0.0.1, or give one of this machine's addresses.") from None

    class Server(PreviewServer):
        address_family = family

    try:
        return Server((host, port), live)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            other = port + 1 if port < 65535 else 8000
            raise NewsletterError(
                f"Port {port} on {host} is already in use (another preview, or another program). "
                f"Stop it, or choose another port: `--port {other}`, or `--port 0` for any free port."
            ) from None
        if error.errno == errno.EACCES:
            raise NewsletterError(f"Port {port} needs administrator rights. Use a port above 1023, "
                                  "e.g. `--port 8000`, or `--port 0` for any free port.") from None
        if error.errno == errno.EADDRNOTAVAIL:
            raise NewsletterError(f"--host {host} is not an address of this machine. "
                                  "Leave --host out to use 127.0.0.1.") from None
        raise


def _asset(name: str) -> bytes:
    return resources.files("newsletter.preview").joinpath("assets", name).read_bytes()


class PreviewHandler(BaseHTTPRequestHandler):
    """GET and HEAD on the routes above; everything else is 404 (or 405 for other methods)."""

    server: PreviewServer
    server_version = "newsletter-preview"
    sys_version = ""

    def do_GET(self) -> None:
        self._handle(send_body=True)

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    def do_POST(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"Method not allowed\n", "text/plain; charset=utf-8",
                   extra={"Allow": "GET, HEAD"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal is for build results, not one line per request."""

    def _handle(self, *, send_body: bool) -> None:
        if not self.server.host_allowed(self.headers.get("Host")):
            self._send(HTTPStatus.FORBIDDEN, b"Unknown Host header\n", "text/plain; charset=utf-8", send_body)
            return
        raw, _, query = self.path.partition("?")
        # Decode once: "%2e%2e" becomes "..", which no route accepts; "%252e" stays encoded.
        path = unquote(raw.partition("#")[0], errors="replace")
        params = parse_qs(query)
        for pattern, name in ROUTES:
            match = pattern.fullmatch(path)
            if match:
                getattr(self, f"_route_{name}")(match, params, send_body)
                return
        self._not_found(send_body)

    # -- routes -------------------------------------------------------------------------

    def _route_shell(self, match: re.Match[str], params: dict[str, list[str]], send_body: bool) -> None:
        self._send(HTTPStatus.OK, _asset("index.html"), "text/html; charset=utf-8", send_body,
                   extra={"Content-Security-Policy": SHELL_CSP})

    def _route_asset(self, match: re.Match[str], params: dict[str, list[str]], send_body: bool) -> None:
        name = match.group(1)
        self._send(HTTPStatus.OK, _asset(name), ASSETS[name], send_body)

    def _route_state(self, match: re.Match[str], params: dict[str, list[str]], send_body: bool) -> None:
        self._send(HTTPStatus.OK, json.dumps(self._state()[1]).encode(), "application/json", send_body)

    def _route_events(self, match: re.Match[str], params: dict[str, list[str]], send_body: bool) -> None:
        """Server-Sent Events: the state now, then again after every change, until the page goes."""
        self.send_response(HTTPStatus.OK)
        self._common_headers("text/event-stream; charset=utf-8")
        self.end_headers()
        if not send_body:
            return
        live = self.server.live
        seen = -1
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while not live.closed:
                version, state = self._state()
                if version != seen:
                    seen = version
                    self.wfile.write(f"event: state\ndata: {json.dumps(state)}\n\n".encode())
                else:
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
                live.wait(seen, KEEPALIVE_SECONDS)
        except (BrokenPipeError, ConnectionResetError):
            return  # the page was closed or reloaded

    def _route_built(self, match: re.Match[str], params: dict[str, list[str]], send_body: bool) -> None:
        key, name = match.groups()
        path = built_file(self.server.live.config.out_dir, key, name)
        if path is None:
            self._not_found(send_body)
            return
        try:
            data = path.read_bytes()
        except OSError:
            self._not_found(send_body)
            return
        extra = {}
        if name == "email.html":
            extra["Content-Security-Policy"] = EMAIL_CSP
            scheme = params.get("scheme", [""])[0]
            if scheme in {"light", "dark"}:
                data = force_scheme(data.decode("utf-8", "replace"), scheme).encode()
        self._send(HTTPStatus.OK, data, BUILT_FILES[name], send_body, extra=extra)

    # -- helpers ------------------------------------------------------------------------

    def _state(self) -> tuple[int, dict[str, Any]]:
        live = self.server.live
        version, state = live.state()
        state["editions"] = editions(live.config.out_dir)
        state["gathered"] = _gathered(live)
        state["workspace"] = str(live.config.root)
        return version, state

    def _not_found(self, send_body: bool) -> None:
        self._send(HTTPStatus.NOT_FOUND, b"Not found\n", "text/plain; charset=utf-8", send_body)

    def _common_headers(self, content_type: str) -> None:
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, send_body: bool = True,
              extra: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self._common_headers(content_type)
            self.send_header("Content-Length", str(len(body)))
            for header, value in (extra or {}).items():
                self.send_header(header, value)
            self.end_headers()
            if send_body:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser moved on before the answer was complete
