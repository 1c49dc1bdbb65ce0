"""`newsletter check` through the CLI: every finding made to happen and gone once fixed, links over loopback."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from tests.conftest import SAMPLE_WEEK, need
from tests.linkserver import Site, never_answering, serve_site

WEEK = ["--week", SAMPLE_WEEK]
LEAD = Path("content/2026/11/2026-11-29-remittance-fees.txt")
PACT = Path("content/2026/11/2026-11-24-russia-myanmar-defense-pact.txt")
MANIFEST = Path(f"issues/{SAMPLE_WEEK}/issue.toml")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def check_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = run("check", *WEEK, "--json", *args)
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def codes(report: dict[str, Any]) -> set[str]:
    return {f["code"] for f in report["errors"] + report["warnings"]}


def findings(report: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [f for f in report["errors"] + report["warnings"] if f["code"] == code]


def edit(path: Path | str, old: str, new: str) -> None:
    path = Path(path)
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def article(name: str, body: str, title: str = "Storefront grants reopen for a second round", extra: str = "") -> Path:
    path = Path("content/2026/11") / name
    front = f"title: {title}\nurl: https://saigonsentinel.example/2026/11/{path.stem}/\n{extra}"
    path.write_text(f"---\n{front}---\n\n{body}\n", "utf-8")
    return path


def set_manifest(key: str, value: str) -> None:
    """Rewrite the ``key = "..."`` line at the top of the edition's issue.toml."""
    lines = MANIFEST.read_text("utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{key} = "))
    lines[index] = f"{key} = {json.dumps(value, ensure_ascii=False)}\n"
    MANIFEST.write_text("".join(lines), "utf-8")


THREE_PARTS = """WESTMINSTER – {lede}

## Analysis

The county kept the rules simple this time.

## Impact on Vietnamese Americans

Owners can apply in Vietnamese at the library.
"""


def three_part(name: str, lede: str, **kwargs: str) -> Path:
    return article(name, THREE_PARTS.format(lede=lede), **kwargs)


# -- the sample, and a workspace without settings --------------------------------------------


def test_the_sample_passes_without_fetching_links(workspace: Path) -> None:
    result = run("check", *WEEK, "--no-links")
    assert result.exit_code == 0, result.output
    assert "Checked 2026-W48: 0 errors" in result.stdout
    assert "links and images were not fetched (--no-links)" in result.stdout


def test_the_sample_passes_strictly_without_fetching_links(workspace: Path) -> None:
    """Not a warning either: the sample is what a publication should send (its subject fits a phone)."""
    result = run("check", *WEEK, "--no-links", "--strict")
    assert result.exit_code == 0, result.output
    assert "Checked 2026-W48: 0 errors, 0 warnings." in result.stdout


def test_the_sample_passes_with_links_and_fetches_nothing(workspace: Path) -> None:
    # Every address is on the sample's own host (allow_hosts) or an unsubscribe link: nothing to fetch.
    code, report = check_json()
    assert code == 0 and report["errors"] == []
    assert report["links"]["fetched"] == 0 and report["links"]["not_fetched"] == report["links"]["found"] > 10


