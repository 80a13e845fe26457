"""How each kind of snippet runs: a REPL transcript, a script, shell commands.

Each function gets a `Run` (the snippet, the interpreter, a fresh directory and
the sandbox's spawn) and returns the steps' outputs, an error for the run as a
whole, and the seconds it took. What a run leaves in its directory was written
by untrusted code: it is opened without following links, read up to the
output cap, and checked before it is believed.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .interpreters import Interpreter
from .results import StepResult
from .sandbox import OUTPUT_CAP
from .snippet import Snippet

WORKER = Path(__file__).with_name("_worker.py")
HASH_SEED = "0"
WORKDIR_SHOWN = "/tmp/snippet"  # how the run directory itself appears in outputs (rarely seen)
# How the run's folders appear in outputs: as a reader's own machine would show them.
SHOWN_AS = (("work", "/home/you/demo"), ("home", "/home/you"), ("tmp", "/tmp"), ("bin", "/usr/bin"))


def shown_paths(root: str) -> list[tuple[str, str]]:
    """(path in a run directory, how outputs show it), longest first, for every spelling of `root`."""
    pairs = []
    for spelling in dict.fromkeys((root, os.path.realpath(root))):
        pairs += [(f"{spelling}/{folder}", shown) for folder, shown in SHOWN_AS]
        pairs.append((spelling, WORKDIR_SHOWN))
    return sorted(pairs, key=lambda pair: -len(pair[0]))


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
Spawn = Callable[..., tuple[int | None, float]]
Outcome = tuple[tuple[StepResult, ...], str | None, float]  # steps, error, seconds
_RECORD = re.compile(rb"^(\d+) (\d+) (\S+)$")


def prepare_directory(root: Path, interpreter: Interpreter, snippet: Snippet) -> dict[str, str]:
    """Lay out a run's directory (work/, bin/python, home/, tmp/) and return its environment."""
    bin_dir = root / "bin"
    for folder in (root / "work", bin_dir, root / "home", root / "tmp"):
        folder.mkdir()
    for name in ("python", "python3"):
        (bin_dir / name).symlink_to(interpreter.path)
    return {
        "PATH": os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(root / "home"),
        "TMPDIR": str(root / "tmp"),
        **ENVIRONMENT,
        **({"PYTHON_BASIC_REPL": "1"} if snippet.options.repl == "basic" else {}),
    }


