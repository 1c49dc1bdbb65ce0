"""The preview server: `newsletter preview` builds the edition, serves it, and rebuilds on every change.

``live.py`` keeps the live edition (builds, the last outcome, the file watchers); ``server.py``
answers HTTP; ``assets/`` is the page with the toolbar. The page's reload script lives only
there: the email the build writes never contains it.
"""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from newsletter.config import Config
from newsletter.preview.live import LiveIssue, Outcome, start_watching
from newsletter.preview.server import PreviewServer, bind, browser_url
from newsletter.weeks import Selection

__all__ = ["serve", "LiveIssue", "Outcome", "PreviewServer", "bind", "url_of"]


def serve(config: Config, selection: Selection, *, config_path: Path | None, host: str = "127.0.0.1",
          port: int = 8000, open_browser: bool = True, echo: Callable[[str], Any] = click.echo,
          allowed_hosts: tuple[str, ...] = ()) -> None:
    """Build, serve on host:port until Ctrl-C, rebuild on every change of the edition's sources.

    ``allowed_hosts``: names besides this machine's own that the page may be opened by (the
    Host header check against DNS rebinding stays on whatever ``host`` is).
    """
    live = LiveIssue(config, selection, config_path=config_path, echo=echo)
    server = bind(host, port, live, allowed_hosts)  # before building: a busy port should fail at once
    stop = threading.Event()
    try:
        outcome = live.rebuild()
        start_watching(live, stop)
        url = url_of(server)
        echo(f"Previewing {outcome.key or 'the issue'} at {url}")
        if not outcome.ok:
            _warn("The build failed (see above): the page shows why until you fix it and save.")
        if not server.loopback:
            _warn(f"Listening on {host}: anyone on your network can open the preview.")
            _warn(f"It answers to these names: {server.hosts.describe()}; add others with --allow-host NAME.")
        echo("It rebuilds when an article, a template, issue.toml or newsletter.toml changes. Press Ctrl-C to stop.")
        if open_browser:
            threading.Thread(target=_open, args=(url, echo), name="preview-browser", daemon=True).start()
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        echo("Stopped the preview.")
    finally:
        stop.set()
        live.close()
        server.server_close()


def _warn(text: str) -> None:
    click.echo(text, err=True)  # diagnostics on stderr; the address stays alone on stdout


def url_of(server: PreviewServer) -> str:
    return browser_url(server.host, server.port)


def _open(url: str, echo: Callable[[str], Any]) -> None:
    # In a thread: webbrowser waits for console browsers (lynx, w3m) to exit.
    if not webbrowser.open(url):
        echo(f"Could not start a browser: open {url} yourself.")
