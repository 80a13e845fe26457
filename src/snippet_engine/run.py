"""Run one snippet on one interpreter, in a fresh process, in a throw-away directory.

Nothing a snippet does may reach the repository or the build: it runs in a new
temporary directory with a scrubbed environment, no stdin, a timeout, a cap on
output (RLIMIT_FSIZE), a memory limit (RLIMIT_AS), address-space randomisation
off (so `id()` is the same on every build of the same machine), and its whole
process group is killed when it ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from .interpreters import Interpreter
from .snippet import Snippet

WORKER = Path(__file__).with_name("_worker.py")
HASH_SEED = "0"
WORKDIR_SHOWN = "/tmp/snippet"  # how the random temporary directory appears in outputs
OUTPUT_CAP = 4 * 1024 * 1024  # bytes a snippet may write to any one file, stdout included
MEMORY_LIMIT = 2 * 1024 * 1024 * 1024  # address space; PyPy's GC needs more than CPython


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


@functools.lru_cache(maxsize=1)
def _limits_prefix() -> tuple[str, ...]:
    """Wrappers that set limits before the interpreter starts (Linux util-linux)."""
    prefix: list[str] = []
    setarch = shutil.which("setarch")
    machine = platform.machine()
    if (
        not _aslr_by_personality()
        and setarch
        and subprocess.run([setarch, machine, "-R", "true"], capture_output=True, check=False).returncode == 0
    ):
        prefix += [setarch, machine, "-R"]
    prlimit = shutil.which("prlimit")
    if prlimit:
        prefix += [prlimit, f"--as={MEMORY_LIMIT}", f"--fsize={OUTPUT_CAP}", "--core=0", "--"]
    return tuple(prefix)


_ADDR_NO_RANDOMIZE = 0x0040000
_QUERY_PERSONALITY = 0xFFFFFFFF


@functools.lru_cache(maxsize=1)
def _personality() -> Callable[[int], int] | None:
    """libc's personality(2), on Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).personality
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_ulong]
    function.restype = ctypes.c_int
    return cast("Callable[[int], int]", function)


@contextlib.contextmanager
def _no_aslr_for_children(enabled: bool = True) -> Iterator[None]:
    """Processes this thread starts meanwhile run without address-space randomisation.

    The flag is per thread in Linux and is inherited through fork and exec, so
    setting it around one Popen affects that child only: not MkDocs, git or
    a browser started by other threads. It replaces an exec of `setarch -R`
    in every run (about 1.5 ms each).
    """
    personality = _personality() if enabled else None
    if personality is None:
        yield
        return
    current = personality(_QUERY_PERSONALITY)
    personality(current | _ADDR_NO_RANDOMIZE)
    try:
        yield
    finally:
        personality(current)


@functools.lru_cache(maxsize=1)
def _aslr_by_personality() -> bool:
    """Whether the flag survives into the sandbox here (a setuid bwrap would clear it)."""
    if _personality() is None:
        return False
    bwrap = _bwrap()
    outer = (
        [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *_BWRAP_ISOLATION] if bwrap else []
    )
    with _no_aslr_for_children():
        probe = subprocess.run(
            [*outer, "cat", "/proc/self/personality"], capture_output=True, text=True, check=False
        )
    try:
        return probe.returncode == 0 and bool(int(probe.stdout.strip(), 16) & _ADDR_NO_RANDOMIZE)
    except ValueError:
        return False


_BWRAP_ISOLATION = ("--unshare-pid", "--unshare-net", "--die-with-parent")


@functools.lru_cache(maxsize=1)
def _bwrap() -> str | None:
    """bubblewrap, if it works here (it needs user namespaces or root)."""
    if os.environ.get("SNIPPET_SANDBOX") == "none":
        return None
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None
    trial = [bwrap, "--ro-bind", "/", "/", *_BWRAP_ISOLATION, "true"]
    return bwrap if subprocess.run(trial, capture_output=True, check=False).returncode == 0 else None


def sandbox_description() -> str:
    """What isolates snippets on this machine: part of the cache key and of the logs."""
    layers = ["bwrap (read-only filesystem, no network, own PID namespace)"] if _bwrap() else []
    if _aslr_by_personality():
        layers.append("personality(ADDR_NO_RANDOMIZE) (no ASLR)")
    elif any(Path(part).name == "setarch" for part in _limits_prefix()):
        layers.append("setarch -R (no ASLR)")
    if any(Path(part).name == "prlimit" for part in _limits_prefix()):
        layers.append("prlimit (memory and file-size limits)")
    return "; ".join(layers) or "none: only a temporary directory, a timeout and a process group"


