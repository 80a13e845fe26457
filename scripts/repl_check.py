#!/usr/bin/env python3
"""Compare the recorded `.pycon` transcripts with the real interactive REPL.

The site promises that a `>>>` transcript shows what a reader's own prompt
prints when the inputs are typed at a terminal. The engine types them into
the interpreter's own console code in a worker process; this script is the
independent check against the real thing: for every transcript and every
interpreter it starts the interpreter's default REPL in a pseudo-terminal,
types each input as a person would, reads what the terminal then shows, and
compares that with the record (doctest's rules, via the engine's own
`matches`).

Which interpreters
    The engine's own: `open_project(...).discovery.found` (pyenv, PATH, uv,
    SNIPPET_PYTHONS and the interpreters `make pythons` installed), each run
    from the clean virtual environment the engine runs snippets in
    (`Interpreter.path`: no site-packages or `.pth` of the host install).
    `--python KEY=PATH` asks the engine's discovery about one path instead.

How a session is set up
    One REPL process per (transcript, interpreter), in an empty temporary
    directory with an empty HOME, PYTHONHASHSEED=0, NO_COLOR=1,
    PYTHON_COLORS=0, TERM=xterm (TERM=dumb would turn PyREPL off; a header's
    `repl: basic` sets PYTHON_BASIC_REPL=1 as the engine does),
    LANG/LC_ALL=C.UTF-8, PAGER=cat (pydoc's `help()` prints instead of
    opening `less`), no PYTHONSTARTUP, address-space randomisation off, the
    engine's limits (2 GiB of memory, 4 MiB per file), and a 512x60
    terminal. What the terminal shows is computed by the `pyte` terminal
    emulator, so PyREPL's cursor movements and redraws become screen text;
    a line that runs over the screen's edge is joined up again (the screen
    remembers where it wrapped). An input may print 1 MiB; a
    session's processes are killed when it ends, including those it started
    in sessions of their own (found by the session's HOME).

How inputs are typed
    Line by line, Enter after each line, waiting for the REPL's prompt before
    every line, each line at whatever prompt the REPL shows then, as a person
    copying the transcript would: when the REPL runs an input after its
    first line although the transcript has more `...` lines (`>>> x = []`
    followed by `... for t in y:`), the rest is typed at the new `>>>`; when
    an input leaves the REPL at `...` (a block with no closing bare `...`),
    the next input's first line is typed there. A bare `...` line is
    an empty Enter. Before typing a line the script reads the indentation the
    REPL has already put on the screen: PyREPL (3.13+, PyPy 3.11) copies the
    previous line's indentation and adds one level after a line ending in
    `:`; the basic REPL adds nothing. The script types only the rest of the
    line, and where the REPL indented more than the transcript (a dedent) it
    presses Backspace, which in PyREPL removes one indentation level, until
    the screen's indentation is a prefix of the line. No bracketed paste:
    PyREPL takes a pasted block as ONE input (one `<python-input-N>`, one
    `_`), which is not what typing does. After each input, the screen's echo
    of every line must equal the transcript's line; if it does not, the
    input counts as different.

Which input an output belongs to
    The engine's rule (`_Transcript` in its worker): what the REPL prints
    after the Enter of a line belongs to the input that line is part of, so
    an input's output is everything printed after any of its lines, up to
    the prompt for the next line.

When the REPL waits for the next line
    When its prompt is at the cursor AND its main thread sleeps in a
    read/poll/select system call (/proc/PID/syscall), and nothing more
    arrived after that. So a REPL that is still redrawing is never read too
    early, and nothing waits a fixed time. Where /proc/PID/syscall cannot be
    read, 50 ms of silence with the prompt shown stands in. A REPL that waits
    for input with no prompt shown reads stdin (`input()`, or `help` typed
    bare in PyREPL): that input and the rest of the transcript are skipped
    with the reason. No prompt within the header's timeout (10 s by default)
    is reported as a hang.

What is compared
    The screen rows between each echoed line and the next prompt (and any
    text left before a `>>>` on its own row: output without a final
    newline). A screen shows no trailing spaces and turns tabs into spaces,
    so both sides are compared with trailing spaces removed and tabs
    expanded; the engine's `matches` then applies doctest's rules, the
    header's flags, and its normalisation of addresses and traceback frames.
    Inputs that match only because frames are not compared are counted
    apart. Where an interpreter has no record of its own, `Step.expected_for`
    picks the nearest older one (a free-threaded key its base version's) and
    such differences are listed apart: mostly records still to be made.

The standard-library corpus (`--corpus stdlib`)
    Transcripts written by others: the `>>>` examples of the docstrings of
    standard-library modules, extracted by each interpreter from its own
    library, recorded by the engine and kept where they run non-interactively
    and deterministically (scripts/stdlib_corpus.py says how), then checked
    here like the site's snippets, each interpreter against its own corpus.

    python scripts/repl_check.py                       # every snippet, every interpreter found
    python scripts/repl_check.py --corpus snippets --corpus stdlib --json report.json
    python scripts/repl_check.py --python 3.13=/usr/bin/python3.13 --jobs 2
    python scripts/repl_check.py --corpus tests/fixtures --only memory/ --only shell/help_len
    python scripts/repl_check.py --list-interpreters  # which REPL each one really runs

Exit status: 1 when any input differs, 0 otherwise (2 for usage errors).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import difflib
import json
import os
import platform
import resource
import select
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyte
from ptyprocess import PtyProcess  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
try:
    from snippet_engine import Interpreter, Settings, Step, discover, matches, open_project, parse
except ImportError:  # run without the editable install: use the source tree
    sys.path.insert(0, str(ROOT / "src"))
    from snippet_engine import Interpreter, Settings, Step, discover, matches, open_project, parse
# The limits the engine's sandbox sets, and how it shows a run's directory: the real REPL gets the same.
from snippet_engine.kinds import WORKDIR_SHOWN  # noqa: E402
from snippet_engine.limits import MEMORY_LIMIT  # noqa: E402
from snippet_engine.limits import OUTPUT_CAP as FILE_LIMIT  # noqa: E402

if str(Path(__file__).resolve().parent) not in sys.path:  # stdlib_corpus, beside this script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import stdlib_corpus  # noqa: E402

COLUMNS, ROWS = 512, 60
ENTER, BACKSPACE, INTERRUPT = "\r", "\x7f", "\x03"
STARTUP_TIMEOUT = 30.0  # a cold PyPy or a first import of PyREPL
QUIET = 0.05  # seconds of silence that stand in for /proc/PID/syscall where it is unreadable
STDIN_GRACE = 0.2  # seconds a REPL must wait, prompt-less, before it counts as reading stdin
OUTPUT_CAP = 1 << 20  # bytes one input may print (the screen emulator keeps every cell)
ADDR_NO_RANDOMIZE = 0x0040000

# System calls a REPL sleeps in while it waits for a key: (read, fd 0) and the
# poll/select family. By architecture; elsewhere the quiet period is used.
_WAIT_SYSCALLS = {
    "x86_64": {
        "read": 0,
        "poll": 7,
        "select": 23,
        "pselect6": 270,
        "ppoll": 271,
        "epoll_wait": 232,
        "epoll_pwait": 281,
        "epoll_pwait2": 441,
    },
    "aarch64": {"read": 63, "pselect6": 72, "ppoll": 73, "epoll_pwait": 22, "epoll_pwait2": 441},
}


# ------------------------------------------------------------------ interpreters


def prompts(interpreter: Interpreter) -> tuple[str, str]:
    """The REPL's ps1 and ps2: PyPy's have four characters."""
    return (">>>> ", ".... ") if interpreter.implementation == "pypy" else (">>> ", "... ")


def engine_settings() -> Settings:
    return Settings.from_environ(root=ROOT)


def found_interpreters(settings: Settings | None = None) -> list[Interpreter]:
    """Every interpreter the engine runs snippets on here, each behind its clean venv."""
    project = open_project(settings or engine_settings())
    try:
        return list(project.discovery.found)
    finally:
        project.close()


def interpreter_at(path: str, settings: Settings | None = None) -> Interpreter:
    """The engine's view of one interpreter (its clean venv included); ValueError says why not."""
    pythons = (settings or engine_settings()).pythons_dir
    found = discover((path,), None, pythons_dir=pythons, venvs_dir=pythons / "venvs" if pythons else None)
    if not found.found:
        raise ValueError("; ".join(found.ignored) or f"{path}: not usable")
    return found.found[0]


