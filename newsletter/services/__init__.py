"""The mailing services by name: one module each, all behind services.base.Service."""

from __future__ import annotations

from newsletter.services.base import Service
from newsletter.services.brevo import BrevoService
from newsletter.services.buttondown import ButtondownService
from newsletter.services.eml import EmlService
from newsletter.services.kit import KitService
from newsletter.services.listmonk import ListmonkService
from newsletter.services.mailchimp import MailchimpService
from newsletter.services.sendgrid import SendGridService
from newsletter.services.smtp import SmtpService

SERVICES: dict[str, type[Service]] = {
    cls.name: cls for cls in (EmlService, SmtpService, MailchimpService, ButtondownService, ListmonkService,
                              BrevoService, SendGridService, KitService)
}


def service_class(name: str) -> type[Service] | None:
    return SERVICES.get(name.strip().lower())
