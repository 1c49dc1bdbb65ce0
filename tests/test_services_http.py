"""Every API service (listmonk, Buttondown, Mailchimp, Brevo, SendGrid, Kit) against its loopback fake.

The fakes check every request body against the service's spec (tests/servers.py,
tests/servers_more.py). What every service guarantees is tested here against all six: one draft
per issue, retries and faults, only the documented answer taken for success, ids checked before
they go into a URL, secrets never shown. Tests marked ``@services(...)`` hold for some only;
tests/test_services_more.py has what is particular to Brevo, SendGrid and Kit.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.errors import ConfigError, ServiceError, SettingMissing
from newsletter.export import export_email
from newsletter.services import service_class
from tests.exporting import KEY, STANDALONE, make_config, make_email, read_exports
from tests.servers import FakeMailchimp, Fault, serve
from tests.servers_harness import FIRST, HARNESSES, MORE, Harness, Run, creates, services, wired

pytestmark = pytest.mark.server


@pytest.fixture(params=list(HARNESSES))
def harness(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with wired(request.param, monkeypatch) as h:
        yield h


@pytest.fixture
def run(harness: Harness, tmp_path: Path) -> Run:
    return Run(tmp_path, harness.name)


def label(h: Harness) -> str:
    cls = service_class(h.name)
    assert cls is not None
    return cls.label


def test_creates_one_draft_valid_against_the_spec(harness: Harness, run: Run) -> None:
    result = run()
    assert result.action == "created"
    assert harness.fake.errors == []
    assert list(harness.fake.drafts) == [result.remote_id]
    state = read_exports(run.folder)
    draft = state["drafts"][harness.name]
    assert draft["remote_id"] == result.remote_id
    assert draft["content_hash"].startswith("sha256:") and draft["updated"]
    assert draft["marker"].startswith(f"nl-{KEY}-")
    assert state["pending"] == {}
    assert [e["action"] for e in state["history"]] == ["created"]
    assert state["history"][0]["service"] == harness.name and state["history"][0]["time"]
    assert f"Created the {label(harness)} draft {result.remote_id}" in run.text


def test_article_text_never_becomes_a_merge_tag(harness: Harness, run: Run) -> None:
    result = run()
    stored = harness.fake.drafts[str(result.remote_id)]
    texts = harness.texts(stored)
    for text in texts:
        for found in harness.syntax.finditer(text):
            assert harness.allowed_tags.fullmatch(found.group()), f"{found.group()!r} would be evaluated"
        assert "placeholder.invalid" not in text
    # The footer's links did become the service's merge tags, in the HTML and any text part.
    bodies = [t for t in texts if "Unsubscribe" in t]
    assert bodies
    for body in bodies:
        assert harness.footer_tags <= {m.group() for m in harness.allowed_tags.finditer(body)}
    if harness.name == "listmonk":
        assert "{{ UnsubscribeURL }}?manage=true" in stored["body"]
        # Go's text/template prints {{"{{"}} as "{{": the reader sees the article's words unchanged.
        assert stored["altbody"].count('{{"{{"}} .Subscriber.Email }}') == 2
    if harness.name == "kit":  # no documented web-version tag for an unpublished broadcast: the site's page
        assert STANDALONE.view_online in stored["content"]


def test_export_again_updates_the_same_draft(harness: Harness, run: Run) -> None:
    first = run()
    second = run()
    assert second.action == "updated" and second.remote_id == first.remote_id
    assert len(harness.fake.drafts) == 1 and creates(harness) == 1
    assert harness.fake.errors == []
    state = read_exports(run.folder)
    assert [e["action"] for e in state["history"]] == ["created", "updated"]
    assert state["drafts"][harness.name]["remote_id"] == first.remote_id
    updates = [r for r in harness.fake.requests if r.method in ("PUT", "PATCH")]
    assert updates and all(f"/{first.remote_id}" in r.path for r in updates)


def test_new_makes_a_second_draft_on_purpose(harness: Harness, run: Run) -> None:
    first = run()
    fresh = run(force_new=True)
    assert fresh.action == "created" and fresh.remote_id != first.remote_id
    assert len(harness.fake.drafts) == 2
    assert read_exports(run.folder)["drafts"][harness.name]["remote_id"] == fresh.remote_id
    again = run()
    assert again.action == "updated" and again.remote_id == fresh.remote_id
    assert harness.fake.errors == []


@services(*FIRST)  # Brevo's and SendGrid's test sends: tests/test_services_more.py; Kit has none
def test_test_to_asks_the_service_to_send_its_test(harness: Harness, run: Run) -> None:
    result = run(test_to=("editor@sentinel.example", "desk@sentinel.example"))
    assert harness.fake.tests_sent == [(result.remote_id, ["editor@sentinel.example", "desk@sentinel.example"])]
    assert harness.fake.errors == []
    assert read_exports(run.folder)["history"][-1]["test_to"] == ["editor@sentinel.example", "desk@sentinel.example"]


# ---- retries, timeouts and dropped connections ------------------------------------------------------

def test_429_is_retried_after_the_time_the_service_asks(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("POST", harness.create_path, status=429, headers={"Retry-After": "7"},
                                     body=harness.error("slow down")))
    result = run()
    assert result.action == "created"
    assert run.sleeps == [7.0]
    assert len(harness.fake.drafts) == 1 and harness.fake.errors == []
    assert read_exports(run.folder)["drafts"][harness.name]["remote_id"] == result.remote_id


def test_500_is_retried_with_backoff(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("POST", harness.create_path, times=2, status=500, body=harness.error("oops")))
    result = run()
    assert result.action == "created" and len(harness.fake.drafts) == 1
    assert run.sleeps == [0.01, 0.02]
    assert read_exports(run.folder)["drafts"][harness.name]["remote_id"] == result.remote_id


def test_500_after_the_draft_was_made_is_not_retried_into_a_duplicate(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("POST", harness.create_path, status_after_handling=502))
    result = run()
    assert len(harness.fake.drafts) == 1 and creates(harness) == 1
    assert result.remote_id == next(iter(harness.fake.drafts))
    assert read_exports(run.folder)["drafts"][harness.name]["remote_id"] == result.remote_id
    assert harness.fake.errors == []


def test_persistent_500_ends_with_the_services_message(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("POST", harness.create_path, times=99, status=500,
                                     body=harness.error("database on fire")))
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    assert caught.value.exit_code == 1
    assert "database on fire" in message and harness.name in message and "4 tries" in message
    assert harness.secret not in message and harness.secret not in run.text + "\n".join(run.warnings)
    assert harness.fake.drafts == {}
    assert read_exports(run.folder)["drafts"] == {}


# What each fake answers to a wrong credential, as the service does.
REFUSAL = {"listmonk": "Invalid API credentials", "buttondown": "Invalid token.", "mailchimp": "API Key Invalid",
           "brevo": "Key not found (unauthorized)", "sendgrid": "authorization required",
           "kit": "The access token is invalid"}


def test_refusal_shows_the_services_own_message(harness: Harness, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"NEWSLETTER_{harness.name.upper()}_{harness.secret_env}", "wrong-secret-value-us21")
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    assert REFUSAL[harness.name] in message
    assert "wrong-secret-value-us21" not in message and "Check the credentials" in message
    assert len(harness.fake.requests) == 1  # a refusal is not retried


def test_timeout_is_retried_then_reported(harness: Harness, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"NEWSLETTER_{harness.name.upper()}_TIMEOUT", "0.3")
    monkeypatch.setenv(f"NEWSLETTER_{harness.name.upper()}_RETRIES", "1")
    harness.fake.faults.append(Fault("GET", harness.list_path, times=2, delay=1.0, status=200, body={}))
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    assert "did not answer within 0.3 s" in message and "2 tries" in message
    assert harness.fake.drafts == {}
    # A later run, the service healthy again, creates exactly one draft.
    result = run()
    assert result.action == "created" and len(harness.fake.drafts) == 1
    assert read_exports(run.folder)["drafts"][harness.name]["remote_id"] == result.remote_id


def test_timeout_on_create_is_not_retried_and_the_next_run_adopts(harness: Harness, run: Run,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"NEWSLETTER_{harness.name.upper()}_TIMEOUT", "0.3")
    harness.fake.faults.append(Fault("POST", harness.create_path, delay=0.6))  # stalls past the timeout, then creates
    with pytest.raises(ServiceError) as caught:
        run()
    assert "did not answer within 0.3 s" in caught.value.format_message()
    assert "will not be created twice" in caught.value.format_message()
    assert creates(harness) == 1  # a create is never retried blindly
    deadline = time.monotonic() + 10
    while not harness.fake.drafts and time.monotonic() < deadline:  # the service finishes its work late
        time.sleep(0.05)
    created_id = next(iter(harness.fake.drafts))
    monkeypatch.setenv(f"NEWSLETTER_{harness.name.upper()}_TIMEOUT", "5")
    result = run()
    assert result.action == "adopted" and result.remote_id == created_id
    assert len(harness.fake.drafts) == 1 and creates(harness) == 1
    assert read_exports(run.folder)["drafts"][harness.name]["remote_id"] == created_id


def test_connection_reset_after_create_does_not_duplicate(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("POST", harness.create_path, reset_after_handling=True))
    with pytest.raises(ServiceError) as caught:
        run()
    assert "will not be created twice" in caught.value.format_message()
    assert len(harness.fake.drafts) == 1
    created_id = next(iter(harness.fake.drafts))
    state = read_exports(run.folder)
    assert state["drafts"] == {} and harness.name in state["pending"]
    result = run()
    assert result.action == "adopted" and result.remote_id == created_id
    assert len(harness.fake.drafts) == 1 and creates(harness) == 1
    state = read_exports(run.folder)
    assert state["drafts"][harness.name]["remote_id"] == created_id and state["pending"] == {}
    assert harness.fake.errors == []
    assert run().action == "updated"


def test_reset_during_new_is_recovered_among_other_drafts(harness: Harness, run: Run) -> None:
    for _ in range(3):  # other drafts, so a paged lookup has to turn pages (two per page in the fakes)
        run(force_new=True)
    harness.fake.faults.append(Fault("POST", harness.create_path, reset_after_handling=True))
    with pytest.raises(ServiceError):
        run(force_new=True)
    newest = list(harness.fake.drafts)[-1]
    result = run(force_new=True)  # the same command again: adopts the draft the failed run made
    assert result.action == "adopted" and result.remote_id == newest
    assert len(harness.fake.drafts) == 4 and harness.fake.errors == []
    if harness.name == "buttondown":
        assert any(r.query.get("page") == ["2"] for r in harness.fake.requests)
    if harness.name in MORE:  # each follows its service's pagination (offset, next link, cursor)
        assert len([r for r in harness.fake.requests if r.method == "GET" and r.path == harness.list_path]) >= 2


def test_dry_run_makes_no_request_and_hides_the_secret(harness: Harness, run: Run) -> None:
    cls = service_class(harness.name)
    assert cls is not None
    result = run(dry_run=True, test_to=("editor@sentinel.example",) if cls.features.test_send else ())
    assert result.action == "dry-run"
    assert harness.fake.requests == []
    assert not (run.folder / "exports.json").exists()
    assert f"POST {harness.fake.base_url}{harness.create_path}" in run.text and "***" in run.text
    assert harness.secret not in run.text
    assert "characters)" in run.text  # the HTML body is summarised, not dumped


def test_a_draft_deleted_in_the_service_is_reported(harness: Harness, run: Run) -> None:
    run()
    harness.fake.drafts.clear()
    with pytest.raises(ServiceError) as caught:
        run()
    assert "--new" in caught.value.format_message()


@pytest.mark.parametrize("bad_id", ["../../account", "12?x=1", "1 2", ""])
def test_an_edited_id_in_exports_json_never_reaches_a_url(harness: Harness, run: Run, bad_id: str) -> None:
    run()
    path = run.folder / "exports.json"
    state = json.loads(path.read_text())
    state["drafts"][harness.name]["remote_id"] = bad_id
    path.write_text(json.dumps(state))
    before = len(harness.fake.requests)
    if not bad_id:  # an empty id is no record at all: a fresh draft
        assert run().action == "created"
        return
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    assert "exports.json" in message and "--new" in message
    assert len(harness.fake.requests) == before


# ---- settings --------------------------------------------------------------------------------------

def test_missing_settings_are_named_with_every_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LISTMONK_API_URL", "LISTMONK_USERNAME", "LISTMONK_TOKEN", "LISTMONK_LIST_IDS"):
        monkeypatch.delenv(f"NEWSLETTER_{name}", raising=False)
    monkeypatch.setenv("NEWSLETTER_LISTMONK_USERNAME", "api-user")
    cls = service_class("listmonk")
    assert cls is not None
    with pytest.raises(SettingMissing) as caught:
        cls(make_config(tmp_path))
    message = caught.value.format_message()
    for setting in ("NEWSLETTER_LISTMONK_API_URL", "NEWSLETTER_LISTMONK_TOKEN", "NEWSLETTER_LISTMONK_LIST_IDS"):
        assert setting in message
    assert "api_url in [export.listmonk] of" in message and "newsletter.toml" in message
    assert "token in [export.listmonk]" not in message  # secrets come from the environment only
    assert "USERNAME" not in message


def test_a_secret_in_the_settings_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_BUTTONDOWN_API_KEY", "env-key")
    cls = service_class("buttondown")
    assert cls is not None
    with pytest.raises(ConfigError) as caught:
        cls(make_config(tmp_path, {"buttondown": {"api_key": "file-key-abc"}}))
    message = caught.value.format_message()
    assert "NEWSLETTER_BUTTONDOWN_API_KEY" in message and "file-key-abc" not in message


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_MAILCHIMP_API_KEY", "0123abcd-us21")
    monkeypatch.setenv("NEWSLETTER_MAILCHIMP_LIST_ID", "from-env")
    monkeypatch.delenv("NEWSLETTER_MAILCHIMP_API_URL", raising=False)
    cls = service_class("mailchimp")
    assert cls is not None
    service = cls(make_config(tmp_path, {"mailchimp": {"list_id": "from-file", "retries": 5}}))
    assert service.get("list_id") == "from-env"
    assert service.get("retries") == "5"
    # The API address follows the key's data centre unless set.
    assert service.get("api_url") == "https://us21.api.mailchimp.com/3.0"


# ---- answers that are not the documented success (issue 11, item 1) -----------------------------

LOGIN_PAGE = (b"<!doctype html><html><head><title>Sign in</title></head>"
              b"<body><form action=/login>\x1b[31m</form></body></html>")


def test_a_redirect_is_never_followed_nor_taken_for_success(harness: Harness, run: Run) -> None:
    # An http:// api_url whose server redirects to https://: the request must not count as done.
    moved = harness.fake.base_url.replace("http://", "https://") + "/moved"
    harness.fake.faults.append(Fault("POST", harness.create_path, status=301, headers={"Location": moved}))
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    assert message.startswith(f"{harness.name}: POST ") and "answered 301" in message
    assert "scheme should probably be https://, not http://" in message
    assert f"NEWSLETTER_{harness.name.upper()}_API_URL" in message
    assert "Created" not in run.text
    state = read_exports(run.folder)
    assert state["drafts"] == {} and harness.name in state["pending"]
    assert not any("moved" in r.path for r in harness.fake.requests)  # never followed


def test_a_redirect_to_another_host_names_the_host(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("GET", harness.list_path, status=302,
                                     headers={"Location": "https://lists.example.org/login?next=/api"}))
    with pytest.raises(ServiceError) as caught:
        run()
    assert "host should probably be lists.example.org" in caught.value.format_message()
    assert creates(harness) == 0


def test_an_html_page_is_not_json(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("POST", harness.create_path, status=harness.create_status,
                                     headers={"Content-Type": "text/html"}, raw=LOGIN_PAGE))
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    assert f"answered {harness.create_status} with an HTML page titled 'Sign in'" in message
    assert "not of a web page or a sign-in page" in message and "\x1b" not in message
    assert "Created" not in run.text and read_exports(run.folder)["drafts"] == {}


def test_an_html_error_page_on_the_lookup_never_means_no_draft(harness: Harness, run: Run) -> None:
    """The lookup for a draft left by an interrupted run must not take a web page for 'none': that made twins."""
    harness.fake.faults.append(Fault("GET", harness.list_path, status=200, headers={"Content-Type": "text/html"},
                                     raw=b"<html><title>Maintenance</title></html>"))
    with pytest.raises(ServiceError) as caught:
        run()
    assert "HTML page titled 'Maintenance'" in caught.value.format_message()
    assert creates(harness) == 0 and harness.fake.drafts == {}


def test_json_of_another_shape_is_an_error(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("POST", harness.create_path, status=harness.create_status,
                                     body={"ok": True, "message": "queued"}))
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    assert "with JSON that is not" in message and "is missing" in message
    assert "next run finds it by its marker" in message  # a POST: the draft may exist all the same
    assert read_exports(run.folder)["drafts"] == {}


def test_a_lookup_of_another_shape_is_an_error(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("GET", harness.list_path, status=200, body=harness.wrong_list))
    with pytest.raises(ServiceError) as caught:
        run()
    assert "is an object, not a list" in caught.value.format_message() or \
        "is a string, not a list" in caught.value.format_message() or \
        "is a number, not a list" in caught.value.format_message()
    assert creates(harness) == 0


def test_another_success_status_is_not_taken_as_done(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("POST", harness.create_path, status=202, body=harness.answer(harness.good_id)))
    with pytest.raises(ServiceError) as caught:
        run()
    assert f"answered 202, where {service_class(harness.name).label}'s API answers" in caught.value.format_message()  # type: ignore[union-attr]


@pytest.mark.parametrize("bad_id", ["../settings", "12/../../settings", "1 OR 1", "", None])
def test_an_id_from_an_answer_must_have_the_services_format(harness: Harness, run: Run, bad_id: Any) -> None:
    harness.fake.faults.append(Fault("POST", harness.create_path, status=harness.create_status,
                                     body=harness.answer(bad_id)))
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    assert any(why in message for why in ("is missing", "not a whole number", "not a string", "cannot be trusted"))
    assert read_exports(run.folder)["drafts"] == {}
    assert not any("settings" in r.path for r in harness.fake.requests)


@pytest.mark.parametrize("bad_id", ["../settings", "3/../../settings", "%2e%2e%2fsettings", "12?x=1", "1\n2"])
def test_an_id_from_exports_json_must_have_the_services_format(harness: Harness, run: Run, bad_id: str) -> None:
    run.folder.mkdir(parents=True)
    (run.folder / "exports.json").write_text(json.dumps(
        {"issue": KEY, "drafts": {harness.name: {"remote_id": bad_id, "marker": f"nl-{KEY}-0a1b2c3d"}},
         "pending": {}, "history": []}))
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    assert "exports.json" in message and "--new" in message and "\n" not in message.split(": ", 1)[1]
    assert harness.fake.requests == []  # nothing went to the service



# Mailchimp gives a campaign id no format ("A string that uniquely identifies this campaign"):
# any id that is one URL path segment as it stands is taken, whatever its examples look like.
MAILCHIMP_IDS = ["42694e9e57", "1", "B03BFC273A", "c-2026_w48.v2~x", "a" * 256, "..a", "a.."]
# What could change the URL (another segment, a dot segment, a query, a fragment, an escape a
# server may decode into those, a path parameter) or is no id at all.
MAILCHIMP_BAD_IDS = [".", "..", "...", "a/b", "/a", "a/", "a\\b", "a?b", "a#b", "a%2Fb", "%2e%2e", "a;b", "a b",
                     "a\tb", "a\nb", "a\x00b", "a\x7fb", "éa", "a" * 257]


@services("mailchimp")
@pytest.mark.parametrize("campaign_id", MAILCHIMP_IDS)
def test_mailchimp_takes_any_campaign_id_that_is_one_path_segment(harness: Harness, run: Run,
                                                                   campaign_id: str) -> None:
    fake = harness.fake
    assert isinstance(fake, FakeMailchimp)
    fake.id_for = lambda number: campaign_id
    assert run().remote_id == campaign_id
    assert read_exports(run.folder)["drafts"]["mailchimp"]["remote_id"] == campaign_id
    result = run(test_to=("editor@sentinel.example",))  # read back from exports.json, into three URLs
    assert result.action == "updated" and fake.errors == []
    used = {(r.method, r.path) for r in fake.requests}
    for method, tail in (("PATCH", ""), ("PUT", "/content"), ("POST", "/actions/test")):
        assert (method, f"/3.0/campaigns/{campaign_id}{tail}") in used, (method, tail)


@services("mailchimp")
@pytest.mark.parametrize("bad_id", MAILCHIMP_BAD_IDS)
def test_mailchimp_refuses_a_campaign_id_that_could_change_the_url(harness: Harness, run: Run,
                                                                    bad_id: str) -> None:
    harness.fake.faults.append(Fault("POST", harness.create_path, status=harness.create_status,
                                     body=harness.answer(bad_id)))
    with pytest.raises(ServiceError) as caught:  # in an answer
        run()
    assert "cannot be trusted" in caught.value.format_message()
    assert read_exports(run.folder)["drafts"] == {}
    (run.folder / "exports.json").write_text(json.dumps(  # in exports.json
        {"issue": KEY, "drafts": {"mailchimp": {"remote_id": bad_id, "marker": f"nl-{KEY}-0a1b2c3d"}},
         "pending": {}, "history": []}))
    before = len(harness.fake.requests)
    with pytest.raises(ServiceError) as caught:
        run()
    assert "exports.json" in caught.value.format_message()
    assert len(harness.fake.requests) == before


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from("aZ09-._~/\\?#%;:@=&+ \t\n\x00\x7fé"), max_size=8))
def test_a_mailchimp_id_it_takes_stays_one_segment_of_the_url(text: str) -> None:
    from newsletter.services.mailchimp import MailchimpService

    if MailchimpService.id_pattern.fullmatch(text) is None:
        return
    url = httpx.URL(f"https://us21.api.mailchimp.com/3.0/campaigns/{text}/content")
    assert url.raw_path == f"/3.0/campaigns/{text}/content".encode() and url.fragment == ""
    assert url.path.split("/") == ["", "3.0", "campaigns", text, "content"]

def test_a_malformed_pending_marker_in_exports_json_is_refused(harness: Harness, run: Run) -> None:
    run.folder.mkdir(parents=True)
    (run.folder / "exports.json").write_text(json.dumps(
        {"issue": KEY, "drafts": {}, "pending": {harness.name: {"marker": "x'] OR tags:*"}}, "history": []}))
    with pytest.raises(ServiceError) as caught:
        run()
    assert '"pending"' in caught.value.format_message()
    assert harness.fake.requests == []


# ---- calls that never end (item 2) -----------------------------------------------------------------

def test_a_trickling_server_is_cut_off_by_the_deadline(harness: Harness, run: Run,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = f"NEWSLETTER_{harness.name.upper()}_"
    monkeypatch.setenv(prefix + "TIMEOUT", "5")  # each byte comes well within the per-read timeout
    monkeypatch.setenv(prefix + "DEADLINE", "0.5")
    monkeypatch.setenv(prefix + "RETRIES", "1")
    harness.fake.faults.append(Fault("GET", harness.list_path, times=9, status=200, body={}, trickle=0.05))
    started = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        run()
    assert time.monotonic() - started < 30  # generous: without the deadline it never ends
    message = caught.value.format_message()
    assert "did not finish answering within the 0.5 s deadline" in message and "2 tries" in message
    assert creates(harness) == 0


def test_a_silent_server_costs_no_more_than_the_retry_budget(harness: Harness, run: Run,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = f"NEWSLETTER_{harness.name.upper()}_"
    for key, value in {"TIMEOUT": "0.2", "RETRIES": "50", "RETRY_BUDGET": "1.5", "RETRY_BASE_DELAY": "0.05"}.items():
        monkeypatch.setenv(prefix + key, value)
    harness.fake.faults.append(Fault("GET", harness.list_path, times=99, delay=30, status=200, body={}))
    started = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        run()
    assert time.monotonic() - started < 30
    lookups = [r for r in harness.fake.requests if r.method == "GET"]
    assert 2 <= len(lookups) < 20  # the budget stopped it, long before 50 retries
    message = caught.value.format_message()
    assert "did not answer within 0.2 s" in message or "before the retry budget (1.5 s" in message


class Clock:
    """Virtual time: a request that times out advances it by the timeout, a wait by its length."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("name", list(HARNESSES))
