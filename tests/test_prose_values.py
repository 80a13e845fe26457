"""No output is typed into prose: a value a snippet prints reaches a sentence only as an inline value.

For each page, the scan collects the distinctive values that the records of
the snippets it embeds hold (long numbers, number tuples, cache tags,
bytecode instruction names; not what the snippets' own inputs say) and looks
for them in the page's prose: outside code blocks, outside inline values
(`#!out ...`), in the text a reader reads. A hit is a value typed by hand,
which goes stale the day a new version prints something else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT

from snippet_engine import Settings, open_project, parse

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}).*?^(?P=indent)(?P=fence)[ \t]*$", re.M | re.S)
_INLINE_VALUE = re.compile(r"`#!out [^`]+`")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LINK_TARGET = re.compile(r"\]\([^)]*\)|^\s*\[[^\]]+\]:\s*\S+", re.M)
_VALUE_PATTERNS = (
    re.compile(r"(?<![\w.,])\d{4,}(?![\w.])"),  # 4294967295, 3495 (shorter numbers are too common to tell)
    re.compile(r"\(\d+(?:, \d+){2,}\)"),  # (700, 10, 10)
    re.compile(r"\b(?:cpython|pypy)-?\d{2,3}\b"),  # cache tags
    re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b"),  # BINARY_OP, LOAD_CONST, RETURN_GENERATOR
)
# Numbers that examples use as inputs, not outputs of a run.
_NOT_OUTPUTS = {"1000"}
_YEAR = re.compile(r"^(19|20)\d\d$")


def _printed_values(relatives: list[str]) -> set[str]:
    values: set[str] = set()
    for relative in relatives:
        path = ROOT / "snippets" / relative
        if not path.is_file():
            continue  # a dangling fence is another test's failure
        snippet = parse(path.relative_to(ROOT), path.read_text(encoding="utf-8"))
        outputs = "\n".join(variant.text for step in snippet.steps for variant in step.expected)
        inputs = "\n".join(step.source for step in snippet.steps)
        for pattern in _VALUE_PATTERNS:
            # What the inputs themselves say (a traceback quotes its source line) is not an output.
            values.update(set(pattern.findall(outputs)) - set(pattern.findall(inputs)))
    return {v for v in values if v not in _NOT_OUTPUTS and not _YEAR.match(v)}


def _prose(markdown: str) -> str:
    text = _COMMENT.sub(" ", _FENCE.sub(" ", markdown))
    text = _INLINE_VALUE.sub(" ", text)
    return _LINK_TARGET.sub(" ", text)


_PAGES = sorted((ROOT / "docs").rglob("*.md"))


def _embedded_by(page: Path) -> list[str]:
    embedded = open_project(Settings.from_environ(root=ROOT)).embedded()
    name = page.relative_to(ROOT).as_posix()
    return [relative for relative, pages in embedded.items() if name in pages]


def test_the_scan_knows_some_printed_values() -> None:
    # A scan that found nothing to look for would pass on anything.
    everything = [relative for page in _PAGES for relative in _embedded_by(page)]
    assert len(_printed_values(everything)) > 20


@pytest.mark.parametrize("page", _PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_printed_value_is_typed_into_prose(page: Path) -> None:
    values = _printed_values(_embedded_by(page))
    prose = _prose(page.read_text(encoding="utf-8"))
    typed = []
    for pattern in _VALUE_PATTERNS:
        typed += [match for match in pattern.findall(prose) if match in values]
    hint = "use `#!out path[:line] key [/regex/]`"
    assert not typed, f"values a snippet prints, typed into the prose ({hint}): {sorted(set(typed))}"
