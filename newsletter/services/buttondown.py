"""Buttondown (API v1): a draft email with the issue's HTML under the "naked" template; test sends."""

from __future__ import annotations

from typing import Any, ClassVar

from newsletter.models import Links
from newsletter.services.base import (
    HTTP_SETTINGS,
    VIEW_ONLINE,
    Draft,
    ExportJob,
    Features,
    HttpService,
    Response,
    Setting,
    prepare_email,
)

# https://docs.buttondown.com/template-variables and https://docs.buttondown.com/portal
MERGE_TAGS = Links(
    unsubscribe="{{ unsubscribe_url }}",
    preferences="{{ manage_subscription_url }}",
    view_online="{{ email_url }}",
)
MARKER_KEY = "newsletter_marker"
MAX_PAGES = 20


def neutralise(text: str) -> str:
    """Break Django-template openers (``{{``, ``{%``, ``{#``) with an invisible word joiner."""
    for opener in ("{{", "{%", "{#"):
        text = text.replace(opener, opener[0] + "\u2060" + opener[1])
    return text


def neutralise_html(html: str) -> str:
    """In HTML the brace becomes its character reference, which no template engine reads as syntax."""
    for opener in ("{{", "{%", "{#"):
        html = html.replace(opener, "&#123;" + opener[1])
    return html


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
    settings_spec: ClassVar[tuple[Setting, ...]] = (
        Setting("api_url", "the API's address", required=False, default="https://api.buttondown.com/v1"),
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
        return Draft(str(data.get("id", "<new id>")), data.get("absolute_url") or None, marker)

    def _find(self, marker: str) -> dict[str, Any] | None:
        url: str | None = "/emails"
        params: dict[str, Any] | None = {"status": "draft", "ordering": "-creation_date"}
        for _ in range(MAX_PAGES):
            if url is None:
                break
            page = self.call("GET", url, params=params).data or {}
            for email in page.get("results") or []:
                if (email.get("metadata") or {}).get(MARKER_KEY) == marker:
                    return dict(email)
            url, params = page.get("next"), None
        return None

    def create_draft(self, payload: dict[str, Any], job: ExportJob) -> Draft:
        def recheck() -> Response | None:
            email = self._find(job.marker)
            return Response(200, email) if email else None

        answer = self.call("POST", "/emails", json_body=payload, dry={"id": "<new id>"}, recheck=recheck)
        return self._draft(answer.data, job.marker)

    def update_draft(self, draft: Draft, payload: dict[str, Any], job: ExportJob) -> Draft:
        body = dict(payload)
        body["metadata"] = {**payload["metadata"], MARKER_KEY: draft.marker or job.marker}
        answer = self.call("PATCH", f"/emails/{draft.remote_id}", json_body=body, dry={"id": draft.remote_id})
        updated = self._draft(answer.data, draft.marker or job.marker)
        return Draft(draft.remote_id, updated.url or draft.url, updated.marker)

    def send_test(self, draft: Draft, payload: dict[str, Any], recipients: tuple[str, ...]) -> None:
        self.call("POST", f"/emails/{draft.remote_id}/send-draft", json_body={"recipients": list(recipients)})
