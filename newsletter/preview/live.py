"""The live edition behind the preview: rebuilds when its sources change and wakes the open pages."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
import watchfiles
from msgspec import Struct
from watchfiles import Change, DefaultFilter

from newsletter.config import CONFIG_NAME, Config, load_config
from newsletter.errors import ContentError, ContentErrors, NewsletterError
from newsletter.weeks import Selection, resolve

MANIFEST_NAME = "issue.toml"
Builder = Callable[[Config, Selection], Any]  # build_issue, or a stand-in in tests


class Problem(Struct, frozen=True):
    """One thing the editor must fix: where (file:line), what is wrong, what to do."""

    where: str
    problem: str
    hint: str = ""


class Outcome(Struct, frozen=True):
    """The result of the latest build of the live edition, as the page shows it."""

    generation: int  # counts finished builds; the page reloads the email when it changes
    key: str | None  # the edition's folder under issues/ (None when even the settings are broken)
    ok: bool
    finished: float = 0.0  # time.time() of the end of the build
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()
    title: str = ""
    message: str = ""
    problems: tuple[Problem, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "generation": self.generation, "key": self.key, "ok": self.ok, "finished": self.finished,
            "seconds": round(self.seconds, 3), "warnings": list(self.warnings),
            "error": None if self.ok else {
                "title": self.title, "message": self.message,
                "problems": [{"where": p.where, "problem": p.problem, "hint": p.hint} for p in self.problems],
            },
        }


def describe_failure(error: NewsletterError, root: Path) -> tuple[str, tuple[Problem, ...]]:
    """A failed build as the page lists it: one Problem per unusable file when the build knows them."""
    errors: list[ContentError] = []
    if isinstance(error, ContentErrors):
        errors = error.errors
    elif isinstance(error, ContentError):
        errors = [error]
    problems = tuple(Problem(_where(e, root), e.problem, e.hint) for e in errors)
    title = {
        "ConfigError": "The settings cannot be used",
        "ManifestError": "The issue's manifest (issue.toml) cannot be used",
        "EmptySelection": "No articles for this edition",
        "StrictFailure": "Strict mode: the build has warnings",
        "ThemeError": "A theme template is broken",
    }.get(type(error).__name__, "Some article files cannot be used" if errors else "The build failed")
    return title, problems


def _where(error: ContentError, root: Path) -> str:
    """file:line, relative to the workspace when inside it, so the page stays readable."""
    path = error.path
    with contextlib.suppress(ValueError, OSError):
        path = path.resolve().relative_to(root.resolve())
    return f"{path}:{error.line}" if error.line else str(path)


def _digest(path: Path) -> str | None:
    """A digest of issue.toml's text as the build reads it (a BOM or CR/LF line ends do not count)."""
    try:
        text = path.read_bytes().decode("utf-8-sig", "replace")
    except OSError:
        return None
    return _text_digest(text)


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.replace("\r\n", "\n").replace("\r", "\n").encode()).hexdigest()


