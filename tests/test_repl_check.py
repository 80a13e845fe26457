"""scripts/repl_check.py and scripts/stdlib_corpus.py: their pure parts, and real REPL sessions."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from conftest import missing_interpreter
from scripts_support import load_script

from snippet_engine import Interpreter

ROOT = Path(__file__).resolve().parents[1]

# The script drives a pseudo-terminal with ptyprocess and reads the screen with pyte.
pytest.importorskip("ptyprocess", reason="ptyprocess is not installed (dev extras)")
pytest.importorskip("pyte", reason="pyte is not installed (dev extras)")


rc = load_script("repl_check")
sc = sys.modules["stdlib_corpus"]  # imported by repl_check from beside it


# ------------------------------------------------------------------ typing plan


def test_typed_lines_make_a_bare_continuation_an_empty_enter() -> None:
    assert rc.typed_lines("x = 1\n") == ["x = 1"]
    assert rc.typed_lines("def f():\n    return 1\n\n") == ["def f():", "    return 1", ""]
    assert rc.typed_lines("s = '''a\n\nb'''\n") == ["s = '''a", "", "b'''"]
    assert rc.typed_lines("\n") == [""]  # a bare `>>>`: one empty Enter


def test_typed_lines_split_inputs_as_the_engine_worker_does() -> None:
    # The worker's _Transcript: `source.split("\n")[:-1] or [""]`, per input.
    source = (ROOT / "src" / "snippet_engine" / "_worker.py").read_text(encoding="utf-8")
    assert 'source.split("\\n")[:-1] or [""]' in source
    for text in ("x = 1\n", "\n", "", "if x:\n    y\n\n", "# c\n"):
        assert rc.typed_lines(text) == (text.split("\n")[:-1] or [""])


def test_keys_for_line_types_only_what_the_screen_lacks() -> None:
    assert rc.keys_for_line("", "def f(x):") == "def f(x):"
    assert rc.keys_for_line("", "    return x") == "    return x"  # basic REPL: no auto-indent
    assert rc.keys_for_line("    ", "    return x") == "return x"  # PyREPL indented already
    assert rc.keys_for_line("    ", "      x)") == "  x)"  # deeper than the REPL's guess
    assert rc.keys_for_line("        ", "    return 2") is None  # too deep: Backspace first
    assert rc.keys_for_line("    ", "") == ""  # a bare `...`: an empty Enter ends the block
    assert rc.keys_for_line("", "") == ""


class PyReplIndentModel:
    """PyREPL's auto-indent and Backspace, as Lib/_pyrepl/readline.py (3.13-3.15) does them.

    Enter copies the finished line's indentation and adds the first
    indentation used in the buffer (4 spaces before any) after a line ending
    in ':'; Backspace in leading whitespace deletes back to the indentation of
    the nearest earlier line that is indented less.
    """

    def __init__(self) -> None:
        self.lines: list[str] = [""]

    def type(self, text: str) -> None:
        self.lines[-1] += text

    def enter(self) -> None:
        done = self.lines[-1]
        stripped = done.lstrip(" ")
        indent = done[: len(done) - len(stripped)] if stripped else ""
        first = next(
            (line[: len(line) - len(line.lstrip(" "))] for line in self.lines if line.startswith(" ")), None
        )
        code = stripped.split("#")[0].rstrip()
        extra = (first or "    ") if code.endswith(":") else ""
        self.lines.append(indent + extra)

    def backspace(self) -> None:
        line = self.lines[-1]
        width = len(line) - len(line.lstrip(" "))
        if line.strip() or width == 0:
            self.lines[-1] = line[:-1]
            return
        for earlier in reversed(self.lines[:-1]):
            level = len(earlier) - len(earlier.lstrip(" "))
            if earlier.strip() and level < width:
                self.lines[-1] = line[: width - (width - level)]
                return
        self.lines[-1] = line[:-1]

    def shown(self) -> str:
        return self.lines[-1]


def _type_with_model(lines: list[str]) -> tuple[list[str], int]:
    """Type a transcript input into the model as repl_check does; (screen lines, Backspaces pressed)."""
    model = PyReplIndentModel()
    presses = 0
    for index, wanted in enumerate(lines):
        keys = rc.keys_for_line(model.shown(), wanted)
        while keys is None:
            model.backspace()
            presses += 1
            keys = rc.keys_for_line(model.shown(), wanted)
        model.type(keys)
        if index < len(lines) - 1:
            model.enter()
    return [line.rstrip() for line in model.lines], presses


def test_typing_plan_for_a_nested_compound_statement_reproduces_the_transcript() -> None:
    source = (
        "def counted(func):\n"
        "    @functools.wraps(func)\n"
        "    def wrapper(*args, **kwargs):\n"
        "        wrapper.calls += 1\n"
        "        return func(*args, **kwargs)\n"
        "    wrapper.calls = 0\n"
        "    return wrapper\n"
        "\n"
    )
    lines = rc.typed_lines(source)
    screen, presses = _type_with_model(lines)
    assert screen == [line.rstrip() for line in lines]
    assert presses == 1  # one Backspace from 8 to 4 spaces before `wrapper.calls = 0`


def test_typing_plan_for_if_else_inside_a_loop() -> None:
    lines = [
        "for i in range(3):",
        "    if i:",
        "        print(i)",
        "    else:",
        "        pass",
        "    print(-i)",
        "",
    ]
    screen, presses = _type_with_model(lines)
    assert screen == [line.rstrip() for line in lines]
    assert presses == 2  # 8 -> 4 before `else:` and before `print(-i)`


def test_two_level_dedent_takes_one_backspace_per_level() -> None:
    model = PyReplIndentModel()
    for text in ("if a:", "if b:"):
        model.type(text)
        model.enter()
    assert model.shown() == "        "
    model.backspace()
    assert model.shown() == "    "
    model.backspace()
    assert model.shown() == ""


# ------------------------------------------------------------ screen -> outputs

# Bytes a real CPython 3.13.0 PyREPL wrote (NO_COLOR=1, TERM=xterm) for `a is b`, `1; 2`,
# `def f():` / `return 1` / empty Enter, and `print("abc", end="")`.
PYREPL_313 = (
    b'Python 3.13.0 (main) [GCC 12.2.0] on linux\r\nType "help" for more information.\r\n'
    b"\x1b[?2004h\x1b[?1h\x1b=\x1b[?25l\x1b[1A\n>>> \x1b[?12l\x1b[?25h"
    b"\x1b[1@a\x1b[1@ \x1b[1@i\x1b[1@s\x1b[1@ \x1b[1@b\x1b[10D\n\r\x1b[?2004l\x1b[?1l\x1b>False\r\n"
    b"\x1b[?2004h\x1b[?1h\x1b=\x1b[?25l\x1b[1A\n>>> \x1b[?12l\x1b[?25h"
    b"\x1b[1@1\x1b[1@;\x1b[1@ \x1b[1@2\x1b[8D\n\r\x1b[?2004l\x1b[?1l\x1b>2\r\n"
    b"\x1b[?2004h\x1b[?1h\x1b=\x1b[?25l\x1b[1A\n>>> \x1b[?12l\x1b[?25h"
    b"\x1b[1@d\x1b[1@e\x1b[1@f\x1b[1@ \x1b[1@f\x1b[1@(\x1b[1@)\x1b[1@:\x1b[?25l\x1b[12D\n...     "
    b"\x1b[?12l\x1b[?25h\x1b[1@r\x1b[1@e\x1b[1@t\x1b[1@u\x1b[1@r\x1b[1@n\x1b[1@ \x1b[1@1\x1b[?25l\x1b[16D"
    b"\n...     \x1b[?12l\x1b[?25h\x1b[8D\n\r\x1b[?2004l\x1b[?1l\x1b>"
    b"\x1b[?2004h\x1b[?1h\x1b=\x1b[?25l\x1b[1A\n>>> \x1b[?12l\x1b[?25h"
    b'print("abc", end="")\n\r\x1b[?2004l\x1b[?1l\x1b>abc'
    b"\x1b[?2004h\x1b[?1h\x1b=\x1b[?25l\x1b[1A\n>>> \x1b[?12l\x1b[?25h"
)


def test_pyrepl_redraws_become_the_screen_a_reader_sees() -> None:
    term = rc.Terminal(columns=120, lines=40)
    term.feed(PYREPL_313)
    assert term.rows()[2:] == [
        ">>> a is b",
        "False",
        ">>> 1; 2",
        "2",
        ">>> def f():",
        "...     return 1",
        "...",
        '>>> print("abc", end="")',
        "abc>>>",
    ]
    assert (term.row, term.column) == (10, 7)


def test_cut_output_takes_the_rows_between_input_and_prompt() -> None:
    term = rc.Terminal(columns=120, lines=40)
    term.feed(PYREPL_313)
    rows = term.rows()
    assert rc.cut_output(rows, 3, 4, 4, ">>> ") == "False\n"
    assert rc.cut_output(rows, 5, 6, 4, ">>> ") == "2\n"
    assert rc.cut_output(rows, 9, 9, 4, ">>> ") == ""  # the block printed nothing
    # Output without a final newline shares the prompt's row, in front of it.
    assert rc.cut_output(rows, 10, 10, 7, ">>> ") == "abc"


def test_basic_repl_screen_and_blank_output_lines() -> None:
    term = rc.Terminal(columns=80, lines=24)
    term.feed(b'>>> print("a\\n\\nb")\r\na\r\n\r\nb\r\n>>> ')
    rows = term.rows()
    assert rows == ['>>> print("a\\n\\nb")', "a", "", "b", ">>>"]
    assert rc.cut_output(rows, 1, 4, term.column, ">>> ") == "a\n\nb\n"


def test_rows_scrolled_off_the_top_keep_their_numbers() -> None:
    term = rc.Terminal(columns=20, lines=5)
    term.feed(b"".join(b"line %d\r\n" % n for n in range(12)) + b">>> ")
    assert term.row == 12
    assert term.line(0) == "line 0"
    assert term.line(11) == "line 11"
    assert term.rows()[-1] == ">>>"


def test_screen_form_shows_what_a_terminal_can() -> None:
    assert rc.screen_form("C:\temp  \nx\n") == "C:      emp\nx\n"
    assert rc.screen_form("") == ""


def test_a_line_longer_than_the_screen_is_one_output_line() -> None:
    term = rc.Terminal(columns=10, lines=5)
    # 25 characters with spaces where the rows break: they are mid-line, not trailing.
    term.feed(b">>> x\r\n" + b"abcdefghi " + b"jklmnopqr " + b"stuvw\r\n>>> ")
    assert term.wrapped == {1, 2}
    rows = term.rows()
    assert rc.cut_output(rows, 1, 4, term.column, ">>> ", term.wrapped) == "abcdefghi jklmnopqr stuvw\n"
    # A line exactly as wide as the screen ends with a newline, not a wrap.
    term = rc.Terminal(columns=10, lines=5)
    term.feed(b"0123456789\r\nx\r\n")
    assert term.wrapped == set()


def test_udiff_names_both_sides() -> None:
    assert rc.udiff("True\n", "False\n") == "@@ -1 +1 @@\n-True\n+False"


def test_a_missing_record_of_a_free_threaded_build_borrows_its_base_versions(tmp_path: Path) -> None:
    from snippet_engine import Options, parse

    path = tmp_path / "x.pycon"
    path.write_text(">>> 1\n#[3.12]\none\n#[3.13]\nthirteen\n", encoding="utf-8")
    [step] = parse(path).steps
    same = rc._compare(step, "3.13t", Options(), "thirteen\n", None)
    assert (same["status"], same["borrowed"]) == ("identical", True)
    assert "3.13" in same["note"]
    other = rc._compare(step, "3.13t", Options(), "one\n", None)
    assert (other["status"], other["diff"]) == ("different", "@@ -1 +1 @@\n-thirteen\n+one")
    assert rc._compare(step, "3.13", Options(), "thirteen\n", None)["borrowed"] is False


def test_pypy_prompts_have_four_characters() -> None:
    from snippet_engine import Interpreter

    pypy = Interpreter("pypy", "3.11", "3.11.17", "8.0.1", "pypy311", "/x/pypy")
    cpython = Interpreter("cpython", "3.13", "3.13.0", "3.13.0", "cpython-313", "/x/python")
    assert rc.prompts(pypy) == (">>>> ", ".... ")
    assert rc.prompts(cpython) == (">>> ", "... ")


# ------------------------------------------------------- the stdlib corpus, pure


def test_a_docstring_becomes_a_transcript_of_inputs_only(tmp_path: Path) -> None:
    from snippet_engine import parse

    doc = sc.Docstring(
        "statistics",
        "statistics.NormalDist.<lambda>",
        ["import statistics", "from statistics import *"],
        [["mean([1, 2])"], ["def f():", "    return 1", ""], ["f()"]],
    )
    assert doc.relative == "statistics/statistics.NormalDist._lambda_.pycon"
    text = doc.text("cpython")
    assert text == (
        ">>> import statistics\n>>> from statistics import *\n>>> mean([1, 2])\n"
        ">>> def f():\n...     return 1\n...\n>>> f()\n"
    )
    steps = parse(tmp_path / "x.pycon", text).steps
    assert [step.source for step in steps][3] == "def f():\n    return 1\n\n"  # the bare `...` kept
    assert doc.text("pypy").startswith("#| implementations: pypy\n>>> import statistics\n")


def _result(*outputs: tuple[str, str], error: str | None = None) -> object:
    from snippet_engine import Interpreter, RunResult, StepResult

    interpreter = Interpreter("cpython", "3.13", "3.13.0", "3.13.0", "cpython-313", "/x/python")
    return RunResult(interpreter, tuple(StepResult(o, s) for o, s in outputs), error)


def test_examples_that_are_not_deterministic_or_need_a_person_are_dropped(tmp_path: Path) -> None:
    from snippet_engine import parse

    snippet = parse(
        tmp_path / "x.pycon",
        ">>> import m\n>>> input()\n>>> object()\n>>> id(1)\n>>> time.time()\n>>> random()\n"
        ">>> print('  ')\n>>> 1 + 1\n",
    )
    first = _result(
        ("", "ok"),
        ("EOFError", "exception:EOFError"),
        ("<object object at 0x7ffff7a1b2c0>\n", "ok"),
        ("9793\n", "ok"),
        ("1700000000.0\n", "ok"),
        ("0.25\n", "ok"),
        ("  \n", "ok"),
        ("2\n", "ok"),
    )
    second = _result(
        *[(s.output, s.status) for s in first.steps[:5]], ("0.5\n", "ok"), ("  \n", "ok"), ("2\n", "ok")
    )
    assert sc.verdicts(snippet, first, second) == {
        1: "reads stdin",
        2: "prints an address",
        3: "prints an id",
        4: "prints a time",
        5: "differs between two recordings",
        6: "cannot be written as a record",
    }


def test_after_a_failed_run_only_the_failing_input_is_judged(tmp_path: Path) -> None:
    from snippet_engine import parse

    snippet = parse(tmp_path / "x.pycon", ">>> import m\n>>> 1\n>>> while True: pass\n>>> 2\n")
    hung = _result(("", "ok"), ("1\n", "ok"), error="timed out after 10 s")
    assert sc.verdicts(snippet, hung, None) == {2: "times out"}
    ended = _result(
        ("", "ok"), ("", "exit"), error="the interpreter exited with code 0 at the input on line 2"
    )
    assert sc.verdicts(snippet, ended, None) == {1: "ends or kills the interpreter"}


def test_dropping_examples_rewrites_the_file_and_an_import_takes_it_all(tmp_path: Path) -> None:
    from snippet_engine import Interpreter

    interpreter = Interpreter("cpython", "3.13", "3.13.0", "3.13.0", "cpython-313", "/x/python")
    docs = [
        sc.Docstring("m", "m.f", ["import m"], [["1"], ["2"], ["3"]], skipped=1),
        sc.Docstring("m", "m.g", ["import m"], [["4"]]),
    ]
    corpus = sc._Corpus(tmp_path, interpreter, docs)
    assert corpus.dropped[sc.SKIP_REASON] == 1
    corpus.write(sorted(corpus.files))
    corpus.drop("m/m.f.pycon", {2: "times out"})  # step 2 is the second example left, `2`
    assert (tmp_path / "snippets/m/m.f.pycon").read_text() == ">>> import m\n>>> 1\n>>> 3\n"
    corpus.drop("m/m.g.pycon", {0: "the run fails"})
    assert not (tmp_path / "snippets/m/m.g.pycon").exists() and "m/m.g.pycon" not in corpus.files
    assert corpus.dropped["times out"] == 1 and corpus.dropped["the run fails"] == 1


# ------------------------------------------------------------- real sessions

# What each REPL really prints, typed at a terminal (checked by hand, and here):
# `x is y` for two separate inputs `x = 1000`, `y = 1000`: False where each
# input's constant is its own object; True on PyPy (`is` on ints compares
# values), on the free-threaded build and on 3.15, whose int constants are
# shared. `1; 2`: the basic REPL compiles the line in 'single' mode and echoes
# both; PyREPL compiles each statement alone, only the last in 'single' mode,
# and echoes `2` only.
FACTS = {
    "3.11": ("False", "1\n2"),
    "3.12": ("False", "1\n2"),
    "3.13": ("False", "2"),
    "3.14": ("False", "2"),
    "3.15": ("True", "2"),
    "3.13t": ("True", "2"),
    "pypy3.11": ("True", "2"),
}


@pytest.fixture(scope="module")
def interpreters() -> dict[str, Interpreter]:
    return {interpreter.key: interpreter for interpreter in rc.found_interpreters()}


def test_the_interpreters_are_the_engines_own(interpreters: dict[str, Interpreter]) -> None:
    from snippet_engine import Settings, open_project

    project = open_project(Settings.from_environ(root=ROOT))
    try:
        assert list(interpreters.values()) == list(project.discovery.found)
    finally:
        project.close()
    for interpreter in interpreters.values():  # each runs from the engine's clean venv
        assert interpreter.path != interpreter.base and "venvs" in Path(interpreter.path).parts


def test_one_path_is_asked_of_the_engines_discovery(interpreters: dict[str, Interpreter]) -> None:
    if not interpreters:
        pytest.skip("no supported interpreter here")
    known = next(iter(interpreters.values()))
    assert rc.interpreter_at(known.base) == known
    with pytest.raises(ValueError, match="does not run as Python"):
        rc.interpreter_at("/nonexistent/python3")
    with pytest.raises(SystemExit):
        rc.main(["--python", f"pypy2.7={known.base}", "--list-interpreters"])


@pytest.mark.parametrize("key", list(FACTS))
def test_real_repl_session(key: str, interpreters: dict[str, Interpreter], tmp_path: Path) -> None:
    if key not in interpreters:
        missing_interpreter(key)  # under CI=true a failure, as for every other interpreter test
    identity, one_line = FACTS[key]
    transcript = tmp_path / "facts.pycon"
    transcript.write_text(
        "#| implementations: cpython pypy\n"
        ">>> x = 1000\n>>> y = 1000\n>>> x is y\n" + identity + "\n"
        ">>> 1; 2\n" + one_line + "\n"
        ">>> def f(n):\n...     if n:\n...         return 'yes'\n...     return 'no'\n...\n"
        ">>> f(1), f(0)\n('yes', 'no')\n"
        ">>> print('a\\tb', end='')\na       b\n"
        ">>> print('x' * 600)\n" + "x" * 600 + "\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    outcomes = rc.check_snippet(transcript, "facts.pycon", interpreters[key])
    assert len(outcomes) == 8
    assert [(o.status, o.note) for o in outcomes] == [("identical", None)] * 8, [
        (o.line, o.real, o.note) for o in outcomes
    ]
    assert time.monotonic() - started < 20


def _first(interpreters: dict[str, Interpreter], keys: tuple[str, ...]) -> Interpreter:
    key = next((k for k in keys if k in interpreters), None)
    if key is None:
        pytest.skip(f"none of {', '.join(keys)} here")
    return interpreters[key]


def test_a_wrong_record_is_a_difference(interpreters: dict[str, Interpreter], tmp_path: Path) -> None:
    interpreter = _first(interpreters, ("3.13", "3.14", "3.15", "3.12", "3.11"))
    transcript = tmp_path / "wrong.pycon"
    transcript.write_text(">>> 6 * 7\n41\n>>> 1 + 1\n2\n", encoding="utf-8")
    first, second = rc.check_snippet(transcript, "wrong.pycon", interpreter)
    assert (first.status, first.real, first.diff) == ("different", "42\n", "@@ -1 +1 @@\n-41\n+42")
    assert second.status == "identical"


@pytest.mark.parametrize("basic", [False, True], ids=["default", "basic"])
def test_inputs_are_typed_on_at_whatever_prompt_the_repl_shows(
    basic: bool, interpreters: dict[str, Interpreter], tmp_path: Path
) -> None:
    # A complete first line runs at once: the rest of its input goes to the new
    # `>>>`. A block with no closing bare `...` leaves `...`: the next input (an
    # empty Enter) is typed there. A comment-only input gets `>>>` again (3.11+).
    interpreter = _first(interpreters, ("3.13", "3.14", "3.15", "3.12", "3.11"))
    transcript = tmp_path / "typing.pycon"
    transcript.write_text(
        ("#| repl: basic\n" if basic else "")
        + ">>> excs = []\n... for t in (1, 2):\n...     excs.append(t)\n...\n"
        ">>> excs\n[1, 2]\n"
        ">>> if True:\n...     x = 5\n"
        ">>>\n"
        ">>> # a comment\n"
        ">>> x\n5\n",
        encoding="utf-8",
    )
    outcomes = rc.check_snippet(transcript, "typing.pycon", interpreter)
    assert [(o.status, o.real) for o in outcomes] == [
        ("identical", ""),
        ("identical", "[1, 2]\n"),
        ("identical", ""),
        ("identical", ""),
        ("identical", ""),
        ("identical", "5\n"),
    ], [o.note for o in outcomes]
    [typed] = rc.real_outputs(interpreter, ["x = 1\nprint(x)\n"], basic=basic)
    assert (typed.output, typed.problem) == ("1\n", None)
    assert typed.note and "after line 1 of 2" in typed.note


def test_a_basic_repl_header_gets_the_basic_repl(
    interpreters: dict[str, Interpreter], tmp_path: Path
) -> None:
    interpreter = _first(interpreters, ("3.13", "3.14", "3.15"))
    transcript = tmp_path / "basic.pycon"
    transcript.write_text("#| repl: basic\n>>> 1; 2\n1\n2\n", encoding="utf-8")
    [outcome] = rc.check_snippet(transcript, "basic.pycon", interpreter)
    assert (outcome.status, outcome.real) == ("identical", "1\n2\n")


def test_the_extraction_runs_in_the_interpreter_and_keeps_a_bare_continuation(
    interpreters: dict[str, Interpreter],
) -> None:
    interpreter = _first(interpreters, ("3.13", "3.12", "3.11", "3.14", "3.15"))
    docstrings, errors = sc.extract(interpreter, ("doctest", "statistics", "no_such_module"))
    assert errors and errors[0].startswith("no_such_module: ModuleNotFoundError")
    by_name = {doc.name: doc for doc in docstrings}
    assert by_name["statistics.mean"].imports[:2] == ["import statistics", "from statistics import *"]
    assert ["mean([1, 2, 3, 4, 4])"] in by_name["statistics.mean"].examples
    # doctest's own docstring has a function typed with its closing empty Enter.
    blocks = [e for doc in docstrings for e in doc.examples if e and len(e) > 1 and e[-1] == ""]
    assert blocks, "no example ends with a bare `...`"
