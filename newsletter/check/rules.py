"""The offline rules of `newsletter check`: settings, editorial leftovers, size, subject, links' words, stories.

Each rule reads the built email (``Scan``), the edition and its sources, and returns
findings located where the editor can fix them. No rule touches the network.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from msgspec import Struct

from newsletter.build import standalone_links
from newsletter.check.findings import Finding, Location
from newsletter.check.inputs import HTML_NAME, TEXT_NAME, Edition, Sources
from newsletter.check.scan import Scan, words
from newsletter.config import Config, Publication
from newsletter.tracking import as_written

# Gmail clips an email whose HTML passes about 102 kB; services add tracking links and their
# own footer, so 8 kB short of it is already too close.
GMAIL_CLIP_BYTES = 102_000
CLIP_MARGIN_BYTES = 8_000
SUBJECT_MIN, SUBJECT_MAX, PREHEADER_MAX = 10, 70, 140
# RFC 2606 and RFC 6761: names reserved for documentation and testing, never a real sender.
RESERVED_TLDS = ("example", "invalid", "test", "localhost")
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
_DEFAULT_POSTAL = Publication().postal_address
# Settings that say who sends the email and why: the examples `newsletter init` writes there
# (newsletter/skeleton/newsletter.toml) would mislead readers and, in the footer, break the law.
# Example hosts and addresses are placeholder-link and placeholder-sender findings; the
# proposed tagline is generic enough to keep.
INIT_EXAMPLE_KEYS = (("publication", "name"), ("sender", "name"), ("publication", "reason"))


class Marker(Struct, frozen=True):
    """An editorial leftover: what the reader would see, and how to find it."""

    name: str
    pattern: re.Pattern[str]
    code: str


# Case matters: "TK" and "XXX" are written in capitals by editors; "tk" and "TKO" are words.
MARKERS = (
    Marker("[TK]", re.compile(r"\[\s*TK\s*\]", re.IGNORECASE), "editorial-marker"),
    Marker("TK", re.compile(r"(?<![\w\[])(?:TK)+(?![\w\]])"), "editorial-marker"),
    Marker("XXX", re.compile(r"(?<!\w)XXX+(?!\w)"), "editorial-marker"),
    Marker("lorem ipsum", re.compile(r"\blorem\s+ipsum\b", re.IGNORECASE), "editorial-marker"),
    Marker("{{", re.compile(r"\{\{|\}\}|\{%|%\}"), "template-leftover"),
    Marker("*|TAG|*", re.compile(r"\*\|[^|*\s]{1,40}\|\*"), "template-leftover"),
)
# Link words that say nothing out of context (WCAG 2.4.4), in the languages the tool ships labels for.
GENERIC_LINK_WORDS = frozenset({
    "click here", "click", "here", "read more", "more", "learn more", "continue reading", "this link", "link",
    "this", "go", "details", "more info", "more information", "see more", "find out more", "read on",
    "this page", "this article", "website", "view", "full story",
    "bấm vào đây", "nhấn vào đây", "tại đây", "ở đây", "đây", "xem thêm", "đọc thêm", "chi tiết", "xem chi tiết",
})


def is_placeholder_host(host: str, allowed: tuple[str, ...] = ()) -> bool:
    """True for example.com/.net/.org, .example, .invalid, .test and localhost names, unless allowed."""
    host = host.lower().rstrip(".")
    if allowed_host(host, allowed):
        return False
    return host in RESERVED_TLDS or host.endswith(tuple(f".{t}" for t in RESERVED_TLDS)) or any(
        host == d or host.endswith(f".{d}") for d in RESERVED_DOMAINS)


def allowed_host(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``host`` is one of ``allowed`` ([check] allow_hosts) or a subdomain of one."""
    return any(host == a.lower() or host.endswith(f".{a.lower()}") for a in allowed)


def url_host(url: str) -> str:
    """The host of a web address, or the domain of a mailto: address ('' when there is none)."""
    if url.lower().startswith("mailto:"):
        return url[7:].split("?", 1)[0].rpartition("@")[2].strip().lower()
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def offline_findings(config: Config, edition: Edition, scan: Scan, sources: Sources) -> list[Finding]:
    """Every rule that needs no network, in the order the report lists them."""
    return [
        *settings_findings(config, sources),
        *init_example_findings(config, edition, sources),
        *placeholder_link_findings(config, edition, scan, sources),
        *footer_findings(config, edition, scan, sources),
        *marker_findings(edition, scan, sources),
        *image_scheme_findings(scan, sources),
        *size_findings(edition),
        *subject_findings(edition, sources),
        *link_text_findings(scan, sources),
        *story_findings(edition),
        *build_warning_findings(edition, sources),
    ]


