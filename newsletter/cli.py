"""The command line: options in, one call out. Heavy modules are imported inside commands."""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _options(*options: Callable[[F], F]) -> Callable[[F], F]:
    """Several click options as one decorator, in the order given."""

    def apply(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return apply


_DATE = click.DateTime(["%Y-%m-%d"])
# The days of an edition: every command that works on one takes these.
range_options = _options(
    click.option("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W48 (default: the current week)."),
    click.option("--since", type=_DATE, metavar="YYYY-MM-DD", help="First day of a custom range."),
    click.option("--until", type=_DATE, metavar="YYYY-MM-DD", help="Last day of a custom range (inclusive)."),
)
config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Settings file (default: the nearest newsletter.toml in this folder or above).",
)
# The days plus the workspace's folders: the options build, preview, check and export share.
selection_options = _options(
    range_options,
    click.option(
        "--content",
        "content_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder of article files (default: content/).",
    ),
    click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder of editions (default: issues/).",
    ),
    config_option,
)


def _echo_error(message: str) -> None:
    """Diagnostics (warnings, progress, problems) go to stderr; results to stdout."""
    click.echo(message, err=True)


def _selection(week: str | None, since: Any, until: Any) -> Any:
    from newsletter.weeks import parse_selection

    return parse_selection(week, since.date() if since else None, until.date() if until else None)


def _config(
    config_path: Path | None, content_dir: Path | None, out_dir: Path | None, strict: bool | None = None
) -> Any:
    from newsletter.config import load_config

    config = load_config(config_path, content_dir=content_dir, out_dir=out_dir, strict=strict)
    if config.path is None:
        click.echo(
            "No newsletter.toml in this folder or any folder above it: using the default settings "
            "(`newsletter init` writes one to edit).",
            err=True,
        )
    return config


