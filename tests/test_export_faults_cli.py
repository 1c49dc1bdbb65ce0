"""`newsletter export` against a misbehaving service, through the CLI: exit 1 and a message, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from tests.conftest import SAMPLE_WEEK
from tests.servers import FakeListmonk, Fault
from tests.servers_harness import MORE, Harness, wired

pytestmark = pytest.mark.server
WEEK = ["--week", SAMPLE_WEEK]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(params=["listmonk", *MORE])
def harness(workspace: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with wired(request.param, monkeypatch) as h:
        yield h


def fault(kind: str, h: Harness) -> Fault:
    """A misbehaving answer to the request that creates a draft, or to the lookup before it."""
    return {
        "redirect": lambda: Fault("POST", h.create_path, status=308, headers={"Location": "https://lists.example.org/api"}),
        "html": lambda: Fault("POST", h.create_path, status=h.create_status, headers={"Content-Type": "text/html"},
                              raw=b"<html><title>502 Bad Gateway</title></html>"),
        "wrong shape": lambda: Fault("POST", h.create_path, status=h.create_status, body=h.answer("../settings")),
        "bad gzip": lambda: Fault("GET", h.list_path, status=200, headers={"Content-Encoding": "gzip"},
                                  raw=b"\x1f\x8bnope"),
        "endless 429": lambda: Fault("GET", h.list_path, times=99, status=429, headers={"Retry-After": "3600"},
                                     body=h.error("slow down")),
    }[kind]()


@pytest.mark.parametrize("kind", ["redirect", "html", "wrong shape", "bad gzip", "endless 429"])
def test_a_false_success_is_exit_1_with_the_service_named(harness: Harness, workspace: Path, kind: str) -> None:
    harness.fake.faults.append(fault(kind, harness))
    result = run("export", "--to", harness.name, *WEEK)
    assert result.exit_code == 1, result.output
    assert f"Error: {harness.name}: " in result.stderr and "Traceback" not in result.output
    assert "Created" not in result.stdout
    exports = workspace / "issues" / SAMPLE_WEEK / "exports.json"
    assert not exports.exists() or json.loads(exports.read_text())["drafts"] == {}
    assert harness.secret not in result.output


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