# -- settings ---------------------------------------------------------------------------------


def settings_findings(config: Config, sources: Sources) -> Iterator[Finding]:
    if config.path is None:
        yield Finding("no-settings", f"No newsletter.toml in {config.root}: every setting is a placeholder default.",
                      Location(config.root / "newsletter.toml"))
    for key in ("email", "reply_to"):
        address = getattr(config.sender, key).strip()
        where = sources.setting("sender", key)
        if not address:  # an empty or invalid address never gets here: load_config refuses it
            continue
        domain = address.rpartition("@")[2]
        placeholder = is_placeholder_host(domain, config.check.allow_hosts)
        if placeholder:
            yield Finding("placeholder-sender", f"[sender] {key} {address} is at {domain}, a placeholder domain.",
                          where)


def init_example_findings(config: Config, edition: Edition, sources: Sources) -> Iterator[Finding]:
    """Example settings and sample articles that `newsletter init` wrote, still in the edition."""
    from newsletter.scaffold import SAMPLE_MARK, example_settings

    examples = example_settings()
    example_name = examples[("publication", "name")]
    for section, key in INIT_EXAMPLE_KEYS:
        value = " ".join(str(getattr(getattr(config, section), key)).split())
        if value and (value == examples[(section, key)] or example_name in value):
            yield Finding("init-example", f"[{section}] {key} is still the example `newsletter init` wrote: "
                          f"“{value}”.", sources.setting(section, key))
    for story in edition.stories:
        file = next((f for f in sources.files if f.path == story.source), None)
        line = next((n for n, text in enumerate(file.lines, 1) if SAMPLE_MARK in text), None) if file else None
        if line is not None:
            yield Finding("init-sample", f"“{story.headline}” is a sample article `newsletter init` wrote.",
                          Location(story.source, line, story=story.id))


def _setting_urls(config: Config, edition: Edition, sources: Sources) -> dict[str, Location]:
    publication, links = config.publication, config.links
    values = [("publication", "url", publication.url), ("publication", "logo", publication.logo),
              ("links", "unsubscribe", links.unsubscribe), ("links", "preferences", links.preferences),
              ("links", "view_online", standalone_links(config, edition.key).view_online)]
    if links.unsubscribe_mailto.strip():
        mailto = links.unsubscribe_mailto.strip()
        values.append(("links", "unsubscribe_mailto", mailto if mailto.startswith("mailto:") else f"mailto:{mailto}"))
    return {url: sources.setting(section, key) for section, key, url in values if url}


def placeholder_link_findings(config: Config, edition: Edition, scan: Scan, sources: Sources) -> Iterator[Finding]:
    """Links, images and footer settings on a placeholder host: one finding per place, listing its addresses."""
    settings = _setting_urls(config, edition, sources)
    by_place: dict[Location, list[str]] = {}
    for url in [*settings, *(u for u, _ in scan.urls())]:
        host = url_host(url)
        if not host or not is_placeholder_host(host, config.check.allow_hosts):
            continue
        where = settings.get(url) or sources.locate_url(url)
        shown_url = url if url in settings else as_written(url, config.tracking)
        if shown_url not in by_place.setdefault(where, []):
            by_place[where].append(shown_url)
    for where, urls in by_place.items():
        hosts = sorted({url_host(u) for u in urls})
        listed = ", ".join(urls[:3]) + (f" and {len(urls) - 3} more" if len(urls) > 3 else "")
        yield Finding("placeholder-link", f"{listed} {'points' if len(urls) == 1 else 'point'} at "
                      f"{', '.join(hosts)}, a placeholder host.", where, url=urls[0])