@pytest.mark.parametrize("failure", ["silent", "refused", "429", "429-retry-after", "503-retry-after-date"])
def test_a_dead_service_costs_under_a_minute_with_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               failure: str, name: str) -> None:
    import httpx

    prefix = f"NEWSLETTER_{name.upper()}_"
    for key in ("TIMEOUT", "DEADLINE", "RETRIES", "RETRY_BUDGET", "RETRY_BASE_DELAY", "RETRY_MAX_DELAY"):
        monkeypatch.delenv(prefix + key, raising=False)
    h = HARNESSES[name]()  # its settings; no server: every request fails in the transport below
    monkeypatch.setenv(prefix + "API_URL", "https://api.example.org" + h.api_path)
    for key, value in h.env.items():
        monkeypatch.setenv(prefix + key, value)
    clock = Clock()

    def dead(request: httpx.Request) -> httpx.Response:
        if failure == "silent":  # accepts, then never says a word: each try costs its read timeout
            clock.now += request.extensions["timeout"]["read"]
            raise httpx.ReadTimeout("timed out", request=request)
        if failure == "refused":
            clock.now += 0.01
            raise httpx.ConnectError("refused", request=request)
        headers = {"429-retry-after": {"Retry-After": "60"},
                   "503-retry-after-date": {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}}.get(failure, {})
        return httpx.Response(503 if failure.startswith("503") else 429, headers=headers, json={"message": "busy"})

    cls = service_class(name)
    assert cls is not None
    service = cls(make_config(tmp_path), echo=lambda _: None, warn=lambda _: None, sleep=clock.sleep,
                  transport=httpx.MockTransport(dead))
    service.clock = clock  # type: ignore[attr-defined]
    with pytest.raises(ServiceError) as caught:
        export_email(service, KEY, tmp_path / "issues" / KEY, make_email(), STANDALONE, echo=lambda _: None)
    assert clock.now < 60, f"{failure}: {clock.now:.0f} s"
    if "retry-after" in failure:
        assert clock.now == 0 and "asks to wait" in caught.value.format_message()


