"""The documentation shipped with the package, so every "see ..." in a message works once installed.

Messages point to a page as ``newsletter docs <topic>`` (``see("services", "listmonk")``), which
prints the page that came with the installed version: no network, no checkout needed.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def docs_dir() -> Path:
    """The Markdown pages: newsletter/docs in a wheel, else the checkout's docs/."""
    packaged = resources.files("newsletter") / "docs"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "docs"


def topics() -> dict[str, str]:
    """Topic name -> the page's title, e.g. {"configuration": "Configuration: newsletter.toml"}."""
    found: dict[str, str] = {}
    folder = docs_dir()
    if folder.is_dir():
        for page in sorted(folder.glob("*.md")):
            first = page.read_text("utf-8").lstrip().splitlines()[:1]
            found[page.stem] = first[0].lstrip("# ").strip() if first else page.stem
    return found


def page(topic: str) -> str | None:
    """The Markdown text of one topic, or None when there is no such page."""
    name = topic.strip().lower().removesuffix(".md")
    path = docs_dir() / f"{name}.md"
    if name not in topics() or not path.is_file():
        return None
    return path.read_text("utf-8")


def see(topic: str, section: str | None = None) -> str:
    """The sentence a message ends with to point at the docs: 'See `newsletter docs services`.'"""
    where = f"the {section} section of " if section else ""
    return f"See {where}`newsletter docs {topic}`."