class LiveIssue:
    """Builds the chosen edition, keeps the last outcome and tells waiting pages when it changes.

    Settings are read again before every build, so a change to newsletter.toml applies at once;
    ``--content``/``--out`` given on the command line keep overriding the file.
    """

    def __init__(self, config: Config, selection: Selection, *, config_path: Path | None,
                 build: Builder | None = None, echo: Callable[[str], Any] = click.echo,
                 echo_error: Callable[[str], Any] | None = None):
        self.config = config
        self.selection = selection
        # The file the settings came from, fixed now: a later `cd` must not switch workspaces.
        self._config_path = config_path if config_path is not None else config.path
        self._overrides = _overrides(config, config_path)
        self._build = build or _default_build
        self._echo = echo
        self._echo_error = echo_error or (lambda text: click.echo(text, err=True))
        self._build_lock = threading.Lock()
        self._changed = threading.Condition()
        self._version = 0  # counts every change of state, building or built
        self._building = False
        self._outcome = Outcome(0, None, ok=False, title="Building…")
        self._own_manifest: str | None = None
        self._closed = False
        self._check: dict[str, Any] | None = None  # the live edition's `newsletter check`, as the page shows it
        self._check_stop = threading.Event()

    # -- what the page sees -------------------------------------------------------------

    def state(self) -> tuple[int, dict[str, Any]]:
        with self._changed:
            data = self._outcome.to_json()
            data["building"] = self._building
            data["check"] = self._check
            return self._version, data

    @property
    def outcome(self) -> Outcome:
        with self._changed:
            return self._outcome

    def wait(self, seen: int, timeout: float) -> int:
        """Block until the state's version differs from ``seen`` (or timeout, or close); return it."""
        with self._changed:
            self._changed.wait_for(lambda: self._version != seen or self._closed, timeout)
            return self._version

    def close(self) -> None:
        self._check_stop.set()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    # -- building -----------------------------------------------------------------------

    def rebuild(self) -> Outcome:
        """Build once; a NewsletterError becomes the page's error and the preview keeps running."""
        with self._build_lock:
            if self._closed:
                return self._outcome  # the preview is stopping: write nothing more
            self._publish(building=True)
            started = time.monotonic()
            key: str | None = self._outcome.key
            generation = self._outcome.generation + 1
            built: Any = None
            try:
                config = self.config = self._load_config()  # watch the new folders even if the build fails
                key = resolve(self.selection, config.tz).key
                result = self._build(config, self.selection)
            except NewsletterError as error:
                title, problems = describe_failure(error, self.config.root)
                outcome = Outcome(generation, key, False, time.time(), time.monotonic() - started,
                                  title=title, message=error.format_message(), problems=problems)
                self._echo_error(f"Build failed: {error.format_message()}")
            except Exception:
                # A bug, not the editor's doing: print the whole traceback in the terminal, as
                # mkdocs' dev server does, but keep serving so the next save can recover.
                self._echo_error(traceback.format_exc())
                outcome = Outcome(generation, key, False, time.time(), time.monotonic() - started,
                                  title="The build crashed (a bug in newsletter)",
                                  message="The traceback is in the terminal running `newsletter preview`. "
                                          "Please report it.")
            else:
                built = result
                key = result.period.key
                # What the build read (and appended to), not what is on disk now: an edit saved
                # during the build differs from it, so its change event still rebuilds.
                built_from = getattr(result, "manifest_text", None)
                self._own_manifest = _text_digest(built_from) if built_from else _digest(result.folder / MANIFEST_NAME)
                outcome = Outcome(generation, key, True, time.time(), time.monotonic() - started,
                                  warnings=tuple(result.issue.warnings))
                plural = "s" if len(outcome.warnings) != 1 else ""
                self._echo(f"Built {key} in {outcome.seconds:.2f} s"
                           + (f" ({len(outcome.warnings)} warning{plural})" if outcome.warnings else ""))
            self._start_check(outcome, built)
            self._publish(building=False, outcome=outcome)
            return outcome

    # -- the check, in the background --------------------------------------------------------

    def _start_check(self, outcome: Outcome, result: Any) -> None:
        """Check the new build beside the page: the offline rules at once, then the links and the spam score."""
        from newsletter.build import BuildResult

        self._check_stop.set()  # an older build's check: its answers no longer matter
        self._check_stop = stop = threading.Event()
        checking = isinstance(result, BuildResult)  # not after a failed build, nor with a stand-in builder
        with self._changed:  # published with the build's outcome, right after
            self._check = {"generation": outcome.generation, "status": "checking", "message": "", "errors": [],
                           "warnings": [], "notes": [], "summary": ""} if checking else None
        if not checking:
            return
        config = self.config
        threading.Thread(target=self._run_check, args=(config, result, outcome.generation, stop),
                         name="preview-check", daemon=True).start()

    def _run_check(self, config: Config, result: Any, generation: int, stop: threading.Event) -> None:
        from newsletter.check.runner import check_edition, check_offline, edition_of

        try:
            edition = edition_of(result, config)
            # The offline rules run once: shown at once, then kept in the full report with the links'.
            offline = check_offline(config, edition)
            quick = check_edition(config, edition, links=False, spam=False, save_cache=False, offline=offline)
            self._show_check(generation, stop, quick, "checking-links")
            full = check_edition(config, edition, stop=stop, offline=offline)
            if self._show_check(generation, stop, full, "done"):
                self._echo(f"Checked {edition.key}: {full.summary()}"
                           + (" (see the page's Warnings)" if full.findings else ""))
        except NewsletterError as error:
            self._show_check(generation, stop, None, "failed", error.format_message())
        except Exception:
            if stop.is_set() or self._closed:
                return  # the preview is stopping (Ctrl-C): whatever broke underneath no longer matters
            self._echo_error(traceback.format_exc())  # a bug: keep previewing, say so on the page
            self._show_check(generation, stop, None, "failed", "The check crashed (a bug in newsletter): the "
                             "traceback is in the terminal running `newsletter preview`.")

    def _show_check(self, generation: int, stop: threading.Event, report: Any, status: str,
                    message: str = "") -> bool:
        with self._changed:
            if stop.is_set() or self._closed or (self._check or {}).get("generation") != generation:
                return False  # a newer build has its own check
            data: dict[str, Any] = {"generation": generation, "status": status, "message": message,
                                    "errors": [], "warnings": [], "notes": [], "summary": ""}
            if report is not None:
                full = report.to_json()
                data.update(errors=full["errors"], warnings=full["warnings"], summary=report.summary(),
                            notes=[n for n in full["notes"] if "--no-links" not in n], ignored=full["ignored"])
            self._check = data
            self._version += 1
            self._changed.notify_all()
            return True

    def _publish(self, *, building: bool, outcome: Outcome | None = None) -> None:
        with self._changed:
            self._building = building
            if outcome is not None:
                self._outcome = outcome
            self._version += 1
            self._changed.notify_all()

    def _load_config(self) -> Config:
        content_dir, out_dir = self._overrides
        return load_config(self._config_path, content_dir=content_dir, out_dir=out_dir)

    # -- what to watch ------------------------------------------------------------------

    @property
    def config_file(self) -> Path:
        path = self._config_path or self.config.path or Path.cwd() / CONFIG_NAME
        return Path(path).resolve()

    def folder(self) -> Path | None:
        key = self._outcome.key
        return (self.config.out_dir / key).resolve() if key else None

    def watch_targets(self) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
        """(folders watched with their subfolders, folders watched alone), existing ones only.

        Folders rather than files: editors save by writing a new file and renaming it, which
        a watch on the old file would miss.
        """
        config = self.config
        deep = self.source_dirs()
        flat = [self.config_file.parent, config.root.resolve(), config.out_dir.resolve()]
        folder = self.folder()
        if folder is not None:
            flat.append(folder)
            flat.append(self.manifest_file(folder).parent)  # issue.toml may be a link to elsewhere
        return _existing(deep), _existing(p for p in flat if p not in deep)

    @staticmethod
    def manifest_file(folder: Path) -> Path:
        """The file the edition's issue.toml is: itself, or what its symbolic link points to."""
        return Path(os.path.realpath(folder / MANIFEST_NAME))

    def source_dirs(self) -> tuple[Path, ...]:
        """The article folder and every theme folder, whether they exist now or not."""
        from newsletter.render import theme_dirs

        config = self.config
        themes = [d.resolve() for d in theme_dirs(config)]
        return tuple(dict.fromkeys([config.content_dir.resolve(), config.templates_dir.resolve(), *themes]))

    def relevant(self, change: Change, raw: str) -> bool:
        """Whether a file-system change is a source of the live edition (and not our own write)."""
        path = Path(raw)
        if not _DEFAULT_FILTER(change, raw):
            return False
        config = self.config
        out_dir = config.out_dir.resolve()
        folder = self.folder()
        if folder is not None and path in (folder / MANIFEST_NAME, self.manifest_file(folder)):
            # The build itself writes issue.toml on the first build and when it appends a story.
            return _digest(path) != self._own_manifest
        if _inside(path, out_dir):
            return False  # email.html, issue.json, temporary files: the build's output
        if path == self.config_file:
            return True
        return any(path == source or _inside(path, source) for source in self.source_dirs())


