"""One launcher: the process, inside the sandbox where there is one, that starts a thread's runs.

The engine talks to it over a pipe (a JSON request, then the files it lays
out; a JSON reply, then the files it collected) and reads its replies with
a deadline, so a launcher that a run killed or hung is replaced, not waited
on. Without bubblewrap it works in a host directory of a fixed-length name.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .cgroups import Controller, Group
from .exposure import bwrap_arguments, launcher_python
from .limits import (
    LAUNCHER_GRACE,
    LIMIT_PHRASES,
    MEMORY_LIMIT,
    OUTPUT_CAP,
    OUTPUT_DIR,
    POLL,
    RUN_MEMORY,
    RUN_PROCESSES,
    RUN_ROOT,
    SCRATCH_PREFIX,
)

LAUNCHER = Path(__file__).with_name("_launcher.py")


class SandboxError(RuntimeError):
    """The launcher died, stopped answering, or refused; the run did not complete."""


class Retry(SandboxError):
    """The launcher could not clean up and did not run the request: ask a new one."""


@dataclass(frozen=True)
class Exit:
    """How one command of a run ended, and what it left."""

    returncode: int | None  # negative: killed by that signal; None: timed out
    seconds: float
    files: dict[str, bytes] = field(default_factory=dict)  # up to OUTPUT_CAP + 1 bytes per name asked for
    replaced: dict[str, str] = field(default_factory=dict)  # name -> what the run put there instead of a file
    limit: str | None = None  # the per-run limit it hit, as a phrase ("its limit of 256 processes at once")


class Scratch:
    """Without bubblewrap: a run directory of a fixed-length name, held by a lock while its engine lives."""

    def __init__(self, base: str) -> None:
        # The lock is held before it is seen: a visible lock that is free means a dead engine.
        self.lock_fd, draft = tempfile.mkstemp(prefix=f".{SCRATCH_PREFIX}", dir=base)
        fcntl.flock(self.lock_fd, fcntl.LOCK_EX)
        try:
            while True:
                name = f"{SCRATCH_PREFIX}{secrets.token_hex(4)}"  # always 8 characters
                try:
                    os.link(draft, os.path.join(base, f"{name}.lock"))
                    break
                except FileExistsError:
                    continue
        finally:
            os.unlink(draft)
        self.lock = Path(base, f"{name}.lock")
        self.path = Path(base, name)
        self.path.mkdir(mode=0o700)

    def remove(self) -> None:
        """Remove the directory and release the lock; a second call does nothing (close() can repeat)."""
        if self.lock_fd < 0:
            return  # closing the number again could close another thread's file
        rmtree(self.path)
        self.lock.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            os.close(self.lock_fd)
        self.lock_fd = -1


def rmtree(path: Path) -> None:
    def unlock(function, name, _):  # type: ignore[no-untyped-def]
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(name), 0o700)
            os.chmod(name, 0o700)
            function(name)

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, onerror=unlock)


@dataclass(frozen=True)
class Plan:
    """What every launcher of one Sandbox is made of."""

    bwrap: str | None
    sized: bool
    userns: bool  # bubblewrap can forbid nested user namespaces
    controllers: tuple[Controller, ...]
    run_base: str


class Launcher:
    def __init__(self, plan: Plan, exposed: frozenset[str]) -> None:
        self.exposed = exposed
        self.group: Group | None = None
        self.scratch: Scratch | None = None
        self._buffer = b""
        self._info: int | None = None  # bubblewrap says there which host PID the launcher has
        self._pid: int | None = None
        self._signalled = False
        if plan.controllers:
            try:
                self.group = Group(plan.controllers)
            except OSError:
                self.group = None  # watched by the launcher instead
        limited = self.group.limited if self.group else set()
        sandboxed = self.sandboxed = plan.bwrap is not None
        unprivileged = os.geteuid() != 0
        if sandboxed:
            root = RUN_ROOT
        else:
            self.scratch = Scratch(plan.run_base)
            root = str(self.scratch.path)
        self.root = root
        config = {
            "root": root,
            "output_dir": OUTPUT_DIR if sandboxed else root,
            "memory": MEMORY_LIMIT,
            "file_size": OUTPUT_CAP,
            "pid_namespace": sandboxed,
            # Unprivileged, the sandbox has a user namespace of its own, where the
            # kernel counts RLIMIT_NPROC: the run's processes plus the launcher.
            "nproc": RUN_PROCESSES + 1 if sandboxed and unprivileged and "pids" not in limited else None,
            "watch_processes": RUN_PROCESSES if sandboxed and "pids" not in limited else None,
            "watch_memory": RUN_MEMORY if sandboxed and "memory" not in limited else None,
        }
        command = [launcher_python(), "-I", "-S", "-c", _launcher_source(), json.dumps(config)]
        info = os.pipe() if plan.bwrap else None
        if plan.bwrap and info:
            self._info = info[0]
            arguments = bwrap_arguments(exposed, plan.sized, plan.userns)
            command = [plan.bwrap, "--info-fd", str(info[1]), *arguments, "--", *command]
        if self.group:
            command = self.group.wrap(command)
        try:
            # An empty environment: bubblewrap's and the launcher's /proc/N/environ
            # are readable by runs. A session of its own: the terminal's Ctrl-C is
            # the engine's to handle. --die-with-parent ties the sandbox to this thread.
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                env={},
                cwd="/",
                bufsize=0,
                pass_fds=info[1:] if info else (),
            )
        except OSError:
            self.close()
            raise
        finally:
            if info:
                os.close(info[1])

    def alive(self) -> bool:
        return self.process.poll() is None

    def request(
        self, message: dict[str, object], blobs: Sequence[bytes] = (), wait: float = LAUNCHER_GRACE
    ) -> tuple[dict[str, object], list[bytes]]:
        data = json.dumps({**message, "blobs": [len(b) for b in blobs]}).encode() + b"\n" + b"".join(blobs)
        try:
            stdin = self.process.stdin
            assert stdin is not None
            view = memoryview(data)
            while view:
                view = view[stdin.write(view) or 0 :]
        except OSError as error:
            raise SandboxError(f"the sandbox's launcher is gone ({error})") from error
        header = self._read_line(time.monotonic() + wait)
        reply = json.loads(header)
        sizes = [int(size) for size in reply.get("sizes", ())]
        body = self._read_exactly(sum(sizes), time.monotonic() + LAUNCHER_GRACE)
        blobs_out, offset = [], 0
        for size in sizes:
            blobs_out.append(body[offset : offset + size])
            offset += size
        if reply.get("retry"):
            raise Retry(str(reply["error"]))
        return reply, blobs_out

    def _fill(self, deadline: float) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            left = deadline - time.monotonic()
            # With a cgroup, look at its counters now and then while the run runs:
            # the kernel refuses a fork or kills one process, but only the
            # launcher can stop the whole run.
            ready, _, _ = select.select([stdout], [], [], max(min(left, POLL) if self.group else left, 0))
            if ready or left <= 0:
                break
            if self.group and not self._signalled and self.group.peek():
                self._signalled = True
                with contextlib.suppress(OSError):
                    os.kill(self.launcher_pid(), signal.SIGUSR1)
        chunk = os.read(stdout.fileno(), 1 << 20) if ready else b""
        if not chunk:
            raise SandboxError("the sandbox's launcher stopped answering")
        self._buffer += chunk

    def launcher_pid(self) -> int:
        """The launcher's PID as this process sees it (bubblewrap's monitor is in between)."""
        if self._pid is None:
            self._pid = self.process.pid
            if self._info is not None:
                data = b""
                with contextlib.suppress(OSError):
                    ready, _, _ = select.select([self._info], [], [], 1.0)
                    data = os.read(self._info, 4096) if ready else b""
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    self._pid = int(json.loads(data)["child-pid"])
        return self._pid

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self._buffer:
            self._fill(deadline)
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        while len(self._buffer) < size:
            self._fill(deadline)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def run(self, message: dict[str, object], blobs: Sequence[bytes], timeout: float) -> Exit:
        start = time.monotonic()
        try:
            reply, data = self.request(message, blobs, wait=timeout + LAUNCHER_GRACE)
        except Retry:
            self.close()
            raise
        except SandboxError as failure:
            # The launcher died with the run: the kernel's OOM killer in the
            # run's cgroup, say. Say which limit, if one was hit.
            limit = self.group.hit() if self.group else None
            self.close()
            if limit is None:
                raise SandboxError(f"{failure} (a run may have killed it)") from failure
            return Exit(-signal.SIGKILL, time.monotonic() - start, limit=LIMIT_PHRASES[limit])
        if "error" in reply:  # this request failed (a command that cannot start); the launcher goes on
            raise SandboxError(str(reply["error"]))
        self._signalled = False
        limit = self.group.hit() if self.group else None
        limit = limit or (str(reply["limit"]) if reply.get("limit") in LIMIT_PHRASES else None)
        files, replaced, sized = {}, {}, iter(data)
        for name, why in reply["collected"]:  # type: ignore[attr-defined]
            if why is None:
                files[name] = next(sized)
            else:
                replaced[name] = why
        returncode = reply["returncode"]
        return Exit(
            None if returncode is None else int(returncode),  # type: ignore[call-overload]
            float(reply["seconds"]),  # type: ignore[arg-type]
            files,
            replaced,
            LIMIT_PHRASES.get(limit) if limit else None,
        )

    def kill(self) -> None:
        """Stop the launcher and whatever it runs, now (from any thread, or a signal handler)."""
        if self.process.returncode is None:  # not reaped: its PID is still its own
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if self.sandboxed:
                    # The sandbox dies with bubblewrap, and every process in it.
                    os.killpg(self.process.pid, signal.SIGKILL)
                else:
                    # Without a PID namespace the launcher kills its runs first.
                    os.kill(self.process.pid, signal.SIGTERM)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self.process.wait(1.0)
                    if self.process.returncode is None:
                        os.killpg(self.process.pid, signal.SIGKILL)
        if self.group:
            self.group.kill()

    def close(self) -> None:
        if hasattr(self, "process"):
            self.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        if self.group:
            self.group.remove()
        if self.scratch:
            self.scratch.remove()
        if self._info is not None:
            with contextlib.suppress(OSError):
                os.close(self._info)
            self._info = None


@functools.cache
def _launcher_source() -> str:
    return LAUNCHER.read_text(encoding="utf-8")
