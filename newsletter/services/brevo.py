"""Brevo (API v3): a draft email campaign with HTML and preview text (Brevo has no text part); test sends."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import httpx

from newsletter.models import Links
from newsletter.services.base import (
    DRY_ID,
    HTTP_SETTINGS,
    VIEW_ONLINE,
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

# Brevo Template Language (https://help.brevo.com/hc/en-us/articles/4402386448530): {{ ... }}
# variables, {% ... %} statements. Its predefined placeholders, as Brevo's help centre lists them
# ("About Sendinblue Template Language", https://help.sendinblue.com/hc/en-us/articles/360000946299):
# {{ mirror }} ("View in browser" link), {{ unsubscribe }}, {{ update_profile }}. {{ unsubscribe }}
# is the unsubscribe link every campaign needs; {{ update_profile }} the profile form (also named
# in the API's description of updateFormId, https://developers.brevo.com/reference/create-email-campaign:
# without one, the account's default form); {{ mirror }} the web version, which the campaign's
# mirrorActive ("Use true to enable the mirror link") switches on.
MERGE_TAGS = Links(unsubscribe="{{ unsubscribe }}", preferences="{{ update_profile }}", view_online="{{ mirror }}")
# campaignId is an int64 in the API (path parameter of PUT /emailCampaigns/{campaignId}).
ID_PATTERN = re.compile(r"[1-9][0-9]{0,18}")
PAGE_SIZE = 100  # GET /emailCampaigns: limit is at most 100
MAX_PAGES = 50

# The answers each call documents (Brevo's OpenAPI file, tests/specs/brevo-email-campaigns.json;
# https://developers.brevo.com/reference/create-email-campaign and its neighbours):
# POST /emailCampaigns: 201 with createModel, {"id": <int64>} (required).
CREATED = Expect((201,), {"id": int}, what="the new Brevo campaign")
# GET /emailCampaigns: 200 with getEmailCampaigns, {"count": <int64>, "campaigns": [...]}; the
# schema requires neither (an account without campaigns may leave them out), so only their types
# are held to. Brevo has also answered 404 "document_not_found" when there are no campaigns
# (sendinblue/APIv3-php-library#36): the lookup takes that for "none" (ok_missing).
CAMPAIGNS = Expect((200,), optional={"campaigns": list, "count": int}, what="a list of Brevo campaigns")
# PUT /emailCampaigns/{campaignId}: "204 Email campaign updated"; POST .../sendTest: "204 Test
# email has been sent successfully to all recipients". Neither has a body.
UPDATED = Expect((204,), body="ignored")
TEST_SENT = Expect((204,), body="ignored")


# Article text must not open a Brevo Template Language tag: openers are broken up (see template_neutralisers).
neutralise, neutralise_html = template_neutralisers(("{{", "{%", "{#"))


class BrevoService(HttpService):
    name: ClassVar[str] = "brevo"
    label: ClassVar[str] = "Brevo"
    summary: ClassVar[str] = ("draft email campaign in Brevo (HTML and preview text; Brevo has no separate text "
                              "part), test sends")
    docs_url: ClassVar[str] = "https://developers.brevo.com/reference/create-email-campaign"
    features: ClassVar[Features] = Features(
        draft=True, test_send=True, text_part=False,
        preheader="Brevo's previewText field, and hidden text at the top of the HTML",
        merge_tags="{{ unsubscribe }}, {{ update_profile }}, {{ mirror }}",
    )
    id_pattern: ClassVar[re.Pattern[str]] = ID_PATTERN
    id_kind: ClassVar[str] = "campaign id (a whole number)"
    settings_spec: ClassVar[tuple[Setting, ...]] = (
        Setting("api_key", "your API key (SMTP & API > API keys)", secret=True),
        Setting("api_url", "the API's address", required=False, default="https://api.brevo.com/v3", kind=URL),
        Setting("list_ids", "IDs of the contact lists the campaign goes to, e.g. [2] or [2, 7]", kind=IDS),
        Setting("sender_id", "ID of a Brevo sender to use instead of [sender] name and email (dedicated IPs)",
                required=False, kind=ID),
        VIEW_ONLINE,
        *HTTP_SETTINGS,
    )

    def auth_headers(self) -> dict[str, str]:
        # The API key goes in an "api-key" header (securitySchemes of Brevo's OpenAPI file).
        return {"api-key": self.get("api_key")}

    def error_message(self, response: httpx.Response) -> str:
        # Errors are {"code": ..., "message": ...}; a refused test send also lists the addresses
        # (postSendFailed: unexistingEmails, withoutListEmails, blackListedEmails).
        try:
            data = response.json()
        except ValueError:
            return super().error_message(response)
        if not isinstance(data, dict) or not isinstance(data.get("message"), str):
            return super().error_message(response)
        text = f"{data['message']} ({data['code']})" if isinstance(data.get("code"), str) else data["message"]
        for key, what in (("unexistingEmails", "not contacts in Brevo"), ("withoutListEmails", "in no list"),
                          ("blackListedEmails", "blocklisted")):
            if isinstance(data.get(key), list) and data[key]:
                text += f"; {what}: {', '.join(map(str, data[key]))}"
        return text

    def build_payload(self, job: ExportJob) -> dict[str, Any]:
        email = prepare_email(job.email, self.footer_tags(job, MERGE_TAGS), neutralise, neutralise_html)
        sender_config = job.config.sender
        sender: dict[str, Any] = {"name": sender_config.name or job.config.publication.name}
        if self.values.get("sender_id"):
            sender["id"] = self.integer("sender_id")
        else:
            sender["email"] = sender_config.email
        return {
            "name": draft_name(job.config.publication.name, job.issue_key, job.marker),
            "subject": email.subject,
            # "Preview text or preheader of the email campaign", in createEmailCampaign and
            # updateEmailCampaign alike (https://developers.brevo.com/reference/create-email-campaign,
            # https://developers.brevo.com/reference/update-email-campaign).
            "previewText": email.preheader,
            "sender": sender,
            "replyTo": sender_config.reply_to or sender_config.email,
            # Brevo has no plain-text field for a campaign: subscribers whose client asks for
            # text get what Brevo derives from this HTML.
            "htmlContent": email.html,
            "recipients": {"listIds": self.integers("list_ids")},
            "mirrorActive": True,  # makes {{ mirror }} a working "view in browser" link
            "inlineImageActivation": False,
        }

    def _draft(self, data: Any, marker: str | None) -> Draft:
        # Brevo's answers give no link to a campaign: the editor opens it from Campaigns > Email.
        data = data if isinstance(data, dict) else {}
        return self.draft(data.get("id"), None, marker)

    def _find(self, marker: str) -> dict[str, Any] | None:
        # No search by name in the API: list the unsent drafts, newest first, a page at a time.
        offset = 0
        for _ in range(MAX_PAGES):
            params = {"type": "classic", "status": "draft", "limit": str(PAGE_SIZE), "offset": str(offset),
                      "sort": "desc", "excludeHtmlContent": "true"}
            page = self.call("GET", "/emailCampaigns", params=params, ok_missing=True, expect=CAMPAIGNS).data or {}
            campaigns = page.get("campaigns") or []
            for campaign in campaigns:
                if not isinstance(campaign, dict):
                    continue
                if named_marker(campaign.get("name")) == marker and campaign.get("status", "draft") == "draft":
                    return dict(campaign)
            offset += len(campaigns)
            count = page.get("count")  # the total; without it, a short page is the last
            if not campaigns or (offset >= count if isinstance(count, int) else len(campaigns) < PAGE_SIZE):
                return None
        self.warn(f"Warning: looked through the newest {offset} Brevo draft campaigns without finding one marked "
                  f"{marker}. If an interrupted export left one further back, this export makes a second: "
                  "delete the older one in Brevo.")
        return None

    def create_draft(self, payload: dict[str, Any], job: ExportJob) -> Draft:
        def recheck() -> Response | None:
            campaign = self._find(job.marker)
            return Response(201, campaign) if campaign else None

        answer = self.call("POST", "/emailCampaigns", json_body=payload, dry={"id": DRY_ID}, recheck=recheck,
                           expect=CREATED)
        return self._draft(answer.data, job.marker)

    def update_draft(self, draft: Draft, payload: dict[str, Any], job: ExportJob) -> Draft:
        # draft.remote_id was checked on its way in: by export.py from exports.json, or by _draft.
        marker = draft.marker or job.marker
        body = {**payload, "name": with_marker(payload["name"], marker)}
        self.call("PUT", f"/emailCampaigns/{draft.remote_id}", json_body=body, expect=UPDATED)
        return Draft(draft.remote_id, draft.url, marker)

    def send_test(self, draft: Draft, payload: dict[str, Any], recipients: tuple[str, ...]) -> None:
        self.call("POST", f"/emailCampaigns/{draft.remote_id}/sendTest", json_body={"emailTo": list(recipients)},
                  expect=TEST_SENT)
