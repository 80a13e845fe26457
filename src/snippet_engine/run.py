"""Run one snippet on one interpreter, in a fresh process, in a throw-away directory.

`Runner` is what the project calls: it opens a session of the sandbox (a
fresh directory, in a launcher that sees the interpreter's own trees), hands
the run to the function for the snippet's kind (`kinds`), and turns a sandbox
failure or refusal into a failed result of that run alone. It remembers
each interpreter's compiled worker for the life of the process.
"""

from __future__ import annotations

import math
import subprocess
import threading

from .exposure import interpreter_trees
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
        if self.sandbox.refusal() is None:
            self.sandbox.prepare(interpreter_trees(interpreter.path, interpreter.base))
        self.compiled_worker(interpreter)

    def __call__(self, snippet: Snippet, interpreter: Interpreter) -> RunResult:
        # Refused before anything starts: no sandbox and not trusted, or the build is stopping.
        refusal = self.sandbox.refusal()
        if refusal is not None:
            return RunResult(interpreter, (), refusal, 0.0)
        timeout = snippet.options.timeout
        if not (
            math.isfinite(timeout) and timeout > 0
        ):  # the header allows no such value; an API caller might
            return RunResult(interpreter, (), f"timeout {timeout!r} is not a number of seconds", 0.0)
        drawing = None
        try:
            worker = self.compiled_worker(interpreter)
            with self.sandbox.session(interpreter_trees(interpreter.path, interpreter.base)) as session:
                layout, env = prepare_directory(session.root, interpreter, snippet)
                run = Run(snippet, interpreter, session, env, worker, layout)
                steps, error, seconds = RUNS[snippet.kind](run)
            if snippet.options.draw and error is None:
                drawing = run.collected.get("drawing", b"").decode("utf-8", "replace") or None
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
