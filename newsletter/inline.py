"""Inline the theme's CSS into the compiled email (premailer), keeping what inlining would break."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import Any

import cssutils
import premailer.merge_style
import premailer.premailer
from premailer import Premailer

from newsletter.render import neutralise

# Only <style data-inline> blocks are inlined. Every other block (MJML's own resets, responsive
# rules, dark mode, Outlook.com's [data-ogsc] rules) is marked for premailer to leave verbatim:
# its cssutils re-serialisation would otherwise drop rules it cannot match in the document
# (like [data-ogsc] ones, which Outlook.com's own attributes make match) and inline resets into
# every table cell, costing kilobytes.
_STYLE_OPEN = re.compile(r"<style\b([^>]*)>", re.IGNORECASE)
_DOCTYPE = re.compile(r"^\s*<!doctype html>", re.IGNORECASE)
# Text outside <style> blocks and comments (which hold CSS and MSO conditionals), to re-encode
# the merge-tag characters that parsing decoded.
_PROTECTED = re.compile(r"(<style\b.*?</style>|<!--.*?-->)", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"(<!--.*?-->)", re.DOTALL)
_FLOAT = re.compile("float", re.IGNORECASE)


def _mark(match: re.Match[str]) -> str:
    attributes = match.group(1)
    if re.search(r"\bdata-inline\b", attributes):
        return "<style" + re.sub(r'\s*data-inline(="[^"]*")?', "", attributes) + ">"
    if "data-premailer" in attributes:
        return match.group(0)
    return f'<style data-premailer="ignore"{attributes}>'


def _without_css_profiles() -> None:
    # premailer checks every style attribute it merges against cssutils' CSS profiles
    # (merge_styles -> csstext_to_pairs(validate=True), whatever disable_validation says), and
    # the first check of each property compiles one of cssutils' huge regular expressions:
    # about 50 ms of every build, for log messages nobody reads (cssutils_logging_level below).
    # With no profiles every property is merely "unknown" (a dropped log line); the output is
    # the same. cssutils is premailer's engine and used nowhere else in the process.
    if cssutils.profile.knownNames:
        cssutils.profile.removeProfile(all=True)


def _engine() -> list[str]:
    """What shapes cssutils' and premailer's parse: their versions (cssutils has no version
    attribute, so its installed file and its time stand for it; a reinstall changes them)."""
    from premailer import __version__ as premailer_version

    return [premailer_version, f"{cssutils.__file__}:{os.stat(cssutils.__file__).st_mtime_ns}"]


class _Declarations:
    """premailer's ``csstext_to_pairs``, with its answers kept between runs (newsletter.cache).

    premailer turns every declaration list it merges (each rule's and each element's ``style``
    attribute as MJML wrote it) into ``(property, value)`` pairs with ``cssutils.parseStyle``,
    and cssutils compiles a dozen large regular expressions on the first value it parses: about
    25 ms of every build, for answers that depend only on the declaration text. That text comes
    from the theme and MJML, never from article text, so the same few dozen lists recur every
    week. The answers are read once per run and the new ones written once, after inlining.
    """

    def __init__(self, parse: Callable[..., list[tuple[str, str]]]):
        from newsletter.cache import JsonCache

        self.parse = parse
        # premailer's function finds its lock through its module-level name, which is now this.
        self._lock = getattr(parse, "_lock", None)
        self.cache = JsonCache("css-declarations", limit=1024)
        self.engine = _engine()
        self.new: dict[str, list[tuple[str, str]]] = {}

    def __call__(self, csstext: str, validate: bool = True) -> list[tuple[str, str]]:
        key = self.cache.key(*self.engine, str(validate), csstext)
        kept = self.cache.get(key)
        if isinstance(kept, list) and all(_texts(pair, 2) for pair in kept):
            return [(name, value) for name, value in kept]
        pairs = self.parse(csstext, validate=validate)
        self.new[key] = pairs
        return pairs

    def save(self) -> None:
        if self.new:
            self.cache.update(self.new)
            self.new = {}


_declarations: _Declarations | None = None


def _kept_declarations() -> _Declarations:
    # premailer calls csstext_to_pairs by its module-level name in two modules; both are pointed
    # at the one caching wrapper, once per process.
    global _declarations
    if _declarations is None:
        _declarations = _Declarations(premailer.merge_style.csstext_to_pairs)
        premailer.merge_style.csstext_to_pairs = _declarations
        premailer.premailer.csstext_to_pairs = _declarations
    return _declarations


class _Inliner(Premailer):  # type: ignore[misc]
    """Premailer, with the theme's parsed style rules kept between runs (newsletter.cache).

    Parsing the ``<style data-inline>`` block with cssutils is a third of premailer's work, and
    its result depends only on that CSS text (the theme and its colours), which rarely changes.
    premailer turns the parsed sheet into plain (specificity, selector, declarations) tuples;
    those are what is kept, keyed by the CSS text, the options that shape the parse and the
    versions of premailer and cssutils.
    A block holding @media rules (kept as cssutils objects) is parsed every time.
    """

    def _parse_style_rules(self, css_body: str, ruleset_index: int) -> tuple[list[Any], list[Any]]:
        from newsletter.cache import JsonCache

        cache = JsonCache("css-rules", limit=32)
        # Every option premailer's _parse_style_rules reads is part of the key.
        options = (self.strip_important, self.disable_validation, self.exclude_pseudoclasses,
                   self.include_star_selectors)
        key = cache.key(*_engine(), str(ruleset_index), repr(options), css_body)
        kept = _kept_rules(cache.get(key))
        if kept is not None:
            return kept
        rules, leftover = super()._parse_style_rules(css_body, ruleset_index)
        if all(isinstance(item, tuple) for item in leftover):
            cache.put(key, [rules, leftover])
        return rules, leftover


def _texts(value: Any, count: int) -> bool:
    """Whether ``value`` is a JSON list of ``count`` strings."""
    return isinstance(value, list) and len(value) == count and all(isinstance(item, str) for item in value)


def _kept_rules(kept: Any) -> tuple[list[Any], list[Any]] | None:
    """A kept ``[rules, leftover]`` entry as premailer's tuples, or None when it is not one.

    The cache file is read as data, not trusted: anything but lists of (specificity numbers,
    selector, declarations) and (selector, declarations) is parsed again, never half used.
    """
    if not (isinstance(kept, list) and len(kept) == 2 and isinstance(kept[0], list) and isinstance(kept[1], list)):
        return None
    rules: list[Any] = []
    for rule in kept[0]:
        if not (isinstance(rule, list) and len(rule) == 3 and isinstance(rule[0], list)
                and all(type(number) is int for number in rule[0]) and _texts(rule[1:], 2)):
            return None
        rules.append((tuple(rule[0]), rule[1], rule[2]))
    if not all(_texts(item, 2) for item in kept[1]):
        return None
    return rules, [tuple(item) for item in kept[1]]


def inline_css(html: str) -> str:
    """Inline ``<style data-inline>`` rules; keep the doctype, other styles and MSO comments."""
    _without_css_profiles()
    declarations = _kept_declarations()
    # premailer keeps a doctype only if it matches lxml's spelling, so use that spelling.
    had_doctype = bool(_DOCTYPE.match(html))
    source = _DOCTYPE.sub("<!DOCTYPE html>", html, count=1)
    source = _outside_protected(source, lambda part: _STYLE_OPEN.sub(_mark, part), _COMMENT)
    result = _Inliner(
        source,
        keep_style_tags=False,
        remove_classes=False,  # the dark-mode and responsive rules still need them
        strip_important=False,
        disable_validation=True,
        allow_network=False,
        cssutils_logging_level=logging.CRITICAL,
        # Gives a floated <img> Outlook's align attribute, by parsing every picture's style with
        # cssutils; with no "float" anywhere in the document (the theme has none) none can float.
        # (property names are case-insensitive: FLOAT floats too)
        align_floating_images=_FLOAT.search(source) is not None,
        # bgcolor/width/align attributes copied from CSS are invalid on the divs and
        # paragraphs of the theme; MJML already writes the ones Outlook needs on its tables.
        disable_basic_attributes=["align", "valign", "bgcolor", "width", "height"],
    ).transform(pretty_print=False)
    declarations.save()
    # premailer leaves the marker on blocks it skips for their media attribute.
    result = result.replace(' data-premailer="ignore"', "")
    result = _DOCTYPE.sub("", result, count=1).lstrip()
    if had_doctype:
        result = "<!doctype html>" + result
    # lxml decoded &#123; &#125; &#124; back into characters; encode them again outside CSS
    # and comments so merge-tag syntax from article text stays inert.
    return _outside_protected(result, neutralise, _PROTECTED)


def _outside_protected(html: str, change: Callable[[str], str], protected: re.Pattern[str]) -> str:
    """Apply ``change`` to the parts of the HTML that ``protected`` (one capturing group) does not match."""
    parts = protected.split(html)
    return "".join(part if index % 2 else change(part) for index, part in enumerate(parts))
