"""Where and how a run's process starts: isolation, limits, timeout.

Every run is started by a small launcher (`_launcher.py`), one per engine
thread for the whole session: it applies the limits and switches address-space
randomisation off for itself, so every run it starts inherits them, then
starts each run as a fresh `exec` with no stdin, kills it at its timeout and
reports the exit. Where bubblewrap works (`make test` installs it), the
launcher lives inside a bubblewrap sandbox: a read-only view of the
filesystem, no network, and its own PID namespace, in which the launcher kills
whatever a run left behind. Only the thread's scratch folder is writable, and
it is emptied after every run.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, cast

OUTPUT_CAP = 4 * 1024 * 1024  # bytes a snippet may write to any one file, stdout included
MEMORY_LIMIT = 2 * 1024 * 1024 * 1024  # address space; PyPy's GC needs more than CPython
LAUNCHER = Path(__file__).with_name("_launcher.py")
_SCRATCH_PREFIX = "snippet-sandbox-"
_BWRAP_ISOLATION = ("--unshare-pid", "--unshare-net", "--die-with-parent")
# How long past a run's own timeout the launcher may take to answer before it is replaced.
_LAUNCHER_GRACE = 10.0


class SandboxError(RuntimeError):
    """The launcher died or stopped answering; the run did not complete."""


def default_run_base() -> str | None:
    """/dev/shm when usable, else None (the system's temp).

    Creating and removing a run's few directories and files cost about 2 ms
    on a disk (a journaled ext4 here) and 0.5 ms in memory.
    """
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def find_bwrap() -> str | None:
    """bubblewrap, if it works here (it needs user namespaces or root)."""
    found = shutil.which("bwrap")
    if found is None:
        return None
    trial = [found, "--ro-bind", "/", "/", *_BWRAP_ISOLATION, "true"]
    return found if subprocess.run(trial, capture_output=True, check=False).returncode == 0 else None


class _Launcher:
    def __init__(self, bwrap: str | None, run_base: str | None) -> None:
        self.base = Path(tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-", dir=run_base))
        config = json.dumps({"memory": MEMORY_LIMIT, "output": OUTPUT_CAP, "own_pid_namespace": bool(bwrap)})
        command = [sys.executable, "-I", "-S", str(LAUNCHER), config]
        if bwrap:
            command = [
                bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                "--bind", str(self.base), str(self.base), *_BWRAP_ISOLATION, "--chdir", str(self.base),
                "--", *command,
            ]  # fmt: skip
        # --die-with-parent ties the sandbox to this thread: it goes when the thread does.
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            text=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(
        self, command: Sequence[str], cwd: Path, env: dict[str, str], output: Path, timeout: float
    ) -> tuple[int | None, float]:
        request = {
            "argv": list(command),
            "cwd": str(cwd),
            "env": env,
            "output": str(output),
            "timeout": timeout,
        }
        stdin, stdout = cast(IO[str], self.process.stdin), cast(IO[str], self.process.stdout)
        try:
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
        except OSError as error:
            raise SandboxError(f"the sandbox's launcher is gone ({error})") from error
        ready, _, _ = select.select([stdout], [], [], max(timeout, 0.05) + _LAUNCHER_GRACE)
        line = stdout.readline() if ready else ""
        if not line:
            self.close()
            raise SandboxError("the sandbox's launcher stopped answering (a run may have killed it)")
        reply = json.loads(line)
        if "error" in reply:
            raise SandboxError(reply["error"])
        return reply["returncode"], float(reply["seconds"])

    def clear(self) -> None:
        # Whatever a run left beside its own directory (it may write to "..").
        if not self.base.is_dir():  # closed: the launcher died
            return
        for entry in self.base.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        shutil.rmtree(self.base, ignore_errors=True)


class Sandbox:
    """One launcher per thread that asks for one; `close()` ends them all."""

    def __init__(self, *, use_bwrap: bool = True, run_base: str | None = None) -> None:
        self._want_bwrap = use_bwrap
        self._run_base = run_base or default_run_base()
        self._bwrap: str | None = None
        self._probed = False
        self._local = threading.local()
        self._launchers: list[_Launcher] = []
        self._lock = threading.Lock()
        # A build that ends normally takes its launchers and scratch folders with it.
        atexit.register(self.close)

    @property
    def bwrap(self) -> str | None:
        with self._lock:
            if not self._probed:
                self._bwrap = find_bwrap() if self._want_bwrap else None
                _sweep_stale_scratch(Path(self._run_base or tempfile.gettempdir()))
                self._probed = True
            return self._bwrap

    def describe(self) -> str:
        """What isolates snippets here: in the build log, and part of the cache key."""
        limits = f"setrlimit (memory {MEMORY_LIMIT >> 20} MiB, files {OUTPUT_CAP >> 20} MiB), no ASLR"
        if self.bwrap:
            return f"bwrap (read-only filesystem, no network, own PID namespace); launcher with {limits}"
        return f"no bubblewrap: launcher with {limits}, in a temporary directory"

    def _launcher(self) -> _Launcher:
        launcher: _Launcher | None = getattr(self._local, "launcher", None)
        if launcher is None or not launcher.alive():
            if launcher is not None:
                launcher.close()
            launcher = _Launcher(self.bwrap, self._run_base)
            self._local.launcher = launcher
            with self._lock:
                self._launchers.append(launcher)
        return launcher

    def prepare(self) -> None:
        """Start this thread's launcher now, not at its first run."""
        self._launcher()

    @contextlib.contextmanager
    def workspace(self) -> Iterator[Path]:
        """A fresh, empty directory for one run, inside the launcher's writable scratch folder."""
        launcher = self._launcher()
        root = Path(tempfile.mkdtemp(prefix="snippet-", dir=launcher.base))
        try:
            yield root
        finally:
            launcher.clear()

    def spawn(
        self, command: Sequence[str], *, cwd: Path, env: dict[str, str], output: Path, timeout: float
    ) -> tuple[int | None, float]:
        """Run to completion or timeout: (returncode, negative for a signal, or None on timeout; seconds)."""
        return self._launcher().run(command, cwd, env, output, timeout)

    def close(self) -> None:
        with self._lock:
            launchers, self._launchers = self._launchers, []
        for launcher in launchers:
            launcher.close()


def _sweep_stale_scratch(base: Path) -> None:
    """Remove scratch folders of engine processes that died without cleaning up (killed, say)."""
    for folder in base.glob(f"{_SCRATCH_PREFIX}*-*"):
        pid = folder.name.removeprefix(_SCRATCH_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # alive, someone else's
