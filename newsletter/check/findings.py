"""What `newsletter check` can find: every kind with its stable code, and the report of one check.

Codes are a contract: ``[check] ignore`` in newsletter.toml and ``--json`` readers use them,
and docs/commands.md documents each one. Errors stop an export; warnings can be silenced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from newsletter.errors import shown

ERROR, WARNING = "error", "warning"


class Kind(Struct, frozen=True):
    """One kind of finding: its code, how bad it is, and what to do about it."""

    code: str
    severity: str  # ERROR or WARNING
    summary: str
    fix: str


KINDS: dict[str, Kind] = {
    kind.code: kind
    for kind in (
        # -- errors: the email must not go out like this ----------------------------------------
        Kind("no-settings", ERROR, "No newsletter.toml: the email would go out with the placeholder defaults.",
             "Create newsletter.toml (`newsletter init`, or copy the sample's) with your publication's name, "
             "sender, postal address and links, or point --config at it."),
        Kind("placeholder-sender", ERROR, "The sender or reply-to address is at a placeholder domain "
             "(example.com, .example, .invalid, .test, localhost).",
             "Set [sender] email (and reply_to) to an address at your own domain."),
        Kind("placeholder-link", ERROR, "A link or image points at a placeholder host "
             "(example.com, .example, .invalid, .test, localhost).",
             "Replace it with the real address. If the host really is yours (a sample or staging domain), "
             "list it in [check] allow_hosts."),
        Kind("no-postal-address", ERROR, "The email shows no postal address; anti-spam laws (CAN-SPAM, CASL) "
             "require one in every commercial email.",
             "Set [publication] postal_address to the publication's mailing address (a PO box is fine), and keep "
             "it in the footer if you changed the templates."),
        Kind("init-example", ERROR, "A setting still holds the example `newsletter init` wrote: the publication's "
             "or the sender's name, or the footer's reason for the email.",
             "Write your publication's own value on the line named (the lines marked CHANGE in newsletter.toml)."),
        Kind("init-sample", ERROR, "A sample article that `newsletter init` wrote is in the edition.",
             "Delete the file, or replace its text with your own story."),
        Kind("no-unsubscribe", ERROR, "The email has no unsubscribe link (or the text part lacks it).",
             "Keep the footer's {{ links.unsubscribe }} link in your templates (email and text), and set "
             "[links] unsubscribe."),
        Kind("editorial-marker", ERROR, "An editorial marker (TK, TKTK, [TK], XXX, lorem ipsum) is in the text "
             "readers see.", "Write the missing text, or delete the marker."),
        Kind("template-leftover", ERROR, "Template or merge-tag syntax ({{ }}, {% %}, *|TAG|*) is in the text "
             "readers see.", "Replace the leftover with the words it stands for."),
        Kind("link-broken", ERROR, "A link answers 404 Not Found or 410 Gone.",
             "Correct the address, or remove the link."),
        Kind("link-unresolvable", ERROR, "A link's host name does not exist (DNS has no such name).",
             "Check the spelling of the domain in the address."),
        Kind("image-broken", ERROR, "An image answers 404 Not Found or 410 Gone: readers see an empty box.",
             "Correct the image address, or remove the image."),
        Kind("image-unresolvable", ERROR, "An image's host name does not exist (DNS has no such name).",
             "Check the spelling of the domain in the image address."),
        Kind("image-not-https", ERROR, "An image is not loaded over https: mail clients block it or warn.",
             "Use the image's https:// address (upload it to an https host if it has none)."),
        Kind("gmail-clip", ERROR, "The HTML is within 8 kB of Gmail's clipping size (about 102 kB); with the "
             "bytes a mailing service adds, Gmail would cut the email off, footer and unsubscribe link included.",
             "Make the issue shorter: fewer stories, lower [theme] max_words_analysis / max_words_impact / "
             "lead_words, or a lighter template."),
        # -- errors of a build that failed: the check could not look at the email at all ----------
        Kind("settings-invalid", ERROR, "newsletter.toml (or an option) cannot be used, so the edition could not "
             "be built.", "Correct the setting on the line named (the message says how), then check again."),
        Kind("article-invalid", ERROR, "An article file cannot be used, so the edition could not be built.",
             "Correct the file at the line named, then check again."),
        Kind("manifest-invalid", ERROR, "The edition's issue.toml cannot be used, so the edition could not be "
             "built.", "Correct issue.toml at the line named (or delete it to have the build propose a new one), "
             "then check again."),
        Kind("no-stories", ERROR, "The edition has no story: no article is dated in the chosen days, or issue.toml "
             "leaves every one out.", "Choose the week the articles are in (the message names it), add articles, "
             "or set include = true on a story in issue.toml."),
        Kind("theme-invalid", ERROR, "A template of the theme is broken, so the edition could not be built.",
             "Correct the template at the line named (`newsletter docs theming` lists what templates can use), "
             "then check again."),
        Kind("build-failed", ERROR, "The edition could not be built (e.g. its folder cannot be written).",
             "Do what the message says, then check again."),
        # -- warnings: worth a look; [check] ignore silences a kind on purpose ---------------------
        Kind("subject-length", WARNING, "The subject is shorter than 10 or longer than 70 characters; phones "
             "show about 35 to 70.", "Edit the subject in issue.toml."),
        Kind("preheader-missing", WARNING, "The email has no preheader, so inboxes show whatever text comes "
             "first.", "Write a preheader in issue.toml: one sentence that adds to the subject."),
        Kind("preheader-long", WARNING, "The preheader is longer than 140 characters; inboxes show at most "
             "about 140.", "Shorten the preheader in issue.toml."),
        Kind("link-redirect", WARNING, "A link redirects; a tracking service or a moved page adds a hop, and a "
             "redirect chain can break.", "Link to the final address shown."),
        Kind("link-unavailable", WARNING, "A link answered 5xx, refused the connection, timed out or refused "
             "automated checks: it may be down only now.",
             "Open it in a browser; if it stays down, change or remove it. Run the check again later."),
        Kind("link-unchecked", WARNING, "Some links were not checked within [check] time_limit.",
             "Run the check again (links already checked are remembered), or raise [check] time_limit."),
        Kind("image-large", WARNING, "An image is larger than 1 MB: slow on phones and costly on data plans.",
             "Resize or compress it (about 1200 px wide is plenty for an email)."),
        Kind("link-text-generic", WARNING, "A link's words say nothing about where it goes (\"click here\", "
             "\"read more\"); screen-reader users hear links out of context.",
             "Make the link's words say where it goes, e.g. \"the county's grant rules\"."),
        Kind("story-no-analysis", WARNING, "A story has no analysis part.",
             "Add the analysis heading and text to the article, or a <stem>.analysis.md file beside it."),
        Kind("story-no-impact", WARNING, "A story has no reader-impact part.",
             "Add the impact heading and text to the article, or a <stem>.impact.md file beside it."),
        Kind("spam-score", WARNING, "SpamAssassin scores the message 3 or more (5 is its usual spam line).",
             "Look at the rules it lists: shouting, money words, image-only content and link text are typical."),
        Kind("build-warning", WARNING, "The build warned about something (an image without alt text, a story "
             "whose file is gone, a url that is not https).", "Do what the warning says, then rebuild."),
    )
}


class Location(Struct, frozen=True):
    """Where a finding is: a file and line, a setting, a story; any of them may be unknown."""

    file: Path | None = None
    line: int | None = None
    setting: str | None = None  # e.g. "[sender] email"
    story: str | None = None  # the story's id, as in issue.toml
    default: bool = False  # the setting is not in newsletter.toml: its default applies

    def describe(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(f"{shown(self.file)}:{self.line}" if self.line else shown(self.file))
        if self.setting:
            parts.append(f"{self.setting} (default)" if self.default else self.setting)
        if self.story and (self.file is None or self.setting):
            parts.append(f"story {self.story}")
        return " ".join(parts) if parts else "the email"

    def to_json(self) -> dict[str, Any]:
        return {"file": shown(self.file) if self.file else None, "line": self.line, "setting": self.setting,
                "story": self.story, "default": self.default}


class Finding(Struct, frozen=True):
    """One problem: its kind, what exactly is wrong, where, and (when it differs from the kind's) what to do."""

    code: str
    message: str
    where: Location = field(default_factory=Location)
    hint: str = ""
    url: str | None = None

    @property
    def kind(self) -> Kind:
        return KINDS[self.code]

    @property
    def severity(self) -> str:
        return self.kind.severity

    @property
    def fix(self) -> str:
        return self.hint or self.kind.fix

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message, "fix": self.fix,
                "where": self.where.describe(), "location": self.where.to_json(), "url": self.url}


