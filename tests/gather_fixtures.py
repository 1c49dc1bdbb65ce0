"""What a publication's website serves, in the shapes real sites produce, for `newsletter gather` tests.

Written for these tests (our own sample text): a WordPress RSS 2.0 feed (content:encoded in
CDATA, dc:creator, categories, Media RSS, Jetpack's share box, a stats pixel, Yoast's "appeared
first on" footer), an Atom feed with xml:base and relative links, a feed whose HTML is
entity-encoded, and WordPress REST API pages (/wp-json/wp/v2/posts?_embed) with ``_embedded``
authors, featured media and terms, and the headers WordPress sends (X-WP-Total, X-WP-TotalPages).
"""

# ruff: noqa: E501  (feeds and HTML as sites send them, with their long lines)

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

WEEK = "2026-W48"  # Monday 2026-11-23 to Sunday 2026-11-29, in America/Los_Angeles
SITE = "https://saigonsentinel.example"

PACT_HTML = f"""
<p>YANGON &#8211; Russia and Myanmar signed a five-year defense agreement on Tuesday, the
junta&#8217;s <a href="/2026/11/junta-seeks-allies/">latest bid for allies</a> as fighting spreads.</p>
<script>window._stats = "x";</script>
<p><img src="/wp-content/uploads/2026/11/pact-signing.jpg" alt="Officials shake hands in Naypyidaw" width="1024" height="683"></p>
<p>The deal covers training, joint exercises and spare parts for the air force.</p>
<iframe src="https://www.youtube.com/embed/abc123" width="560" height="315"></iframe>
<h2>Saigon Sentinel Analysis</h2>
<p>The pact turns an arrangement of convenience into a commitment with a calendar.</p>
<ul><li>Training: 300 officers a year</li><li>Spare parts: five years</li></ul>
<p><strong>Impact on Vietnamese Americans</strong></p>
<p>Families with relatives in Myanmar&#8217;s border towns may see remittances delayed.</p>
<img src="https://pixel.wp.com/g.gif?blog=1&amp;post=101" width="1" height="1" alt="">
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this:</h3>
<ul><li><a href="https://www.facebook.com/sharer.php?u={SITE}/2026/11/pact/">Facebook</a></li>
<li><a href="https://twitter.com/intent/tweet?url={SITE}/2026/11/pact/">X</a></li></ul></div>
<p>The post <a href="{SITE}/2026/11/russia-myanmar-defense-pact/">Russia and Myanmar sign defense pact</a>
appeared first on <a href="{SITE}">Saigon Sentinel</a>.</p>
"""

GRANTS_HTML = """
<p>SANTA ANA &#8211; Orange County will give <em>$2&nbsp;million</em> in grants to small businesses hurt by
construction on Bolsa Avenue, supervisors decided on Wednesday.</p>
<p>Owners can apply on the <a href="https://ocgov.example/grants">county&#8217;s grants portal</a> until
January 15.</p>
<p><strong>Saigon Sentinel Analysis:</strong> The money is modest, but it is the first time the county has
tied relief to a road project.</p>
<p><b>Impact on Vietnamese Americans</b><br>Most of the 240 shops on the affected stretch are run by Vietnamese
American families.</p>
"""

LATE_SUNDAY_HTML = """
<p>GARDEN GROVE &#8211; The Tet festival committee named its grand marshal late on Sunday.</p>
<h3>Analysis</h3><p>A choice that looks to the second generation.</p>
<h3>Impact on Vietnamese Americans</h3><p>Families can expect a younger parade.</p>
"""


def rss_item(title: str, slug: str, pub_date: str, html: str, *, guid: int, categories: tuple[str, ...] = (),
             creator: str = "Linh Tran", extra: str = "", description: str = "") -> str:
    cats = "".join(f"\n\t\t<category><![CDATA[{c}]]></category>" for c in categories)
    title_xml = f"<title>{escape(title)}</title>" if title else "<title></title>"
    return f"""
	<item>
		{title_xml}
		<link>{SITE}/2026/11/{slug}/</link>
		<comments>{SITE}/2026/11/{slug}/#respond</comments>
		<dc:creator><![CDATA[{creator}]]></dc:creator>
		<pubDate>{pub_date}</pubDate>{cats}
		<guid isPermaLink="false">{SITE}/?p={guid}</guid>
		<description><![CDATA[{description}]]></description>
		<content:encoded><![CDATA[{html}]]></content:encoded>
		<wfw:commentRss>{SITE}/2026/11/{slug}/feed/</wfw:commentRss>
		<slash:comments>0</slash:comments>{extra}
	</item>"""


