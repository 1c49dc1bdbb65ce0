"""`newsletter gather` against a real HTTP server on 127.0.0.1: feeds and WordPress in, articles out, then a build.

The site (tests/sites.py) serves what real publications serve (tests/gather_fixtures.py); the
faults are what real networks do: 429 then 200, 500s, a server that never answers, a web page
where the feed should be, a site without the REST API, a body cut off mid-way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.errors import SourceError, SourceErrors
from newsletter.gather import gather
from newsletter.weeks import Selection
from tests import gather_fixtures as fx
from tests.sites import Answer, Site, serve

pytestmark = pytest.mark.server

FEED, ATOM, BUSINESS, API = "/feed/", "/news/feeds/vietnam.atom", "/business/feed/", "/wp/wp-json/wp/v2/posts"
PACT = Path("content/2026/11/2026-11-24-russia-myanmar-defense-pact.md")
GRANTS = Path("content/2026/11/2026-11-25-bolsa-avenue-grants.md")
MEKONG = Path("content/2026/11/2026-11-26-mekong-salinity.md")
H1B = Path("content/2026/11/2026-11-24-h1b-fee-ruling.md")


class Website(Site):
    """The publication's site with its feeds and a WordPress API that pages by two posts."""

    def __init__(self) -> None:
        super().__init__()
        self.posts = fx.wp_posts()
        self.per_page = 2  # the host caps per_page, as some do: three posts come in two pages
        self.routes[API] = self._api

    def _api(self, query: dict[str, list[str]]) -> Answer:
        page = int(query.get("page", ["1"])[0])
        body, headers = fx.wp_page(self.posts, page, self.per_page)
        if page > int(headers["X-WP-TotalPages"]):
            error = {"code": "rest_post_invalid_page_number", "message": "The page number requested is larger "
                     "than the number of pages available.", "data": {"status": 400}}
            return Answer(400, json.dumps(error).encode(), "application/json; charset=UTF-8")
        # WordPress's ETag is not standard; a caching plugin or the CDN adds one, as here.
        tag = f'"{hash(body) & 0xFFFFFFF:x}"'
        return Answer(200, body, "application/json; charset=UTF-8", {**headers, "ETag": tag})


@pytest.fixture
def site() -> Iterator[Website]:
    website = Website()
    with serve(website) as base:
        website.page(FEED, fx.rss_feed(base + FEED), "application/rss+xml; charset=UTF-8", ETag='"feed-v1"')
        website.page(ATOM, fx.atom_feed(), "application/atom+xml",
                     Last_Modified="Sat, 28 Nov 2026 10:00:00 GMT")
        website.page(BUSINESS, fx.entity_feed(), "application/rss+xml")
        yield website


def sources(site: Site, *names: str, **extra: str) -> str:
    tables = {
        "rss": f'type = "feed"\nurl = "{site.url(FEED)}"',
        "atom": f'type = "feed"\nurl = "{site.url(ATOM)}"',
        "business": f'type = "feed"\nurl = "{site.url(BUSINESS)}"\nsection = "business"',
        "wp": f'type = "wordpress"\nurl = "{site.url("/wp")}"',
    }
    chosen = names or tuple(tables)
    return "\n".join(f"[sources.{n}]\n{tables[n]}\n{extra.get(n, '')}\n" for n in chosen)


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def configure(ws: Path, text: str) -> None:
    fx.write_workspace(ws, text)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def front(path: Path) -> dict[str, object]:
    text = path.read_text("utf-8")
    meta = yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n"))
    assert isinstance(meta, dict)
    return meta


def files(ws: Path) -> dict[str, bytes]:
    return {p.relative_to(ws).as_posix(): p.read_bytes() for p in sorted((ws / "content").rglob("*")) if p.is_file()
            and "/http/" not in p.as_posix() and p.name != "lock"}


# --- gather -> build ---------------------------------------------------------------------------


