"""Limits are per run, not per file or per process, and nothing of a run outlives it.

Each hostile snippet below once got through: 6 GiB written into the run's
directory, three children holding 4.5 GiB, 5,000 processes, a SysV segment
that outlived the build, files left in /dev for the next snippet. Each is run
with the cgroup limits where this machine gives them, and with the launcher's
own watch (what a machine without delegated cgroups gets).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import found_interpreters

from snippet_engine import Interpreter, RunResult, parse
from snippet_engine.cgroups import controllers
from snippet_engine.exposure import find_bwrap
from snippet_engine.run import Runner
from snippet_engine.sandbox import Sandbox

_CPYTHONS = [i for i in found_interpreters() if i.implementation == "cpython"]
pytestmark = [
    pytest.mark.skipif(not _CPYTHONS, reason="no CPython interpreter found"),
    pytest.mark.skipif(find_bwrap() is None, reason="no working bubblewrap here: nothing hostile is run"),
]
_NAMES = {c.name for c in controllers()}
MODES = [
    pytest.param("cgroup", marks=pytest.mark.skipif(
        {"memory", "pids"} - _NAMES, reason="this process may not make memory and pids cgroups here"
    )),
    "watch",
]  # fmt: skip
NOT_WRITTEN = "the results file was not written by the worker (changed by the snippet?)"
MARK = f"snippet-limits-test-{os.getpid()}"  # this test process's runs, not a parallel worker's


@pytest.fixture(scope="module")
def interpreter() -> Interpreter:
    return _CPYTHONS[0]


@pytest.fixture(scope="module", params=MODES)
def runner(request: pytest.FixtureRequest) -> Iterator[Runner]:
    sandbox = Sandbox(cgroups=request.param == "cgroup")
    yield Runner(sandbox)
    sandbox.close()


def _run(runner: Runner, name: str, text: str, interpreter: Interpreter) -> tuple[RunResult, float]:
    start = time.monotonic()
    result = runner(parse(Path("snippets/hostile") / name, text), interpreter)
    return result, time.monotonic() - start


def _host_state() -> tuple[frozenset[str], frozenset[str]]:
    """/dev/shm (but what other engines and tests running beside this one make) and the host's SysV keys."""
    others = ("snippet-sandbox-", "snippet-test-", "snippet-run-")
    shm = frozenset(name for name in os.listdir("/dev/shm") if not name.startswith(others))
    with open("/proc/sysvipc/shm") as table:
        keys = frozenset(line.split()[0] for line in table.read().splitlines()[1:])
    return shm, keys


def _strays() -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if MARK.encode() in cmdline:
                found.append(pid)
    return found


@pytest.fixture
def host_unchanged() -> Iterator[None]:
    before = _host_state()
    yield
    after = _host_state()
    assert after[0] <= before[0], f"left in /dev/shm: {sorted(after[0] - before[0])}"
    assert after[1] <= before[1], f"SysV segments left: {sorted(after[1] - before[1])}"
    assert _strays() == []


FILES = """\
written = 0
try:
    for i in range(2000):
        with open("f%d" % i, "wb") as f:
            f.write(b"x" * (3 << 20))
        written += 1
except OSError as error:
    print("stopped after", written, "files:", error)
"""

PROCESSES = f"""\
import os, time
made = 0
try:
    for i in range(5000):
        if os.fork() == 0:
            time.sleep(60)  # {MARK}
            os._exit(0)
        made += 1
except OSError as error:
    print("refused after", made, error, flush=True)
time.sleep(5)
"""

CHILDREN = f"""\
import subprocess, sys
code = "b = bytearray(1536 << 20); import time; time.sleep(60)  # {MARK}"
children = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
print([child.wait() for child in children])
"""


@pytest.mark.usefixtures("host_unchanged")
@pytest.mark.parametrize(
    ("name", "source", "message", "within"),
    [
        pytest.param(
            "fills_disk.py", FILES, "went over its space for files (256 MiB", 15, id="2000_files_of_3_mib"
        ),
        pytest.param("forks.py", PROCESSES, "went over its limit of 256 processes", 15, id="5000_processes"),
        pytest.param(
            "children.py", CHILDREN, "went over its memory limit (3 GiB", 30, id="three_children_of_1_5_gib"
        ),
    ],
)
def test_a_run_is_stopped_at_its_limit_with_a_clear_message(
    runner: Runner, interpreter: Interpreter, name: str, source: str, message: str, within: float
) -> None:
    result, seconds = _run(runner, name, source, interpreter)
    assert result.error is not None and message in result.error, result.error
    assert seconds < within


