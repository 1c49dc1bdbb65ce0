"""The web archive end to end: three built editions, `newsletter archive`, and what a reader and a feed reader get."""

from __future__ import annotations

import functools
import html
import json
import re
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import urlopen

import feedparser
import html5lib
import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli

BASE = "https://saigonsentinel.example/newsletter/"
WEEKS = ["2026-W48", "2026-W47"]
RANGE = "2026-11-24_2026-11-25"  # a custom range whose lead story has an image
KEYS = ["2026-W48", RANGE, "2026-W47"]  # newest first: by last day, 29, 25 and 22 November
SUBSCRIBE = "https://saigonsentinel.example/newsletter/subscribe"
IMAGE = "https://saigonsentinel.example/media/2026/11/hanoi-haze.jpg"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def build_all() -> None:
    for week in WEEKS:
        result = run("build", "--week", week)
        assert result.exit_code == 0, result.output
    result = run("build", "--since", "2026-11-24", "--until", "2026-11-25")
    assert result.exit_code == 0, result.output


@pytest.fixture
def site(workspace: Path) -> Path:
    build_all()
    result = run("archive")
    assert result.exit_code == 0, result.output + result.stderr
    assert "3 editions, 3 pages written" in result.output
    assert result.stderr == ""  # [archive] url is set in the sample and every edition is current
    return workspace / "site"