# -------------------------------------------------------------------- pure parts


def typed_lines(source: str) -> list[str]:
    """A step's source -> the lines a person types, a bare `...` being ''.

    The engine's worker splits an input the same way (`_Transcript`).
    """
    return source.split("\n")[:-1] or [""]


def keys_for_line(shown: str, wanted: str) -> str | None:
    """What to type on a line whose screen already shows the indentation `shown`.

    None: the REPL indented more than the line wants; press Backspace (PyREPL
    then removes one indentation level) and look again. An empty line is an
    empty Enter whatever the indentation shown: it ends a compound statement.
    """
    if not wanted.strip():
        return wanted[len(shown) :] if wanted.startswith(shown) else ""
    if wanted.startswith(shown):
        return wanted[len(shown) :]
    return None


def screen_form(text: str) -> str:
    """Output as a terminal screen can show it: tabs expanded, no trailing spaces."""
    return "\n".join(line.expandtabs(8).rstrip() for line in text.split("\n"))


def cut_output(
    rows: list[str], first: int, prompt_row: int, prompt_col: int, ps1: str, wrapped: Iterable[int] = ()
) -> str:
    """The text a REPL printed: rows[first:prompt_row], then what stands before the prompt.

    `prompt_col` is the cursor's column after the prompt; output that ended
    without a newline shares the prompt's row, in front of it. A row in
    `wrapped` ran over the screen's edge: the next row continues its line.
    """
    wrapped = set(wrapped)
    text = "".join(
        rows[row] if row in wrapped else rows[row].rstrip() + "\n"
        for row in range(first, min(prompt_row, len(rows)))
    )
    before = rows[prompt_row][: max(prompt_col - len(ps1), 0)] if prompt_row < len(rows) else ""
    return text + before


