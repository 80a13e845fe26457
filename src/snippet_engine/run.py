"""Run one snippet on one interpreter, in a fresh process, in a throw-away directory.

Nothing a snippet does may reach the repository or the build: it runs in a new
temporary directory with a scrubbed environment, no stdin, a timeout, a cap on
output (RLIMIT_FSIZE), a memory limit (RLIMIT_AS), address-space randomisation
off (so `id()` is the same on every build of the same machine), and its whole
process group is killed when it ends. How the process is isolated and started
is `sandbox`'s job; this module prepares the run and reads what came out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import sandbox
from .interpreters import Interpreter
from .sandbox import OUTPUT_CAP, SandboxError, spawn
from .snippet import Snippet

WORKER = Path(__file__).with_name("_worker.py")
HASH_SEED = "0"
WORKDIR_SHOWN = "/tmp/snippet"  # how the random temporary directory appears in outputs
# Re-exported: the cache key and the tests name the limits and the sandbox from here.
sandbox_description = sandbox.describe


@dataclass(frozen=True)
class StepResult:
    output: str
    status: str  # "ok", "syntax", "exception:<Name>", "exit", or "unfinished"


@dataclass(frozen=True)
class RunResult:
    key: str
    label: str
    full_version: str
    steps: tuple[StepResult, ...]
    error: str | None = None  # why the run as a whole failed (timeout, crash, cap)
    seconds: float = 0.0

    def failed_at(self, count: int) -> int:
        """Index of the step the failure happened in, for a path:line in messages."""
        for index, step in enumerate(self.steps):
            if step.status in ("unfinished", "exit"):
                return index
        # The process died before reporting the next step: that one was running.
        return min(len(self.steps), count - 1)

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "full_version": self.full_version,
            "steps": [[s.output, s.status] for s in self.steps],
            "error": self.error,
            "seconds": self.seconds,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> RunResult:
        steps = data["steps"]
        assert isinstance(steps, list)
        return cls(
            key=str(data["key"]),
            label=str(data["label"]),
            full_version=str(data["full_version"]),
            steps=tuple(StepResult(str(o), str(s)) for o, s in steps),
            error=None if data["error"] is None else str(data["error"]),
            seconds=float(str(data["seconds"])),
        )


def _environment(root: Path, interpreter: Interpreter) -> dict[str, str]:
    bin_dir = root / "bin"
    bin_dir.mkdir()
    for name in ("python", "python3"):
        (bin_dir / name).symlink_to(interpreter.path)
    (root / "home").mkdir()
    (root / "tmp").mkdir()
    return {
        "PATH": os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(root / "home"),
        "TMPDIR": str(root / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": HASH_SEED,
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONNOUSERSITE": "1",
        "NO_COLOR": "1",
        "PYTHON_COLORS": "0",
        "TERM": "dumb",
        "COLUMNS": "80",
        "LINES": "24",
    }


def _decode(data: bytes, root: Path) -> str:
    """Bytes a process wrote -> text that is safe to show and to store."""
    text = data.decode("utf-8", errors="backslashreplace")
    # The temporary directory's random name would make every build differ.
    for spelling in {str(root), os.path.realpath(root)}:
        text = text.replace(spelling, WORKDIR_SHOWN)
    # Control characters (ANSI escapes, bare carriage returns) would be
    # interpreted by a terminal or hidden by a browser: show them as escapes.
    return "".join(ch if ch in "\n\t" or (ch >= " " and ch != "\x7f") else f"\\x{ord(ch):02x}" for ch in text)


def _describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with code {returncode}"


def prepare(interpreter: Interpreter) -> None:
    """Do now what the first run on this interpreter would do: probe the sandbox, compile the worker.

    Started in the background when a build begins, so that the first snippet
    edited under `mkdocs serve` does not pay for it.
    """
    sandbox.prepare()
    _compiled_worker(interpreter)


def run(snippet: Snippet, interpreter: Interpreter) -> RunResult:
    """Execute every step of a snippet on one interpreter."""
    with sandbox.workspace() as root:
        work = root / "work"
        work.mkdir()
        env = _environment(root, interpreter)
        try:
            if snippet.kind == "pycon":
                steps, error, seconds = _run_transcript(snippet, interpreter, root, work, env)
            elif snippet.kind == "script":
                steps, error, seconds = _run_script(snippet, interpreter, root, work, env)
            else:
                steps, error, seconds = _run_console(snippet, root, work, env)
        except SandboxError as failure:
            line = snippet.steps[0].lineno if snippet.steps else 1
            steps, error, seconds = (
                (),
                f"the sandbox failed during the run starting at line {line}: {failure}",
                0.0,
            )
    return RunResult(
        interpreter.key, interpreter.label, interpreter.full_version, steps, error, round(seconds, 3)
    )


def _cap_error(path: Path) -> str | None:
    if path.stat().st_size >= OUTPUT_CAP:
        return f"output exceeded the cap of {OUTPUT_CAP // (1024 * 1024)} MiB"
    return None


_compiled_locks_lock = threading.Lock()
_compiled_locks: dict[tuple[str, str], threading.Lock] = {}
_compiled: dict[tuple[str, str], bytes | None] = {}
# Run once per interpreter: the worker compiled by that interpreter, as marshal data.
_COMPILE = (
    "import marshal, sys; "
    "sys.stdout.buffer.write(marshal.dumps(compile(sys.stdin.read(), '<string>', 'exec')))"
)


def _compiled_worker(interpreter: Interpreter) -> bytes | None:
    """The worker's code object for this interpreter (None if it cannot be made).

    Compiling the worker's source in every run cost about 2 ms of each
    CPython run; marshal data loads in microseconds, and `marshal` is already
    imported by every interpreter's start-up, so the REPL's sys.modules is
    unchanged. The code is the same either way: compiled as '<string>' from
    the same source with no inherited flags, exactly what exec(source) does.
    """
    key = (interpreter.path, interpreter.full_version)
    # One lock per interpreter: the first runs of a build, one per interpreter,
    # compile in parallel instead of queueing behind each other's process.
    with _compiled_locks_lock:
        lock = _compiled_locks.setdefault(key, threading.Lock())
    with lock:
        if key not in _compiled:
            made = subprocess.run(
                [interpreter.path, "-I", "-S", "-c", _COMPILE],  # site-packages cannot change a compile
                input=WORKER.read_bytes(),
                capture_output=True,
                check=False,
            )
            _compiled[key] = made.stdout if made.returncode == 0 and made.stdout else None
        return _compiled[key]


def _boot(interpreter: Interpreter, root: Path) -> str:
    """The `-c` program: run the worker in its own namespace, leaving `__main__` pristine."""
    # Files are closed explicitly: an unclosed one raises a ResourceWarning
    # whose registry would appear in the REPL namespace as __warningregistry__.
    read = "(lambda f: (f.read(), f.close())[0])"
    code = _compiled_worker(interpreter)
    if code is None:
        source = f"{read}(open({str(WORKER)!r}, encoding='utf-8'))"
    else:
        compiled = root / "worker.marshal"
        compiled.write_bytes(code)
        source = f"__import__('marshal').loads({read}(open({str(compiled)!r}, 'rb')))"
    return f"exec({source}, {{'__name__': '_snippet_worker'}})"


def worker_arguments(interpreter: Interpreter, root: Path) -> list[str]:
    """The worker's argv in a run directory: inputs file, results file, traceback filename style."""
    style = (
        "python-input"
        if (interpreter.implementation == "cpython" and interpreter.version_tuple >= (3, 13))
        else "stdin"
    )
    return [str(root / "inputs"), str(root / "results"), style]