def test_gather_then_build_every_story_has_its_parts(site: Website, ws: Path) -> None:
    configure(ws, sources(site))
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(ws).as_posix() for p in (ws / "content").rglob("*.md"))
    assert written == [
        "content/2026/11/2026-11-23-pho-award.md",
        "content/2026/11/2026-11-24-h1b-fee-ruling.md",
        "content/2026/11/2026-11-24-hanoi-air-quality.md",
        "content/2026/11/2026-11-24-russia-myanmar-defense-pact.md",
        "content/2026/11/2026-11-25-bolsa-avenue-grants.md",
        "content/2026/11/2026-11-26-cable-deal.md",
        "content/2026/11/2026-11-26-mekong-salinity.md",
        "content/2026/11/2026-11-27-remittances-record.md",
        "content/2026/11/2026-11-27-tet-sai-gon.md",
        "content/2026/11/2026-11-29-tet-grand-marshal.md",  # Sunday 23:30 in Los Angeles: this week
    ]
    assert "Gathered: 10 new, 1 skipped." in result.stdout
    # A post with no title is reported by its link and skipped; last week's post is not this week's.
    assert f"skipped {fx.SITE}/2026/11/untitled-draft/: it has no title" in result.stderr
    assert "last-week" not in result.stdout

    built = run("build", "--week", fx.WEEK)
    assert built.exit_code == 0, built.output
    issue = json.loads((ws / "issues" / fx.WEEK / "issue.json").read_text())
    assert len(issue["stories"]) == 10
    assert all(s["has_analysis"] and s["has_impact"] for s in issue["stories"]), issue["stories"]
    html = (ws / "issues" / fx.WEEK / "email.html").read_text()
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs and all(h.startswith(("https://", "mailto:")) for h in hrefs), [h for h in hrefs if "://" not in h]
    assert f"{fx.SITE}/2026/11/junta-seeks-allies/" in html  # a relative link in the RSS post, made absolute
    hanoi = (ws / "content/2026/11/2026-11-24-hanoi-air-quality.md").read_text()
    assert f"[air quality index]({fx.SITE}/news/data/aqi/)" in hanoi  # relative to the Atom entry's xml:base
    assert f"({fx.SITE}/news/2026/11/hanoi-air-quality/haze.jpg)" in hanoi
    images = {p.name: front(p).get("image") for p in (ws / "content").rglob("*.md")}
    uploads = f"{fx.SITE}/wp-content/uploads/2026/11"
    assert images["2026-11-24-russia-myanmar-defense-pact.md"] == f"{uploads}/pact-signing.jpg"
    assert images["2026-11-23-pho-award.md"] == f"{uploads}/pho-1536x1024.jpg"
    assert images["2026-11-25-bolsa-avenue-grants.md"] == f"{uploads}/bolsa.jpg"
    assert all(src.startswith("https://") for src in re.findall(r'<img[^>]* src="([^"]+)"', html))
    bodies = "".join(p.read_text() for p in (ws / "content").rglob("*.md"))
    assert sorted(re.findall(r"!\[[^]]*\]\(([^)]+)\)", bodies)) == [  # pictures in the stories themselves
        f"{fx.SITE}/news/2026/11/hanoi-air-quality/haze.jpg",
        f"{fx.SITE}/wp-content/uploads/2026/11/pact-signing.jpg",
    ]
    assert "pixel.wp.com" not in html and "sharer.php" not in html and "appeared first on" not in html


