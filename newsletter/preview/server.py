"""The preview's HTTP side: a fixed set of routes, the editions' built files and nothing else."""

from __future__ import annotations

import contextlib
import errno
import functools
import ipaddress
import json
import os
import re
import socket
import stat
import threading
import time
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from newsletter.errors import NewsletterError
from newsletter.preview.live import LiveIssue
from newsletter.writer import build_named, link_target

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
IDLE_SECONDS = 20.0  # a connection that sends no complete request within this is closed
LISTEN_QUEUE = 256  # connections waiting to be accepted; a burst of page loads must not be dropped
MAX_SERVED = 64 * 1024 * 1024


def editions(out_dir: Path) -> list[str]:
    """Every built edition under issues/, newest key first."""
    try:
        folders = list(out_dir.iterdir())
    except OSError:
        return []
    keys = [f.name for f in folders if re.fullmatch(KEY, f.name) and not f.is_symlink()
            and f.is_dir() and (f / "email.html").is_file()]
    return sorted(keys, reverse=True)


# Opening relative to an open folder, never following a link, closes the gap between a check
# and the open (a link swapped in meanwhile). Windows has neither; it gets the checks by path.
_AT = {os.open, os.stat, os.readlink} <= os.supports_dir_fd and hasattr(os, "O_NOFOLLOW")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def read_built(out_dir: Path, key: str, name: str) -> bytes | None:
    """One built file's bytes, or None when it must not be served.

    Served: a regular file with a single link (``st_nlink == 1``), reached from ``out_dir``
    without following any symbolic link except the edition's own, which the build writes and
    whose targets are checked (``issues/<key>/<name> -> .current/<name>``, ``.current ->
    .builds/<id>``; see ``newsletter.writer``). Refused: symbolic links anywhere else, hard
    links (a second name of a file elsewhere), folders, devices and FIFOs.
    """
    if not re.fullmatch(KEY, key) or name not in BUILT_FILES:
        return None
    if not _AT:
        return _read_built_by_path(out_dir, key, name)
    opened: list[int] = []

    def enter(part: str, parent: int) -> int:
        opened.append(os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=parent))
        return opened[-1]

    try:
        opened.append(os.open(out_dir, os.O_RDONLY | _DIRECTORY))
        edition = enter(key, opened[0])
        parent = edition
        if stat.S_ISLNK(os.stat(name, dir_fd=edition, follow_symlinks=False).st_mode):
            build = build_named(os.readlink(".current", dir_fd=edition))
            if os.readlink(name, dir_fd=edition) != link_target(name) or build is None:
                return None
            for part in build.split("/"):
                parent = enter(part, parent)
        opened.append(os.open(name, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0), dir_fd=parent))
        return _regular_contents(opened[-1])
    except OSError:
        return None
    finally:
        for fd in opened:
            os.close(fd)


def _regular_contents(fd: int) -> bytes | None:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size > MAX_SERVED:
        return None
    with open(fd, "rb", closefd=False) as handle:
        return handle.read(MAX_SERVED + 1)[:MAX_SERVED]


