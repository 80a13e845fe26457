"""Run one snippet on one interpreter, in a fresh process, in a throw-away directory.

`Runner` is what the project calls: it takes a directory from the sandbox,
hands the run to the function for the snippet's kind (`kinds`), and turns a
sandbox failure into a failed result. It remembers each interpreter's
compiled worker for the life of the process.
"""

from __future__ import annotations

import subprocess
import threading

from .interpreters import Interpreter
from .kinds import RUNS, WORKER, Run, prepare_directory
from .results import RunResult
from .sandbox import Sandbox, SandboxError
from .snippet import Snippet

# Run once per interpreter: the worker compiled by that interpreter, as marshal data.
_COMPILE = (
    "import marshal, sys; "
    "sys.stdout.buffer.write(marshal.dumps(compile(sys.stdin.read(), '<string>', 'exec')))"
)


class Runner:
    """Runs snippets through one sandbox; remembers each interpreter's compiled worker."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._compiled: dict[tuple[str, str], bytes | None] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()

    def prepare(self, interpreter: Interpreter) -> None:
        """Do now what the first run on this interpreter would do: start the launcher, compile the worker."""
        self.sandbox.prepare()
        self.compiled_worker(interpreter)

    def __call__(self, snippet: Snippet, interpreter: Interpreter) -> RunResult:
        with self.sandbox.workspace() as root:
            env = prepare_directory(root, interpreter, snippet)
            run = Run(snippet, interpreter, root, env, self.sandbox.spawn, self.compiled_worker(interpreter))
            drawing = None
            try:
                steps, error, seconds = RUNS[snippet.kind](run)
                if snippet.options.draw and error is None:
                    drawing = run.read(root / "drawing").decode("utf-8", "replace") or None
            except SandboxError as failure:
                line = snippet.steps[0].lineno if snippet.steps else 1
                steps, error, seconds = (
                    (),
                    f"the sandbox failed during the run from line {line}: {failure}",
                    0.0,
                )
        return RunResult(interpreter, steps, error, round(seconds, 3), drawing)

    def compiled_worker(self, interpreter: Interpreter) -> bytes | None:
        """The worker's code object for this interpreter, as marshal data (None if it cannot be made).

        Compiling the worker's source in every run cost about 2 ms of each
        CPython run; marshal data loads in microseconds, and `marshal` is
        already imported by every interpreter's start-up, so the REPL's
        sys.modules is unchanged. The code is the same either way.
        """
        key = (interpreter.path, interpreter.full_version)
        # One lock per interpreter: first runs on different interpreters compile in parallel.
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._compiled:
                made = subprocess.run(
                    [interpreter.path, "-I", "-S", "-c", _COMPILE],  # site-packages cannot change a compile
                    input=WORKER.read_bytes(),
                    capture_output=True,
                    check=False,
                )
                self._compiled[key] = made.stdout if made.returncode == 0 and made.stdout else None
            return self._compiled[key]
