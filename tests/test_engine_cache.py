"""The result cache: what its keys cover, and what a warm build does (reads, never runs)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

import snippet_engine.project as project_module
from snippet_engine import Interpreter, Project, RunResult, StepResult, parse
from snippet_engine.cache import key_for
from snippet_engine.snippet import Snippet

TRANSCRIPT = ">>> 6 * 7\n42\n"


def _interpreter(**changes: str) -> Interpreter:
    base = Interpreter("cpython", "3.12", "3.12.1", "3.12.1", "cpython-312", "/usr/bin/python3.12")
    return dataclasses.replace(base, **changes)


def _snippet(text: str = TRANSCRIPT, name: str = "memory/x.pycon") -> Snippet:
    return parse(Path("snippets") / name, text)


def test_the_key_is_stable_for_the_same_inputs() -> None:
    assert key_for(_snippet(), _interpreter()) == key_for(_snippet(), _interpreter())


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(lambda: (_snippet(">>> 6 * 7\n42\n>>> 1\n1\n"), _interpreter()), id="text"),
        pytest.param(lambda: (_snippet(name="memory/y.pycon"), _interpreter()), id="path"),
        pytest.param(lambda: (_snippet("#| timeout: 3\n" + TRANSCRIPT), _interpreter()), id="timeout"),
        pytest.param(lambda: (_snippet(), _interpreter(full_version="3.12.2")), id="full version"),
        pytest.param(lambda: (_snippet(), _interpreter(path="/opt/python3.12")), id="interpreter path"),
        pytest.param(
            lambda: (_snippet(), _interpreter(implementation="pypy", implementation_version="7.3.17")),
            id="implementation",
        ),
    ],
)
def test_every_input_of_a_run_changes_the_key(other: object) -> None:
    snippet, interpreter = other()  # type: ignore[operator]
    assert key_for(snippet, interpreter) != key_for(_snippet(), _interpreter())


@pytest.fixture
def warm_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Project, list[str]]]:
    """A project whose one snippet has a stored result for every interpreter found; runs are counted."""
    (tmp_path / "snippets" / "memory").mkdir(parents=True)
    (tmp_path / "snippets" / "memory" / "x.pycon").write_text(TRANSCRIPT, encoding="utf-8")
    monkeypatch.setenv("SNIPPET_CACHE_DIR", str(tmp_path / "cache"))
    project = Project(tmp_path)
    snippet = project.load("memory/x.pycon")
    for interpreter in project.select(snippet).run_on:
        stored = RunResult(
            interpreter.key, interpreter.label, interpreter.full_version, (StepResult("42\n", "ok"),)
        )
        project.cache.put(key_for(snippet, interpreter), stored)
    runs: list[str] = []

    def counted(snippet: Snippet, interpreter: Interpreter) -> RunResult:
        runs.append(interpreter.key)
        raise AssertionError("a warm project must not run anything")

    monkeypatch.setattr(project_module, "run", counted)
    yield project, runs


def test_a_warm_build_reads_stored_results_and_runs_nothing(warm_project: tuple[Project, list[str]]) -> None:
    project, runs = warm_project
    snippet = project.load("memory/x.pycon")
    if not project.select(snippet).run_on:
        pytest.skip("no CPython interpreter found")
    project.prefetch(["memory/x.pycon"])
    results = project.results(snippet)
    assert [r.steps[0].output for r in results] == ["42\n"] * len(results)
    assert runs == []
    # Stored results were read once, in this thread: no Future, no pool task.
    assert project._futures == {}


def test_an_edit_misses_the_cache_and_runs_once(warm_project: tuple[Project, list[str]]) -> None:
    project, runs = warm_project
    path = project.snippets_dir / "memory" / "x.pycon"
    path.write_text(TRANSCRIPT + ">>> 1\n1\n", encoding="utf-8")
    snippet = project.load("memory/x.pycon")
    if not project.select(snippet).run_on:
        pytest.skip("no CPython interpreter found")
    assert len(snippet.steps) == 2  # the edit was seen (size and mtime changed)
    project.prefetch(["memory/x.pycon"])
    with pytest.raises(AssertionError, match="must not run"):
        project.results(snippet)
    project._pool.shutdown(wait=True)  # every run started by the prefetch has been tried
    assert sorted(runs) == sorted(i.key for i in project.select(snippet).run_on)
