"""The six API services wired to their loopback fakes, shared by the service tests.

A ``Harness`` says how to configure one service against its fake (tests/servers.py,
tests/servers_more.py), where a stored draft keeps what subscribers will read, which requests
create and look up drafts, and what the service's answer to "create a draft" looks like, so one
test can be run against every service. ``wired`` runs the fake and sets the service's
``NEWSLETTER_<SERVICE>_*`` variables with short test timings; ``Run`` exports one issue folder,
each call with a fresh service like separate command runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from newsletter.export import export_email
from newsletter.models import ExportResult
from newsletter.services import service_class
from newsletter.services.base import Service
from tests.exporting import KEY, STANDALONE, make_config, make_email
from tests.servers import FakeButtondown, FakeListmonk, FakeMailchimp, FakeService, serve
from tests.servers_more import FakeBrevo, FakeKit, FakeSendGrid


@dataclass
class Harness:
    """One service wired to its fake: how to configure it and where its draft's texts end up."""

    name: str
    fake: FakeService
    env: dict[str, str]  # NEWSLETTER_<SERVICE>_<KEY> values, without the prefix
    secret: str
    texts: Callable[[dict[str, Any]], list[str]]  # every field of a stored draft a merge engine reads
    syntax: re.Pattern[str]  # what the service's template engine would evaluate
    allowed_tags: re.Pattern[str]  # the only template syntax allowed in those texts
    footer_tags: set[str]  # the footer's merge tags, as they must appear in the HTML
    create_path: str  # regex of the path that creates a draft
    list_path: str  # regex of the path that looks drafts up
    api_path: str  # what follows the fake's address in api_url
    create_status: int  # the status the API documents for "created"
    good_id: Any  # a well-formed draft id, as the answer holds it
    answer: Callable[[Any], dict[str, Any]]  # the service's answer about a draft with this id
    error: Callable[[str], dict[str, Any]]  # an error answer in the service's own format, saying this
    secret_env: str = "API_KEY"  # the setting holding the credential
    wrong_list: dict[str, Any] = field(default_factory=dict)  # a lookup answer of another shape


def _listmonk() -> Harness:
    fake = FakeListmonk()
    return Harness("listmonk", fake, {"USERNAME": fake.username, "TOKEN": fake.token, "LIST_IDS": "3, 5"},
                   fake.token, lambda d: [d["subject"], d["body"], d["altbody"]], re.compile(r"\{\{.*?\}\}"),
                   re.compile(r'\{\{( UnsubscribeURL | MessageURL |"\{\{")\}\}'),
                   {"{{ UnsubscribeURL }}", "{{ MessageURL }}"}, r"/api/campaigns", r"/api/campaigns", "",
                   200, 7, lambda i: {"data": {"id": i}}, lambda m: {"message": m}, "TOKEN",
                   {"data": {"results": "none"}})


def _buttondown() -> Harness:
    fake = FakeButtondown()
    return Harness("buttondown", fake, {"API_KEY": fake.api_key}, fake.api_key,
                   lambda d: [d["subject"], d["body"]], re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}"),
                   re.compile(r"\{\{ (unsubscribe_url|manage_subscription_url|email_url) \}\}"),
                   {"{{ unsubscribe_url }}", "{{ manage_subscription_url }}", "{{ email_url }}"},
                   r"/v1/emails", r"/v1/emails", "/v1", 201, "00000000-0000-4000-8000-000000000007",
                   lambda i: {"id": i}, lambda m: {"detail": m}, wrong_list={"results": {}})


def _mailchimp() -> Harness:
    fake = FakeMailchimp()
    return Harness("mailchimp", fake, {"API_KEY": fake.api_key, "LIST_ID": fake.list_id}, fake.api_key,
                   lambda d: [d["settings"]["subject_line"], d["settings"]["preview_text"], d["content"]["html"],
                              d["content"]["plain_text"]], re.compile(r"\*\|.*?\|\*"),
                   re.compile(r"\*\|(UNSUB|UPDATE_PROFILE|ARCHIVE)\|\*"),
                   {"*|UNSUB|*", "*|UPDATE_PROFILE|*", "*|ARCHIVE|*"}, r"/3.0/campaigns", r"/3.0/campaigns",
                   "/3.0", 200, "000000000a", lambda i: {"id": i},
                   lambda m: {"type": "https://mailchimp.com/developer/marketing/docs/errors/",
                              "title": "Internal Server Error", "status": 500, "detail": m},
                   wrong_list={"campaigns": 3})


