"""The command line: options in, one call out. Heavy modules are imported inside commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def selection_options(func: F) -> F:
    """The options every command shares to pick an edition and a workspace."""
    options = [
        click.option("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W48 (default: the current week)."),
        click.option(
            "--since", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD", help="First day of a custom range."
        ),
        click.option(
            "--until",
            type=click.DateTime(["%Y-%m-%d"]),
            metavar="YYYY-MM-DD",
            help="Last day of a custom range (inclusive).",
        ),
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
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Settings file (default: ./newsletter.toml).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _selection(week: str | None, since: Any, until: Any) -> Any:
    from newsletter.weeks import parse_selection

    return parse_selection(week, since.date() if since else None, until.date() if until else None)


def _config(
    config_path: Path | None, content_dir: Path | None, out_dir: Path | None, strict: bool | None = None
) -> Any:
    from newsletter.config import load_config

    return load_config(config_path, content_dir=content_dir, out_dir=out_dir, strict=strict)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsletter")
def cli() -> None:
    """Build a newsroom's weekly email from its article files, preview it, and export it.

    \b
    Examples:
      newsletter build --week 2026-W48
      newsletter preview
      newsletter export --to eml
      newsletter export --to listmonk --test-to editor@example.com
    """


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
    report(result, click.echo)


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
    help="eml, smtp, mailchimp, buttondown or listmonk (default: [export] default in newsletter.toml, else eml).",
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
) -> None:
    """Hand the issue to a mailing service as a draft, and send test emails.

    The tool never sends to your list: it creates or updates one draft per issue (recorded
    in issues/<week>/exports.json) and you send it from the service.

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
    )


def main() -> None:
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