def udiff(want: str, got: str) -> str:
    lines = difflib.unified_diff(
        want.splitlines(), got.splitlines(), "recorded", "real REPL", lineterm="", n=2
    )
    return "\n".join(line for line in lines if not line.startswith(("---", "+++")))


# ---------------------------------------------------------------------- terminal


class _Screen(pyte.Screen):
    """A pyte screen that keeps the rows scrolled off its top, so rows have absolute numbers.

    It also remembers which rows a long line ran over the right margin of
    (pyte wraps as a terminal does), so one output line stays one line.
    """

    def __init__(self, columns: int, lines: int) -> None:
        super().__init__(columns, lines)
        self.scrolled: list[Any] = []
        self.wrapped: set[int] = set()  # absolute rows continued on the next row
        self._drawing = False

    def index(self) -> None:
        top, bottom = self.margins or pyte.screens.Margins(0, self.lines - 1)
        if self.cursor.y == bottom and top == 0:
            self.scrolled.append(self.buffer[top])
        super().index()

    def draw(self, data: str) -> None:
        self._drawing = True
        try:
            super().draw(data)
        finally:
            self._drawing = False

    def carriage_return(self) -> None:
        # Called by draw() itself only to wrap a line at the right margin.
        if self._drawing and self.cursor.x == self.columns:
            self.wrapped.add(len(self.scrolled) + self.cursor.y)
        super().carriage_return()


class Terminal:
    def __init__(self, columns: int = COLUMNS, lines: int = ROWS) -> None:
        self.screen = _Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)

    def feed(self, data: bytes) -> None:
        self.stream.feed(data)

    @property
    def row(self) -> int:
        """The cursor's absolute row."""
        return len(self.screen.scrolled) + self.screen.cursor.y

    @property
    def column(self) -> int:
        return int(self.screen.cursor.x)

    @property
    def wrapped(self) -> set[int]:
        return self.screen.wrapped

    def line(self, row: int) -> str:
        """A row's text; a row that wrapped keeps its every column (trailing spaces are mid-line)."""
        scrolled = self.screen.scrolled
        cells = scrolled[row] if row < len(scrolled) else self.screen.buffer.get(row - len(scrolled), {})
        if row in self.screen.wrapped:
            return "".join(cells[x].data for x in range(self.screen.columns))
        if not cells:
            return ""
        return "".join(cells[x].data for x in range(max(cells) + 1)).rstrip()

    def rows(self, last: int | None = None, first: int = 0) -> list[str]:
        """Rows 0..last (the cursor's by default), by absolute number; those before `first` left empty."""
        end = (self.row if last is None else last) + 1
        return [""] * first + [self.line(row) for row in range(first, end)]


# ----------------------------------------------------------------------- session


@dataclass
class Prompt:
    kind: str  # "ps1", "ps2"; or why there is none: "stdin", "eof", "timeout"
    row: int = 0
    column: int = 0  # the cursor's
    shown: str = ""  # ps2: the indentation already on the line; ps1: the text before the prompt