def _run_transcript(
    snippet: Snippet, interpreter: Interpreter, root: Path, work: Path, env: dict[str, str]
) -> tuple[tuple[StepResult, ...], str | None, float]:
    inputs, results, output = root / "inputs", root / "results", root / "output"
    inputs.write_text("\0".join(step.source for step in snippet.steps), encoding="utf-8")
    command = [interpreter.path, "-s", "-c", _boot(interpreter, root), *worker_arguments(interpreter, root)]
    returncode, seconds = spawn(command, cwd=work, env=env, output=output, timeout=snippet.options.timeout)
    data = output.read_bytes()
    records = []
    if results.exists():
        for line in results.read_text(encoding="utf-8").splitlines():
            index_text, offset_text, status_text = line.split(" ", 2)
            records.append((int(index_text), int(offset_text), status_text))
    steps: list[StepResult] = []
    start = 0
    for _, offset, status in records:
        steps.append(StepResult(_decode(data[start:offset], root), status))
        start = offset
    error = _cap_error(output)
    if returncode is None:
        error = f"timed out after {snippet.options.timeout:g} s"
    elif error is None and len(steps) < len(snippet.steps):
        # An "exit" record means the input itself called sys.exit(); otherwise
        # the process died while running the next input.
        exited = bool(records) and records[-1][2] == "exit"
        culprit = snippet.steps[len(steps) - 1 if exited else len(steps)]
        error = (
            f"the interpreter {_describe_exit(returncode)} at the input on line "
            f"{culprit.lineno}; later inputs never ran"
        )
    if len(steps) < len(snippet.steps) and start < len(data):
        steps.append(StepResult(_decode(data[start:], root), "unfinished"))
    return tuple(steps), error, seconds