def test_no_settings_fails_check_and_export_and_force_exports(workspace: Path) -> None:
    (workspace / "newsletter.toml").unlink()
    checked = run("check", *WEEK, "--no-links")
    assert checked.exit_code == 1
    for code in ("no-settings", "placeholder-sender", "placeholder-link", "no-postal-address"):
        assert f"[{code}]" in checked.stdout, code
    assert "[sender] email (default)" in checked.stdout
    assert "Error: " in checked.stderr and "fix the errors before exporting" in checked.stderr
    folder = workspace / "issues" / SAMPLE_WEEK
    refused = run("export", "--to", "eml", *WEEK)
    assert refused.exit_code == 1 and "nothing was exported" in refused.output and "[no-settings]" in refused.output
    assert not (folder / "message.eml").exists() and not (folder / "exports.json").exists()
    # A dry run sends nothing: it lists the errors and shows what it would do all the same.
    dry = run("export", "--to", "eml", *WEEK, "--dry-run")
    assert dry.exit_code == 0 and "a real export would stop here" in dry.stderr and "[no-settings]" in dry.stderr
    assert "would write" in dry.stdout and not (folder / "message.eml").exists()
    forced = run("export", "--to", "eml", *WEEK, "--force")
    assert forced.exit_code == 0, forced.output
    assert "--force: exporting despite" in forced.stderr
    [entry] = json.loads((folder / "exports.json").read_text())["history"]
    assert entry["forced"] is True and "no-settings" in entry["check_errors"]
    # And the history of a normal export says nothing of the kind.
    shutil.copy(Path(__file__).resolve().parent.parent / "newsletter.toml", workspace / "newsletter.toml")
    assert run("export", "--to", "eml", *WEEK).exit_code == 0
    assert "forced" not in json.loads((folder / "exports.json").read_text())["history"][-1]


# -- each kind: made to happen, then fixed -------------------------------------------------------

Step = Callable[[], Any]


def _templates_footer(change: Callable[[str], str]) -> Step:
    def step() -> None:
        source = Path(__file__).resolve().parent.parent / "templates" / "partials" / "footer.mjml.j2"
        target = Path("templates/partials/footer.mjml.j2")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(change(source.read_text("utf-8")), "utf-8")
    return step


def _remove_templates() -> None:
    shutil.rmtree("templates", ignore_errors=True)


def _many_stories() -> None:
    sentence = "The board heard from dozens of owners who described rising rents and fewer customers. "
    for n in range(20):
        three_part(f"2026-11-27-grants-{n:02d}.md", sentence * 8, title=f"Grant hearing number {n + 1} draws a crowd")


def _no_many_stories() -> None:
    for path in Path("content/2026/11").glob("2026-11-27-grants-*.md"):
        path.unlink()


