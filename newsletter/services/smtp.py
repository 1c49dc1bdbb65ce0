"""smtp: sends the issue to --test-to addresses through an SMTP server (test sends only)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import ClassVar

import click

from newsletter.errors import ConfigError, ServiceError
from newsletter.mime import build_message
from newsletter.services.base import ExportJob, Features, Outcome, Service, Setting

SECURITY = {"none": 25, "starttls": 587, "tls": 465}


class SmtpService(Service):
    name: ClassVar[str] = "smtp"
    label: ClassVar[str] = "SMTP"
    summary: ClassVar[str] = "sends test emails to --test-to through your SMTP server"
    features: ClassVar[Features] = Features(
        draft=False, test_send=True, text_part=True, preheader="hidden text at the top of the HTML",
        merge_tags="none: the footer links are the real URLs from [links] in newsletter.toml",
    )
    settings_spec: ClassVar[tuple[Setting, ...]] = (
        Setting("host", "the SMTP server's host name"),
        Setting("security", "none, starttls or tls", required=False, default="starttls"),
        Setting("port", "the SMTP port (default 25, 587 or 465 by security)", required=False),
        Setting("username", "login name, if the server wants one", required=False),
        Setting("password", "login password", required=False, secret=True),
        Setting("timeout", "seconds to wait for the server", required=False, default="30"),
    )

    def default_for(self, key: str, values: dict[str, str | None]) -> str | None:
        if key == "port":
            return str(SECURITY.get((values.get("security") or "").lower(), 587))
        return None

    def build_payload(self, job: ExportJob) -> EmailMessage:
        if not job.test_to:
            raise click.UsageError("smtp sends test emails only: give at least one --test-to ADDRESS.")
        return build_message(job.email.with_links(job.standalone_links), job.config, job.issue_key, to=job.test_to)

    def send(self, payload: EmailMessage, job: ExportJob) -> Outcome:
        host, security = self.get("host"), self.get("security").lower()
        if security not in SECURITY:
            raise ConfigError(f"SMTP security must be none, starttls or tls (NEWSLETTER_SMTP_SECURITY or [export.smtp]"
                              f" security), not {security!r}.")
        port = int(self.number("port"))
        username = self.values.get("username")
        password = self.setting("password", required=bool(username), secret=True) if username else None
        where = f"{host}:{port} ({security})"
        if job.dry_run:
            login = f", logging in as {username} with password {'***' if password else '(none)'}" if username else ""
            self.echo(f"(would connect to {where}{login} and send to {', '.join(job.test_to)})")
            return Outcome("dry-run", detail=where, test_recipients=job.test_to)
        timeout = self.number("timeout")
        try:
            smtp: smtplib.SMTP
            if security == "tls":
                smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
            with smtp:
                if security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if username and password:
                    smtp.login(username, password)
                refused = smtp.send_message(payload, from_addr=job.config.sender.email, to_addrs=list(job.test_to))
        except smtplib.SMTPAuthenticationError as error:
            raise ServiceError(self.name, f"{where} refused the login for {username}: {_reply(error)}. "
                               "Check NEWSLETTER_SMTP_USERNAME and NEWSLETTER_SMTP_PASSWORD.") from None
        except smtplib.SMTPRecipientsRefused as error:
            refusals = "; ".join(f"{addr}: {_text(reply[1])}" for addr, reply in error.recipients.items())
            raise ServiceError(self.name, f"{where} refused every recipient: {refusals}") from None
        except smtplib.SMTPNotSupportedError as error:
            raise ServiceError(self.name, f"{where}: {error}. Try security = \"tls\" or \"none\".") from None
        except smtplib.SMTPResponseException as error:
            raise ServiceError(self.name, f"{where} refused the message: {_reply(error)}") from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as error:
            raise ServiceError(self.name, f"cannot talk to {where}: {error or type(error).__name__}. Check "
                               "NEWSLETTER_SMTP_HOST, _PORT and _SECURITY, and that the server is reachable.") from None
        sent = tuple(addr for addr in job.test_to if addr not in refused)
        detail = f"via {where}" + (f"; refused: {', '.join(refused)}" if refused else "")
        return Outcome("sent", detail=detail, test_recipients=sent)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _reply(error: smtplib.SMTPResponseException) -> str:
    return f"{error.smtp_code} {_text(error.smtp_error)}"
