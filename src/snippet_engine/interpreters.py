"""Which interpreters the site supports, and what one interpreter is.

An interpreter is more than a CPython version: it is an implementation, the
language version it speaks, its own release, whether it is a free-threaded
build, and a path. `discovery` finds them on a machine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# The one place that says what the site supports, in display order:
# (implementation, language version, free-threaded). One free-threaded build
# (3.13t: the newest whose source a Debian machine can build; GitHub's
# setup-python has it too). CPython 3.10 reached end of life in October 2026.
SUPPORTED: tuple[tuple[str, str, bool], ...] = (
    ("cpython", "3.11", False),
    ("cpython", "3.12", False),
    ("cpython", "3.13", False),
    ("cpython", "3.14", False),
    ("cpython", "3.15", False),
    ("cpython", "3.13", True),
    ("pypy", "3.11", False),
)


def key_of(implementation: str, language: str, free_threaded: bool) -> str:
    """'3.12', '3.13t', 'pypy3.11': how files, test ids and tab links name an interpreter."""
    return f"{'' if implementation == 'cpython' else implementation}{language}{'t' if free_threaded else ''}"


def supported_keys() -> list[str]:
    return [key_of(*supported) for supported in SUPPORTED]


_KEY = re.compile(r"^(?P<impl>pypy)?(?P<language>3\.\d+)(?P<t>t?)$")


def parse_key(key: str) -> tuple[str, str, bool]:
    """'3.13t' -> ('cpython', '3.13', True); the inverse of key_of."""
    match = _KEY.match(key)
    if match is None:
        raise ValueError(f"not an interpreter key: {key!r}")
    return match["impl"] or "cpython", match["language"], bool(match["t"])


def describe_key(key: str) -> str:
    """'3.12' -> 'CPython 3.12', '3.13t' -> 'CPython 3.13t', 'pypy3.11' -> 'PyPy 3.11'."""
    implementation, language, free_threaded = parse_key(key)
    name = "CPython" if implementation == "cpython" else "PyPy"
    return f"{name} {language}{'t' if free_threaded else ''}"


@dataclass(frozen=True, order=True)
class Interpreter:
    """One interpreter, as it describes itself."""

    implementation: str  # "cpython" or "pypy" (sys.implementation.name)
    language: str  # "3.12": what `sys.version_info[:2]` says
    full_version: str  # "3.12.1": sys.version's first word
    implementation_version: str  # PyPy's "8.0.1"; CPython's equals full_version
    cache_tag: str | None
    path: str  # what runs snippets: a clean virtual environment's python
    free_threaded: bool = False  # built with --disable-gil (Py_GIL_DISABLED)
    base: str = ""  # the interpreter the environment was made from, as discovered

    @property
    def key(self) -> str:
        return key_of(self.implementation, self.language, self.free_threaded)

    @property
    def short_label(self) -> str:
        """Tab title: identical on every page so linked tabs switch together."""
        return describe_key(self.key)

    @property
    def exact_label(self) -> str:
        """'CPython 3.12.1', 'CPython 3.13.15t', 'PyPy 3.11.17 (8.0.1)': what provenance and messages name."""
        if self.implementation == "cpython":
            return f"CPython {self.full_version}{'t' if self.free_threaded else ''}"
        return f"PyPy {self.full_version} ({self.implementation_version})"

    @property
    def version_tuple(self) -> tuple[int, int]:
        return parse_version(self.language)


EN_DASH = "\u2013"  # a range of versions, as typeset: 3.12-3.15 with an en dash


def group_label(keys: Sequence[str]) -> str:
    """'CPython 3.12\u20133.15', 'CPython 3.11, 3.13, 3.13t', 'PyPy 3.11': one tab for several interpreters.

    A run of consecutive supported versions is written as a range, the
    free-threaded build after them; each implementation is named once.
    """
    order = supported_keys()
    parts = []
    for implementation, name in (("cpython", "CPython"), ("pypy", "PyPy")):
        members = sorted((k for k in keys if parse_key(k)[0] == implementation), key=order.index)
        runs: list[list[str]] = []
        for key in members:
            previous = runs[-1][-1] if runs else None
            if (
                previous is not None
                and not parse_key(key)[2]
                and not parse_key(previous)[2]
                and order.index(key) == order.index(previous) + 1
            ):
                runs[-1].append(key)
            else:
                runs.append([key])
        spans = [
            run[0].removeprefix("pypy") + ("" if len(run) == 1 else EN_DASH + run[-1].removeprefix("pypy"))
            for run in runs
        ]
        if spans:
            parts.append(f"{name} {', '.join(spans)}")
    return " \u00b7 ".join(parts)


def parse_version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


_VERSION_SPEC = re.compile(r"^(\d+\.\d+)?\s*(\+|-\s*(\d+\.\d+))?$")


def version_matches(spec: str, language: str) -> bool:
    """'3.11+' / '3.11-3.13' / '3.12' against a language version."""
    match = _VERSION_SPEC.match(spec.strip())
    if not match or not match.group(1):
        raise ValueError(f"bad version spec {spec!r}: use '3.12', '3.11+' or '3.11-3.13'")
    low = parse_version(match.group(1))
    version = parse_version(language)
    if match.group(2) == "+":
        return version >= low
    if match.group(3):
        return low <= version <= parse_version(match.group(3))
    return version == low
