"""Results of pure conversions, kept from one build to the next in the same process.

`mkdocs serve` rebuilds the whole site after every change, in one long-lived
process. Most of that work gives the same answer as last time: a fence's
Markdown under the same configuration converts to the same HTML, and a page's
HTML gives the same search entries. A `BuildMemo` remembers those answers for
the build under way and the one before it (so memory stays bounded by about
two builds' worth), and forgets everything when the configuration changes.

It is switched on by the MkDocs plugin (`snippet_engine.plugin`), which knows
when a build starts and what configuration it uses; without it (Zensical, a
bare Markdown instance) `get` simply computes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BuildMemo(Generic[K, V]):
    def __init__(self, name: str) -> None:
        self.name = name
        self.scope: str | None = None  # the configuration's fingerprint; None: off
        self._current: dict[K, V] = {}
        self._previous: dict[K, V] = {}
        self.hits = 0
        self.misses = 0

    def start_build(self, scope: str) -> None:
        """A build begins: keep the last build's values only if the configuration is the same."""
        self._previous = {**self._previous, **self._current} if scope == self.scope else {}
        self._current = {}
        self.scope = scope
        self.hits = self.misses = 0

    def end_build(self) -> None:
        # Values the finished build did not use belong to an edited or
        # removed example: drop them so a long serve session does not grow.
        self._previous = self._current
        self._current = {}

    def stop(self) -> None:
        self.scope = None
        self._current, self._previous = {}, {}

    def get(self, key: K, compute: Callable[[], V]) -> V:
        if self.scope is None:
            return compute()
        if key in self._current:
            self.hits += 1
            return self._current[key]
        if key in self._previous:
            self.hits += 1
            value = self._previous.pop(key)
        else:
            self.misses += 1
            value = compute()
        self._current[key] = value
        return value
