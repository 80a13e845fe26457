"""A snippet's header: the `#| key: value` lines that open the file.

Every key is checked here, once, so a typo or an impossible value is an error
naming path:line rather than a silently ignored setting.
"""

from __future__ import annotations

import doctest
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

from .interpreters import version_matches

_HEADER = re.compile(r"^#\|\s*([a-z-]+)\s*:\s*(.*?)\s*$")
# IGNORE_EXCEPTION_DETAIL is doctest's runner's, not its checker's; check.py implements it.
ALLOWED_FLAGS = ("ELLIPSIS", "NORMALIZE_WHITESPACE", "IGNORE_EXCEPTION_DETAIL")
KEYS = ("implementations", "versions", "why", "timeout", "flags", "varies", "raises", "repl", "draw")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REPLS = ("default", "basic")  # basic: PYTHON_BASIC_REPL=1, the pre-3.13 REPL on 3.13+
TIMEOUT_RANGE = (0.5, 120.0)  # seconds; a run is meant to show something, not to benchmark


class SnippetError(ValueError):
    """A snippet file that cannot be understood; the message names path:line."""


@dataclass(frozen=True)
class Options:
    """What a snippet's header may say. Anything else is an error."""

    implementations: tuple[str, ...] = ("cpython",)
    versions: str | None = None  # "3.11+", "3.10-3.12": language versions it applies to
    timeout: float = 10.0
    flags: tuple[str, ...] = ()
    varies: str | None = None  # why outputs differ run to run ("ids and addresses")
    raises: str | None = None  # scripts only: the exception they are meant to end with
    why: str | None = None  # required reason when `versions` narrows the list
    repl: str = "default"  # "basic": run under PYTHON_BASIC_REPL=1, as a page teaching the difference asks
    draw: tuple[str, ...] = ()  # names whose objects are drawn, as they are at the end of the run

    def applies_to(self, implementation: str, language: str) -> bool:
        if implementation not in self.implementations:
            return False
        return self.versions is None or version_matches(self.versions, language)

    @property
    def optionflags(self) -> int:
        # A recorded `1` never accepts a printed `True`: this site teaches that
        # bool is an int, so the difference is the point.
        value = doctest.DONT_ACCEPT_TRUE_FOR_1
        for name in self.flags:
            value |= doctest.OPTIONFLAGS_BY_NAME[name]
        return value


def parse_header(lines: list[str], path: Path) -> tuple[Options, int]:
    """Options from the leading `#|` lines, and the index of the first line after them."""
    values: dict[str, tuple[str, int]] = {}
    index = 0
    while index < len(lines) and lines[index].startswith("#|"):
        match = _HEADER.match(lines[index])
        if not match:
            raise SnippetError(f"{path}:{index + 1}: header lines read '#| key: value'")
        key = match.group(1)
        if key in values:
            raise SnippetError(f"{path}:{index + 1}: '{key}' given twice")
        values[key] = (match.group(2), index + 1)
        index += 1
    return _options_from(values, path), index


def _options_from(values: dict[str, tuple[str, int]], path: Path) -> Options:
    for key, (_, line) in values.items():
        if key not in KEYS:
            raise SnippetError(f"{path}:{line}: unknown header key '{key}'; known: {', '.join(KEYS)}")

    def where(key: str) -> str:
        return f"{path}:{values[key][1]}"

    text = {key: value for key, (value, _) in values.items()}
    options = Options()
    if "implementations" in text:
        impls = tuple(text["implementations"].replace(",", " ").split())
        if not impls or set(impls) - {"cpython", "pypy"}:
            raise SnippetError(f"{where('implementations')}: implementations are 'cpython' and/or 'pypy'")
        options = replace(options, implementations=impls)
    if "versions" in text:
        try:
            version_matches(text["versions"], "3.12")
        except ValueError as error:
            raise SnippetError(f"{where('versions')}: {error}") from None
        if not text.get("why"):
            raise SnippetError(f"{where('versions')}: 'versions' needs a 'why' line saying why")
        options = replace(options, versions=text["versions"], why=text["why"])
    elif "why" in text:
        raise SnippetError(f"{where('why')}: 'why' explains a 'versions' line, and there is none")
    if "timeout" in text:
        options = replace(options, timeout=_timeout(text["timeout"], where("timeout")))
    if "flags" in text:
        flags = tuple(text["flags"].replace(",", " ").split())
        bad = [flag for flag in flags if flag not in ALLOWED_FLAGS]
        if bad or not flags:
            raise SnippetError(
                f"{where('flags')}: unknown flag(s) {bad}; allowed: {', '.join(ALLOWED_FLAGS)}"
            )
        options = replace(options, flags=flags)
    if "repl" in text:
        if text["repl"] not in REPLS:
            raise SnippetError(f"{where('repl')}: repl is one of {', '.join(REPLS)}, not {text['repl']!r}")
        options = replace(options, repl=text["repl"])
    if "draw" in text:
        names = tuple(text["draw"].replace(",", " ").split())
        bad = [name for name in names if not _NAME.match(name)]
        if bad or not names:
            raise SnippetError(
                f"{where('draw')}: draw names variables of the transcript, not {bad or text['draw']!r}"
            )
        options = replace(options, draw=names)
    for key in ("varies", "raises"):
        if key in text and not text[key]:
            raise SnippetError(f"{where(key)}: '{key}' needs a value")
    options = replace(options, varies=text.get("varies"), raises=text.get("raises"))
    return options


def _timeout(text: str, where: str) -> float:
    low, high = TIMEOUT_RANGE
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (low <= value <= high):  # also false for nan; inf is above the range
        raise SnippetError(f"{where}: timeout is a number of seconds from {low:g} to {high:g}, not {text!r}")
    return value