def _in_child() -> None:
    """Run in the REPL's process before exec: no address-space randomisation, the engine's limits."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.personality(libc.personality(0xFFFFFFFF) | ADDR_NO_RANDOMIZE)
    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def _end_leftovers(home: Path) -> None:
    """Kill what a session left running in a session of its own (`start_new_session=True`).

    Such processes escape the REPL's process group; they still carry the
    session's HOME, which no other process on the machine has.
    """
    marker = b"HOME=" + bytes(home) + b"\0"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if marker in (entry / "environ").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)


class Repl:
    """One interactive interpreter in a pseudo-terminal, and the screen it draws."""

    def __init__(
        self, python: Path, prompts: tuple[str, str], workdir: Path, home: Path, basic: bool = False
    ) -> None:
        self.ps1, self.ps2 = prompts
        self.workdir = workdir
        env = {
            "PATH": os.pathsep.join([str(python.parent), "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(home),
            "TMPDIR": str(home.parent / "tmp"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "NO_COLOR": "1",
            "PYTHON_COLORS": "0",
            "TERM": "xterm",
            "PAGER": "cat",
            # A transcript whose header says `repl: basic` is what a reader sees with this set.
            **({"PYTHON_BASIC_REPL": "1"} if basic else {}),
        }
        self.term = Terminal()
        self.proc = PtyProcess.spawn(
            [str(python)], cwd=str(workdir), env=env, dimensions=(ROWS, COLUMNS), preexec_fn=_in_child
        )
        self.home = home
        self.fd: int = self.proc.fd
        self.eof = False
        self.overflow = False
        self.budget = OUTPUT_CAP  # bytes the current input may still print
        self.tail = b""  # the last bytes read, for messages
        calls = _WAIT_SYSCALLS.get(platform.machine(), {})
        self.wait_calls = {number: name for name, number in calls.items()}

    def close(self) -> None:
        # The REPL leads its own session (setsid): its process group is it and
        # whatever it started. ptyprocess's terminate() sleeps 0.1 s per signal.
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.wait()
        self.proc.delayafterclose = 0
        with contextlib.suppress(Exception):
            self.proc.close(force=True)
        _end_leftovers(self.home)

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode("utf-8"))

    def _pump(self, timeout: float) -> bool:
        """Read what the REPL wrote (waiting up to `timeout`); True if anything came."""
        if self.eof:
            return False
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the other side is closed
            data = b""
        if not data:
            self.eof = True
            return False
        self.tail = (self.tail + data)[-400:]
        self.budget -= len(data)
        if self.budget < 0:  # the terminal emulator would need gigabytes: stop here
            self.overflow = True
            return False
        self.term.feed(data)
        return True

    def waiting_for_input(self) -> bool | None:
        """Is the REPL's main thread asleep in a read of fd 0 or a poll/select? None: cannot tell."""
        if not self.wait_calls:
            return None
        try:
            fields = Path(f"/proc/{self.proc.pid}/syscall").read_text().split()
        except OSError:
            return None
        if not fields or not fields[0].isdigit():
            return False  # "running", or "-1" (blocked outside a system call)
        name = self.wait_calls.get(int(fields[0]))
        if name == "read":
            return int(fields[1], 16) == 0
        return name is not None

    def prompt_here(self) -> Prompt | None:
        line = self.term.line(self.term.row)
        column = self.term.column
        before, after = line[:column], line[column:]
        if after.strip():
            return None
        before = before.ljust(column)
        if before.endswith(self.ps1):
            return Prompt("ps1", self.term.row, column, before[: -len(self.ps1)])
        if before.startswith(self.ps2) and not before[len(self.ps2) :].strip(" \t"):
            return Prompt("ps2", self.term.row, column, before[len(self.ps2) :])
        return None

    def wait(self, deadline: float, accept: Callable[[Prompt], bool]) -> Prompt:
        """Read until the REPL shows an accepted prompt and waits for a key."""
        delay = 0.0005
        quiet_since = stdin_since = time.monotonic()
        while True:
            if self._pump(delay):
                delay = 0.0005
                quiet_since = stdin_since = time.monotonic()
                continue
            now = time.monotonic()
            if self.eof:
                return Prompt("eof", self.term.row, self.term.column)
            if self.overflow:
                return Prompt("overflow", self.term.row, self.term.column)
            prompt = self.prompt_here()
            blocked = self.waiting_for_input()
            # Without /proc/PID/syscall, silence stands in, and a REPL reading
            # stdin cannot be told from a slow input: the timeout ends both.
            waiting = now - quiet_since >= QUIET if blocked is None else blocked
            if prompt is not None and accept(prompt) and waiting:
                if self._pump(0):  # written just before it went to sleep
                    continue
                return prompt
            if prompt is None and blocked:
                if now - stdin_since >= STDIN_GRACE:
                    return Prompt("stdin", self.term.row, self.term.column)
            else:
                stdin_since = now
            if now > deadline:
                return Prompt("timeout", self.term.row, self.term.column)
            delay = min(delay * 2, 0.01)


@contextlib.contextmanager
def session(interpreter: Interpreter, basic: bool = False) -> Iterator[tuple[Repl, Prompt]]:
    """A fresh REPL of the interpreter's clean venv, and its first prompt (kind "ps1" unless it failed)."""
    with tempfile.TemporaryDirectory(prefix="repl-check-") as temporary:
        root = Path(temporary)
        for name in ("work", "home", "tmp"):
            (root / name).mkdir()
        repl = Repl(Path(interpreter.path), prompts(interpreter), root / "work", root / "home", basic)
        try:
            yield repl, repl.wait(time.monotonic() + STARTUP_TIMEOUT, lambda p: p.kind == "ps1")
        finally:
            repl.close()


