"""The editor's work is never lost: kills between the build's renames, two builds at once, saves during a build.

The writer calls ``writer.step_hook`` between every two changes on disk. The kill tests run a
writer in a child process whose hook kills it (SIGKILL: no cleanup code runs) at each of those
moments in turn, and then read the edition as any reader would, by its usual paths.
"""

from __future__ import annotations

import json
import os
import random
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

import pytest

from newsletter import writer
from newsletter.build import build_issue
from newsletter.config import load_config
from newsletter.errors import ManifestError, OutputError
from newsletter.weeks import Selection
from tests.conftest import SAMPLE_WEEK

NAMES = ("email.html", "email.txt", "issue.json")
# Kills the writer at a given step in each of many folders: one process imports the writer once and
# forks a child per folder, whose hook sends it SIGKILL (no cleanup code runs) at that step.
KILLER = """
import os, signal, sys
from pathlib import Path
from newsletter import writer

tag = sys.argv[1]
for line in sys.stdin:
    folder, step = line.rstrip("\\n").split("\\t")
    pid = os.fork()
    if pid == 0:
        steps = []
        def hook(name, step=int(step)):
            steps.append(name)
            if len(steps) == step:
                os.kill(os.getpid(), signal.SIGKILL)
        writer.step_hook = hook
        with writer.edition_lock(Path(folder)):
            writer.write_edition(Path(folder), {n: f"{tag} {n}\\n".encode() for n in sys.argv[2:]})
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, flush=True)
"""


def edition(folder: Path) -> dict[str, str]:
    """The edition as a reader sees it, by the usual paths."""
    return {name: (folder / name).read_text() for name in NAMES if (folder / name).exists()}


def tags(folder: Path) -> set[str]:
    return {text.split(" ")[0] for text in edition(folder).values()}


def leftovers(folder: Path) -> list[str]:
    """Temporary files, backups, and build folders beyond the one in use and the one before it."""
    found = [p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".bak"))]
    builds = folder / writer.BUILDS
    in_use = writer.current_build(folder)
    unused = [f"{writer.BUILDS}/{b.name}" for b in builds.iterdir()] if builds.is_dir() else []
    unused = [b for b in unused if b != in_use]
    # The previous build is kept until the next one, for a reader that has just resolved .current;
    # it is whole (a half-written one is removed first thing by the next build).
    if len(unused) == 1 and all((folder / unused[0] / name).is_file() for name in NAMES):
        unused = []
    return found + unused


def old_edition(folder: Path, layout: str) -> None:
    folder.mkdir(parents=True)
    (folder / "issue.toml").write_text('subject = "the editor\'s"\n')
    if layout == "plain":  # as a version before this one left it, with its litter
        for name in NAMES:
            (folder / name).write_text(f"old {name}\n")
        (folder / ".email.html.99999.bak").write_text("old litter\n")
        (folder / ".email.txt.k3j4h5.tmp").write_text("half a file")
    else:
        with writer.edition_lock(folder):
            writer.write_edition(folder, {name: f"old {name}\n".encode() for name in NAMES})


def kill_each(folders: list[Path], tag: str = "new") -> list[bool]:
    """Kill a write of edition ``tag`` into folders[i] at its step i + 1; whether each was killed."""
    lines = "".join(f"{folder}\t{i + 1}\n" for i, folder in enumerate(folders))
    done = subprocess.run([sys.executable, "-c", KILLER, tag, *NAMES], input=lines, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return [line == "True" for line in done.stdout.split()]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="kills forked children")
