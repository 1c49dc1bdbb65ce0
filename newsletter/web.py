"""The edition as a web page (web.html): the email's own template and theme, made for a browser.

The page is the email's entry template rendered with one more name, ``web`` (the page's data,
below), so it shows the same presentation model in the same theme. What differs is decided in
the templates (docs/archive.md): no hidden preheader, a head with a description, canonical URL,
feed link and Open Graph / Twitter card tags (partials/web-head.mjml.j2), a top bar back to
every edition (partials/web-nav.mjml.j2), and a footer with a subscribe link instead of the
subscriber's unsubscribe and preferences links. The page is written for its place in the
archive, ``<archive>/<key>/index.html``: its links to the index and the feed are relative, so
they work from the published site (under any sub-path) and from disk alike.
"""

from __future__ import annotations

import re
from typing import Any

from newsletter.config import Config
from newsletter.models import Issue, Links
from newsletter.presentation import IssueView, present_issue
from newsletter.render import render_email

WEB_NAME = "web.html"
# From <archive>/<key>/index.html; the file names are explicit so that links opened from disk
# (file://, where a folder is not its index.html) work as well as on a web server.
ARCHIVE_HREF = "../index.html"
FEED_HREF = "../feed.xml"
WEB_LABELS = ("subscribe", "archive", "feed")
# MRML wraps the body in <div role="article" aria-roledescription="email">: right for a message
# in a mail client, but a web page's content belongs in its main landmark (WCAG 1.3.1; axe's
# "region" and "landmark-one-main" rules).
_WRAPPER = re.compile(r'(<body\b[^>]*>\s*<div\b[^>]*?)\s+aria-roledescription="email"([^>]*?)\srole="article"')


def page_url(config: Config, key: str) -> str | None:
    """The edition's public address, ``[archive] url`` + ``<key>/``; None while the archive has none."""
    base = config.archive.base_url
    return f"{base}{key}/" if base else None


def subscribe_url(config: Config) -> str:
    """Where a reader subscribes: ``[archive] subscribe_url``, else ``[publication] url``."""
    return config.archive.subscribe_url or config.publication.url


def description(issue: Issue) -> str:
    """The page's one-line summary (plain text): the preheader, else the lead story's headline."""
    if issue.preheader.strip():
        return issue.preheader.strip()
    return issue.stories[0].headline if issue.stories else issue.subject


def locale(lang: str) -> str | None:
    """Open Graph's ``language_TERRITORY`` form of a language tag (``vi-VN`` -> ``vi_VN``); None without a territory."""
    parts = lang.replace("_", "-").split("-")
    if len(parts) >= 2 and len(parts[1]) == 2 and parts[1].isalpha():
        return f"{parts[0].lower()}_{parts[1].upper()}"
    return None


def web_data(issue: Issue, config: Config) -> dict[str, Any]:
    """What the templates see as ``web`` (documented in docs/archive.md); text values are plain strings."""
    lead = issue.stories[0] if issue.stories else None
    image = lead.image if lead else None  # already an https URL, or None (pairing: links.image_source)
    return {
        "canonical": page_url(config, issue.key),
        "description": description(issue),
        "image": image,
        "image_alt": (lead.image_alt or "") if image and lead else "",
        # Open Graph's og:image:width/height, when the article states the picture's size
        "image_width": lead.image_width if image and lead else None,
        "image_height": lead.image_height if image and lead else None,
        "locale": locale(config.publication.language),
        "archive_href": ARCHIVE_HREF,
        "feed_href": FEED_HREF,
        "subscribe_url": subscribe_url(config),
    }


def web_labels(config: Config, view: IssueView) -> dict[str, str]:
    """The email's ``labels`` plus the web page's words: ``subscribe``, ``archive``, ``feed`` ([labels])."""
    labels = config.labels_for(config.publication.language)
    return {**view.labels, **{key: labels.text(key) for key in WEB_LABELS}}


def render_web(issue: Issue, config: Config, links: Links, view: IssueView | None = None) -> str:
    """Issue -> the web page's HTML (no CSS inlining: a browser reads the theme's <style> blocks).

    ``links`` are real URLs (a standalone build's), never a mailing service's placeholders.
    Raises ThemeError, as the email's rendering does, for a broken theme.
    """
    view = view or present_issue(issue, config)  # the build passes the one both parts of the email read
    html = render_email(view, config, links, {"web": web_data(issue, config), "labels": web_labels(config, view)})
    return _WRAPPER.sub(r'\1\2 role="main"', html, count=1)
