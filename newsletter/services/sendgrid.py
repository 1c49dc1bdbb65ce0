"""SendGrid Marketing Campaigns (API v3 Single Sends): a draft single send with HTML and plain text; test sends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

import click

from newsletter.errors import ConfigError, SettingMissing, shown
from newsletter.manual import see
from newsletter.models import Links, RenderedEmail
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
    split_list,
    with_marker,
)
from newsletter.services.settings import HTTPS_URL, ID, URL, UUIDS

# Marketing Campaigns substitution tags, from "Design & Code Editor > Using Substitution Tags"
# (https://www.twilio.com/docs/sendgrid/ui/sending-email/editor) and "The Weblink Substitution
# Tag" (https://www.twilio.com/docs/sendgrid/ui/sending-email/weblink). The unsubscribe tags are
# triple-stash Handlebars, as in SendGrid's own Unsubscribe module, so the URL is not escaped.
MERGE_TAGS = Links(unsubscribe="{{{unsubscribe}}}", preferences="{{{unsubscribe_preferences}}}",
                   view_online="{{Weblink}}")
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# A single send's id is a UUID (singlesend_response.id, format uuid).
ID_PATTERN = re.compile(_UUID)
# Dynamic transactional templates have ids "d-" + 32 hex digits; the spec also allows a UUID.
TEMPLATE_ID_PATTERN = re.compile(rf"d-[0-9a-f]{{32}}|{_UUID}")
VERSION_ID_PATTERN = re.compile(_UUID)
PAGE_SIZE = 100  # GET /marketing/singlesends page_size
TEMPLATE_PAGE_SIZE = 200  # GET /templates: page_size is required, 1 to 200
MAX_PAGES = 50
MAX_TEST_EMAILS = 10  # POST /marketing/test/send_email: emails has maxItems 10

# The answers each call documents (sendgrid/sendgrid-oai, tests/specs/sendgrid-marketing.json;
# https://www.twilio.com/docs/sendgrid/api-reference/single-sends/create-single-send and its
# neighbours). A single send (singlesend_response) requires id, status and created_at.
SINGLE_SEND_CREATED = Expect((201,), {"id": str, "status": str}, what="the new SendGrid single send")
SINGLE_SEND_UPDATED = Expect((202,), {"id": str, "status": str}, what="the updated SendGrid single send")  # PATCH: 202
# GET /marketing/singlesends and GET /templates: 200 with {"result": [...], "_metadata": {"next": <uri>, ...}};
# "next" is there only while more pages follow.
PAGE = Expect((200,), {"result": list}, optional={"_metadata": dict, "_metadata.next": (str, type(None))},
              what="a page of a SendGrid list")
# POST /templates: 201 with the template (id, name, generation, versions); POST .../versions: 201,
# PATCH .../versions/{version_id}: 200, each with the version (transactional_template_version_output).
TEMPLATE_CREATED = Expect((201,), {"id": str}, optional={"versions": list}, what="the new SendGrid template")
VERSION_CREATED = Expect((201,), {"id": str}, what="the new template version")
VERSION_UPDATED = Expect((200,), {"id": str}, what="the updated template version")
# POST /marketing/test/send_email: 202 with an (empty) object.
TEST_SENT = Expect((202,), body="maybe")


def neutralise(text: str) -> str:
    """Break Handlebars openers (``{{``, which also starts ``{{{`` and ``{{#``) and SendGrid's ``<%``.

    Single Sends are Handlebars templates; ``<%...%>`` are the transactional templates' tags,
    which the test template (below) is.
    """
    return text.replace("{{", "{\u2060{").replace("<%", "<\u2060%")


def neutralise_html(html: str) -> str:
    """In HTML the brace becomes its character reference; ``<`` in text is already ``&lt;``."""
    return html.replace("{{", "&#123;{")


class SendGridService(HttpService):
    name: ClassVar[str] = "sendgrid"
    label: ClassVar[str] = "SendGrid"
    summary: ClassVar[str] = "draft single send in SendGrid Marketing Campaigns (HTML + plain text), test sends"
    docs_url: ClassVar[str] = "https://www.twilio.com/docs/sendgrid/api-reference/single-sends/create-single-send"
    features: ClassVar[Features] = Features(
        draft=True, test_send=True, text_part=True,
        preheader="hidden text at the top of the HTML (a single send has no preheader field)",
        merge_tags="{{{unsubscribe}}}, {{{unsubscribe_preferences}}}, {{Weblink}}",
    )
    id_pattern: ClassVar[re.Pattern[str]] = ID_PATTERN
    id_kind: ClassVar[str] = "single send id (a UUID)"
    settings_spec: ClassVar[tuple[Setting, ...]] = (
        Setting("api_key", "your API key with Marketing and Template access (Settings > API Keys)", secret=True),
        Setting("api_url", "the API's address", required=False, default="https://api.sendgrid.com/v3", kind=URL),
        Setting("sender_id", "ID of a verified sender (Marketing > Senders; the number in its page's URL)", kind=ID),
        Setting("list_ids", "IDs of the contact lists the single send goes to, a list of strings", required=False,
                kind=UUIDS),
        Setting("segment_ids", "IDs of the segments the single send goes to, a list of strings", required=False,
                kind=UUIDS),
        Setting("suppression_group_id", "ID of the unsubscribe group (or set custom_unsubscribe_url)",
                required=False, kind=ID),
        Setting("custom_unsubscribe_url", "your own unsubscribe page, https (or set suppression_group_id)",
                required=False, kind=HTTPS_URL),
        VIEW_ONLINE,
        *HTTP_SETTINGS,
    )

    def _load_settings(self) -> dict[str, str | None]:
        values = super()._load_settings()
        # email_config: "you must provide this [suppression_group_id] or the custom_unsubscribe_url".
        group, url = values.get("suppression_group_id"), values.get("custom_unsubscribe_url")
        settings_file = f"[export.sendgrid] of {shown(self.config.path or 'newsletter.toml')}"
        if not group and not url:
            raise SettingMissing(self.name, (
                "SendGrid needs an unsubscribe method, set nowhere: suppression_group_id (the unsubscribe group, "
                f"{self.env_name('suppression_group_id')}) or custom_unsubscribe_url "
                f"({self.env_name('custom_unsubscribe_url')}), in the environment or in {settings_file}. "
                f"{see('services', 'sendgrid')}"))
        if group and url:
            raise ConfigError(f"SendGrid takes suppression_group_id or custom_unsubscribe_url, not both: "
                              f"remove one from the environment or {settings_file}.")
        return values

    def auth_headers(self) -> dict[str, str]:
        # "Authorization: Bearer <<YOUR_API_KEY_HERE>>" (every v3 endpoint).
        return {"Authorization": f"Bearer {self.get('api_key')}"}


    def unsubscribe(self) -> dict[str, Any]:
        if self.values.get("suppression_group_id"):
            return {"suppression_group_id": self.integer("suppression_group_id")}
        return {"custom_unsubscribe_url": self.get("custom_unsubscribe_url")}

    def build_payload(self, job: ExportJob) -> dict[str, Any]:
        if len(job.test_to) > MAX_TEST_EMAILS:
            raise click.UsageError(f"SendGrid sends a test to at most {MAX_TEST_EMAILS} addresses at a time, "
                                   f"not {len(job.test_to)}.")
        email = prepare_email(job.email, self.footer_tags(job, MERGE_TAGS), neutralise, neutralise_html)
        send_to: dict[str, Any] = {}
        for key in ("list_ids", "segment_ids"):
            ids = split_list(self.values.get(key))  # UUIDs, checked when the settings were read
            if ids:
                send_to[key] = ids
        single_send: dict[str, Any] = {
            "name": draft_name(job.config.publication.name, job.issue_key, job.marker),
            "email_config": {
                "subject": email.subject,
                "html_content": email.html,
                "plain_content": email.text,
                "generate_plain_content": False,  # keep our text part, not one scraped from the HTML
                "editor": "code",
                "sender_id": self.integer("sender_id"),
                **self.unsubscribe(),
            },
        }
        if send_to:
            single_send["send_to"] = send_to
        # A test send goes through a dynamic transactional template, where the Marketing Campaigns
        # tags mean nothing: it gets the real footer links of a standalone build instead.
        safe = RenderedEmail(neutralise(job.email.subject), neutralise(job.email.preheader),
                             neutralise_html(job.email.html), neutralise(job.email.text), job.email.lang,
                             job.email.placeholders)
        test = safe.with_links(job.standalone_links)
        return {"single_send": single_send, "test": {"subject": test.subject, "html_content": test.html,
                                                     "plain_content": test.text},
                "test_name": draft_name(job.config.publication.name, f"{job.issue_key} test", job.marker)}

    def _draft(self, data: Any, marker: str | None) -> Draft:
        # A single send's answer has no link to it: the editor opens it from Marketing > Single Sends.
        data = data if isinstance(data, dict) else {}
        return self.draft(data.get("id"), None, marker)

    def _pages(self, path: str, params: dict[str, Any], what: str) -> Iterator[dict[str, Any]]:
        """Every item of a list answer: ``result`` items, following ``_metadata.next``."""
        url: str | None = path
        query: dict[str, Any] | None = params
        for _ in range(MAX_PAGES):
            if url is None:
                return
            page = self.call("GET", url, params=query, expect=PAGE).data or {}
            yield from (item for item in page.get("result") or [] if isinstance(item, dict))
            url, query = (page.get("_metadata") or {}).get("next") or None, None
        if url is not None:
            self.warn(f"Warning: looked through {MAX_PAGES} pages of SendGrid {what} and stopped there; if an "
                      "interrupted export left one further back, this export makes a second: delete the older one.")

    def _find(self, marker: str) -> dict[str, Any] | None:
        for single_send in self._pages("/marketing/singlesends", {"page_size": str(PAGE_SIZE)}, "single sends"):
            if named_marker(single_send.get("name")) == marker and single_send.get("status") == "draft":
                return dict(single_send)
        return None

    def create_draft(self, payload: dict[str, Any], job: ExportJob) -> Draft:
        def recheck() -> Response | None:
            single_send = self._find(job.marker)
            return Response(201, single_send) if single_send else None

        answer = self.call("POST", "/marketing/singlesends", json_body=payload["single_send"],
                           dry={"id": DRY_ID}, recheck=recheck, expect=SINGLE_SEND_CREATED)
        return self._draft(answer.data, job.marker)

    def update_draft(self, draft: Draft, payload: dict[str, Any], job: ExportJob) -> Draft:
        # draft.remote_id was checked on its way in: by export.py from exports.json, or by _draft.
        marker = draft.marker or job.marker
        body = {**payload["single_send"], "name": with_marker(payload["single_send"]["name"], marker)}
        self.call("PATCH", f"/marketing/singlesends/{draft.remote_id}", json_body=body, dry={"id": draft.remote_id},
                  expect=SINGLE_SEND_UPDATED)
        return Draft(draft.remote_id, draft.url, marker)

    def send_test(self, draft: Draft, payload: dict[str, Any], recipients: tuple[str, ...]) -> None:
        """Copy the email into this issue's dynamic template, then ask SendGrid to send it as a test.

        POST /marketing/test/send_email takes a template_id and "works with Dynamic Transactional
        Templates only" (https://www.twilio.com/docs/sendgrid/api-reference/send-test-email); a
        single send is not such a template. So each issue keeps one dynamic template, named like
        the single send with "test" and the same marker, found again on later runs, whose one
        version is overwritten with the current content before each test. The template's and the
        version's ids come from SendGrid's answers and go into URLs: they are checked like a draft's.
        """
        marker = draft.marker or ""
        name = with_marker(payload["test_name"], marker)
        template = self._find_template(marker) if marker else None
        if template is None:
            template = self.call("POST", "/templates", json_body={"name": name, "generation": "dynamic"},
                                 dry={"id": DRY_ID, "versions": []}, expect=TEMPLATE_CREATED).data or {}
        template_id = self.answered_id(template.get("id"), TEMPLATE_ID_PATTERN,
                                       "a dynamic template's id (d- and 32 hexadecimal digits)")
        version = {"name": name, "active": 1, "generate_plain_content": False, "editor": "code", **payload["test"]}
        versions = [v for v in template.get("versions") or [] if isinstance(v, dict) and v.get("id")]
        if versions:
            current = next((v for v in versions if v.get("active") == 1), versions[0])
            version_id = self.answered_id(current["id"], VERSION_ID_PATTERN, "a template version's id (a UUID)")
            self.call("PATCH", f"/templates/{template_id}/versions/{version_id}", json_body=version,
                      expect=VERSION_UPDATED)
        else:
            self.call("POST", f"/templates/{template_id}/versions", json_body=version, expect=VERSION_CREATED)
        body = {"template_id": template_id, "emails": list(recipients), "sender_id": self.integer("sender_id"),
                **self.unsubscribe()}
        self.call("POST", "/marketing/test/send_email", json_body=body, expect=TEST_SENT)

    def _find_template(self, marker: str) -> dict[str, Any] | None:
        params = {"generations": "dynamic", "page_size": str(TEMPLATE_PAGE_SIZE)}
        for template in self._pages("/templates", params, "dynamic templates"):
            if named_marker(template.get("name")) == marker:
                return dict(template)
        return None