def rss_feed(self_url: str, items: list[str] | None = None) -> str:
    """A WordPress RSS 2.0 feed (the shape of /feed/ on WordPress 6)."""
    if items is None:
        items = default_rss_items()
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
	xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
	xmlns:media="http://search.yahoo.com/mrss/"
	>

<channel>
	<title>Saigon Sentinel</title>
	<atom:link href="{self_url}" rel="self" type="application/rss+xml" />
	<link>{SITE}</link>
	<description>News and analysis for Vietnamese Americans</description>
	<lastBuildDate>Mon, 30 Nov 2026 08:00:00 +0000</lastBuildDate>
	<language>en-US</language>
	<sy:updatePeriod>hourly</sy:updatePeriod>
	<sy:updateFrequency>1</sy:updateFrequency>
	<generator>https://wordpress.org/?v=6.7</generator>{"".join(items)}
</channel>
</rss>
"""


def default_rss_items() -> list[str]:
    media = f"""
		<media:content url="{SITE}/wp-content/uploads/2026/11/pact-signing.jpg" medium="image" width="1024" height="683">
			<media:title type="html">pact-signing</media:title>
		</media:content>"""
    return [
        rss_item("Russia and Myanmar sign defense pact", "russia-myanmar-defense-pact",
                 "Tue, 24 Nov 2026 17:30:00 +0000", PACT_HTML, guid=101, categories=("World", "Myanmar"),
                 extra=media, description="YANGON &#8211; Russia and Myanmar signed a five-year defense [&#8230;]"),
        rss_item("County sets aside $2 million for Bolsa Avenue shops", "bolsa-avenue-grants",
                 "Wed, 25 Nov 2026 22:05:00 +0000", GRANTS_HTML, guid=102, categories=("Community",),
                 creator="Minh Pham",
                 extra=f'\n\t\t<enclosure url="{SITE}/wp-content/uploads/2026/11/bolsa.jpg" length="48213" '
                       'type="image/jpeg" />',
                 description="Supervisors approved grants for shops hurt by road works."),
        # Sunday 23:30 in Los Angeles is Monday in UTC: it belongs to this week, not the next.
        rss_item("Tet festival names its grand marshal", "tet-grand-marshal", "Mon, 30 Nov 2026 07:30:00 +0000",
                 LATE_SUNDAY_HTML, guid=103, categories=("Culture",)),
        rss_item("Last week's story", "last-week", "Fri, 20 Nov 2026 16:00:00 +0000", "<p>Old news.</p>", guid=99),
        rss_item("", "untitled-draft", "Thu, 26 Nov 2026 16:00:00 +0000", "<p>Words without a headline.</p>",
                 guid=104),
    ]


def atom_feed() -> str:
    """An Atom 1.0 feed (RFC 4287) whose links and pictures are relative to xml:base."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{SITE}/news/" xml:lang="en">
  <title>Saigon Sentinel: Vietnam</title>
  <id>tag:saigonsentinel.example,2026:vietnam</id>
  <updated>2026-11-28T10:00:00Z</updated>
  <link rel="self" href="feeds/vietnam.atom"/>
  <link rel="alternate" type="text/html" href="./"/>
  <entry>
    <title type="html">Hanoi closes schools as smog &lt;em&gt;peaks&lt;/em&gt;</title>
    <id>tag:saigonsentinel.example,2026:post-201</id>
    <link rel="alternate" type="text/html" href="2026/11/hanoi-air-quality/"/>
    <published>2026-11-25T09:00:00+07:00</published>
    <updated>2026-11-25T11:00:00+07:00</updated>
    <author><name>Thu Nguyen</name></author>
    <category term="vietnam" label="Vietnam"/>
    <category term="environment" label="Environment"/>
    <summary type="text">Hanoi told schools to keep younger pupils home for two days.</summary>
    <content type="html" xml:base="{SITE}/news/2026/11/hanoi-air-quality/">&lt;p&gt;HANOI &#8211; City authorities
ordered kindergartens to close as the &lt;a href="../../../data/aqi/"&gt;air quality index&lt;/a&gt; passed 300.&lt;/p&gt;
&lt;p&gt;&lt;img src="haze.jpg" alt="The Long Bien bridge in grey haze"&gt;&lt;/p&gt;
&lt;h2&gt;Saigon Sentinel Analysis&lt;/h2&gt;&lt;p&gt;The closures show how far the city is from its clean-air goals.&lt;/p&gt;
&lt;h2&gt;Impact on Vietnamese Americans&lt;/h2&gt;&lt;p&gt;Travellers with children may want to delay visits.&lt;/p&gt;</content>
  </entry>
  <entry xml:lang="vi">
    <title>Lễ hội Tết ở Sài Gòn</title>
    <id>tag:saigonsentinel.example,2026:post-202</id>
    <link href="2026/11/tet-sai-gon/"/>
    <updated>2026-11-27T08:00:00Z</updated>
    <category term="culture"/>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>SÀI GÒN – Thành phố chuẩn bị lễ hội Tết
