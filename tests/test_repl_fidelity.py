"""The engine against the real REPL: small transcripts typed into both, compared input by input.

For every supported interpreter found here, each transcript runs once
through the engine's runner (its worker, its sandbox) and once typed into
the interpreter's real REPL in a pseudo-terminal by scripts/repl_check.py's
machinery. The real REPL is the expected value: each input's output must be
the same text (the screen's form of it: tabs expanded, no trailing spaces),
traceback frames included; only addresses are normalised, as everywhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import found_interpreters, missing_interpreter
from scripts_support import load_script

from snippet_engine import Interpreter, matches, parse, supported_keys
from snippet_engine.run import Runner

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("ptyprocess", reason="ptyprocess is not installed (dev extras)")
pytest.importorskip("pyte", reason="pyte is not installed (dev extras)")


rc = load_script("repl_check")

# Inputs only: the records do not matter, the two runs are compared with each other.
TRANSCRIPTS = {
    # A comment-only input, a complete first line followed by `...` lines (run
    # after its first line; the rest typed at the new prompt), a bare `>>>`,
    # blank lines inside a triple-quoted string, a nested block with a
    # dedent, and a block with no closing `...` (the next input, an empty
    # Enter, is typed at its `...`).
    "typing": (
        ">>> # a comment on its own\n"
        ">>> 1 + 1\n"
        ">>> excs = []\n"
        "... for t in (1, 2):\n"
        "...     excs.append(t)\n"
        "...\n"
        ">>> excs\n"
        ">>>\n"
        ">>> s = '''a\n"
        "...\n"
        "...\n"
        "... b'''\n"
        ">>> s\n"
        ">>> if excs:\n"
        "...     for t in excs:\n"
        "...         print(t)\n"
        "...     print('done')\n"
        "...\n"
        ">>> if True:\n"
        "...     y = 5\n"
        ">>>\n"
        ">>> y\n"
    ),
    "identity": (">>> a = 257; b = 257\n>>> a is b\n>>> 1; 2\n>>> x = 1000\n>>> y = 1000\n>>> x is y\n"),
    "warnings": r""">>> x = 1; x is 1
>>> "\d"
>>> if True:
...     "\d"
...
""",
    "traceback": ">>> 1/0\n>>> def f():\n...     return 1/0\n...\n>>> f()\n",
    "namespace": ">>> print(dir())\n>>> import sys; len(sys.modules)\n",
}
# What the REPL itself keeps alive between inputs shows in reference counts:
# the C loop holds no parse tree and no earlier input's code (an emulation that
# parses to a Python AST starts the ast module, whose set-up holds and later
# drops references to None).
TRANSCRIPTS["references"] = (
    ">>> import sys\n>>> before = sys.getrefcount(None)\n>>> many = [None] * 1000\n"
    ">>> sys.getrefcount(None) - before\n"
)
# A warning is shown once per place: both calls are line 1 of an input.
TRANSCRIPTS["warn_twice"] = ">>> import warnings\n>>> warnings.warn('w')\n>>> warnings.warn('w')\n"
# The same, with the basic REPL a page can ask for on 3.13+ (`repl: basic`).
for _name in ("typing", "traceback", "warnings", "warn_twice", "references"):
    TRANSCRIPTS[f"{_name}_basic"] = "#| repl: basic\n" + TRANSCRIPTS[_name]

# (transcript, interpreter) -> (why the engine differs, strict): known
# differences, each with its cause. None at the moment.
ENGINE_DIFFERENCES: dict[tuple[str, str], tuple[str, bool]] = {}

_FOUND = {interpreter.key: interpreter for interpreter in found_interpreters()}


def _cases() -> list[object]:
    cases = []
    for key in supported_keys():
        for name in TRANSCRIPTS:
            known = ENGINE_DIFFERENCES.get((name, key))
            marks = [pytest.mark.xfail(reason=known[0], strict=known[1])] if known else []
            cases.append(pytest.param(key, name, marks=marks, id=f"{key}-{name}"))
    return cases


def _differences(name: str, interpreter: Interpreter, runner: Runner) -> list[str]:
    snippet = parse(Path(f"fidelity/{name}.pycon"), TRANSCRIPTS[name])
    engine = runner(snippet, interpreter)
    assert engine.error is None, engine.error
    sources = [step.source for step in snippet.steps]
    real = rc.real_outputs(interpreter, sources, basic=snippet.options.repl == "basic")
    found = []
    for step, ran, typed in zip(snippet.steps, engine.steps, real, strict=True):
        want = rc.screen_form(ran.output)
        same = typed.problem is None and matches(want, typed.output, snippet.options, any_frames=False)
        if not same:
            found.append(
                f"line {step.lineno} `{step.source.splitlines()[0] if step.source.strip() else ''}`"
                f"{f' ({typed.problem})' if typed.problem else ''}:\n"
                f"  engine:    {ran.output!r}\n  real REPL: {typed.output!r}"
            )
    return found


@pytest.mark.parametrize(("key", "name"), _cases())
def test_the_engine_prints_what_the_real_repl_prints(key: str, name: str, runner: Runner) -> None:
    interpreter = _FOUND.get(key)
    if interpreter is None:
        missing_interpreter(key)
        return
    differences = _differences(name, interpreter, runner)
    assert not differences, f"{interpreter.exact_label}, {name}:\n" + "\n".join(differences)