@pytest.mark.usefixtures("host_unchanged")
def test_nothing_a_run_leaves_in_dev_ipc_or_its_directory_is_seen_by_the_next(
    runner: Runner, interpreter: Interpreter
) -> None:
    leave = f"""\
>>> import ctypes, os, subprocess, sys
>>> libc = ctypes.CDLL(None)
>>> libc.shmget(0x5117ABCD, 1 << 20, 0o1666) >= 0
True
>>> for path in ["/dev/shm", "/dev/mqueue", "..", "/run/snippet-output"]:
...     open(path + "/left-behind", "w").close()
...
>>> ignores_sigterm = "import signal, time; signal.signal(15, 1); time.sleep(60)"
>>> _ = subprocess.Popen([sys.executable, "-c", ignores_sigterm, "{MARK}"], start_new_session=True)
"""
    look = """\
>>> import os
>>> [sorted(os.listdir(path)) for path in ["/dev/shm", "/dev/mqueue", "..", "/run/snippet-output"]]
>>> open("/proc/sysvipc/shm").read().count("\\n")
>>> len([p for p in os.listdir("/proc") if p.isdigit()])
"""
    left = runner(parse(Path("snippets/hostile/leaves.pycon"), leave), interpreter)
    assert left.error is None, left.error
    assert left.steps[2].output == "True\n"
    seen = runner(parse(Path("snippets/hostile/looks.pycon"), look), interpreter)
    assert seen.error is None, seen.error
    assert [step.output for step in seen.steps][1:] == [
        "[[], [], ['bin', 'home', 'inputs', 'results', 'tmp', 'work', 'worker.marshal'], []]\n",
        "1\n",  # the header line only
        "2\n",  # the launcher and this run
    ]


def test_the_output_cap_holds_across_a_consoles_commands(runner: Runner, interpreter: Interpreter) -> None:
    text = "$ python -c \"print('x' * (3 << 20))\"\n" * 3
    result, _ = _run(runner, "loud.console", text, interpreter)
    assert result.error == "output exceeded the cap of 4 MiB"
    assert len(result.steps) == 2


@pytest.mark.parametrize(
    ("plant", "what"),
    [
        ("os.mkdir(RESULTS)", "a directory"),
        ("os.mkfifo(RESULTS)", "a named pipe"),
        ("os.symlink('/dev/zero', RESULTS)", "a symbolic link"),
        ("os.symlink('/etc/hostname', RESULTS)", "a symbolic link"),
    ],
)
def test_a_results_file_replaced_by_something_else_is_not_believed(
    runner: Runner, interpreter: Interpreter, plant: str, what: str
) -> None:
    text = f""">>> import os
>>> RESULTS = os.path.join(os.path.dirname(os.getcwd()), "results")
>>> os.remove(RESULTS); {plant}
>>> os.symlink("/etc/hostname", "../output")
"""
    result, seconds = _run(runner, "plants.pycon", text, interpreter)
    assert result.error == f"{NOT_WRITTEN}; the snippet put {what} in its place"
    assert seconds < 5


def test_a_forged_results_file_cannot_hide_a_non_zero_exit(runner: Runner, interpreter: Interpreter) -> None:
    text = """>>> import os, sys
>>> results = open(os.path.join(os.path.dirname(os.getcwd()), "results"), "w")
>>> _ = results.write("0 0 ok\\n1 0 ok\\n2 0 ok\\n3 0 ok\\n4 0 ok\\n"); results.close()
>>> sys.exit(3)
>>> print("never printed")
"""
    result, _ = _run(runner, "forges.pycon", text, interpreter)
    assert result.error is not None and "exited with code 3" in result.error
    garbage = """>>> import os
>>> open(os.path.join(os.path.dirname(os.getcwd()), "results"), "w").write("garbage\\n") and os._exit(3)
"""
    result, _ = _run(runner, "garbage.pycon", garbage, interpreter)
    assert result.error == f"{NOT_WRITTEN}; the interpreter exited with code 3"


def test_an_impossible_timeout_fails_that_run_alone(runner: Runner, interpreter: Interpreter) -> None:
    fine = parse(Path("snippets/fine.pycon"), ">>> 6 * 7\n42\n")
    for timeout in (float("inf"), float("nan"), -1.0, 0.0):
        broken = dataclasses.replace(fine, options=dataclasses.replace(fine.options, timeout=timeout))
        result = runner(broken, interpreter)
        assert result.error == f"timeout {timeout!r} is not a number of seconds"
        after = runner(fine, interpreter)
        assert after.error is None and after.steps[0].output == "42\n"


def test_a_launcher_killed_during_a_run_fails_that_run_alone(
    runner: Runner, interpreter: Interpreter
) -> None:
    # As the kernel's OOM killer might: the run from line 1 fails with a
    # message, and the next one, in the same thread, gets a new launcher.
    slow = parse(Path("snippets/hostile/slow.pycon"), f">>> import time\n>>> time.sleep(30)  # {MARK}\n")
    runner.prepare(interpreter)
    launcher = runner.sandbox._launcher()  # this thread's, which the run will use

    def kill() -> None:
        time.sleep(1.0)
        os.kill(launcher.process.pid, signal.SIGKILL)

    killer = threading.Thread(target=kill)
    killer.start()
    failed = runner(slow, interpreter)
    killer.join()
    assert failed.error is not None and failed.error.startswith(
        "the sandbox failed during the run from line 1"
    )
    after = runner(parse(Path("snippets/fine.pycon"), ">>> 6 * 7\n42\n"), interpreter)
    assert after.error is None and after.steps[0].output == "42\n"
    assert _strays() == []
