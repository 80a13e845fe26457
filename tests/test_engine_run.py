"""The runner against real interpreters: REPL semantics as a fresh `python` prompt has them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import found_interpreters

from snippet_engine import Interpreter, parse
from snippet_engine.run import Runner

_CPYTHONS = [i for i in found_interpreters() if i.implementation == "cpython"]
pytestmark = pytest.mark.skipif(not _CPYTHONS, reason="no CPython interpreter found")
each_cpython = pytest.mark.parametrize("interp", _CPYTHONS, ids=[i.key for i in _CPYTHONS])


def _outputs(runner: Runner, interp: Interpreter, transcript: str, name: str = "t.pycon") -> list[str]:
    result = runner(parse(Path(name), transcript), interp)
    assert result.error is None, result.error
    return [step.output for step in result.steps]


@each_cpython
def test_separately_entered_1000s_are_different_objects_except_where_constants_are_shared(
    runner: Runner, interp: Interpreter
) -> None:
    # As the real prompts print it (checked in a terminal by scripts/repl_check.py):
    # 3.15 caches ints up to 1024, and the free-threaded build interns the constants it compiles.
    shared = interp.free_threaded or interp.version_tuple >= (3, 15)
    expected = "True\n" if shared else "False\n"
    assert _outputs(runner, interp, ">>> x = 1000\n>>> y = 1000\n>>> x is y\n") == ["", "", expected]


@each_cpython
def test_one_script_shares_the_constant(runner: Runner, interp: Interpreter) -> None:
    # The contrast that makes REPL faithfulness matter: one code object, one constant.
    assert _outputs(runner, interp, "x = 1000\ny = 1000\nprint(x is y)\n", "t.py") == ["True\n"]


@each_cpython
def test_bare_expressions_echo_their_repr_and_set_underscore(runner: Runner, interp: Interpreter) -> None:
    outputs = _outputs(runner, interp, ">>> 'a' + 'b'\n>>> None\n>>> _\n>>> x = 5\n>>> _ * 2\n")
    assert outputs == ["'ab'\n", "", "'ab'\n", "", "'abab'\n"]


@each_cpython
def test_refcount_of_a_fresh_object_matches_python_c(runner: Runner, interp: Interpreter) -> None:
    code = "import sys; x = object(); print(sys.getrefcount(x))"
    fresh = subprocess.run([interp.path, "-c", code], capture_output=True, text=True, check=True).stdout
    got = _outputs(runner, interp, ">>> import sys\n>>> x = object()\n>>> print(sys.getrefcount(x))\n")[-1]
    assert got == fresh


@each_cpython
def test_the_namespace_is_as_pristine_as_a_fresh_prompt(runner: Runner, interp: Interpreter) -> None:
    fresh = subprocess.run(
        [interp.path, "-c", "print(dir())"], capture_output=True, text=True, check=True
    ).stdout
    if interp.version_tuple == (3, 13):
        # 3.13 starts PyREPL by running _pyrepl as __main__ through runpy, which
        # leaves these in the namespace of a real 3.13 prompt too.
        fresh = fresh.replace("'__builtins__', ", "'__builtins__', '__cached__', ")
        fresh = fresh.replace("'__doc__', ", "'__doc__', '__file__', ")
    assert _outputs(runner, interp, ">>> print(dir())\n") == [fresh]


@each_cpython
def test_tracebacks_look_like_the_repl_of_that_version(runner: Runner, interp: Interpreter) -> None:
    output = _outputs(runner, interp, ">>> 1\n>>> 1/0\n")[1]
    filename = "<python-input-1>" if interp.version_tuple >= (3, 13) else "<stdin>"
    assert output.startswith(
        f'Traceback (most recent call last):\n  File "{filename}", line 1, in <module>\n'
    )
    assert output.endswith("ZeroDivisionError: division by zero\n")
    assert "_serve" not in output and "_snippet_worker" not in output


@each_cpython
def test_syntax_errors_are_reported_and_the_session_goes_on(runner: Runner, interp: Interpreter) -> None:
    outputs = _outputs(runner, interp, ">>> 1 +\n>>> 2\n")
    assert "SyntaxError" in outputs[0]
    assert outputs[1] == "2\n"


@each_cpython
def test_future_imports_carry_over_to_later_inputs(runner: Runner, interp: Interpreter) -> None:
    transcript = (
        ">>> from __future__ import annotations\n>>> def f(x: undefined): pass\n...\n>>> f.__annotations__\n"
    )
    assert _outputs(runner, interp, transcript)[-1] == "{'x': 'undefined'}\n"


@each_cpython
def test_stdout_and_stderr_interleave_in_order(runner: Runner, interp: Interpreter) -> None:
    transcript = ">>> import sys\n>>> print('out'); print('err', file=sys.stderr); print('out2')\n"
    assert _outputs(runner, interp, transcript)[-1] == "out\nerr\nout2\n"


@each_cpython
def test_console_python_is_the_interpreter_under_test(runner: Runner, interp: Interpreter) -> None:
    outputs = _outputs(
        runner, interp, '$ python -c "import sys; print(sys.version.split()[0])"\n', "t.console"
    )
    assert outputs == [interp.full_version + "\n"]
