"""listmonk (self-hosted, REST API): a draft campaign with HTML and plain-text bodies; test sends."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from newsletter.mime import display_address
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
)
from newsletter.services.redaction import web_url
from newsletter.services.settings import ID, IDS, URL

# https://listmonk.app/docs/apis/campaigns/ : every answer is {"data": ...}; a campaign's id is a number.
CAMPAIGN = Expect((200,), {"data": dict, "data.id": int}, what="a listmonk campaign")
CAMPAIGNS = Expect((200,), {"data": dict, "data.results": (list, type(None))}, what="a list of listmonk campaigns")
TEST_SENT = Expect((200,), {"data": bool}, what="listmonk's answer to a test send")

# https://listmonk.app/docs/templating/ : campaign bodies, alt bodies and subjects are Go templates.
MERGE_TAGS = Links(
    unsubscribe="{{ UnsubscribeURL }}",
    preferences="{{ UnsubscribeURL }}?manage=true",
    view_online="{{ MessageURL }}",
)


def neutralise(text: str) -> str:
    """Article text as a Go template that prints itself: ``{{`` becomes the action ``{{"{{"}}``."""
    return text.replace("{{", '{{"{{"}}')


class ListmonkService(HttpService):
    name: ClassVar[str] = "listmonk"
    label: ClassVar[str] = "listmonk"
    summary: ClassVar[str] = "draft campaign in your listmonk (HTML + plain text), test sends"
    docs_url: ClassVar[str] = "https://listmonk.app/docs/apis/campaigns/"
    features: ClassVar[Features] = Features(
        draft=True, test_send=True, text_part=True,
        preheader="hidden text at the top of the HTML (listmonk has no preheader field)",
        merge_tags="{{ UnsubscribeURL }}, {{ UnsubscribeURL }}?manage=true, {{ MessageURL }}",
    )
    id_pattern: ClassVar[re.Pattern[str]] = re.compile(r"[1-9][0-9]{0,17}")
    id_kind: ClassVar[str] = "campaign id (a whole number)"
    settings_spec: ClassVar[tuple[Setting, ...]] = (
        Setting("api_url", "your listmonk's address, e.g. https://lists.example.com", kind=URL),
        Setting("username", "the API user's name (Admin > Users > API user)"),
        Setting("token", "the API user's token", secret=True),
        Setting("list_ids", "IDs of the lists the campaign goes to, e.g. [3] or [3, 5]", kind=IDS),
        Setting("template_id", "ID of a campaign template holding only {{ template \"content\" . }}", required=False,
                kind=ID),
        VIEW_ONLINE,
        *HTTP_SETTINGS,
    )

    @property
    def api_url(self) -> str:
        url = self.get("api_url").rstrip("/")
        return url[: -len("/api")] if url.endswith("/api") else url

    def auth_headers(self) -> dict[str, str]:
        # https://listmonk.app/docs/apis/apis/ : "Authorization: token api_user:token"
        return {"Authorization": f"token {self.get('username')}:{self.get('token')}"}

    def build_payload(self, job: ExportJob) -> dict[str, Any]:
        email = prepare_email(job.email, self.footer_tags(job, MERGE_TAGS), neutralise)
        sender = job.config.sender
        body: dict[str, Any] = {
            "name": f"{job.config.publication.name} {job.issue_key}",
            "subject": email.subject,
            "lists": self.integers("list_ids"),
            "from_email": display_address(sender.name or job.config.publication.name, sender.email),
            "content_type": "html",
            "messenger": "email",
            "type": "regular",
            "tags": ["newsletter", job.marker],
            # body and altbody are accepted by the API (models/campaigns.go) though its spec omits them
            "body": email.html,
            "altbody": email.text,
        }
        if self.values.get("template_id"):
            body["template_id"] = self.integer("template_id")
        return body

    def _draft(self, data: Any, marker: str | None) -> Draft:
        campaign = data.get("data", data) if isinstance(data, dict) else {}
        draft = self.draft(campaign.get("id") if isinstance(campaign, dict) else None, None, marker)
        # the admin page, built from api_url: web_url takes out any user:password written into it
        return Draft(draft.remote_id, web_url(f"{self.api_url}/admin/campaigns/{draft.remote_id}"), marker)

    def _find(self, marker: str) -> dict[str, Any] | None:
        found = self.call("GET", "/api/campaigns", params={"tags": marker, "no_body": "true", "per_page": "all"},
                          expect=CAMPAIGNS)
        results = (found.data or {}).get("data", {}).get("results") or []
        for campaign in results:
            if not isinstance(campaign, dict):
                continue
            tags = campaign.get("tags")
            if isinstance(tags, list) and marker in tags and campaign.get("status") == "draft":
                return dict(campaign)
        return None

    def create_draft(self, payload: dict[str, Any], job: ExportJob) -> Draft:
        def recheck() -> Response | None:
            campaign = self._find(job.marker)
            return Response(200, {"data": campaign}) if campaign else None

        answer = self.call("POST", "/api/campaigns", json_body=payload, dry={"data": {"id": "<new id>"}},
                           recheck=recheck, expect=CAMPAIGN)
        return self._draft(answer.data, job.marker)

    def update_draft(self, draft: Draft, payload: dict[str, Any], job: ExportJob) -> Draft:
        body = dict(payload)
        body["tags"] = ["newsletter", draft.marker or job.marker]
        answer = self.call("PUT", f"/api/campaigns/{draft.remote_id}", json_body=body,
                           dry={"data": {"id": draft.remote_id}}, expect=CAMPAIGN)
        return Draft(draft.remote_id, self._draft(answer.data, draft.marker).url, draft.marker or job.marker)

    def send_test(self, draft: Draft, payload: dict[str, Any], recipients: tuple[str, ...]) -> None:
        # The test handler reads a whole campaign plus "subscribers": the addresses, which must
        # already be subscribers in listmonk (cmd/campaigns.go handleTestCampaign).
        body = {**payload, "subscribers": list(recipients)}
        self.call("POST", f"/api/campaigns/{draft.remote_id}/test", json_body=body, dry={"data": True},
                  expect=TEST_SENT)
