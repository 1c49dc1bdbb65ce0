"""Campaign tracking: which links get UTM parameters, how they are appended, and [tracking] settings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.errors import ConfigError
from newsletter.tracking import Tracker, add_utm, remove_utm, slug, trackable, tracker
from tests.conftest import SAMPLE_WEEK

PARAMS = [("utm_source", "newsletter"), ("utm_medium", "email"), ("utm_campaign", "saigon-sentinel-2026-W48")]
TAIL = "utm_source=newsletter&utm_medium=email&utm_campaign=saigon-sentinel-2026-W48"


@pytest.mark.parametrize(("url", "expected"), [
    # plain links, with and without a path or a query
    ("https://sentinel.example", f"https://sentinel.example?{TAIL}"),
    ("https://sentinel.example/", f"https://sentinel.example/?{TAIL}"),
    ("https://sentinel.example/2026/11/pact/", f"https://sentinel.example/2026/11/pact/?{TAIL}"),
    ("http://sentinel.example/old", f"http://sentinel.example/old?{TAIL}"),
    ("HTTPS://Sentinel.Example/A", f"HTTPS://Sentinel.Example/A?{TAIL}"),
    # an existing query keeps its order and its exact encoding; ours follows it
    ("https://sentinel.example/s?q=a+b&page=2", f"https://sentinel.example/s?q=a+b&page=2&{TAIL}"),
    ("https://sentinel.example/s?z=1&a=%2F%20x&a=2", f"https://sentinel.example/s?z=1&a=%2F%20x&a=2&{TAIL}"),
    ("https://sentinel.example/s?flag", f"https://sentinel.example/s?flag&{TAIL}"),
    ("https://sentinel.example/s?a=1&", f"https://sentinel.example/s?a=1&{TAIL}"),
    ("https://sentinel.example/s?", f"https://sentinel.example/s?{TAIL}"),
    # fragments stay last, untouched, even when they hold a "?"
    ("https://sentinel.example/a#comments", f"https://sentinel.example/a?{TAIL}#comments"),
    ("https://sentinel.example/a?x=1#top", f"https://sentinel.example/a?x=1&{TAIL}#top"),
    ("https://sentinel.example/a#/route?x=1", f"https://sentinel.example/a?{TAIL}#/route?x=1"),
    ("https://sentinel.example/a#", f"https://sentinel.example/a?{TAIL}#"),
    # a parameter the link already has is never overwritten, whatever its case; the others are added
    ("https://sentinel.example/a?utm_source=twitter",
     "https://sentinel.example/a?utm_source=twitter&utm_medium=email&utm_campaign=saigon-sentinel-2026-W48"),
    ("https://sentinel.example/a?UTM_Medium=print&x=1",
     "https://sentinel.example/a?UTM_Medium=print&x=1&utm_source=newsletter&utm_campaign=saigon-sentinel-2026-W48"),
    ("https://sentinel.example/a?utm_source=x&utm_medium=y&utm_campaign=z",
     "https://sentinel.example/a?utm_source=x&utm_medium=y&utm_campaign=z"),
    ("https://sentinel.example/a?utm_campaign=&b=2#f",
     "https://sentinel.example/a?utm_campaign=&b=2&utm_source=newsletter&utm_medium=email#f"),
    # non-ASCII paths, queries and hosts are kept as written
    ("https://sentinel.example/tin-tức/hà-nội?q=Việt", f"https://sentinel.example/tin-tức/hà-nội?q=Việt&{TAIL}"),
    ("https://báo.example/bài", f"https://báo.example/bài?{TAIL}"),
    ("https://sentinel.example/%E1%BB%87", f"https://sentinel.example/%E1%BB%87?{TAIL}"),
    ("https://user@sentinel.example:8443/p", f"https://user@sentinel.example:8443/p?{TAIL}"),
])
def test_utm_parameters_are_appended_to_web_links(url: str, expected: str) -> None:
    assert add_utm(url, PARAMS) == expected
    assert add_utm(expected, PARAMS) == expected  # idempotent: tagging twice changes nothing


@pytest.mark.parametrize("url", [
    # not web links
    "mailto:editor@sentinel.example",
    "mailto:editor@sentinel.example?subject=Hello",
    "MAILTO:Editor@Sentinel.example",
    "tel:+17145550100",
    "sms:+17145550100",
    "ftp://files.sentinel.example/a.pdf",
    "javascript:alert(1)",
    "/relative/path",
    "relative.html",
    "#top",
    "//sentinel.example/scheme-relative",
    "https://",
    "https://[::1/broken",
    "",
    # unsubscribe and preferences pages
    "https://sentinel.example/newsletter/unsubscribe",
    "https://lists.example.org/subscription/UNSUBSCRIBE/abc",
    "https://list-manage.example/unsubscribe?u=1&id=2",
    "https://mail.example/manage?action=unsubscribe",
    "https://mail.example/email-unsubscribe/x",
    "https://lists.example.org/email-preferences?id=3",
    "https://lists.example.org/preferences/abc",
    "https://lists.example.org/optout/abc",
    "https://lists.example.org/opt-out?u=1",
    "https://news.example/manage-subscription?token=1",
    "https://news.example/subscription-center",
    "https://us1.list-manage.com/profile?u=1&id=2",  # Mailchimp's subscriber pages
    # merge tags of every service we export to, and the build's footer placeholders
    "*|UNSUB|*",
    "*|ARCHIVE|*",
    "https://sentinel.example/p?email=*|EMAIL|*",
    "{{ unsubscribe }}",
    "{{ mirror }}",
    "{{{unsubscribe_preferences}}}",
    "{{Weblink}}",
    "{{ UnsubscribeURL }}?manage=true",
    "https://sentinel.example/p?e={{ contact.EMAIL }}",
    "https://sentinel.example/{% if x %}a{% endif %}",
    "<%asm_group_unsubscribe_raw_url%>",
    "[UNSUBSCRIBE]",
    "https://placeholder.invalid/1a2b3c/unsubscribe",
    "https://placeholder.invalid/1a2b3c/view-online",
])
def test_links_that_must_stay_untouched(url: str) -> None:
    assert not trackable(url)
    assert add_utm(url, PARAMS) == url


@pytest.mark.parametrize("url", [
    "https://sentinel.example/2026/11/voter-preferences-poll/",  # a story about preferences, not a page that sets them
    "https://sentinel.example/tag/opt-in-programs/",
    "https://sentinel.example/subscribe",
])
def test_links_that_only_mention_subscriptions_are_tracked(url: str) -> None:
    assert trackable(url)


@pytest.mark.parametrize(("url", "hosts", "tracked"), [
    ("https://shop.example/cart", ["shop.example"], False),
    ("https://www.shop.example/cart", ["shop.example"], False),  # subdomains too
    ("https://SHOP.Example./cart", ["shop.example"], False),
    ("https://notshop.example/cart", ["shop.example"], True),  # a suffix is not a subdomain
    ("https://shop.example.evil.test/", ["shop.example"], True),
    ("https://sentinel.example/", ["shop.example", "partner.example"], True),
    ("https://partner.example/", ["shop.example", " partner.example "], False),
    ("https://báo.example/a", ["xn--bo-mia.example"], False),  # Unicode host vs its IDNA form
    ("https://xn--bo-mia.example/a", ["báo.example"], False),
    ("https://sentinel.example:8443/a", ["sentinel.example"], False),
])
def test_excluded_hosts_and_their_subdomains_are_left_alone(url: str, hosts: list[str], tracked: bool) -> None:
    result = add_utm(url, PARAMS, exclude_hosts=hosts)
    assert (result != url) is tracked


def test_the_publications_own_footer_pages_are_never_tagged() -> None:
    never = {"https://sentinel.example/newsletter/account"}
    assert add_utm("https://sentinel.example/newsletter/account", PARAMS, never=never) == \
        "https://sentinel.example/newsletter/account"
    assert add_utm("https://sentinel.example/newsletter/account?x=1", PARAMS, never=never) != \
        "https://sentinel.example/newsletter/account?x=1"


@pytest.mark.parametrize(("value", "encoded"), [
    ("Saigon Sentinel", "Saigon%20Sentinel"),
    ("tin tức", "tin%20t%E1%BB%A9c"),
    ("a&b=c#d?e+f", "a%26b%3Dc%23d%3Fe%2Bf"),
    ("2026/11/pact", "2026/11/pact"),
    ("100%", "100%25"),
])
def test_our_values_are_percent_encoded_as_utf8(value: str, encoded: str) -> None:
    assert add_utm("https://sentinel.example/", [("utm_content", value)]) == \
        f"https://sentinel.example/?utm_content={encoded}"


def test_empty_values_are_left_out() -> None:
    assert add_utm("https://sentinel.example/", [("utm_source", "x"), ("utm_campaign", "")]) == \
        "https://sentinel.example/?utm_source=x"
    assert add_utm("https://sentinel.example/", []) == "https://sentinel.example/"


def test_a_stories_links_carry_its_id_the_sites_do_not() -> None:
    tagger = Tracker(True, "newsletter", "email", "sentinel-2026-W48")
    assert tagger.link("https://sentinel.example/a", "2026/11/pact") == (
        "https://sentinel.example/a?utm_source=newsletter&utm_medium=email&utm_campaign=sentinel-2026-W48"
        "&utm_content=2026/11/pact")
    assert "utm_content" not in tagger.link("https://sentinel.example/")
    assert "utm_content" not in Tracker(True, "n", "e", "c", content=False).link("https://s.example/", "id")
    assert Tracker(False).link("https://sentinel.example/a", "x") == "https://sentinel.example/a"


@pytest.mark.parametrize(("name", "expected"), [
    ("Saigon Sentinel", "saigon-sentinel"),
    ("Người Việt Daily", "nguoi-viet-daily"),
    ("Đất Việt", "dat-viet"),
    ("  The *News* & Co. ", "the-news-co"),
])
def test_publication_names_become_ascii_slugs(name: str, expected: str) -> None:
    assert slug(name) == expected


# ---- [tracking] in newsletter.toml ------------------------------------------------------------

def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsletter.toml"
    path.write_text('[publication]\nname = "Saigon Sentinel"\n\n' + text, "utf-8")
    return path


def test_tracking_is_off_by_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.tracking.enabled is False
    assert tracker(config, "2026-W48").link("https://sentinel.example/a", "x") == "https://sentinel.example/a"


def test_tracking_settings_fill_in_the_issue(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[tracking]\nenabled = true\nutm_source = "weekly"\n'
                               'utm_campaign = "{publication}-{key}-n{number}-{date}"\n'
                               'exclude_hosts = ["shop.example"]\n'))
    tagger = tracker(config, "2026-W48", 48, "2026-11-23")
    assert tagger.params("s") == [("utm_source", "weekly"), ("utm_medium", "email"),
                                  ("utm_campaign", "saigon-sentinel-2026-W48-n48-2026-11-23"), ("utm_content", "s")]
    assert tagger.link("https://shop.example/x") == "https://shop.example/x"
    # The publication's unsubscribe and preferences pages are never tagged, even when written with {key}.
    assert tagger.link(config.links.unsubscribe) == config.links.unsubscribe


@pytest.mark.parametrize(("text", "line", "words"), [
    ("[tracking]\nenabled = true\nutm_campain = \"x\"\n", 6, ["unknown setting 'utm_campain'", "utm_campaign"]),
    ("[tracking]\nutm_campaign = \"{publication}-{week}\"\n", 5, ["{week}", "{key}", "{publication}"]),
    ("[tracking]\nutm_source = \"news{\"\n", 5, ["utm_source", "broken brace"]),
    ("[tracking]\nutm_campaign = \"{}\"\n", 5, ["utm_campaign", "not a name it knows"]),
    ("[tracking]\nenabled = \"yes\"\n", 5, ["enabled must be true or false"]),
    ("[tracking]\nutm_content = 1\n", 5, ["utm_content must be true or false"]),
    ("[tracking]\nexclude_hosts = [\"https://shop.example/\"]\n", 5, ["not a host name", "https://shop.example/"]),
    ("[tracking]\nexclude_hosts = \"shop.example\"\nenabled = true\nutm_medium = \"\"\n", 7, ["utm_medium",
                                                                                             "must not be empty"]),
])
def test_bad_tracking_settings_name_file_and_line(tmp_path: Path, text: str, line: int, words: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = caught.value.format_message()
    assert f"newsletter.toml:{line}:" in message
    for word in words:
        assert word in message


def test_a_single_host_string_is_accepted_as_a_list(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[tracking]\nexclude_hosts = "shop.example"\n'))
    assert config.tracking.exclude_hosts == ("shop.example",)


# ---- the built email ---------------------------------------------------------------------------

HREF = re.compile(r'href="([^"]+)"')


def test_build_tags_story_and_site_links_in_both_parts(workspace: Path) -> None:
    toml = workspace / "newsletter.toml"
    text = toml.read_text("utf-8").replace(
        'url = "https://saigonsentinel.example/"',
        'url = "https://saigonsentinel.example/"\nlogo = "https://saigonsentinel.example/logo.png"', 1)
    toml.write_text(text + "\n[tracking]\nenabled = true\n", "utf-8")
    result = CliRunner().invoke(cli, ["build", "--week", SAMPLE_WEEK])
    assert result.exit_code == 0, result.output
    folder = workspace / "issues" / SAMPLE_WEEK
    html = (folder / "email.html").read_text("utf-8")
    plain = (folder / "email.txt").read_text("utf-8")
    issue = json.loads((folder / "issue.json").read_text("utf-8"))
    campaign = "utm_campaign=saigon-sentinel-2026-W48"
    for story in issue["stories"]:
        # issue.json keeps the canonical URL; the email's links carry the campaign and the story's id
        assert "utm_" not in story["url"]
        tagged = (f"{story['url']}?utm_source=newsletter&amp;utm_medium=email&amp;{campaign}"
                  f"&amp;utm_content={story['id']}")
        assert tagged in html, story["id"]
        assert tagged.replace("&amp;", "&") in plain, story["id"]
    hrefs = HREF.findall(html)
    assert f"https://saigonsentinel.example/?utm_source=newsletter&amp;utm_medium=email&amp;{campaign}" in hrefs
    # the footer's links are never tagged, in either part
    for url in ("https://saigonsentinel.example/newsletter/unsubscribe",
                "https://saigonsentinel.example/newsletter/preferences",
                f"https://saigonsentinel.example/newsletter/{SAMPLE_WEEK}/"):
        assert url in hrefs and url in plain
    assert not any("utm_" in h for h in hrefs if "newsletter/" in h or h.startswith("mailto:"))


def test_build_tags_links_inside_articles_the_same_in_both_parts(workspace: Path) -> None:
    """Links in a story's text (lede, body, analysis, impact) are tagged like its headline; tel: never."""
    toml = workspace / "newsletter.toml"
    toml.write_text(toml.read_text("utf-8") + "\n[tracking]\nenabled = true\n", "utf-8")
    result = CliRunner().invoke(cli, ["build", "--week", SAMPLE_WEEK])
    assert result.exit_code == 0, result.output
    folder = workspace / "issues" / SAMPLE_WEEK
    html = (folder / "email.html").read_text("utf-8")
    plain = (folder / "email.txt").read_text("utf-8")
    # the Hanoi story's impact links to a guide; the story's id is the utm_content
    tagged = ("https://saigonsentinel.example/guides/air-quality/?utm_source=newsletter&utm_medium=email"
              "&utm_campaign=saigon-sentinel-2026-W48&utm_content=2026/11/2026-11-25-hanoi-air-quality")
    assert tagged.replace("&", "&amp;") in HREF.findall(html)
    assert f"({tagged})" in plain
    assert 'href="tel:+1-714-555-0142"' in html and "tel:+1-714-555-0142?" not in plain


@pytest.mark.parametrize(("url", "expected"), [
    ("https://s.example/a/?utm_source=rss&utm_medium=rss&utm_campaign=a", "https://s.example/a/"),
    ("https://s.example/?p=5&utm_source=rss&x=%2F", "https://s.example/?p=5&x=%2F"),
    ("https://s.example/a?UTM_Medium=feed#c", "https://s.example/a#c"),
    ("https://s.example/a?utm=1&utm_x", "https://s.example/a?utm=1"),  # only utm_ names go
    ("https://s.example/a?b=1", "https://s.example/a?b=1"),
    ("https://s.example/a", "https://s.example/a"),
    ("https://s.example/a#?utm_source=x", "https://s.example/a#?utm_source=x"),  # a fragment is not a query
])
def test_campaign_parameters_removed(url: str, expected: str) -> None:
    assert remove_utm(url) == expected
    assert remove_utm(add_utm(expected, PARAMS)) == expected  # what add_utm adds, remove_utm takes away