@pytest.mark.parametrize("layout", ["links", "plain"])
def test_a_kill_at_any_step_leaves_the_old_or_the_new_edition_whole(tmp_path: Path, layout: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    steps: list[str] = []
    counted = tmp_path / "count" / SAMPLE_WEEK
    old_edition(counted, layout)
    monkeypatch.setattr(writer, "step_hook", steps.append)
    with writer.edition_lock(counted):
        writer.write_edition(counted, {name: f"new {name}\n".encode() for name in NAMES})
    monkeypatch.setattr(writer, "step_hook", None)
    assert tags(counted) == {"new"} and len(steps) > 4
    folders = [tmp_path / f"kill-{i + 1}" / SAMPLE_WEEK for i in range(len(steps))]
    for folder in folders:
        old_edition(folder, layout)
    assert all(kill_each(folders))
    seen: set[str] = set()
    for folder, step in zip(folders, steps, strict=True):
        found = tags(folder)
        assert len(found) == 1 and len(edition(folder)) == 3, f"killed at {step!r}: {edition(folder)}"
        seen |= found
        assert (folder / "issue.toml").read_text() == 'subject = "the editor\'s"\n'
        # The next write finishes the job and leaves nothing behind.
        with writer.edition_lock(folder):
            writer.write_edition(folder, {name: f"next {name}\n".encode() for name in NAMES})
        assert tags(folder) == {"next"} and leftovers(folder) == [], f"killed at {step!r}"
        assert (folder / "issue.toml").read_text() == 'subject = "the editor\'s"\n'
    assert seen == {"old", "new"}  # the kills did land on both sides of the switch


BUILD_KILLER = """
import os, signal, sys
from newsletter import writer
from newsletter.build import build_issue
from newsletter.config import load_config
from newsletter.weeks import Selection

for moment in sys.stdin:  # one build per line, killed at that step; the test looks between two
    pid = os.fork()
    if pid == 0:
        def hook(name, moment=moment.strip()):
            if name == moment:
                os.kill(os.getpid(), signal.SIGKILL)
        writer.step_hook = hook
        build_issue(load_config(None), Selection(week=sys.argv[1]))
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="kills forked children")
def test_a_build_killed_around_its_switch_leaves_one_whole_edition(workspace: Path) -> None:
    """The whole build, killed just before and just after the rename that switches editions."""
    article = workspace / "content/2026/11/2026-11-29-remittance-fees.txt"
    assert build_issue(load_config(None), Selection(week=SAMPLE_WEEK)).issue.stories
    folder = workspace / "issues" / SAMPLE_WEEK
    article.write_text(article.read_text().replace("New rules cap fees", "Killed-build headline caps fees"))
    killer = subprocess.Popen([sys.executable, "-c", BUILD_KILLER, SAMPLE_WEEK], cwd=workspace, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert killer.stdin is not None and killer.stdout is not None
    try:
        for moment, expect_new in (("current link made", False), ("switched", True)):
            killer.stdin.write(moment + "\n")
            killer.stdin.flush()
            assert killer.stdout.readline().strip() == "True", moment
            html, text = (folder / "email.html").read_text(), (folder / "email.txt").read_text()
            headlines = [s["headline"] for s in json.loads((folder / "issue.json").read_text())["stories"]]
            new = "Killed-build headline caps fees" in html
            assert new == expect_new, moment
            assert ("Killed-build headline caps fees" in text) == new, moment
            assert any("Killed-build" in h for h in headlines) == new, moment
    finally:
        killer.stdin.close()
        killer.wait(60)
    build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    assert leftovers(folder) == []


def test_leftovers_of_an_older_version_are_cleaned_and_the_editors_own_kept(workspace: Path) -> None:
    folder = workspace / "issues" / SAMPLE_WEEK
    build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    litter = [".email.html.4242.bak", ".email.txt.ab12cd34.tmp", ".issue.toml.4242-abcdef.tmp",
              ".exports.json.x1y2z3.tmp", ".current.4242-abcdef.tmp"]
    for name in litter[:-1]:
        (folder / name).write_text("litter")
    os.symlink(".builds/nowhere", folder / litter[-1])
    (folder / writer.BUILDS / "20200101T000000-1-abcdef").mkdir()
    keep = [".issue.toml.swp", "issue.toml~", "notes.txt"]  # an editor's swap file, a backup, the editor's notes
    for name in keep:
        (folder / name).write_text("the editor's")
    build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    assert leftovers(folder) == []
    assert all((folder / name).read_text() == "the editor's" for name in keep)


def test_two_builds_of_one_edition_take_turns(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[tuple[str, str]] = []

    def hook(step: str) -> None:
        order.append((threading.current_thread().name, step))
        time.sleep(0.002)  # widen every window between two steps

    monkeypatch.setattr(writer, "step_hook", hook)
    config = load_config(None)
    errors: list[BaseException] = []

    def build() -> None:
        try:
            build_issue(config, Selection(week=SAMPLE_WEEK))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=build, name=f"build-{i}") for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    runs = [name for i, (name, _) in enumerate(order) if i == 0 or order[i - 1][0] != name]
    assert sorted(runs) == sorted(t.name for t in threads), "the builds' writes interleaved"
    assert tags_of_build(workspace / "issues" / SAMPLE_WEEK)


def tags_of_build(folder: Path) -> bool:
    """The three built files come from one build: issue.json's sizes match the files."""
    data = json.loads((folder / "issue.json").read_text())
    return all(data["sizes"][name] == (folder / name).stat().st_size for name in ("email.html", "email.txt"))


def test_a_lock_held_elsewhere_is_waited_for_then_named(tmp_path: Path) -> None:
    folder = tmp_path / SAMPLE_WEEK
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\nfrom newsletter import writer\n"
         "with writer.edition_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(30)\n",
         str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputError) as caught, writer.edition_lock(folder, wait=0.3):
            pass
        message = caught.value.format_message()
        assert f"(process {holder.pid})" in message and "Wait for it to finish" in message
    finally:
        holder.kill()
        holder.wait(10)
    with writer.edition_lock(folder, wait=5):  # released by the system when its holder died
        pass