với <a href="/le-hoi/">chương trình mới</a>.</p><h2>Phân tích</h2><p>Một lễ hội lớn hơn mọi năm.</p>
<h2>Tác động đến người Mỹ gốc Việt</h2><p>Nhiều gia đình sẽ về quê ăn Tết.</p></div></content>
  </entry>
</feed>
"""


def entity_feed() -> str:
    """An RSS 2.0 feed without content:encoded: its HTML entity-encoded in <description>, or in CDATA."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
<channel>
<title>Sentinel Business</title>
<link>{SITE}/business/</link>
<description>Business news</description>
<item>
<title>AT&amp;T and VNPT sign a &lt;cable&gt; deal</title>
<link>{SITE}/business/2026/11/cable-deal/</link>
<guid>{SITE}/business/?p=301</guid>
<pubDate>Thu, 26 Nov 2026 15:00:00 GMT</pubDate>
<category>Business</category>
<description>&lt;p&gt;HO CHI MINH CITY &amp;#8211; Two carriers agreed to lay a new &lt;strong&gt;undersea cable&lt;/strong&gt;.&lt;/p&gt;
&lt;h2&gt;Analysis&lt;/h2&gt;&lt;p&gt;Capacity will double by 2028 &amp;amp; prices may fall.&lt;/p&gt;
&lt;h2&gt;Impact on Vietnamese Americans&lt;/h2&gt;&lt;p&gt;Calls home should get clearer.&lt;/p&gt;</description>
</item>
<item>
<title><![CDATA[Remittances rise 8% – a record]]></title>
<link>{SITE}/business/2026/11/remittances-record/</link>
<guid>{SITE}/business/?p=302</guid>
<pubDate>Fri, 27 Nov 2026 15:00:00 GMT</pubDate>
<description><![CDATA[<p>HANOI – Money sent home rose 8% this year, to a record.</p>
<p><strong>Analysis</strong></p><p>Strong wages in the US kept the flow steady.</p>
<p><strong>Impact on Vietnamese Americans:</strong> Fees matter more than ever.</p>]]></description>
</item>
</channel>
</rss>
"""


# --- WordPress REST API ----------------------------------------------------------------------


def wp_post(post_id: int, slug: str, title: str, date_gmt: str, content: str, *, excerpt: str = "",
            category: tuple[int, str, str] = (3, "World", "world"), tags: tuple[tuple[int, str, str], ...] = (),
            author: str = "Linh Tran", image: str | None = None, modified_gmt: str | None = None) -> dict[str, Any]:
    """One post as GET /wp-json/wp/v2/posts?_embed returns it (WordPress 6.x, context=view)."""
    link = f"{SITE}/2026/11/{slug}/"
    terms = [
        [{"id": category[0], "link": f"{SITE}/category/{category[2]}/", "name": category[1], "slug": category[2],
          "taxonomy": "category", "_links": {}}],
        [{"id": t[0], "link": f"{SITE}/tag/{t[2]}/", "name": t[1], "slug": t[2], "taxonomy": "post_tag",
          "_links": {}} for t in tags],
    ]
    embedded: dict[str, Any] = {
        "author": [{"id": 2, "name": author, "url": "", "description": "", "link": f"{SITE}/author/{author.lower()}/",
                    "slug": author.lower().replace(" ", "-"), "avatar_urls": {"24": "https://secure.gravatar.com/a"},
                    "_links": {}}],
        "wp:term": terms,
    }
    if image:
        embedded["wp:featuredmedia"] = [{
            "id": post_id + 1000, "date": date_gmt, "slug": f"{slug}-photo", "type": "attachment",
            "link": f"{link}{slug}-photo/", "title": {"rendered": f"{slug}-photo"}, "author": 2,
            "caption": {"rendered": "<p>Photo: Saigon Sentinel</p>\n"}, "alt_text": f"Photo for {title}",
            "media_type": "image", "mime_type": "image/jpeg",
            "media_details": {
                "width": 4000, "height": 2667, "file": f"2026/11/{image}",
                "sizes": {
                    "medium": {"file": "m.jpg", "width": 300, "height": 200, "mime_type": "image/jpeg",
                               "source_url": f"{SITE}/wp-content/uploads/2026/11/{image}-300x200.jpg"},
                    "large": {"file": "l.jpg", "width": 1024, "height": 683, "mime_type": "image/jpeg",
                              "source_url": f"{SITE}/wp-content/uploads/2026/11/{image}-1024x683.jpg"},
                    "1536x1536": {"file": "xl.jpg", "width": 1536, "height": 1024, "mime_type": "image/jpeg",
                                  "source_url": f"{SITE}/wp-content/uploads/2026/11/{image}-1536x1024.jpg"},
                    "full": {"file": "f.jpg", "width": 4000, "height": 2667, "mime_type": "image/jpeg",
                             "source_url": f"{SITE}/wp-content/uploads/2026/11/{image}.jpg"},
                },
            },
            "source_url": f"{SITE}/wp-content/uploads/2026/11/{image}.jpg", "_links": {},
        }]
    return {
        "id": post_id, "date": date_gmt, "date_gmt": date_gmt, "guid": {"rendered": f"{SITE}/?p={post_id}"},
        "modified": modified_gmt or date_gmt, "modified_gmt": modified_gmt or date_gmt, "slug": slug,
        "status": "publish", "type": "post", "link": link, "title": {"rendered": title},
        "content": {"rendered": content, "protected": False},
        "excerpt": {"rendered": excerpt, "protected": False},
        "author": 2, "featured_media": post_id + 1000 if image else 0, "comment_status": "open",
        "ping_status": "open", "sticky": False, "template": "", "format": "standard", "meta": {"footnotes": ""},
        "categories": [category[0]], "tags": [t[0] for t in tags], "class_list": [f"post-{post_id}"],
        "_links": {"self": [{"href": f"{SITE}/wp-json/wp/v2/posts/{post_id}"}]},
        "_embedded": embedded,
    }


def wp_posts() -> list[dict[str, Any]]:
    """Three posts of the week, newest first, as the API orders them."""
    return [
        wp_post(503, "mekong-salinity", "Salt water reaches deeper into the Mekong Delta", "2026-11-27T02:00:00",
                "<p>CAN THO &#8211; Salt water has reached 90 km inland, <a href='/mekong/'>officials said</a>.</p>"
                "<h2>Saigon Sentinel Analysis</h2><p>The dry season has barely begun.</p>"
                "<h2>Impact on Vietnamese Americans</h2><p>Families may be asked to help relatives buy water.</p>",
                excerpt="<p>Farmers are planting salt-tolerant rice.</p>\n",
                category=(4, "Vietnam", "vietnam"), tags=((11, "Mekong", "mekong"), (12, "Climate", "climate")),
                image="mekong"),
        wp_post(502, "h1b-fee-ruling", "Court blocks new H-1B fee", "2026-11-24T19:00:00",
                "<p>WASHINGTON &#8211; A federal judge blocked the fee on Monday.</p>"
                "<p><strong>Saigon Sentinel Analysis</strong></p><p>The ruling buys time, not certainty.</p>"
                "<p><strong>Impact on Vietnamese Americans</strong></p><p>Employers can keep sponsoring workers.</p>",
                excerpt="<p>WASHINGTON &#8211; A federal judge blocked the fee on Monday. [&hellip;]</p>\n",
                category=(5, "U.S.", "us"), author="Minh Pham"),
        wp_post(501, "pho-award", "Westminster pho shop wins national award", "2026-11-23T18:00:00",
                "<p>WESTMINSTER &#8211; A family pho shop won a James Beard award.</p>"
                "<h2>Analysis</h2><p>Recognition for a cuisine long treated as cheap eats.</p>"
                "<h2>Impact on Vietnamese Americans</h2><p>Expect longer lines on Bolsa.</p>",
                category=(6, "Culture", "culture"), image="pho"),
    ]


def wp_page(posts: list[dict[str, Any]], page: int, per_page: int) -> tuple[bytes, dict[str, str]]:
    """One page of results and WordPress's paging headers."""
    total_pages = max(1, -(-len(posts) // per_page))
    chunk = posts[(page - 1) * per_page : page * per_page]
    headers = {"X-WP-Total": str(len(posts)), "X-WP-TotalPages": str(total_pages),
               "Link": f'<{SITE}/wp-json/wp/v2/posts?page={page + 1}>; rel="next"' if page < total_pages else ""}
    return json.dumps(chunk).encode(), {k: v for k, v in headers.items() if v}


def workspace_toml(sources: str) -> str:
    """The sample publication's settings with these [sources] tables added."""
    return (ROOT / "newsletter.toml").read_text("utf-8") + "\n" + sources


def write_workspace(folder: Path, sources: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "newsletter.toml").write_text(workspace_toml(sources), "utf-8")
    return folder / "newsletter.toml"
