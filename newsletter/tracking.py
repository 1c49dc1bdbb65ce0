"""Campaign tracking: UTM parameters added to the email's article and site links (pure functions).

``add_utm(url, params)`` is the whole rule for one link; ``Tracker`` holds one issue's values
([tracking] with the issue's names filled in) and applies the rule to a story's or the site's
links. The parameters are Google Analytics' campaign parameters
(https://support.google.com/analytics/answer/10917952): ``utm_source``, ``utm_medium``,
``utm_campaign`` and ``utm_content`` (here: the story's id, so each story's clicks can be told
apart).

A link is left exactly as it was when it is not an absolute http(s) URL (mailto:, tel:,
relative), carries a mailing service's merge tag or one of the build's footer placeholders,
acts on a subscription (an unsubscribe, preferences or opt-out page of any service, told by
the words that open its path or query segments as the check tells them, Mailchimp's
list-manage.com pages, and the publication's own [links] unsubscribe and preferences pages),
or points at a host in ``exclude_hosts`` or one of its subdomains. Otherwise only the
parameters the link lacks are appended, after its existing query (whose order and
percent-encoding are kept byte for byte) and before its fragment.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from urllib.parse import parse_qsl, quote, urlsplit

from msgspec import Struct
from msgspec.structs import replace

from newsletter.config import Config, Tracking
from newsletter.links import acts_on_subscription
from newsletter.models import Issue
from newsletter.presentation import IssueView

# Template syntax of the mailing services we export to (Mailchimp *|UNSUB|*; Brevo, Buttondown,
# Kit, listmonk, SendGrid {{ ... }} / {% ... %}; SendGrid's <%asm_..._raw_url%>; Brevo's legacy
# [UNSUBSCRIBE]): a link holding any of it is resolved per subscriber by the service, so
# appending to it would corrupt the tag.
_MERGE_TAG = re.compile(r"\{\{|\{%|\*\||\|\*|<%|%%|\[[A-Z_]+\]", re.IGNORECASE)
_PLACEHOLDER_HOST = "placeholder.invalid"  # build._placeholders(): the footer's links before a service swaps them
# RFC 3986 lets a query hold "/" and ":" unencoded; everything else outside "unreserved" is encoded.
_SAFE = "-._~/:"


def add_utm(url: str, params: Sequence[tuple[str, str]], *, exclude_hosts: Iterable[str] = (),
            never: Collection[str] = ()) -> str:
    """``url`` with each ``(name, value)`` of ``params`` it lacks appended to its query.

    Returns ``url`` unchanged when it must not be tracked (see the module docstring), when
    ``never`` holds it (the publication's own unsubscribe and preferences pages), or when every
    parameter is already there. Values are percent-encoded as UTF-8; empty values are skipped.
    A parameter counts as present whatever its case (``UTM_Source`` blocks ``utm_source``).
    """
    if not trackable(url, exclude_hosts=exclude_hosts, never=never):
        return url
    head, hash_mark, fragment = url.partition("#")
    base, question, query = head.partition("?")
    present = {name.lower() for name, _ in parse_qsl(query, keep_blank_values=True)}
    added = [f"{quote(name, safe='')}={quote(value, safe=_SAFE)}"
             for name, value in params if value and name.lower() not in present]
    if not added:
        return url
    joined = "&".join(added)
    if query and not query.endswith("&"):
        joined = "&" + joined
    return f"{base}?{query}{joined}{hash_mark}{fragment}"


def remove_utm(url: str) -> str:
    """``url`` without its campaign parameters (every ``utm_*`` name, whatever its case).

    The rest of the query keeps its order and encoding byte for byte; the fragment stays.
    A feed that tags its posts' links (``?utm_source=rss``) is read through this, so the
    article's url is the post's own address.
    """
    head, hash_mark, fragment = url.partition("#")
    base, question, query = head.partition("?")
    if not question:
        return url
    parts = query.split("&")
    kept = [part for part in parts if not part.lower().startswith("utm_")]
    if len(kept) == len(parts):
        return url
    rest = "&".join(part for part in kept if part)
    return f"{base}{'?' + rest if rest else ''}{hash_mark}{fragment}"


def as_written(url: str, tracking: Tracking) -> str:
    """``url`` as the article or settings wrote it: without the campaign parameters the build
    adds when ``[tracking]`` is on (what a check reports and fetches under the editor's eyes)."""
    return remove_utm(url) if tracking.enabled else url


def trackable(url: str, *, exclude_hosts: Iterable[str] = (), never: Collection[str] = ()) -> bool:
    """Whether campaign parameters may be added to ``url`` at all (see the module docstring)."""
    if url in never or _MERGE_TAG.search(url):
        return False
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:  # an unparseable link (bad port, bad IPv6 literal): leave it as it is
        return False
    if parts.scheme.lower() not in ("http", "https") or not host:
        return False
    if host == _PLACEHOLDER_HOST or acts_on_subscription(url):
        return False
    names = _host_forms(host)
    for excluded in exclude_hosts:
        for form in _host_forms(excluded.strip().rstrip(".")):
            if any(name == form or name.endswith("." + form) for name in names):
                return False
    return True


def _host_forms(host: str) -> set[str]:
    """A host name lower-cased, and also in its ASCII (IDNA) form when it has non-ASCII letters."""
    forms = {host.lower()}
    with contextlib.suppress(UnicodeError):  # not a valid IDNA name: compare it as written
        forms.add(host.encode("idna").decode("ascii").lower())
    return forms


def slug(text: str) -> str:
    """'Saigon Sentinel' -> 'saigon-sentinel'; 'Người Việt' -> 'nguoi-viet' (ASCII, hyphens)."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


class Tracker(Struct, frozen=True):
    """One issue's campaign parameters, ready to add to its links; does nothing when disabled."""

    enabled: bool
    source: str = ""
    medium: str = ""
    campaign: str = ""
    content: bool = True
    exclude_hosts: tuple[str, ...] = ()
    never: frozenset[str] = frozenset()

    def params(self, story_id: str | None = None) -> list[tuple[str, str]]:
        """The parameters in the order they are appended; ``utm_content`` only for a story."""
        params = [("utm_source", self.source), ("utm_medium", self.medium), ("utm_campaign", self.campaign)]
        if self.content and story_id:
            params.append(("utm_content", story_id))
        return params

    def link(self, url: str, story_id: str | None = None) -> str:
        """``url`` as the email shows it: tagged for a story (``story_id``) or the site (None)."""
        if not self.enabled:
            return url
        return add_utm(url, self.params(story_id), exclude_hosts=self.exclude_hosts, never=self.never)


def tracker(config: Config, key: str, number: int | None = None, date: str = "") -> Tracker:
    """The Tracker for one issue: [tracking] with ``{publication}``, ``{key}``, ``{number}``, ``{date}`` filled in.

    ``key`` is the issue's folder name (``2026-W48``), ``date`` its first day (ISO 8601). The
    templates were checked when newsletter.toml was read (config._check_tracking).
    """
    settings: Tracking = config.tracking
    if not settings.enabled:
        return Tracker(False)
    values = {"publication": slug(config.publication.name), "key": key,
              "number": "" if number is None else str(number), "date": date}
    links = config.links
    never = frozenset(url.replace("{key}", key) for url in (links.unsubscribe, links.preferences)) | frozenset(
        (links.unsubscribe, links.preferences))
    return Tracker(
        True,
        source=settings.utm_source.format_map(values).strip(),
        medium=settings.utm_medium.format_map(values).strip(),
        campaign=settings.utm_campaign.format_map(values).strip(),
        content=settings.utm_content,
        exclude_hosts=tuple(host.strip() for host in settings.exclude_hosts if host.strip()),
        never=never,
    )


def track_view(view: IssueView, issue: Issue, config: Config) -> tuple[IssueView, Config]:
    """The presented issue and settings as the email shows them: every article link and the site's URL tagged.

    Both the HTML and the plain-text writer read the one ``IssueView`` (newsletter.presentation),
    so tagging its links here (story URLs, and every ``Link`` in every story's blocks and in the
    intro, through ``IssueView.with_links``) gives both parts the same links. The masthead reads
    ``publication.url``: the returned Config differs only there. ``issue`` gives the key, number
    and first day that ``[tracking]`` templates may use.
    """
    tagger = tracker(config, issue.key, issue.number, issue.start.isoformat())
    if not tagger.enabled:
        return view, config
    publication = replace(config.publication, url=tagger.link(config.publication.url))
    return view.with_links(tagger.link), replace(config, publication=publication)
