"""smtp: sends the issue to --test-to addresses through an SMTP server (test sends only).

Each address gets its own message (``To:`` that address alone, so no tester sees the others),
with ``[Test]`` before the subject so a test is never mistaken for the edition. The password
never crosses the network unencrypted unless a setting says so: ``security = "none"`` with a
login needs ``plaintext_login = true`` and warns every time.
"""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl
from email.message import EmailMessage
from typing import Any, ClassVar

import click
from msgspec.structs import replace

from newsletter.errors import ConfigError, ServiceError
from newsletter.mime import build_message
from newsletter.services.base import Deadline, ExportJob, Features, Outcome, Service, Setting
from newsletter.services.settings import CHOICE, FLAG, PORT, SECONDS

SECURITY = {"none": 25, "starttls": 587, "tls": 465}
TEST_PREFIX = "[Test] "
ENCRYPT_FIRST = (
    'set security = "starttls" (port 587) or "tls" (port 465): servers offer a login only over an '
    "encrypted connection"
)


class SmtpService(Service):
    name: ClassVar[str] = "smtp"
    label: ClassVar[str] = "SMTP"
    summary: ClassVar[str] = "sends test emails to --test-to through your SMTP server, one message per address"
    features: ClassVar[Features] = Features(
        draft=False, test_send=True, text_part=True, preheader="hidden text at the top of the HTML",
        merge_tags="none: the footer links are the real URLs from [links] in newsletter.toml",
    )
    settings_spec: ClassVar[tuple[Setting, ...]] = (
        Setting("host", "the SMTP server's host name"),
        Setting("security", "none, starttls or tls", required=False, default="starttls", kind=CHOICE,
                choices=tuple(SECURITY)),
        Setting("port", "the SMTP port (default 25, 587 or 465 by security)", required=False, kind=PORT),
        Setting("username", "login name, if the server wants one", required=False),
        Setting("password", "login password", required=False, secret=True),
        Setting("plaintext_login", 'true to send the password unencrypted with security = "none" (a local relay)',
                required=False, default="false", kind=FLAG),
        Setting("timeout", "seconds each step may wait for the server", required=False, default="20", kind=SECONDS),
        Setting("deadline", "seconds the whole send may take", required=False, default="45", kind=SECONDS),
    )

    def default_for(self, key: str, values: dict[str, str | None]) -> str | None:
        if key == "port":
            return str(SECURITY.get((values.get("security") or "").lower(), 587))
        return None

    def build_payload(self, job: ExportJob) -> list[tuple[str, EmailMessage]]:
        """One message per --test-to address, each addressed to it alone, the subject marked [Test]."""
        if not job.test_to:
            raise click.UsageError("smtp sends test emails only: give at least one --test-to ADDRESS.")
        email = job.email.with_links(job.standalone_links)
        email = replace(email, subject=TEST_PREFIX + email.subject)
        return [(address, build_message(email, job.config, job.issue_key, to=(address,))) for address in job.test_to]

    def send(self, payload: list[tuple[str, EmailMessage]], job: ExportJob) -> Outcome:
        host, security = self.get("host"), self.get("security")  # security: checked as a CHOICE, in lower case
        port = int(self.number("port"))
        username = self.values.get("username")
        password = self.setting("password", required=bool(username), secret=True) if username else None
        where = f"{host}:{port} ({security})"
        if username and security == "none":
            self._allow_plaintext(where)
        addresses = [address for address, _ in payload]
        if job.dry_run:
            login = f", logging in as {username} with password {'***' if password else '(none)'}" if username else ""
            self.echo(f"(would connect to {where}{login} and send {len(payload)} "
                      f"message{'s' if len(payload) != 1 else ''}, one to each of {', '.join(addresses)})")
            return Outcome("dry-run", detail=where, test_recipients=job.test_to)
        refused: dict[str, str] = {}
        deadline = Deadline(self.number("deadline") or 24 * 3600.0)
        try:
            with deadline, self._connect(host, port, security, deadline) as smtp:
                if security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if username and password:
                    self._login(smtp, username, password, where, security)
                for address, message in payload:
                    try:
                        smtp.send_message(message, from_addr=job.config.sender.email, to_addrs=[address])
                    except smtplib.SMTPRecipientsRefused as error:
                        refused.update({addr: _reply_text(reply) for addr, reply in error.recipients.items()})
        except smtplib.SMTPNotSupportedError as error:
            raise ServiceError(self.name, self._unsupported(where, security, port, error)) from None
        except smtplib.SMTPResponseException as error:
            if deadline.expired:
                raise ServiceError(self.name, self._too_slow(where)) from None
            raise ServiceError(self.name, f"{where} refused the message: {_reply(error)}") from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as error:
            if deadline.expired:
                raise ServiceError(self.name, self._too_slow(where)) from None
            hint = ('; the server does not speak TLS on this port: for port 587 set security = "starttls"'
                    if isinstance(error, ssl.SSLError) and security == "tls" else "")
            raise ServiceError(self.name, f"cannot talk to {where}: {error or type(error).__name__}{hint}. Check "
                               "NEWSLETTER_SMTP_HOST, _PORT and _SECURITY, and that the server is reachable.") from None
        sent = tuple(address for address in addresses if address not in refused)
        if not sent:
            refusals = "; ".join(f"{address}: {reply}" for address, reply in refused.items())
            raise ServiceError(self.name, f"{where} refused every recipient: {refusals}")
        detail = f"via {where}, one message each" + (f"; refused: {', '.join(refused)}" if refused else "")
        return Outcome("sent", detail=detail, test_recipients=sent)

    # ---- steps -------------------------------------------------------------------------

    def _allow_plaintext(self, where: str) -> None:
        if not self.flag("plaintext_login"):
            raise ConfigError(
                f'SMTP: security = "none" with a username would send the password unencrypted to {where}. '
                f"Either {ENCRYPT_FIRST}; or, for a relay on this machine or a network you trust, set "
                "plaintext_login = true in [export.smtp] (or NEWSLETTER_SMTP_PLAINTEXT_LOGIN=true)."
            )
        self.warn(f"Warning: sending the SMTP password unencrypted to {where} (plaintext_login = true).")

    def _connect(self, host: str, port: int, security: str, deadline: Deadline) -> smtplib.SMTP:
        timeout = min(self.number("timeout") or 24 * 3600.0, deadline.seconds)
        smtp: _WatchedSMTP
        if security == "tls":
            smtp = _WatchedSMTP_SSL(timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = _WatchedSMTP(timeout=timeout)
        smtp.deadline = deadline
        smtp.connect(host, port)
        return smtp

    def _login(self, smtp: smtplib.SMTP, username: str, password: str, where: str, security: str) -> None:
        try:
            if (username + password).isascii():
                smtp.login(username, password)
            else:
                _login_utf8(smtp, username, password)
        except smtplib.SMTPAuthenticationError as error:
            raise ServiceError(self.name, f"{where} refused the login for {username}: {_reply(error)}. "
                               f"{_login_hint(error, security)}") from None

    def _unsupported(self, where: str, security: str, port: int, error: smtplib.SMTPNotSupportedError) -> str:
        text = str(error)
        if "STARTTLS" in text.upper():
            return (f"{where} does not offer STARTTLS on port {port}. If it expects TLS from the first byte, set "
                    'security = "tls" (usually port 465). security = "none" would send the message, and any '
                    "password, unencrypted.")
        if "AUTH" in text.upper():
            if security == "none":
                return f"{where} offers no login on an unencrypted connection: {ENCRYPT_FIRST}."
            return (f"{where} offers no login (no AUTH after EHLO). If it needs none, leave NEWSLETTER_SMTP_USERNAME "
                    "unset; otherwise check the host and port.")
        return f"{where}: {text}."

    def _too_slow(self, where: str) -> str:
        return (f"{where} did not finish within the {self.number('deadline'):g} s deadline (NEWSLETTER_SMTP_DEADLINE). "
                "The server is slow or stuck; try again later, or check NEWSLETTER_SMTP_HOST and _PORT.")


class _WatchedSMTP(smtplib.SMTP):
    """smtplib.SMTP whose connection the export's Deadline can cut off (a server trickling its reply)."""

    deadline: Deadline

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        self.deadline.watch(sock)
        return sock  # type: ignore[no-any-return]


class _WatchedSMTP_SSL(smtplib.SMTP_SSL, _WatchedSMTP):  # noqa: N801 - named after smtplib.SMTP_SSL
    """SMTP_SSL wraps the socket _WatchedSMTP made: the deadline covers the TLS handshake too."""


def _login_utf8(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH PLAIN with UTF-8 credentials (RFC 4616), which smtplib's login cannot send (it encodes ASCII)."""
    smtp.ehlo_or_helo_if_needed()
    if "plain" not in smtp.esmtp_features.get("auth", "").lower().split():
        raise smtplib.SMTPNotSupportedError("The server offers no AUTH PLAIN, the only login that carries a "
                                            "user name or password with non-ASCII characters.")
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode()
    code, reply = smtp.docmd("AUTH", f"PLAIN {token}")
    if code not in (235, 503):
        raise smtplib.SMTPAuthenticationError(code, reply)


def _login_hint(error: smtplib.SMTPAuthenticationError, security: str) -> str:
    """What to do after a refused login, for the security in use and the server's reply code."""
    text = _reply_text(error.smtp_error).lower()
    if error.smtp_code in (530, 538) or "starttls" in text or "encrypt" in text or "tls" in text:
        if security == "none":
            return f"The server wants an encrypted connection first: {ENCRYPT_FIRST}."
        return (f'The server wants another kind of encryption than security = "{security}": '
                f'try {"tls (port 465)" if security == "starttls" else "starttls (port 587)"}.')
    if error.smtp_code == 534:
        return ("The server wants another way to log in: many providers need an app password, made in the "
                "account's security settings, in NEWSLETTER_SMTP_PASSWORD.")
    hint = "Check NEWSLETTER_SMTP_USERNAME and NEWSLETTER_SMTP_PASSWORD"
    if security == "none":
        return hint + f'; some servers also refuse any login over security = "none": {ENCRYPT_FIRST}.'
    return hint + "."


def _reply_text(value: Any) -> str:
    if isinstance(value, tuple):  # (code, message) from SMTPRecipientsRefused
        return f"{value[0]} {_reply_text(value[1])}"
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _reply(error: smtplib.SMTPResponseException) -> str:
    return f"{error.smtp_code} {_reply_text(error.smtp_error)}".strip()
