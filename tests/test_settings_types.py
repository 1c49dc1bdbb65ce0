"""A setting of the wrong type is reported as the user wrote it in TOML, with what to write
instead: never as Python shows the value (datetime.date(...), {'a': 1}, '180')."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.errors import ConfigError

CASES = [
    ('[publication]\nname = 2026-11-30\n', "not 2026-11-30", 'name = "2026-11-30"'),
    ('[publication]\nname = 2026-11-30T10:00:00Z\n', "not 2026-11-30T10:00:00Z", None),
    ('[publication]\nname = { first = "Saigon" }\n', 'not {first = "Saigon"}', None),
    ('[publication]\nname = ["Saigon", 1]\n', 'not ["Saigon", 1]', None),
    ('[publication]\nlogo_width = "180"\n', 'not "180"', "logo_width = 180"),
    ('[publication]\nlogo_width = 180.5\n', "not 180.5", None),
    ('[theme]\nlead_words = nan\n', "not nan", None),
    ('[tracking]\nenabled = "yes"\n', 'not "yes"', None),
    ("strict = 1\n", "not 1", None),
    ('[theme.sections]\nlocal = 2026-11-30\n', "local = 2026-11-30 is not text", None),
]


@pytest.mark.parametrize(("text", "shown", "hint"), CASES)
def test_a_wrong_type_is_shown_as_written_in_toml(tmp_path: Path, text: str, shown: str, hint: str | None) -> None:
    settings = tmp_path / "newsletter.toml"
    settings.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(settings)
    message = raised.value.message
    assert "newsletter.toml:" in message
    assert shown in message, message
    assert "datetime." not in message and "{'" not in message and "'180'" not in message
    if hint:
        assert hint in message, message