def _run_script(
    snippet: Snippet, interpreter: Interpreter, root: Path, work: Path, env: dict[str, str]
) -> tuple[tuple[StepResult, ...], str | None, float]:
    script = work / snippet.path.name
    script.write_text(snippet.steps[0].source, encoding="utf-8")
    output = root / "output"
    returncode, seconds = spawn(
        [interpreter.path, "-s", script.name],
        cwd=work,
        env=env,
        output=output,
        timeout=snippet.options.timeout,
    )
    text = _decode(output.read_bytes(), root)
    error = _cap_error(output)
    expected_exception = snippet.options.raises
    if returncode is None:
        error = f"timed out after {snippet.options.timeout:g} s"
    elif error is None and expected_exception:
        last = text.rstrip("\n").rsplit("\n", 1)[-1]
        if returncode != 1 or not last.startswith(expected_exception):
            error = f"expected to end with {expected_exception}, but it {_describe_exit(returncode)}"
    elif error is None and returncode != 0:
        error = f"the script {_describe_exit(returncode)}"
    status = "ok" if error is None else "unfinished"
    return (StepResult(text, status),), error, seconds


def _run_console(
    snippet: Snippet, root: Path, work: Path, env: dict[str, str]
) -> tuple[tuple[StepResult, ...], str | None, float]:
    # Each `$` command runs in its own shell in the same directory, like a
    # reader typing them one after the other (`cd` and `export` do not carry).
    deadline = time.monotonic() + snippet.options.timeout
    steps: list[StepResult] = []
    total = 0.0
    for index, step in enumerate(snippet.steps):
        output = root / f"output-{index}"
        returncode, seconds = spawn(
            ["/bin/sh", "-c", step.source],
            cwd=work,
            env=env,
            output=output,
            timeout=deadline - time.monotonic(),
        )
        total += seconds
        status = "ok" if returncode == 0 else "unfinished" if returncode is None else "failed"
        steps.append(StepResult(_decode(output.read_bytes(), root), status))
        error = _cap_error(output)
        if returncode is None:
            error = f"timed out after {snippet.options.timeout:g} s at command {index + 1}"
        if error:
            return tuple(steps), error, total
    return tuple(steps), None, total