def test_a_failed_build_leaves_no_empty_edition_folder(workspace: Path) -> None:
    from newsletter.errors import EmptySelection

    with pytest.raises(EmptySelection):
        build_issue(load_config(None), Selection(week="2026-W01"))
    assert not (workspace / "issues" / "2026-W01").exists()


# ---- issue.toml: compare-and-swap ------------------------------------------------------------------

def add_article(workspace: Path, n: int) -> str:
    path = workspace / "content" / f"2026-11-26-late-story-{n}.txt"
    path.write_text(f"Late story number {n}\nCITY – Text {n}.\nAnalysis\nA.\nImpact\nI.\n")
    return f"2026-11-26-late-story-{n}"


def set_subject(manifest: Path, subject: str, *, atomic: bool) -> None:
    text = re.sub(r'(?m)^subject = ".*"$', f'subject = "{subject}"', manifest.read_text())
    if atomic:  # as most editors save: a new file renamed over the old one
        temporary = manifest.with_name(f".{manifest.name}.editor")
        temporary.write_text(text)
        os.replace(temporary, manifest)
    else:  # as others do: the same file truncated and written again
        with open(manifest, "r+") as handle:
            handle.truncate(0)
            handle.write(text)


@pytest.mark.parametrize("atomic", [True, False])
def test_a_save_just_before_the_build_swaps_issue_toml_is_kept(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                               atomic: bool) -> None:
    manifest = workspace / "issues" / SAMPLE_WEEK / "issue.toml"
    build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    story = add_article(workspace, 1)
    saved: list[str] = []

    def hook(step: str) -> None:
        if step == "rewrite: wrote issue.toml" and not saved:  # the build's new text is ready, not yet in place
            set_subject(manifest, "Saved while the build appended", atomic=atomic)
            saved.append(step)

    monkeypatch.setattr(writer, "step_hook", hook)
    result = build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    text = manifest.read_text()
    assert saved and 'subject = "Saved while the build appended"' in text
    assert story in text and story in result.stories_added and text.count(story) == 1


def need_exchange(folder: Path) -> None:
    """Skip unless two files in ``folder`` can be swapped in one step (renameat2 RENAME_EXCHANGE)."""
    first, second = folder / ".exchange.a", folder / ".exchange.b"
    try:
        first.write_bytes(b"a")
        second.write_bytes(b"b")
        swapped = writer._exchange(first, second) and first.read_bytes() == b"b"
    finally:
        first.unlink(missing_ok=True)
        second.unlink(missing_ok=True)
    if not swapped:
        pytest.skip("this file system cannot swap two files atomically (renameat2 RENAME_EXCHANGE)")


