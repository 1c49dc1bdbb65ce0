"""What is particular to Brevo, SendGrid and Kit, against loopback fakes that check every body against the spec.

What every API service guarantees (one draft per issue, retries, faults, documented answers, ids,
secrets) is tested for these three with the others in tests/test_services_http.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from msgspec.structs import replace

from newsletter.cli import cli
from newsletter.errors import ConfigError, ServiceError, SettingMissing
from newsletter.export import export_email
from newsletter.services import service_class
from newsletter.services.brevo import BrevoService
from tests.conftest import SAMPLE_WEEK
from tests.exporting import KEY, STANDALONE, make_config, make_email, read_exports
from tests.servers import Fault, serve
from tests.servers_harness import HARNESSES, MORE, Harness, Run, creates, services, wired
from tests.servers_more import FakeBrevo, FakeSendGrid

pytestmark = pytest.mark.server
TESTERS = ("editor@sentinel.example", "desk@sentinel.example")


@pytest.fixture(params=MORE)
def harness(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with wired(request.param, monkeypatch) as h:
        yield h


@pytest.fixture
def run(harness: Harness, tmp_path: Path) -> Run:
    return Run(tmp_path, harness.name)


def test_the_draft_is_a_draft_with_the_issues_words(harness: Harness, run: Run) -> None:
    result = run()
    stored = harness.fake.drafts[str(result.remote_id)]
    marker = read_exports(run.folder)["drafts"][harness.name]["marker"]
    if harness.name == "brevo":
        assert stored["status"] == "draft" and "scheduledAt" not in stored
        assert stored["name"] == f"Saigon Sentinel {KEY} [{marker}]"
        assert stored["sender"] == {"name": "Saigon Sentinel", "email": "newsletter@sentinel.example"}
        assert stored["replyTo"] == "editor@sentinel.example"
        assert stored["recipients"] == {"listIds": [2, 7]} and stored["mirrorActive"] is True
        assert stored["previewText"] == "This week: Russia and Myanmar sign a nuclear pact."
    elif harness.name == "sendgrid":
        config = stored["email_config"]
        assert stored["status"] == "draft" and "send_at" not in stored
        assert stored["name"] == f"Saigon Sentinel {KEY} [{marker}]"
        assert config["sender_id"] == 6060664 and config["suppression_group_id"] == 2186
        assert "custom_unsubscribe_url" not in config
        assert config["generate_plain_content"] is False and config["editor"] == "code"
        assert stored["send_to"] == {"list_ids": ["f2fe66a1-43f3-4e3a-87b1-c6a600d805f0"]}
        assert "Người Việt ở Quận Cam" in config["plain_content"]
    else:
        assert stored["public"] is False and stored["send_at"] is None and stored["status"] == "draft"
        assert stored["description"] == f"Saigon Sentinel {KEY} [{marker}]"
        assert stored["preview_text"] == "This week: Russia and Myanmar sign a nuclear pact."
        assert "subscriber_filter" not in harness.fake.requests[-1].body  # all subscribers, Kit's default
        assert "email_template_id" not in harness.fake.requests[-1].body
        assert "email_address" not in harness.fake.requests[-1].body  # the account's sending address


# ---- test sends -----------------------------------------------------------------------------

@services("brevo")
def test_brevo_sends_its_test_of_the_draft(harness: Harness, run: Run) -> None:
    result = run(test_to=TESTERS)
    assert harness.fake.tests_sent == [(result.remote_id, list(TESTERS))]
    assert read_exports(run.folder)["history"][-1]["test_to"] == list(TESTERS)
    assert harness.fake.errors == []


@services("brevo")
def test_brevo_gets_the_preheader_as_preview_text_on_update_too(harness: Harness, run: Run) -> None:
    # previewText, "Preview text or preheader of the email campaign", is in both createEmailCampaign
    # and updateEmailCampaign (https://developers.brevo.com/reference/update-email-campaign).
    first = run()
    email = replace(make_email(), preheader="Now: fee caps on remittances take effect {{ contact.EMAIL }}.")
    service = BrevoService(run.config, echo=run.output.append, warn=run.warnings.append, sleep=run.sleeps.append)
    try:
        second = export_email(service, KEY, run.folder, email, STANDALONE, echo=run.output.append)
    finally:
        service.close()
    assert second.action == "updated" and second.remote_id == first.remote_id
    put = [r for r in harness.fake.requests if r.method == "PUT"]
    assert len(put) == 1 and put[0].path == f"/v3/emailCampaigns/{first.remote_id}"
    preview = put[0].body["previewText"]
    # The preheader's own words, with its "{{" made inert: Brevo evaluates its template language there too.
    assert preview.startswith("Now: fee caps on remittances take effect") and "{{" not in preview
    assert harness.fake.drafts[str(first.remote_id)]["previewText"] == preview and harness.fake.errors == []

@services("brevo")
def test_brevo_names_the_addresses_it_refused(harness: Harness, run: Run) -> None:
    assert isinstance(harness.fake, FakeBrevo)
    harness.fake.unknown_contacts.add("desk@sentinel.example")
    with pytest.raises(ServiceError) as caught:
        run(test_to=TESTERS)
    message = caught.value.format_message()
    assert "not contacts in Brevo: desk@sentinel.example" in message and "(400)" in message


@services("sendgrid")
def test_sendgrid_tests_through_the_issues_own_dynamic_template(harness: Harness, run: Run) -> None:
    fake = harness.fake
    assert isinstance(fake, FakeSendGrid)
    first = run(test_to=TESTERS)
    assert len(fake.templates) == 1
    template_id, template = next(iter(fake.templates.items()))
    marker = read_exports(run.folder)["drafts"]["sendgrid"]["marker"]
    assert template["generation"] == "dynamic" and f"[{marker}]" in template["name"]
    assert fake.tests_sent == [(template_id, list(TESTERS))]
    version = next(iter(fake.versions.values()))
    single_send = fake.drafts[str(first.remote_id)]["email_config"]
    # The same email, with the standalone footer links in place of Marketing Campaigns' tags.
    assert version["subject"] == single_send["subject"]
    assert STANDALONE.unsubscribe in version["html_content"] and "{{{unsubscribe}}}" not in version["html_content"]
    assert STANDALONE.preferences in version["plain_content"]
    assert "{{ .Subscriber.Email }}" not in version["html_content"] + version["plain_content"]
    # A second test updates that template's one version instead of piling up templates or versions.
    run(test_to=("editor@sentinel.example",))
    assert len(fake.templates) == 1 and len(fake.versions) == 1
    assert fake.tests_sent[-1] == (template_id, ["editor@sentinel.example"])
    assert fake.errors == []


@services("sendgrid")
def test_sendgrid_refuses_more_than_ten_test_addresses(harness: Harness, run: Run) -> None:
    with pytest.raises(click.UsageError) as caught:
        run(test_to=tuple(f"e{n}@sentinel.example" for n in range(11)))
    assert "at most 10" in caught.value.format_message()
    assert harness.fake.requests == []


# ---- answers particular to one service ---------------------------------------------------------

@services("brevo")
@pytest.mark.parametrize("answer", [
    (404, {"code": "document_not_found", "message": "campaign do not exist"}),  # sendinblue/APIv3-php-library#36
    (200, {"count": 0}),
    (200, {}),
])
def test_brevo_takes_an_empty_lookup_in_any_of_its_forms_for_none(harness: Harness, run: Run,
                                                                  answer: tuple[int, dict[str, Any]]) -> None:
    status, body = answer
    harness.fake.faults.append(Fault("GET", harness.list_path, status=status, body=body))
    result = run()
    assert result.action == "created" and creates(harness) == 1 and harness.fake.errors == []


# The calls besides "create", each answered with a success status its API does not document.
OTHER_STATUS = {
    "brevo": Fault("PUT", r"/v3/emailCampaigns/\d+", status=200, body={"id": 1}),  # documented: 204
    "sendgrid": Fault("PATCH", r"/v3/marketing/singlesends/.+", status=200,  # documented: 202
                      body={"id": "27c21bbf-a12c-440b-b8bf-c526975328ca", "status": "draft"}),
    "kit": Fault("PUT", r"/v4/broadcasts/\d+", status=201, body={"broadcast": {"id": 101}}),  # documented: 200
}


def test_an_update_answered_with_another_status_is_not_taken_as_done(harness: Harness, run: Run) -> None:
    run()
    fault = OTHER_STATUS[harness.name]
    harness.fake.faults.append(fault)
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    assert f"{fault.method} " in message and f"answered {fault.status}, where" in message
    assert [e["action"] for e in read_exports(run.folder)["history"]] == ["created"]


@services("sendgrid")
@pytest.mark.parametrize("bad_id", ["../../marketing/singlesends", "d-123", "", None])
def test_sendgrid_checks_a_template_id_before_it_goes_into_a_url(harness: Harness, run: Run, bad_id: Any) -> None:
    harness.fake.faults.append(Fault("POST", "/v3/templates", status=201, body={"id": bad_id, "versions": []}))
    with pytest.raises(ServiceError) as caught:
        run(test_to=TESTERS)
    message = caught.value.format_message()
    assert ("dynamic template's id (d- and 32 hexadecimal digits)" in message if bad_id is not None
            else "id is null, not a string" in message)
    after = [r.path for r in harness.fake.requests if r.path.startswith("/v3/templates/")]
    assert after == [] and harness.fake.tests_sent == []


@services("sendgrid")
def test_sendgrid_checks_a_template_version_id_too(harness: Harness, run: Run) -> None:
    fake = harness.fake
    assert isinstance(fake, FakeSendGrid)
    run(test_to=TESTERS)
    template = next(iter(fake.templates.values()))
    template["versions"][0]["id"] = "../../../marketing/singlesends"
    with pytest.raises(ServiceError) as caught:
        run(test_to=TESTERS)
    assert "template version's id (a UUID)" in caught.value.format_message()
    assert not any(r.method == "PATCH" and "/versions/" in r.path for r in fake.requests)
    assert len(fake.tests_sent) == 1


MODULES = {"brevo": "newsletter.services.brevo", "sendgrid": "newsletter.services.sendgrid",
           "kit": "newsletter.services.kit"}


def test_a_lookup_cut_short_by_its_page_limit_says_so(harness: Harness, run: Run,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{MODULES[harness.name]}.MAX_PAGES", 1)  # the fakes give two drafts a page
    for _ in range(3):
        run(force_new=True)
    assert run.warnings == []
    result = run(force_new=True)  # its lookup stops after one page of three drafts
    assert result.action == "created"
    assert any("looked through" in w and "makes a second" in w for w in run.warnings), run.warnings


# ---- settings -------------------------------------------------------------------------------

def test_sendgrid_needs_an_unsubscribe_method(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SENDGRID_API_KEY", "SG.x")
    monkeypatch.setenv("NEWSLETTER_SENDGRID_SENDER_ID", "1")
    for key in ("SUPPRESSION_GROUP_ID", "CUSTOM_UNSUBSCRIBE_URL"):
        monkeypatch.delenv(f"NEWSLETTER_SENDGRID_{key}", raising=False)
    cls = service_class("sendgrid")
    assert cls is not None
    with pytest.raises(SettingMissing) as caught:
        cls(make_config(tmp_path))
    message = caught.value.format_message()
    assert "NEWSLETTER_SENDGRID_SUPPRESSION_GROUP_ID" in message
    assert "NEWSLETTER_SENDGRID_CUSTOM_UNSUBSCRIBE_URL" in message
    with pytest.raises(ConfigError) as both:
        cls(make_config(tmp_path, {"sendgrid": {"suppression_group_id": 5,
                                                "custom_unsubscribe_url": "https://sentinel.example/u"}}))
    assert "not both" in both.value.format_message()
    service = cls(make_config(tmp_path, {"sendgrid": {"custom_unsubscribe_url": "https://sentinel.example/u"}}))
    assert service.unsubscribe() == {"custom_unsubscribe_url": "https://sentinel.example/u"}


@pytest.mark.parametrize(("name", "settings", "words"), [
    ("brevo", {"list_ids": "two"}, ["[export.brevo] list_ids", "whole numbers", '"two"']),
    ("sendgrid", {"sender_id": "me"}, ["[export.sendgrid] sender_id", "whole number", '"me"']),
    ("sendgrid", {"list_ids": "my-list"}, ["[export.sendgrid] list_ids", '"my-list"', "f2fe66a1-"]),
    ("kit", {"segment_ids": "1,x"}, ["[export.kit] segment_ids", "whole numbers", '"1,x"']),
])
def test_malformed_ids_in_settings_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                                             settings: dict[str, str], words: list[str]) -> None:
    """Refused when the service is made, before any export, dry or not (tests/test_service_settings.py)."""
    list_ids = "f2fe66a1-43f3-4e3a-87b1-c6a600d805f0" if name == "sendgrid" else "1"
    for key, value in {"API_KEY": "k", "LIST_IDS": list_ids, "SENDER_ID": "1", "SUPPRESSION_GROUP_ID": "1"}.items():
        monkeypatch.setenv(f"NEWSLETTER_{name.upper()}_{key}", value)
    for key in settings:
        monkeypatch.delenv(f"NEWSLETTER_{name.upper()}_{key.upper()}", raising=False)
    cls = service_class(name)
    assert cls is not None
    with pytest.raises(ConfigError) as caught:
        cls(make_config(tmp_path, {name: settings}), echo=lambda _: None)
    for word in words:
        assert word in caught.value.format_message()


def test_a_secret_in_the_settings_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("brevo", "sendgrid", "kit"):
        monkeypatch.setenv(f"NEWSLETTER_{name.upper()}_API_KEY", "env-key")
        cls = service_class(name)
        assert cls is not None
        with pytest.raises(ConfigError) as caught:
            cls(make_config(tmp_path, {name: {"api_key": "file-key-abc"}}))
        message = caught.value.format_message()
        assert f"NEWSLETTER_{name.upper()}_API_KEY" in message and "file-key-abc" not in message


@services("kit")
def test_kit_sends_to_the_segments_and_tags_it_is_given(harness: Harness, run: Run,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_KIT_SEGMENT_IDS", "18, 19")
    monkeypatch.setenv("NEWSLETTER_KIT_TAG_IDS", "7")
    monkeypatch.setenv("NEWSLETTER_KIT_EMAIL_TEMPLATE_ID", "6")
    monkeypatch.setenv("NEWSLETTER_KIT_EMAIL_ADDRESS", "news@sentinel.example")
    result = run()
    body = harness.fake.requests[-1].body
    assert body["email_address"] == "news@sentinel.example"
    assert body["subscriber_filter"] == [{"all": [{"type": "segment", "ids": [18, 19]},
                                                  {"type": "tag", "ids": [7]}], "any": None, "none": None}]
    assert body["email_template_id"] == 6
    assert run().remote_id == result.remote_id and harness.fake.errors == []


# ---- through the command line ---------------------------------------------------------------

def cli_run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_kit_test_to_is_a_usage_error(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_KIT_API_KEY", "kit-key")
    result = cli_run("export", "--to", "kit", "--week", SAMPLE_WEEK, "--test-to", "editor@example.org")
    assert result.exit_code == 2
    assert "Kit cannot send test emails" in result.output and "--to smtp" in result.output
    assert not (workspace / "issues" / SAMPLE_WEEK / "exports.json").exists()


def test_list_says_what_the_new_services_cannot_do() -> None:
    result = cli_run("export", "--list")
    assert result.exit_code == 0
    block = {name: result.output.split(f"\n{name} ", 1)[1].split("\n\n", 1)[0] for name in ("brevo", "kit")}
    assert "Brevo has no separate text part" in block["brevo"] and "own text part: no" in block["brevo"]
    assert "test emails: no" in block["kit"] and "no test-send call" in block["kit"]
    for env in ("NEWSLETTER_BREVO_API_KEY", "NEWSLETTER_BREVO_LIST_IDS", "NEWSLETTER_SENDGRID_SENDER_ID",
                "NEWSLETTER_SENDGRID_SUPPRESSION_GROUP_ID", "NEWSLETTER_KIT_API_KEY"):
        assert env in result.output


@pytest.mark.parametrize("name", ["brevo", "sendgrid", "kit"])
def test_export_through_the_cli_then_again(workspace: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    h = HARNESSES[name]()
    test_to = [] if name == "kit" else ["--test-to", "editor@example.org"]
    with serve(h.fake) as url:
        # The service's own view-online tag, not the archive page the sample's [archive] url gives
        settings = {**h.env, "API_URL": url + h.api_path, "RETRY_BASE_DELAY": "0.01", "VIEW_ONLINE": "service"}
        for key, value in settings.items():
            monkeypatch.setenv(f"NEWSLETTER_{name.upper()}_{key}", value)
        dry = cli_run("export", "--to", name, "--week", SAMPLE_WEEK, "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert h.fake.requests == [] and "***" in dry.output
        first = cli_run("export", "--to", name, "--week", SAMPLE_WEEK)
        assert first.exit_code == 0, first.output
        second = cli_run("export", "--to", name, "--week", SAMPLE_WEEK, *test_to)
        assert second.exit_code == 0, second.output
    assert "Created the" in first.output and "Updated the" in second.output
    assert len(h.fake.drafts) == 1 and h.fake.errors == [] and len(h.fake.tests_sent) == len(test_to) // 2
    state = json.loads((workspace / "issues" / SAMPLE_WEEK / "exports.json").read_text())
    assert state["drafts"][name]["remote_id"] == next(iter(h.fake.drafts))
    assert [e["action"] for e in state["history"]] == ["created", "updated"]
    assert h.secret not in dry.output + first.output + second.output
    # The real theme's footer reached the service as its merge tags.
    texts = "\n".join(h.texts(next(iter(h.fake.drafts.values()))))
    assert h.footer_tags <= {m.group() for m in h.allowed_tags.finditer(texts)}
