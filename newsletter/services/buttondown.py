"""Buttondown (API v1): a draft email with the issue's HTML under the "naked" template; test sends."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from newsletter.models import Links
from newsletter.services.base import (
    HTTP_SETTINGS,
    VIEW_ONLINE,
    Draft,
    Expect,
    ExportJob,
    Features,
    HttpService,
    Response,
    Setting,
    prepare_email,
    template_neutralisers,
)
from newsletter.services.settings import URL

# https://docs.buttondown.com/template-variables and https://docs.buttondown.com/portal
MERGE_TAGS = Links(
    unsubscribe="{{ unsubscribe_url }}",
    preferences="{{ manage_subscription_url }}",
    view_online="{{ email_url }}",
)
MARKER_KEY = "newsletter_marker"
MAX_PAGES = 20
# https://docs.buttondown.com/api-emails-create (and the OpenAPI document): the answers each call documents.
EMAIL = Expect((200,), {"id": str}, what="a Buttondown email")
CREATED = Expect((201,), {"id": str}, what="the new Buttondown email")
EMAILS = Expect((200,), {"results": list}, what="a list of Buttondown emails")
TEST_SENT = Expect((200,), body="ignored")  # documented as "200 OK", without a body
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
EMAIL_ID = re.compile(rf"{_UUID}|em_(?:[0-7][0-9abcdefghjkmnpqrstvwxyz]{{25}}|{_UUID})")


# Article text must not open a Django template tag: openers are broken up (see template_neutralisers).
neutralise, neutralise_html = template_neutralisers(("{{", "{%", "{#"))


class ButtondownService(HttpService):
    name: ClassVar[str] = "buttondown"
    label: ClassVar[str] = "Buttondown"
    summary: ClassVar[str] = "draft email in Buttondown (HTML; Buttondown makes the text part), test sends"
    docs_url: ClassVar[str] = "https://docs.buttondown.com/api-emails-create"
    features: ClassVar[Features] = Features(
        draft=True, test_send=True, text_part=False,
        preheader="hidden text at the top of the HTML (Buttondown has no preheader field)",
        merge_tags="{{ unsubscribe_url }}, {{ manage_subscription_url }}, {{ email_url }}",
    )
    # The id pattern of the Email schema in Buttondown's OpenAPI document: a UUID, or a TypeID "em_...".
    id_pattern: ClassVar[re.Pattern[str]] = EMAIL_ID
    id_kind: ClassVar[str] = "email id (a UUID or em_...)"
    settings_spec: ClassVar[tuple[Setting, ...]] = (
        Setting("api_url", "the API's address", required=False, default="https://api.buttondown.com/v1", kind=URL),
        Setting("api_key", "your API key (Settings > API)", secret=True),
        VIEW_ONLINE,
        *HTTP_SETTINGS,
    )

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.get('api_key')}"}

    def build_payload(self, job: ExportJob) -> dict[str, Any]:
        email = prepare_email(job.email, self.footer_tags(job, MERGE_TAGS), neutralise, neutralise_html)
        return {
            "subject": email.subject,
            "body": email.html,
            # The API's default status is "about_to_send": a draft must say so, or it goes out.
            "status": "draft",
            # "naked": our HTML as it is, without Buttondown's own layout around it.
            "template": "naked",
            "metadata": {MARKER_KEY: job.marker, "newsletter_issue": job.issue_key},
        }

    def _draft(self, data: Any, marker: str | None) -> Draft:
        data = data if isinstance(data, dict) else {}
        return self.draft(data.get("id"), data.get("absolute_url"), marker)

    def _find(self, marker: str) -> dict[str, Any] | None:
        url: str | None = "/emails"
        params: dict[str, Any] | None = {"status": "draft", "ordering": "-creation_date"}
        for _ in range(MAX_PAGES):
            if url is None:
                break
            page = self.call("GET", url, params=params, expect=EMAILS).data or {}
            for email in page.get("results") or []:
                metadata = email.get("metadata") if isinstance(email, dict) else None
                if isinstance(metadata, dict) and metadata.get(MARKER_KEY) == marker:
                    return dict(email)
            following = page.get("next")
            url, params = (following if isinstance(following, str) and following else None), None
        return None

    def create_draft(self, payload: dict[str, Any], job: ExportJob) -> Draft:
        def recheck() -> Response | None:
            email = self._find(job.marker)
            return Response(200, email) if email else None

        answer = self.call("POST", "/emails", json_body=payload, dry={"id": "<new id>"}, recheck=recheck,
                           expect=CREATED)
        return self._draft(answer.data, job.marker)

    def update_draft(self, draft: Draft, payload: dict[str, Any], job: ExportJob) -> Draft:
        body = dict(payload)
        body["metadata"] = {**payload["metadata"], MARKER_KEY: draft.marker or job.marker}
        answer = self.call("PATCH", f"/emails/{draft.remote_id}", json_body=body, dry={"id": draft.remote_id},
                           expect=EMAIL)
        updated = self._draft(answer.data, draft.marker or job.marker)
        return Draft(draft.remote_id, updated.url or draft.url, updated.marker)

    def send_test(self, draft: Draft, payload: dict[str, Any], recipients: tuple[str, ...]) -> None:
        self.call("POST", f"/emails/{draft.remote_id}/send-draft", json_body={"recipients": list(recipients)},
                  expect=TEST_SENT)