# Commands that do one edition's work and exit. The cyclic garbage collector would only spend
# time there (about 10% of a build's CPU, most of it re-scanning the objects the imports create)
# to free little: reference counting frees nearly everything, and what one edition leaves in
# cycles is bounded. preview (runs for hours), gather and archive (any number of posts or
# editions, HTML trees full of cycles) keep it. They also leave without the interpreter's
# teardown (see main).
ONE_SHOT = frozenset({"build", "check", "export", "init", "docs"})
_one_shot_ran = False
_OUTPUT_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EIO}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsletter")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Build a newsroom's weekly email from its article files, preview it, and export it.

    \b
    Examples:
      newsletter build --week 2026-W48
      newsletter preview
      newsletter check
      newsletter export --to eml
      newsletter export --to listmonk --test-to editor@example.com
    """
    global _one_shot_ran
    if ctx.invoked_subcommand in ONE_SHOT:
        gc.disable()
        _one_shot_ran = True


@cli.command("build")
@selection_options
@click.option("--strict", is_flag=True, default=None, help="Treat every warning as an error (exit 1).")
@click.option("--skip-invalid", is_flag=True, help="Build from the usable articles and list the files skipped.")
def build_command(
    week: str | None,
    since: Any,
    until: Any,
    content_dir: Path | None,
    out_dir: Path | None,
    config_path: Path | None,
    strict: bool | None,
    skip_invalid: bool,
) -> None:
    """Build the week's email into issues/<week>/.

    Writes email.html, email.txt and issue.json, and on the first build issue.toml, the
    manifest you edit to reorder stories or change the subject.

    \b
    Examples:
      newsletter build                      # the current week
      newsletter build --week 2026-W48
      newsletter build --since 2026-11-01 --until 2026-11-14
      newsletter build --strict             # warnings fail the build
    """
    from newsletter.build import build_issue, report

    selection = _selection(week, since, until)
    config = _config(config_path, content_dir, out_dir, strict)
    result = build_issue(config, selection, skip_invalid=skip_invalid)
    report(result, click.echo, _echo_error)


@cli.command("preview")
@selection_options
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to serve on (0 picks a free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on; another than 127.0.0.1 exposes the preview to your network.",
)
@click.option("--no-open", is_flag=True, help="Do not open a browser.")
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Also answer to this host name (repeatable); this machine's own names and addresses always work.",
)
def preview_command(
    week: str | None,
    since: Any,
    until: Any,
    content_dir: Path | None,
    out_dir: Path | None,
    config_path: Path | None,
    port: int,
    host: str,
    no_open: bool,
    allowed_hosts: tuple[str, ...],
) -> None:
    """Build the issue and preview it in the browser, rebuilding on every change.

    The page shows the email at 320, 375 or 600 px or full width, in light or dark mode,
    with its plain-text part, HTML source and the build's warnings. Stop with Ctrl-C.

    \b
    Examples:
      newsletter preview
      newsletter preview --week 2026-W47 --port 8001 --no-open
    """
    from newsletter.preview import serve

    selection = _selection(week, since, until)
    config = _config(config_path, content_dir, out_dir)
    serve(config, selection, config_path=config_path, host=host, port=port, open_browser=not no_open,
          allowed_hosts=allowed_hosts)


@cli.command("export")
@click.option(
    "--to",
    "service",
    metavar="SERVICE",
    help="eml, smtp, mailchimp, buttondown, listmonk, brevo, sendgrid or kit "
    "(default: [export] default in newsletter.toml, else eml).",
)
@selection_options
@click.option("--dry-run", is_flag=True, help="Print the requests it would make (secrets redacted) and change nothing.")
@click.option(
    "--test-to", "test_to", multiple=True, metavar="ADDRESS", help="Send a test email to this address (repeatable)."
)
@click.option(
    "--new", "force_new", is_flag=True, help="Create a fresh draft instead of updating the one already exported."
)
@click.option("--list", "list_services", is_flag=True, help="List the services and what each supports.")
@click.option("--no-links", is_flag=True, help="Check the issue without fetching its links and images.")
@click.option("--force", is_flag=True, help="Export even when the check finds errors (recorded in exports.json).")
def export_command(
    service: str | None,
    week: str | None,
    since: Any,
    until: Any,
    content_dir: Path | None,
    out_dir: Path | None,
    config_path: Path | None,
    dry_run: bool,
    test_to: tuple[str, ...],
    force_new: bool,
    list_services: bool,
    no_links: bool,
    force: bool,
) -> None:
    """Hand the issue to a mailing service as a draft, and send test emails.

    The tool never sends to your list: it creates or updates one draft per issue (recorded
    in issues/<week>/exports.json) and you send it from the service. It runs `newsletter
    check` first and exports nothing when the check finds an error (unless --force).

    \b
    Examples:
      newsletter export                                 # issues/<week>/message.eml
      newsletter export --to smtp --test-to me@example.com
      newsletter export --to mailchimp --dry-run
      newsletter export --to listmonk --test-to editor@example.com
      newsletter export --list
    """
    from newsletter import export

    if list_services:
        click.echo(export.describe_services())
        return
    selection = _selection(week, since, until)
    config = _config(config_path, content_dir, out_dir)
    export.export_issue(
        config,
        selection,
        service or config.default_service,
        dry_run=dry_run,
        test_to=test_to,
        force_new=force_new,
        echo=click.echo,
        links=not no_links,
        force=force,
        echo_error=_echo_error,
    )


@cli.command("check")
@selection_options
@click.option("--no-links", is_flag=True, help="Do not fetch links and images (offline; every other rule runs).")
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too, not only on errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON on stdout.")
def check_command(
    week: str | None,
    since: Any,
    until: Any,
    content_dir: Path | None,
    out_dir: Path | None,
    config_path: Path | None,
    no_links: bool,
    strict: bool,
    as_json: bool,
) -> None:
    """Check the issue before it goes out: settings, leftovers, links, size, subject.

    Builds the issue first when it is missing or older than its sources. Prints the errors
    (the email must not go out like this) and warnings, each with where it is (file and
    line, story or setting) and what to do. Exit 1 when there is an error, or with --strict
    a warning. `newsletter export` runs the same check and refuses what it refuses.

    \b
    Examples:
      newsletter check
      newsletter check --week 2026-W48 --no-links
      newsletter check --strict --json > check.json
    """
    from newsletter.check import runner as check

    selection = _selection(week, since, until)
    # the settings are read inside the check: with --json, settings that cannot be used are a report too
    check.run(lambda: _config(config_path, content_dir, out_dir), selection, links=not no_links, strict=strict,
              as_json=as_json)


@cli.command("archive")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the site (default: [archive] dir in newsletter.toml, else site/).",
)
@config_option
def archive_command(out_dir: Path | None, config_path: Path | None) -> None:
    """Write the web archive: a page per built edition, an index, an Atom feed and a sitemap.

    It publishes the editions under issues/ as they were built (their web.html and
    issue.json) and rewrites only what changed since the last run. Upload the folder to any
    static host; set [archive] url in newsletter.toml to the address it will have.

    \b
    Examples:
      newsletter archive                    # site/
      newsletter archive --out public
      newsletter build --week 2026-W48 && newsletter archive
    """
    from newsletter.archive import build_archive, report

    config = _config(config_path, None, None)
    result = build_archive(config, out_dir)
    report(result, click.echo, lambda text: click.echo(text, err=True))


@cli.command("gather")
@range_options
@click.option(
    "--source",
    "source_names",
    multiple=True,
    metavar="NAME",
    help="Gather only from [sources.NAME] (repeatable; default: every enabled source).",
)
@click.option("--dry-run", is_flag=True, help="List the files it would write or update, and change nothing.")
@click.option(
    "--content",
    "content_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the articles into (default: content/).",
)
@config_option
def gather_command(
    week: str | None,
    since: Any,
    until: Any,
    source_names: tuple[str, ...],
    dry_run: bool,
    content_dir: Path | None,
    config_path: Path | None,
) -> None:
    """Fetch the week's posts from the [sources] in newsletter.toml into content/ as articles.

    Reads RSS/Atom feeds and WordPress sites (REST API) and writes one Markdown article per post,
    content/YYYY/MM/YYYY-MM-DD-<slug>.md. Gathering again updates posts changed on the site and
    never overwrites a file you edited. See `newsletter docs sources`.

    \b
    Examples:
      newsletter gather                          # this week, every source
      newsletter gather --week 2026-W48 --dry-run
      newsletter gather --source site --since 2026-11-01 --until 2026-11-14
    """
    from newsletter.gather import gather

    selection = _selection(week, since, until)
    config = _config(config_path, content_dir, None)
    gather(config, selection, source_names=source_names, dry_run=dry_run)


@cli.command("init")
@click.argument("folder", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
def init_command(folder: Path) -> None:
    """Start a publication in FOLDER (default: this folder).

    Writes newsletter.toml with every setting explained (the values to change are marked
    CHANGE), a .gitignore, and content/ with a plain-text and a Markdown sample article of
    this week, so `newsletter build` and `newsletter preview` work at once. Never overwrites
    a file; samples are added only while content/ holds no articles.

    \b
    Examples:
      newsletter init                     # here
      newsletter init ~/my-weekly         # a new folder
    """
    from newsletter.errors import shown
    from newsletter.scaffold import init_workspace

    results = init_workspace(folder)
    for item in results:
        if item.written:
            click.echo(f"Wrote {shown(item.path)}")
        else:
            _echo_error(f"{shown(item.path)}: {item.why}.")
    where = "" if folder.resolve() == Path.cwd().resolve() else f"cd {shown(folder)}, "
    click.echo(
        f"Next: {where}replace the values marked CHANGE in newsletter.toml, then run `newsletter build` and "
        "`newsletter preview`. `newsletter docs` lists the documentation."
    )


@cli.command("docs")
@click.argument("topic", required=False)
def docs_command(topic: str | None) -> None:
    """Show the documentation that came with this version, offline.

    Without TOPIC, lists the topics. Messages that say "See `newsletter docs services`"
    point here.

    \b
    Examples:
      newsletter docs                     # the list of topics
      newsletter docs configuration       # every setting of newsletter.toml
      newsletter docs services | less
    """
    from newsletter import manual

    if topic is None:
        click.echo("Topics (newsletter docs TOPIC):")
        for name, title in manual.topics().items():
            click.echo(f"  {name:<15} {title}")
        click.echo(f"The pages are Markdown files in {manual.docs_dir()}")
        return
    text = manual.page(topic)
    if text is None:
        raise click.UsageError(f"No topic '{topic}'. Choose one of: {', '.join(manual.topics())}.")
    click.echo(text)


def main() -> None:
    """The ``newsletter`` console script: runs a command, then ends the process.

    A one-shot command (``ONE_SHOT``) ends with ``os._exit`` once its work is done, the exit
    handlers run and its output flushed, instead of tearing the interpreter down: freeing
    every object and module of jinja2, lxml, cssutils and the rest costs about 80 ms of CPU at
    each exit (a fifth of a build) for memory the system takes back anyway. mypy's command line
    leaves the same way (``util.hard_exit``). Files are closed by then, and what a build writes is
    already flushed to disk (``writer``). Anything unusual (an uncaught exception, a thread still
    running, output that cannot be flushed) takes Python's ordinary exit. Embed ``cli`` instead
    (as ``click.testing.CliRunner`` does) to keep the process.
    """
    try:
        cli()
    except SystemExit as done:
        if _one_shot_ran:
            _leave(done.code)
        raise
    except OSError as error:
        if error.errno not in _OUTPUT_FULL:
            raise  # not the user's disk: a bug, shown with its traceback
        _output_failed(error)


def _output_failed(error: OSError) -> None:
    """A full disk (or a dead device) under stdout, such as ``> /dev/full``: say so on stderr, exit 1."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        click.echo(f"Error: could not write: {error.strerror or error}. The tool replaces its files in one "
                   "step, so none is left half-written; free some space (or send the output elsewhere) and run "
                   "the command again.", err=True)
    with contextlib.suppress(OSError, ValueError, AttributeError):  # what is still buffered goes nowhere
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(1)


def _leave(code: object) -> None:
    """``os._exit(code)`` after flushing, when nothing else needs Python's own exit; else return."""
    status = 0 if code is None else code
    threading = sys.modules.get("threading")
    if type(status) is not int or (threading is not None and threading.active_count() > 1):
        return
    import atexit

    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)  # CPython's: what a normal exit runs
    if run_exit_handlers is not None:
        run_exit_handlers()  # logging's shutdown among them: its handlers flushed and closed
    else:
        logging = sys.modules.get("logging")
        if logging is not None:
            logging.shutdown()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: started with that descriptor closed (`>&-`), nothing to flush
                stream.flush()
    except (OSError, ValueError):  # a closed pipe: let Python report it as it does
        return
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    main()
