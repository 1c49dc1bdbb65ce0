"""Speed of `newsletter archive`: 200 editions from scratch, with nothing changed, and after one edition changed.

Run: `make bench` (or `python benchmarks/archive_bench.py [--editions N]`). One week is built
for real; its files are then written as N editions (each with its own key, dates, number and
subject in issue.json and web.html) the way a build leaves them (newsletter.writer: the files in
.builds/<id>/, reached through .current), since the archive reads only what a build left there.
The changed edition is written again the same way, as its rebuild would.
Each case is the whole `newsletter archive` process, wall-clock time, against the targets in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.writer import write_edition  # noqa: E402

TARGETS = {"from_scratch_s": 20.0, "one_changed_s": 1.0}


def make_editions(root: Path, count: int) -> None:
    shutil.copy(ROOT / "newsletter.toml", root / "newsletter.toml")
    shutil.copytree(ROOT / "content", root / "content")
    subprocess.run([newsletter(), "build", "--week", "2026-W48"], cwd=root, check=True, stdout=subprocess.DEVNULL)
    built = root / "issues" / "2026-W48"
    web, summary = (built / "web.html").read_text(), json.loads((built / "issue.json").read_text())
    shutil.rmtree(built)
    monday = date(2026, 11, 23)
    for n in range(count):
        start = monday - timedelta(weeks=n)
        year, week, _ = start.isocalendar()
        key = f"{year}-W{week:02d}"
        subject = f"{summary['subject']} (edition {count - n})"
        data = {**summary, "key": key, "start": start.isoformat(), "end": (start + timedelta(days=6)).isoformat(),
                "number": count - n, "subject": subject}
        write_edition(root / "issues" / key, {
            "issue.json": json.dumps(data, ensure_ascii=False, indent=2).encode(),
            "web.html": web.replace("2026-W48", key).replace(summary["subject"], subject).encode(),
        })


def newsletter() -> str:
    return str(Path(sys.executable).with_name("newsletter"))


def timed_archive(root: Path) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    done = subprocess.run([newsletter(), "archive"], cwd=root, check=True, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, done.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editions", type=int, default=200)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="newsletter-archive-bench-"))
    failed = False
    try:
        make_editions(root, args.editions)
        scratch, said = timed_archive(root)
        unchanged, _ = timed_archive(root)
        one = root / "issues" / "2026-W40"
        write_edition(one, {"issue.json": (one / "issue.json").read_bytes(),
                            "web.html": (one / "web.html").read_bytes().replace(b"<title>", b"<title>Corrected: ", 1)})
        changed, said_changed = timed_archive(root)
        pages = len(list((root / "site").glob("*/index.html")))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for label, seconds, target, note in (
        ("from scratch", scratch, TARGETS["from_scratch_s"], said),
        ("nothing changed", unchanged, TARGETS["one_changed_s"], ""),
        ("one edition changed", changed, TARGETS["one_changed_s"], said_changed),
    ):
        ok = seconds <= target
        failed |= not ok
        print(f"{'PASS' if ok else 'FAIL'} archive of {args.editions} editions, {label}: {seconds:.2f} s "
              f"(target <= {target:g} s){'; ' + note if note else ''}")
    assert pages == args.editions, pages
    print("targets: " + ", ".join(f"{k} <= {v}" for k, v in TARGETS.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
