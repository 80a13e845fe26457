"""Comparison by doctest's rules, normalisation, and how updates regroup records."""

from __future__ import annotations

from pathlib import Path

from snippet_engine import Options, RunResult, StepResult, Variant, matches, normalise, parse, updated


def test_traceback_frames_may_differ_but_the_exception_may_not() -> None:
    old = (
        'Traceback (most recent call last):\n  File "<stdin>", line 1, in <module>\n'
        "ZeroDivisionError: division by zero\n"
    )
    new = (
        'Traceback (most recent call last):\n  File "<python-input-0>", line 1, in <module>\n'
        "    1/0\n    ~^~\nZeroDivisionError: division by zero\n"
    )
    assert matches(old, new, Options())
    assert not matches(old, new.replace("ZeroDivisionError", "ValueError"), Options())


def test_addresses_always_normalised_long_ints_only_when_varies() -> None:
    assert normalise("<object at 0x7f3a2b1c0d10>", Options()) == "<object at 0x…>"
    assert normalise("140737342865904", Options()) == "140737342865904"
    assert normalise("140737342865904", Options(varies="ids")) == "<id>"
    assert normalise("4294967295", Options()) == "4294967295"


def test_ellipsis_only_with_the_flag() -> None:
    assert not matches("...\n", "5468\n", Options())
    assert matches("...\n", "5468\n", Options(flags=("ELLIPSIS",)))


def _result(key: str, *outputs: str) -> RunResult:
    return RunResult(key, key, key, tuple(StepResult(o, "ok") for o in outputs))


def test_update_groups_interpreters_that_agree_and_keeps_matching_records() -> None:
    snippet = parse(Path("x.pycon"), ">>> a\n>>> b\nsame\n")
    results = [
        _result("3.10", "1\n", "same\n"),
        _result("3.11", "1\n", "same\n"),
        _result("3.12", "2\n", "same\n"),
        _result("pypy3.9", "2\n", "same\n"),
    ]
    new = updated(snippet, results)
    assert new.steps[0].expected == (Variant(("3.10", "3.11"), "1\n"), Variant(("3.12", "pypy3.9"), "2\n"))
    assert new.steps[1] is snippet.steps[1]


def test_update_keeps_records_of_interpreters_not_present() -> None:
    snippet = parse(Path("x.pycon"), ">>> a\n#[3.12]\nold\n#[pypy3.9]\npypy\n")
    new = updated(snippet, [_result("3.12", "new\n")])
    assert new.steps[0].expected == (Variant(("3.12",), "new\n"), Variant(("pypy3.9",), "pypy\n"))


def test_differing_lines_are_found_and_addresses_are_not_a_difference() -> None:
    from snippet_engine.render import _differing

    snippet = parse(Path("x.pycon"), ">>> a\n>>> b\n")
    same = _result("3.12", "1\n2\n", "<A object at 0x7f0011223344>\n")
    other = _result("3.13", "1\n3\n", "<A object at 0x7f0099887766>\n")
    assert _differing(snippet, (same, same)) == set()
    assert _differing(snippet, (same, other)) == {(0, 1)}  # step 0, its second line
    # A run that stopped early differs on every line of the steps it lacks.
    short = RunResult("3.11", "3.11", "3.11", (StepResult("1\n2\n", "ok"),))
    assert _differing(snippet, (same, short)) == {(1, 0)}