def test_retry_after_in_other_digits_is_ignored_not_a_crash(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("GET", harness.list_path, status=429, headers={"Retry-After": "²"},
                                     body={"detail": "slow down", "message": "slow down"}))
    assert run().action == "created"
    assert run.sleeps == [0.01]  # the ordinary back-off


def test_a_body_that_cannot_be_decoded_is_an_error(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("GET", harness.list_path, status=200, raw=b"this is not gzip at all",
                                     headers={"Content-Encoding": "gzip"}))
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    assert "cannot be decoded (Content-Encoding: gzip" in message and creates(harness) == 0


# The services whose list answers give the next page as a whole URL.
NEXT_PAGE = {
    "buttondown": {"results": [], "next": "https://collector.example/v1/emails?page=2"},
    "sendgrid": {"result": [], "_metadata": {"next": "https://collector.example/v3/marketing/singlesends?page_token=2"}},
}


@pytest.mark.parametrize("harness", list(NEXT_PAGE), indirect=True)
def test_a_next_page_on_another_host_is_not_followed(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("GET", harness.list_path, status=200, body=NEXT_PAGE[harness.name]))
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    assert "collector.example" in message and "was not followed" in message
    assert creates(harness) == 0


# ---- secrets (item 5) ------------------------------------------------------------------------------