def _below(row: int) -> Callable[[Prompt], bool]:
    """A prompt on a later row than `row`: the REPL took the line."""
    return lambda p: p.kind in ("ps1", "ps2") and p.row > row


def _redrawn(row: int, shown: str) -> Callable[[Prompt], bool]:
    """The same continuation line, with other indentation: the REPL took a Backspace."""
    return lambda p: p.kind == "ps2" and p.row == row and p.shown != shown


def _shown(prompt: Prompt) -> str:
    """The indentation the REPL already put on the line (none after a `>>>`)."""
    return prompt.shown if prompt.kind == "ps2" else ""


def _keys_at(repl: Repl, prompt: Prompt, wanted: str, deadline: float) -> tuple[str | None, Prompt]:
    """The keys that finish `wanted` on this line, after a Backspace per level PyREPL indented too far."""
    shown = _shown(prompt)
    keys = keys_for_line(shown, wanted)
    while keys is None:
        repl.send(BACKSPACE)
        prompt = repl.wait(min(deadline, time.monotonic() + 5), _redrawn(prompt.row, shown))
        if prompt.kind != "ps2":
            return None, prompt
        shown = prompt.shown
        keys = keys_for_line(shown, wanted)
    return keys, prompt


def _printed(repl: Repl, first: int, prompt: Prompt) -> str:
    """What the REPL printed from row `first` down to `prompt` (or to the cursor when none came)."""
    rows, wrapped = repl.term.rows(first=first), repl.term.wrapped  # a long session: only the rows needed
    if prompt.kind == "ps1":
        return cut_output(rows, first, prompt.row, prompt.column, repl.ps1, wrapped)
    if prompt.kind == "ps2":
        return cut_output(rows, first, prompt.row, 0, "", wrapped)
    text = cut_output(rows, first, len(rows), 0, "", wrapped).rstrip("\n")
    return text + "\n" if text else ""


@dataclass
class Typed:
    """One transcript input typed into the REPL."""

    output: str  # everything printed after any of its lines
    problem: str | None  # why the typing itself went wrong (the input then counts as different)
    prompt: Prompt  # where the session stands after it: the next input is typed here
    note: str | None = None  # how it was typed, where a person would notice


def type_input(repl: Repl, prompt: Prompt, lines: list[str], timeout: float) -> Typed:
    """Type one transcript input, each line at the prompt the REPL shows when it is typed."""
    deadline = time.monotonic() + timeout
    repl.budget = OUTPUT_CAP
    pieces: list[str] = []
    echoes: list[tuple[int, int, str]] = []  # (row, column) where each typed line's text begins
    problem = note = None
    for index, wanted in enumerate(lines):
        if prompt.kind not in ("ps1", "ps2"):
            break
        if index and prompt.kind == "ps1" and note is None:
            note = f"the REPL ran it after line {index} of {len(lines)}; the rest went to a new prompt"
        row, column = prompt.row, prompt.column - len(_shown(prompt))
        keys, prompt = _keys_at(repl, prompt, wanted, deadline)
        if keys is None:
            problem = f"Backspace did not dedent the line for {wanted!r}"
            break
        repl.send(keys + ENTER)
        prompt = repl.wait(deadline, _below(row))
        pieces.append(_printed(repl, row + 1, prompt))
        echoes.append((row, column, wanted))
    for row, column, wanted in echoes:
        echoed = repl.term.line(row)[column:].rstrip()
        if echoed != wanted.rstrip() and problem is None:
            problem = f"the screen shows the input line {wanted!r} as {echoed!r}"
    output = "".join(pieces).replace(str(repl.workdir.parent), WORKDIR_SHOWN)
    return Typed(output, problem, prompt, note)


def real_outputs(
    interpreter: Interpreter, sources: list[str], *, basic: bool = False, timeout: float = 10.0
) -> list[Typed]:
    """Each input's output in one fresh real REPL session (for tests and one-off questions)."""
    typed: list[Typed] = []
    with session(interpreter, basic) as (repl, prompt):
        for source in sources:
            if prompt.kind not in ("ps1", "ps2"):
                typed.append(Typed("", f"never typed: the session ended ({prompt.kind})", prompt))
                continue
            typed.append(type_input(repl, prompt, typed_lines(source), timeout))
            prompt = typed[-1].prompt
    return typed


# ----------------------------------------------------------------------- checking


