"""`newsletter export` against a misbehaving service, through the CLI: exit 1 and a message, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from tests.conftest import SAMPLE_WEEK
from tests.servers import FakeListmonk, Fault, serve

pytestmark = pytest.mark.server
WEEK = ["--week", SAMPLE_WEEK]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def listmonk(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeListmonk]:
    fake = FakeListmonk()
    with serve(fake) as url:
        for key, value in {"API_URL": url, "USERNAME": fake.username, "TOKEN": fake.token, "LIST_IDS": "3",
                           "RETRY_BASE_DELAY": "0.01", "TIMEOUT": "5"}.items():
            monkeypatch.setenv(f"NEWSLETTER_LISTMONK_{key}", value)
        yield fake


FAULTS = {
    "redirect": Fault("POST", "/api/campaigns", status=308, headers={"Location": "https://lists.example.org/api"}),
    "html": Fault("POST", "/api/campaigns", status=200, headers={"Content-Type": "text/html"},
                  raw=b"<html><title>502 Bad Gateway</title></html>"),
    "wrong shape": Fault("POST", "/api/campaigns", status=200, body={"data": {"id": "../settings"}}),
    "bad gzip": Fault("GET", "/api/campaigns", status=200, headers={"Content-Encoding": "gzip"}, raw=b"\x1f\x8bnope"),
    "endless 429": Fault("GET", "/api/campaigns", times=99, status=429, headers={"Retry-After": "3600"},
                         body={"message": "slow down"}),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_false_success_is_exit_1_with_the_service_named(listmonk: FakeListmonk, workspace: Path, fault: str) -> None:
    listmonk.faults.append(FAULTS[fault])
    result = run("export", "--to", "listmonk", *WEEK)
    assert result.exit_code == 1, result.output
    assert "Error: listmonk: " in result.stderr and "Traceback" not in result.output
    assert "Created" not in result.stdout
    exports = workspace / "issues" / SAMPLE_WEEK / "exports.json"
    assert not exports.exists() or json.loads(exports.read_text())["drafts"] == {}
    assert listmonk.token not in result.output


@pytest.mark.parametrize("token", ["lm-secret\ntoken-123", "lm-secret\u2013token-123", "lm-secret\x1b[2Jtoken"])
def test_an_unusable_token_is_exit_1_without_showing_it(listmonk: FakeListmonk, token: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_LISTMONK_TOKEN", token)
    result = run("export", "--to", "listmonk", *WEEK)
    assert result.exit_code == 1, result.output
    assert "NEWSLETTER_LISTMONK_TOKEN" in result.output and "Traceback" not in result.output
    assert "token-123" not in result.output and "lm-secret" not in result.output and "\x1b" not in result.output
    assert listmonk.requests == []


def test_a_settings_value_with_a_terminal_escape_is_shown_escaped(listmonk: FakeListmonk,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_LISTMONK_LIST_IDS", "3\x1b]0;owned\x07")
    result = run("export", "--to", "listmonk", *WEEK)
    assert result.exit_code == 1 and "\x1b" not in result.output and "\x07" not in result.output
    assert "NEWSLETTER_LISTMONK_LIST_IDS" in result.output


def test_dry_run_shows_no_credentials_from_the_address(listmonk: FakeListmonk, monkeypatch: pytest.MonkeyPatch) -> None:
    url = listmonk.base_url.replace("http://", "http://admin:pa%24%24word-77@")
    monkeypatch.setenv("NEWSLETTER_LISTMONK_API_URL", url)
    result = run("export", "--to", "listmonk", *WEEK, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "pa%24%24word-77" not in result.output and "pa$$word-77" not in result.output
    assert "admin:" not in result.output and f"POST {listmonk.base_url}/api/campaigns" in result.output
