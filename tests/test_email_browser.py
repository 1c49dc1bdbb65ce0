"""The email in real headless Chromium: no horizontal overflow at phone and desktop widths, light
and dark, readable contrast in dark mode; screenshots kept in tests/artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from newsletter.config import load_config
from newsletter.inline import inline_css
from newsletter.render import render_email
from tests.emailgen import PLACEHOLDERS, make_issue

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent

# For every element with its own text: its colour, and the first opaque background behind it.
CONTRAST_JS = """() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => { for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    if (!own || style.display === 'none' || style.opacity === '0' || el.closest('[style*="display:none"]')) continue;
    const fg = parse(style.color), bg = background(el);
    const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    out.push({text: el.textContent.trim().slice(0, 40), ratio: (l1 + 0.05) / (l2 + 0.05)});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    config = load_config(ROOT / "newsletter.toml")
    return {"week12": inline_css(render_email(make_issue(12), config, PLACEHOLDERS))}


def open_page(browser: Any, source: str, width: int, scheme: str) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.route("**/*", lambda route, request: route.abort())  # offline: images stay unloaded
    page.set_content(source, wait_until="load")
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [320, 375, 600])
def test_no_horizontal_overflow(browser: Any, artifacts: Path, pages: dict[str, str], width: int, scheme: str) -> None:
    page = open_page(browser, pages["week12"], width, scheme)
    try:
        scroll = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate("""w => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > w + 1)
            .slice(0, 5).map(e => e.outerHTML.slice(0, 80))""", width)
        page.screenshot(path=str(artifacts / f"email_{width}_{scheme}.png"), full_page=True)
        assert scroll <= width, wide
        assert not wide, wide
    finally:
        page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast(browser: Any, pages: dict[str, str], scheme: str) -> None:
    page = open_page(browser, pages["week12"], 600, scheme)
    try:
        if scheme == "dark":
            assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
            body = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
            assert body != "rgb(255, 255, 255)"  # the dark styles took effect
        results = page.evaluate(CONTRAST_JS)
        assert len(results) > 100
        low = [r for r in results if r["ratio"] < 4.5]
        assert not low, low[:5]
    finally:
        page.context.close()
