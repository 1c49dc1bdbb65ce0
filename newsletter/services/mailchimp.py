"""Mailchimp (Marketing API 3.0): a draft regular campaign with HTML, plain text and preview text."""

from __future__ import annotations

import base64
import re
import unicodedata
from html import unescape
from typing import Any, ClassVar

import httpx

from newsletter.errors import ConfigError
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
    field_errors,
    named_marker,
    prepare_email,
    with_marker,
)
from newsletter.services.settings import URL

# https://mailchimp.com/help/all-the-merge-tags-cheat-sheet/
MERGE_TAGS = Links(unsubscribe="*|UNSUB|*", preferences="*|UPDATE_PROFILE|*", view_online="*|ARCHIVE|*")
# https://mailchimp.com/developer/marketing/api/campaigns/ : the answers each call documents.
CAMPAIGN = Expect((200,), {"id": str}, what="a Mailchimp campaign")
CAMPAIGNS = Expect((200,), {"campaigns": list}, what="a list of Mailchimp campaigns")
CONTENT = Expect((200,), {}, what="a campaign's content")
TEST_SENT = Expect((204,), body="ignored")
# Mailchimp gives a campaign id no format: the Campaign's "id" is "A string that uniquely
# identifies this campaign" and the campaign_id path parameter "The unique id for the campaign",
# a string without pattern or length (https://mailchimp.com/developer/marketing/api/campaigns/,
# and the OpenAPI file it is generated from, tests/specs/mailchimp-campaigns.json). Its examples
# are ten hex digits ("42694e9e57"), which nothing promises, so any id that is one URL path
# segment as it stands is taken: RFC 3986's unreserved characters (letters, digits, "-", ".",
# "_", "~"), which need no escaping and delimit nothing, up to 256 of them, but not dots alone
# ("." and ".." are dot segments, which climb the path). Refused: "/" and "\" (another
# segment), "?" and "#" (a query, a fragment), "%" (an escape a server may decode into those),
# ";" and the other delimiters (path parameters to some servers), spaces, control characters
# and non-ASCII.
CAMPAIGN_ID = re.compile(r"(?!\.+\Z)[A-Za-z0-9._~-]{1,256}")


_HIDDEN_FIRST = re.compile(r"<body[^>]*>\s*(<div[^>]*display:\s*none[^>]*>)(.*?)</div>", re.S | re.I)
# The data centre a key ends in ("...-us21"): https://mailchimp.com/developer/marketing/docs/fundamentals/
_DATA_CENTRE = re.compile(r"[a-z]{2,}[0-9]+")


def strip_preheader(html: str, preheader: str) -> str:
    """Drop the theme's hidden preheader: Mailchimp inserts preview_text itself, so it would show twice.

    Only a hidden element right after <body> whose text starts with the preheader is removed;
    any other markup is left alone (a doubled preheader is better than lost content). Texts are
    compared as a reader sees them: entities decoded (the theme writes ``|`` as ``&#124;``),
    invisible characters and runs of spaces ignored, so any character may be in the preheader.
    """
    match = _HIDDEN_FIRST.search(html)
    start = _visible(preheader)[:40]
    if match and start and _visible(re.sub(r"<[^>]*>", "", match.group(2))).startswith(start):
        return html[: match.start(1)] + html[match.end():]
    return html


def _visible(text: str) -> str:
    text = "".join(char for char in unescape(text) if unicodedata.category(char) not in ("Cf", "Mn"))
    return " ".join(text.split())


def neutralise(text: str) -> str:
    """Merge tags open with ``*|``; a zero-width joiner between the two keeps them plain text."""
    return text.replace("*|", "*\u200d|")


def neutralise_html(html: str) -> str:
    return html.replace("*|", "*&#124;")


