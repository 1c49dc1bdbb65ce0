"""Kit (formerly ConvertKit, API v4): a draft broadcast with HTML and preview text. Kit has no test-send call."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import click

from newsletter.models import Links
from newsletter.services.base import (
    DRY_ID,
    HTTP_SETTINGS,
    Draft,
    Expect,
    ExportJob,
    Features,
    HttpService,
    Response,
    Setting,
    draft_name,
    named_marker,
    prepare_email,
    template_neutralisers,
    with_marker,
)
from newsletter.services.settings import ID, IDS, URL

# Kit's emails are Liquid templates. {{ unsubscribe_url }}: "Custom HTML email templates: FAQs &
# troubleshooting" (https://help.kit.com/en/articles/2810454); {{ subscriber_preferences_url }}:
# "Subscriber preferences link" (https://help.kit.com/en/articles/4600311). We found no documented
# tag for a web version of a draft that is not published (public: false), so the view-online
# link stays the publication's own page from [links] view_online.
UNSUBSCRIBE = "{{ unsubscribe_url }}"
PREFERENCES = "{{ subscriber_preferences_url }}"
# A broadcast's id is an integer (GET/PUT /v4/broadcasts/{id}: "type": "integer").
ID_PATTERN = re.compile(r"[1-9][0-9]{0,18}")
PAGE_SIZE = 500  # GET /v4/broadcasts: per_page default 500, maximum 1000
MAX_PAGES = 20

# The answers each call documents (Kit's OpenAPI 3.0.3, tests/specs/kit-convertkit-broadcasts-api-openapi.yml;
# https://developers.kit.com/api-reference/broadcasts/create-a-broadcast and its neighbours):
# POST /v4/broadcasts: 201 "Creates a new broadcast"; PUT /v4/broadcasts/{id}: 200 "Updates the
# broadcast and returns its details"; both {"broadcast": {"id": <integer>, ...}}.
CREATED = Expect((201,), {"broadcast": dict, "broadcast.id": int}, what="the new Kit broadcast")
UPDATED = Expect((200,), {"broadcast": dict, "broadcast.id": int}, what="the updated Kit broadcast")
# GET /v4/broadcasts: 200 with {"broadcasts": [...], "pagination": {"has_next_page": <bool>,
# "end_cursor": ..., ...}}, both required. end_cursor is typed string, yet a cursor API may give
# null on an empty page, so null is accepted there.
BROADCASTS = Expect((200,), {"broadcasts": list, "pagination": dict, "pagination.has_next_page": bool},
                    optional={"pagination.end_cursor": (str, type(None))}, what="a list of Kit broadcasts")


# Article text must not open a Liquid tag: openers are broken up (see template_neutralisers).
neutralise, neutralise_html = template_neutralisers(("{{", "{%"))


class KitService(HttpService):
    name: ClassVar[str] = "kit"
    label: ClassVar[str] = "Kit"
    summary: ClassVar[str] = "draft broadcast in Kit (HTML and preview text); Kit's API has no test-send call"
    docs_url: ClassVar[str] = "https://developers.kit.com/api-reference/broadcasts/create-a-broadcast"
    features: ClassVar[Features] = Features(
        draft=True, test_send=False, text_part=False,
        preheader="Kit's preview_text field, and hidden text at the top of the HTML",
        merge_tags="{{ unsubscribe_url }}, {{ subscriber_preferences_url }}, and [links] view_online",
    )
    id_pattern: ClassVar[re.Pattern[str]] = ID_PATTERN
    id_kind: ClassVar[str] = "broadcast id (a whole number)"
    settings_spec: ClassVar[tuple[Setting, ...]] = (
        Setting("api_key", "your v4 API key (Settings > Developer)", secret=True),
        Setting("api_url", "the API's address", required=False, default="https://api.kit.com/v4", kind=URL),
        Setting("email_template_id", "ID of the Kit email template around the content (default: the account's)",
                required=False, kind=ID),
        Setting("email_address", "the sending address (default: the account's)", required=False),
        Setting("segment_ids", "segment IDs, a list such as [12, 15]: only subscribers in all of them", required=False,
                kind=IDS),
        Setting("tag_ids", "tag IDs, a list such as [4, 9]: only subscribers with all of them", required=False,
                kind=IDS),
        *HTTP_SETTINGS,
    )

    def auth_headers(self) -> dict[str, str]:
        # "X-Kit-Api-Key" (securitySchemes of Kit's OpenAPI file).
        return {"X-Kit-Api-Key": self.get("api_key")}


    def build_payload(self, job: ExportJob) -> dict[str, Any]:
        tags = Links(UNSUBSCRIBE, PREFERENCES, job.standalone_links.view_online)
        email = prepare_email(job.email, tags, neutralise, neutralise_html)
        broadcast: dict[str, Any] = {
            "subject": email.subject,
            "preview_text": email.preheader,
            "content": email.html,
            # description is Kit's internal note on the broadcast: it carries the marker.
            "description": draft_name(job.config.publication.name, job.issue_key, job.marker),
            # A draft: not published to the web, no send time ("To save a draft, set send_at to null").
            "public": False,
            "send_at": None,
        }
        # Left out unless set, so an update keeps what the editor chose in Kit.
        if self.values.get("email_address"):
            broadcast["email_address"] = self.values.get("email_address")
        if self.values.get("email_template_id"):
            broadcast["email_template_id"] = self.integer("email_template_id")
        # Kit supports one filter group per broadcast; "all" means in every listed segment and tag.
        # Without one, "will default to all of your subscribers".
        group = [{"type": kind, "ids": ids} for kind, ids in (("segment", self.integers("segment_ids")),
                                                               ("tag", self.integers("tag_ids"))) if ids]
        if group:
            broadcast["subscriber_filter"] = [{"all": group, "any": None, "none": None}]
        return broadcast

    def _draft(self, data: Any, marker: str | None) -> Draft:
        data = data if isinstance(data, dict) else {}
        broadcast = data.get("broadcast", data)
        broadcast = broadcast if isinstance(broadcast, dict) else {}
        # public_url is the broadcast's page once published; a draft kept private may have none.
        return self.draft(broadcast.get("id"), broadcast.get("public_url"), marker)

    def _find(self, marker: str) -> dict[str, Any] | None:
        params: dict[str, Any] = {"per_page": str(PAGE_SIZE)}
        for _ in range(MAX_PAGES):
            page = self.call("GET", "/broadcasts", params=params, expect=BROADCASTS).data or {}
            for broadcast in page.get("broadcasts") or []:
                if not isinstance(broadcast, dict):
                    continue
                unsent = broadcast.get("status", "draft") == "draft" and not broadcast.get("send_at")
                if named_marker(broadcast.get("description")) == marker and unsent:
                    return dict(broadcast)
            pagination = page.get("pagination") or {}
            if not pagination.get("has_next_page") or not pagination.get("end_cursor"):
                return None
            params = {"per_page": str(PAGE_SIZE), "after": pagination["end_cursor"]}
        self.warn(f"Warning: looked through the newest {MAX_PAGES * PAGE_SIZE} Kit broadcasts without finding one "
                  f"marked {marker}. If an interrupted export left one further back, this export makes a second: "
                  "delete the older one in Kit.")
        return None

    def create_draft(self, payload: dict[str, Any], job: ExportJob) -> Draft:
        def recheck() -> Response | None:
            broadcast = self._find(job.marker)
            return Response(201, {"broadcast": broadcast}) if broadcast else None

        answer = self.call("POST", "/broadcasts", json_body=payload, dry={"broadcast": {"id": DRY_ID}},
                           recheck=recheck, expect=CREATED)
        return self._draft(answer.data, job.marker)

    def update_draft(self, draft: Draft, payload: dict[str, Any], job: ExportJob) -> Draft:
        # draft.remote_id was checked on its way in: by export.py from exports.json, or by _draft.
        marker = draft.marker or job.marker
        body = {**payload, "description": with_marker(payload["description"], marker)}
        # PUT keeps a draft with public: false; its send_at is not nullable, so it is left out.
        body.pop("send_at", None)
        answer = self.call("PUT", f"/broadcasts/{draft.remote_id}", json_body=body,
                           dry={"broadcast": {"id": draft.remote_id}}, expect=UPDATED)
        updated = self._draft(answer.data, marker)
        return Draft(draft.remote_id, updated.url or draft.url, marker)

    def send_test(self, draft: Draft, payload: dict[str, Any], recipients: tuple[str, ...]) -> None:
        # Never reached: export refuses --test-to for a service without test sends (exit 2).
        raise click.UsageError("Kit's API has no call that sends a test email. Send the test from Kit, or use "
                               "--to smtp with --test-to.")