@dataclass
class Outcome:
    """One input on one interpreter."""

    path: str
    line: int
    key: str
    source: str
    status: str  # "identical", "different", "skipped", "n/a"
    recorded: str | None = None
    real: str | None = None
    note: str | None = None  # why skipped, or what else went wrong
    diff: str = ""
    borrowed: bool = False  # compared with another interpreter's record (none of its own yet)
    frames_differ: bool = False  # identical only because traceback frames are not compared
    corpus: str = "snippets"


_ENDED = {
    "eof": "the REPL exited",
    "stdin": "it read stdin",
    "timeout": "it hung",
    "overflow": "too much output",
}


def _after_trouble(repl: Repl, typed: Typed, timeout: float) -> tuple[str | None, str, Prompt]:
    """(problem, output, prompt) once a hang, an exit or a flood is dealt with."""
    prompt, output = typed.prompt, typed.output
    if prompt.kind == "timeout":
        repl.send(INTERRUPT)
        prompt = repl.wait(time.monotonic() + 3, lambda p: p.kind in ("ps1", "ps2"))
        return f"no prompt within {timeout:g} s (a hang?)", output, prompt
    if prompt.kind == "eof":
        return "the REPL exited", output, prompt
    if prompt.kind == "overflow":
        return f"it printed over {OUTPUT_CAP >> 20} MiB", output[:2000] + "[...]\n", prompt
    return typed.problem, output, prompt


def _compare(step: Step, key: str, options: Any, output: str, problem: str | None) -> dict[str, Any]:
    """The Outcome fields that say whether the real output matches the record."""
    want, note = step.expected_for(key)
    if want is None:
        return {"status": "skipped", "note": f"nothing recorded for {key}"}
    recorded = screen_form(want)
    same = problem is None and matches(recorded, output, options)
    frames_differ = same and not matches(recorded, output, options, any_frames=False)
    return {
        "status": "identical" if same else "different",
        "recorded": want,
        "real": output,
        "note": "; ".join(n for n in (problem, note) if n) or None,
        "diff": "" if same else udiff(recorded, output),
        "borrowed": note is not None,
        "frames_differ": frames_differ,
    }


def check_snippet(
    path: Path, display: str, interpreter: Interpreter, max_timeout: float = 30.0, corpus: str = "snippets"
) -> list[Outcome]:
    """Run one transcript in a fresh REPL and compare every input with its record."""
    snippet = parse(path)
    steps = list(snippet.steps)
    key = interpreter.key

    def outcome(step: Step, **fields: Any) -> Outcome:
        return Outcome(display, step.lineno, key, step.source, corpus=corpus, **fields)

    def skip_from(position: int, reason: str) -> list[Outcome]:
        return [outcome(step, status="skipped", note=reason) for step in steps[position:]]

    if not snippet.options.applies_to(interpreter.implementation, interpreter.language):
        return [outcome(step, status="n/a") for step in steps]
    if snippet.options.timeout > max_timeout:
        return skip_from(0, f"its header allows {snippet.options.timeout:g} s (over --max-timeout)")
    outcomes: list[Outcome] = []
    timeout = snippet.options.timeout
    with session(interpreter, snippet.options.repl == "basic") as (repl, prompt):
        if prompt.kind != "ps1":
            banner = repl.term.line(repl.term.row) or repl.tail.decode(errors="replace")
            return skip_from(0, f"the REPL showed no prompt ({prompt.kind}): {banner!r}")
        for position, step in enumerate(steps):
            if prompt.kind not in ("ps1", "ps2"):
                why = _ENDED.get(prompt.kind, prompt.kind)
                return outcomes + skip_from(
                    position, f"the session ended at line {steps[position - 1].lineno}: {why}"
                )
            if "\t" in step.source:  # a person cannot type it: Tab completes
                return outcomes + skip_from(
                    position, f"line {step.lineno} has a tab, which the REPL takes as completion"
                )
            typed = type_input(repl, prompt, typed_lines(step.source), timeout)
            if typed.prompt.kind == "stdin":
                outcomes.append(outcome(step, status="skipped", note="the input reads from stdin"))
                prompt = typed.prompt
                continue
            problem, output, prompt = _after_trouble(repl, typed, timeout)
            fields = _compare(step, key, snippet.options, output, problem)
            if typed.note and fields["status"] == "different":
                fields["note"] = "; ".join(n for n in (fields["note"], typed.note) if n)
            outcomes.append(outcome(step, **fields))
    return outcomes


