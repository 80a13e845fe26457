"""Where and how a run's process starts: isolation, limits, timeout.

Snippets may come from a stranger's pull request, and builds often run as
root, so a run is given nothing it does not need. Every run is started by a
small launcher (`_launcher.py`), one per engine thread, which lives as PID 1
of a bubblewrap sandbox:

* no capabilities (`--cap-drop ALL`, for root too) and no new privileges;
* its own PID, IPC and network namespaces, a /proc of its own, and an
  environment of nothing (`--clearenv`; the builder's never gets in);
* of the host's files only /usr, /etc with every entry that is not
  world-readable masked (/etc/shadow, host keys...), and read-only each
  interpreter's own tree (its clean venv and the installation it was made
  from): no home directories, no checkout or `.git`, no /run, /var or /tmp,
  so no host socket (Docker, ssh-agent, D-Bus) is there to connect to;
* a read-only root, /dev and /proc/sys; writable only the run's directory
  (a size-limited tmpfs at `/tmp/snippet`, which is how outputs show it, so
  the path's length never varies), /dev/shm (a small tmpfs) and /dev/mqueue.

Limits are per run: memory and processes by a cgroup of the launcher's own
where this process may create one (v2, or v1's memory and pids controllers),
else watched by the launcher in its PID namespace (and RLIMIT_NPROC, which
the kernel counts per user namespace, when not root); bytes written by the
size of the tmpfs; output by kinds.py, across all of a snippet's commands;
and per process, address space and file size. A run is the first thing the
OOM killer picks. After each command the launcher kills everything left in
its namespace; after each run it empties the run's directory, /dev/shm,
/dev/mqueue and the IPC namespace, so nothing of a run is seen by the next.

Without bubblewrap nothing runs unless the snippets are declared trusted
(`SNIPPET_TRUSTED=1`); then the launcher runs in a host directory with the
same limits where they can be had, and nothing of the above isolation.

The engine process keeps nothing on disk that outlives it (`lifetime.py`):
a build killed with SIGKILL leaves at most empty cgroups (and, trusted, a
scratch folder), which the next `Sandbox` sweeps as it is made, whether or
not it runs anything. SIGTERM and Ctrl-C stop every launcher and its run at
once, and runs still queued fail at once instead of starting.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence

from .cgroups import controllers
from .exposure import find_bwrap, launcher_python, probe_bwrap, tree_of
from .launcher import Exit, Launcher, Plan, Retry, SandboxError
from .lifetime import sweep_stale, watch
from .limits import (
    MEMORY_LIMIT,
    OUTPUT_CAP,
    RUN_DISK,
    RUN_MEMORY,
    RUN_PROCESSES,
    RUN_SHM,
)
from .settings import Settings

__all__ = ["OUTPUT_CAP", "Exit", "Sandbox", "SandboxError", "Session", "default_run_base", "sweep_stale"]

TRUST_HINT = (
    "install bubblewrap (`make test` does), or, only if you trust every snippet in this "
    "checkout, set SNIPPET_TRUSTED=1 to run them without a sandbox"
)


def default_run_base() -> str | None:
    """/dev/shm when usable, else None (the system's temp): where runs go without bubblewrap."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


class Session:
    """One run: its commands share a directory, emptied when the session ends."""

    def __init__(self, sandbox: Sandbox, needs: frozenset[str]) -> None:
        self._sandbox, self._needs = sandbox, needs
        self._launcher = sandbox._launcher(needs)
        self._laid_out = False
        self._ended = False

    @property
    def root(self) -> str:
        """The run's directory, as the run sees it."""
        return self._launcher.root

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str,
        env: dict[str, str],
        output: str,
        timeout: float,
        layout: Sequence[tuple[str, str, str | bytes]] = (),
        collect: Sequence[str] = (),
        end: bool = False,
    ) -> Exit:
        """Run one command to completion or timeout; `layout` (first command only) is made first."""
        if not (math.isfinite(timeout) and timeout > 0):
            raise SandboxError(f"a timeout of {timeout!r} seconds")
        timeout = min(timeout, 3600.0)
        entries: list[list[object]] = []
        blobs: list[bytes] = []
        for kind, name, value in layout:
            if kind == "file":
                entries.append([kind, name, len(blobs)])
                blobs.append(value if isinstance(value, bytes) else value.encode("utf-8"))
            else:
                entries.append([kind, name, *([value] if kind == "link" else [])])
        if bool(entries) == self._laid_out:
            raise SandboxError("a run's directory is laid out by its first command, and only then")
        message = {
            "op": "run",
            "layout": entries,
            "argv": list(argv),
            "cwd": cwd,
            "env": env,
            "output": output,
            "collect": list(collect),
            "timeout": timeout,
            "end": end,
        }
        for attempt in (1, 2):
            try:
                exit = self._launcher.run(message, blobs, timeout)
                break
            except Retry:
                # The launcher could not clean up after an earlier run and ran
                # nothing: this run goes to a new one, as if nothing happened.
                if attempt == 2 or self._laid_out:
                    raise
                self._launcher = self._sandbox._launcher(self._needs)
        self._laid_out = True
        self._ended = end
        return exit

    def finish(self) -> None:
        if not self._ended and self._laid_out and self._launcher.alive():
            with contextlib.suppress(SandboxError, ValueError):
                self._launcher.request({"op": "end"})