KINDS: dict[str, tuple[Step, Step, str]] = {
    # code: (make it happen, fix it, where the finding must point)
    "placeholder-sender": (
        lambda: edit("newsletter.toml", 'email = "newsletter@saigonsentinel.example"', 'email = "news@example.com"'),
        lambda: edit("newsletter.toml", 'email = "news@example.com"', 'email = "newsletter@saigonsentinel.example"'),
        "newsletter.toml:15 [sender] email"),
    "placeholder-link": (
        lambda: three_part("2026-11-27-placeholder.md", "Apply on [the county's site](https://grants.example.com/)."),
        lambda: edit("content/2026/11/2026-11-27-placeholder.md", "https://grants.example.com/",
                     "https://saigonsentinel.example/grants/"),
        "content/2026/11/2026-11-27-placeholder.md:6"),
    "no-postal-address": (
        lambda: edit("newsletter.toml", 'postal_address = "9200 Bolsa Ave, Suite 210, Westminster, CA 92683, USA"',
                     'postal_address = ""'),
        lambda: edit("newsletter.toml", 'postal_address = ""',
                     'postal_address = "9200 Bolsa Ave, Suite 210, Westminster, CA 92683, USA"'),
        "newsletter.toml:10 [publication] postal_address"),
    "no-unsubscribe": (
        _templates_footer(lambda text: text.replace('<a href="{{ links.unsubscribe }}">{{ labels.unsubscribe }}</a> · ',
                                                    "")),
        _remove_templates, "templates"),
    "editorial-marker": (
        lambda: edit(PACT, "officials in both capitals said", "officials in both capitals said TK"),
        lambda: edit(PACT, "officials in both capitals said TK", "officials in both capitals said"),
        f"{PACT}:2"),
    "template-leftover": (
        lambda: edit(PACT, "officials in both capitals said", "{{ first_name }}, officials in both capitals said"),
        lambda: edit(PACT, "{{ first_name }}, officials", "officials"),
        f"{PACT}:2"),
    "image-not-https": (
        lambda: three_part("2026-11-27-chart.md", "The money went here. ![Grant chart](http://saigonsentinel.example/chart.png)"),
        lambda: edit("content/2026/11/2026-11-27-chart.md", "http://saigonsentinel", "https://saigonsentinel"),
        "content/2026/11/2026-11-27-chart.md:6"),
    "gmail-clip": (_many_stories, _no_many_stories, f"issues/{SAMPLE_WEEK}/email.html"),
    "subject-length": (
        lambda: set_manifest("subject", "Week 48"),
        lambda: set_manifest("subject", "New rules on money transfers, and a new home for the Tết fair"),
        f"{MANIFEST}:5"),
    "preheader-missing": (
        lambda: set_manifest("preheader", ""),
        lambda: set_manifest("preheader", "Money transfers get cheaper to compare; the Tết fair moves."),
        f"{MANIFEST}:6"),
    "preheader-long": (
        lambda: set_manifest("preheader", "Long preheader words. " * 8),
        lambda: set_manifest("preheader", "Money transfers get cheaper to compare; the Tết fair moves."),
        f"{MANIFEST}:6"),
    "link-text-generic": (
        lambda: three_part("2026-11-27-generic.md", "The rules are [here](https://saigonsentinel.example/rules/)."),
        lambda: edit("content/2026/11/2026-11-27-generic.md", "[here]", "[in the county's grant rules]"),
        "content/2026/11/2026-11-27-generic.md:6"),
    "story-no-analysis": (
        lambda: edit(PACT, "Saigon Sentinel Analysis\n", ""),
        lambda: edit(PACT, "Impact on Vietnamese Americans", "Saigon Sentinel Analysis\nMore soon.\n"
                     "Impact on Vietnamese Americans"),
        str(PACT)),
    "story-no-impact": (
        lambda: edit(PACT, "Impact on Vietnamese Americans\n", ""),
        lambda: edit(PACT, "the fighting intensifies.", "the fighting intensifies.\nImpact on Vietnamese Americans\n"
                     "Families should follow the news."),
        str(PACT)),
    "build-warning": (  # here: a picture without a description
        lambda: three_part("2026-11-27-photo.md", "A photo.", extra="image: https://saigonsentinel.example/p.jpg\n"),
        lambda: edit("content/2026/11/2026-11-27-photo.md", "p.jpg\n",
                     "p.jpg\nimage_alt: Owners line up at the county hearing\n"),
        "content/2026/11/2026-11-27-photo.md"),
}


def test_addresses_inside_code_are_text_not_links(workspace: Path) -> None:
    """A code sample's example.org is what it should be; the check neither refuses nor fetches it."""
    three_part("2026-11-27-api.md", "The county's data portal answers `https://example.net/v1/permits` and\n\n"
               "```\ncurl 'https://api.example.org/v1/grants?county=orange&lang=vi'\n```\n\nfor [its grants]"
               "(https://saigonsentinel.example/grants/).")
    edit("newsletter.toml", "[theme]\n", "[theme]\nlead_words = 0\n")
    set_manifest("preheader", "Money transfers get cheaper to compare; the Tết fair moves.")
    edit(MANIFEST, 'id = "2026/11/2026-11-29-remittance-fees"', 'id = "2026/11/2026-11-27-api"\ninclude = true\n\n'
         '[[stories]]\nid = "2026/11/2026-11-29-remittance-fees"')
    code, report = check_json("--no-links")
    html = (workspace / "issues" / SAMPLE_WEEK / "email.html").read_text("utf-8")
    assert "api.example.org/v1/grants" in html and "example.net/v1/permits" in html  # shown, as code
    assert code == 0 and "placeholder-link" not in codes(report), report["errors"]


