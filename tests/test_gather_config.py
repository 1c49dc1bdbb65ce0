"""[sources.<name>] in newsletter.toml: checked when the settings load, every mistake named with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import SourceSettings, load_config
from newsletter.errors import ConfigError


def settings(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsletter.toml"
    path.write_text(text, "utf-8")
    return path


def test_sources_with_defaults(tmp_path: Path) -> None:
    path = settings(tmp_path, """
[sources.site]
type = "wordpress"
url = "https://news.example/"
include_categories = ["World", "vietnam"]
sections = { "Tin Việt Nam" = "vietnam" }
limit = 12

[sources.podcast]
type = "feed"
url = "http://news.example/feed/podcast/"
enabled = false
""")
    config = load_config(path)
    assert list(config.sources) == ["site", "podcast"]
    site = config.sources["site"]
    assert site == SourceSettings(
        name="site", type="wordpress", url="https://news.example/", include_categories=("World", "vietnam"),
        sections={"Tin Việt Nam": "vietnam"}, limit=12,
    )
    assert (site.timeout, site.retries, site.max_pages, site.max_bytes) == (20, 3, 10, 20_000_000)
    assert config.sources["podcast"].enabled is False
    assert load_config(None).sources == {}


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ('type = "feed"\nurl = "https://x.example/feed/"\nlimt = 3\n', 4,
         "unknown setting 'limt' in [sources.site]. Known settings: drop_paragraphs, enabled,"),
        # the source's name is its table's: a name key would be silently overridden
        ('type = "feed"\nurl = "https://x.example/feed/"\nname = "other"\n', 4, "unknown setting 'name'"),
        ('type = "rss"\nurl = "https://x.example/feed/"\n', 2, 'type must be "feed" or "wordpress", not \'rss\''),
        ('type = "feed"\nurl = "x.example/feed/"\n', 3, "url must be an absolute http:// or https:// address"),
        ('type = "feed"\nurl = "https://x.example/"\nlimit = -1\n', 4, "limit must be between 0 and 100000, not -1"),
        ('type = "feed"\nurl = "https://x.example/"\ntimeout = "20"\n', 4, "timeout must be a whole number"),
        ('type = "feed"\nurl = "https://x.example/"\nenabled = "no"\n', 4, "enabled must be true or false"),
        ('type = "feed"\nurl = "https://x.example/"\nlang = "Vietnamese"\n', 4, "lang must be a language tag"),
        ('type = "feed"\nurl = "https://x.example/"\ndrop_paragraphs = ["Follow us (on"]\n', 4,
         "drop_paragraphs: 'Follow us (on' is not a regular expression"),
        ('type = "feed"\nurl = "https://x.example/"\ninclude_tags = "a"\ninclude_tags_x = 1\n', 5,
         "unknown setting 'include_tags_x'"),
        ('type = "feed"\nurl = "https://x.example/"\nsections = { World = 3 }\n', 4,
         "sections must be a table of strings"),
        ('url = "https://x.example/"\n', 1, "[sources.site] has no type."),
        ('type = "feed"\nname = "x"\nurl = "https://x.example/"\n', 3, "unknown setting 'name'"),
    ],
)
def test_mistakes_are_named_with_file_and_line(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = settings(tmp_path, f"[sources.site]\n{body}")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = caught.value.format_message()
    assert text.startswith(f"{path}:{line}: ") or text.startswith(f"newsletter.toml:{line}: "), text
    assert message in text


def test_a_source_that_is_not_a_table(tmp_path: Path) -> None:
    path = settings(tmp_path, '[sources]\nsite = "https://x.example/feed/"\n')
    with pytest.raises(ConfigError, match=r":2: \[sources\] site must be a table"):
        load_config(path)


def test_a_bad_source_name(tmp_path: Path) -> None:
    path = settings(tmp_path, '[sources."my site"]\ntype = "feed"\nurl = "https://x.example/"\n')
    with pytest.raises(ConfigError, match="a source's name is letters, digits"):
        load_config(path)
