"""The preview's edit-to-updated-page latency: an article saved on disk -> the new email served to the page.

Run: `make bench` (or `python benchmarks/preview_bench.py [--edits N]`). Starts the real
`newsletter preview` on a loopback port in a copy of the sample workspace, listens to its event
stream as the page does (/api/events), and for each edit measures the time from writing the
article to having fetched an email.html that contains the edit. The target (benchmarks/README.md)
is for the median; the slowest edit is shown too. The file watcher's grouping of a save's
changes (watchfiles) is part of what is measured, as it is part of what a user waits for.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 1.0
ARTICLE = Path("content/2026/11/2026-11-29-remittance-fees.txt")
HEADLINE = "New rules cap fees on money transfers to Vietnam"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=7)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="newsletter-preview-bench-"))
    shutil.copy(ROOT / "newsletter.toml", root / "newsletter.toml")
    shutil.copytree(ROOT / "content", root / "content")
    for manifest in (ROOT / "issues").glob("*/issue.toml"):
        (root / "issues" / manifest.parent.name).mkdir(parents=True)
        shutil.copy(manifest, root / "issues" / manifest.parent.name / "issue.toml")
    command = [str(Path(sys.executable).with_name("newsletter")), "preview", "--week", "2026-W48", "--port", "0",
               "--no-open"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    latencies: list[float] = []
    try:
        url = ""
        assert process.stdout is not None
        for line in process.stdout:
            match = re.search(r"http://127\.0\.0\.1:\d+/", line)
            if match:
                url = match.group(0)
                break
        threading.Thread(target=lambda: [None for _ in process.stdout or ()], daemon=True).start()
        events = Events(url + "api/events")
        events.wait_for(lambda state: state.get("ok") and not state.get("building"), 60)
        article = root / ARTICLE
        original = article.read_text()
        for n in range(args.edits):
            time.sleep(0.6)  # the watcher's quiet period after the previous edit
            edited = f"{HEADLINE} (edit {n})"
            generation = events.latest.get("generation", 0)
            started = time.perf_counter()
            article.write_text(original.replace(HEADLINE, edited, 1))
            events.wait_for(lambda state, g=generation: state.get("generation", 0) > g and state.get("ok")
                            and not state.get("building"), 30)
            with urlopen(url + "issues/2026-W48/email.html", timeout=10) as response:
                page = response.read().decode()
            latencies.append(time.perf_counter() - started)
            assert edited in page, "the served email does not have the edit"
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(root, ignore_errors=True)
    median, worst = statistics.median(latencies), max(latencies)
    ok = median <= TARGET_S
    print(f"{'PASS' if ok else 'FAIL'} preview, edit on disk -> updated email fetched: median {median:.2f} s, "
          f"slowest {worst:.2f} s over {len(latencies)} edits (target: median <= {TARGET_S:g} s)")
    return 0 if ok else 1


class Events:
    """The preview's Server-Sent Events stream, read in a thread; ``latest`` is the last state."""

    def __init__(self, url: str) -> None:
        self.latest: dict[str, object] = {}
        self._changed = threading.Condition()
        self._response = urlopen(url, timeout=60)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self._response:
            line = raw.decode().rstrip("\n")
            if line.startswith("data: "):
                with self._changed:
                    self.latest = json.loads(line[6:])
                    self._changed.notify_all()

    def wait_for(self, condition: object, timeout: float) -> None:
        check = condition if callable(condition) else (lambda state: False)
        with self._changed:
            if not self._changed.wait_for(lambda: bool(check(self.latest)), timeout):
                raise TimeoutError(f"the preview did not reach the expected state: {self.latest}")


if __name__ == "__main__":
    sys.exit(main())