def repl_kind(interpreter: Interpreter) -> str:
    """Which REPL the interpreter really runs at a terminal, asked in a session of its own."""
    probe_line = "import sys; sorted(m for m in sys.modules if m.split('.')[0] in ('_pyrepl', 'pyrepl'))"
    with session(interpreter) as (repl, prompt):
        if prompt.kind != "ps1":
            return f"no prompt ({prompt.kind})"
        typed = type_input(repl, prompt, [probe_line], 20)
    if typed.problem:
        return f"unknown ({typed.problem})"
    # CPython 3.13+ has it as _pyrepl; PyPy 3.11 ships the same code as `pyrepl`,
    # whose `types` module the older pyrepl of PyPy 3.9 lacks.
    if "'_pyrepl" in typed.output or "'pyrepl.types'" in typed.output:
        return "PyREPL"
    return "old pyrepl" if "'pyrepl" in typed.output else "basic REPL"


# ----------------------------------------------------------------------- running

Job = tuple[str, str, Interpreter, float, str]  # path, display, interpreter, max timeout, corpus


def _job(job: Job) -> list[dict[str, Any]]:
    path, display, interpreter, max_timeout, corpus = job
    try:
        outcomes = check_snippet(Path(path), display, interpreter, max_timeout, corpus)
    except Exception as error:  # one broken session must not stop the run
        note = f"{type(error).__name__}: {error}"
        outcomes = [Outcome(display, 1, interpreter.key, "", "skipped", note=note, corpus=corpus)]
    return [asdict(outcome) for outcome in outcomes]


def transcripts(folder: Path, only: list[str], base: Path, prefix: str = "") -> Iterator[tuple[Path, str]]:
    """The .pycon files under `folder`, each with the name reports give it (relative to `base`)."""
    for path in sorted(folder.rglob("*.pycon")):
        display = path.as_posix()
        with contextlib.suppress(ValueError):
            display = path.resolve().relative_to(base.resolve()).as_posix()
        display = prefix + display
        if not only or any(part in display for part in only):
            yield path, display


@dataclass
class Tally:
    corpus: str
    interpreter: Interpreter
    repl: str
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("identical", "different", "skipped", "n/a"), 0)
    )

    @property
    def rate(self) -> float | None:
        compared = self.counts["identical"] + self.counts["different"]
        return None if not compared else self.counts["identical"] / compared


def _difference(o: Outcome) -> list[str]:
    first = o.source.split("\n")[0]
    head = f"{o.path}:{o.line} [{o.key}] `{first}`" + (f"  ({o.note})" if o.note else "")
    return [head] + ["    " + line for line in o.diff.splitlines()]


def _tally_line(tally: Tally, outcomes: list[Outcome]) -> str:
    mine = [o for o in outcomes if o.key == tally.interpreter.key and o.corpus == tally.corpus]
    rate = "-" if tally.rate is None else f"{100 * tally.rate:.1f}%"
    c = tally.counts
    borrowed = sum(o.borrowed for o in mine if o.status == "different")
    frames = sum(o.frames_differ for o in mine)
    label = tally.interpreter.exact_label
    return (
        f"  {tally.interpreter.key:<9} {label:<27} {tally.repl:<11} identical {c['identical']:>5}"
        f"  different {c['different']:>3}  skipped {c['skipped']:>3}  n/a {c['n/a']:>3}  match {rate:>6}"
        + (f"  ({borrowed} against another interpreter's record)" if borrowed else "")
        + (f"  [{frames} identical only with traceback frames ignored]" if frames else "")
    )


def _skipped_lines(outcomes: list[Outcome]) -> list[str]:
    reasons: dict[tuple[str, str, str], list[str]] = {}
    for o in outcomes:
        if o.status == "skipped":
            reasons.setdefault((o.corpus, o.key, o.note or ""), []).append(f"{o.path}:{o.line}")
    out = ["", "Skipped:"] if reasons else []
    for (corpus, key, reason), where in sorted(reasons.items()):
        shown = ", ".join(where[:4]) + (f" and {len(where) - 4} more" if len(where) > 4 else "")
        out.append(f"  [{corpus} {key}] {reason}: {shown}")
    return out


