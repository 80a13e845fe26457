"""How each kind of snippet runs: a REPL transcript, a script, shell commands.

Each function gets a `Run` (the snippet, the interpreter, a sandbox session
and the layout of the run's directory) and returns the steps' outputs, an
error for the run as a whole, and the seconds it took. What a run leaves in
its directory was written by untrusted code: the launcher reads it back
without following links, up to the output cap, and says when a name holds
something else than a regular file (a directory, a pipe, a device...). The
results file is checked before it is believed, and never outweighs the exit
status the launcher saw.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .interpreters import Interpreter
from .limits import OUTPUT_CAP, RUN_ROOT
from .results import StepResult
from .sandbox import Exit, Session
from .snippet import Snippet

WORKER = Path(__file__).with_name("_worker.py")
HASH_SEED = "0"
# How the run directory itself appears in outputs (rarely seen). In the
# sandbox it is literally this path, so its length (which id() and reference
# counts can show) never varies; without one its own name is replaced by it.
WORKDIR_SHOWN = RUN_ROOT
# How the run's folders appear in outputs: as a reader's own machine would show them.
SHOWN_AS = (("work", "/home/you/demo"), ("home", "/home/you"), ("tmp", "/tmp"), ("bin", "/usr/bin"))


@functools.cache  # one root per launcher, decoded on every step
def shown_paths(root: str) -> tuple[tuple[str, str], ...]:
    """(path in a run directory, how outputs show it), longest first, for every spelling of `root`."""
    pairs = []
    # In the sandbox the path is the run's own; the host's realpath of it means nothing.
    spellings = (root,) if root == RUN_ROOT else (root, os.path.realpath(root))
    for spelling in dict.fromkeys(spellings):
        pairs += [(f"{spelling}/{folder}", shown) for folder, shown in SHOWN_AS]
        pairs.append((spelling, WORKDIR_SHOWN))
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


# Everything of a run's environment but its paths: part of the cache key.
ENVIRONMENT = {
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONHASHSEED": HASH_SEED,
    "PYTHONUNBUFFERED": "1",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONNOUSERSITE": "1",
    "NO_COLOR": "1",
    "PYTHON_COLORS": "0",
    "TERM": "xterm-256color",
    "COLUMNS": "80",
    "LINES": "24",
}
Layout = list[tuple[str, str, str | bytes]]  # ("dir", name, ""), ("link", name, target), ("file", name, data)
Outcome = tuple[tuple[StepResult, ...], str | None, float]  # steps, error, seconds
_RECORD = re.compile(rb"^(\d+) (\d+) (\S+)$")


def prepare_directory(root: str, interpreter: Interpreter, snippet: Snippet) -> tuple[Layout, dict[str, str]]:
    """A run's directory (work/, bin/python, home/, tmp/), as the launcher will lay it out, and its env."""
    layout: Layout = [("dir", name, "") for name in ("work", "bin", "home", "tmp")]
    layout += [("link", f"bin/{name}", interpreter.path) for name in ("python", "python3")]
    env = {
        "PATH": os.pathsep.join([f"{root}/bin", "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": f"{root}/home",
        "TMPDIR": f"{root}/tmp",
        **ENVIRONMENT,
        **({"PYTHON_BASIC_REPL": "1"} if snippet.options.repl == "basic" else {}),
    }
    return layout, env


@dataclass
class Run:
    snippet: Snippet
    interpreter: Interpreter
    session: Session
    env: dict[str, str]
    worker: bytes | None  # the compiled worker, or None to send its source
    layout: Layout  # made before the first command; later commands find what earlier ones left
    collected: dict[str, bytes] = field(default_factory=dict)  # every regular file read back so far

    @property
    def root(self) -> str:
        return self.session.root

    def path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def start(
        self,
        command: list[str],
        output: str,
        timeout: float,
        *,
        collect: tuple[str, ...] = (),
        end: bool = True,
    ) -> Exit:
        """Run one command with stdout and stderr in `output`; read back `output` and `collect`."""
        layout, self.layout = self.layout, []
        exit = self.session.run(
            command,
            cwd="work",
            env=self.env,
            output=output,
            timeout=max(timeout, 0.05),
            layout=layout,
            collect=collect,
            end=end,
        )
        self.collected.update(exit.files)
        return exit

    def decode(self, data: bytes) -> str:
        """Bytes a process wrote -> text that is safe to show and to store."""
        text = data.decode("utf-8", errors="backslashreplace")
        # A reader's terminal shows their own folders, not a sandbox's (and,
        # without the sandbox, the directory's random name would make every
        # build differ).
        for real, shown in shown_paths(self.root):
            text = text.replace(real, shown)
        # Control characters (ANSI escapes, bare carriage returns) would be
        # interpreted by a terminal or hidden by a browser: show them as escapes.
        return "".join(
            ch if ch in "\n\t" or (ch >= " " and ch != "\x7f") else f"\\x{ord(ch):02x}" for ch in text
        )


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with code {returncode}"


def _cap_error(size: int) -> str | None:
    return f"output exceeded the cap of {OUTPUT_CAP >> 20} MiB" if size >= OUTPUT_CAP else None


def _stopped(exit: Exit, snippet: Snippet) -> str | None:
    """A limit or the timeout: what stopped the run from outside, which outranks anything it printed."""
    if exit.limit:
        return f"the run went over {exit.limit} and was stopped"
    if exit.returncode is None:
        return f"timed out after {snippet.options.timeout:g} s"
    return None


def _boot(run: Run) -> str:
    """The `-c` program: run the worker in its own namespace, leaving `__main__` pristine."""
    # Files are closed explicitly: an unclosed one raises a ResourceWarning
    # whose registry would appear in the REPL namespace as __warningregistry__.
    read = "(lambda f: (f.read(), f.close())[0])"
    if run.worker is None:
        # The engine's own files are not in the sandbox: the source goes in the run's directory.
        run.layout.append(("file", "worker.py", WORKER.read_bytes()))
        source = f"{read}(open({run.path('worker.py')!r}, encoding='utf-8'))"
    else:
        run.layout.append(("file", "worker.marshal", run.worker))
        source = f"__import__('marshal').loads({read}(open({run.path('worker.marshal')!r}, 'rb')))"
    return f"exec({source}, {{'__name__': '_snippet_worker'}})"


def worker_arguments(root: str, draw: tuple[str, ...] = ()) -> list[str]:
    """The worker's argv in a run directory: the inputs file, the results file, and what to draw."""
    return [f"{root}/inputs", f"{root}/results", f"{root}/drawing", *draw]


def _records(data: bytes, count: int, size: int) -> list[tuple[int, str]] | None:
    """(output offset, status) per finished input, or None when the file is not what the worker writes."""
    records: list[tuple[int, str]] = []
    for line in data.splitlines():
        match = _RECORD.match(line)
        if match is None:
            return None
        index, offset, status = int(match[1]), int(match[2]), match[3].decode("ascii", "replace")
        previous = records[-1][0] if records else 0
        if index != len(records) or index >= count or not previous <= offset <= size:
            return None
        records.append((offset, status))
    return records


def run_transcript(run: Run) -> Outcome:
    snippet = run.snippet
    run.layout.append(("file", "inputs", "\0".join(step.source for step in snippet.steps)))
    command = [
        run.interpreter.path,
        "-s",
        "-c",
        _boot(run),
        *worker_arguments(run.root, snippet.options.draw),
    ]
    collect = ("results", "drawing") if snippet.options.draw else ("results",)
    exit = run.start(command, "output", snippet.options.timeout, collect=collect)
    data = exit.files.get("output", b"")
    stopped = _stopped(exit, snippet)
    records = (
        None
        if "results" in exit.replaced
        else _records(exit.files.get("results", b""), len(snippet.steps), len(data))
    )
    if records is None:
        problem = "the results file was not written by the worker (changed by the snippet?)"
        if "results" in exit.replaced:
            problem += f"; the snippet put {exit.replaced['results']} in its place"
        if stopped:
            problem = f"{stopped}; {problem}"
        elif exit.returncode:
            problem += f"; the interpreter {describe_exit(exit.returncode)}"
        return (), problem, exit.seconds
    steps, start = [], 0
    for offset, status in records:
        steps.append(StepResult(run.decode(data[start:offset]), status))
        start = offset
    error = stopped or _cap_error(len(data))
    finished = len(steps) == len(snippet.steps)
    if exit.limit or (error is None and (not finished or exit.returncode != 0)):
        # An "exit" record means the input itself called sys.exit(); otherwise
        # the process died while running the next input.
        exited = bool(records) and records[-1][1] == "exit"
        culprit = snippet.steps[min(len(steps) - 1 if exited else len(steps), len(snippet.steps) - 1)]
        if exit.limit:
            error = f"{stopped} at the input on line {culprit.lineno}"
        else:
            error = (
                f"the interpreter {describe_exit(exit.returncode)} at the input on line "  # type: ignore[arg-type]
                f"{culprit.lineno}; later inputs never ran"
            )
    if not finished and start < len(data):
        steps.append(StepResult(run.decode(data[start:]), "unfinished"))
    return tuple(steps), error, exit.seconds


def run_script(run: Run) -> Outcome:
    snippet = run.snippet
    run.layout.append(("file", f"work/{snippet.path.name}", snippet.steps[0].source))
    command = [run.interpreter.path, "-s", snippet.path.name]
    exit = run.start(command, "output", snippet.options.timeout)
    data = exit.files.get("output", b"")
    text = run.decode(data)
    error = _stopped(exit, snippet) or _cap_error(len(data))
    expected = snippet.options.raises
    if error is None and expected:
        last = text.rstrip("\n").rsplit("\n", 1)[-1]
        if exit.returncode != 1 or not last.startswith(expected):
            error = f"expected to end with {expected}, but it {describe_exit(exit.returncode)}"  # type: ignore[arg-type]
    elif error is None and exit.returncode != 0:
        error = f"the script {describe_exit(exit.returncode)}"  # type: ignore[arg-type]
    return (StepResult(text, "ok" if error is None else "unfinished"),), error, exit.seconds


def run_console(run: Run) -> Outcome:
    # Each `$` command runs in its own shell in the same directory, like a
    # reader typing them one after the other (`cd` and `export` do not carry).
    snippet = run.snippet
    deadline = time.monotonic() + snippet.options.timeout
    steps: list[StepResult] = []
    total, written = 0.0, 0
    last = len(snippet.steps) - 1
    for index, step in enumerate(snippet.steps):
        output = f"output-{index}"
        exit = run.start(
            ["/bin/sh", "-c", step.source], output, deadline - time.monotonic(), end=index == last
        )
        total += exit.seconds
        data = exit.files.get(output, b"")
        # The cap is for the whole snippet, not per command.
        written += len(data)
        returncode = exit.returncode
        status = "ok" if returncode == 0 else "unfinished" if returncode is None or exit.limit else "failed"
        steps.append(StepResult(run.decode(data), status))
        stopped = _stopped(exit, snippet)
        error = f"{stopped} at command {index + 1}" if stopped else _cap_error(written)
        if error:
            return tuple(steps), error, total
    return tuple(steps), None, total


RUNS: dict[str, Callable[[Run], Outcome]] = {
    "pycon": run_transcript,
    "script": run_script,
    "console": run_console,
}
