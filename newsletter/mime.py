"""The RFC 5322 message: text then HTML as multipart/alternative, with the bulk-mail headers."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from newsletter.config import Config
from newsletter.models import RenderedEmail


def build_message(email: RenderedEmail, config: Config, issue_key: str, *, to: tuple[str, ...] = (),
                  now: datetime | None = None) -> EmailMessage:
    """The email as a message a real client opens; ``email`` must already carry real links.

    List-Unsubscribe carries the https link and, when configured, a mailto; with
    List-Unsubscribe-Post it is the one-click unsubscribe of RFC 8058 that Gmail and Yahoo
    require of bulk senders.
    """
    sender = config.sender
    domain = sender.email.rpartition("@")[2] or "localhost"
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(display_name=_one_line(sender.name or config.publication.name), addr_spec=sender.email)
    if sender.reply_to:
        message["Reply-To"] = sender.reply_to
    # A message file without recipients still names one: clients and filters expect a To.
    readers = Address(display_name=_one_line(f"{config.publication.name} readers"), addr_spec=sender.email)
    message["To"] = ", ".join(to) if to else readers
    subject = _one_line(email.subject)
    if subject.isascii():
        message["Subject"] = subject
    else:
        # The stdlib folder doubles the space before an encoded word it wraps ("the  Tết"); a
        # subject made wholly of adjacent encoded words folds cleanly and decodes exactly.
        message.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n"))
    message["Date"] = format_datetime(now or datetime.now().astimezone())
    message["Message-ID"] = make_msgid(idstring=re.sub(r"[^A-Za-z0-9-]", "", issue_key), domain=domain)
    message["List-Id"] = f"{_quoted(config.publication.name)} <{_slug(config.publication.name)}.{domain}>"
    unsubscribe = [f"<{email.placeholders.unsubscribe}>"]
    mailto = config.links.unsubscribe_mailto.strip()
    if mailto:
        unsubscribe.append(f"<{mailto if mailto.startswith('mailto:') else 'mailto:' + mailto}>")
    message["List-Unsubscribe"] = ", ".join(unsubscribe)
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if email.lang:
        message["Content-Language"] = email.lang
    message.set_content(email.text, subtype="plain", charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    return message


def message_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=SMTP)


def display_address(name: str, address: str) -> str:
    """``name <address>`` with the display name quoted per RFC 5322 where it must be.

    ``Saigon Sentinel`` stays bare; ``"Saigon Sentinel, Inc."`` is quoted (a comma or a full
    stop would split or break the phrase), with ``"`` and ``\\`` escaped inside. Non-ASCII stays
    UTF-8 (RFC 6532), as a JSON API expects; the message file encodes it itself (RFC 2047).
    For every payload field that takes "Name <address>" (listmonk's ``from_email``, ...).
    """
    return str(Address(display_name=_one_line(name), addr_spec=address)) if name.strip() else address


def _one_line(text: str) -> str:
    """A header's text without line breaks: one would end the header block early."""
    return " ".join(text.split()) if any(char in text for char in "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029") else text


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "newsletter"


def _quoted(name: str) -> str:
    """The List-Id phrase; Address does the RFC 5322 quoting (and encoding of non-ASCII)."""
    return str(Address(display_name=name, addr_spec="x@x")).rpartition("<")[0].strip() or "Newsletter"
