"""Test helpers for exports: a publication's settings and a rendered email built by hand.

The email carries article text that tries every template language the services speak, so the
tests can check that none of it survives as a merge tag. The HTML deliberately does NOT encode
braces as the real theme does: the services' own neutralising must hold on its own.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from newsletter.config import Config, LinkSettings, Publication, Sender
from newsletter.models import Links, RenderedEmail

KEY = "2026-W48"
HOSTILE = "Hà Nội {{ .Subscriber.Email }} *|EMAIL|* {% debug %} {{ unsubscribe_url }}"
PLACEHOLDERS = Links(*(f"https://placeholder.invalid/abc123/{name}"
                       for name in ("unsubscribe", "preferences", "view-online")))
STANDALONE = Links("https://sentinel.example/newsletter/unsubscribe", "https://sentinel.example/newsletter/preferences",
                   f"https://sentinel.example/newsletter/{KEY}/")


def make_config(root: Path, export: dict[str, Any] | None = None) -> Config:
    return Config(
        root=root,
        path=root / "newsletter.toml",
        publication=Publication(name="Saigon Sentinel", url="https://sentinel.example/", language="en",
                                postal_address="123 Bolsa Ave, Westminster, CA 92683"),
        sender=Sender(name="Saigon Sentinel", email="newsletter@sentinel.example", reply_to="editor@sentinel.example"),
        links=LinkSettings(unsubscribe=STANDALONE.unsubscribe, preferences=STANDALONE.preferences,
                           view_online="https://sentinel.example/newsletter/{key}/",
                           unsubscribe_mailto="unsubscribe@sentinel.example"),
        export=export or {},
    )


def make_email(headline: str = HOSTILE) -> RenderedEmail:
    paragraphs = [
        "YANGON – Russia and Myanmar's military government signed a pact on nuclear energy this week, "
        "the latest step in a partnership that has deepened since the 2021 coup.",
        "Người Việt ở Quận Cam theo dõi sát diễn biến này vì nhiều gia đình còn thân nhân ở khu vực.",
        f"Quoted from a reader: {headline}.",
    ]
    body = "".join(f'<p style="margin:0 0 16px;font-family:Arial,sans-serif;font-size:16px;line-height:1.5;'
                   f'color:#1f2328">{html.escape(p)}</p>' for p in paragraphs)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><title>Saigon Sentinel</title></head>'
        '<body style="margin:0;padding:0;background:#f4f1ea">'
        '<div style="display:none;max-height:0;overflow:hidden">'
        'This week: Russia and Myanmar sign a nuclear pact.</div>'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">'
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="background:#ffffff">'
        f'<tr><td style="padding:24px"><h1 style="font-family:Georgia,serif;font-size:26px;color:#1f2328">'
        f'{html.escape(headline)}</h1>{body}'
        f'<p style="font-size:13px;color:#57606a">Saigon Sentinel, 123 Bolsa Ave, Westminster, CA 92683. '
        f'You are receiving this email because you subscribed to our newsletter. '
        f'<a href="{PLACEHOLDERS.unsubscribe}" style="color:#57606a">Unsubscribe</a> · '
        f'<a href="{PLACEHOLDERS.preferences}" style="color:#57606a">Preferences</a> · '
        f'<a href="{PLACEHOLDERS.view_online}" style="color:#57606a">View online</a></p>'
        '</td></tr></table></td></tr></table></body></html>'
    )
    text = "\n\n".join([
        "SAIGON SENTINEL", headline, *paragraphs,
        "Saigon Sentinel, 123 Bolsa Ave, Westminster, CA 92683",
        f"Unsubscribe: {PLACEHOLDERS.unsubscribe}",
        f"Preferences: {PLACEHOLDERS.preferences}",
        f"View online: {PLACEHOLDERS.view_online}",
    ]) + "\n"
    return RenderedEmail(f"Saigon Sentinel: {headline}", "This week: Russia and Myanmar sign a nuclear pact.",
                         page, text, "en", PLACEHOLDERS)


def read_exports(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "exports.json").read_text("utf-8"))
    return data