@pytest.mark.parametrize("code", sorted(KINDS))
def test_each_kind_happens_and_goes_away_once_fixed(workspace: Path, code: str) -> None:
    cause, fix, where = KINDS[code]
    cause()
    status, report = check_json("--no-links")
    found = findings(report, code)
    assert found, f"{code} not found in {codes(report)}"
    assert any(f["where"].startswith(where) for f in found), [f["where"] for f in found]
    assert all(f["fix"] and f["message"] for f in found)
    if found[0]["severity"] == "error":
        assert status == 1 and report["ok"] is False
    fix()
    _, after = check_json("--no-links")
    assert code not in codes(after), findings(after, code)


def test_markers_are_case_and_word_aware(workspace: Path) -> None:
    lede = "TKO wins by a knockout in the tkd final; XX marks the spot on the 2XXX map."
    three_part("2026-11-27-words.md", lede)
    _, report = check_json("--no-links")
    assert "editorial-marker" not in codes(report), findings(report, "editorial-marker")
    for marker in ("[TK]", "TKTK", "[tk]", "XXX", "Lorem Ipsum dolor"):
        edit("content/2026/11/2026-11-27-words.md", "TKO wins", f"{marker} TKO wins")
        _, report = check_json("--no-links")
        [found] = findings(report, "editorial-marker")
        assert found["where"] == "content/2026/11/2026-11-27-words.md:6", found
        edit("content/2026/11/2026-11-27-words.md", f"{marker} TKO wins", "TKO wins")


def test_a_marker_in_the_subject_points_at_issue_toml(workspace: Path) -> None:
    edit(MANIFEST, 'subject = "New rules', 'subject = "TK: New rules')
    _, report = check_json("--no-links")
    [found] = findings(report, "editorial-marker")
    assert found["where"] == f"{MANIFEST}:5"


def test_a_postal_address_the_templates_leave_out(workspace: Path) -> None:
    _templates_footer(lambda text: text.replace(" · {{ publication.postal_address }}", ""))()
    _, report = check_json("--no-links")
    assert {f["where"] for f in findings(report, "no-postal-address")} == {"templates"}


@pytest.mark.spamassassin
@pytest.mark.timeout(180)
def test_spam_score(workspace: Path) -> None:
    need(shutil.which("spamassassin") is not None, "spamassassin is not installed (apt install spamassassin)")
    _, clean = check_json("--no-links")
    assert "spam-score" not in codes(clean) and not any("spam" in note for note in clean["notes"])
    spam = ("FREE CASH!!! 100% GUARANTEED - ACT NOW to claim your prize. Viagra and cialis, lose weight fast, "
            "100% free, risk free, no credit check, double your income, earn $$$ from home!!!")
    offer = three_part("2026-11-27-offer.md", spam, title="FREE CASH 100% GUARANTEED WINNER")
    _, report = check_json("--no-links")
    [found] = findings(report, "spam-score")
    assert "GUARANTEED_100_PERCENT" in found["message"]
    offer.write_text(offer.read_text().replace(spam, "The county reopened its storefront grants on Monday."))
    _, fixed = check_json("--no-links")
    assert "spam-score" not in codes(fixed)


def test_spam_score_is_skipped_with_a_note_when_switched_off(workspace: Path) -> None:
    _, report = check_json("--no-links")
    assert any("spam score was not checked" in note for note in report["notes"])


# -- silencing, strictness, settings ----------------------------------------------------------