class Sandbox:
    """One launcher per thread that asks for one; `close()` ends them all."""

    def __init__(
        self,
        *,
        use_bwrap: bool = True,
        run_base: str | None = None,
        trusted: bool = False,
        cgroups: bool = True,
    ) -> None:
        self._want_bwrap = use_bwrap
        self._run_base = run_base or default_run_base() or tempfile.gettempdir()
        self.trusted = trusted
        self._want_cgroups = cgroups
        self._plan: Plan | None = None
        self._local = threading.local()
        self._launchers: list[Launcher] = []
        self._exposed: set[str] = {tree for tree in [tree_of(launcher_python())] if tree}
        self._stopping = False
        self._lock = threading.Lock()
        # Whatever a killed build left, swept now: even a build that runs nothing.
        sweep_stale(self._run_base)
        watch(self)

    @classmethod
    def from_settings(cls, settings: Settings) -> Sandbox:
        """The sandbox the settings ask for: bubblewrap unless SNIPPET_SANDBOX=none; trusted or not."""
        return cls(use_bwrap=settings.sandbox != "none", run_base=settings.run_dir, trusted=settings.trusted)

    @property
    def plan(self) -> Plan:
        with self._lock:
            if self._plan is None:
                found = find_bwrap() if self._want_bwrap else None
                _, sized, userns = probe_bwrap(found) if found else (False, False, False)
                limited = controllers() if self._want_cgroups else ()
                self._plan = Plan(found, sized, userns, limited, self._run_base)
            return self._plan

    @property
    def bwrap(self) -> str | None:
        return self.plan.bwrap

    def refusal(self) -> str | None:
        """Why nothing may run here, or None."""
        if self._stopping:
            return "the build is stopping"
        if self.bwrap is None and not self.trusted:
            why = (
                "SNIPPET_SANDBOX=none"
                if not self._want_bwrap
                else "bubblewrap is not available or does not work here"
            )
            return f"not run: snippets run only in the sandbox, and {why}; {TRUST_HINT}"
        return None

    def describe(self) -> str:
        """What isolates snippets here: in the build log, and part of the cache key."""
        plan = self.plan
        by_cgroup = {c.name: f"cgroup v{c.version}" for c in plan.controllers}
        unprivileged = os.geteuid() != 0
        if plan.bwrap:
            processes = by_cgroup.get("pids") or (
                "RLIMIT_NPROC" if unprivileged else "watched by the launcher"
            )
            memory = by_cgroup.get("memory") or "watched by the launcher"
            disk = (
                f"tmpfs of {RUN_DISK >> 20} MiB + {RUN_SHM >> 20} MiB /dev/shm"
                if plan.sized
                else "unsized tmpfs"
            )
            isolation = (
                "bwrap (no capabilities; own PID, IPC, network and user namespaces"
                f"{'' if plan.userns else ' (nested ones allowed: bubblewrap < 0.8)'}; read-only /usr, /etc "
                "without secrets and the interpreters' trees, nothing else of the host)"
            )
        elif self.trusted:
            processes = by_cgroup.get("pids") or "none"
            memory = by_cgroup.get("memory") or "none"
            disk = "none"
            isolation = "no sandbox (SNIPPET_TRUSTED=1): a launcher in a host directory"
        else:
            return "no sandbox: nothing runs (no bubblewrap; SNIPPET_TRUSTED=1 runs snippets unsandboxed)"
        return (
            f"{isolation}; per run: memory {RUN_MEMORY >> 30} GiB ({memory}), {RUN_PROCESSES} processes "
            f"({processes}), files ({disk}); per process: address space {MEMORY_LIMIT >> 20} MiB, "
            f"files {OUTPUT_CAP >> 20} MiB; no ASLR"
        )

    def expose(self, trees: Iterable[str]) -> None:
        """Directories runs must see (read-only): an interpreter's trees."""
        with self._lock:
            self._exposed.update(trees)

    def _launcher(self, needs: frozenset[str] = frozenset()) -> Launcher:
        refusal = self.refusal()
        if refusal:
            raise SandboxError(refusal)
        launcher: Launcher | None = getattr(self._local, "launcher", None)
        # bubblewrap shows what it was started with: a run needing more gets a new launcher.
        stale = launcher is not None and self.plan.bwrap is not None and not needs <= launcher.exposed
        if launcher is None or not launcher.alive() or stale:
            if launcher is not None:
                self._forget(launcher)
            with self._lock:
                exposed = frozenset(self._exposed | needs)
            launcher = Launcher(self.plan, exposed)
            self._local.launcher = launcher
            with self._lock:
                self._launchers.append(launcher)
            if self._stopping:  # stopped while it started
                launcher.kill()
        return launcher

    def _forget(self, launcher: Launcher) -> None:
        with self._lock:
            if launcher in self._launchers:
                self._launchers.remove(launcher)
        launcher.close()

    def prepare(self, needs: Iterable[str] = ()) -> None:
        """Start this thread's launcher now, not at its first run."""
        trees = frozenset(needs)
        self.expose(trees)
        self._launcher(trees)

    @contextlib.contextmanager
    def session(self, needs: Iterable[str] = ()) -> Iterator[Session]:
        """One run's commands, in a fresh, empty directory that is emptied again at the end."""
        trees = frozenset(needs)
        self.expose(trees)
        session = Session(self, trees)
        try:
            yield session
        finally:
            session.finish()

    def stop(self) -> None:
        """Kill every launcher and its run now; later runs are refused. Safe from a signal handler."""
        self._stopping = True
        for launcher in list(self._launchers):
            launcher.kill()

    def close(self) -> None:
        with self._lock:
            launchers, self._launchers = self._launchers, []
        for launcher in launchers:
            launcher.close()