def test_a_non_ascii_credential_is_named_not_shown(harness: Harness, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    key = harness.secret_env
    secret = harness.env[key][:4] + "\u00a0" + harness.env[key][4:]  # a no-break space, pasted from a web page
    monkeypatch.setenv(f"NEWSLETTER_{harness.name.upper()}_{key}", secret)
    with pytest.raises(ConfigError) as caught:
        run()
    message = caught.value.format_message()
    assert "U+00A0 NO-BREAK SPACE" in message and "Copy it again" in message
    assert secret not in message and "secret" not in message
    assert harness.fake.requests == []


def test_a_credential_with_a_line_break_is_refused_without_showing_it(harness: Harness, run: Run,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    key = harness.secret_env
    monkeypatch.setenv(f"NEWSLETTER_{harness.name.upper()}_{key}", "first-half-3141\nsecond-half-2718")
    with pytest.raises(ConfigError) as caught:
        run()
    message = caught.value.format_message()
    assert "a line break" in message and f"NEWSLETTER_{harness.name.upper()}_{key}" in message
    assert "first-half" not in message and "second-half" not in message


def test_credentials_in_api_url_are_refused_in_the_settings_file(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSLETTER_LISTMONK_API_URL", raising=False)
    for key, value in {"USERNAME": "u", "TOKEN": "t0ken-value", "LIST_IDS": "3"}.items():
        monkeypatch.setenv(f"NEWSLETTER_LISTMONK_{key}", value)
    (tmp_path / "newsletter.toml").write_text('[export.listmonk]\napi_url = "https://admin:hunter2-pw@lists.example.org"\n')
    cls = service_class("listmonk")
    assert cls is not None
    with pytest.raises(ConfigError) as caught:
        cls(make_config(tmp_path, {"listmonk": {"api_url": "https://admin:hunter2-pw@lists.example.org"}}))
    message = caught.value.format_message()
    assert "newsletter.toml:2" in message and "NEWSLETTER_LISTMONK_API_URL" in message
    assert "hunter2" not in message and "https://lists.example.org" in message


def test_credentials_in_api_url_from_the_environment_never_show(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    h = HARNESSES["mailchimp"]()
    with serve(h.fake) as url:
        # Mailchimp takes HTTP Basic with any user name and the key as password: the URL form works.
        monkeypatch.setenv("NEWSLETTER_MAILCHIMP_API_URL", url.replace("http://", f"http://anyone:{h.fake.api_key}@")
                           + "/3.0")
        monkeypatch.setenv("NEWSLETTER_MAILCHIMP_API_KEY", h.fake.api_key)
        monkeypatch.setenv("NEWSLETTER_MAILCHIMP_LIST_ID", h.fake.list_id)
        run = Run(tmp_path, "mailchimp")
        run(dry_run=True)
        result = run()
        h.fake.faults.append(Fault("PATCH", r"/3.0/campaigns/.*", status=400, body={"title": "Bad", "detail": "no"}))
        with pytest.raises(ServiceError) as caught:
            run()
    assert result.action == "created"
    stored = (tmp_path / "issues" / KEY / "exports.json").read_text()
    for text in (run.text, stored, caught.value.format_message()):
        assert h.fake.api_key not in text and "anyone:" not in text
    assert "http://127.0.0.1:" in caught.value.format_message()  # the address, without what came before @


def test_every_form_of_a_secret_is_redacted() -> None:
    from newsletter.services.redaction import Secrets

    secrets = Secrets()
    secrets.add("s3cr3t/pa ss")
    secrets.add("tok\nen-4242")
    user_pass_b64 = base64.b64encode(b"\0newsroom\0s3cr3t/pa ss").decode()
    texts = {
        "plain": "password s3cr3t/pa ss refused",
        "url-encoded": "https://x.example/?p=s3cr3t%2Fpa%20ss",
        "form-encoded": "p=s3cr3t%2Fpa+ss",
        "repr": "Illegal header value b'token tok\\nen-4242'",
        "split at the line break": "LocalProtocolError: value 'tok' then 'en-4242'",
        "json": '{"token": "tok\\nen-4242"}',
        "base64": f"535 5.7.8 {base64.b64encode(b's3cr3t/pa ss').decode()} rejected",
        "base64 inside AUTH PLAIN": f"535 Authentication failed for {user_pass_b64}",
        "authorization": "Authorization: Bearer abcdef123456",
    }
    for kind, text in texts.items():
        redacted = secrets.redact(text)
        for leak in ("s3cr3t", "en-4242", "abcdef123456", user_pass_b64[:12]):
            assert leak not in redacted, f"{kind}: {redacted}"
    assert secrets.redact("nothing secret here, Authorization-free") == "nothing secret here, Authorization-free"


def test_a_very_short_secret_is_redacted_as_a_word_not_inside_words() -> None:
    from newsletter.services.redaction import Secrets

    secrets = Secrets()
    secrets.add("t")  # the kind of token a quick trial uses: NEWSLETTER_LISTMONK_TOKEN=t
    text = "POST https://lists.example/api/campaigns\n  Authorization: token api:t\n  from t to the list"
    assert secrets.redact(text) == ("POST https://lists.example/api/campaigns\n  Authorization: token ***\n"
                                    "  from *** to the list")


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "ten"])
def test_a_time_setting_must_be_a_finite_number(harness: Harness, run: Run, monkeypatch: pytest.MonkeyPatch,
                                                value: str) -> None:
    monkeypatch.setenv(f"NEWSLETTER_{harness.name.upper()}_DEADLINE", value)
    with pytest.raises(ConfigError) as caught:
        run()
    assert f"NEWSLETTER_{harness.name.upper()}_DEADLINE" in caught.value.format_message()
    assert harness.fake.requests == []


def test_an_unencrypted_api_url_to_another_machine_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_LISTMONK_API_URL", "http://lists.example.org")
    for key, value in {"USERNAME": "u", "TOKEN": "t0ken-value", "LIST_IDS": "3"}.items():
        monkeypatch.setenv(f"NEWSLETTER_LISTMONK_{key}", value)
    warnings: list[str] = []
    cls = service_class("listmonk")
    assert cls is not None
    cls(make_config(tmp_path), warn=warnings.append)
    assert warnings and "unencrypted to lists.example.org" in warnings[0]
    monkeypatch.setenv("NEWSLETTER_LISTMONK_API_URL", "ftp://lists.example.org")
    with pytest.raises(ConfigError) as caught:
        cls(make_config(tmp_path))
    assert "must be a web address starting with https://" in caught.value.format_message()