def test_what_is_kept_from_a_wordpress_rss_post(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "rss"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    meta = front(ws / PACT)
    assert meta == {
        "title": "Russia and Myanmar sign defense pact",
        "date": __import__("datetime").date(2026, 11, 24),
        "url": f"{fx.SITE}/2026/11/russia-myanmar-defense-pact/",
        "section": "world",  # the category "World" is [theme.sections] world
        "author": "Linh Tran",  # dc:creator
        # no summary: the feed's description is only the story's opening cut short
        "image": f"{fx.SITE}/wp-content/uploads/2026/11/pact-signing.jpg",  # media:content
        "image_alt": "Officials shake hands in Naypyidaw",  # the same picture's alt in the post
        "image_width": 1024,  # media:content's width= and height=
        "image_height": 683,
        "tags": ["World", "Myanmar"],
        "source": "rss",
        "source_id": f"{fx.SITE}/?p=101",  # the guid
    }
    body = (ws / PACT).read_text().split("\n---\n", 1)[1]
    assert "\n## Saigon Sentinel Analysis\n" in body and "\n## Impact on Vietnamese Americans\n" in body
    assert "- Training: 300 officers a year\n- Spare parts: five years" in body
    for gone in ("script", "youtube", "Share this", "facebook", "pixel", "appeared first"):
        assert gone not in body
    grants = front(ws / GRANTS)
    assert grants["image"] == f"{fx.SITE}/wp-content/uploads/2026/11/bolsa.jpg"  # an image enclosure
    assert "image_width" not in grants and "image_height" not in grants  # nothing states its size
    assert grants["summary"] == "Supervisors approved grants for shops hurt by road works."  # a real excerpt
    assert grants["section"] == "community"


def test_a_gathered_picture_keeps_its_size_and_alt_text_into_the_email(site: Website, ws: Path) -> None:
    """The post states 1024x683 and the feed's media:content names the full-size file: the email
    shows the picture at the column's width with the post's ratio, and its alt text."""
    configure(ws, sources(site, "rss"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    uploads = f"{fx.SITE}/wp-content/uploads/2026/11"
    assert f"![Officials shake hands in Naypyidaw]({uploads}/pact-signing.jpg){{width=1024 height=683}}" in (
        ws / PACT).read_text()
    built = run("build", "--since", "2026-11-24", "--until", "2026-11-24")  # the pact alone: the lead story
    assert built.exit_code == 0, built.output
    html = next((ws / "issues").glob("*/email.html")).read_text()
    pictures = [tag for tag in re.findall(r"<img\b[^>]*>", html) if "pact-signing.jpg" in tag]
    # The story's picture, sized from media:content; the same picture in its text is not shown again.
    assert len(pictures) == 1 and 'width="552"' in pictures[0] and 'height="368"' in pictures[0], pictures
    text = next((ws / "issues").glob("*/email.txt")).read_text()
    assert text.count("[Officials shake hands in Naypyidaw]") == 1


def test_the_featured_pictures_alt_text_is_found_in_another_of_its_sizes(site: Website, ws: Path) -> None:
    media = f"""
\t\t<media:content url="{fx.SITE}/wp-content/uploads/2026/11/market.jpg" medium="image"/>"""
    html = ('<p>GARDEN GROVE &#8211; A night market.</p><figure><img src="/wp-content/uploads/2026/11/'
            'market-1024x683.jpg" alt="Food stalls under string lights" width="1024" height="683"></figure>'
            "<h2>Analysis</h2><p>Why.</p><h2>Impact</h2><p>Who.</p>")
    item = fx.rss_item("Night market approved", "night-market", "Tue, 24 Nov 2026 18:00:00 +0000", html, guid=120,
                       extra=media)
    site.page(FEED, fx.rss_feed(site.url(FEED), [item]), "application/rss+xml; charset=UTF-8")
    configure(ws, sources(site, "rss"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    meta = front(ws / "content/2026/11/2026-11-24-night-market.md")
    assert meta["image"] == f"{fx.SITE}/wp-content/uploads/2026/11/market.jpg"
    assert meta["image_alt"] == "Food stalls under string lights"


@pytest.mark.parametrize(("extra", "html", "size"), [
    # an image enclosure states no size; the post's own <img> of that same file does
    ('<enclosure url="{up}/market.jpg" length="48213" type="image/jpeg" />',
     '<p><img src="/wp-content/uploads/2026/11/market.jpg" alt="Stalls" width="1200" height="800"></p>', (1200, 800)),
    ('<enclosure url="{up}/market.jpg" length="48213" type="image/jpeg" />',
     '<p><img src="/wp-content/uploads/2026/11/market.jpg" alt="Stalls" style="width: 1200px; height: 800px"></p>',
     (1200, 800)),
    # media:content's own size wins over the <img>'s
    ('<media:content url="{up}/market.jpg" medium="image" width="1600" height="1067"/>',
     '<p><img src="/wp-content/uploads/2026/11/market.jpg" alt="Stalls" width="600" height="400"></p>', (1600, 1067)),
    ('<media:thumbnail url="{up}/market-600x400.jpg" width="600" height="400"/>', "", (600, 400)),
    # another size of the picture says nothing sure about this one (a size may be cropped: 150x150)
    ('<enclosure url="{up}/market.jpg" length="48213" type="image/jpeg" />',
     '<p><img src="/wp-content/uploads/2026/11/market-150x150.jpg" alt="Stalls" width="150" height="150"></p>', None),
    # a size that is not one: left out, never written
    ('<media:content url="{up}/market.jpg" medium="image" width="100%" height="0"/>', "", None),
    ('<media:content url="{up}/market.jpg" medium="image" width="1200"/>', "", (1200, None)),
])
def test_a_feeds_picture_gets_the_size_the_feed_or_the_post_states(
        site: Website, ws: Path, extra: str, html: str, size: tuple[int, int | None] | None) -> None:
    item = fx.rss_item("Night market approved", "night-market", "Tue, 24 Nov 2026 18:00:00 +0000",
                       f"{html}<p>GARDEN GROVE &#8211; A market.</p><h2>Analysis</h2><p>Why.</p>"
                       "<h2>Impact</h2><p>Who.</p>", guid=122,
                       extra="\n\t\t" + extra.format(up=f"{fx.SITE}/wp-content/uploads/2026/11"))
    site.page(FEED, fx.rss_feed(site.url(FEED), [item]), "application/rss+xml; charset=UTF-8")
    configure(ws, sources(site, "rss"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    meta = front(ws / "content/2026/11/2026-11-24-night-market.md")
    assert str(meta["image"]).startswith(f"{fx.SITE}/wp-content/uploads/2026/11/market")
    written = (meta.get("image_width"), meta.get("image_height"))
    assert written == (size or (None, None))


def test_a_feeds_own_campaign_parameters_leave_the_posts_address(site: Website, ws: Path) -> None:
    """Feed plugins tag each post's link (?utm_source=rss...): the article's url is the post's own
    address, so [tracking] can tag the email's links as the newsletter's, not the feed's."""
    tagged = (f"{fx.SITE}/2026/11/night-market/?utm_source=rss&amp;utm_medium=rss"
              "&amp;utm_campaign=night-market")
    item = fx.rss_item("Night market approved", "night-market", "Tue, 24 Nov 2026 18:00:00 +0000",
                       "<p>GARDEN GROVE &#8211; A market.</p><h2>Analysis</h2><p>Why.</p><h2>Impact</h2><p>Who.</p>",
                       guid=121).replace(f"<link>{fx.SITE}/2026/11/night-market/</link>", f"<link>{tagged}</link>")
    site.page(FEED, fx.rss_feed(site.url(FEED), [item]), "application/rss+xml; charset=UTF-8")
    configure(ws, sources(site, "rss") + "\n[tracking]\nenabled = true\n")
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    article = ws / "content/2026/11/2026-11-24-night-market.md"
    assert front(article)["url"] == f"{fx.SITE}/2026/11/night-market/"
    assert run("build", "--week", fx.WEEK).exit_code == 0
    html = (ws / "issues" / fx.WEEK / "email.html").read_text()
    assert "utm_source=rss" not in html and f"{fx.SITE}/2026/11/night-market/?utm_source=newsletter" in html


def test_what_is_kept_from_wordpress_rest_over_two_pages(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "wp"))
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.output
    pages = [r.query["page"] for r in site.hits(API)]
    assert pages == [["1"], ["2"]]
    first = site.hits(API)[0]
    assert first.query["_embed"] == ["1"] and first.query["per_page"] == ["100"]
    assert first.query["after"] == ["2026-11-22T00:00:00"] and first.query["before"] == ["2026-12-01T00:00:00"]
    assert first.headers["user-agent"].startswith("newsletter/") and "saigonsentinel.example" in first.headers[
        "user-agent"]
    meta = front(ws / MEKONG)
    assert meta["author"] == "Linh Tran"
    assert meta["section"] == "vietnam"
    assert meta["tags"] == ["Mekong", "Climate"]  # post_tag terms
    assert meta["image"] == f"{fx.SITE}/wp-content/uploads/2026/11/mekong-1536x1024.jpg"  # >= 1200 px, not 4000
    assert meta["image_alt"] == "Photo for Salt water reaches deeper into the Mekong Delta"
    assert (meta["image_width"], meta["image_height"]) == (1536, 1024)  # that size's own, not the original's
    assert meta["summary"] == "Farmers are planting salt-tolerant rice."
    assert meta["source_id"] == f"{fx.SITE}/?p=503"
    # 2026-11-27T02:00 UTC is the evening of the 26th in Los Angeles.
    assert meta["date"] == __import__("datetime").date(2026, 11, 26)
    h1b = front(ws / H1B)
    assert "summary" not in h1b  # WordPress's automatic excerpt: the opening, cut with [&hellip;]
    assert h1b["section"] == "us"


def _no_sizes(details: dict[str, Any]) -> None:
    del details["sizes"]


def _no_height(details: dict[str, Any]) -> None:
    del details["sizes"]["1536x1536"]["height"]


def _no_details(details: dict[str, Any]) -> None:
    details.clear()


def _odd_original(details: dict[str, Any]) -> None:
    del details["sizes"]
    details.update(width=True, height=25000)  # a boolean is not a width; 25,000 px is no picture's


@pytest.mark.parametrize(("change", "image", "size"), [
    (_no_sizes, "mekong.jpg", (4000, 2667)),  # only the original: media_details' own width and height
    (_no_height, "mekong-1536x1024.jpg", (1536, None)),
    (_no_details, "mekong.jpg", None),
    (_odd_original, "mekong.jpg", None),
])
def test_a_wordpress_featured_picture_gets_the_size_of_the_file_chosen(
        site: Website, ws: Path, change: Callable[[dict[str, Any]], None], image: str,
        size: tuple[int, int | None] | None) -> None:
    post = next(p for p in site.posts if p["slug"] == "mekong-salinity")
    change(post["_embedded"]["wp:featuredmedia"][0]["media_details"])
    configure(ws, sources(site, "wp"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    meta = front(ws / MEKONG)
    assert meta["image"] == f"{fx.SITE}/wp-content/uploads/2026/11/{image}"
    assert (meta.get("image_width"), meta.get("image_height")) == (size or (None, None))


def test_entity_encoded_and_cdata_html(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "business"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    cable = ws / "content/2026/11/2026-11-26-cable-deal.md"
    assert front(cable)["title"] == "AT&T and VNPT sign a <cable> deal"
    body = cable.read_text()
    assert "two carriers agreed to lay a new **undersea cable**." in body.lower()
    assert "Capacity will double by 2028 & prices may fall." in body
    assert "## Analysis" in body and "## Impact on Vietnamese Americans" in body
    record = (ws / "content/2026/11/2026-11-27-remittances-record.md").read_text()
    assert "## Impact on Vietnamese Americans\n\nFees matter more than ever." in record


def test_vietnamese_atom_entry_keeps_its_language(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "atom"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    tet = front(ws / "content/2026/11/2027-11-27-tet-sai-gon.md".replace("2027", "2026"))
    assert tet["lang"] == "vi" and tet["title"] == "Lễ hội Tết ở Sài Gòn"
    assert "lang" not in front(ws / "content/2026/11/2026-11-24-hanoi-air-quality.md")  # en, as the publication


# --- idempotence and the editor's edits -----------------------------------------------------------


def test_gathering_twice_gives_the_same_files_and_asks_only_for_changes(site: Website, ws: Path) -> None:
    configure(ws, sources(site))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    first = files(ws)
    again = run("gather", "--week", fx.WEEK)
    assert again.exit_code == 0, again.output
    assert files(ws) == first
    assert "Gathered: 10 unchanged, 1 skipped." in again.stdout
    feed_requests = site.hits(FEED)
    assert feed_requests[-1].headers.get("if-none-match") == '"feed-v1"'  # answered 304 Not Modified
    assert site.hits(ATOM)[-1].headers.get("if-modified-since") == "Sat, 28 Nov 2026 10:00:00 GMT"
    assert site.hits(API)[-1].headers.get("if-none-match")


def test_an_edited_file_is_kept_and_gather_says_so(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "wp"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    edited = (ws / MEKONG).read_text().replace("The dry season has barely begun.", "The editor's own words.")
    (ws / MEKONG).write_text(edited)
    quiet = run("gather", "--week", fx.WEEK)  # the site has not changed: kept, and nothing to warn about
    assert quiet.exit_code == 0 and not quiet.stderr
    assert f"kept         {MEKONG} (your edits; the post is unchanged on the site)" in quiet.stdout
    assert (ws / MEKONG).read_text() == edited
    site.posts[0]["content"]["rendered"] = site.posts[0]["content"]["rendered"].replace("90 km", "95 km")
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.output
    assert (ws / MEKONG).read_text() == edited
    assert f"kept {MEKONG}: you changed it since it was gathered, and the post has changed on the site" in \
        result.stderr
    assert "Gathered: 2 unchanged, 1 kept." in result.stdout
    # The editor who wants the site's version deletes the file and gathers again.
    (ws / MEKONG).unlink()
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    assert "95 km" in (ws / MEKONG).read_text()
    assert "editor's own words" not in (ws / MEKONG).read_text()


def test_a_post_updated_on_the_site_updates_its_file(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "wp"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    site.posts[1]["title"]["rendered"] = "Court blocks new H-1B fee, for now"
    site.posts[1]["content"]["rendered"] += "<p>An appeal is expected.</p>"
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.output
    assert f"updated      {H1B}" in result.stdout
    assert front(ws / H1B)["title"] == "Court blocks new H-1B fee, for now"
    assert (ws / H1B).read_text().rstrip().endswith("An appeal is expected.")
    assert len(list((ws / "content").rglob("*h1b*"))) == 1  # matched by its source id: never a duplicate


def test_a_gathered_file_made_read_only_is_left_alone(site: Website, ws: Path) -> None:
    """A file without write permission is the editor's way of saying "leave it": gather keeps it
    (mode and words) even though the post changed on the site, and says why."""
    configure(ws, sources(site, "wp"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    before = (ws / H1B).read_bytes()
    (ws / H1B).chmod(0o444)
    site.posts[1]["content"]["rendered"] += "<p>An appeal is expected.</p>"
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.output
    assert (ws / H1B).read_bytes() == before and (ws / H1B).stat().st_mode & 0o777 == 0o444
    assert f"kept {H1B}: it is read-only" in result.stderr
    assert "Gathered: 2 unchanged, 1 kept." in result.stdout


def test_a_post_whose_slug_changed_is_renamed_not_duplicated(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "wp"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    site.posts[1]["slug"] = "h1b-fee-blocked"
    site.posts[1]["link"] = f"{fx.SITE}/2026/11/h1b-fee-blocked/"
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.output
    assert not (ws / H1B).exists()
    assert (ws / "content/2026/11/2026-11-24-h1b-fee-blocked.md").is_file()
    assert f"(was {H1B})" in result.stdout


def test_a_file_the_editor_moved_but_did_not_change_is_updated_where_it_now_is(site: Website, ws: Path) -> None:
    """Moving a gathered file into a folder of one's own is filing it, not editing it: a change on
    the site still reaches it, at its new place, and nothing says the editor changed it."""
    configure(ws, sources(site, "wp"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    moved = ws / "content/2026/11/lead/2026-11-24-h1b-fee-ruling.md"
    moved.parent.mkdir()
    (ws / H1B).rename(moved)
    quiet = run("gather", "--week", fx.WEEK)
    assert quiet.exit_code == 0 and not quiet.stderr, quiet.stderr
    assert "unchanged    content/2026/11/lead/2026-11-24-h1b-fee-ruling.md" in quiet.stdout
    site.posts[1]["content"]["rendered"] += "<p>An appeal is expected.</p>"
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0 and not result.stderr, result.stderr
    assert "updated      content/2026/11/lead/2026-11-24-h1b-fee-ruling.md" in result.stdout
    assert moved.read_text().rstrip().endswith("An appeal is expected.") and not (ws / H1B).exists()
    moved.write_text(moved.read_text().replace("An appeal", "A swift appeal"))  # now the editor's words
    site.posts[1]["content"]["rendered"] += "<p>More.</p>"
    kept = run("gather", "--week", fx.WEEK)
    assert "kept content/2026/11/lead/2026-11-24-h1b-fee-ruling.md: you changed it" in kept.stderr
    assert "A swift appeal" in moved.read_text()


def test_a_file_of_the_same_name_is_never_overwritten(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "wp"))
    (ws / H1B.parent).mkdir(parents=True)
    mine = "Court blocks new H-1B fee\nWASHINGTON – The editor wrote this one by hand.\n"
    (ws / H1B.with_suffix(".txt")).write_text(mine)
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    assert (ws / H1B.with_suffix(".txt")).read_text() == mine
    assert (ws / "content/2026/11/2026-11-24-h1b-fee-ruling-2.md").is_file()


def test_dry_run_lists_and_writes_nothing(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "rss"))
    result = run("gather", "--week", fx.WEEK, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"would write  {PACT}" in result.stdout
    assert "Dry run, nothing written: 3 new, 1 skipped." in result.stdout
    assert not (ws / "content").exists()


# --- choosing sources and posts ---------------------------------------------------------------------


def test_filters_limit_and_section_mapping(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "rss", "wp", rss='exclude_categories = ["myanmar"]\nlang = "en"',
                          wp='include_tags = ["Climate"]\nsections = { "Vietnam" = "mekong-desk" }\nlimit = 1'))
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.output
    assert "rss: 3 posts in range (1 left out by its filters)" in result.stdout
    assert "wp: 1 post in range (2 left out by its filters)" in result.stdout
    assert not (ws / PACT).exists()
    assert front(ws / MEKONG)["section"] == "mekong-desk"
    assert front(ws / GRANTS)["lang"] == "en"


def test_source_option_picks_sources(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "rss", "wp"))
    result = run("gather", "--week", fx.WEEK, "--source", "wp")
    assert result.exit_code == 0, result.output
    assert not site.hits(FEED) and site.hits(API)
    wrong = run("gather", "--source", "wq")
    assert wrong.exit_code == 2
    assert "--source wq: no [sources.wq] in newsletter.toml. Known sources: rss, wp." in wrong.output


def test_no_sources_is_a_clear_error(ws: Path) -> None:
    configure(ws, "")
    result = run("gather")
    assert result.exit_code == 1
    assert "newsletter.toml: no sources to gather from. Add a [sources.<name>] table" in result.output
    assert "Traceback" not in result.output


# --- faults ------------------------------------------------------------------------------------------------


def gather_week(ws: Path, sleeps: list[float] | None = None) -> tuple[list[str], list[str]]:
    out: list[str] = []
    err: list[str] = []
    config = load_config(ws / "newsletter.toml")
    gather(config, Selection(week=fx.WEEK), echo=out.append, warn=err.append,
           sleep=(sleeps.append if sleeps is not None else lambda s: None))
    return out, err


def test_429_then_200_waits_as_asked(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "rss"))
    site.fault(FEED, Answer(429, b"Too many", headers={"Retry-After": "7"}))
    sleeps: list[float] = []
    out, _ = gather_week(ws, sleeps)
    assert sleeps == [7.0]
    assert (ws / PACT).is_file()


@pytest.mark.parametrize("value", ["\u00b2", "\u00b9\u00b2", "in a while", "-5", "1.5",
                                   "Mon, 01 Jan 99999999999 00:00:00 GMT"])  # a date past datetime's range
def test_a_retry_after_that_is_not_a_number_of_seconds_gets_the_usual_back_off(site: Website, ws: Path,
                                                                            value: str) -> None:
    """RFC 9110 10.2.3: delay-seconds is ASCII digits, or an HTTP date; anything else is ignored."""
    configure(ws, sources(site, "rss"))
    site.fault(FEED, Answer(429, b"Too many", headers={"Retry-After": value}))
    sleeps: list[float] = []
    gather_week(ws, sleeps)
    assert sleeps == [1.0]  # the first back-off step
    assert (ws / PACT).is_file()


@pytest.mark.parametrize("pages", ["\u00b2", "two", ""])
def test_a_total_pages_header_that_is_not_a_number_reads_the_first_page(site: Website, ws: Path,
                                                                      pages: str) -> None:
    configure(ws, sources(site, "wp"))
    body, _ = fx.wp_page(site.posts, 1, site.per_page)
    site.fault(API, Answer(200, body, "application/json; charset=UTF-8", {"X-WP-TotalPages": pages}))
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.output
    assert len(site.hits(API)) == 1 and "Gathered: 2 new." in result.stdout


def test_500s_are_retried_with_back_off_then_named(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "wp", "rss"))
    site.fault(API, *[Answer(500, b"<h1>Internal Server Error</h1>")] * 4)
    sleeps: list[float] = []
    with pytest.raises(SourceError) as caught:
        gather_week(ws, sleeps)
    assert sleeps == [1.0, 2.0, 4.0]  # retries = 3, exponential
    message = caught.value.format_message()
    assert re.match(r"newsletter\.toml:\d+: source 'wp': ", message), message
    assert "answered 500 Internal Server Error 4 times in a row" in message and "again later" in message
    assert (ws / PACT).is_file()  # the other source was gathered


def test_a_wait_longer_than_the_bound_is_not_waited_for(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "rss"))
    site.fault(FEED, Answer(503, b"", headers={"Retry-After": "3600"}))
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 1
    assert "asks to wait 3600 s before trying again" in result.stderr


def test_a_server_that_does_not_answer_times_out(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "rss", rss="timeout = 1\nretries = 0"))
    site.fault(FEED, Answer(200, b"", delay=3))
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 1
    assert "source 'rss': " in result.stderr and "did not answer within 1 s" in result.stderr
    assert "Traceback" not in result.output


def test_a_web_page_is_not_a_feed_and_its_feed_is_named(site: Website, ws: Path) -> None:
    page = ('<!doctype html><html><head><title>Saigon Sentinel</title><link rel="alternate" '
            'type="application/rss+xml" title="Feed" href="/feed/"></head><body><p>Home</p></body></html>')
    site.page("/", page, "text/html; charset=UTF-8")
    configure(ws, f'[sources.home]\ntype = "feed"\nurl = "{site.url("/")}"\n')
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 1
    assert f'is not a feed: it is a web page. It names its feed: set url = "{site.url(FEED)}"' in result.stderr


def test_a_site_without_the_rest_api(site: Website, ws: Path) -> None:
    configure(ws, f'[sources.nowp]\ntype = "wordpress"\nurl = "{site.url("/blog")}"\n')
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 1
    assert "has no WordPress REST API" in result.stderr
    assert f'type = "feed" with url = "{site.url("/blog")}/feed/"' in result.stderr
    assert [r.path for r in site.requests] == ["/blog/wp-json/wp/v2/posts", "/blog/"]  # and ?rest_route=


def test_refused_access_is_named(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "wp"))
    error = {"code": "rest_cannot_access", "message": "Only authenticated users can access the REST API.",
             "data": {"status": 401}}
    site.fault(API, Answer(401, json.dumps(error).encode(), "application/json"))
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 1
    assert "refused access (401 Unauthorized: Only authenticated users can access the REST API.)" in result.stderr


def test_a_body_cut_off_leaves_the_gathered_files_whole(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "rss", rss="retries = 1"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    before = files(ws)
    changed = fx.rss_feed(site.url(FEED)).replace("spare parts", "engines").encode()
    site.routes.pop(FEED)
    site.fault(FEED, *[Answer(200, changed, "application/rss+xml", cut_after=len(changed) // 2)] * 2)
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 1
    assert "the connection to 127.0.0.1 dropped before the answer was complete" in result.stderr
    assert "(tried 2 times)" in result.stderr
    assert files(ws) == before


def test_a_feed_cut_off_inside_the_xml_is_not_half_gathered(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "rss"))
    whole = fx.rss_feed(site.url(FEED))
    site.page(FEED, whole[: whole.index("Tet festival")], "application/rss+xml")
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 1
    assert "ends before it is complete" in result.stderr
    assert not (ws / "content").exists() or not list((ws / "content").rglob("*.md"))


@pytest.mark.parametrize(("tail", "content_type"), [
    # WP Super Cache and W3 Total Cache sign the pages they serve after the root element
    ("\n<!-- Dynamic page generated in 0.412 seconds. -->\n<!-- Cached page generated by WP-Super-Cache on "
     "2026-11-28 10:00:00 -->\n", "application/rss+xml; charset=UTF-8"),
    ("<?xml-stylesheet href='/feed.xsl'?>\n", "text/xml"),
    # a server that sends the feed as a web page without a charset (text/* defaults to US-ASCII,
    # so feedparser flags the UTF-8 it finds, and reads it all the same)
    ("", "text/html"),
    ("\n<!-- Served from cache -->", "text/html"),
])
def test_a_whole_feed_with_a_trailer_or_an_odd_type_is_read(site: Website, ws: Path, tail: str,
                                                            content_type: str) -> None:
    configure(ws, sources(site, "rss"))
    whole = fx.rss_feed(site.url(FEED)).replace("Tet festival names", "Tết festival names")  # UTF-8 in the feed
    site.page(FEED, whole + tail, content_type)
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.stderr
    assert (ws / PACT).is_file()
    site.page(FEED, whole[: whole.index("Tết festival")], content_type)  # cut short: still refused
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 1 and "ends before it is complete" in result.stderr


def test_an_answer_over_max_bytes_is_refused(site: Website, ws: Path) -> None:
    items = [fx.rss_item(f"Story {n}", f"story-{n}", "Tue, 24 Nov 2026 17:30:00 +0000", "<p>Words.</p>" * 20,
                         guid=n) for n in range(20)]
    site.page(FEED, fx.rss_feed(site.url(FEED), items), "application/rss+xml")
    configure(ws, sources(site, "rss", rss="max_bytes = 10000"))
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 1
    assert "sends more than 10,000 bytes" in result.stderr and "raise max_bytes" in result.stderr


def test_several_failed_sources_are_listed_together(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "rss", "wp", rss="retries = 0", wp="retries = 0"))
    site.fault(FEED, Answer(500))
    site.fault(API, Answer(403, b"Forbidden", "text/plain"))
    with pytest.raises(SourceErrors) as caught:
        gather_week(ws)
    text = caught.value.format_message()
    assert text.startswith("2 sources could not be read:")
    assert "source 'rss'" in text and "source 'wp'" in text


def test_a_post_without_a_date_or_content_is_skipped_by_its_link(site: Website, ws: Path) -> None:
    items = [
        fx.rss_item("No date", "no-date", "", "<p>Words.</p>", guid=1),
        fx.rss_item("Only an embed", "only-embed", "Tue, 24 Nov 2026 17:30:00 +0000",
                    '<iframe src="https://www.youtube.com/embed/x"></iframe>', guid=2),
        fx.rss_item("Fine", "fine", "Tue, 24 Nov 2026 17:30:00 +0000", "<p>Words.</p>", guid=3),
    ]
    site.page(FEED, fx.rss_feed(site.url(FEED), items), "application/rss+xml")
    configure(ws, sources(site, "rss"))
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.output
    assert f"skipped {fx.SITE}/2026/11/no-date/: it has no date" in result.stderr
    assert f"skipped {fx.SITE}/2026/11/only-embed/: it has no content" in result.stderr
    assert (ws / "content/2026/11/2026-11-24-fine.md").is_file()


# --- less common shapes ----------------------------------------------------------------------------------


def test_a_site_without_pretty_permalinks_answers_at_rest_route(site: Website, ws: Path) -> None:
    def home(query: dict[str, list[str]]) -> Answer:
        if query.get("rest_route") != ["/wp/v2/posts"]:
            return Answer(200, b"<!doctype html><p>Home</p>")
        body, headers = fx.wp_page(fx.wp_posts(), int(query["page"][0]), 100)
        return Answer(200, body, "application/json; charset=UTF-8", headers)

    site.routes["/plain/"] = home
    configure(ws, f'[sources.plain]\ntype = "wordpress"\nurl = "{site.url("/plain")}"\n')
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.output
    assert (ws / MEKONG).is_file() and (ws / H1B).is_file()


def test_a_feed_that_moved_is_followed_and_reported(site: Website, ws: Path) -> None:
    site.routes["/rss"] = Answer(301, b"", headers={"Location": site.url(FEED)})
    configure(ws, f'[sources.moved]\ntype = "feed"\nurl = "{site.url("/rss")}"\n')
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.output
    assert (ws / PACT).is_file()
    assert f"{site.url('/rss')} has moved to {site.url(FEED)}: update url in [sources.moved]" in result.stderr


def test_a_paged_feed_is_followed_until_the_week_is_covered(site: Website, ws: Path) -> None:
    newer = fx.rss_item("Newest", "newest", "Sat, 28 Nov 2026 17:30:00 +0000", "<p>Words.</p>", guid=7)
    older = fx.rss_item("Older", "older", "Mon, 23 Nov 2026 17:30:00 +0000", "<p>Words.</p>", guid=6)
    oldest = fx.rss_item("Oldest", "oldest", "Fri, 20 Nov 2026 17:30:00 +0000", "<p>Words.</p>", guid=5)
    first = fx.rss_feed(site.url("/paged/"), [newer]).replace(
        "<generator>", f'<atom:link rel="next" href="{site.url("/paged/2")}"/>\n\t<generator>')
    second = fx.rss_feed(site.url("/paged/2"), [older, oldest]).replace(
        "<generator>", f'<atom:link rel="next" href="{site.url("/paged/3")}"/>\n\t<generator>')
    site.page("/paged/", first, "application/rss+xml")
    site.page("/paged/2", second, "application/rss+xml")
    configure(ws, f'[sources.paged]\ntype = "feed"\nurl = "{site.url("/paged/")}"\n')
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (ws / "content").rglob("*.md")) == ["2026-11-23-older.md", "2026-11-28-newest.md"]
    assert not site.hits("/paged/3")  # page 2 already reaches back before the week


def test_two_gathers_at_once_do_not_both_write(site: Website, ws: Path) -> None:
    import fcntl

    configure(ws, sources(site, "rss"))
    (ws / "content/.gather").mkdir(parents=True)
    with (ws / "content/.gather/lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 1
    assert "another `newsletter gather` is writing to content" in result.output
    assert not list((ws / "content").rglob("*.md"))


def test_without_the_ledger_files_are_found_by_source_id_and_never_overwritten(site: Website, ws: Path) -> None:
    configure(ws, sources(site, "wp"))
    assert run("gather", "--week", fx.WEEK).exit_code == 0
    (ws / "content/.gather/ledger.json").unlink()  # a clone that did not commit it
    (ws / MEKONG).write_text((ws / MEKONG).read_text().replace("barely begun", "only begun"))
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 0, result.output
    assert "Gathered: 2 unchanged, 1 kept." in result.stdout
    assert f"kept {MEKONG}: it differs from the post on the site and there is no record" in result.stderr
    assert "only begun" in (ws / MEKONG).read_text()
    assert len(list((ws / "content").rglob("*.md"))) == 3
    ledger = json.loads((ws / "content/.gather/ledger.json").read_text())
    assert sorted(e["path"] for e in ledger["posts"].values()) == [
        "2026/11/2026-11-23-pho-award.md", "2026/11/2026-11-24-h1b-fee-ruling.md"]


@pytest.mark.parametrize("url", ["https://editor:s3cret-pass@news.example/feed/", "https://s3cret-pass@news.example/"])
def test_a_password_in_a_sources_address_is_refused_and_never_shown(ws: Path, url: str) -> None:
    """Secrets never belong in newsletter.toml: the address is refused before anything is fetched or
    cached (the download cache is keyed by address), and the message does not repeat it."""
    configure(ws, f'[sources.private]\ntype = "feed"\nurl = "{url}"\n')
    result = run("gather", "--week", fx.WEEK)
    assert result.exit_code == 1
    assert "[sources.private] url holds a user name or password" in result.stderr
    assert re.search(r"newsletter\.toml:\d+:", result.stderr)
    assert "s3cret" not in result.output + result.stderr
    assert not (ws / "content").exists()
