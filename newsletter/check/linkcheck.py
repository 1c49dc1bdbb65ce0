"""Checking addresses over HTTP with httpx: HEAD first, GET where HEAD is refused, politely bounded, cached a day.

Politeness and bounds: at most ``max_requests`` requests at once and ``per_host`` to one host
(host and port), ``timeout`` seconds per request (connect to last byte), ``time_limit``
seconds for the whole run; an honest User-Agent. Answers are remembered in the edition's
folder (``links.json``, see ``REMEMBER_SECONDS``), so a second check is instant; a broken link
is always asked again, so a fix shows at once. Redirects are followed by hand (at most 10) to report
the final address. Which addresses must never be fetched is the caller's decision (see
``newsletter.check.runner``): this module fetches what it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from msgspec import Struct
from msgspec.structs import asdict, replace

from newsletter.errors import OutputError
from newsletter.writer import write_file

OK, REDIRECT, BROKEN, UNRESOLVABLE, UNAVAILABLE, UNCHECKED = (
    "ok", "redirect", "broken", "unresolvable", "unavailable", "unchecked")
CACHE_NAME = "links.json"
# How long an answer is remembered: a working link for a day; a site that was down or slow for a
# quarter of an hour (a second run is instant, and a down site is not hammered on every save in
# the preview); a broken link never, so the fix of a page shows at once.
REMEMBER_SECONDS = {OK: 24 * 3600, REDIRECT: 24 * 3600, UNAVAILABLE: 15 * 60}
LARGE_IMAGE_BYTES = 1_000_000
MAX_REDIRECTS = 10
_REDIRECTS = {301, 302, 303, 307, 308}
_GONE = {404, 410}
# getaddrinfo's answers for "this name does not exist" (as opposed to "cannot ask right now").
_NO_SUCH_NAME = {getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA", "EAI_FAIL") if hasattr(socket, name)}
Progress = Callable[[int, int], Any]


class LinkResult(Struct, frozen=True):
    """What one address answered. ``size`` is an image's byte count when known (Content-Length or counted)."""

    url: str
    kind: str  # "link" or "image"
    outcome: str  # OK, REDIRECT, BROKEN, UNRESOLVABLE, UNAVAILABLE or UNCHECKED
    status: int | None = None
    final_url: str | None = None
    detail: str = ""
    size: int | None = None
    cached: bool = False


class _Answer(Struct):
    status: int
    url: str  # the address that gave this answer, after redirects
    hops: int
    size: int | None


class _Problem(Exception):
    def __init__(self, outcome: str, detail: str):
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


def user_agent(contact: str = "") -> str:
    """Who is asking: this tool, its version and the publication's site, so a site owner can tell."""
    from newsletter import __version__

    where = f"; +{contact}" if contact else ""
    return f"newsletter-check/{__version__} (link check of an email before it is sent{where})"


