"""Results of pure conversions, kept from one build to the next in the same process.

`mkdocs serve` (and a long-lived Zensical) rebuilds the whole site after every
change, in one process. Most of that work gives the same answer as last time:
a fence's Markdown under the same configuration converts to the same HTML. A
`BuildMemo` remembers those answers for the build under way and the one
before it, so memory stays bounded by about two builds' worth: a value the
last build did not use belongs to an edited or removed example.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BuildMemo(Generic[K, V]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._current: dict[K, V] = {}
        self._previous: dict[K, V] = {}
        self._lock = threading.Lock()
        self.hits = 0  # since the process started
        self.misses = 0

    def next_generation(self) -> None:
        """A new build begins: keep only what the build that just ended used."""
        with self._lock:
            self._previous, self._current = self._current or self._previous, {}

    def get(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            if key in self._current:
                self.hits += 1
                return self._current[key]
            if key in self._previous:
                self.hits += 1
                value = self._current[key] = self._previous.pop(key)
                return value
            self.misses += 1
        value = compute()
        with self._lock:
            self._current[key] = value
        return value