def footer_findings(config: Config, edition: Edition, scan: Scan, sources: Sources) -> Iterator[Finding]:
    """The postal address and the unsubscribe link, in both parts."""
    from newsletter.scaffold import example_settings

    address = config.publication.postal_address.strip()
    theme = Location(config.templates_dir) if config.templates_dir.is_dir() else Location(edition.folder / HTML_NAME)
    where = sources.setting("publication", "postal_address")
    if not address or address == _DEFAULT_POSTAL or "not configured" in address.lower():
        yield Finding("no-postal-address", "[publication] postal_address is not set.", where)
    elif " ".join(address.split()) == example_settings()[("publication", "postal_address")]:
        yield Finding("no-postal-address", f"[publication] postal_address is still the example `newsletter init` "
                      f"wrote: “{address}”.", where)
    else:
        shown_words = words(address)
        for part, text in (("HTML", scan.html_text), ("plain-text part", scan.text_part)):
            if shown_words not in words(text):
                yield Finding("no-postal-address", f"The {part} does not show the postal address ({address}).",
                              theme, hint="Keep {{ publication.postal_address }} in the footer of your templates.")
    unsubscribe = standalone_links(config, edition.key).unsubscribe
    if not any(anchor.href == unsubscribe for anchor in scan.anchors):
        yield Finding("no-unsubscribe", f"The HTML has no link to {unsubscribe} ([links] unsubscribe).", theme)
    if unsubscribe not in scan.text_urls:
        yield Finding("no-unsubscribe", f"The plain-text part does not give {unsubscribe} ([links] unsubscribe).",
                      Location(edition.folder / TEXT_NAME))


# -- what the reader sees -----------------------------------------------------------------------


def marker_findings(edition: Edition, scan: Scan, sources: Sources) -> Iterator[Finding]:
    """TK, XXX, lorem ipsum and template leftovers that reach the reader, at each source line holding them."""
    seen = f"{scan.visible()}\n{edition.subject}\n{edition.preheader}"
    visible = [m for m in MARKERS if m.pattern.search(seen)]
    if not visible:
        return
    located: set[str] = set()
    for place, line in _source_lines(sources):
        found = [m for m in visible if m.pattern.search(line)
                 and not (m.code == "template-leftover" and place.file is not None and _is_template(place, sources))]
        for code in dict.fromkeys(m.code for m in found):
            located.update(m.name for m in found if m.code == code)
            names = list(dict.fromkeys(_match(m, line) for m in found if m.code == code))
            yield Finding(code, f"{_quote_names(names)} in the text readers see: {_excerpt(line, found[0])}", place)
    for marker in visible:
        if marker.name not in located:
            match = marker.pattern.search(seen)
            assert match is not None
            excerpt = _excerpt(seen[max(0, match.start() - 200):match.end() + 200], marker)
            yield Finding(marker.code, f"{_quote_names([match.group(0)])} in the text readers see: {excerpt}",
                          Location(edition.folder / HTML_NAME),
                          hint="It comes from no article, issue.toml or setting: look in your templates.")


def _is_template(place: Location, sources: Sources) -> bool:
    return any(f.path == place.file and f.kind == "template" for f in sources.files)


def _source_lines(sources: Sources) -> Iterator[tuple[Location, str]]:
    for file in sources.files:
        toml = file.kind in ("manifest", "settings")
        for number, line in enumerate(file.lines, 1):
            text = _strip_toml_comment(line) if toml else line
            if text.strip():
                yield sources.place(file, number), text


