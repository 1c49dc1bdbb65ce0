"""Articles -> stories: each headline paired with its analysis and reader-impact parts (pure)."""

from __future__ import annotations

import re
from pathlib import Path

from newsletter.config import Config
from newsletter.content import DATE_PREFIX, is_markdown
from newsletter.document import Block, Emph, Image, Link, Para, blocks_text, is_blank, para
from newsletter.errors import shown
from newsletter.links import image_source, link_target, scheme
from newsletter.markdown import read_inline
from newsletter.models import Article, Story

# Letters that occur in Vietnamese and in no other language a newsroom like ours mixes in.
_VIETNAMESE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]")


def pair_stories(articles: list[Article], config: Config) -> tuple[list[Story], list[str]]:
    """Stories newest first, and a warning for every missing part, naming the file."""
    stories: list[Story] = []
    warnings: list[str] = []
    for article in sorted(articles, key=lambda a: (a.date, str(a.path)), reverse=True):
        story, summary_warnings = to_story(article, config)
        stories.append(story)
        warnings += story_warnings(article, story, config, summary_warnings)
    return stories, warnings


def story_id(article: Article, config: Config) -> str:
    """The file's path under the content folder without its suffix: stable across rebuilds."""
    path = article.path
    try:
        path = path.resolve().relative_to(config.content_dir.resolve())
    except ValueError:
        path = Path(path.name)
    return path.with_suffix("").as_posix()


def to_story(article: Article, config: Config) -> tuple[Story, list[str]]:
    """The story, and the warnings of reading its summary (a refused link in it, say)."""
    lede, body, summary_warnings = story_lede(article)
    return Story(
        id=story_id(article, config),
        source=article.path,
        headline=article.headline,
        url=story_url(article, config),
        date=article.date,
        lede=lede,
        body=body,
        analysis=article.analysis,
        impact=article.impact,
        section=article.section,
        author=article.author,
        image=image_source(article.image) if article.image else None,
        image_alt=article.image_alt,
        image_width=article.image_width,
        image_height=article.image_height,
        lang=article.lang or detect_language(article, config.publication.language),
        tags=article.tags,
    ), summary_warnings


def story_lede(article: Article) -> tuple[Block, tuple[Block, ...], list[str]]:
    """(lede, the rest of the story): the summary, else the story's first paragraph of words.

    A summary in a Markdown file is inline Markdown (emphasis, links); in a plain-text file it
    is literal. Blocks before the first paragraph (a picture, say) stay in the story. A
    paragraph of pictures (a WordPress post's featured picture linked to its full size) or the
    caption under a picture is not the lede; the next paragraph is.
    """
    body = article.body
    if article.summary:
        if is_markdown(article.path):
            inlines, warnings = read_inline(article.summary, f"{shown(article.path)}: summary")
            return Para(inlines), body, warnings
        return para(article.summary), body, []
    paragraphs = [i for i, block in enumerate(body) if isinstance(block, Para)]
    first = next((i for i in paragraphs if _has_words(body, i)), paragraphs[0] if paragraphs else None)
    if first is not None:
        return body[first], body[:first] + body[first + 1 :], []
    if body:
        return body[0], body[1:], []
    return (article.analysis or article.impact)[0], (), []


def _has_words(body: tuple[Block, ...], index: int) -> bool:
    """Whether ``body[index]`` is a paragraph of words: not pictures, nor the caption under one."""
    if _is_picture(body[index]):
        return False
    return not (index and _is_picture(body[index - 1]) and _is_caption(body[index]))


def _is_picture(block: Block) -> bool:
    """A picture standing alone, or a paragraph of nothing but pictures (each may be a link, as
    WordPress links a picture to its full size), perhaps with its caption in italics."""
    if isinstance(block, Image):
        return True
    if not isinstance(block, Para):
        return False
    pictures = 0
    for node in block.inlines:
        if isinstance(node, Image) or (isinstance(node, Link) and node.inlines
                                       and all(isinstance(n, Image) for n in node.inlines)):
            pictures += 1
        elif not (isinstance(node, Emph) or is_blank(node)):
            return False
    return pictures > 0


def _is_caption(block: Block) -> bool:
    """A paragraph all in italics: what a figure's caption becomes (newsletter gather writes it so)."""
    return isinstance(block, Para) and len(block.inlines) == 1 and isinstance(block.inlines[0], Emph)


def story_url(article: Article, config: Config) -> str:
    """Where the headline links: the file's url when it is an absolute https (or http) one."""
    url = article.url or ""
    target = link_target(url) if scheme(url) in ("https", "http") else None
    return target or article_url(article, config)


def article_url(article: Article, config: Config) -> str:
    """The story's link when the file names none: [build] article_url, else the site's home."""
    pattern = config.build.article_url
    if not pattern:
        return config.publication.url
    stem = article.path.stem
    slug = DATE_PREFIX.sub("", stem) or stem
    values = {
        "slug": slug,
        "stem": stem,
        "year": f"{article.date.year:04d}",
        "month": f"{article.date.month:02d}",
        "day": f"{article.date.day:02d}",
        "section": (article.section or "").lower().replace(" ", "-"),
    }
    return pattern.format_map(values)


def detect_language(article: Article, default: str) -> str:
    """'vi' when the headline and lede are plainly Vietnamese, so screen readers switch voice."""
    sample = " ".join([article.headline, blocks_text(article.body[:2])])
    letters = sum(map(str.isalpha, sample)) or 1
    return "vi" if len(_VIETNAMESE.findall(sample)) / letters > 0.04 else default


def story_warnings(article: Article, story: Story, config: Config, summary: list[str] | None = None) -> list[str]:
    """The article's own warnings, its summary's (``summary``, from story_lede), then what the story lacks."""
    lacks: list[str] = []  # what the story lacks, each said of the article file below
    labels = config.headings
    if not story.has_analysis:
        lacks.append(
            f"no analysis (no '{labels.analysis_label}' heading and no "
            f"{article.path.stem}.analysis.md beside it)"
        )
    if not story.has_impact:
        lacks.append(
            f"no reader-impact section (no '{labels.impact_label}' heading and no "
            f"{article.path.stem}.impact.md beside it)"
        )
    if not article.url and not config.build.article_url:
        lacks.append(
            f"no url, so the story links to {config.publication.url}; "
            "add 'url:' front matter or set [build] article_url"
        )
    elif article.url and article.url.lower().startswith("http://"):
        lacks.append(f"url '{article.url}' is not https://, so the email links to {story.url}")
    elif article.url and (scheme(article.url) not in ("https", "http") or link_target(article.url) is None):
        lacks.append(
            f"url '{article.url}' is not an absolute https:// URL, so the story links to {story.url}"
        )
    elif not story.url.startswith("https://"):
        lacks.append(f"url '{story.url}' is not https://; email links must be absolute https URLs")
    # A story picture that is not https, or has no alt text, is a warning of the reader (content.py),
    # which knows the front matter's line.
    where = shown(article.path) if lacks else ""
    return [*article.warnings, *(summary or []), *(f"{where}: {lack}" for lack in lacks)]
