"""What outlives a run: sweeping what dead engines left, and stopping every sandbox as the process ends.

A build killed with SIGKILL leaves at most empty cgroups and scratch
folders; the next sandbox sweeps them as it is made. A build that exits or
gets SIGTERM stops every launcher and its run at once, so runs still queued
fail at once instead of starting, then removes its cgroups and folders.
"""

from __future__ import annotations

import atexit
import concurrent.futures.thread  # noqa: F401  (its exit hook must be registered before ours; see _hook)
import contextlib
import fcntl
import os
import signal
import threading
import time
import weakref
from pathlib import Path
from typing import Protocol

from .cgroups import controllers, remove_cgroup
from .launcher import rmtree
from .limits import CGROUP_PREFIX, LEGACY_PREFIX, SCRATCH_PREFIX, SWEEP_AGE


def sweep_stale(run_base: str) -> None:
    """Remove what engine processes that died without cleaning up (killed, say) left."""
    base = Path(run_base)
    now = time.time()
    for lock in base.glob(f"{SCRATCH_PREFIX}*.lock"):
        with contextlib.suppress(OSError):
            fd = os.open(lock, os.O_RDWR | os.O_NOFOLLOW)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: its engine is gone
                rmtree(Path(str(lock).removesuffix(".lock")))
                lock.unlink()
            except BlockingIOError:
                pass  # held by a live engine
            finally:
                os.close(fd)
    for folder in base.glob(f"{SCRATCH_PREFIX}*"):
        # Made after its lock and removed before it: alone, its engine is gone.
        if folder.suffix != ".lock" and not Path(f"{folder}.lock").exists():
            rmtree(folder)
    for draft in base.glob(f".{SCRATCH_PREFIX}*"):
        with contextlib.suppress(OSError):
            if now - draft.lstat().st_mtime > SWEEP_AGE:  # an engine killed while it made its lock
                draft.unlink()
    for folder in base.glob(f"{LEGACY_PREFIX}*-*"):
        if _dead(folder.name.removeprefix(LEGACY_PREFIX).split("-", 1)[0]):
            rmtree(folder)
    for controller in controllers():
        for folder in controller.parent.glob(f"{CGROUP_PREFIX}*-*"):
            if folder.is_dir() and _dead(folder.name.removeprefix(CGROUP_PREFIX).split("-", 1)[0]):
                remove_cgroup(folder)  # kills what is left in it


def _dead(pid: str) -> bool:
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, someone else's
    return False


class _Stoppable(Protocol):
    def stop(self) -> None: ...
    def close(self) -> None: ...


_LIVE: weakref.WeakSet[_Stoppable] = weakref.WeakSet()
_hooked = False


def watch(sandbox: _Stoppable) -> None:
    """Stop and close this sandbox when the process exits or gets SIGTERM (unless it is gone by then)."""
    _LIVE.add(sandbox)
    _hook()


def _close_all() -> None:
    for sandbox in list(_LIVE):
        with contextlib.suppress(Exception):
            sandbox.close()


def _hook() -> None:
    """Once per process: stop every sandbox on SIGTERM, and at exit before the pool waits for queued runs."""
    global _hooked
    if _hooked:
        return
    _hooked = True
    # Called in reverse order of registration when the interpreter exits, before
    # threads are joined: concurrent.futures' (imported above, so registered
    # first) waits for every queued run, which now each fail at once.
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        with contextlib.suppress(RuntimeError):
            register(_stop_all)
    atexit.register(_close_all)  # then, threads joined: cgroups and scratch folders removed
    with contextlib.suppress(ValueError):  # not the main thread
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _terminate)


def _stop_all() -> None:
    for sandbox in list(_LIVE):
        sandbox.stop()


def _terminate(signum: int, frame: object) -> None:
    _stop_all()
    _close_all()
    # Then die of SIGTERM as if no handler had been installed.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
