"""The email in real headless Chromium: no horizontal overflow at phone and desktop widths, light
and dark, readable contrast in dark mode; screenshots kept in tests/artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from newsletter.config import load_config
from newsletter.inline import inline_css
from newsletter.markdown import read_markdown
from newsletter.render import render_email
from tests.emailgen import PLACEHOLDERS, make_issue, make_story

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


RICH = """The new stalls, on a map drawn at print size:

![Map of the stalls along the parking lot](https://x.example/map.png){width=1600 height=900}

![A photo whose size nobody stated](https://x.example/photo.jpg)

| Stall | Owner | Hours | Phone | Notes |
|:--|:--|--:|:-:|:--|
| 1 | Nguyễn Văn Được | 9–5 | [714-555-0100](tel:+17145550100) | Antidisestablishmentarianism-length-word |
| 2 | Trần Thị Hoa | 10–6 | [714-555-0101](tel:+17145550101) | https://county.example.gov/a/very/long/unbroken/path |

- one
  - two
    - three with a [long link](https://county.example.gov/grants?program=storefront&lang=vi&x=1)

> A quote with a list:
>
> 1. first
> 2. second

```
a_code_line_that_is_far_too_long_to_fit_a_phone_screen_without_wrapping_anywhere_at_all = 1
```
"""


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    config = load_config(ROOT / "newsletter.toml")
    rich_body, _ = read_markdown(RICH)
    rich = make_issue(stories=(make_story(0, body=rich_body, analysis=rich_body, image=True),
                               make_story(1, image=True, analysis=rich_body)))
    return {"week12": inline_css(render_email(make_issue(12), config, PLACEHOLDERS)),
            "rich": inline_css(render_email(rich, config, PLACEHOLDERS))}


def open_page(browser: Any, source: str, width: int, scheme: str) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.route("**/*", lambda route, request: route.abort())  # offline: images stay unloaded
    page.set_content(source, wait_until="load")
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("name", "width"), [("week12", 320), ("week12", 375), ("week12", 600), ("rich", 320),
                                             ("rich", 600)])
def test_no_horizontal_overflow(browser: Any, artifacts: Path, pages: dict[str, str], name: str, width: int,
                                scheme: str) -> None:
    """Body pictures of any size, a wide table, long words and URLs, code: nothing scrolls sideways."""
    page = open_page(browser, pages[name], width, scheme)
    try:
        scroll = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate("""w => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > w + 1)
            .slice(0, 5).map(e => e.outerHTML.slice(0, 80))""", width)
        page.screenshot(path=str(artifacts / f"email_{name}_{width}_{scheme}.png"), full_page=True)
        assert scroll <= width, wide
        assert not wide, wide
    finally:
        page.context.close()


def test_pictures_shrink_and_keep_their_ratio_on_a_phone(browser: Any, pages: dict[str, str]) -> None:
    page = open_page(browser, pages["rich"], 320, "light")
    try:
        sizes = page.evaluate("""[...document.querySelectorAll('img')].map(i => {
            const r = i.getBoundingClientRect(); return [i.getAttribute('width'), r.width, r.height]; })""")
        assert sizes and all(0 < width <= 320 - 48 for _, width, _ in sizes), sizes
        map_width, map_height = next((w, h) for attr, w, h in sizes if attr == "552")
        assert abs(map_height - map_width * 900 / 1600) < 2  # the stated 16:9 ratio, scaled down
    finally:
        page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", ["week12", "rich"])
def test_text_contrast(browser: Any, pages: dict[str, str], name: str, scheme: str) -> None:
    page = open_page(browser, pages[name], 600, scheme)
    try:
        if scheme == "dark":
            assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
            body = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
            assert body != "rgb(255, 255, 255)"  # the dark styles took effect
        results = page.evaluate(CONTRAST_JS)
        assert len(results) > 50
        low = [r for r in results if r["ratio"] < 4.5]
        assert not low, low[:5]
    finally:
        page.context.close()


# Three columns of short words beside one of long text: it fits a phone with every word whole.
NARROW_TABLE = """| Clinic | Phone | Vietnamese |
|---|--:|:-:|
| Betio | 555-0100 | Yes |
| Magnolia Health Center (main building, second floor, room 204) | 555-0101 | Tiếng Việt có |
"""

# Each cell's words (a line may break after a hyphen, as anywhere in text), and the width of the
# widest one set on one line, against the cell's own width.
WORDS_JS = """() => [...document.querySelectorAll('table.dt th, table.dt td')].map(cell => {
  const probe = document.createElement('span');
  probe.style.whiteSpace = 'nowrap';
  const style = getComputedStyle(cell);
  const inner = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const widest = Math.max(...cell.textContent.split(/\\s+|(?<=-)/).filter(Boolean).map(word => {
    probe.textContent = word; cell.appendChild(probe);
    const width = probe.getBoundingClientRect().width; probe.remove(); return width; }));
  return {text: cell.textContent, widest, inner};
})"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_table_that_fits_a_phone_keeps_its_words_whole(browser: Any, scheme: str) -> None:
    """Only a table too wide for a phone may break words; "Vietnamese" never becomes "Vietna / mese"."""
    config = load_config(ROOT / "newsletter.toml")
    body, _ = read_markdown(f"Hours:\n\n{NARROW_TABLE}")
    source = inline_css(render_email(make_issue(stories=(make_story(0, body=body),)), config, PLACEHOLDERS))
    for width in (320, 375):
        page = open_page(browser, source, width, scheme)
        try:
            cells = page.evaluate(WORDS_JS)
            assert len(cells) == 9
            broken = [c for c in cells if c["widest"] > c["inner"] + 0.5]
            assert not broken, (width, broken)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        finally:
            page.context.close()
