"""The one path to a result (memory, disk, run) and what the cache key covers."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from engine_support import CPYTHON_312, CPYTHON_313, CountingRunner, make_project, write_snippets

from snippet_engine import Interpreter, RunResult, Snippet, StepResult, parse
from snippet_engine.cache import Cache

TRANSCRIPT = ">>> 6 * 7\n42\n"


def _key(snippet: Snippet, interpreter: Interpreter = CPYTHON_312) -> str:
    return Cache(Path("/nowhere"), enabled=False, engine=lambda: "e").key(snippet, interpreter)


def _snippet(text: str = TRANSCRIPT, name: str = "memory/x.pycon") -> Snippet:
    return parse(Path("snippets") / name, text)


def test_the_key_is_stable_for_the_same_inputs() -> None:
    assert _key(_snippet()) == _key(_snippet())


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(lambda: (_snippet(">>> 6 * 8\n42\n"), CPYTHON_312), id="input"),
        pytest.param(lambda: (_snippet(">>> 6 * 7\n42\n>>> 1\n1\n"), CPYTHON_312), id="another input"),
        pytest.param(lambda: (_snippet(name="memory/y.pycon"), CPYTHON_312), id="path"),
        pytest.param(lambda: (_snippet("#| timeout: 3\n" + TRANSCRIPT), CPYTHON_312), id="timeout"),
        pytest.param(
            lambda: (_snippet(), dataclasses.replace(CPYTHON_312, full_version="3.12.2")), id="version"
        ),
        pytest.param(
            lambda: (_snippet(), dataclasses.replace(CPYTHON_312, path="/opt/py")), id="interpreter path"
        ),
        pytest.param(lambda: (_snippet(), CPYTHON_313), id="interpreter"),
    ],
)
def test_every_input_of_a_run_changes_the_key(other: object) -> None:
    snippet, interpreter = other()  # type: ignore[operator]
    assert _key(snippet, interpreter) != _key(_snippet())


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(">>> 6 * 7\n41\n", id="recorded output"),
        pytest.param(">>> 6 * 7\n#[3.12]\n42\n#[3.13]\n42\n", id="recorded per version"),
        pytest.param("#| implementations: cpython pypy\n>>> 6 * 7\n42\n", id="implementations"),
        pytest.param("#| flags: ELLIPSIS\n>>> 6 * 7\n42\n", id="comparison flags"),
    ],
)
def test_what_cannot_change_an_output_does_not_change_the_key(text: str) -> None:
    assert _key(_snippet(text)) == _key(_snippet())


def test_the_engine_and_sandbox_change_every_key() -> None:
    snippet = _snippet()
    one = Cache(Path("/x"), enabled=False, engine=lambda: "engine-1").key(snippet, CPYTHON_312)
    two = Cache(Path("/x"), enabled=False, engine=lambda: "engine-2").key(snippet, CPYTHON_312)
    assert one != two


def test_a_cold_project_runs_once_per_interpreter_and_a_warm_one_runs_nothing(tmp_path: Path) -> None:
    write_snippets(tmp_path, {"memory/x.pycon": TRANSCRIPT})
    cold_runner = CountingRunner()
    cold = make_project(tmp_path, cold_runner)
    cold.prefetch(["memory/x.pycon"])
    assert [r.steps[0].output for r in cold.results(cold.load("memory/x.pycon"))] == ["42\n", "42\n"]
    cold.close()
    assert sorted(cold_runner.runs) == [
        ("snippets/memory/x.pycon", "3.12"),
        ("snippets/memory/x.pycon", "3.13"),
    ]
    warm_runner = CountingRunner()
    warm = make_project(tmp_path, warm_runner)
    warm.prefetch(["memory/x.pycon"])
    assert [r.steps[0].output for r in warm.results(warm.load("memory/x.pycon"))] == ["42\n", "42\n"]
    assert warm_runner.runs == []
    warm.close()


def _edit(path: Path, text: str) -> None:
    # A new size or mtime is how the project notices an edit; make sure the mtime moves.
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_editing_only_a_recorded_output_re_runs_nothing(tmp_path: Path) -> None:
    write_snippets(tmp_path, {"memory/x.pycon": TRANSCRIPT})
    runner = CountingRunner()
    project = make_project(tmp_path, runner)
    project.results(project.load("memory/x.pycon"))
    assert len(runner.runs) == 2
    _edit(tmp_path / "snippets/memory/x.pycon", ">>> 6 * 7\n#[3.12]\n42\n#[3.13]\n42.0\n")
    edited = project.load("memory/x.pycon")
    assert edited.steps[0].expected[1].text == "42.0\n"  # the edit was seen
    project.results(edited)
    assert len(runner.runs) == 2
    project.close()


def test_editing_an_input_runs_that_snippet_once_per_interpreter(tmp_path: Path) -> None:
    write_snippets(tmp_path, {"memory/x.pycon": TRANSCRIPT, "memory/y.pycon": TRANSCRIPT})
    runner = CountingRunner()
    project = make_project(tmp_path, runner)
    project.prefetch(["memory/x.pycon", "memory/y.pycon"])
    project.results(project.load("memory/y.pycon"))
    runner.runs.clear()
    _edit(tmp_path / "snippets/memory/x.pycon", ">>> 6 * 7\n42\n>>> 1\n1\n")
    project.prefetch(["memory/x.pycon", "memory/y.pycon"])
    project.results(project.load("memory/x.pycon"))
    assert sorted(runner.runs) == [("snippets/memory/x.pycon", "3.12"), ("snippets/memory/x.pycon", "3.13")]
    project.close()


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(b"not json", id="garbage"),
        pytest.param(b'{"steps": 5}', id="wrong shape"),
        pytest.param(b'{"steps": [], "seconds": 0.1}', id="fewer steps"),
        pytest.param(b'{"steps": [["42\\n", "bogus"]], "seconds": 0.1}', id="unknown status"),
        pytest.param(b'{"steps": [["42\\n", "unfinished"]], "seconds": 0.1}', id="an unfinished run"),
        pytest.param(b'{"steps": [[42, "ok"]], "seconds": 0.1}', id="not text"),
        pytest.param(b"\xff\xfe", id="not utf-8"),
    ],
)
def test_a_corrupt_or_ill_shaped_entry_is_run_again(tmp_path: Path, stored: bytes) -> None:
    write_snippets(tmp_path, {"memory/x.pycon": TRANSCRIPT})
    project = make_project(tmp_path, CountingRunner(), (CPYTHON_312,))
    snippet = project.load("memory/x.pycon")
    key = project.cache.key(snippet, CPYTHON_312)
    entry = tmp_path / ".cache" / key[:2] / f"{key}.json"
    entry.parent.mkdir(parents=True)
    entry.write_bytes(stored)
    runner = CountingRunner()
    fresh = make_project(tmp_path, runner, (CPYTHON_312,))
    assert fresh.wait(fresh.load("memory/x.pycon"), CPYTHON_312).steps[0].output == "42\n"
    assert runner.runs == [("snippets/memory/x.pycon", "3.12")]
    assert json.loads(entry.read_text())["steps"] == [["42\n", "ok"]]  # replaced by a good entry
    fresh.close()


def test_failures_are_never_stored_or_remembered_past_their_build(tmp_path: Path) -> None:
    write_snippets(tmp_path, {"memory/x.pycon": TRANSCRIPT})

    def fail(snippet: Snippet, interpreter: Interpreter) -> RunResult:
        return RunResult(interpreter, (StepResult("", "unfinished"),), "timed out after 10 s")

    runner = CountingRunner(fail)
    project = make_project(tmp_path, runner, (CPYTHON_312,))
    project.prefetch(["memory/x.pycon"])
    assert project.results(project.load("memory/x.pycon"))[0].error == "timed out after 10 s"
    assert not list((tmp_path / ".cache").rglob("*.json"))
    project.prefetch(["memory/x.pycon"])  # the next build
    project.results(project.load("memory/x.pycon"))
    assert len(runner.runs) == 2
    project.close()
