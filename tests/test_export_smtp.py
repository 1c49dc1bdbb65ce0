"""SMTP test sends against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
import os
import socket
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.errors import ConfigError, ServiceError
from newsletter.export import export_email
from newsletter.services.smtp import SmtpService
from tests.conftest import SAMPLE_WEEK
from tests.exporting import KEY, STANDALONE, make_config, make_email, read_exports
from tests.faults import ScriptedSmtp, scripted_smtp

pytestmark = pytest.mark.server
USER, PASSWORD = "newsroom", "smtp-secret-pass-321"


class Inbox:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and \
        auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False, auth_required=False)
    controller.start()
    monkeypatch.setenv("NEWSLETTER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSLETTER_SMTP_PORT", str(port))
    monkeypatch.setenv("NEWSLETTER_SMTP_SECURITY", "none")
    monkeypatch.setenv("NEWSLETTER_SMTP_TIMEOUT", "5")
    for name in ("USERNAME", "PASSWORD"):
        monkeypatch.delenv(f"NEWSLETTER_SMTP_{name}", raising=False)
    try:
        yield inbox
    finally:
        controller.stop()


def received(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def test_sends_the_issue_to_the_test_addresses(smtp_server: Inbox, tmp_path: Path) -> None:
    folder = tmp_path / "issues" / KEY
    service = SmtpService(make_config(tmp_path))
    result = export_email(service, KEY, folder, make_email(), STANDALONE,
                          test_to=("editor@sentinel.example", "desk@sentinel.example"), echo=lambda _: None)
    assert result.action == "sent"
    assert result.test_recipients == ("editor@sentinel.example", "desk@sentinel.example")
    # One message per address, each addressed to it alone: no tester sees the others.
    assert [(sender, recipients) for sender, recipients, _ in smtp_server.messages] == [
        ("newsletter@sentinel.example", ["editor@sentinel.example"]),
        ("newsletter@sentinel.example", ["desk@sentinel.example"]),
    ]
    messages = [received(data) for _, _, data in smtp_server.messages]
    assert [str(m["To"]) for m in messages] == ["editor@sentinel.example", "desk@sentinel.example"]
    assert messages[0]["Message-ID"] != messages[1]["Message-ID"]
    for message in messages:
        assert str(message["Subject"]) == f"[Test] {make_email().subject}"
        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        assert "<https://sentinel.example/newsletter/unsubscribe>" in str(message["List-Unsubscribe"])
        assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert read_exports(folder)["history"][0]["test_to"] == ["editor@sentinel.example", "desk@sentinel.example"]


def test_logs_in_with_the_password_from_the_environment(smtp_server: Inbox, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SMTP_USERNAME", USER)
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("NEWSLETTER_SMTP_PLAINTEXT_LOGIN", "true")  # the loopback server has no TLS
    warnings: list[str] = []
    export_email(SmtpService(make_config(tmp_path), warn=warnings.append), KEY, tmp_path / "i", make_email(),
                 STANDALONE, test_to=("editor@sentinel.example",), echo=lambda _: None)
    assert len(smtp_server.messages) == 1
    assert warnings == ["Warning: sending the SMTP password unencrypted to 127.0.0.1:"
                        f"{os.environ['NEWSLETTER_SMTP_PORT']} (none) (plaintext_login = true)."]


def test_a_wrong_password_is_a_clear_error_without_the_password(smtp_server: Inbox, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SMTP_USERNAME", USER)
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "wrong-password-999")
    monkeypatch.setenv("NEWSLETTER_SMTP_PLAINTEXT_LOGIN", "true")
    with pytest.raises(ServiceError) as caught:
        export_email(SmtpService(make_config(tmp_path)), KEY, tmp_path / "i", make_email(), STANDALONE,
                     test_to=("editor@sentinel.example",), echo=lambda _: None)
    message = caught.value.format_message()
    assert "refused the login" in message and "NEWSLETTER_SMTP_PASSWORD" in message
    assert "wrong-password-999" not in message
    assert smtp_server.messages == []


def test_starttls_against_a_server_without_it_is_explained(smtp_server: Inbox, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SMTP_SECURITY", "starttls")
    with pytest.raises(ServiceError) as caught:
        export_email(SmtpService(make_config(tmp_path)), KEY, tmp_path / "i", make_email(), STANDALONE,
                     test_to=("editor@sentinel.example",), echo=lambda _: None)
    assert "STARTTLS" in caught.value.format_message()


def test_cli_smtp_send_of_the_sample_issue(smtp_server: Inbox, workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "--to", "smtp", "--week", SAMPLE_WEEK, "--test-to", "me@example.org"])
    assert result.exit_code == 0, result.output
    assert "Sent the issue to me@example.org" in result.output
    [(_, recipients, data)] = smtp_server.messages
    assert recipients == ["me@example.org"]
    message = received(data)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "placeholder.invalid" not in text.get_content() + html.get_content()
    assert "https://saigonsentinel.example/newsletter/unsubscribe" in html.get_content()


def test_cli_smtp_needs_test_to(smtp_server: Inbox, workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "--to", "smtp", "--week", SAMPLE_WEEK])
    assert result.exit_code == 2
    assert "--test-to" in result.output
    assert smtp_server.messages == []


def test_cli_unreachable_server_exits_1(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSLETTER_SMTP_PORT", str(free_port()))  # nothing listens there
    monkeypatch.setenv("NEWSLETTER_SMTP_SECURITY", "none")
    result = CliRunner().invoke(cli, ["export", "--to", "smtp", "--week", SAMPLE_WEEK, "--test-to", "me@example.org"])
    assert result.exit_code == 1
    assert "Error: smtp: cannot talk to 127.0.0.1:" in result.output and "Traceback" not in result.output


# ---- faults and secrets (issue 11) and issue 9's test-send rules -----------------------------------

def scripted_env(monkeypatch: pytest.MonkeyPatch, server: ScriptedSmtp, security: str = "none",
                 **extra: str) -> None:
    monkeypatch.setenv("NEWSLETTER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSLETTER_SMTP_PORT", str(server.port))
    monkeypatch.setenv("NEWSLETTER_SMTP_SECURITY", security)
    for key in ("USERNAME", "PASSWORD", "PLAINTEXT_LOGIN", "TIMEOUT", "DEADLINE"):
        monkeypatch.delenv(f"NEWSLETTER_SMTP_{key}", raising=False)
    for key, value in extra.items():
        monkeypatch.setenv(f"NEWSLETTER_SMTP_{key}", value)


def send(tmp_path: Path, **options: Any) -> Any:
    return export_email(SmtpService(make_config(tmp_path), **options), KEY, tmp_path / "i", make_email(), STANDALONE,
                        test_to=("editor@sentinel.example",), echo=lambda _: None)


def test_a_password_in_clear_needs_an_explicit_setting(smtp_server: Inbox, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SMTP_USERNAME", USER)
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", PASSWORD)
    with pytest.raises(ConfigError) as caught:
        send(tmp_path)
    message = caught.value.format_message()
    assert 'security = "none"' in message and "plaintext_login = true" in message and "starttls" in message
    assert PASSWORD not in message and smtp_server.messages == []


def test_a_server_echoing_the_auth_data_never_shows_the_password(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    script = ScriptedSmtp(auth="PLAIN", auth_reply="535 5.7.8 Authentication failed for {data}")
    with scripted_smtp(script):
        scripted_env(monkeypatch, script, USERNAME=USER, PASSWORD=PASSWORD, PLAINTEXT_LOGIN="true")
        with pytest.raises(ServiceError) as caught:
            send(tmp_path, warn=lambda _: None)
    message = caught.value.format_message()
    echoed = [c.split(" ", 2)[2] for c in script.commands if c.upper().startswith("AUTH")]
    assert echoed and "refused the login for newsroom" in message
    assert PASSWORD not in message and echoed[0] not in message and "***" in message


@pytest.mark.parametrize(("security", "reply", "hint"), [
    ("none", "530 5.7.0 Must issue a STARTTLS command first", 'set security = "starttls" (port 587)'),
    ("none", "535 5.7.8 Bad credentials", 'some servers also refuse any login over security = "none"'),
    ("none", "534 5.7.9 Application-specific password required", "app password"),
])
def test_the_hint_after_a_refused_login_fits_the_security(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          security: str, reply: str, hint: str) -> None:
    script = ScriptedSmtp(auth_reply=reply)
    with scripted_smtp(script):
        scripted_env(monkeypatch, script, security, USERNAME=USER, PASSWORD=PASSWORD, PLAINTEXT_LOGIN="true")
        with pytest.raises(ServiceError) as caught:
            send(tmp_path, warn=lambda _: None)
    assert hint in caught.value.format_message()


def test_no_login_offered_without_encryption_says_to_encrypt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = ScriptedSmtp(auth="")
    with scripted_smtp(script):
        scripted_env(monkeypatch, script, USERNAME=USER, PASSWORD=PASSWORD, PLAINTEXT_LOGIN="true")
        with pytest.raises(ServiceError) as caught:
            send(tmp_path, warn=lambda _: None)
    message = caught.value.format_message()
    assert "offers no login on an unencrypted connection" in message and 'security = "starttls"' in message


def test_starttls_missing_is_never_a_downgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = ScriptedSmtp(starttls=False)
    with scripted_smtp(script):
        scripted_env(monkeypatch, script, "starttls", USERNAME=USER, PASSWORD=PASSWORD)
        with pytest.raises(ServiceError) as caught:
            send(tmp_path)
    message = caught.value.format_message()
    assert "does not offer STARTTLS" in message and 'security = "tls"' in message and "unencrypted" in message
    assert not any(c.upper().startswith(("AUTH", "MAIL")) for c in script.commands)  # nothing sent in clear


def test_a_trickling_server_is_cut_off_by_the_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = ScriptedSmtp(greeting_trickle=0.05)
    with scripted_smtp(script):
        scripted_env(monkeypatch, script, TIMEOUT="5", DEADLINE="1")
        started = time.monotonic()
        with pytest.raises(ServiceError) as caught:
            send(tmp_path)
    assert time.monotonic() - started < 30  # generous: without the deadline it would never end
    assert "did not finish within the 1 s deadline" in caught.value.format_message()


def test_a_non_ascii_password_logs_in_as_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    password = "mật-khẩu-Sài-Gòn"
    inbox = Inbox()

    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=check,
                            auth_require_tls=False)
    controller.start()
    try:
        monkeypatch.setenv("NEWSLETTER_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("NEWSLETTER_SMTP_PORT", str(controller.port))
        monkeypatch.setenv("NEWSLETTER_SMTP_SECURITY", "none")
        monkeypatch.setenv("NEWSLETTER_SMTP_USERNAME", USER)
        monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", password)
        monkeypatch.setenv("NEWSLETTER_SMTP_PLAINTEXT_LOGIN", "true")
        send(tmp_path, warn=lambda _: None)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_cli_one_refused_address_does_not_stop_the_others(smtp_server: Inbox, workspace: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse_one(server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_server.handle_RCPT = refuse_one  # type: ignore[attr-defined]
    result = CliRunner().invoke(cli, ["export", "--to", "smtp", "--week", SAMPLE_WEEK,
                                      "--test-to", "nobody@example.org", "--test-to", "me@example.org"])
    assert result.exit_code == 0, result.output
    assert "refused: nobody@example.org" in result.output
    assert [recipients for _, recipients, _ in smtp_server.messages] == [["me@example.org"]]


@pytest.mark.parametrize("address", ["me@example.org\r\nBcc: all@example.org", "me@example.org, you@example.org",
                                     "Me <me@example.org>", "me@example.org\n", "@example.org"])
def test_cli_a_test_address_with_line_breaks_or_several_addresses_is_refused(workspace: Path, address: str,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SMTP_HOST", "127.0.0.1")
    result = CliRunner().invoke(cli, ["export", "--to", "smtp", "--week", SAMPLE_WEEK, "--test-to", address])
    assert result.exit_code == 2, result.output
    assert "is not one email address" in result.output and "Traceback" not in result.output
    assert "\r" not in result.output