def test_strict_fails_on_a_warning_and_ignore_silences_it(workspace: Path) -> None:
    set_manifest("subject", "New rules on remittances to Vietnam, and the Tết fair moves to Mile Square Park")
    assert run("check", *WEEK, "--no-links").exit_code == 0
    strict = run("check", *WEEK, "--no-links", "--strict")
    assert strict.exit_code == 1 and "[subject-length]" in strict.stdout and "--strict" in strict.stderr
    edit("newsletter.toml", "[check]\n", '[check]\nignore = ["subject-length"]\n')
    quiet = run("check", *WEEK, "--no-links", "--strict")
    assert quiet.exit_code == 0, quiet.output
    assert "Ignored by [check] ignore: subject-length (1)" in quiet.stdout
    _, report = check_json("--no-links", "--strict")
    assert report["ignored"] == {"subject-length": 1} and report["ok"] is True


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('ignore = ["subject-lenght"]',
         "newsletter.toml:{line}: [check] ignore: unknown finding code 'subject-lenght'"),
        ('ignore = ["no-unsubscribe"]', "'no-unsubscribe' is an error, and errors cannot be ignored"),
        ('allow_hosts = ["https://saigonsentinel.example/"]', "is not a host name"),
        ("timeout = 0", "[check] timeout must be a number of seconds above 0"),
    ],
)
def test_check_settings_mistakes_are_config_errors(workspace: Path, setting: str, message: str) -> None:
    lines = (workspace / "newsletter.toml").read_text("utf-8").splitlines()
    message = message.format(line=lines.index('allow_hosts = ["saigonsentinel.example"]') + 1)
    edit("newsletter.toml", 'allow_hosts = ["saigonsentinel.example"]\n', f"{setting}\n")
    result = run("check", *WEEK, "--no-links")
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_json_shape(workspace: Path) -> None:
    edit(PACT, "officials in both capitals said", "officials said TK")
    status, report = check_json("--no-links")
    assert status == 1
    assert set(report) == {"issue", "ok", "strict", "errors", "warnings", "ignored", "notes", "links"}
    [error] = report["errors"]
    assert error["severity"] == "error" and error["code"] == "editorial-marker"
    assert error["location"] == {"file": str(PACT), "line": 2, "setting": None, "story": PACT.with_suffix("").
                                 relative_to("content").as_posix(), "default": False}


# -- building first ------------------------------------------------------------------------------


def test_builds_when_missing_and_rebuilds_only_when_a_source_changed(workspace: Path) -> None:
    first = run("check", *WEEK, "--no-links")
    assert "Built issues/2026-W48" in first.stderr
    html = workspace / "issues" / SAMPLE_WEEK / "email.html"
    built = html.stat().st_mtime_ns
    again = run("check", *WEEK, "--no-links")
    assert again.stderr == "" and html.stat().st_mtime_ns == built  # fresh: checked as built
    time.sleep(0.01)
    edit(LEAD, "Federal regulators", "U.S. regulators")
    changed = run("check", *WEEK, "--no-links")
    assert f"Rebuilding {SAMPLE_WEEK}: changed since its last build: {LEAD}" in changed.stderr
    assert "U.S. regulators" in html.read_text("utf-8")


def test_a_new_article_and_a_companion_count_as_changes(workspace: Path) -> None:
    run("check", *WEEK, "--no-links")
    time.sleep(0.01)
    companion = Path("content/2026/11/2026-11-24-russia-myanmar-defense-pact.impact.md")
    companion.write_text("More on the pact's impact.\n", "utf-8")
    new = three_part("2026-11-26-new-story.md", "A new story arrives.")
    result = run("check", *WEEK, "--no-links")
    assert str(companion) in result.stderr and str(new) in result.stderr


