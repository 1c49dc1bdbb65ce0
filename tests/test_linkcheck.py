"""The link checker against a real loopback website: each answer, the bounds, the politeness, the cache."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from newsletter.check.linkcheck import (
    BROKEN,
    CACHE_NAME,
    OK,
    REDIRECT,
    UNAVAILABLE,
    UNCHECKED,
    UNRESOLVABLE,
    LinkChecker,
    user_agent,
)
from tests.linkserver import Site, Traffic, never_answering, serve_site

pytestmark = pytest.mark.server
UA = user_agent("https://paper.test/")


def checker(**kwargs: object) -> LinkChecker:
    options: dict[str, object] = {"user_agent": UA, "timeout": 1.0, "time_limit": 30.0}
    options.update(kwargs)
    return LinkChecker(**options)  # type: ignore[arg-type]


def test_each_answer_gets_its_outcome() -> None:
    site = Site(slow=3.0)
    with serve_site(site) as base, never_answering() as never:
        targets = [(f"{base}{path}", "link") for path in
                   ("/ok", "/moved", "/chain", "/missing", "/gone", "/error", "/slow", "/head-refused", "/loop")]
        targets.append((f"{never}/anything", "link"))
        started = time.monotonic()
        results = {r.url.removeprefix(base).removeprefix(never): r for r in checker().check(targets)}
        elapsed = time.monotonic() - started
    assert results["/ok"].outcome == OK and results["/ok"].status == 200
    assert results["/moved"].outcome == REDIRECT and results["/moved"].final_url == f"{base}/ok"
    assert results["/chain"].outcome == REDIRECT and results["/chain"].final_url == f"{base}/ok"
    assert results["/missing"].outcome == BROKEN and "404 Not Found" in results["/missing"].detail
    assert results["/gone"].outcome == BROKEN and "410 Gone" in results["/gone"].detail
    assert results["/error"].outcome == UNAVAILABLE and "500 Internal Server Error" in results["/error"].detail
    assert results["/slow"].outcome == UNAVAILABLE and "no answer within 1 s" in results["/slow"].detail
    assert results["/anything"].outcome == UNAVAILABLE and "no answer within 1 s" in results["/anything"].detail
    assert results["/head-refused"].outcome == OK
    assert results["/loop"].outcome == UNAVAILABLE and "redirects more than 10 times" in results["/loop"].detail
    assert elapsed < 25  # bounded by the timeouts, not by the slow server (generous: the machine may be busy)
    # HEAD first; GET only where HEAD was refused or failed.
    assert site.paths("GET").count("/ok") == 0 and "/head-refused" in site.paths("GET")
    assert {r.user_agent for r in site.requests} == {UA} and "newsletter-check/" in UA and "paper.test" in UA


def test_a_name_under_invalid_does_not_resolve() -> None:
    [result] = checker().check([("https://no-such-site.invalid/story", "link")])
    assert result.outcome == UNRESOLVABLE and "no-such-site.invalid" in result.detail


def test_images_are_measured() -> None:
    with serve_site(Site()) as base:
        results = {r.url.removeprefix(base): r for r in checker().check(
            [(f"{base}/big.jpg", "image"), (f"{base}/streamed.jpg", "image"), (f"{base}/small.png", "image"),
             (f"{base}/missing.png", "image")])}
    assert results["/big.jpg"].size == 2_000_000
    assert results["/streamed.jpg"].size is not None and results["/streamed.jpg"].size > 1_000_000
    assert results["/small.png"].size == 504
    assert results["/missing.png"].outcome == BROKEN


def test_at_most_two_per_host_and_eight_at_once() -> None:
    traffic = Traffic()
    sites = [Site(hold=0.4, traffic=traffic) for _ in range(6)]
    with ExitStack() as stack:
        bases = [stack.enter_context(serve_site(site)) for site in sites]
        targets = [(f"{base}/hold?n={n}", "link") for base in bases for n in range(5)]
        results = checker(timeout=10.0).check(targets)
    assert all(r.outcome == OK for r in results)
    assert max(site.most for site in sites) <= 2
    assert traffic.most <= 8
    assert traffic.most > 2  # several hosts at once, not one request after another


def test_the_whole_check_is_bounded() -> None:
    site = Site(hold=1.0)
    with serve_site(site) as base:
        started = time.monotonic()
        results = checker(timeout=5.0, time_limit=1.5).check([(f"{base}/hold?n={n}", "link") for n in range(12)])
        elapsed = time.monotonic() - started
    assert elapsed < 10  # 12 links two at a time would take 6 s; the limit stops it after 1.5
    assert {r.outcome for r in results} <= {OK, UNCHECKED} and UNCHECKED in {r.outcome for r in results}


def test_working_links_are_remembered_for_a_day_and_failures_are_not(tmp_path: Path) -> None:
    cache = tmp_path / CACHE_NAME
    site = Site()
    clock = [1_000_000.0]
    with serve_site(site) as base:
        targets = [(f"{base}/ok", "link"), (f"{base}/moved", "link"), (f"{base}/missing", "link")]
        first = checker(cache=cache, clock=lambda: clock[0]).check(targets)
        asked = len(site.requests)
        second = checker(cache=cache, clock=lambda: clock[0] + 3600).check(targets)
        again = site.paths()[asked:]
        clock[0] += 25 * 3600
        checker(cache=cache, clock=lambda: clock[0]).check(targets)
        later = site.paths()[asked + len(again):]
    assert [r.outcome for r in first] == [r.outcome for r in second] == [OK, REDIRECT, BROKEN]
    assert [r.cached for r in second] == [True, True, False]
    assert second[1].final_url == f"{base}/ok"
    assert all(path == "/missing" for path in again) and again  # only the failure was asked again
    assert "/ok" in later and "/moved" in later  # a day later, everything is asked again
    data = json.loads(cache.read_text())
    assert f"link {base}/ok" in data["results"] and f"link {base}/missing" not in data["results"]


def test_no_cache_is_written_when_asked_not_to(tmp_path: Path) -> None:
    with serve_site(Site()) as base:
        checker(cache=tmp_path / CACHE_NAME, save_cache=False).check([(f"{base}/ok", "link")])
    assert not (tmp_path / CACHE_NAME).exists()


def test_a_damaged_cache_is_ignored(tmp_path: Path) -> None:
    cache = tmp_path / CACHE_NAME
    cache.write_text("{not json")
    with serve_site(Site()) as base:
        [result] = checker(cache=cache).check([(f"{base}/ok", "link")])
    assert result.outcome == OK and not result.cached
    assert json.loads(cache.read_text())["results"]


def test_a_site_that_was_down_is_asked_again_after_a_quarter_of_an_hour(tmp_path: Path) -> None:
    cache = tmp_path / CACHE_NAME
    site = Site()
    clock = [1_000_000.0]
    with serve_site(site) as base:
        for minutes in (0, 5, 20):
            later = checker(cache=cache, clock=lambda m=minutes: clock[0] + 60 * m)
            [result] = later.check([(f"{base}/error", "link")])
            assert result.outcome == UNAVAILABLE
            assert result.cached is (minutes == 5)
    assert site.paths("HEAD").count("/error") == 2


def test_an_injected_transport_gets_every_request() -> None:
    import httpx

    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url}")
        return httpx.Response(404 if request.url.path == "/missing" else 200)

    results = checker(transport=httpx.MockTransport(answer)).check(
        [("https://paper.test/ok", "link"), ("https://paper.test/missing", "link")])
    assert [r.outcome for r in results] == [OK, BROKEN]
    assert seen == ["HEAD https://paper.test/ok", "HEAD https://paper.test/missing", "GET https://paper.test/missing"]


def test_behind_a_proxy_names_are_left_to_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    with serve_site(Site()) as proxy:
        # The proxy (our loopback site, which answers 404 to anything) is asked; no local lookup says "no such host".
        monkeypatch.setenv("HTTPS_PROXY", proxy)
        monkeypatch.setenv("NO_PROXY", "")
        [result] = checker().check([("https://no-such-site.invalid/story", "link")])
    assert result.outcome != UNRESOLVABLE


def test_works_where_an_event_loop_already_runs() -> None:
    import asyncio

    async def inside() -> list[str]:
        with serve_site(Site()) as base:
            return [r.outcome for r in checker().check([(f"{base}/ok", "link")])]

    # In a thread of its own: this one may already run Playwright's loop, when the browser tests ran first.
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(lambda: asyncio.run(inside())).result() == [OK]
