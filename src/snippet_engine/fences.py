"""The engine's fences: one parser for their bodies, and a scanner that finds them in pages.

The build (through superfences), the tests and the orphan check all read a
fence body with `parse_body`, so a body means the same thing everywhere.
`find_fences` locates fences in a page's Markdown the way superfences does
(a run of three or more backticks or tildes, closed by a run at least as
long at the same indentation), so the site can be prefetched before the
first page renders.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

NAMES = ("snippet", "snippet-table", "interpreters", "predict")
# What a `predict` fence may say after its snippet path, one `key: value` line each.
PREDICT_KEYS = ("ask", "choices", "why")
_OPENER = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)$")


class FenceError(ValueError):
    """A fence body that does not say what the engine needs; the message says what is wrong."""


@dataclass(frozen=True)
class Fence:
    name: str  # one of NAMES
    rows: tuple[tuple[str, str], ...]  # (label, snippet path); a `snippet` fence has one, label ""
    settings: tuple[tuple[str, str], ...] = ()  # a `predict` fence's `key: value` lines

    def setting(self, key: str, default: str = "") -> str:
        return dict(self.settings).get(key, default)

    @property
    def paths(self) -> list[str]:
        return [path for _, path in self.rows]


def parse_body(name: str, body: str) -> Fence:
    """A fence's body -> what it names. Raises FenceError on anything else."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if name == "interpreters":
        if lines:
            raise FenceError("an `interpreters` fence has no body")
        return Fence(name, ())
    if name == "snippet":
        if len(lines) != 1:
            raise FenceError(f"a `snippet` fence names exactly one snippet file, found {len(lines)} lines")
        return Fence(name, (("", snippet_path(lines[0])),))
    if name == "snippet-table":
        rows = []
        for line in lines:
            label, bar, path = line.rpartition("|")
            if not bar or not label.strip():
                raise FenceError(f"snippet-table rows read 'label | snippet path', got {line!r}")
            rows.append((label.strip(), snippet_path(path.strip())))
        if not rows:
            raise FenceError("a `snippet-table` fence needs at least one 'label | snippet path' row")
        return Fence(name, tuple(rows))
    if name == "predict":
        return _predict(lines)
    raise FenceError(f"unknown fence {name!r}")


def _predict(lines: list[str]) -> Fence:
    """A snippet path, then `ask:` (the question), `choices:` (extra wrong answers, `|`-separated), `why:`."""
    if not lines:
        raise FenceError("a `predict` fence names a snippet file on its first line")
    settings: dict[str, str] = {}
    for line in lines[1:]:
        key, colon, value = line.partition(":")
        key = key.strip()
        if not colon or key not in PREDICT_KEYS:
            raise FenceError(
                f"predict lines read 'key: value' with a key from {', '.join(PREDICT_KEYS)}; got {line!r}"
            )
        # A long `why:` may go on over several lines, each starting with `why:`.
        settings[key] = f"{settings[key]} {value.strip()}" if key in settings else value.strip()
    if not settings.get("why"):
        raise FenceError("a `predict` fence needs a `why:` line: the reveal explains the answer")
    return Fence("predict", (("", snippet_path(lines[0])),), tuple(sorted(settings.items())))


def snippet_path(text: str) -> str:
    """A path relative to snippets/, spelled plainly; links are checked when the file is opened."""
    path = PurePosixPath(text)
    if path.is_absolute() or ".." in path.parts or "\\" in text or not path.parts:
        raise FenceError(f"snippet paths are relative to snippets/ and stay inside it, not {text!r}")
    return path.as_posix()


@dataclass(frozen=True)
class Found:
    name: str
    body: str


_INLINE_VALUE = re.compile(r"`#!out\s+([^`]+)`")


def find_values(markdown: str) -> Iterator[str]:
    """Every inline value's spec in a page (`#!out ...` code spans), for prefetch and the orphan check."""
    for match in _INLINE_VALUE.finditer(markdown):
        yield match.group(1)


def find_fences(markdown: str) -> Iterator[Found]:
    """Every engine fence in a page, outermost fences only (a fence shown inside a fence is text)."""
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opener = _OPENER.match(lines[index])
        if opener is None:
            index += 1
            continue
        indent, fence = opener.group("indent"), opener.group("fence")
        closer = re.compile(rf"^{re.escape(indent)}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = index + 1
        while end < len(lines) and not closer.match(lines[end]):
            end += 1
        info = opener.group("info").split()
        name = info[0].lstrip(".{") if info else ""
        if name in NAMES:
            body = "\n".join(line[len(indent) :] for line in lines[index + 1 : end])
            yield Found(name, body)
        index = end + 1


@dataclass(frozen=True)
class Value:
    """An inline value: `#!out memory/x.pycon:3 3.14 /re/` in prose (pymdownx.inlinehilite)."""

    path: str
    line: int | None  # the input starting on this line of the file; None: the last input
    key: str  # an interpreter key, or "all" for a per-version list
    pattern: str | None  # a regular expression: its first group (or match) is the value


_VALUE = re.compile(r"^(?P<path>[^\s:]+)(?::(?P<line>\d+))?\s+(?P<key>\S+)(?:\s+/(?P<pattern>.+)/)?$")


def parse_value(text: str) -> Value:
    """`path[:line] key [/regex/]` -> a Value; FenceError says what an inline value looks like."""
    match = _VALUE.match(text.strip())
    if match is None:
        raise FenceError(f"an inline value reads `#!out path[:line] key [/regex/]`, not {text!r}")
    line = int(match["line"]) if match["line"] else None
    try:
        pattern = re.compile(match["pattern"]).pattern if match["pattern"] else None
    except re.error as error:
        raise FenceError(f"bad regular expression in {text!r}: {error}") from None
    return Value(snippet_path(match["path"]), line, match["key"], pattern)
