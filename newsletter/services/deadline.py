"""A deadline on a whole network exchange, which per-read timeouts cannot give; and how long a server asks us to wait.

A read timeout restarts with every byte: a server that trickles one byte a second never trips
it and holds the command forever. ``Deadline`` is a timer that, when it runs out, shuts down
the connection's socket; a read blocked on it (in httpx, smtplib or ssl) then returns at once
and the caller sees the exchange cut off. It watches a *duplicate* of the socket's descriptor
(``socket.fromfd``), so shutting down works whatever object the client reads through (plain or
TLS) and closing the duplicate afterwards can never touch a descriptor the client has reused.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any


class Deadline:
    """``with Deadline(seconds) as deadline:`` cuts off every connection ``watch``-ed in the block after ``seconds``."""

    def __init__(self, seconds: float, what: str = "deadline"):
        self.seconds = seconds
        self.what = what  # what sets the time, for messages: "deadline", "retry budget (...)"
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        """Cut ``sock``'s connection off when the time is up (at once if it already is)."""
        try:
            duplicate = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except OSError:
            return
        with self._lock:
            self._sockets.append(duplicate)
            if self.expired:
                _shut(duplicate)

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """An httpcore ``trace`` extension (https://www.encode.io/httpcore/extensions/#trace):
        watch every connection a request opens."""
        if event.endswith("connect_tcp.complete"):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                self.watch(sock)

    def problem(self) -> str:
        """What to tell the user, once expired."""
        if not self.expired:
            return ""
        if self.what == "deadline":
            return f"did not finish answering within the {self.seconds:g} s deadline"
        return f"did not finish answering before the {self.what} ran out"

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number, or an HTTP date (RFC 9110 10.2.3); None if neither."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,9}", value):  # ASCII digits only: "²".isdigit() is true too
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())
