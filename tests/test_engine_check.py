"""Comparison by doctest's rules, normalisation, and how updates rewrite records."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from engine_support import CPYTHON_312, CPYTHON_313, PYPY

from snippet_engine import (
    Interpreter,
    Options,
    RunResult,
    StepResult,
    Variant,
    comparable,
    differing,
    matches,
    normalise,
    parse,
    updated,
)

CPYTHON_311 = dataclasses.replace(
    CPYTHON_312, language="3.11", full_version="3.11.7", path="/fake/python3.11"
)

STDIN_TRACEBACK = (
    'Traceback (most recent call last):\n  File "<stdin>", line 1, in <module>\n'
    "ZeroDivisionError: division by zero\n"
)
INPUT_TRACEBACK = (
    'Traceback (most recent call last):\n  File "<python-input-0>", line 1, in <module>\n'
    "    1/0\n    ~^~\nZeroDivisionError: division by zero\n"
)


def test_traceback_frames_may_differ_but_the_exception_may_not() -> None:
    assert matches(STDIN_TRACEBACK, INPUT_TRACEBACK, Options())
    assert not matches(STDIN_TRACEBACK, INPUT_TRACEBACK.replace("ZeroDivisionError", "ValueError"), Options())
    assert not matches(STDIN_TRACEBACK, INPUT_TRACEBACK, Options(), any_frames=False)


def test_a_recorded_1_does_not_accept_a_printed_true() -> None:
    # doctest accepts True for 1 unless DONT_ACCEPT_TRUE_FOR_1: on a site that
    # teaches that bool is an int, the difference is the point.
    assert not matches("1\n", "True\n", Options())
    assert not matches("0\n", "False\n", Options())
    assert matches("True\n", "True\n", Options())


def test_ignore_exception_detail_compares_only_the_exception_class() -> None:
    want = STDIN_TRACEBACK.replace("division by zero", "integer division or modulo by zero")
    assert not matches(want, INPUT_TRACEBACK, Options())
    assert matches(want, INPUT_TRACEBACK, Options(flags=("IGNORE_EXCEPTION_DETAIL",)))
    other = INPUT_TRACEBACK.replace("ZeroDivisionError", "ValueError")
    assert not matches(want, other, Options(flags=("IGNORE_EXCEPTION_DETAIL",)))
    qualified = STDIN_TRACEBACK.replace("ZeroDivisionError:", "builtins.ZeroDivisionError:")
    assert matches(qualified, INPUT_TRACEBACK, Options(flags=("IGNORE_EXCEPTION_DETAIL",)))


def test_addresses_always_normalised_long_ints_only_when_varies() -> None:
    assert normalise("<object at 0x7f3a2b1c0d10>", Options()) == "<object at 0x…>"
    assert normalise("140737342865904", Options()) == "140737342865904"
    assert normalise("140737342865904", Options(varies="ids")) == "<id>"
    assert normalise("4294967295", Options()) == "4294967295"


def test_ellipsis_only_with_the_flag() -> None:
    assert not matches("...\n", "5468\n", Options())
    assert matches("...\n", "5468\n", Options(flags=("ELLIPSIS",)))


def _result(interpreter: Interpreter, *outputs: str) -> RunResult:
    return RunResult(interpreter, tuple(StepResult(o, "ok") for o in outputs))


def test_update_groups_identical_texts_and_keeps_matching_records() -> None:
    snippet = parse(Path("x.pycon"), ">>> a\n>>> b\nsame\n")
    results = [
        _result(CPYTHON_311, "1\n", "same\n"),
        _result(CPYTHON_312, "2\n", "same\n"),
        _result(CPYTHON_313, "1\n", "same\n"),
        _result(PYPY, "2\n", "same\n"),
    ]
    new = updated(snippet, results)
    assert new.steps[0].expected == (Variant(("3.11", "3.13"), "1\n"), Variant(("3.12", "pypy3.11"), "2\n"))
    assert new.steps[1] is snippet.steps[1]


def test_update_keeps_records_of_interpreters_not_present_and_drops_unsupported_ones() -> None:
    snippet = parse(Path("x.pycon"), ">>> a\n#[3.10]\nancient\n#[3.12]\nold\n#[pypy3.11]\npypy\n")
    new = updated(snippet, [_result(CPYTHON_312, "new\n")])
    assert new.steps[0].expected == (Variant(("3.12",), "new\n"), Variant(("pypy3.11",), "pypy\n"))
    # A file whose only stale part is an unsupported record is rewritten too.
    kept = parse(Path("x.pycon"), ">>> a\n#[3.10]\nancient\n#[3.12]\nold\n")
    assert updated(kept, [_result(CPYTHON_312, "old\n")]).steps[0].expected == (Variant(None, "old\n"),)


def test_update_keeps_deliberate_placeholders_when_something_else_changes() -> None:
    text = "#| flags: ELLIPSIS\n>>> sys.getrefcount(None)\n#[3.12]\n...\n#[3.13]\nold\n"
    snippet = parse(Path("x.pycon"), text)
    new = updated(snippet, [_result(CPYTHON_312, "4245\n"), _result(CPYTHON_313, "new\n")])
    assert new.steps[0].expected == (Variant(("3.12",), "...\n"), Variant(("3.13",), "new\n"))


def test_update_records_what_each_interpreter_really_printed_in_its_tracebacks() -> None:
    snippet = parse(Path("x.pycon"), ">>> 1/0\n" + STDIN_TRACEBACK)
    assert updated(snippet, [_result(CPYTHON_312, STDIN_TRACEBACK)]) == snippet
    new = updated(snippet, [_result(CPYTHON_312, STDIN_TRACEBACK), _result(CPYTHON_313, INPUT_TRACEBACK)])
    assert new.steps[0].expected == (Variant(("3.12",), STDIN_TRACEBACK), Variant(("3.13",), INPUT_TRACEBACK))


def test_update_never_records_an_unfinished_input() -> None:
    snippet = parse(Path("x.pycon"), ">>> while True: pass\n")
    timed_out = RunResult(CPYTHON_312, (StepResult("partial\n", "unfinished"),), "timed out after 1 s")
    assert updated(snippet, [timed_out]) == snippet


def test_differing_lines_are_found_and_addresses_are_not_a_difference() -> None:
    same = ("1\n2\n", "<A object at 0x7f0011223344>\n")
    other = ("1\n3\n", "<A object at 0x7f0099887766>\n")
    assert differing(2, [same, same]) == [set(), set()]
    assert comparable(same[1]) == comparable(other[1])
    assert differing(2, [same, other]) == [{(0, 1)}, {(0, 1)}]  # step 0, its second line, in both
    # A run that stopped early lacks the lines of the steps it never reached.
    assert differing(2, [same, ("1\n2\n",)]) == [{(1, 0)}, set()]


def test_an_extra_line_marks_itself_not_every_line_below_it() -> None:
    reference = ("Traceback (most recent call last):\n  File x\nValueError: bad\nmore\n",)
    pypy = ("Traceback (most recent call last):\n  File x\n  File y\nValueError: bad\nmore\n",)
    assert differing(1, [reference, pypy], reference=0) == [set(), {(0, 2)}]


def test_a_column_that_mostly_differs_is_not_marked_at_all() -> None:
    old = ("LOAD_FAST 0\nLOAD_CONST 1\nBINARY_ADD\nRETURN_VALUE\n",)
    new = ("LOAD_FAST 0\nLOAD_SMALL_INT 1\nBINARY_OP 0\nRETURN_VALUE\n",)
    assert differing(1, [new, old], reference=0) == [{(0, 1), (0, 2)}, {(0, 1), (0, 2)}]  # half: marked
    listing = tuple(f"{n} OP_{n}\n" for n in range(6))
    renumbered = [f"{n} NEW_{n}\n" for n in range(5)] + ["5 OP_5\n"]
    joined = ("".join(listing),), ("".join(renumbered),)
    assert differing(1, list(joined)) == [set(), set()]  # 5 of 6 lines differ in each
    # A one-line answer that differs is the whole tab: nothing to point at within it.
    assert differing(1, [("False\n",), ("True\n",)]) == [set(), set()]


@pytest.mark.parametrize("flag", ["ELLIPSIS", "NORMALIZE_WHITESPACE", "IGNORE_EXCEPTION_DETAIL"])
def test_each_allowed_flag_is_accepted(flag: str) -> None:
    assert parse(Path("x.pycon"), f"#| flags: {flag}\n>>> 1\n1\n").options.flags == (flag,)
