"""`newsletter export` through the CLI: exit codes, messages, files, secrets kept out of both."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.services import SERVICES
from tests.conftest import ROOT, SAMPLE_WEEK
from tests.servers import FakeListmonk, FakeMailchimp, Fault, serve

WEEK = ["--week", SAMPLE_WEEK]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def all_files_text(folder: Path) -> str:
    return "\n".join(p.read_text("utf-8", "replace") for p in folder.rglob("*") if p.is_file())


def test_list_shows_every_service_and_its_settings() -> None:
    result = run("export", "--list")
    assert result.exit_code == 0
    for name in SERVICES:
        assert f"\n{name} " in f"\n{result.output}"
    for env in ("NEWSLETTER_LISTMONK_API_URL", "NEWSLETTER_LISTMONK_TOKEN", "NEWSLETTER_LISTMONK_LIST_IDS",
                "NEWSLETTER_BUTTONDOWN_API_KEY", "NEWSLETTER_MAILCHIMP_API_KEY", "NEWSLETTER_MAILCHIMP_LIST_ID",
                "NEWSLETTER_SMTP_HOST", "NEWSLETTER_SMTP_SECURITY", "NEWSLETTER_SMTP_PASSWORD"):
        assert env in result.output
    assert "*|UNSUB|*" in result.output and "{{ UnsubscribeURL }}" in result.output


def test_unknown_service_is_a_usage_error(workspace: Path) -> None:
    result = run("export", "--to", "sendmail", *WEEK)
    assert result.exit_code == 2
    assert "Unknown service 'sendmail'" in result.output
    assert "eml, smtp, mailchimp, buttondown, listmonk" in result.output


def test_default_service_is_eml(workspace: Path) -> None:
    result = run("export", *WEEK)
    assert result.exit_code == 0, result.output
    assert (workspace / "issues" / SAMPLE_WEEK / "message.eml").is_file()
    state = json.loads((workspace / "issues" / SAMPLE_WEEK / "exports.json").read_text())
    assert state["history"][0]["service"] == "eml"


def test_eml_cannot_send_tests(workspace: Path) -> None:
    result = run("export", "--to", "eml", "--test-to", "me@example.org", *WEEK)
    assert result.exit_code == 2 and "--to smtp" in result.output


def test_missing_settings_name_every_place(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("API_KEY", "API_URL", "LIST_ID"):
        monkeypatch.delenv(f"NEWSLETTER_MAILCHIMP_{key}", raising=False)
    result = run("export", "--to", "mailchimp", *WEEK)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    for env in ("NEWSLETTER_MAILCHIMP_API_KEY", "NEWSLETTER_MAILCHIMP_LIST_ID"):
        assert env in result.output
    assert "[export.mailchimp]" in result.output and "newsletter.toml" in result.output
    assert not (workspace / "issues" / SAMPLE_WEEK / "exports.json").exists()


def test_listmonk_export_then_update_then_test(listmonk: FakeListmonk, workspace: Path) -> None:
    first = run("export", "--to", "listmonk", *WEEK)
    assert first.exit_code == 0, first.output
    assert "Created the listmonk draft 1" in first.output and "/admin/campaigns/1" in first.output
    second = run("export", "--to", "listmonk", *WEEK, "--test-to", "editor@example.org")
    assert second.exit_code == 0, second.output
    assert "Updated the listmonk draft 1" in second.output
    assert listmonk.tests_sent == [("1", ["editor@example.org"])]
    assert listmonk.errors == [] and len(listmonk.drafts) == 1
    campaign = listmonk.drafts["1"]
    assert "{{ UnsubscribeURL }}" in campaign["body"] and "{{ UnsubscribeURL }}" in campaign["altbody"]
    assert "placeholder.invalid" not in campaign["body"] + campaign["altbody"]
    folder = workspace / "issues" / SAMPLE_WEEK
    state = json.loads((folder / "exports.json").read_text())
    assert state["drafts"]["listmonk"]["remote_id"] == "1"
    assert [h["action"] for h in state["history"]] == ["created", "updated"]
    # The token is in no output and no file the export wrote.
    assert listmonk.token not in first.output + second.output
    assert listmonk.token not in all_files_text(workspace)


def test_dry_run_sends_nothing_and_writes_no_record(listmonk: FakeListmonk, workspace: Path) -> None:
    before = sorted(p.relative_to(workspace) for p in workspace.rglob("*"))
    result = run("export", "--to", "listmonk", *WEEK, "--dry-run", "--test-to", "editor@example.org")
    assert sorted(p.relative_to(workspace) for p in workspace.rglob("*")) == before  # not even the build's files
    assert result.exit_code == 0, result.output
    assert listmonk.requests == []
    assert "POST http://127.0.0.1:" in result.output and "/api/campaigns" in result.output
    assert "Authorization: token ***" in result.output
    assert listmonk.token not in result.output
    assert not (workspace / "issues" / SAMPLE_WEEK / "exports.json").exists()


def test_persistent_500_exits_1_with_the_services_message(listmonk: FakeListmonk, workspace: Path) -> None:
    listmonk.faults.append(Fault("POST", "/api/campaigns", times=99, status=500,
                                 body={"message": "Error creating campaign: pq: database is locked"}))
    result = run("export", "--to", "listmonk", *WEEK)
    assert result.exit_code == 1
    assert "Error: listmonk: POST" in result.output and "pq: database is locked" in result.output
    assert "Traceback" not in result.output and listmonk.token not in result.output


def test_connection_reset_then_rerun_leaves_one_draft(listmonk: FakeListmonk, workspace: Path) -> None:
    listmonk.faults.append(Fault("POST", "/api/campaigns", reset_after_handling=True))
    failed = run("export", "--to", "listmonk", *WEEK)
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    rerun = run("export", "--to", "listmonk", *WEEK)
    assert rerun.exit_code == 0, rerun.output
    assert "interrupted export" in rerun.output
    assert len(listmonk.drafts) == 1
    state = json.loads((workspace / "issues" / SAMPLE_WEEK / "exports.json").read_text())
    assert state["drafts"]["listmonk"]["remote_id"] == "1" and state["pending"] == {}


def test_mailchimp_sample_issue_is_valid_and_has_one_preheader(workspace: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeMailchimp()
    with serve(fake) as url:
        for key, value in {"API_URL": url + "/3.0", "API_KEY": fake.api_key, "LIST_ID": fake.list_id}.items():
            monkeypatch.setenv(f"NEWSLETTER_MAILCHIMP_{key}", value)
        result = run("export", "--to", "mailchimp", *WEEK)
    assert result.exit_code == 0, result.output
    assert fake.errors == []
    [campaign] = fake.drafts.values()
    preheader = campaign["settings"]["preview_text"]
    # Mailchimp inserts preview_text as hidden text itself; the theme's own copy must go, or it shows twice.
    built = (workspace / "issues" / SAMPLE_WEEK / "email.html").read_text("utf-8")
    start = preheader[:30]
    assert preheader and campaign["content"]["html"].count(start) == built.count(start) - 1
    assert "*|UNSUB|*" in campaign["content"]["html"] and "*|UNSUB|*" in campaign["content"]["plain_text"]
    assert fake.api_key not in result.output + all_files_text(workspace)


def test_services_are_documented() -> None:
    docs = (ROOT / "docs" / "services.md").read_text("utf-8")
    for name, cls in SERVICES.items():
        assert f"## {name}" in docs.lower() or f"## {cls.label.lower()}" in docs.lower()
        for spec in cls.settings_spec:
            assert f"NEWSLETTER_{name.upper()}_{spec.key.upper()}" in docs, f"{name} {spec.key} undocumented"


HOSTILE_ARTICLE = """Readers ask about {{ .Subscriber.Email }} and *|EMAIL|* and {% debug %}
WESTMINSTER – A reader wrote {{ UnsubscribeURL }} and *|UNSUB|* and {{ unsubscribe_url }} into a letter.
Saigon Sentinel Analysis
Template syntax in a letter is just text: {{ template "x" }} *|IF:X|* {# c #}.
Impact on Vietnamese Americans
None, as long as the newsletter prints it as written.
"""


@pytest.mark.parametrize("name", ["listmonk", "mailchimp"])
def test_article_syntax_in_the_real_theme_stays_text(name: str, workspace: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    article = workspace / "content" / "2026" / "11" / "2026-11-29-a-letter.txt"
    article.write_text(HOSTILE_ARTICLE, "utf-8")
    fake = FakeListmonk() if name == "listmonk" else FakeMailchimp()
    with serve(fake) as url:
        env = ({"API_URL": url, "USERNAME": "api-user", "TOKEN": "lm-secret-token-123", "LIST_IDS": "3"}
               if name == "listmonk" else {"API_URL": url + "/3.0", "API_KEY": "mc-secret-key-789-us21",
                                            "LIST_ID": "a1b2c3"})
        for key, value in env.items():
            monkeypatch.setenv(f"NEWSLETTER_{name.upper()}_{key}", value)
        # --force: `newsletter check` rightly calls template syntax in an article a leftover (an error);
        # this test is about what the services receive when such text is sent all the same.
        result = run("export", "--to", name, *WEEK, "--force")
    assert result.exit_code == 0, result.output
    assert "[template-leftover]" in result.output
    assert fake.errors == []
    [draft] = fake.drafts.values()
    if name == "listmonk":
        texts, syntax = [draft["subject"], draft["body"], draft["altbody"]], r"\{\{.*?\}\}"
        allowed = {"{{ UnsubscribeURL }}", "{{ MessageURL }}", '{{"{{"}}'}
    else:
        texts = [draft["settings"]["subject_line"], draft["settings"]["preview_text"], draft["content"]["html"],
                 draft["content"]["plain_text"]]
        syntax, allowed = r"\*\|.*?\|\*", {"*|UNSUB|*", "*|UPDATE_PROFILE|*", "*|ARCHIVE|*"}
    found = {m for text in texts for m in re.findall(syntax, text)}
    assert found <= allowed, found - allowed
    assert any("WESTMINSTER" in text for text in texts)  # the article is in the issue


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[export.listmonk]\napi_ulr = "https://lists.example"\n',
            "newsletter.toml:2: unknown setting 'api_ulr' in [export.listmonk]",
        ),
        ("[export.mailchimpp]\nlist_id = 'x'\n", "newsletter.toml:1: unknown [export.mailchimpp]"),
        ('[export]\ndefault = "sendgird"\n', "newsletter.toml:2: [export] default = 'sendgird' is not a service"),
    ],
)
def test_export_settings_typos_are_named(workspace: Path, toml: str, message: str) -> None:
    (workspace / "newsletter.toml").write_text(toml)
    result = run("export", "--to", "listmonk", *WEEK, "--dry-run")
    assert result.exit_code == 1 and message in result.output, result.output
