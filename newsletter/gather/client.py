"""HTTP for `newsletter gather`: httpx with timeouts, bounded retries and sizes, and conditional requests.

Every request has a timeout per network wait and a deadline for the whole answer (a server that
trickles a byte a second is cut off), retries 429 and 5xx answers and dropped connections with
exponential back-off that honours ``Retry-After`` (RFC 9110 §10.2.3) up to a bound, and stops
reading past ``max_bytes``. Answers with an ``ETag`` or ``Last-Modified`` are remembered in
``HttpCache``, so the next run asks ``If-None-Match``/``If-Modified-Since`` and a ``304 Not
Modified`` costs nothing (RFC 9110 §13.1). Every failure is a ``SourceError`` naming the source
and what to do; nothing here writes an article.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import httpx
from msgspec import Struct

from newsletter import __version__
from newsletter.config import SourceSettings
from newsletter.errors import SourceError
from newsletter.services.deadline import retry_after
from newsletter.writer import write_file

RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 30.0  # seconds: a server asking for a longer wait is told "later", not waited for
MAX_REDIRECTS = 5
CACHE_DAYS = 35  # cached answers not used for this long are forgotten


def user_agent(publication_url: str) -> str:
    """An honest User-Agent: the tool, its version, and whose newsletter it gathers for."""
    return f"newsletter/{__version__} (weekly newsletter gather; +{publication_url})"


class Fetched(Struct, frozen=True):
    """One answer: its final URL (after redirects), headers, body, and whether it came from the cache."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    from_cache: bool = False
    moved_to: str | None = None  # the new address after a permanent redirect (301, 308)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class HttpCache:
    """Validators and bodies of earlier answers, under ``folder`` (``content/.gather/http/``).

    ``index.json`` maps a URL to its ETag, Last-Modified, body file and the day it was last used.
    ``read_only`` (``--dry-run``) uses what is there and writes nothing.
    """

    def __init__(self, folder: Path, *, read_only: bool = False, today: str | None = None):
        self.folder = folder
        self.read_only = read_only
        self.today = today or datetime.now(UTC).date().isoformat()
        self.entries: dict[str, dict[str, str]] = {}
        try:
            data = json.loads((folder / "index.json").read_text("utf-8"))
            if isinstance(data, dict):
                self.entries = {k: v for k, v in data.items() if isinstance(v, dict)}
        except (OSError, ValueError):
            self.entries = {}  # no cache, or a damaged one: start afresh, it is only a cache
        self.changed = False

    def validators(self, url: str) -> dict[str, str]:
        """The conditional-request headers for ``url``, when a usable cached body exists."""
        entry = self.entries.get(url)
        if not entry or not (self.folder / entry.get("file", "-")).is_file():
            return {}
        headers = {}
        if entry.get("etag"):
            headers["If-None-Match"] = entry["etag"]
        if entry.get("last_modified"):
            headers["If-Modified-Since"] = entry["last_modified"]
        return headers

    def body(self, url: str) -> bytes | None:
        entry = self.entries.get(url)
        try:
            data = (self.folder / entry["file"]).read_bytes() if entry else None
        except OSError:
            return None
        if entry is not None and entry.get("used") != self.today:
            entry["used"] = self.today
            self.changed = True
        return data

    def store(self, url: str, headers: Mapping[str, str], body: bytes) -> None:
        etag, modified = headers.get("etag", ""), headers.get("last-modified", "")
        if self.read_only or not (etag or modified):
            return
        name = hashlib.sha256(url.encode()).hexdigest()[:32]
        write_file(self.folder / name, body)
        self.entries[url] = {"etag": etag, "last_modified": modified, "file": name, "used": self.today}
        self.changed = True

    def save(self) -> None:
        """Write the index (forgetting answers unused for CACHE_DAYS days) and remove orphan bodies."""
        if self.read_only or not self.changed:
            return
        cutoff = datetime.now(UTC).date().toordinal() - CACHE_DAYS
        keep = {}
        for url, entry in self.entries.items():
            try:
                used = datetime.fromisoformat(entry.get("used", "")).date().toordinal()
            except ValueError:
                used = 0
            if used >= cutoff:
                keep[url] = entry
        write_file(self.folder / "index.json", json.dumps(keep, indent=1, sort_keys=True) + "\n")
        names = {entry.get("file") for entry in keep.values()}
        for path in self.folder.iterdir():
            if path.name != "index.json" and not path.name.startswith(".") and path.name not in names:
                path.unlink(missing_ok=True)