class Report(Struct, frozen=True):
    """The findings of one check of one edition, with what was ignored and what could not be checked."""

    key: str
    findings: tuple[Finding, ...]
    ignored: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()  # what was not checked, and why
    links: dict[str, Any] = field(default_factory=dict)  # found, fetched, cached, not_fetched, why_not_fetched

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == WARNING)

    def failed(self, strict: bool = False) -> bool:
        return bool(self.errors or (strict and self.warnings))

    def summary(self) -> str:
        return f"{_count(len(self.errors), 'error')}, {_count(len(self.warnings), 'warning')}"

    def to_json(self, strict: bool = False) -> dict[str, Any]:
        return {
            "issue": self.key, "ok": not self.failed(strict), "strict": strict,
            "errors": [f.to_json() for f in self.errors], "warnings": [f.to_json() for f in self.warnings],
            "ignored": dict(Counter(f.code for f in self.ignored)), "notes": list(self.notes), "links": self.links,
        }

    def lines(self) -> list[str]:
        """The report as the terminal shows it: errors, then warnings, each with where and what to do."""
        out = [f"Checked {self.key}: {self.summary()}."]
        for title, group in (("Errors", self.errors), ("Warnings", self.warnings)):
            if not group:
                continue
            out += ["", f"{title} ({len(group)}):"]
            for index, finding in enumerate(group):
                out.append(f"  {finding.where.describe()}: {finding.message} [{finding.code}]")
                following = group[index + 1] if index + 1 < len(group) else None
                if following is None or (following.code, following.fix) != (finding.code, finding.fix):
                    out.append(f"      {finding.fix}")  # once after a run of the same kind
        if self.ignored:
            counts = Counter(f.code for f in self.ignored)
            ignored = ", ".join(f"{code} ({n})" for code, n in sorted(counts.items()))
            out += ["", f"Ignored by [check] ignore: {ignored}"]
        if "fetched" in self.links:
            links = self.links
            why = "; ".join(f"{n} {reason}" for reason, n in links.get("why_not_fetched", {}).items())
            summary = (f"Links and images: {links['found']} found, {links['fetched']} fetched, {links['cached']} "
                       f"remembered from an earlier check, {links['not_fetched']} not fetched")
            out += ["", summary + (f" ({why})." if why else ".")]
        for note in self.notes:
            out.append(f"Note: {note}")
        return out


def silence(findings: Iterable[Finding], ignore: Iterable[str]) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
    """(kept, ignored): warnings whose code the publication listed in [check] ignore are set aside."""
    codes = set(ignore)
    kept: list[Finding] = []
    ignored: list[Finding] = []
    for finding in findings:
        (ignored if finding.code in codes and finding.severity == WARNING else kept).append(finding)
    return tuple(kept), tuple(ignored)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