@pytest.mark.parametrize("atomic", [True, False])
@pytest.mark.parametrize("saves", [1, 2])
def test_a_save_after_the_builds_last_look_is_kept(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                   atomic: bool, saves: int) -> None:
    """The editor saves after the build's final comparison and before its swap (the narrowest window;
    between threads of one process the interpreter may switch right there), once or twice in a row."""
    need_exchange(workspace)
    manifest = workspace / "issues" / SAMPLE_WEEK / "issue.toml"
    build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    story = add_article(workspace, 1)
    saved: list[str] = []

    def hook(step: str) -> None:
        if step == "rewrite: checked issue.toml" and len(saved) < saves:
            saved.append(f"Saved at the last moment {len(saved) + 1}")
            set_subject(manifest, saved[-1], atomic=atomic)

    monkeypatch.setattr(writer, "step_hook", hook)
    result = build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    text = manifest.read_text()
    assert len(saved) == saves and f'subject = "{saved[-1]}"' in text
    assert story in text and story in result.stories_added and text.count(story) == 1
    assert not [p.name for p in manifest.parent.iterdir() if p.name.startswith(".issue.toml.")]


def test_edits_during_repeated_builds_are_never_lost(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds append a story each while the editor keeps saving; every save must survive (bounded: 6 builds)."""
    manifest = workspace / "issues" / SAMPLE_WEEK / "issue.toml"
    build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    rng = random.Random(11)
    monkeypatch.setattr(writer, "step_hook", lambda step: time.sleep(0.003 if step.startswith("rewrite") else 0))
    stop = threading.Event()
    edits: list[str] = []
    lost: list[str] = []

    def editor() -> None:
        while not stop.is_set():
            if edits and f'subject = "{edits[-1]}"' not in manifest.read_text():
                lost.append(edits[-1])
            edits.append(f"Edit {len(edits) + 1}")
            set_subject(manifest, edits[-1], atomic=rng.random() < 0.5)
            time.sleep(rng.uniform(0.005, 0.05))  # a save every few hundredths of a second: a very busy editor

    stories = []
    thread = threading.Thread(target=editor, name="editor")
    thread.start()
    try:
        for n in range(1, 7):
            stories.append(add_article(workspace, n))
            for _ in range(20):
                try:
                    build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
                    break
                except ManifestError:  # it read a file saved in place, caught half-written: build again
                    continue
    finally:
        stop.set()
        thread.join(30)
    text = manifest.read_text()
    assert lost == [] and f'subject = "{edits[-1]}"' in text
    assert all(text.count(story) == 1 for story in stories)


def test_issue_toml_keeps_its_mode(workspace: Path) -> None:
    manifest = workspace / "issues" / SAMPLE_WEEK / "issue.toml"
    build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    manifest.chmod(0o600)
    story = add_article(workspace, 1)
    build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    assert story in manifest.read_text() and stat.S_IMODE(manifest.stat().st_mode) == 0o600


def test_issue_toml_is_written_through_its_symbolic_link(workspace: Path) -> None:
    manifest = workspace / "issues" / SAMPLE_WEEK / "issue.toml"
    kept = workspace / "manifests" / "w48.toml"
    kept.parent.mkdir()
    manifest.rename(kept)
    manifest.symlink_to(kept)
    story = add_article(workspace, 1)
    build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    assert manifest.is_symlink() and story in kept.read_text()


def test_a_read_only_issue_toml_is_left_alone_with_a_warning(workspace: Path) -> None:
    manifest = workspace / "issues" / SAMPLE_WEEK / "issue.toml"
    before = manifest.read_bytes()
    manifest.chmod(0o444)
    story = add_article(workspace, 1)
    result = build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    assert manifest.read_bytes() == before and stat.S_IMODE(manifest.stat().st_mode) == 0o444
    assert any("read-only" in w and story in w for w in result.warnings)
    assert story in [s.id for s in result.issue.stories]  # still in this build, at the end


def test_a_read_only_issue_toml_is_not_reported_as_updated(workspace: Path) -> None:
    """The build's summary must not say a story was added to a file it left alone."""
    from click.testing import CliRunner

    from newsletter.cli import cli

    manifest = workspace / "issues" / SAMPLE_WEEK / "issue.toml"
    manifest.chmod(0o444)
    story = add_article(workspace, 1)
    result = CliRunner().invoke(cli, ["build", "--week", SAMPLE_WEEK])
    assert result.exit_code == 0, result.output
    assert "read-only" in result.stderr and story in result.stderr
    assert f"added new story {story}" not in result.stdout, result.stdout


def test_the_preview_rebuilds_after_a_save_made_during_its_build(workspace: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview must not take the editor's save for its own write (and then never show it)."""
    from tests.test_preview import ARTICLE, get, running_preview, wait_until

    manifest = workspace / "issues" / SAMPLE_WEEK / "issue.toml"
    with running_preview(workspace) as run:
        saved: list[str] = []

        def hook(step: str) -> None:
            if step == "wrote email.html" and not saved:
                set_subject(manifest, "Saved during the preview's build", atomic=True)
                saved.append(step)

        monkeypatch.setattr(writer, "step_hook", hook)
        article = workspace / ARTICLE
        article.write_text(article.read_text() + "\nOne more line.\n")
        wait_until(lambda: bool(saved))
        wait_until(lambda: json.loads(get(run.port, f"/issues/{SAMPLE_WEEK}/issue.json")[2])["subject"]
                   == "Saved during the preview's build", timeout=20)


def test_messages_name_a_built_file_by_its_own_path(workspace: Path) -> None:
    from newsletter.errors import shown

    build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    path = workspace / "issues" / SAMPLE_WEEK / "issue.json"
    assert path.is_symlink() and shown(path) == f"issues/{SAMPLE_WEEK}/issue.json"


def test_an_in_place_save_begun_before_the_swap_and_written_after_is_kept(workspace: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """An editor that saves in place opens the file, then truncates and writes it; the build's swap
    can fall between the two, so the save lands in the file the swap took out of place."""
    need_exchange(workspace)
    manifest = workspace / "issues" / SAMPLE_WEEK / "issue.toml"
    build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    os.utime(manifest, (1, 1))  # saved long ago: one read of it is enough, no second look to wait for
    story = add_article(workspace, 1)
    swapped = threading.Event()
    editors: list[threading.Thread] = []

    def editor(handle: TextIO, text: str) -> None:
        swapped.wait(10)
        time.sleep(0.01)  # held up between opening and writing (a busy machine, a thread switch)
        handle.truncate(0)  # into the file now out of place
        handle.write(text)
        handle.close()

    def hook(step: str) -> None:
        if step == "rewrite: checked issue.toml" and not editors:
            text = re.sub(r'(?m)^subject = ".*"$', 'subject = "Saved in place"', manifest.read_text())
            editors.append(threading.Thread(target=editor, args=(open(manifest, "r+"), text)))  # noqa: SIM115
            editors[0].start()
        elif step == "rewrite: swapped issue.toml":
            swapped.set()

    monkeypatch.setattr(writer, "step_hook", hook)
    build_issue(load_config(None), Selection(week=SAMPLE_WEEK))
    editors[0].join(10)
    text = manifest.read_text()
    assert 'subject = "Saved in place"' in text and text.count(story) == 1


def test_a_save_taken_out_on_the_last_attempt_is_put_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need_exchange(tmp_path)
    target = tmp_path / "issue.toml"
    target.write_bytes(b"old\n")
    os.utime(target, (1, 1))  # long settled

    def hook(step: str) -> None:
        if step == "rewrite: checked issue.toml":
            target.write_bytes(b"the editor's save\n")

    monkeypatch.setattr(writer, "step_hook", hook)
    with pytest.raises(OutputError, match="nothing was lost"):
        writer.rewrite_file(target, lambda data: (data or b"") + b"appended\n", attempts=1)
    assert target.read_bytes() == b"the editor's save\n"
    assert [p.name for p in tmp_path.iterdir()] == ["issue.toml"]