_DEFAULT_FILTER = DefaultFilter()


def _default_build(config: Config, selection: Selection) -> Any:
    from newsletter.build import build_issue

    return build_issue(config, selection)


def _overrides(config: Config, config_path: Path | None) -> tuple[str | None, str | None]:
    """Which of --content/--out the command line set: they differ from what the file alone says."""
    plain = load_config(config_path)
    content = config.build.content_dir if config.build.content_dir != plain.build.content_dir else None
    out = config.build.out_dir if config.build.out_dir != plain.build.out_dir else None
    return content, out


def _inside(path: Path, folder: Path) -> bool:
    return path != folder and path.is_relative_to(folder)


def _existing(paths: Iterable[Path]) -> tuple[Path, ...]:
    seen: list[Path] = []
    for path in paths:
        if path.is_dir() and path not in seen:
            seen.append(path)
    return tuple(seen)


class Watcher(threading.Thread):
    """Watches one kind of target (deep or flat) and rebuilds on relevant changes.

    Re-reads its targets four times a second, so a folder that appears later (the edition's
    folder after its first build, a new templates/) or a changed content_dir is picked up.
    """

    def __init__(self, live: LiveIssue, *, deep: bool, stop: threading.Event):
        super().__init__(name=f"preview-watch-{'deep' if deep else 'flat'}", daemon=True)
        self.live = live
        self.deep = deep
        self.stop = stop
        self.ready = threading.Event()  # set once the first watch is in place

    def targets(self) -> tuple[Path, ...]:
        deep, flat = self.live.watch_targets()
        return deep if self.deep else flat

    def run(self) -> None:
        previous: tuple[Path, ...] | None = None
        while not self.stop.is_set():
            paths = self.targets()
            if not paths:
                self.ready.set()
                self.stop.wait(0.25)
                continue
            # A source folder that came (back) into view may have changed before it was watched.
            catch_up = self.deep and previous is not None and bool(set(paths) - set(previous))
            previous = paths
            for changes in watchfiles.watch(*paths, watch_filter=self.live.relevant, recursive=self.deep,
                                            debounce=400, step=50, rust_timeout=250, yield_on_timeout=True,
                                            stop_event=self.stop, raise_interrupt=False):
                # The first yield (a change, or the timeout) comes after the watch is in place.
                self.ready.set()
                if changes or catch_up:
                    catch_up = False
                    self.live.rebuild()
                if self.targets() != paths:
                    break


def start_watching(live: LiveIssue, stop: threading.Event) -> list[Watcher]:
    watchers = [Watcher(live, deep=True, stop=stop), Watcher(live, deep=False, stop=stop)]
    for watcher in watchers:
        watcher.start()
    for watcher in watchers:
        # Only then is the page announced: an edit made right after must not go unseen.
        watcher.ready.wait(5)
    return watchers