def _sandbox_prefix(root: Path, cwd: Path) -> list[str]:
    # Everything is read-only except the run's own temporary directory (the
    # repository and interpreters may themselves live under /tmp, so /tmp is
    # not replaced); descendants die with the namespace, even after setsid().
    bwrap = _bwrap()
    outer: list[str] = []
    if bwrap:
        outer = [
            bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--bind", str(root), str(root), *_BWRAP_ISOLATION,
            "--chdir", str(cwd), "--",
        ]  # fmt: skip
    return [*outer, *_limits_prefix()]


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


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _run_process(
    command: Sequence[str], *, root: Path, cwd: Path, env: dict[str, str], output: Path, timeout: float
) -> tuple[int | None, float]:
    """Run to completion or timeout; returns (returncode or None on timeout, seconds)."""
    start = time.monotonic()
    with open(output, "ab") as sink:
        with _no_aslr_for_children(_aslr_by_personality()):
            process = subprocess.Popen(
                [*_sandbox_prefix(root, cwd), *command],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # Popen.wait(timeout=...) polls with sleeps of up to 50 ms, which adds
        # tens of milliseconds to every run; a blocking wait plus a timer that
        # kills the group on expiry notices the exit at once.
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            _kill_group(process.pid)

        timer = threading.Timer(max(timeout, 0.05), expire)
        timer.start()
        try:
            code = process.wait()
        finally:
            timer.cancel()
            # Children that outlive the snippet share its process group.
            _kill_group(process.pid)
        returncode: int | None = None if expired.is_set() else code
    if returncode is not None and _bwrap() and 128 < returncode <= 128 + 64:
        # bwrap reports a child killed by signal N as exit status 128 + N.
        returncode = 128 - returncode
    return returncode, time.monotonic() - start


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
    sandbox_description()
    _compiled_worker(interpreter)


RUN_DIR_VARIABLE = "SNIPPET_RUN_DIR"


@functools.lru_cache(maxsize=1)
def run_base() -> str | None:
    """Where run directories go: SNIPPET_RUN_DIR, else /dev/shm when usable, else the system's temp.

    Creating and removing a run's few directories and files cost about 2 ms
    on a disk (a journaled ext4 here) and 0.5 ms in memory; outputs show the
    directory as /tmp/snippet either way.
    """
    configured = os.environ.get(RUN_DIR_VARIABLE)
    if configured:
        return configured
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return None


def run(snippet: Snippet, interpreter: Interpreter) -> RunResult:
    """Execute every step of a snippet on one interpreter."""
    with tempfile.TemporaryDirectory(prefix="snippet-", dir=run_base()) as tmp:
        root = Path(tmp)
        work = root / "work"
        work.mkdir()
        env = _environment(root, interpreter)
        if snippet.kind == "pycon":
            steps, error, seconds = _run_transcript(snippet, interpreter, root, work, env)
        elif snippet.kind == "script":
            steps, error, seconds = _run_script(snippet, interpreter, root, work, env)
        else:
            steps, error, seconds = _run_console(snippet, root, work, env)
    return RunResult(
        interpreter.key, interpreter.label, interpreter.full_version, steps, error, round(seconds, 3)
    )


def _cap_error(path: Path) -> str | None:
    if path.stat().st_size >= OUTPUT_CAP:
        return f"output exceeded the cap of {OUTPUT_CAP // (1024 * 1024)} MiB"
    return None


_compiled_lock = threading.Lock()
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
    with _compiled_lock:
        if key not in _compiled:
            made = subprocess.run(
                [interpreter.path, "-I", "-c", _COMPILE],
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


def _run_transcript(
    snippet: Snippet, interpreter: Interpreter, root: Path, work: Path, env: dict[str, str]
) -> tuple[tuple[StepResult, ...], str | None, float]:
    inputs, results, output = root / "inputs", root / "results", root / "output"
    inputs.write_text("\0".join(step.source for step in snippet.steps), encoding="utf-8")
    style = (
        "python-input"
        if (interpreter.implementation == "cpython" and interpreter.version_tuple >= (3, 13))
        else "stdin"
    )
    command = [interpreter.path, "-s", "-c", _boot(interpreter, root), str(inputs), str(results), style]
    returncode, seconds = _run_process(
        command, root=root, cwd=work, env=env, output=output, timeout=snippet.options.timeout
    )
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
    returncode, seconds = _run_process(
        [interpreter.path, "-s", script.name],
        root=root,
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
        returncode, seconds = _run_process(
            ["/bin/sh", "-c", step.source],
            root=root,
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
