"""Mailchimp, Buttondown and listmonk against loopback fakes that check every body against the spec."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from newsletter.errors import ConfigError, ServiceError, SettingMissing
from newsletter.export import export_email
from newsletter.models import ExportResult
from newsletter.services import service_class
from newsletter.services.base import Service
from tests.exporting import KEY, STANDALONE, make_config, make_email, read_exports
from tests.servers import FakeButtondown, FakeListmonk, FakeMailchimp, FakeService, Fault, serve

pytestmark = pytest.mark.server


@dataclass
class Harness:
    """One service wired to its fake: how to configure it and where its draft's texts end up."""

    name: str
    fake: FakeService
    env: dict[str, str]
    secret: str
    texts: Callable[[dict[str, Any]], list[str]]  # every field of a stored draft a merge engine reads
    syntax: re.Pattern[str]  # what the service's template engine would evaluate
    allowed_tags: re.Pattern[str]  # the only template syntax allowed in those texts
    create_path: str  # regex of the path that creates a draft
    list_path: str


def _listmonk() -> Harness:
    fake = FakeListmonk()
    return Harness("listmonk", fake, {"USERNAME": fake.username, "TOKEN": fake.token, "LIST_IDS": "3, 5"},
                   fake.token, lambda d: [d["subject"], d["body"], d["altbody"]], re.compile(r"\{\{.*?\}\}"),
                   re.compile(r'\{\{( UnsubscribeURL | MessageURL |"\{\{")\}\}'), r"/api/campaigns", r"/api/campaigns")


def _buttondown() -> Harness:
    fake = FakeButtondown()
    return Harness("buttondown", fake, {"API_KEY": fake.api_key}, fake.api_key,
                   lambda d: [d["subject"], d["body"]], re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}"),
                   re.compile(r"\{\{ (unsubscribe_url|manage_subscription_url|email_url) \}\}"), r"/v1/emails",
                   r"/v1/emails")


def _mailchimp() -> Harness:
    fake = FakeMailchimp()
    return Harness("mailchimp", fake, {"API_KEY": fake.api_key, "LIST_ID": fake.list_id}, fake.api_key,
                   lambda d: [d["settings"]["subject_line"], d["settings"]["preview_text"], d["content"]["html"],
                              d["content"]["plain_text"]], re.compile(r"\*\|.*?\|\*"),
                   re.compile(r"\*\|(UNSUB|UPDATE_PROFILE|ARCHIVE)\|\*"), r"/3.0/campaigns", r"/3.0/campaigns")


HARNESSES = {"listmonk": _listmonk, "buttondown": _buttondown, "mailchimp": _mailchimp}
API_PATH = {"listmonk": "", "buttondown": "/v1", "mailchimp": "/3.0"}


