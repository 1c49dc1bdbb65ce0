"""Speed and memory of a build, and how its cost grows with the week rather than the archive.

Run: `make bench` (or `python benchmarks/build_bench.py [--archive N] [--stories N]`).
It writes a throwaway workspace under a temporary folder and measures two things against the
targets in benchmarks/README.md:

1. `newsletter build` of a 12-story week as a user runs it, a whole process: its CPU time
   (user + system, median of 9 runs after one warm-up run, each after an article was edited, so
   no run can reuse the last one's work) next to the floor of the imports it cannot avoid,
   `python -c "import jinja2, click, mjml, premailer"`, and the ratio of the two. With
   `--instructions` (needs valgrind), the same two counted in instructions by callgrind, which
   the machine's load does not move.
2. In-process builds of the same week with content folders of growing size: the time of a
   build, peak memory and the email's size.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.build import build_issue  # noqa: E402
from newsletter.config import load_config  # noqa: E402
from newsletter.weeks import Selection  # noqa: E402

TARGETS = {"build_s": 2.0, "archive_overhead_s": 0.5, "peak_rss_mb": 250, "html_kb": 90}
PROCESS_TARGET = 1.3  # whole-process build CPU time / import floor CPU time
FLOOR = [sys.executable, "-c", "import jinja2, click, mjml, premailer"]
# The same imports in a process run as `newsletter build` runs (cli.ONE_SHOT, cli.main): the cyclic collector
# off and no interpreter teardown at exit. Shown beside the floor, like for like, so that what the build
# saves on its process (about 80 ms of teardown) is not mistaken for a saving in its own work.
FLOOR_LIKE_BUILD = [sys.executable, "-c",
                    "import gc, os; gc.disable(); import jinja2, click, mjml, premailer; os._exit(0)"]

SENTENCES = [
    "Officials said the decision followed months of talks with community leaders and business owners.",
    "Chính quyền địa phương cho biết quyết định được đưa ra sau nhiều tháng thảo luận với cộng đồng.",
    "Critics argued that the plan did little to address the underlying causes of the problem.",
    "The figures, released on Thursday, showed the sharpest rise in more than a decade.",
    "Residents interviewed along the avenue described a mix of hope and weary skepticism.",
]


def paragraph(seed: int, sentences: int = 4) -> str:
    return " ".join(SENTENCES[(seed + i) % len(SENTENCES)] for i in range(sentences))


def article(day: date, index: int) -> str:
    story = "\n".join(paragraph(index + i) for i in range(6))
    analysis = "\n".join(paragraph(index + i, 5) for i in range(3))
    impact = "\n".join(paragraph(index + i, 4) for i in range(2))
    return (
        f"Headline number {index} about the week's news in Little Saigon and beyond\n"
        f"WESTMINSTER – {story}\nSaigon Sentinel Analysis\n{analysis}\nImpact on Vietnamese Americans\n{impact}\n"
    )


def markdown_article(day: date, index: int) -> str:
    """A rich Markdown article: lists, a quote, a table, links, a picture, in every part."""
    links = f"[the county's page](https://county.example.gov/programs?id={index}&lang=vi)"
    rich = (
        f"{paragraph(index)} See {links}.\n\n- {SENTENCES[0]}\n- {SENTENCES[1]}\n  - {SENTENCES[2]}\n\n"
        f"> {SENTENCES[3]}\n\n| Site | Day | Hours |\n|:--|:--|--:|\n| Westminster library | Tue | 9–12 |\n"
        f"| Garden Grove center | Thu | 1–4 |\n\n"
        f"![Map of the sites](https://x.example/map-{index}.png){{width=1600 height=900}}"
    )
    story = "\n\n".join([rich, *(paragraph(index + i) for i in range(4))])
    return (
        f"---\ntitle: Headline number {index} about the week's news in Little Saigon\ndate: {day}\n"
        f"url: https://news.example/{index}/\nimage: https://x.example/{index}.jpg\nimage_alt: Photo {index}\n---\n\n"
        f"WESTMINSTER – {story}\n\n## Saigon Sentinel Analysis\n\n{rich}\n\n{paragraph(index, 5)}\n\n"
        f"## Impact on Vietnamese Americans\n\n{rich}\n"
    )


def make_workspace(root: Path, stories: int, archive: int, flat: bool, markdown: bool = False) -> None:
    content = root / "content"
    content.mkdir(parents=True)
    (root / "newsletter.toml").write_text((ROOT / "newsletter.toml").read_text())
    week_start = date(2026, 11, 23)
    for i in range(stories):
        day = week_start + timedelta(days=i % 7)
        if markdown:
            (content / f"{day}-story-{i}.md").write_text(markdown_article(day, i))
        else:
            (content / f"{day}-story-{i}.txt").write_text(article(day, i))
    for i in range(archive):
        day = week_start - timedelta(days=7 + i // 10)
        folder = content / "archive" if flat else content / f"{day.year}" / f"{day.month:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{day}-archive-{i}.txt").write_text(article(day, i))


def time_builds(root: Path, runs: int) -> tuple[float, int]:
    config = load_config(root / "newsletter.toml")
    times = []
    size = 0
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        result = build_issue(config, Selection(week="2026-W48"))
        times.append(time.perf_counter() - start)
        size = result.sizes["email.html"]
    return statistics.median(times), size


def cpu_seconds(command: list[str], cwd: Path) -> float:
    """User + system CPU time of one run of ``command`` (a child process, so getrusage sees it whole)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def edit_article(root: Path, run: int) -> None:
    """Change one article's text, as an editor saving a correction between two builds."""
    articles = sorted((root / "content").rglob("*.txt"))
    path = articles[run % len(articles)]
    text = re.sub(r"\nCorrection \d+\.\n", "\n", path.read_text("utf-8"))
    path.write_text(text.replace("\nSaigon Sentinel Analysis\n", f"\nCorrection {run}.\nSaigon Sentinel Analysis\n", 1),
                    "utf-8")


