"""The plain-text part of the email, written from the issue's stories (never scraped from HTML).

It carries what the HTML shows: the analysis and impact are shortened by the same function
(newsletter.shorten) to the same number of words, so both parts tell the same story and the
"Read the full story" URL leads to the rest. Its words are the [labels] of the publication's
language, and a story's own headings and link follow the story's language ([labels.<lang>]).
"""

from __future__ import annotations

import re
import textwrap

from newsletter.config import Config
from newsletter.models import Issue, Links, Paragraph, Story
from newsletter.shorten import shorten

WIDTH = 78
RULE = "=" * WIDTH
THIN = "-" * WIDTH
# Merge-tag syntax ({{ }}, {% %}, *| |*) is split with an invisible WORD JOINER so that a
# mailing service's template engine never runs article text; readers see the same characters.
_MERGE = re.compile(r"(?<=\{)|(?=\})|(?<=\*)(?=\|)|(?<=\|)(?=\*)")
_JOINER = "\u2060"


def inert(text: str) -> str:
    """Text with merge-tag and template syntax broken up invisibly."""
    if not any(c in text for c in "{}|"):
        return text
    return _MERGE.sub(_JOINER, text)


def wrap(text: str, indent: str = "") -> str:
    """Wrap at 78 columns; a URL or any long word is never broken, it gets a line of its own."""
    wrapper = textwrap.TextWrapper(width=WIDTH, initial_indent=indent, subsequent_indent=indent,
                                   break_long_words=False, break_on_hyphens=False)
    return "\n".join(wrapper.fill(line) if line.strip() else "" for line in text.splitlines())


def _paragraphs(paragraphs: tuple[Paragraph, ...], indent: str = "") -> list[str]:
    return [wrap(inert(p.text), indent) for p in paragraphs]


def _story(story: Story, config: Config, lead: bool) -> list[str]:
    blocks: list[str] = []
    section = config.theme.section_label(story.section)
    labels = config.labels_for(story.lang)
    heading = f"{section.upper()}\n" if section else ""
    blocks.append(heading + wrap(inert(story.headline)) + "\n" + story.url)
    blocks.append(wrap(inert(story.lede.text)))
    if lead:
        rest = tuple(p for p in story.body if p.text != story.lede.text)
        blocks += _paragraphs(shorten(rest, config.theme.lead_words).paragraphs)
    for label, parts, limit in ((labels.text("analysis"), story.analysis, config.theme.max_words_analysis),
                                (labels.text("impact"), story.impact, config.theme.max_words_impact)):
        if not parts:
            continue
        result = shorten(parts, limit)
        texts = _paragraphs(result.paragraphs, "  ")
        if result.shortened:
            texts[-1] += " …"
        blocks.append(f"{wrap(inert(label)).upper()}\n" + "\n\n".join(texts))
    blocks.append(wrap(inert(labels.text("read_more", headline=story.headline))) + "\n" + story.url)
    return blocks


def plain_text(issue: Issue, config: Config, links: Links) -> str:
    """The text/plain part: masthead, intro, contents, every story, footer; 78 columns."""
    publication = config.publication
    labels = config.labels_for(publication.language)
    dates = labels.date_range(issue.start, issue.end)
    masthead = [wrap(inert(publication.name)).upper()]
    if publication.tagline:
        masthead.append(wrap(inert(publication.tagline)))
    masthead.append(wrap(inert(f"{labels.text('issue', number=issue.number)} · {dates}")) if issue.number else dates)
    blocks = ["\n".join(masthead)]
    blocks += [wrap(inert(p.strip())) for p in re.split(r"\n\s*\n|\n", issue.intro) if p.strip()]
    if issue.stories:
        contents = [f"{n:>2}. {inert(s.headline)}" for n, s in enumerate(issue.stories, 1)]
        blocks.append(wrap(inert(labels.text("contents"))).upper() + "\n" + "\n".join(
            textwrap.fill(line, WIDTH, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)
            for line in contents))
    for number, story in enumerate(issue.stories):
        blocks.append(RULE)
        blocks += _story(story, config, lead=number == 0)
    blocks.append(THIN)
    blocks.append(wrap(inert(publication.reason)))
    blocks.append(wrap(inert(f"{publication.name} · {publication.postal_address}")))
    # One line per link, label then URL: a URL is never wrapped, so a long line may overflow.
    blocks.append("\n".join(
        f"{inert(labels.text(key))}: {url}"
        for key, url in (("unsubscribe", links.unsubscribe), ("preferences", links.preferences),
                         ("view_online", links.view_online))))
    return "\n\n".join(blocks) + "\n"