def _read_built_by_path(out_dir: Path, key: str, name: str) -> bytes | None:
    folder = out_dir / key
    path = folder / name
    try:
        if folder.is_symlink() or not folder.is_dir():
            return None
        if path.is_symlink():
            build = build_named(os.readlink(folder / ".current"))
            if os.readlink(path) != link_target(name) or build is None:
                return None
            parts = build.split("/")
            if any((folder.joinpath(*parts[: i + 1])).is_symlink() for i in range(len(parts))):
                return None
            path = folder.joinpath(*parts, name)
            if path.is_symlink():
                return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    try:
        return _regular_contents(fd)
    except OSError:
        return None
    finally:
        os.close(fd)


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
    """A threading HTTP server that knows the live edition and which Host names it answers to.

    It queues up to LISTEN_QUEUE connections while busy, and closes a connection that sends no
    complete request within ``idle_timeout`` seconds, so idle connections cannot pile up.
    """

    daemon_threads = True  # an open event stream must not keep Ctrl-C waiting
    request_queue_size = LISTEN_QUEUE

    def __init__(self, address: tuple[str, int], live: LiveIssue, allowed_hosts: Iterable[str] = ()):
        self.live = live
        self._extras: tuple[tuple[int, int], dict[str, Any]] | None = None
        self.idle_timeout = IDLE_SECONDS
        super().__init__(address, PreviewHandler)
        self.hosts = HostNames(self.host, allowed_hosts)

    def extras(self, version: int) -> dict[str, Any]:
        """What the state adds to the build's outcome: the editions, the gathered stories, the workspace.

        Listing issues/ and hashing the gathered articles is worth doing once per change of the
        state and at most once a keep-alive period, not for every open page on every tick.
        """
        key = (version, int(time.monotonic() // KEEPALIVE_SECONDS))
        cached = self._extras
        if cached is None or cached[0] != key:
            live = self.live
            cached = (key, {"editions": editions(live.config.out_dir), "gathered": _gathered(live),
                            "workspace": str(live.config.root)})
            self._extras = cached
        return cached[1]

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
        return self.hosts.allows(header)


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class HostNames:
    """The Host header values the preview answers to, whatever address it listens on.

    A web page elsewhere can point its own name at this machine (DNS rebinding) and then read
    the preview as if it were that site; its requests carry its own name in Host. So only
    these are answered: ``localhost`` and ``*.localhost``, this machine's names (its host
    name, its fully qualified name, ``<name>.local`` as phones on the same network use it),
    an address of this machine written as such (a name cannot be rebound if it is an
    address), and the names the editor adds (``--allow-host``).
    """

    def __init__(self, bound: str = "127.0.0.1", extra: Iterable[str] = ()):
        self.bound = bound
        self.extra = frozenset(n for n in (_plain_name(name) for name in extra) if n)
        self._machine: frozenset[str] | None = None
        self._lock = threading.Lock()

    def machine_names(self) -> frozenset[str]:
        """This machine's own names, looked up once (a fully qualified name may need DNS)."""
        with self._lock:
            if self._machine is None:
                names = {socket.gethostname()}
                with contextlib.suppress(OSError):
                    names.add(socket.getfqdn())
                short = {name.split(".")[0] for name in names}
                every = {*names, *short, *(f"{name}.local" for name in short)}
                self._machine = frozenset(n for n in map(_plain_name, every) if n)
            return self._machine

    def allows(self, header: str | None) -> bool:
        if header is None:
            return True  # only a browser sends Host on its own; HTTP/1.0 tools may leave it out
        name = _host_of(header)
        if not name:
            return False
        if name == "localhost" or name.endswith(".localhost") or name in self.extra:
            return True
        try:
            address = ipaddress.ip_address(name.split("%")[0])
        except ValueError:
            return name in self.machine_names()
        return address.is_loopback or name == self.bound or _own_address(name)

    def describe(self) -> str:
        names = ["localhost", *sorted(self.machine_names()), "this machine's addresses", *sorted(self.extra)]
        return ", ".join(dict.fromkeys(names))


def host_allowed(bound: str, header: str | None, extra: Iterable[str] = ()) -> bool:
    """Whether a preview listening on ``bound`` answers a request with this Host header (see HostNames)."""
    return HostNames(bound, extra).allows(header)


def _host_of(header: str) -> str | None:
    """The name or address in a Host header, lower case, without port, brackets or final dot."""
    header = header.strip()
    if header.startswith("["):
        end = header.find("]")
        if end < 0 or header[end + 1:] and not re.fullmatch(r":[0-9]{1,5}", header[end + 1:]):
            return None
        return _plain_name(header[1:end])
    name, _, port = header.partition(":")
    if port and not re.fullmatch(r"[0-9]{1,5}", port):
        return None
    return _plain_name(name)


def _plain_name(name: str) -> str | None:
    name = name.strip().rstrip(".").lower()
    return name if name and re.fullmatch(r"[0-9a-z.:%_-]+", name) else None


@functools.lru_cache(maxsize=256)
def _own_address(address: str) -> bool:
    """Whether ``address`` belongs to this machine: only then can a socket be bound to it."""
    try:
        family, kind, proto, _, where = socket.getaddrinfo(address, 0, type=socket.SOCK_STREAM,
                                                           flags=socket.AI_NUMERICHOST)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.bind(where)
    except OSError:
        return False
    return True


def browser_url(host: str, port: int) -> str:
    """The address to open: a wildcard listener is opened through loopback."""
    if host in {"0.0.0.0", ""}:
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def bind(host: str, port: int, live: LiveIssue, allowed_hosts: Iterable[str] = ()) -> PreviewServer:
    """Listen on host:port, or explain in one sentence why it is not possible and what to do."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        raise NewsletterError(f"--host {host}: no such address on this machine. "
                              "Leave --host out to use 127.0.0.1, or give one of this machine's addresses.") from None

    class Server(PreviewServer):
        address_family = family

    try:
        return Server((host, port), live, allowed_hosts)
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

    def setup(self) -> None:
        super().setup()
        # Waiting for a request (or for a client to take an answer) ends after this: an idle
        # connection is closed instead of holding a thread forever.
        self.connection.settimeout(self.server.idle_timeout)

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
        except OSError:
            return  # the page was closed or reloaded, or stopped reading

    def _route_built(self, match: re.Match[str], params: dict[str, list[str]], send_body: bool) -> None:
        key, name = match.groups()
        data = read_built(self.server.live.config.out_dir, key, name)
        if data is None:
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
        state.update(self.server.extras(version))
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
        except OSError:
            pass  # the browser moved on before the answer was complete, or stopped reading