def instructions(command: list[str], cwd: Path) -> int:
    """Instructions ``command`` executes, counted by callgrind (the same count on a busy machine)."""
    out = cwd / ".callgrind.out"
    run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *command], cwd=cwd,
                         env={**os.environ, "PYTHONHASHSEED": "0"}, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, check=True)
    out.unlink(missing_ok=True)
    return int(run.stderr.rsplit("Collected :", 1)[1].split()[0])


def process_bench(stories: int, runs: int, count_instructions: bool = False) -> bool:
    """`newsletter build` as a user runs it, against the floor of its unavoidable imports."""
    # Compiled like an installed wheel (pip compiles on install; an editable checkout may not be).
    compileall.compile_dir(str(ROOT / "newsletter"), quiet=1)
    root = Path(tempfile.mkdtemp(prefix="newsletter-bench-"))
    try:
        make_workspace(root, stories, 0, False)
        # The console script, as a user types it.
        build = [str(Path(sys.executable).with_name("newsletter")), "build", "--week", "2026-W48"]
        cpu_seconds(build, root)  # warm-up: the first build of a week writes issue.toml and fills caches
        cpu_seconds(FLOOR, root)
        floors, alike, builds = [], [], []
        for run in range(runs):  # interleaved, so a busy spell of the machine touches all alike
            floors.append(cpu_seconds(FLOOR, root))
            alike.append(cpu_seconds(FLOOR_LIKE_BUILD, root))
            edit_article(root, run)
            builds.append(cpu_seconds(build, root))
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # before valgrind's own
        if count_instructions:
            edit_article(root, runs)
            floor_count, alike_count = instructions(FLOOR, root), instructions(FLOOR_LIKE_BUILD, root)
            build_count = instructions(build, root)
            print(f"instructions (callgrind): newsletter build {build_count / 1e6:,.0f} M, import floor "
                  f"{floor_count / 1e6:,.0f} M, ratio {build_count / floor_count:.2f}; like for like "
                  f"{alike_count / 1e6:,.0f} M, ratio {build_count / alike_count:.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    floor, floor_alike, built = statistics.median(floors), statistics.median(alike), statistics.median(builds)
    ratio = built / floor
    ok = ratio <= PROCESS_TARGET
    print(f"{'PASS' if ok else 'FAIL'} newsletter build, {stories} stories, whole process: {built:.3f} s CPU "
          f"(median of {runs}); import floor {floor:.3f} s; ratio {ratio:.2f} (target <= {PROCESS_TARGET}); "
          f"like for like (the floor without collector or teardown) {floor_alike:.3f} s, ratio "
          f"{built / floor_alike:.2f}; "
          f"peak RSS {rss_mb:.0f} MB")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=12)
    parser.add_argument("--archive", type=int, nargs="*", default=[0, 1000, 10000])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--instructions", action="store_true",
                        help="also count the build's and the floor's instructions with valgrind's callgrind")
    args = parser.parse_args()
    failed = not process_bench(args.stories, args.runs, args.instructions)
    baseline = None
    cases = [(n, flat, False) for n in args.archive for flat in ((False,) if n == 0 else (False, True))]
    cases.append((0, False, True))  # the same week as rich Markdown: lists, quotes, tables, pictures
    for archive, flat, markdown in cases:
        root = Path(tempfile.mkdtemp(prefix="newsletter-bench-"))
        try:
            make_workspace(root, args.stories, archive, flat, markdown)
            median, size = time_builds(root, args.runs)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        baseline = median if baseline is None else baseline
        overhead = 0.0 if markdown else median - baseline
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ok = (
            median <= TARGETS["build_s"]
            and overhead <= TARGETS["archive_overhead_s"]
            and size / 1000 <= TARGETS["html_kb"]
            and rss_mb <= TARGETS["peak_rss_mb"]
        )
        failed |= not ok
        layout = "as rich Markdown" if markdown else "in one folder" if flat else "by year/month"
        print(
            f"{'PASS' if ok else 'FAIL'} stories={args.stories} archive={archive:>6} files {layout}: "
            f"build {median * 1000:.0f} ms (median of {args.runs}; +{overhead * 1000:.0f} ms over no archive), "
            f"email.html {size / 1000:.1f} kB, peak RSS {rss_mb:.0f} MB"
        )
    print("targets: " + ", ".join(f"{k} <= {v}" for k, v in TARGETS.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