class LinkChecker:
    """Checks many addresses at once within the bounds above; ``check`` blocks until done or out of time."""

    def __init__(self, *, user_agent: str, timeout: float = 10.0, time_limit: float = 60.0, max_requests: int = 8,
                 per_host: int = 2, cache: Path | None = None, save_cache: bool = True,
                 transport: httpx.AsyncBaseTransport | None = None, progress: Progress | None = None,
                 stop: threading.Event | None = None, clock: Callable[[], float] = time.time):
        self.user_agent = user_agent
        self.timeout = timeout
        self.time_limit = time_limit
        self.max_requests = max_requests
        self.per_host = per_host
        self.cache = cache
        self.save_cache = save_cache
        self.transport = transport
        self.progress = progress
        self.stop = stop
        self.clock = clock

    def check(self, targets: Iterable[tuple[str, str]]) -> list[LinkResult]:
        """One result per (url, kind), in the order given; remembered answers come back marked ``cached``."""
        wanted = list(dict.fromkeys(targets))
        remembered = self._load()
        results: dict[tuple[str, str], LinkResult] = {}
        todo: list[tuple[str, str]] = []
        for url, kind in wanted:
            hit = remembered.get(f"{kind} {url}")
            if hit is not None:
                results[(url, kind)] = hit
            else:
                todo.append((url, kind))
        if todo:
            for result in _run_async(self._run, todo):
                results[(result.url, result.kind)] = result
            self._save([results[t] for t in todo])
        return [results[t] for t in wanted]

    # -- the cache ----------------------------------------------------------------------------

    def _load(self) -> dict[str, LinkResult]:
        if self.cache is None:
            return {}
        try:
            data = json.loads(self.cache.read_text("utf-8"))
            entries = data["results"]
        except (OSError, ValueError, KeyError, TypeError):
            return {}  # no cache, or a damaged one: it is only a cache
        fresh: dict[str, LinkResult] = {}
        now = self.clock()
        for key, entry in entries.items() if isinstance(entries, dict) else ():
            try:
                if now - float(entry.pop("checked")) < REMEMBER_SECONDS.get(entry["outcome"], 0):
                    fresh[key] = replace(LinkResult(**entry), cached=True)
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
        return fresh

    def _save(self, new: list[LinkResult]) -> None:
        # The file is read again, not taken from _load: another check (the preview's) may have
        # written it meanwhile, and its fresh answers are kept.
        if self.cache is None or not self.save_cache or not self.cache.parent.is_dir():
            return
        keep = [r for r in new if r.outcome in REMEMBER_SECONDS]
        if not keep:
            return
        now = self.clock()
        entries: dict[str, dict[str, Any]] = {}
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AttributeError):
            old = json.loads(self.cache.read_text("utf-8"))["results"]
            entries = {k: v for k, v in old.items()
                       if now - float(v["checked"]) < REMEMBER_SECONDS.get(v["outcome"], 0)}
        for result in keep:
            entry = asdict(result)
            entry.pop("cached")
            entries[f"{result.kind} {result.url}"] = {**entry, "checked": now}
        data = {"about": "newsletter check: links that worked (remembered a day) or were down (15 minutes). "
                         "Safe to delete.", "user_agent": self.user_agent, "results": entries}
        # A cache that cannot be written costs time, not correctness.
        with contextlib.suppress(OSError, OutputError):
            write_file(self.cache, json.dumps(data, ensure_ascii=False, indent=1) + "\n")

    # -- fetching -----------------------------------------------------------------------------

    async def _run(self, todo: list[tuple[str, str]]) -> list[LinkResult]:
        self._everyone = asyncio.Semaphore(self.max_requests)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(self.per_host))
        self._names: dict[tuple[str, int], asyncio.Future[str | None]] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.time_limit
        limits = httpx.Limits(max_connections=self.max_requests, max_keepalive_connections=self.max_requests)
        headers = {"User-Agent": self.user_agent, "Accept": "text/html,application/xhtml+xml,image/*,*/*;q=0.8"}
        async with httpx.AsyncClient(transport=self.transport, headers=headers, limits=limits,
                                     timeout=httpx.Timeout(self.timeout), follow_redirects=False) as client:
            tasks = [asyncio.create_task(self._check_one(client, url, kind)) for url, kind in todo]
            pending: set[asyncio.Task[LinkResult]] = set(tasks)
            self._report(len(todo) - len(pending), len(todo))
            while pending:
                remaining = deadline - loop.time()
                if remaining <= 0 or (self.stop is not None and self.stop.is_set()):
                    break
                done, pending = await asyncio.wait(pending, timeout=min(0.2, remaining),
                                                   return_when=asyncio.FIRST_COMPLETED)
                if done:
                    self._report(len(todo) - len(pending), len(todo))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        results = []
        for task, (url, kind) in zip(tasks, todo, strict=True):
            if task.cancelled() or not task.done():
                results.append(LinkResult(url, kind, UNCHECKED, detail=f"not checked within {self.time_limit:g} s"))
            else:
                results.append(task.result())
        return results

    def _report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)

    async def _check_one(self, client: httpx.AsyncClient, url: str, kind: str) -> LinkResult:
        try:
            answer = await self._follow(client, "HEAD", url, kind)
            if answer.status >= 400 or (kind == "image" and answer.size is None and answer.status < 300):
                # Many servers refuse HEAD (405, 501, even 404 or 403); an image's size may need its bytes.
                answer = await self._follow(client, "GET", url, kind)
        except _Problem as problem:
            if problem.outcome == UNAVAILABLE and "closed the connection" in problem.detail:
                try:  # some servers drop HEAD requests instead of refusing them
                    answer = await self._follow(client, "GET", url, kind)
                except _Problem as again:
                    return LinkResult(url, kind, again.outcome, detail=again.detail)
            else:
                return LinkResult(url, kind, problem.outcome, detail=problem.detail)
        return self._judge(url, kind, answer)

    def _judge(self, url: str, kind: str, answer: _Answer) -> LinkResult:
        status = answer.status
        final = answer.url if answer.hops else None
        after = f" (after redirecting to {answer.url})" if answer.hops else ""
        phrase = _phrase(status)
        if status < 300 or status == 304:
            return LinkResult(url, kind, REDIRECT if answer.hops else OK, status, final, size=answer.size)
        if status in _GONE:
            return LinkResult(url, kind, BROKEN, status, final, f"answers {phrase}{after}")
        if status in _REDIRECTS:
            return LinkResult(url, kind, UNAVAILABLE, status, final, f"redirects more than {MAX_REDIRECTS} times")
        if status >= 500:
            return LinkResult(url, kind, UNAVAILABLE, status, final, f"answers {phrase}{after}")
        return LinkResult(url, kind, UNAVAILABLE, status, final,
                          f"answers {phrase}{after}; the site may refuse automated checks")

    async def _follow(self, client: httpx.AsyncClient, method: str, url: str, kind: str) -> _Answer:
        current = url
        for hop in range(MAX_REDIRECTS + 1):
            status, headers, size = await self._request(client, method, current,
                                                        count=kind == "image" and method == "GET")
            location = headers.get("location")
            if status in _REDIRECTS and location and hop < MAX_REDIRECTS:
                current = urljoin(current, location.strip())
                continue
            if size is None and kind == "image" and status < 300:
                length = headers.get("content-length", "")
                size = int(length) if length.isascii() and length.isdigit() else None
            return _Answer(status, current, hop, size)
        raise AssertionError("unreachable: the last hop returns")  # pragma: no cover

    async def _request(self, client: httpx.AsyncClient, method: str, url: str,
                       count: bool) -> tuple[int, httpx.Headers, int | None]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _Problem(BROKEN, "is not a web address a reader can open")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if self.transport is None and not _proxied(parts.scheme, parts.hostname):
            # Behind a proxy the proxy looks names up (a local lookup could fail where it would not); an
            # injected transport (tests, a custom client) decides for itself.
            await self._resolve(parts.hostname, port)
        async with self._hosts[f"{parts.hostname}:{port}"], self._everyone:
            try:
                async with asyncio.timeout(self.timeout), client.stream(method, url) as response:
                    size = None
                    if count and response.status_code < 300:
                        size = 0
                        async for chunk in response.aiter_raw():
                            size += len(chunk)
                            if size > LARGE_IMAGE_BYTES:
                                break
                    return response.status_code, response.headers, size
            except (TimeoutError, httpx.TimeoutException):
                raise _Problem(UNAVAILABLE, f"gave no answer within {self.timeout:g} s") from None
            except httpx.ProxyError as error:
                raise _Problem(UNAVAILABLE, f"could not be reached through the proxy ({error})") from None
            except httpx.ConnectError as error:
                text = str(error)
                if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
                    raise _Problem(UNAVAILABLE, "has a TLS certificate that is not valid") from None
                raise _Problem(UNAVAILABLE, "refused the connection") from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                raise _Problem(UNAVAILABLE, "closed the connection without an answer") from None
            except (httpx.InvalidURL, httpx.UnsupportedProtocol):
                raise _Problem(BROKEN, "is not a valid web address") from None
            except httpx.HTTPError as error:
                raise _Problem(UNAVAILABLE, f"could not be fetched ({type(error).__name__})") from None

    async def _resolve(self, host: str, port: int) -> None:
        """Look each host up once; a name that does not exist is told apart from a lookup that failed."""
        key = (host, port)
        future = self._names.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._names[key] = future
            try:
                found = await self._lookup(host, port)
            except BaseException:
                future.cancel()  # the run is out of time: the others waiting on this name stop too
                raise
            future.set_result(found)
        problem = await future
        if problem is not None:
            outcome, _, detail = problem.partition(":")
            raise _Problem(outcome, detail)

    async def _lookup(self, host: str, port: int) -> str | None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            if error.errno in _NO_SUCH_NAME:
                return f"{UNRESOLVABLE}:has a host name, {host}, that does not exist"
            return f"{UNAVAILABLE}:could not be looked up ({error.strerror}); are you offline?"
        except TimeoutError:
            return f"{UNAVAILABLE}:could not be looked up within {self.timeout:g} s; are you offline?"
        return None


def _run_async(function: Callable[[list[tuple[str, str]]], Coroutine[Any, Any, list[LinkResult]]],
               todo: list[tuple[str, str]]) -> list[LinkResult]:
    """asyncio.run, or in a thread of its own where this thread already runs a loop (Jupyter, Playwright)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(function(todo))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="linkcheck") as pool:
        return pool.submit(lambda: asyncio.run(function(todo))).result()


def _proxied(scheme: str, host: str) -> bool:
    """Whether httpx would send this request through a proxy from the environment (HTTPS_PROXY, NO_PROXY)."""
    from urllib.request import getproxies, proxy_bypass

    proxies = getproxies()
    return bool(proxies.get(scheme) or proxies.get("all")) and not proxy_bypass(host)


def _phrase(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)
