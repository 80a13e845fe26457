"""An engine built in-process for tests: real parsing, caching and rendering, a fake runner."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from snippet_engine import Discovery, Interpreter, Project, RunResult, Settings, Snippet, StepResult
from snippet_engine.cache import Cache

CPYTHON_312 = Interpreter("cpython", "3.12", "3.12.1", "3.12.1", "cpython-312", "/fake/python3.12")
CPYTHON_313 = Interpreter("cpython", "3.13", "3.13.0", "3.13.0", "cpython-313", "/fake/python3.13")
PYPY = Interpreter("pypy", "3.11", "3.11.17", "8.0.1", "pypy311", "/fake/pypy3")


def echo_recorded(snippet: Snippet, interpreter: Interpreter) -> RunResult:
    """A runner that 'prints' exactly what the file records for this interpreter."""
    outputs = [step.expected_for(interpreter.key)[0] or "" for step in snippet.steps]
    return RunResult(interpreter, tuple(StepResult(o, "ok") for o in outputs))


class CountingRunner:
    def __init__(self, answer: Callable[[Snippet, Interpreter], RunResult] = echo_recorded) -> None:
        self.answer = answer
        self.runs: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, snippet: Snippet, interpreter: Interpreter) -> RunResult:
        with self._lock:
            self.runs.append((snippet.display_path, interpreter.key))
        return self.answer(snippet, interpreter)


def write_snippets(root: Path, snippets: dict[str, str]) -> None:
    for relative, text in snippets.items():
        target = root / "snippets" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def make_project(
    root: Path,
    runner: Callable[[Snippet, Interpreter], RunResult],
    interpreters: tuple[Interpreter, ...] = (CPYTHON_312, CPYTHON_313),
    *,
    use_cache: bool = True,
) -> Project:
    settings = Settings(root=root, cache_dir=root / ".cache")
    return Project(
        settings,
        discover=lambda: Discovery(interpreters, ()),
        run=runner,
        cache=Cache(root / ".cache", enabled=use_cache, engine=lambda: "test-engine"),
    )
