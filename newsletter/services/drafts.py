"""Drafts at a service: their marker-bearing names, and their ids checked before use in a URL.

An id comes either from the service's answer or from exports.json, which a person can edit;
neither may steer a request elsewhere (``../``, ``?``, ``#``). Each service module declares its
pattern as ``ID_PATTERN`` next to the API page that documents it.
"""

from __future__ import annotations

import re

from newsletter.errors import ServiceError

DRY_RUN_ID = "<new id>"  # what a dry run shows for a draft it did not create


def check_id(service: str, label: str, remote_id: str, pattern: re.Pattern[str], what: str, source: str) -> str:
    """``remote_id`` if it matches ``pattern`` (whole string), else ServiceError naming ``source``.

    ``what`` names the id's kind and format for the message, e.g. "a campaign id (digits)";
    ``source`` says where the id came from ("exports.json", "its answer").
    """
    if remote_id == DRY_RUN_ID or pattern.fullmatch(remote_id):
        return remote_id
    hint = (" Fix or delete that entry in exports.json, or export again with --new."
            if source == "exports.json" else " This is unexpected: report it, with the service's answer.")
    raise ServiceError(service, f"{label} draft id {remote_id[:80]!r} from {source} is not {what}.{hint}")


def draft_name(publication: str, key: str, marker: str, limit: int = 100) -> str:
    """'Saigon Sentinel 2026-W48 [nl-2026-W48-1a2b3c4d]', the publication's name cut to fit ``limit``.

    The bracketed marker is how a later run finds a draft an interrupted run created.
    """
    tail = f" {key} [{marker}]"
    return publication[: max(0, limit - len(tail))].rstrip() + tail