def report(
    tallies: list[Tally],
    outcomes: list[Outcome],
    seconds: float,
    jobs: int,
    builds: list[stdlib_corpus.Build],
) -> str:
    files = len({(o.corpus, o.path) for o in outcomes})
    out = [f"repl-check: {files} transcripts, {len({t.interpreter.key for t in tallies})} interpreters,"]
    out[0] += f" {jobs} jobs, {seconds:.1f} s"
    for corpus in dict.fromkeys(t.corpus for t in tallies):
        out += ["", f"{corpus}:"]
        out += [_tally_line(t, outcomes) for t in tallies if t.corpus == corpus]
    out.append("  (n/a: inputs of transcripts whose header leaves that interpreter out)")
    if builds:
        out += ["", "Standard-library corpus, as built:"] + [f"  {build.summary()}" for build in builds]
    out += _skipped_lines(outcomes)
    different = [o for o in outcomes if o.status == "different"]
    own = [o for o in different if not o.borrowed]
    borrowed = [o for o in different if o.borrowed]
    if own:
        out += ["", f"Differences from the interpreter's own record ({len(own)}):"]
        for o in own:
            out += _difference(o)
    if borrowed:
        out += [
            "",
            f"Differences from another interpreter's record, none being recorded yet ({len(borrowed)}):",
        ]
        for o in borrowed:
            out += _difference(o)
    return "\n".join(out)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="KEY=PATH",
        help="an interpreter to use (repeatable); default: every one the engine finds",
    )
    parser.add_argument(
        "--corpus",
        action="append",
        metavar="NAME|DIR",
        help="'snippets' (default), 'stdlib' (docstring examples) or a folder of .pycon files; repeatable",
    )
    parser.add_argument(
        "--rebuild-corpus",
        action="store_true",
        help="build the stdlib corpus afresh even where the interpreter, engine and builder are unchanged",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="only transcripts whose path contains TEXT (repeatable)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="REPL sessions in parallel")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON")
    parser.add_argument(
        "--max-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="skip transcripts whose header allows longer than this (default 30)",
    )
    parser.add_argument("--list-interpreters", action="store_true", help="show the interpreters and stop")
    return parser


def _interpreters(parser: argparse.ArgumentParser, given: list[str]) -> list[Interpreter]:
    if not given:
        return found_interpreters()
    chosen = []
    for item in given:
        key, sep, path = item.partition("=")
        if not sep or not key or not path:
            parser.error(f"--python wants KEY=PATH, not {item!r}")
        try:
            interpreter = interpreter_at(path)
        except ValueError as error:
            parser.error(str(error))
        if interpreter.key != key:
            parser.error(f"{path} is {interpreter.exact_label} ({interpreter.key}), not {key}")
        chosen.append(interpreter)
    return chosen


def _jobs_for(
    corpus: str, interpreters: list[Interpreter], args: argparse.Namespace, builds: list[stdlib_corpus.Build]
) -> list[Job]:
    """The (transcript, interpreter) pairs of one corpus; building the stdlib one first."""
    if corpus != "stdlib":
        folder = ROOT / "snippets" if corpus == "snippets" else Path(corpus)
        files = list(transcripts(folder, args.only, ROOT if corpus == "snippets" else folder))
        return [(str(p), d, i, args.max_timeout, corpus) for i in interpreters for p, d in files]
    jobs: list[Job] = []
    for interpreter in interpreters:
        build = stdlib_corpus.build(interpreter, rebuild=args.rebuild_corpus, log=_log)
        builds.append(build)
        found = transcripts(build.snippets_dir, args.only, build.snippets_dir, f"{interpreter.key}/")
        jobs += [(str(p), d, interpreter, args.max_timeout, corpus) for p, d in found]
    return jobs


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _json(
    path: Path,
    tallies: list[Tally],
    outcomes: list[Outcome],
    seconds: float,
    builds: list[stdlib_corpus.Build],
) -> None:
    data = {
        "seconds": round(seconds, 1),
        "interpreters": [
            {"corpus": t.corpus, **asdict(t.interpreter), "repl": t.repl, **t.counts, "match_rate": t.rate}
            for t in tallies
        ],
        "corpus_builds": [build.as_json() for build in builds],
        "outcomes": [asdict(o) for o in outcomes if o.status != "n/a"],
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    interpreters = _interpreters(parser, args.python)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        kinds = dict(zip((i.key for i in interpreters), pool.map(repl_kind, interpreters), strict=True))
    if args.list_interpreters:
        for i in interpreters:
            print(f"{i.key:<9} {i.exact_label:<27} {kinds[i.key]:<11} {i.base}  (runs as {i.path})")
        return 0
    started = time.monotonic()
    builds: list[stdlib_corpus.Build] = []
    corpora = list(dict.fromkeys(args.corpus or ["snippets"]))
    jobs = [job for corpus in corpora for job in _jobs_for(corpus, interpreters, args, builds)]
    if args.jobs <= 1:
        results = [_job(job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=args.jobs) as processes:
            results = list(processes.map(_job, jobs, chunksize=1))
    seconds = time.monotonic() - started
    outcomes = [Outcome(**item) for result in results for item in result]
    tallies = {(c, i.key): Tally(c, i, kinds[i.key]) for c in corpora for i in interpreters}
    for outcome in outcomes:
        tallies[outcome.corpus, outcome.key].counts[outcome.status] += 1
    print(report(list(tallies.values()), outcomes, seconds, args.jobs, builds))
    if args.json:
        _json(args.json, list(tallies.values()), outcomes, seconds, builds)
    return 1 if any(o.status == "different" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
