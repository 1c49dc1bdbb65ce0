"""export_issue(): build the issue, hand it to a mailing service, record the draft in exports.json.

exports.json is what keeps one draft per issue and service::

    {"issue": "2026-W48",
     "drafts":  {"listmonk": {"remote_id": "12", "url": "...", "marker": "nl-2026-W48-1a2b3c4d",
                              "content_hash": "sha256:...", "created": "...", "updated": "..."}},
     "pending": {"listmonk": {"marker": "nl-2026-W48-1a2b3c4d", "started": "..."}},
     "history": [{"service": "listmonk", "action": "created", "remote_id": "12", "url": "...",
                  "content_hash": "sha256:...", "time": "...", "test_to": []}]}

Before a draft is created its marker is written to ``pending``; the service stores the marker on
the draft (tag, metadata or title). If the run dies between "created" and "recorded", the next
run finds the draft by that marker and adopts it instead of creating a second one.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import httpx

from newsletter.config import Config, line_of
from newsletter.errors import ConfigError, ServiceError, printable, shown
from newsletter.manual import see
from newsletter.models import ExportResult, Links, RenderedEmail
from newsletter.services import SERVICES, service_class
from newsletter.services.base import HTTP_SETTINGS, MARKER, Draft, ExportJob, Outcome, Service
from newsletter.services.redaction import one_line, web_url
from newsletter.weeks import Selection
from newsletter.writer import edition_lock, write_file

EXPORTS_NAME = "exports.json"
Echo = Callable[[str], Any]
# One address, as --test-to takes it: no spaces, commas, brackets or control characters, which
# could add recipients or headers to the message.
_PART = r'[^\s@,;:<>()\[\]\\"\x00-\x1f\x7f]+'
TEST_ADDRESS = re.compile(rf"{_PART}@{_PART}")


def export_issue(config: Config, selection: Selection, service_name: str, *, dry_run: bool = False,
                 test_to: tuple[str, ...] = (), force_new: bool = False, echo: Echo = click.echo,
                 client: httpx.Client | None = None, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, links: bool = True,
                 force: bool = False, echo_error: Echo | None = None) -> ExportResult:
    """Build the issue (always: it is cheap and never stale), check it, then export it with ``export_email``.

    The check (newsletter.check.runner) refuses what `newsletter check` refuses; ``force`` exports
    anyway and records the errors it let through in exports.json. Results (what was created or
    written, a dry run's requests) go to ``echo``; warnings and progress (retries) to
    ``echo_error``, by default the same.
    """
    from newsletter.build import build_issue, standalone_links
    from newsletter.check.runner import announce_changes, preflight

    warn = echo_error or echo
    service = open_service(config, service_name, test_to, echo=echo, client=client, transport=transport, sleep=sleep,
                           warn=warn)
    try:
        announce_changes(config, selection)
        build = build_issue(config, selection, write=not dry_run)
        for warning in build.warnings:
            warn(printable(f"Warning: {warning}"))
        forced = preflight(config, build, links=links, force=force, save_cache=not dry_run, dry_run=dry_run)
        return export_email(service, build.period.key, build.folder, build.email,
                            standalone_links(config, build.period.key), dry_run=dry_run, test_to=test_to,
                            force_new=force_new, echo=echo, forced=forced)
    finally:
        service.close()


def open_service(config: Config, service_name: str, test_to: tuple[str, ...] = (), *, echo: Echo = click.echo,
                 client: httpx.Client | None = None, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, warn: Echo | None = None) -> Service:
    """The named service with its settings checked; wrong usage is a click.UsageError (exit 2).

    ``warn`` gets the service's diagnostics (retries, warnings); by default stderr.
    """
    check_export_settings(config)
    cls = service_class(service_name)
    if cls is None:
        raise click.UsageError(f"Unknown service '{service_name}'. Choose one of: {', '.join(SERVICES)} "
                               "(newsletter export --list shows what each supports).")
    for address in test_to:
        if not TEST_ADDRESS.fullmatch(address):
            raise click.UsageError(f"--test-to {one_line(address, 200)!r} is not one email address "
                                   "(like editor@example.com); give --test-to once for each address.")
    if test_to and not cls.features.test_send:
        raise click.UsageError(f"{cls.label} cannot send test emails; use --to smtp (or your mailing service) "
                               "with --test-to.")
    return cls(config, echo=echo, client=client, transport=transport, sleep=sleep, warn=warn)


def check_export_settings(config: Config) -> None:
    """[export] may hold only ``default`` and one table per known service, each setting of its kind
    (Service.read_file_settings): a typo must not be ignored, in a dry run as in a real export."""
    known = ", ".join(SERVICES)
    for name, value in config.export.items():
        if name == "default":
            if not isinstance(value, str) or value not in SERVICES:
                raise ConfigError(f"{line_of(config.path, 'export', 'default')}: [export] default = {value!r} is not "
                                  f"a service. Choose one of: {known}.")
        elif name not in SERVICES or not isinstance(value, dict):
            raise ConfigError(f"{line_of(config.path, f'export.{name}')}: unknown [export.{name}]. "
                              f"Services have tables [export.<service>], one of: {known}.")
        else:  # every service's table, not only the one exporting now: a typo must not wait for its turn
            SERVICES[name].read_file_settings(config)


def export_email(service: Service, key: str, folder: Path, email: RenderedEmail, links: Links, *,
                 dry_run: bool = False, test_to: tuple[str, ...] = (), force_new: bool = False,
                 echo: Echo = click.echo, forced: list[str] | None = None) -> ExportResult:
    """Run one export of a built email, record it in exports.json and report it.

    ``forced``: the check's error codes that `--force` let through, recorded in the history entry.
    """
    echo = _redacting(echo, service)
    path = folder / EXPORTS_NAME
    state = load_state(path, service.name)
    recorded = None if force_new else _draft(state["drafts"].get(service.name), service, path)
    pending = state["pending"].get(service.name)
    # A pending marker means an earlier run started creating a draft and never recorded it.
    marker = _pending_marker(pending, service, path) or f"nl-{key}-{secrets.token_hex(4)}"

    def begin_create(marker: str) -> None:
        state["pending"][service.name] = {"marker": marker, "started": _now()}
        _save(path, state)

    job = ExportJob(service.config, key, email, links, folder, dry_run=dry_run, test_to=test_to,
                    force_new=force_new, draft=recorded, marker=marker, begin_create=begin_create,
                    content_hash=content_hash(email, links))
    if dry_run:
        echo(f"Dry run: what the {service.label} export of {key} would do (secrets redacted):")
    outcome = service.export(job)
    if not dry_run:
        _record(path, state, service.name, outcome, job, forced)
    draft = outcome.draft
    result = ExportResult(service.name, outcome.action, draft.remote_id if draft else None,
                          draft.url if draft else None, outcome.detail,
                          outcome.test_recipients)
    _report(result, service.label, path, echo)
    return result


def describe_services() -> str:
    """`newsletter export --list`: every service, what it supports and the settings it reads."""
    lines: list[str] = []
    for name, cls in SERVICES.items():
        f = cls.features
        lines.append(f"{name:<11} {cls.summary}")
        lines.append(f"{'':<11} draft: {'yes' if f.draft else 'no'}; test emails: {'yes' if f.test_send else 'no'}; "
                     f"own text part: {'yes' if f.text_part else 'no'}")
        lines.append(f"{'':<11} preheader: {f.preheader}")
        lines.append(f"{'':<11} footer links: {f.merge_tags}")
        for spec in cls.settings_spec:
            if spec in HTTP_SETTINGS:
                continue
            env = f"NEWSLETTER_{name.upper()}_{spec.key.upper()}"
            flags = "secret, environment only" if spec.secret else ("required" if spec.required else "optional")
            lines.append(f"{'':<11}   {env:<34} {spec.help} ({flags})")
        lines.append("")
    lines.append("Settings live in [export.<service>] of newsletter.toml or in NEWSLETTER_<SERVICE>_<KEY>; "
                 f"secrets only in the environment. {see('services')}")
    return "\n".join(lines)


def content_hash(email: RenderedEmail, links: Links) -> str:
    """A hash of what subscribers would get; placeholders carry a per-build nonce, so hash with real links."""
    final = email.with_links(links)
    data = json.dumps([final.subject, final.preheader, final.html, final.text], ensure_ascii=False).encode()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def load_state(path: Path, service: str) -> dict[str, Any]:
    empty: dict[str, Any] = {"issue": path.parent.name, "drafts": {}, "pending": {}, "history": []}
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return empty
    except (OSError, ValueError) as error:
        raise ServiceError(service, f"{shown(path)} cannot be read ({error}). It records the drafts already made for "
                           "this issue: fix it, or restore it from a backup, before exporting again.") from None
    if not isinstance(data, dict):
        raise ServiceError(service, f"{shown(path)} is not a JSON object; fix or restore it before exporting again.")
    for key in ("drafts", "pending"):
        if not isinstance(data.get(key), dict):
            data[key] = {}
    if not isinstance(data.get("history"), list):
        data["history"] = []
    return {**empty, **data}


def _draft(entry: Any, service: Service, path: Path) -> Draft | None:
    """The draft exports.json records for ``service``, its id checked: it goes into the service's URLs."""
    if not isinstance(entry, dict) or not entry.get("remote_id"):
        return None
    remote_id = service.check_id(entry["remote_id"])
    if remote_id is None:
        raise ServiceError(service.name, (
            f"{path}: the {service.label} draft id {one_line(str(entry['remote_id']), 80)!r} under \"drafts\" is "
            f"not a {service.label} {service.id_kind}, so it is not sent anywhere. Put back the id {service.label} "
            f"shows for this issue's draft, or run the export with --new to create a fresh draft."))
    marker = entry.get("marker")
    return Draft(remote_id, web_url(entry.get("url")), marker if isinstance(marker, str) and MARKER.fullmatch(marker)
                 else None)


def _pending_marker(pending: Any, service: Service, path: Path) -> str | None:
    """The marker of a draft an interrupted run began to create, if exports.json holds a well-formed one."""
    if not isinstance(pending, dict) or "marker" not in pending:
        return None
    marker = pending["marker"]
    if not isinstance(marker, str) or not MARKER.fullmatch(marker):
        raise ServiceError(service.name, (
            f"{path}: the marker {one_line(str(marker), 80)!r} under \"pending\" is not one this tool writes "
            "(like nl-2026-W48-1a2b3c4d). Delete that \"pending\" entry and export again; if an interrupted "
            f"export left a draft in {service.label}, delete it there."))
    return marker


def _redacting(echo: Echo, service: Service) -> Echo:
    """``echo`` with the service's secrets taken out of every line."""
    return lambda text: echo(service.redact(text))


def _record(path: Path, state: dict[str, Any], service: str, outcome: Outcome, job: ExportJob,
            forced: list[str] | None = None) -> None:
    now = _now()
    draft = outcome.draft
    if draft is not None:
        previous = state["drafts"].get(service) if outcome.action == "updated" else None
        state["drafts"][service] = {  # draft.url went through web_url: no credentials in it
            "remote_id": draft.remote_id, "url": draft.url, "marker": draft.marker, "content_hash": job.content_hash,
            "created": (previous or {}).get("created", now), "updated": now,
        }
        state["pending"].pop(service, None)
    entry: dict[str, Any] = {
        "service": service, "action": outcome.action, "remote_id": draft.remote_id if draft else None,
        "url": draft.url if draft else None, "content_hash": job.content_hash,
        "time": now,
        "test_to": list(outcome.test_recipients),
    }
    if outcome.files:
        entry["files"] = sorted(outcome.files)
    if forced:  # exported with --force over the check's errors: say so, and which
        entry["forced"] = True
        entry["check_errors"] = forced
    state["history"].append(entry)
    _save(path, state)


def _save(path: Path, state: dict[str, Any]) -> None:
    with edition_lock(path.parent):  # a build cleaning the folder's leftovers waits for this write
        write_file(path, json.dumps(state, ensure_ascii=False, indent=2) + "\n")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _report(result: ExportResult, label: str, path: Path, echo: Echo) -> None:
    what = f"{label} draft {result.remote_id}" if result.remote_id else label
    if result.action == "dry-run":
        echo("Dry run: nothing was sent, created or written.")
        return
    if result.action == "written":
        echo(f"Wrote {result.detail}")
    elif result.action == "sent":
        echo(f"Sent the issue to {', '.join(result.test_recipients) or 'nobody'} {result.detail}")
    else:
        verb = {"created": "Created", "updated": "Updated",
                "adopted": "Found and updated (left by an interrupted export)"}.get(result.action, result.action)
        echo(f"{verb} the {what}" + (f": {result.url}" if result.url else ""))
        if result.test_recipients and result.action != "sent":
            echo(f"  {label} is sending a test to {', '.join(result.test_recipients)}")
        echo(f"  recorded in {shown(path)}; send it to your list from {label}.")