def test_the_builds_warnings_are_named_from_wherever_the_check_runs(workspace: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """issue.json names the build's warnings' files from the workspace's root: the check finds them from any folder."""
    path = three_part("2026-11-27-refused.md", "Open [the form](javascript:alert(1)).")
    assert run("build", *WEEK).exit_code == 0  # from the workspace's root
    monkeypatch.chdir(workspace / "content" / "2026")
    _, report = check_json("--no-links")
    [finding] = [f for f in report["warnings"] if f["code"] == "build-warning"]
    assert finding["where"] == "11/2026-11-27-refused.md:6" and finding["location"]["story"] == f"2026/11/{path.stem}"


def test_export_names_the_changes_it_rebuilds_for(workspace: Path) -> None:
    assert run("export", "--to", "eml", *WEEK).exit_code == 0
    time.sleep(0.01)
    edit(MANIFEST, "New rules on remittances to Vietnam, and a new home", "Remittances, and a new home")
    result = run("export", "--to", "eml", *WEEK)
    assert result.exit_code == 0, result.output
    assert f"Rebuilding {SAMPLE_WEEK}: changed since its last build: {MANIFEST}." in result.stderr
    assert result.output.index("Rebuilding") < result.output.index("Wrote")


# -- links over loopback ----------------------------------------------------------------------------


LINKS_ARTICLE = """WESTMINSTER – Owners read [the report]({base}/ok), [the moved page]({base}/moved), \
[the missing page]({base}/missing), [the removed page]({base}/gone), [the failing page]({base}/error), \
[the slow page]({base}/slow) and [the silent page]({never}/page). \
They can [stop these emails]({base}/unsubscribe?u=42), \
[set their preferences]({base}/newsletter/preferences), [open a tracked page]({base}/track?e=*|EMAIL|*), \
[write to the desk](mailto:desk@saigonsentinel.example) or [call](tel:+17145550100). \
![A missing chart]({base}/missing.png) ![A heavy photo]({base}/big.jpg)

## Analysis

The county kept the rules simple.

## Impact on Vietnamese Americans

Owners can apply in Vietnamese.
"""


@pytest.mark.server
@pytest.mark.timeout(120)
def test_links_of_every_kind(workspace: Path) -> None:
    site = Site(slow=3.0)
    edit("newsletter.toml", "[check]\n", "[check]\ntimeout = 1\n")
    with serve_site(site) as base, never_answering() as never:
        path = article("2026-11-27-links.md", LINKS_ARTICLE.format(base=base, never=never))
        started = time.monotonic()
        status, report = check_json()
        elapsed = time.monotonic() - started
        requested = site.paths()
    by_url: dict[str, list[str]] = {}
    for finding in report["errors"] + report["warnings"]:
        if finding["url"]:
            by_url.setdefault(finding["url"].removeprefix(base).removeprefix(never), []).append(finding["code"])
            if finding["code"].startswith(("link-", "image-")):
                assert finding["where"] == f"{path}:6", finding
    assert status == 1
    assert "/ok" not in by_url
    assert by_url["/moved"] == ["link-redirect"]
    assert by_url["/missing"] == ["link-broken"] and by_url["/gone"] == ["link-broken"]
    assert by_url["/error"] == ["link-unavailable"] and by_url["/slow"] == ["link-unavailable"]
    assert by_url["/page"] == ["link-unavailable"]
    assert by_url["/missing.png"] == ["image-broken"]
    assert by_url["/big.jpg"] == ["image-large"]
    redirect = findings(report, "link-redirect")[0]
    assert redirect["fix"] == f"Link to {base}/ok instead."
    # Never fetched: unsubscribe, preferences and merge-tag links (opening one can unsubscribe a reader).
    assert not [p for p in requested if "unsubscribe" in p or "preferences" in p or "track" in p], requested
    assert report["links"]["not_fetched"] > 0 and report["links"]["fetched"] >= 9
    assert elapsed < 60  # bounded by the 1 s timeout, never by the slow server (generous: busy machines)


@pytest.mark.server
def test_with_tracking_on_link_findings_name_the_articles_address_and_line(workspace: Path) -> None:
    """The build adds utm_* parameters; the editor wrote, and must fix, the address without them."""
    site = Site()
    edit("newsletter.toml", "[check]\n", "[tracking]\nenabled = true\n\n[check]\n")
    with serve_site(site) as base:
        path = three_part("2026-11-27-tracked.md", f"See [the old page]({base}/missing) and [the page]({base}/moved).")
        set_manifest("intro", f"This week: [the moved page]({base}/moved).")
        _, report = check_json()
        assert any("utm_source=" in p for p in site.paths())  # what readers click is what is fetched
    broken = findings(report, "link-broken")
    assert [(f["where"], f["message"]) for f in broken] == [
        (f"{path}:6", f"Link {base}/missing answers 404 Not Found.")]
    # one address written twice (its copies differ in utm_content) is one finding, where it is first written
    [redirect] = findings(report, "link-redirect")
    assert redirect["where"] == f"{path}:6" and redirect["fix"] == f"Link to {base}/ok instead."
    assert all("utm_" not in f["message"] for f in report["errors"] + report["warnings"])


@pytest.mark.server
def test_a_link_is_located_at_its_own_line_not_where_a_longer_address_starts_like_it(workspace: Path) -> None:
    site = Site()
    with serve_site(site) as base:
        path = three_part("2026-11-27-two-links.md", f"Read [the guide]({base}/missing/guide/) first,\n"
                          f"then [the list]({base}/missing).")
        _, report = check_json()
    broken = {f["url"]: f["where"] for f in findings(report, "link-broken")}
    assert broken == {f"{base}/missing/guide/": f"{path}:6", f"{base}/missing": f"{path}:7"}


@pytest.mark.server
def test_a_second_check_asks_only_about_what_did_not_work(workspace: Path) -> None:
    site = Site()
    with serve_site(site) as base:
        three_part("2026-11-27-two.md", f"See [the report]({base}/ok), [the page]({base}/moved) and "
                   f"[the old page]({base}/missing).")
        _, first = check_json()
        asked = len(site.requests)
        _, second = check_json()
        again = site.paths()[asked:]
    assert codes(first) == codes(second) and {"link-redirect", "link-broken"} <= codes(first)
    assert again and all(path == "/missing" for path in again), again
    assert second["links"]["cached"] == 2


@pytest.mark.server
def test_link_findings_go_away_once_the_links_are_fixed(workspace: Path) -> None:
    site = Site()
    edit("newsletter.toml", "[check]\n", "[check]\ntimeout = 2\n")
    with serve_site(site) as base:
        path = three_part("2026-11-27-fixes.md", f"See [the report]({base}/missing), [the page]({base}/moved), "
                          f"[the data]({base}/error) and ![a chart]({base}/nothing.png) ![a photo]({base}/big.jpg)")
        _, broken = check_json()
        assert {"link-broken", "link-redirect", "link-unavailable", "image-broken", "image-large"} <= codes(broken)
        for old, new in (("/missing", "/ok?1"), ("/moved", "/ok?2"), ("/error", "/ok?3"),
                         ("/nothing.png", "/small.png"), ("/big.jpg", "/small.png?2")):
            edit(path, f"{base}{old}", f"{base}{new}")
        _, fixed = check_json()
    assert not {"link-broken", "link-redirect", "link-unavailable", "image-broken", "image-large"} & codes(fixed), (
        fixed["errors"] + fixed["warnings"])


@pytest.mark.server
def test_hosts_that_do_not_exist_are_errors_where_the_address_is_written(workspace: Path) -> None:
    from newsletter.check.inputs import Sources, StoryRef
    from newsletter.check.linkcheck import LinkChecker, user_agent
    from newsletter.check.runner import finding_for
    from newsletter.config import load_config

    path = three_part("2026-11-27-typo.md", "See [the report](https://reports.no-such-site.invalid/2026) and "
                      "![a chart](https://img.no-such-site.invalid/chart.png)")
    config = load_config()
    story = StoryRef("2026/11/2026-11-27-typo", "Typo", "https://saigonsentinel.example/x/", path.resolve(), True, True)
    sources = Sources(config, workspace / "issues" / SAMPLE_WEEK, [story])
    checker = LinkChecker(user_agent=user_agent(), timeout=5)
    targets = [("https://reports.no-such-site.invalid/2026", "link"), ("https://img.no-such-site.invalid/chart.png",
                                                                       "image")]
    found = [finding_for(result, sources) for result in checker.check(targets)]
    assert [f.code if f else None for f in found] == ["link-unresolvable", "image-unresolvable"]
    assert all(f and f.where.describe() == f"{path}:6" for f in found)
    with serve_site(Site()) as base:  # the addresses corrected
        fixed = checker.check([(f"{base}/ok", "link"), (f"{base}/small.png", "image")])
    assert [finding_for(result, sources) for result in fixed] == [None, None]


@pytest.mark.server
def test_export_checks_links_unless_told_not_to(workspace: Path) -> None:
    site = Site()
    with serve_site(site) as base:
        three_part("2026-11-27-dead.md", f"See [the old page]({base}/missing).")
        refused = run("export", "--to", "eml", *WEEK)
        assert refused.exit_code == 1 and "[link-broken]" in refused.output, refused.output
        asked = len(site.requests)
        offline = run("export", "--to", "eml", *WEEK, "--no-links")
        assert offline.exit_code == 0, offline.output
        assert len(site.requests) == asked


@pytest.mark.server
def test_running_out_of_time_is_a_warning(workspace: Path) -> None:
    edit("newsletter.toml", "[check]\n", "[check]\ntimeout = 5\ntime_limit = 1\n")
    site = Site(slow=3.0)
    with serve_site(site) as base:
        three_part("2026-11-27-slow.md", f"See [the slow page]({base}/slow).")
        _, report = check_json()
        [found] = findings(report, "link-unchecked")
        assert "not checked within 1 s" in found["message"]
        edit("newsletter.toml", "time_limit = 1\n", "time_limit = 30\n")  # the fix: more time
        site.slow = 0.5
        _, fixed = check_json()
    assert "link-unchecked" not in codes(fixed)


def test_dry_run_export_writes_no_link_cache(workspace: Path) -> None:
    before = sorted(p.relative_to(workspace) for p in workspace.rglob("*"))
    assert run("export", "--to", "eml", *WEEK, "--dry-run").exit_code == 0
    assert sorted(p.relative_to(workspace) for p in workspace.rglob("*")) == before


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_goes_to_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.check.runner import terminal_progress

    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert terminal_progress() is None  # a pipe or a log file gets no progress line
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    show = terminal_progress()
    assert show is not None
    show(1, 3)
    show(3, 3)
    assert terminal.getvalue() == "\rChecking links and images: 1/3\033[K\r\033[K"  # the line is cleared at the end


def test_every_finding_is_documented() -> None:
    from newsletter.check.findings import KINDS
    from tests.conftest import ROOT

    docs = (ROOT / "docs" / "commands.md").read_text("utf-8")
    for code in KINDS:
        assert f"| `{code}` |" in docs, f"{code} is missing from docs/commands.md"


def test_a_deleted_or_copied_template_counts_as_a_change(workspace: Path) -> None:
    run("check", *WEEK, "--no-links")
    footer = Path("templates/partials/footer.mjml.j2")
    footer.parent.mkdir(parents=True)
    shutil.copy2(Path(__file__).resolve().parent.parent / "templates" / "partials" / "footer.mjml.j2", footer)
    os.utime(footer, (0, 0))  # copied with an old time: still a change
    assert str(footer) in run("check", *WEEK, "--no-links").stderr
    assert run("check", *WEEK, "--no-links").stderr == ""
    shutil.rmtree("templates")
    assert f"{footer} (deleted)" in run("check", *WEEK, "--no-links").stderr


@pytest.mark.parametrize(
    ("url", "acts"),
    [
        ("https://paper.example/newsletter/unsubscribe", True),
        ("https://paper.example/u/?action=unsubscribe&id=9", True),
        ("https://lists.paper.example/unsub.php?e=1", True),
        ("https://paper.example/email-preferences/", True),
        ("https://paper.example/account/Preferences?x=1", True),
        ("https://paper.us21.list-manage.com/profile?u=1", True),
        ("https://paper.example/opt-out", True),
        ("https://paper.example/2026/11/voter-preferences-shift/", False),
        ("https://paper.example/2026/11/subscription-boxes-boom/", False),
        ("https://paper.example/2026/11/remittance-fees/", False),
    ],
)
def test_which_links_are_never_fetched(url: str, acts: bool) -> None:
    from newsletter.links import acts_on_subscription

    assert acts_on_subscription(url) is acts
