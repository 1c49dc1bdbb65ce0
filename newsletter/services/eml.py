"""eml: the issue as issues/<week>/message.eml, an RFC 5322 file any mail client opens (no account)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import ClassVar

from newsletter.errors import shown
from newsletter.mime import build_message, message_bytes
from newsletter.services.base import ExportJob, Features, Outcome, Service
from newsletter.writer import edition_lock, write_file

MESSAGE_NAME = "message.eml"


class EmlService(Service):
    name: ClassVar[str] = "eml"
    label: ClassVar[str] = "eml"
    summary: ClassVar[str] = "writes issues/<week>/message.eml (default; needs no account)"
    features: ClassVar[Features] = Features(
        draft=False, test_send=False, text_part=True, preheader="hidden text at the top of the HTML",
        merge_tags="none: the footer links are the real URLs from [links] in newsletter.toml",
    )

    def build_payload(self, job: ExportJob) -> EmailMessage:
        return build_message(job.email.with_links(job.standalone_links), job.config, job.issue_key)

    def send(self, payload: EmailMessage, job: ExportJob) -> Outcome:
        path = job.folder / MESSAGE_NAME
        data = message_bytes(payload)
        if job.dry_run:
            self.echo(f"(would write {shown(path)}, {len(data):,} bytes)")
            return Outcome("dry-run", detail=str(path))
        with edition_lock(job.folder):  # a build cleaning the folder's leftovers waits for this write
            write_file(path, data)
        return Outcome("written", detail=f"{shown(path)} ({len(data):,} bytes)", files={MESSAGE_NAME: path})