class Client:
    """GET with the bounds above; ``transport`` and ``sleep`` are injectable so tests need no patching."""

    def __init__(
        self,
        agent: str,
        cache: HttpCache | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.cache = cache
        self.sleep = sleep
        self.clock = clock
        self.http = httpx.Client(
            headers={"User-Agent": agent},
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            transport=transport,
            trust_env=True,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self, url: str, source: SourceSettings, *, accept: str, params: Mapping[str, str] | None = None
    ) -> Fetched:
        """The answer to GET ``url``: 2xx or 304 (then the cached body); anything else is a SourceError.

        404 and other 4xx answers other than 429 are returned to the caller as they are (status and
        body), because what they mean depends on what was asked (no feed, no REST API, no page 3).
        """
        request_url = str(httpx.URL(url, params=params)) if params else url
        attempt = 0
        while True:
            attempt += 1
            headers = {"Accept": accept, **(self.cache.validators(request_url) if self.cache else {})}
            try:
                status, final_url, answer_headers, body, moved = self._once(request_url, source, headers)
            except _Retryable as problem:
                if attempt > source.retries:
                    message = f"{problem.message} (tried {attempt} times). {problem.hint}"
                    raise SourceError(source.name, message) from None
                self.sleep(_backoff(attempt))
                continue
            if status == 304 and self.cache is not None:
                cached = self.cache.body(request_url)
                if cached is not None:
                    return Fetched(final_url, 200, answer_headers, cached, from_cache=True, moved_to=moved)
                raise SourceError(source.name, f"{url} answered 304 Not Modified to a request that had no cache.")
            if status in RETRY_STATUSES:
                asked = retry_after(answer_headers.get("retry-after"))
                wait = _backoff(attempt) if asked is None else asked
                reason = httpx.codes.get_reason_phrase(status)
                if wait > MAX_RETRY_AFTER:
                    raise SourceError(
                        source.name,
                        f"{url} answered {status} {reason} and asks to wait {wait:.0f} s before trying again. "
                        "Run `newsletter gather` again later.",
                    )
                if attempt > source.retries:
                    tail = "is too busy (429 Too Many Requests)" if status == 429 else f"answered {status} {reason}"
                    raise SourceError(
                        source.name,
                        f"{url} {tail} {attempt} times in a row. The site is having trouble: "
                        "run `newsletter gather` again later.",
                    )
                self.sleep(wait)
                continue
            if 200 <= status < 300 and self.cache is not None:
                self.cache.store(request_url, answer_headers, body)
            return Fetched(final_url, status, answer_headers, body, moved_to=moved)

    def _once(
        self, url: str, source: SourceSettings, headers: dict[str, str]
    ) -> tuple[int, str, dict[str, str], bytes, str | None]:
        timeout = httpx.Timeout(float(source.timeout))
        deadline = self.clock() + 4 * source.timeout
        host = httpx.URL(url).host
        try:
            with self.http.stream("GET", url, headers=headers, timeout=timeout) as response:
                answer_headers = {k.lower(): v for k, v in response.headers.items()}
                moved = _moved(response)
                length = answer_headers.get("content-length", "")
                if length.isascii() and length.isdigit() and int(length) > source.max_bytes:
                    raise _too_big(source, url)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > source.max_bytes:
                        raise _too_big(source, url)
                    if self.clock() > deadline:
                        raise SourceError(
                            source.name,
                            f"{url} took more than {4 * source.timeout} s to send its answer. Check your connection "
                            f"and try again later, or raise timeout (now {source.timeout}) in [sources.{source.name}].",
                        )
                    chunks.append(chunk)
                return response.status_code, str(response.url), answer_headers, b"".join(chunks), moved
        except httpx.TimeoutException:
            raise SourceError(
                source.name,
                f"{url} did not answer within {source.timeout} s. Check the address and your connection, "
                f"or raise timeout in [sources.{source.name}] for a slow site.",
            ) from None
        except httpx.TooManyRedirects:
            raise SourceError(
                source.name,
                f"{url} redirects more than {MAX_REDIRECTS} times. Open it in a browser and use the address "
                "it ends at as url.",
            ) from None
        except httpx.DecodingError:
            raise _Retryable(
                f"{url} sent a body that cannot be decompressed",
                "The site sends broken compressed answers: try again later, or tell its administrator.",
            ) from None
        except httpx.ConnectError as error:
            raise SourceError(
                source.name,
                f"cannot connect to {host} ({_reason(error)}). Check the url in [sources.{source.name}] "
                "and your internet connection.",
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as error:
            raise _Retryable(
                f"the connection to {host} dropped before the answer was complete ({_reason(error)})",
                "Nothing from this source was written; run `newsletter gather` again later.",
            ) from None
        except httpx.UnsupportedProtocol:
            raise SourceError(source.name, f"{url} is not an http:// or https:// address.") from None


class _Retryable(Exception):
    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


def _too_big(source: SourceSettings, url: str) -> SourceError:
    return SourceError(
        source.name,
        f"{url} sends more than {source.max_bytes:,} bytes. If that is expected, raise max_bytes in "
        f"[sources.{source.name}]; for WordPress, a shorter range (--since/--until) asks for fewer posts.",
    )


def _moved(response: httpx.Response) -> str | None:
    """The final address when the first hop was a permanent redirect (the url should be updated)."""
    history = response.history
    if history and history[0].status_code in (301, 308):
        return str(response.url)
    return None


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]


def _backoff(attempt: int) -> float:
    return float(min(2 ** (attempt - 1), MAX_RETRY_AFTER))


def status_error(source: SourceSettings, fetched: Fetched, what: str) -> SourceError:
    """A SourceError for an answer that is not 2xx, saying what the editor can do about it.

    ``what`` names what was asked for ("feed", "WordPress REST API") in the message.
    """
    status, url = fetched.status, fetched.url
    reason = httpx.codes.get_reason_phrase(status) or "Error"
    said = server_message(fetched)
    said = f": {said}" if said else ""
    if status in (401, 403):
        return SourceError(
            source.name,
            f"{url} refused access ({status} {reason}{said}). The site lets only some readers see its {what}: "
            "ask its administrator to open it to this tool (User-Agent newsletter/…), or use an address that "
            "is open to everyone.",
        )
    if status in (404, 410):
        return SourceError(
            source.name,
            f"there is no {what} at {url} ({status} {reason}). Check url in [sources.{source.name}] "
            "(a WordPress site's feed is usually its home page followed by /feed/).",
        )
    return SourceError(source.name, f"{url} answered {status} {reason}{said} instead of the {what}.")


def server_message(fetched: Fetched) -> str:
    """The human message in a JSON error body ({"code": ..., "message": ...} from WordPress), if any."""
    if fetched.content_type != "application/json" and not fetched.body.lstrip().startswith(b"{"):
        return ""
    try:
        data = json.loads(fetched.body[:100_000])
    except ValueError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    return " ".join(str(message).split())[:300] if message else ""
