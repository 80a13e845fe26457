# Starts every run, one launcher per engine thread, never imported by the
# engine. Started as `python -I -S _launcher.py CONFIG_JSON`, inside the
# bubblewrap sandbox where there is one.
#
# Setting up a sandbox (user, mount, PID and network namespaces) cost about
# 7 ms per run, a quarter of an interpreter's start-up. This launcher lives in
# one sandbox for a whole session and starts each run there: still a fresh
# `exec` of the interpreter, in a fresh directory, so nothing about the run
# itself changes (a forked copy of a warm interpreter would be another matter).
#
# Protocol: one JSON request per line on stdin
#   {"argv": [...], "cwd": str, "env": {...}, "output": path, "timeout": seconds}
# one JSON reply per line on stdout
#   {"returncode": int or null on timeout, "seconds": float} or {"error": str}
#
# Between runs it kills every process left in its PID namespace (a child that
# called setsid() escapes the process group, not the namespace), which is what
# tearing down a per-run sandbox used to do. Without a namespace of its own it
# can only kill the run's process group.

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time

_ADDR_NO_RANDOMIZE = 0x0040000
_PR_SET_DUMPABLE = 4


def _configure(limits):
    # Inherited by every run: limits, and no address-space randomisation so
    # id() is the same on every build of a machine.
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["output"], limits["output"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.personality.argtypes = [ctypes.c_ulong]
    current = libc.personality(0xFFFFFFFF)
    libc.personality(current | _ADDR_NO_RANDOMIZE)
    # Runs have no capabilities in the sandbox: non-dumpable, this process
    # cannot be traced or have its memory rewritten by them.
    libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def _strays(me):
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, me):
            found.append(int(name))
    return found


def _kill_strays(me):
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        strays = _strays(me)
        if not strays:
            return
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.001)


def _run(request, me, own_namespace):
    expired = []
    start = time.monotonic()
    with open(request["output"], "ab") as sink:
        try:
            child = subprocess.Popen(
                request["argv"],
                cwd=request["cwd"],
                env=request["env"],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as error:
            return {"error": "could not start %s: %s" % (request["argv"][0], error)}

        def expire(signum, frame):
            expired.append(True)
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

        signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, max(request["timeout"], 0.05))
        try:
            # A blocking wait (retried after the alarm's handler) notices the
            # exit at once, where wait(timeout=...) would poll.
            code = child.wait()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    if own_namespace:
        _kill_strays(me)
    else:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return {"returncode": None if expired else code, "seconds": time.monotonic() - start}


def main():
    config = json.loads(sys.argv[1])
    _configure(config)
    me = os.getpid()
    for line in sys.stdin:
        reply = _run(json.loads(line), me, config["own_pid_namespace"])
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


main()