class Page(HTMLParser):
    """What the tests read from a page: links, metas, text, lang."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.metas: dict[str, str] = {}
        self.canonical: str | None = None
        self.lang: str | None = None
        self.title = ""
        self._in_title = False
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang")
        if tag in ("a", "link") and "href" in a:
            if tag == "link" and a.get("rel") == "canonical":
                self.canonical = a["href"]
            else:
                self.links.append(a["href"])
        if tag == "img" and "src" in a:
            self.links.append(a["src"])
        if tag == "meta" and "content" in a:
            self.metas[a.get("property") or a.get("name") or a.get("http-equiv", "")] = a["content"]
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        self.text.append(data)


def read(path: Path) -> Page:
    return Page(path.read_text("utf-8"))


def mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


def valid_html(path: Path) -> None:
    """No HTML parse error (WHATWG parsing rules, html5lib in strict mode)."""
    html5lib.HTMLParser(strict=True).parse(path.read_bytes())


def test_the_site_has_every_edition_an_index_a_feed_and_a_sitemap(site: Path, workspace: Path) -> None:
    for key in KEYS:
        page = site / key / "index.html"
        assert page.read_bytes() == (workspace / "issues" / key / "web.html").read_bytes()
        valid_html(page)
    valid_html(site / "index.html")
    index = (site / "index.html").read_text()
    # newest first, each with its number, dates, subject, lead headline and its stories' headlines
    positions = [index.index(f'href="{key}/index.html"') for key in KEYS]
    assert positions == sorted(positions)
    blocks = index.split('<li class="edition">')[1:]
    assert len(blocks) == 3
    for key, block in zip(KEYS, blocks, strict=True):
        data = json.loads((workspace / "issues" / key / "issue.json").read_text())
        text = " ".join(Page(block).text)
        assert f'href="{key}/index.html"' in block
        assert data["subject"] in text and f"Issue {data['number']}" in text
        for story in data["stories"]:
            assert story["headline"] in text
    assert "Nov 23 – 29, 2026" in index and "Nov 24 – 25, 2026" in index
    assert '<p class="lead">New rules cap fees on money transfers to Vietnam</p>' in index
    assert 'lang="vi"' in index  # the Vietnamese story's headline is marked as such
    page = read(site / "index.html")
    assert page.lang == "en" and page.canonical == BASE and SUBSCRIBE in page.links and "feed.xml" in page.links
    sitemap = (site / "sitemap.xml").read_text()
    assert [BASE, *(f"{BASE}{key}/" for key in KEYS)] == re.findall(r"<loc>(.*?)</loc>", sitemap)


def test_the_web_page_is_for_readers_who_are_not_subscribers(site: Path, workspace: Path) -> None:
    page_html = (workspace / "issues" / "2026-W48" / "web.html").read_text()
    email_html = (workspace / "issues" / "2026-W48" / "email.html").read_text()
    page = Page(page_html)
    data = json.loads((workspace / "issues" / "2026-W48" / "issue.json").read_text())
    assert page.lang == "en" and page.title == data["subject"]
    assert page.canonical == f"{BASE}2026-W48/"
    assert page.metas["description"] == data["preheader"]
    assert page.metas["og:title"] == data["subject"] and page.metas["og:description"] == data["preheader"]
    assert page.metas["og:url"] == f"{BASE}2026-W48/" and page.metas["og:type"] == "article"
    assert page.metas["og:site_name"] == "Saigon Sentinel" and page.metas["twitter:card"] == "summary"
    # the same stories in the same theme as the email ...
    for story in data["stories"]:
        assert html.escape(story["headline"], quote=False) in page_html
    assert 'class="tx sep lead"' in page_html and "prefers-color-scheme: dark" in page_html
    # ... without what only a subscriber's copy has
    assert "display:none" not in page_html.replace(" ", "")  # no hidden preheader
    assert "unsubscribe" not in page_html.lower() and "preferences" not in page_html.lower()
    assert "placeholder.invalid" not in page_html and "{{" not in page_html and "*|" not in page_html
    assert "unsubscribe" in email_html.lower()  # (the email keeps them)
    assert SUBSCRIBE in page.links and "../index.html" in page.links and "../feed.xml" in page.links
    assert 'role="main"' in page_html and 'aria-roledescription="email"' not in page_html


def test_open_graph_image_is_the_lead_storys(site: Path) -> None:
    page = read(site / RANGE / "index.html")
    assert page.metas["og:image"] == IMAGE and page.metas["twitter:image"] == IMAGE
    assert page.metas["twitter:card"] == "summary_large_image"
    assert page.metas["og:image:alt"].startswith("The Long Bien bridge")
    # the sample article states its picture's size (image_width, image_height)
    assert (page.metas["og:image:width"], page.metas["og:image:height"]) == ("1600", "1067")
    assert "og:image" not in read(site / "2026-W48" / "index.html").metas  # its lead has no image


def test_the_email_links_to_its_page_in_the_archive(site: Path, workspace: Path) -> None:
    folder = workspace / "issues" / "2026-W48"
    assert f'href="{BASE}2026-W48/"' in (folder / "email.html").read_text()
    assert f"View this email in your browser: {BASE}2026-W48/" in (folder / "email.txt").read_text()
    assert (site / "2026-W48" / "index.html").exists()  # ... which the archive wrote


def test_the_feed_is_valid_atom_with_every_edition(site: Path, workspace: Path) -> None:
    parsed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Saigon Sentinel" and parsed.feed.id and parsed.feed.updated
    assert any(link.rel == "self" and link.href == f"{BASE}feed.xml" for link in parsed.feed.links)
    assert [entry.link for entry in parsed.entries] == [f"{BASE}{key}/" for key in KEYS]
    ids = [entry.id for entry in parsed.entries]
    assert len(set(ids)) == 3 and all(i.startswith("tag:saigonsentinel.example,2026-11-") for i in ids)
    for entry, key in zip(parsed.entries, KEYS, strict=True):
        data = json.loads((workspace / "issues" / key / "issue.json").read_text())
        assert entry.title == data["subject"] and entry.updated_parsed and entry.published_parsed
        assert entry.summary == data["preheader"]
        content = entry.content[0]
        assert content.type == "text/html"
        assert all(html.escape(s["headline"], quote=False) in content.value for s in data["stories"])
        assert "<!--" not in content.value and "<style" not in content.value
        # relative links inside the content resolve against the edition's page (xml:base)
        assert f'href="{BASE}index.html"' in content.value


def test_no_broken_link_served_from_a_sub_path(site: Path, tmp_path: Path) -> None:
    # The site published at http://127.0.0.1:<port>/newsletter/, as on a host that puts it in a sub-path.
    root = tmp_path / "www"
    root.mkdir()
    (root / "newsletter").symlink_to(site, target_is_directory=True)
    handler = functools.partial(QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        start = f"http://127.0.0.1:{server.server_address[1]}/newsletter/"
        seen = crawl(start)
    finally:
        server.shutdown()
        server.server_close()
    pages = {urlsplit(url).path for url in seen}
    assert {"/newsletter/", "/newsletter/feed.xml", "/newsletter/index.html"} <= pages
    assert {f"/newsletter/{key}/index.html" for key in KEYS} <= pages


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


def crawl(start: str) -> set[str]:
    """Every internal URL reachable from ``start``; fails on any that does not answer 200."""
    host = urlsplit(start).netloc
    todo, seen = [start], set()
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        with urlopen(url, timeout=10) as response:  # raises HTTPError for a 404
            assert response.status == 200, url
            body = response.read().decode("utf-8")
        if not (url.endswith("/") or url.endswith(".html")):
            continue
        for link in Page(body).links:
            target = urljoin(url, link).split("#")[0]
            if urlsplit(target).netloc == host:
                todo.append(target)
    return seen


def test_no_broken_link_opened_from_disk(site: Path) -> None:
    for page in [site / "index.html", *(site / key / "index.html" for key in KEYS)]:
        for link in read(page).links:
            if urlsplit(link).scheme:
                # everything else is outside the site: web pages, or an article's mailto:/tel: link
                assert link.startswith(("https://", "mailto:", "tel:")), link
                continue
            assert (page.parent / link).resolve().is_file(), f"{page}: {link}"


def test_a_second_run_rewrites_nothing_and_one_change_rewrites_only_it(site: Path, workspace: Path) -> None:
    before = mtimes(site)
    result = run("archive")
    assert result.exit_code == 0 and "0 pages written, 3 unchanged" in result.output
    assert mtimes(site) == before
    # Rebuilding without a change rewrites the edition's files, not the site's (only the archive's
    # own record of the new web.html's time may change).
    assert run("build", "--week", "2026-W47").exit_code == 0
    assert run("archive").exit_code == 0
    published = {name: time for name, time in mtimes(site).items() if not name.startswith(".")}
    assert published == {name: time for name, time in before.items() if not name.startswith(".")}
    before = mtimes(site)
    # The editor changes one edition's subject and rebuilds it.
    manifest = workspace / "issues" / "2026-W47" / "issue.toml"
    manifest.write_text(re.sub(r'(?m)^subject = ".*"$', 'subject = "A corrected subject"', manifest.read_text()))
    assert run("build", "--week", "2026-W47").exit_code == 0
    result = run("archive")
    assert result.exit_code == 0 and "1 page written, 2 unchanged" in result.output
    after = mtimes(site)
    changed = {name for name in after if after[name] != before.get(name)}
    # (sitemap.xml changes with the edition's lastmod, unless the test ran within the same second)
    assert {"2026-W47/index.html", "index.html", "feed.xml"} <= changed
    assert changed <= {"2026-W47/index.html", "index.html", "feed.xml", "sitemap.xml", ".newsletter-archive.json"}
    assert "A corrected subject" in (site / "index.html").read_text()
    entry = next(e for e in feedparser.parse((site / "feed.xml").read_bytes()).entries if e.link.endswith("W47/"))
    assert entry.title == "A corrected subject" and entry.updated_parsed >= entry.published_parsed


def test_a_page_changed_or_deleted_on_disk_is_written_again(site: Path) -> None:
    page = site / "2026-W48" / "index.html"
    page.write_text("tampered")
    (site / "feed.xml").unlink()
    result = run("archive")
    assert result.exit_code == 0 and "1 page written" in result.output and "feed.xml" in result.output
    assert "tampered" not in page.read_text() and (site / "feed.xml").exists()


def test_an_edition_removed_from_issues_is_taken_down(site: Path, workspace: Path) -> None:
    import shutil

    shutil.rmtree(workspace / "issues" / RANGE)
    result = run("archive")
    assert result.exit_code == 0 and f"removed {RANGE}/" in result.output
    assert not (site / RANGE).exists() and RANGE not in (site / "index.html").read_text()


def test_an_edition_built_before_web_pages_is_named_with_the_command_to_fix_it(site: Path, workspace: Path) -> None:
    (workspace / "issues" / "2026-W47" / "web.html").unlink()
    result = run("archive")
    assert result.exit_code == 0
    assert "issues/2026-W47 has no web.html" in result.stderr and "newsletter build --week 2026-W47" in result.stderr
    assert (site / "2026-W47" / "index.html").exists()  # the page it had stays


def test_out_and_a_site_without_a_public_address(workspace: Path) -> None:
    build_all()
    config = workspace / "newsletter.toml"
    config.write_text(config.read_text().replace('url = "https://saigonsentinel.example/newsletter/"\n', ""))
    assert run("build", "--week", "2026-W48").exit_code == 0
    result = run("archive", "--out", "public")
    assert result.exit_code == 0, result.output
    assert "[archive] url is not set" in result.stderr
    public = workspace / "public"
    assert (public / "index.html").exists() and not (public / "sitemap.xml").exists()
    assert read(public / "2026-W48" / "index.html").canonical is None
    parsed = feedparser.parse((public / "feed.xml").read_bytes())
    assert not parsed.bozo and len(parsed.entries) == 3
    # the email's view-online link is [links] view_online's default again
    assert "https://example.com/newsletter/2026-W48/" in (workspace / "issues" / "2026-W48" / "email.txt").read_text()


def test_feed_entries_limits_the_feed_not_the_index(workspace: Path) -> None:
    build_all()
    config = workspace / "newsletter.toml"
    config.write_text(config.read_text().replace("[archive]\n", "[archive]\nfeed_entries = 2\n"))
    assert run("archive").exit_code == 0
    assert len(feedparser.parse((workspace / "site" / "feed.xml").read_bytes()).entries) == 2
    assert all(f"{key}/index.html" in (workspace / "site" / "index.html").read_text() for key in KEYS)


def test_a_folder_the_archive_did_not_make_is_left_alone(workspace: Path) -> None:
    build_all()
    (workspace / "mine").mkdir()
    (workspace / "mine" / "index.html").write_text("my own page")
    result = run("archive", "--out", "mine")
    assert result.exit_code == 1
    assert "mine is not empty and was not written by `newsletter archive`" in result.stderr
    assert (workspace / "mine" / "index.html").read_text() == "my own page"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('url = "http://insecure.example/"', "[archive] url must be an absolute https:// URL"),
        ("feed_entries = -1", "[archive] feed_entries must be 0"),
        ("colour = 1", "unknown setting 'colour' in [archive]"),
    ],
)
def test_bad_archive_settings_name_the_line(workspace: Path, setting: str, message: str) -> None:
    config = workspace / "newsletter.toml"
    text = config.read_text().replace("[archive]\n", f"[archive]\n{setting}\n").replace(
        'url = "https://saigonsentinel.example/newsletter/"\n', "" if setting.startswith("url") else
        'url = "https://saigonsentinel.example/newsletter/"\n')
    config.write_text(text)
    line = text.splitlines().index(setting) + 1
    result = run("archive")
    assert result.exit_code == 1
    assert f"newsletter.toml:{line}" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_issue_json_is_named_with_what_to_do(site: Path, workspace: Path) -> None:
    (workspace / "issues" / "2026-W47" / "issue.json").write_text("{")
    result = run("archive")
    assert result.exit_code == 1
    assert "issues/2026-W47/issue.json cannot be read" in result.stderr
    assert "newsletter build --week 2026-W47" in result.stderr


def test_archive_without_any_edition_writes_an_empty_site(workspace: Path) -> None:
    result = run("archive")
    assert result.exit_code == 0 and "0 editions" in result.output
    valid_html(workspace / "site" / "index.html")
    assert not feedparser.parse((workspace / "site" / "feed.xml").read_bytes()).bozo


def test_view_online_setting_of_the_services(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.build import build_issue, standalone_links
    from newsletter.config import load_config
    from newsletter.services.base import ExportJob
    from newsletter.services.mailchimp import MailchimpService
    from newsletter.weeks import Selection

    monkeypatch.setenv("NEWSLETTER_MAILCHIMP_API_KEY", "0123456789abcdef-us21")
    monkeypatch.setenv("NEWSLETTER_MAILCHIMP_LIST_ID", "abc123")
    config = load_config(workspace / "newsletter.toml")
    built = build_issue(config, Selection(week="2026-W48"), write=False)

    def payload_html() -> str:
        service = MailchimpService(config)
        job = ExportJob(config, "2026-W48", built.email, standalone_links(config, built.period.key), built.folder)
        return str(service.build_payload(job)["content"]["html"])

    assert f"{BASE}2026-W48/" in payload_html() and "*|ARCHIVE|*" not in payload_html()
    monkeypatch.setenv("NEWSLETTER_MAILCHIMP_VIEW_ONLINE", "service")
    assert "*|ARCHIVE|*" in payload_html() and f"{BASE}2026-W48/" not in payload_html()
    monkeypatch.setenv("NEWSLETTER_MAILCHIMP_VIEW_ONLINE", "elsewhere")
    with pytest.raises(Exception, match='must be "archive" or "service"'):
        payload_html()


def test_view_online_defaults_to_the_archive_page_unless_links_says_otherwise(tmp_path: Path) -> None:
    from newsletter.config import load_config

    path = tmp_path / "newsletter.toml"
    path.write_text('[archive]\nurl = "https://news.example/letters"\n')
    assert load_config(path).links.view_online == "https://news.example/letters/{key}/"
    path.write_text('[archive]\nurl = "https://news.example/letters/"\n[links]\nview_online = "https://elsewhere.example/{key}"\n')
    assert load_config(path).links.view_online == "https://elsewhere.example/{key}"


def test_a_build_that_finishes_while_the_archive_reads_never_leaves_a_stale_page(
        site: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build may switch an edition to its new files between the archive's reads: the page, the
    index and the archive's record all come from one build, and the next run publishes the newer."""
    import newsletter.archive as archive

    manifest = workspace / "issues" / "2026-W47" / "issue.toml"
    manifest.write_text(re.sub(r'(?m)^subject = ".*"$', 'subject = "Subject of the build in use"',
                               manifest.read_text()))
    assert run("build", "--week", "2026-W47").exit_code == 0
    reading = archive._page

    def page_then_rebuild(*args: object) -> bytes | None:
        data = reading(*args)  # type: ignore[arg-type]
        if data is not None and b"Subject of the build in use" in data:
            manifest.write_text(manifest.read_text().replace("Subject of the build in use", "Subject built meanwhile"))
            assert run("build", "--week", "2026-W47").exit_code == 0
        return data

    monkeypatch.setattr(archive, "_page", page_then_rebuild)
    assert run("archive").exit_code == 0
    page, index = (site / "2026-W47" / "index.html").read_text(), (site / "index.html").read_text()
    assert "Subject of the build in use" in page and "Subject of the build in use" in index  # one build's
    monkeypatch.setattr(archive, "_page", reading)
    result = run("archive")
    assert result.exit_code == 0 and "1 page written" in result.output, result.output
    assert "Subject built meanwhile" in (site / "2026-W47" / "index.html").read_text()
    assert "Subject built meanwhile" in (site / "index.html").read_text()


