"""Misbehaving servers on 127.0.0.1 that the well-behaved fakes cannot play: a scripted SMTP server.

``ScriptedSmtp`` speaks just enough SMTP (RFC 5321) to be told how to misbehave: greet one byte
at a time, advertise or withhold STARTTLS and AUTH, echo the AUTH data back in its refusal (as
some servers do), or demand encryption before a login. It records every command it receives, so
a test can check what the client sent (never a password after a refused STARTTLS).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class ScriptedSmtp:
    greeting_trickle: float = 0.0  # seconds between the greeting's bytes (0: at once)
    starttls: bool = False  # advertise STARTTLS (it is never actually started)
    auth: str = "PLAIN LOGIN"  # mechanisms advertised; "" for none
    auth_reply: str = "535 5.7.8 Authentication credentials invalid"  # {data} is the client's AUTH data
    commands: list[str] = field(default_factory=list)
    port: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def serve(self, listener: socket.socket) -> None:
        listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(10)
            greeting = b"220 scripted.example ESMTP\r\n"
            if self.greeting_trickle:
                for byte in greeting * 1000:  # a greeting that never ends, a byte at a time
                    if self.stop.is_set():
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(self.greeting_trickle)
            conn.sendall(greeting)
            reader = conn.makefile("rb")
            for raw in reader:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                self.commands.append(line)
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    extensions = ["scripted.example", "SIZE 10000000", "8BITMIME"]
                    if self.starttls:
                        extensions.append("STARTTLS")
                    if self.auth:
                        extensions.append(f"AUTH {self.auth}")
                    lines = [f"250-{e}" for e in extensions[:-1]] + [f"250 {extensions[-1]}"]
                    conn.sendall(("\r\n".join(lines) + "\r\n").encode())
                elif verb == "AUTH":
                    data = line.split(" ", 2)[2] if line.count(" ") >= 2 else ""
                    conn.sendall((self.auth_reply.format(data=data) + "\r\n").encode())
                elif verb == "QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"502 5.5.1 not in this script\r\n")


@contextlib.contextmanager
def scripted_smtp(server: ScriptedSmtp) -> Iterator[ScriptedSmtp]:
    """Run ``server`` on a free port of 127.0.0.1 (``server.port``) for the block."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    server.port = listener.getsockname()[1]
    thread = threading.Thread(target=server.serve, args=(listener,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        thread.join(5)
        listener.close()
