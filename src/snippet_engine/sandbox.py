"""Where and how a run's process starts: isolation, limits, timeout.

With bubblewrap (the normal case: `make test` installs it), each engine thread
keeps one sandbox for the whole session, with a read-only view of the
filesystem, no network and its own PID namespace, and a small launcher inside
it (`_launcher.py`) that starts every run as a fresh process with the memory
and file-size limits and address-space randomisation off. Only the thread's
scratch folder is writable, and it is emptied after every run. Without
bubblewrap, runs start directly under `prlimit` (and `setarch -R` where the
personality flag cannot be used), in a temporary directory.

Either way a run gets no stdin, a timeout, and its process group (and with
bubblewrap everything else it started) is killed when it ends.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import json
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, cast

OUTPUT_CAP = 4 * 1024 * 1024  # bytes a snippet may write to any one file, stdout included
MEMORY_LIMIT = 2 * 1024 * 1024 * 1024  # address space; PyPy's GC needs more than CPython
LAUNCHER = Path(__file__).with_name("_launcher.py")
RUN_DIR_VARIABLE = "SNIPPET_RUN_DIR"
SANDBOX_VARIABLE = "SNIPPET_SANDBOX"  # "none": no bubblewrap
# How long past a run's own timeout the launcher may take to answer before it is replaced.
_LAUNCHER_GRACE = 10.0


class SandboxError(RuntimeError):
    """The launcher died or stopped answering; the run did not complete."""


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


_BWRAP_ISOLATION = ("--unshare-pid", "--unshare-net", "--die-with-parent")


@functools.lru_cache(maxsize=1)
def bwrap() -> str | None:
    """bubblewrap, if it works here (it needs user namespaces or root)."""
    if os.environ.get(SANDBOX_VARIABLE) == "none":
        return None
    found = shutil.which("bwrap")
    if found is None:
        return None
    trial = [found, "--ro-bind", "/", "/", *_BWRAP_ISOLATION, "true"]
    return found if subprocess.run(trial, capture_output=True, check=False).returncode == 0 else None


def describe() -> str:
    """What isolates snippets on this machine: part of the cache key and of the logs."""
    if bwrap():
        return (
            "bwrap (read-only filesystem, no network, own PID namespace), one per engine thread, "
            "starting each run with setrlimit (memory, file size) and personality(ADDR_NO_RANDOMIZE)"
        )
    layers = []
    if _aslr_by_personality():
        layers.append("personality(ADDR_NO_RANDOMIZE) (no ASLR)")
    elif any(Path(part).name == "setarch" for part in _limits_prefix()):
        layers.append("setarch -R (no ASLR)")
    if any(Path(part).name == "prlimit" for part in _limits_prefix()):
        layers.append("prlimit (memory and file-size limits)")
    return "; ".join(layers) or "none: only a temporary directory, a timeout and a process group"


# --------------------------------------------------------------------------
# With bubblewrap: one long-lived sandbox and launcher per thread


_SCRATCH_PREFIX = "snippet-sandbox-"


@functools.lru_cache(maxsize=1)
def _sweep_stale_scratch() -> None:
    """Remove scratch folders of engine processes that died without cleaning up (killed, say)."""
    base = Path(run_base() or tempfile.gettempdir())
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


class _Launcher:
    def __init__(self) -> None:
        _sweep_stale_scratch()
        self.base = Path(tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-", dir=run_base()))
        limits = json.dumps({"memory": MEMORY_LIMIT, "output": OUTPUT_CAP})
        command = [
            cast(str, bwrap()), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--bind", str(self.base), str(self.base), *_BWRAP_ISOLATION, "--chdir", str(self.base),
            "--", sys.executable, "-I", "-S", str(LAUNCHER), limits,
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
        shutil.rmtree(self.base, ignore_errors=True)


_local = threading.local()
_launchers: list[_Launcher] = []
_launchers_lock = threading.Lock()


def _launcher() -> _Launcher:
    launcher: _Launcher | None = getattr(_local, "launcher", None)
    if launcher is None or not launcher.alive():
        if launcher is not None:
            launcher.close()
        launcher = _Launcher()
        _local.launcher = launcher
        with _launchers_lock:
            _launchers.append(launcher)
    return launcher


@atexit.register
def _close_all() -> None:
    with _launchers_lock:
        for launcher in _launchers:
            if launcher.alive():
                launcher.close()
            else:
                shutil.rmtree(launcher.base, ignore_errors=True)
        _launchers.clear()


def prepare() -> None:
    """Probe the sandbox and start this thread's launcher now, not at its first run."""
    describe()
    if bwrap():
        _launcher()


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A fresh, empty directory for one run, inside the sandbox's writable scratch folder."""
    if bwrap():
        launcher = _launcher()
        root = Path(tempfile.mkdtemp(prefix="snippet-", dir=launcher.base))
        try:
            yield root
        finally:
            launcher.clear()
    else:
        with tempfile.TemporaryDirectory(prefix="snippet-", dir=run_base()) as tmp:
            yield Path(tmp)


def spawn(
    command: Sequence[str], *, cwd: Path, env: dict[str, str], output: Path, timeout: float
) -> tuple[int | None, float]:
    """Run to completion or timeout: (returncode, negative for a signal, or None on timeout; seconds)."""
    if bwrap():
        return _launcher().run(command, cwd, env, output, timeout)
    return _spawn_directly(command, cwd=cwd, env=env, output=output, timeout=timeout)


# --------------------------------------------------------------------------
# Without bubblewrap: limits by wrapper commands, ASLR by personality


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
    setting it around one Popen affects that child only, not MkDocs, git or a
    browser started by other threads; it saves an exec of `setarch -R`.
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
    if _personality() is None:
        return False
    with _no_aslr_for_children():
        probe = subprocess.run(["cat", "/proc/self/personality"], capture_output=True, text=True, check=False)
    try:
        return probe.returncode == 0 and bool(int(probe.stdout.strip(), 16) & _ADDR_NO_RANDOMIZE)
    except ValueError:
        return False


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _spawn_directly(
    command: Sequence[str], *, cwd: Path, env: dict[str, str], output: Path, timeout: float
) -> tuple[int | None, float]:
    start = time.monotonic()
    with open(output, "ab") as sink:
        with _no_aslr_for_children(_aslr_by_personality()):
            process = subprocess.Popen(
                [*_limits_prefix(), *command],
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
    return (None if expired.is_set() else code), time.monotonic() - start