class MailchimpService(HttpService):
    name: ClassVar[str] = "mailchimp"
    label: ClassVar[str] = "Mailchimp"
    summary: ClassVar[str] = "draft campaign in Mailchimp (HTML, plain text, preview text), test sends"
    docs_url: ClassVar[str] = "https://mailchimp.com/developer/marketing/api/campaigns/"
    features: ClassVar[Features] = Features(
        draft=True, test_send=True, text_part=True, preheader="Mailchimp's preview_text field",
        merge_tags="*|UNSUB|*, *|UPDATE_PROFILE|*, *|ARCHIVE|*",
    )
    id_pattern: ClassVar[re.Pattern[str]] = CAMPAIGN_ID
    id_kind: ClassVar[str] = "campaign id (letters, digits, '-', '.', '_', '~')"
    settings_spec: ClassVar[tuple[Setting, ...]] = (
        Setting("api_key", "your API key, ending in the data centre, e.g. ...-us21", secret=True),
        Setting("api_url", "the API's address (default from the key: https://<dc>.api.mailchimp.com/3.0)", kind=URL),
        Setting("list_id", "the audience ID (Audience > Settings > Audience name and defaults)"),
        VIEW_ONLINE,
        *HTTP_SETTINGS,
    )

    def default_for(self, key: str, values: dict[str, str | None]) -> str | None:
        api_key = values.get("api_key") or ""
        if key != "api_url" or not api_key:
            return None
        # https://mailchimp.com/developer/marketing/docs/fundamentals/#api-structure
        centre = api_key.rpartition("-")[2].lower() if "-" in api_key else ""
        if not _DATA_CENTRE.fullmatch(centre):
            # Checked, not just cut off: the key's tail becomes the host the key is sent to.
            raise ConfigError(
                f"{self.env_name('api_key')} has no data-centre suffix: a Mailchimp API key ends in a dash and "
                "its data centre, like ...-us21. Copy the whole key from Mailchimp (Profile > Extras > API keys), "
                f"or set {self.env_name('api_url')} to https://<dc>.api.mailchimp.com/3.0."
            )
        return f"https://{centre}.api.mailchimp.com/3.0"

    def auth_headers(self) -> dict[str, str]:
        # HTTP Basic with any user name and the key as the password.
        token = base64.b64encode(f"newsletter:{self.get('api_key')}".encode()).decode()
        self.add_secret(token)
        return {"Authorization": f"Basic {token}"}

    def error_message(self, response: httpx.Response) -> str:
        # Errors are RFC 7807 problem documents: title, detail and sometimes per-field errors.
        try:
            data = response.json()
        except ValueError:
            return super().error_message(response)
        if not isinstance(data, dict):
            return super().error_message(response)
        text = ": ".join(str(data[k]) for k in ("title", "detail") if data.get(k))
        errors = data.get("errors")
        fields = field_errors([e for e in errors if isinstance(e, dict)]) if isinstance(errors, list) else ""
        return f"{text} ({fields})" if fields else text or super().error_message(response)

    def build_payload(self, job: ExportJob) -> dict[str, Any]:
        email = prepare_email(job.email, self.footer_tags(job, MERGE_TAGS), neutralise, neutralise_html)
        html = strip_preheader(email.html, email.preheader)
        sender = job.config.sender
        settings = {
            "subject_line": email.subject,
            "preview_text": email.preheader,
            "title": f"{job.config.publication.name} {job.issue_key} [{job.marker}]",
            "from_name": sender.name or job.config.publication.name,
            "reply_to": sender.reply_to or sender.email,
        }
        return {
            "campaign": {"type": "regular", "recipients": {"list_id": self.get("list_id")}, "settings": settings},
            "content": {"html": html, "plain_text": email.text},
        }

    def _draft(self, data: Any, marker: str | None) -> Draft:
        data = data if isinstance(data, dict) else {}
        return self.draft(data.get("id"), data.get("archive_url"), marker)

    def _find(self, marker: str) -> dict[str, Any] | None:
        # No campaign search by title in the API: list the audience's unsent drafts, newest first.
        params = {"status": "save", "list_id": self.get("list_id"), "count": "1000", "sort_field": "create_time",
                  "sort_dir": "DESC", "fields": "campaigns.id,campaigns.archive_url,campaigns.settings.title"}
        found = self.call("GET", "/campaigns", params=params, expect=CAMPAIGNS).data or {}
        for campaign in found.get("campaigns") or []:
            settings = campaign.get("settings") if isinstance(campaign, dict) else None
            title = settings.get("title") if isinstance(settings, dict) else None
            if named_marker(title) == marker:
                return dict(campaign)
        return None

    def create_draft(self, payload: dict[str, Any], job: ExportJob) -> Draft:
        def recheck() -> Response | None:
            campaign = self._find(job.marker)
            return Response(200, campaign) if campaign else None

        answer = self.call("POST", "/campaigns", json_body=payload["campaign"], dry={"id": "<new id>"},
                           recheck=recheck, expect=CAMPAIGN)
        draft = self._draft(answer.data, job.marker)
        self.call("PUT", f"/campaigns/{draft.remote_id}/content", json_body=payload["content"], expect=CONTENT)
        return draft

    def update_draft(self, draft: Draft, payload: dict[str, Any], job: ExportJob) -> Draft:
        marker = draft.marker or job.marker
        settings = dict(payload["campaign"]["settings"])
        settings["title"] = with_marker(settings["title"], marker)
        body = {"recipients": payload["campaign"]["recipients"], "settings": settings}
        answer = self.call("PATCH", f"/campaigns/{draft.remote_id}", json_body=body, dry={"id": draft.remote_id},
                           expect=CAMPAIGN)
        self.call("PUT", f"/campaigns/{draft.remote_id}/content", json_body=payload["content"], expect=CONTENT)
        updated = self._draft(answer.data, marker)
        return Draft(draft.remote_id, updated.url or draft.url, marker)

    def send_test(self, draft: Draft, payload: dict[str, Any], recipients: tuple[str, ...]) -> None:
        self.call("POST", f"/campaigns/{draft.remote_id}/actions/test",
                  json_body={"test_emails": list(recipients), "send_type": "html"}, expect=TEST_SENT)
