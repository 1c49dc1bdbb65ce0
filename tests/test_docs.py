"""Every command and option is documented, in --help and in docs/commands.md (like sqlite-utils)."""

from __future__ import annotations

import click
import pytest

from newsletter.cli import cli
from tests.conftest import ROOT

DOCS = (ROOT / "docs" / "commands.md").read_text()
COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_and_docs(name: str) -> None:
    command = cli.commands[name]
    assert command.help and "Examples" in command.help
    assert f"## `newsletter {name}`" in DOCS


@pytest.mark.parametrize(
    ("name", "option"),
    [
        (name, opt)
        for name in COMMANDS
        for param in cli.commands[name].params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--") and opt != "--help"
    ],
)
def test_every_option_documented(name: str, option: str) -> None:
    assert f"`{option}" in DOCS, f"{option} of `newsletter {name}` is missing from docs/commands.md"
    param = next(p for p in cli.commands[name].params if option in getattr(p, "opts", []))
    assert param.help


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert "make sample" in first_block and "make test" in first_block
    assert "make test" in (ROOT / ".ci" / "run").read_text()