def test_a_page_built_for_another_address_is_named_by_its_path_in_issues(site: Path, workspace: Path) -> None:
    settings = workspace / "newsletter.toml"
    settings.write_text(settings.read_text().replace(BASE, "https://news.example/letters/"))
    result = run("archive")
    assert result.exit_code == 0
    assert ("issues/2026-W47/web.html was built for another [archive] url" in result.stderr
            and "newsletter build --week 2026-W47" in result.stderr), result.stderr
    assert ".builds" not in result.stderr


def test_two_archive_runs_at_once_take_turns(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second `newsletter archive` started while the first writes a new site waits for it, then
    finds the site as the first left it: no false "not written by newsletter archive", no rewrite."""
    import newsletter.archive as archive
    from newsletter.config import load_config

    build_all()
    config = load_config(workspace / "newsletter.toml")
    index = archive._index
    second: dict[str, object] = {}

    def run_second() -> None:
        try:
            second["result"] = archive.build_archive(config)
        except Exception as error:  # noqa: BLE001 (the test reports whatever the second run raised)
            second["error"] = error

    thread = threading.Thread(target=run_second)

    def index_while_another_starts(*args: object) -> bytes:
        if not thread.is_alive() and "result" not in second and "error" not in second:
            thread.start()  # the pages are written, the archive's record not yet
            thread.join(0.5)
        return index(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(archive, "_index", index_while_another_starts)
    first = archive.build_archive(config)
    thread.join(30)
    assert len(first.written) == 6  # three pages, the feed, the sitemap, the index
    assert "error" not in second, second["error"]
    result = second["result"]
    assert isinstance(result, archive.ArchiveResult) and result.written == []
    monkeypatch.setattr(archive, "_index", index)
    assert archive.build_archive(config).written == []
    assert sorted(p.name for p in (workspace / "site").iterdir() if p.name.startswith(".")) == [
        ".newsletter-archive.json", ".newsletter-archive.lock"]
