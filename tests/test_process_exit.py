"""The console script's exit: one-shot commands skip the interpreter's teardown (cli.main), yet
keep their exit status, their whole output and the exit handlers; other commands exit as usual."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from newsletter import cli
from tests.conftest import ROOT, SAMPLE_WEEK

# The console script's code, with two witnesses: an exit handler (must always run) and an object
# whose finaliser runs only when the interpreter tears its modules down.
SCRIPT = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("[exit handlers ran]\\n"))
class Witness:
    def __del__(self):
        sys.stderr.write("[torn down]\\n")
witness = Witness()
from newsletter.cli import main
main()
"""


def newsletter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_build_leaves_without_teardown_and_keeps_its_status_and_output(workspace: Path) -> None:
    done = newsletter("build", "--week", SAMPLE_WEEK, cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Built issues/{SAMPLE_WEEK}") and "email.html" in done.stdout
    assert "[exit handlers ran]" in done.stderr and "[torn down]" not in done.stderr


@pytest.mark.parametrize(("args", "status", "said"), [
    (("build", "--week", "2099-W01"), 1, "No articles dated"),  # the user's problem: exit 1, with the message
    (("build", "--weke", SAMPLE_WEEK), 2, "No such option '--weke'"),  # wrong usage: exit 2
])
def test_a_failing_command_keeps_its_exit_status_and_message(workspace: Path, args: tuple[str, ...], status: int,
                                                             said: str) -> None:
    done = newsletter(*args, cwd=workspace)
    assert done.returncode == status and said in done.stderr
    assert "[exit handlers ran]" in done.stderr


def test_a_long_result_on_stdout_arrives_whole(workspace: Path) -> None:
    done = newsletter("check", "--week", SAMPLE_WEEK, "--no-links", "--json", cwd=workspace)
    report = json.loads(done.stdout)  # every byte flushed before the process ended
    assert report["issue"] == SAMPLE_WEEK and done.returncode == (0 if report["ok"] else 1)
    assert "[torn down]" not in done.stderr


def test_a_long_running_command_exits_as_usual(workspace: Path) -> None:
    assert newsletter("build", "--week", SAMPLE_WEEK, cwd=workspace).returncode == 0
    done = newsletter("archive", cwd=workspace)  # not one-shot: Python's own exit, teardown included
    assert done.returncode == 0, done.stderr
    assert "[exit handlers ran]" in done.stderr and "[torn down]" in done.stderr


def test_nothing_unusual_is_cut_short() -> None:
    """A thread still running, or a status that is not a number, takes Python's ordinary exit."""
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        assert cli._leave(0) is None  # returned: the process is still here
    finally:
        release.set()
        worker.join()
    assert cli._leave("a message for Python to print") is None


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_a_stream_closed_from_the_start_neither_fails_the_command_nor_shows_a_traceback(
        workspace: Path, closed: str) -> None:
    """`newsletter build >&-` or `2>&-`: Python starts with that stream as None; the build still exits 0."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kept = subprocess.PIPE
    done = subprocess.run([sys.executable, "-c", "from newsletter.cli import main; main()", "build", "--week",
                           SAMPLE_WEEK], cwd=workspace, env=env, timeout=120, text=True,
                          stdout=kept if closed == "stderr" else None, stderr=kept if closed == "stdout" else None,
                          pass_fds=(), preexec_fn=lambda: os.close(1 if closed == "stdout" else 2))
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "Traceback" not in (done.stderr or "") + (done.stdout or "")
    assert (workspace / "issues" / SAMPLE_WEEK / "email.html").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_output_to_a_full_disk_is_a_message_not_a_traceback(workspace: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-c", SCRIPT, "build", "--week", SAMPLE_WEEK], cwd=workspace, env=env,
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 1 and "No space left on device" in done.stderr and "run the command again" in done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert (workspace / "issues" / SAMPLE_WEEK / "email.html").is_file()  # the build itself was done