def _strip_toml_comment(line: str) -> str:
    """A TOML line without its comment (a # inside a string stays)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:index]
    return line


def _match(marker: Marker, line: str) -> str:
    found = marker.pattern.search(line)
    return " ".join(found.group(0).split()) if found else marker.name


def _quote_names(names: list[str]) -> str:
    return " and ".join(f'"{n}"' for n in names) + (" is" if len(names) == 1 else " are")


def _excerpt(text: str, marker: Marker) -> str:
    match = marker.pattern.search(text)
    flat = " ".join(text.split())
    if match is None:
        return f"“{flat[:80]}”"
    flat_match = marker.pattern.search(flat)
    start, end = (flat_match.start(), flat_match.end()) if flat_match else (0, 0)
    left, right = max(0, start - 35), min(len(flat), end + 35)
    if left:  # whole words only
        left = flat.find(" ", left, start) + 1 or left
    if right < len(flat):
        right = flat.rfind(" ", end, right) if flat.rfind(" ", end, right) > 0 else right
    return f"“{'…' if left else ''}{flat[left:right].strip()}{'…' if right < len(flat) else ''}”"


def image_scheme_findings(scan: Scan, sources: Sources) -> Iterator[Finding]:
    for src in dict.fromkeys(image.src for image in scan.images):
        if not src.lower().startswith("https://"):
            yield Finding("image-not-https", f"Image {src[:120]} is not an https:// address.",
                          sources.locate_url(src), url=src)


def size_findings(edition: Edition) -> Iterator[Finding]:
    size = len(edition.html.encode("utf-8"))
    if size >= GMAIL_CLIP_BYTES - CLIP_MARGIN_BYTES:
        yield Finding("gmail-clip", f"email.html is {size:,} bytes; Gmail clips at about {GMAIL_CLIP_BYTES:,} and "
                      f"this check stops at {GMAIL_CLIP_BYTES - CLIP_MARGIN_BYTES:,}.",
                      Location(edition.folder / HTML_NAME))


def subject_findings(edition: Edition, sources: Sources) -> Iterator[Finding]:
    subject, preheader = edition.subject.strip(), edition.preheader.strip()
    where = sources.manifest_key("subject") or sources.setting("build", "subject")
    if not SUBJECT_MIN <= len(subject) <= SUBJECT_MAX:
        side = "short" if len(subject) < SUBJECT_MIN else "long"
        yield Finding("subject-length", f"The subject is {len(subject)} characters, too {side} "
                      f"(aim for {SUBJECT_MIN} to {SUBJECT_MAX}): “{subject}”.", where)
    where = sources.manifest_key("preheader") or Location(sources.manifest.path)
    if not preheader:
        yield Finding("preheader-missing", "The preheader is empty.", where)
    elif len(preheader) > PREHEADER_MAX:
        yield Finding("preheader-long", f"The preheader is {len(preheader)} characters (at most {PREHEADER_MAX} "
                      "show).", where)


def link_text_findings(scan: Scan, sources: Sources) -> Iterator[Finding]:
    reported: set[tuple[str, Location]] = set()
    for anchor in scan.anchors:
        said = re.sub(r"[^\w\s]", "", anchor.words.lower()).strip()
        said = " ".join(said.split())
        if said not in GENERIC_LINK_WORDS:
            continue
        where = (sources.first(re.compile(r"\[\s*" + re.escape(anchor.words) + r"\s*\]\(", re.IGNORECASE))
                 or sources.first(re.compile(re.escape(anchor.words), re.IGNORECASE),
                                  kinds=("settings", "template"))
                 or Location(sources.manifest.path.parent / HTML_NAME, anchor.line))
        if (said, where) in reported:
            continue
        reported.add((said, where))
        href = as_written(anchor.href, sources.config.tracking)
        yield Finding("link-text-generic", f"A link reads “{anchor.words}” ({href[:100]}).", where, url=href)


def story_findings(edition: Edition) -> Iterator[Finding]:
    for story in edition.stories:
        where = Location(story.source, story=story.id)
        if not story.has_analysis:
            yield Finding("story-no-analysis", f"“{story.headline}” has no analysis.", where)
        if not story.has_impact:
            yield Finding("story-no-impact", f"“{story.headline}” has no reader-impact part.", where)


LEFT_OUT = "is not an absolute https:// URL, so it is left out"  # the build's words (markdown.py, content.py)


def build_warning_findings(edition: Edition, sources: Sources) -> Iterator[Finding]:
    """The build's own warnings, except the missing parts that story_findings already reports."""
    for warning in edition.warnings:
        if "no analysis (" in warning or "no reader-impact section (" in warning:
            continue
        head, sep, rest = warning.partition(": ")
        path = Path(head.rsplit(":", 1)[0]) if sep else None
        root = sources.config.root  # issue.json names files from the workspace's root (absolute: outside it)
        if path is not None and ((root / path).is_file() or path.suffix in (".txt", ".md", ".markdown", ".toml")):
            line = head.rsplit(":", 1)[1] if ":" in head else ""
            # The build leaves a picture that is not https out of the email and warns; the check
            # makes it an error, since the email would go out without a picture the editor meant.
            code = "image-not-https" if rest.startswith("image '") and rest.endswith(LEFT_OUT) else "build-warning"
            file, story = _source_of(path, sources)
            number = int(line) if line.isascii() and line.isdigit() else None
            yield Finding(code, rest, Location(file, number, story=story))
        else:
            yield Finding("build-warning", warning, Location(edition.folder / "issue.json"))


def _source_of(path: Path, sources: Sources) -> tuple[Path, str | None]:
    """The edition's file a warning names, and its story. A warning kept in issue.json names the file
    from the workspace's root (an older build's, as it printed it: relative to the folder it ran in)."""
    named = sources.config.root / path  # ``path`` itself when absolute
    for candidate in (named, path):
        if candidate.exists():
            here = candidate.resolve()
            for file in sources.files:
                if file.path.resolve() == here:
                    return file.path, file.story
    tail = [part for part in path.parts if part not in ("..", ".")]
    for file in sources.files:
        if tail and list(file.path.resolve().parts[-len(tail):]) == tail:
            return file.path, file.story
    return named if named.exists() else path, None