@dataclass(frozen=True)
class Run:
    snippet: Snippet
    interpreter: Interpreter
    root: Path  # the run's own directory, laid out by prepare_directory
    env: dict[str, str]
    spawn: Spawn
    worker: bytes | None  # the compiled worker, or None to read its source

    @property
    def work(self) -> Path:
        return self.root / "work"

    def start(self, command: list[str], output: Path, timeout: float) -> tuple[int | None, float]:
        return self.spawn(command, cwd=self.work, env=self.env, output=output, timeout=timeout)

    def read(self, path: Path) -> bytes:
        """Up to the output cap (and one byte more) of a file the run wrote, never through a link."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return b""
        try:
            chunks, size = [], 0
            while size <= OUTPUT_CAP:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            return b"".join(chunks)[: OUTPUT_CAP + 1]
        finally:
            os.close(fd)

    def decode(self, data: bytes) -> str:
        """Bytes a process wrote -> text that is safe to show and to store."""
        text = data.decode("utf-8", errors="backslashreplace")
        # The run directory's random name would make every build differ, and a
        # reader's terminal shows their own folders, not a sandbox's.
        for real, shown in shown_paths(str(self.root)):
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


def _boot(run: Run) -> str:
    """The `-c` program: run the worker in its own namespace, leaving `__main__` pristine."""
    # Files are closed explicitly: an unclosed one raises a ResourceWarning
    # whose registry would appear in the REPL namespace as __warningregistry__.
    read = "(lambda f: (f.read(), f.close())[0])"
    if run.worker is None:
        source = f"{read}(open({str(WORKER)!r}, encoding='utf-8'))"
    else:
        compiled = run.root / "worker.marshal"
        compiled.write_bytes(run.worker)
        source = f"__import__('marshal').loads({read}(open({str(compiled)!r}, 'rb')))"
    return f"exec({source}, {{'__name__': '_snippet_worker'}})"


def worker_arguments(root: Path, draw: tuple[str, ...] = ()) -> list[str]:
    """The worker's argv in a run directory: the inputs file, the results file, and what to draw."""
    return [str(root / "inputs"), str(root / "results"), str(root / "drawing"), *draw]


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
    snippet, root = run.snippet, run.root
    (root / "inputs").write_text("\0".join(step.source for step in snippet.steps), encoding="utf-8")
    command = [run.interpreter.path, "-s", "-c", _boot(run), *worker_arguments(root, snippet.options.draw)]
    returncode, seconds = run.start(command, root / "output", snippet.options.timeout)
    data = run.read(root / "output")
    records = _records(run.read(root / "results"), len(snippet.steps), len(data))
    if records is None:
        return (), "the results file was not written by the worker (changed by the snippet?)", seconds
    steps, start = [], 0
    for offset, status in records:
        steps.append(StepResult(run.decode(data[start:offset]), status))
        start = offset
    error = _cap_error(len(data))
    if returncode is None:
        error = f"timed out after {snippet.options.timeout:g} s"
    elif error is None and (len(steps) < len(snippet.steps) or returncode != 0):
        # An "exit" record means the input itself called sys.exit(); otherwise
        # the process died while running the next input.
        exited = bool(records) and records[-1][1] == "exit"
        culprit = snippet.steps[min(len(steps) - 1 if exited else len(steps), len(snippet.steps) - 1)]
        error = (
            f"the interpreter {describe_exit(returncode)} at the input on line "
            f"{culprit.lineno}; later inputs never ran"
        )
    if len(steps) < len(snippet.steps) and start < len(data):
        steps.append(StepResult(run.decode(data[start:]), "unfinished"))
    return tuple(steps), error, seconds


def run_script(run: Run) -> Outcome:
    snippet = run.snippet
    (run.work / snippet.path.name).write_text(snippet.steps[0].source, encoding="utf-8")
    output = run.root / "output"
    returncode, seconds = run.start(
        [run.interpreter.path, "-s", snippet.path.name], output, snippet.options.timeout
    )
    data = run.read(output)
    text = run.decode(data)
    error = _cap_error(len(data))
    expected = snippet.options.raises
    if returncode is None:
        error = f"timed out after {snippet.options.timeout:g} s"
    elif error is None and expected:
        last = text.rstrip("\n").rsplit("\n", 1)[-1]
        if returncode != 1 or not last.startswith(expected):
            error = f"expected to end with {expected}, but it {describe_exit(returncode)}"
    elif error is None and returncode != 0:
        error = f"the script {describe_exit(returncode)}"
    return (StepResult(text, "ok" if error is None else "unfinished"),), error, seconds


def run_console(run: Run) -> Outcome:
    # Each `$` command runs in its own shell in the same directory, like a
    # reader typing them one after the other (`cd` and `export` do not carry).
    snippet = run.snippet
    deadline = time.monotonic() + snippet.options.timeout
    steps: list[StepResult] = []
    total, written = 0.0, 0
    for index, step in enumerate(snippet.steps):
        output = run.root / f"output-{index}"
        returncode, seconds = run.start(["/bin/sh", "-c", step.source], output, deadline - time.monotonic())
        total += seconds
        data = run.read(output)
        written += len(data)
        status = "ok" if returncode == 0 else "unfinished" if returncode is None else "failed"
        steps.append(StepResult(run.decode(data), status))
        # The cap is for the whole snippet, not per command.
        error = _cap_error(written)
        if returncode is None:
            error = f"timed out after {snippet.options.timeout:g} s at command {index + 1}"
        if error:
            return tuple(steps), error, total
    return tuple(steps), None, total


RUNS: dict[str, Callable[[Run], Outcome]] = {
    "pycon": run_transcript,
    "script": run_script,
    "console": run_console,
}
