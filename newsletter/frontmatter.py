"""YAML front matter read as typed: the only module that imports PyYAML.

Only PyYAML's composer runs (no construction of Python objects), so every scalar stays the text
the editor typed: ``lang: no`` is "no" and ``title: Yes`` is "Yes", where YAML 1.1 would make
them booleans; ``1.10`` stays "1.10". Aliases, anchors and deep nesting are refused before they
cost anything. content.py imports this module only for a file that has front matter, so a
build of plain-text articles never loads PyYAML (about 15 ms of start-up).
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_DEPTH = 4  # nodes: the mapping, two levels of lists or tables, a scalar
_NULLS = ("", "~", "null", "Null", "NULL")


class FrontMatterProblem(Exception):
    """Front matter that cannot be used; ``line`` is 1-based within the front matter's text."""

    def __init__(self, problem: str, hint: str, line: int):
        super().__init__(problem)
        self.problem, self.hint, self.line = problem, hint, line


class _Composer(yaml.SafeLoader):
    """Composes the YAML node tree only, refusing aliases, anchors and deep nesting.

    An alias is how a "billion laughs" bomb multiplies a few lines into gigabytes; nesting is
    how it exhausts the stack. Front matter needs neither.
    """

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            raise FrontMatterProblem(f"front matter uses a YAML alias (*{event.anchor})",
                                     "Write the value out in full: aliases are not allowed in front matter.",
                                     _line(event))
        if getattr(event, "anchor", None):
            raise FrontMatterProblem(f"front matter uses a YAML anchor (&{event.anchor})",
                                     "Remove it: anchors and aliases are not allowed in front matter.",
                                     _line(event))
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise FrontMatterProblem("front matter is nested too deeply",
                                         "Write one 'key: value' per line; only tags may be a list.",
                                         _line(event))
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _line(event: Any) -> int:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else 1


def read_front_matter(text: str) -> list[tuple[str, Any, int]]:
    """``(key, value, line)`` for each ``key: value`` of the front matter, in order.

    Values are str, None (an unquoted empty value, ``~`` or ``null``: not set), or lists and
    dicts of those. Raises FrontMatterProblem for YAML that is broken, not a mapping, or uses
    what front matter never needs.
    """
    try:
        root = yaml.compose(text, Loader=_Composer)  # noqa: S506 (composes nodes, constructs nothing)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "invalid YAML"
        hint = "Fix the YAML between the '---' lines (quote values that contain ':')."
        if "'\\t'" in problem:  # PyYAML: "found character '\t' that cannot start any token"
            problem = "a tab where YAML wants spaces"
            hint = "Replace the tab with spaces: YAML allows no tab before a key or after 'key:'."
        raise FrontMatterProblem(f"broken front matter: {problem}", hint,
                                 mark.line + 1 if mark is not None else 0) from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise FrontMatterProblem("front matter is not a list of 'key: value' lines", "Write it as 'title: ...' lines.",
                                 1)
    entries: list[tuple[str, Any, int]] = []
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise FrontMatterProblem("front matter has a key that is not a word", "Write 'key: value' lines.", line)
        value = _value(value_node)
        if value is None:
            _refuse_comment_for_value(str(key_node.value), text.splitlines()[key_node.end_mark.line],
                                      key_node.end_mark.column, line)
        entries.append((str(key_node.value), value, line))
    return entries


def _refuse_comment_for_value(key: str, line_text: str, key_end: int, line: int) -> None:
    """``title: #1 pho shop`` is a YAML comment, so the title would silently be empty: refuse it."""
    rest = line_text[key_end:].lstrip()
    rest = rest[1:] if rest.startswith(":") else rest
    if rest[:1].isspace() and rest.strip().startswith("#"):
        typed = rest.strip()
        raise FrontMatterProblem(f"'{key}' is empty: YAML reads '{typed}' as a comment",
                                 f'If it is the {key}, put it in quotes: {key}: "{typed}".', line)


def _value(node: yaml.Node) -> Any:
    """A node as typed: text for every scalar (``no`` stays "no"), lists and dicts as they are."""
    if isinstance(node, yaml.ScalarNode):
        if node.style is None and node.value in _NULLS:  # unquoted empty, ~ or null: not set
            return None
        return str(node.value)
    if isinstance(node, yaml.SequenceNode):
        return [_value(item) for item in node.value]
    assert isinstance(node, yaml.MappingNode)
    return {str(_value(key)): _value(value) for key, value in node.value}