def _brevo() -> Harness:
    fake = FakeBrevo()
    return Harness("brevo", fake, {"API_KEY": fake.api_key, "LIST_IDS": "2, 7"}, fake.api_key,
                   lambda d: [d["subject"], d["previewText"], d["htmlContent"]],
                   # Brevo Template Language, Django-like: {{ }}, {% %}, {# #}
                   re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}"),
                   re.compile(r"\{\{ (unsubscribe|update_profile|mirror) \}\}"),
                   {"{{ unsubscribe }}", "{{ update_profile }}", "{{ mirror }}"}, r"/v3/emailCampaigns",
                   r"/v3/emailCampaigns", "/v3", 201, 7, lambda i: {"id": i},
                   lambda m: {"code": "internal_error", "message": m}, wrong_list={"count": 1, "campaigns": {}})


def _sendgrid() -> Harness:
    fake = FakeSendGrid()
    return Harness("sendgrid", fake, {"API_KEY": fake.api_key, "SENDER_ID": "6060664", "SUPPRESSION_GROUP_ID": "2186",
                                      "LIST_IDS": "f2fe66a1-43f3-4e3a-87b1-c6a600d805f0"}, fake.api_key,
                   lambda d: [d["email_config"]["subject"], d["email_config"]["html_content"],
                              d["email_config"]["plain_content"]],
                   re.compile(r"\{\{\{?.*?\}\}\}?|<%.*?%>"),  # Handlebars, and the templates' <% %>
                   re.compile(r"\{\{\{unsubscribe\}\}\}|\{\{\{unsubscribe_preferences\}\}\}|\{\{Weblink\}\}"),
                   {"{{{unsubscribe}}}", "{{{unsubscribe_preferences}}}", "{{Weblink}}"},
                   r"/v3/marketing/singlesends", r"/v3/marketing/singlesends", "/v3", 201,
                   "27c21bbf-a12c-440b-b8bf-c526975328ca",
                   lambda i: {"id": i, "name": "x", "status": "draft", "created_at": "2026-11-29T12:00:00Z"},
                   lambda m: {"errors": [{"field": None, "message": m}]},
                   wrong_list={"result": "none", "_metadata": {}})


def _kit() -> Harness:
    fake = FakeKit()
    return Harness("kit", fake, {"API_KEY": fake.api_key}, fake.api_key,
                   lambda d: [d["subject"], d["preview_text"], d["content"]],
                   re.compile(r"\{\{.*?\}\}|\{%.*?%\}"),  # Liquid
                   re.compile(r"\{\{ (unsubscribe_url|subscriber_preferences_url) \}\}"),
                   {"{{ unsubscribe_url }}", "{{ subscriber_preferences_url }}"}, r"/v4/broadcasts", r"/v4/broadcasts",
                   "/v4", 201, 107, lambda i: {"broadcast": {"id": i, "status": "draft", "public": False}},
                   lambda m: {"errors": [m]}, wrong_list={"broadcasts": 3, "pagination": {"has_next_page": False}})


HARNESSES: dict[str, Callable[[], Harness]] = {
    "listmonk": _listmonk, "buttondown": _buttondown, "mailchimp": _mailchimp,
    "brevo": _brevo, "sendgrid": _sendgrid, "kit": _kit,
}
FIRST = ("listmonk", "buttondown", "mailchimp")
MORE = ("brevo", "sendgrid", "kit")  # issue 14's, with their own tests in tests/test_services_more.py


def services(*names: str) -> pytest.MarkDecorator:
    """Run a test taking the ``harness`` fixture against these services only."""
    return pytest.mark.parametrize("harness", list(names), indirect=True)


@contextmanager
def wired(name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """The named service's fake running on 127.0.0.1, and its settings in the environment."""
    h = HARNESSES[name]()
    with serve(h.fake) as url:
        prefix = f"NEWSLETTER_{h.name.upper()}_"
        monkeypatch.setenv(prefix + "API_URL", url + h.api_path)
        for key, value in {**h.env, "RETRY_BASE_DELAY": "0.01", "TIMEOUT": "2"}.items():
            monkeypatch.setenv(prefix + key, value)
        yield h


class Run:
    """Exports of one issue folder, each with a fresh service like separate command runs."""

    def __init__(self, root: Path, name: str):
        self.root, self.name = root, name
        self.config = make_config(root)
        self.folder = root / "issues" / KEY
        self.output: list[str] = []
        self.warnings: list[str] = []
        self.sleeps: list[float] = []

    def __call__(self, **options: Any) -> ExportResult:
        cls = service_class(self.name)
        assert cls is not None
        service: Service = cls(self.config, echo=self.output.append, warn=self.warnings.append,
                               sleep=self.sleeps.append)
        try:
            return export_email(service, KEY, self.folder, make_email(), STANDALONE, echo=self.output.append,
                                **options)
        finally:
            service.close()

    @property
    def text(self) -> str:
        return "\n".join(self.output)


def creates(h: Harness) -> int:
    """How many requests asked the fake to create a draft."""
    return sum(1 for r in h.fake.requests if r.method == "POST" and re.fullmatch(h.create_path, r.path))