@pytest.fixture(params=list(HARNESSES))
def harness(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    h = HARNESSES[request.param]()
    with serve(h.fake) as url:
        prefix = f"NEWSLETTER_{h.name.upper()}_"
        monkeypatch.setenv(prefix + "API_URL", url + API_PATH[h.name])
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
        self.sleeps: list[float] = []

    def __call__(self, **options: Any) -> ExportResult:
        cls = service_class(self.name)
        assert cls is not None
        service: Service = cls(self.config, echo=self.output.append, sleep=self.sleeps.append)
        try:
            return export_email(service, KEY, self.folder, make_email(), STANDALONE, echo=self.output.append,
                                **options)
        finally:
            service.close()

    @property
    def text(self) -> str:
        return "\n".join(self.output)


@pytest.fixture
def run(harness: Harness, tmp_path: Path) -> Run:
    return Run(tmp_path, harness.name)


def creates(h: Harness) -> int:
    return sum(1 for r in h.fake.requests if r.method == "POST" and re.fullmatch(h.create_path, r.path))


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
    assert f"Created the {service_class(harness.name).label} draft {result.remote_id}" in run.text  # type: ignore[union-attr]


def test_article_text_never_becomes_a_merge_tag(harness: Harness, run: Run) -> None:
    result = run()
    stored = harness.fake.drafts[str(result.remote_id)]
    texts = harness.texts(stored)
    for text in texts:
        for found in harness.syntax.finditer(text):
            assert harness.allowed_tags.fullmatch(found.group()), f"{found.group()!r} would be evaluated"
        assert "placeholder.invalid" not in text
    # The footer's three links did become the service's merge tags (subject and preheader have none).
    body = "\n".join(texts[1:] if harness.name != "mailchimp" else texts[2:])
    tags = {m.group() for m in harness.allowed_tags.finditer(body)}
    expected = {"listmonk": {"{{ UnsubscribeURL }}", "{{ MessageURL }}"},
                "buttondown": {"{{ unsubscribe_url }}", "{{ manage_subscription_url }}", "{{ email_url }}"},
                "mailchimp": {"*|UNSUB|*", "*|UPDATE_PROFILE|*", "*|ARCHIVE|*"}}[harness.name]
    assert expected <= tags
    if harness.name == "listmonk":
        assert "{{ UnsubscribeURL }}?manage=true" in stored["body"]
        # Go's text/template prints {{"{{"}} as "{{": the reader sees the article's words unchanged.
        assert stored["altbody"].count('{{"{{"}} .Subscriber.Email }}') == 2


def test_export_again_updates_the_same_draft(harness: Harness, run: Run) -> None:
    first = run()
    second = run()
    assert second.action == "updated" and second.remote_id == first.remote_id
    assert len(harness.fake.drafts) == 1 and creates(harness) == 1
    assert harness.fake.errors == []
    history = read_exports(run.folder)["history"]
    assert [e["action"] for e in history] == ["created", "updated"]


def test_new_makes_a_second_draft_on_purpose(harness: Harness, run: Run) -> None:
    first = run()
    fresh = run(force_new=True)
    assert fresh.action == "created" and fresh.remote_id != first.remote_id
    assert len(harness.fake.drafts) == 2
    assert read_exports(run.folder)["drafts"][harness.name]["remote_id"] == fresh.remote_id
    again = run()
    assert again.action == "updated" and again.remote_id == fresh.remote_id


def test_test_to_asks_the_service_to_send_its_test(harness: Harness, run: Run) -> None:
    result = run(test_to=("editor@sentinel.example", "desk@sentinel.example"))
    assert harness.fake.tests_sent == [(result.remote_id, ["editor@sentinel.example", "desk@sentinel.example"])]
    assert harness.fake.errors == []
    assert read_exports(run.folder)["history"][-1]["test_to"] == ["editor@sentinel.example", "desk@sentinel.example"]


def test_429_is_retried_after_the_time_the_service_asks(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("POST", harness.create_path, status=429, headers={"Retry-After": "7"},
                                     body={"detail": "slow down", "message": "slow down"}))
    result = run()
    assert result.action == "created"
    assert run.sleeps == [7.0]
    assert len(harness.fake.drafts) == 1 and harness.fake.errors == []


def test_500_is_retried_with_backoff(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("POST", harness.create_path, times=2, status=500, body={"detail": "oops"}))
    result = run()
    assert result.action == "created" and len(harness.fake.drafts) == 1
    assert run.sleeps == [0.01, 0.02]


def test_500_after_the_draft_was_made_is_not_retried_into_a_duplicate(harness: Harness, run: Run) -> None:
    harness.fake.faults.append(Fault("POST", harness.create_path, status_after_handling=502))
    result = run()
    assert len(harness.fake.drafts) == 1 and creates(harness) == 1
    assert result.remote_id == next(iter(harness.fake.drafts))
    assert read_exports(run.folder)["drafts"][harness.name]["remote_id"] == result.remote_id
    assert harness.fake.errors == []


def test_persistent_500_ends_with_the_services_message(harness: Harness, run: Run) -> None:
    body = {"detail": "database on fire", "message": "database on fire", "title": "Internal Server Error"}
    harness.fake.faults.append(Fault("POST", harness.create_path, times=99, status=500, body=body))
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    assert caught.value.exit_code == 1
    assert "database on fire" in message and harness.name in message and "4 tries" in message
    assert harness.secret not in message and harness.secret not in run.text
    assert harness.fake.drafts == {}


def test_refusal_shows_the_services_own_message(harness: Harness, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"NEWSLETTER_{harness.name.upper()}_{'TOKEN' if harness.name == 'listmonk' else 'API_KEY'}",
                       "wrong-secret-value-us21")
    with pytest.raises(ServiceError) as caught:
        run()
    message = caught.value.format_message()
    own = {"listmonk": "Invalid API credentials", "buttondown": "Invalid token.", "mailchimp": "API Key Invalid"}
    assert own[harness.name] in message
    assert "wrong-secret-value-us21" not in message and "Check the credentials" in message
    assert len([r for r in harness.fake.requests]) == 1  # a refusal is not retried


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
    for _ in range(3):  # other drafts, so Buttondown's lookup has to page (two per page in the fake)
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


def test_dry_run_makes_no_request_and_hides_the_secret(harness: Harness, run: Run) -> None:
    result = run(dry_run=True, test_to=("editor@sentinel.example",))
    assert result.action == "dry-run"
    assert harness.fake.requests == []
    assert not (run.folder / "exports.json").exists()
    assert "POST http://127.0.0.1:" in run.text and "Authorization:" in run.text and "***" in run.text
    assert harness.secret not in run.text
    assert "characters)" in run.text  # the HTML body is summarised, not dumped


def test_a_draft_deleted_in_the_service_is_reported(harness: Harness, run: Run) -> None:
    run()
    harness.fake.drafts.clear()
    with pytest.raises(ServiceError) as caught:
        run()
    assert "--new" in caught.value.format_message()


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
