"""The sandbox's life: what runs without bubblewrap, and what an interrupted build leaves (nothing).

Builds are real engine processes here (a small script, and `mkdocs build` for
Ctrl-C), killed with SIGKILL, SIGTERM and SIGINT while runs are under way and
more are queued.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import found_interpreters
from sites import MKDOCS, ROOT, mini_site_env, write_mini_site

from snippet_engine import Settings, parse
from snippet_engine.cgroups import controllers
from snippet_engine.exposure import find_bwrap
from snippet_engine.limits import RUN_ROOT
from snippet_engine.run import Runner
from snippet_engine.sandbox import Sandbox, default_run_base
from snippet_engine.settings import VARIABLES

_CPYTHONS = [i for i in found_interpreters() if i.implementation == "cpython"]
pytestmark = pytest.mark.skipif(not _CPYTHONS, reason="no CPython interpreter found")
needs_bwrap = pytest.mark.skipif(find_bwrap() is None, reason="no working bubblewrap here")
RUN_BASE = Path(default_run_base() or "/tmp")
# A child whose command line carries the mark: how a test finds a run's processes from outside.
SLOW = (
    ">>> import subprocess, sys\n"
    ">>> subprocess.run([sys.executable, '-c', 'import time; time.sleep(60)', '{mark}'])\n"
)
# A child that ignores SIGTERM and SIGHUP and leaves the run's session, with the mark as its last argument.
DETACHED = (
    "[sys.executable, '-c', 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "signal.signal(signal.SIGHUP, signal.SIG_IGN); time.sleep(60)', '{mark}']"
)


def _marked(mark: str) -> list[int]:
    """Processes whose command line holds `mark`, anywhere on this machine."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if mark.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                pass
    return found


def _leftovers(pid: int) -> list[str]:
    """What a build with this PID left: trusted-mode scratch (found by its lock) and cgroups."""
    found = []
    for lock in RUN_BASE.glob("snippet-run-*.lock"):
        try:
            holders = Path("/proc/locks").read_text()
        except OSError:
            holders = ""
        inode = str(lock.stat().st_ino) if lock.exists() else ""
        if inode and f":{inode} " not in holders:
            found.append(str(lock))  # nobody holds it: its engine is gone
    for controller in controllers():
        found += [str(p) for p in controller.parent.glob(f"snippet-{pid}-*")]
    return found


def test_without_bubblewrap_nothing_runs_unless_trusted() -> None:
    sandbox = Sandbox(use_bwrap=False)
    runner = Runner(sandbox)
    try:
        runner.prepare(_CPYTHONS[0])
        result = runner(parse(Path("snippets/fine.pycon"), ">>> 6 * 7\n42\n"), _CPYTHONS[0])
        assert result.error is not None
        assert result.error.startswith("not run: snippets run only in the sandbox, and SNIPPET_SANDBOX=none")
        assert "set SNIPPET_TRUSTED=1 to run them without a sandbox" in result.error
        assert sandbox._launchers == []  # nothing was started
        assert "nothing runs" in sandbox.describe()
    finally:
        sandbox.close()


def test_the_trusted_setting_is_read_and_documented() -> None:
    assert Settings.from_environ({"SNIPPET_TRUSTED": "1"}, root=ROOT).trusted
    assert not Settings.from_environ({}, root=ROOT).trusted
    assert not Settings.from_environ({"SNIPPET_TRUSTED": "yes"}, root=ROOT).trusted
    assert "SNIPPET_TRUSTED" in VARIABLES
    assert "| `SNIPPET_TRUSTED` |" in (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")


def test_trusted_runs_kill_what_they_detach_and_see_no_engine_environment() -> None:
    mark = f"detached-{os.getpid()}"
    transcript = textwrap.dedent(f"""\
        >>> import os, subprocess, sys, time
        >>> _ = subprocess.Popen({DETACHED.format(mark=mark)}, start_new_session=True)
        >>> time.sleep(0.2)
        >>> os.getcwd()
        '/home/you/demo'
        >>> open("/proc/%d/environ" % os.getppid(), "rb").read()
        b''
        >>> "SNIPPET_TEST_CANARY" in os.environ
        False
        """)
    os.environ["SNIPPET_TEST_CANARY"] = "in the engine's environment"
    sandbox = Sandbox(use_bwrap=False, trusted=True)
    try:
        result = Runner(sandbox)(parse(Path("snippets/t.pycon"), transcript), _CPYTHONS[0])
        assert result.error is None, result.error
        assert [step.output for step in result.steps][3:] == ["'/home/you/demo'\n", "b''\n", "False\n"]
        assert _marked(mark) == []
    finally:
        del os.environ["SNIPPET_TEST_CANARY"]
        sandbox.close()


_ROOT_OF_A_RUN = """
import sys; sys.path.insert(0, sys.argv[1])
from snippet_engine.sandbox import Sandbox
sandbox = Sandbox(use_bwrap=sys.argv[2] == "bwrap", trusted=True)
with sandbox.session() as session:
    print(session.root)
sandbox.close()
"""


@pytest.mark.parametrize("mode", [pytest.param("bwrap", marks=needs_bwrap), "trusted"])
def test_the_run_directorys_name_has_one_length_whatever_the_pid(mode: str) -> None:
    roots = [
        subprocess.run(
            [sys.executable, "-c", _ROOT_OF_A_RUN, str(ROOT / "src"), mode],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for _ in range(3)
    ]
    if mode == "bwrap":
        assert roots == [RUN_ROOT] * 3
    else:
        for root in roots:
            assert re.fullmatch(re.escape(str(RUN_BASE)) + r"/snippet-run-[a-z0-9_]{8}", root), root
    assert len({len(root) for root in roots}) == 1


_BUILD = """
import sys, time; sys.path.insert(0, sys.argv[1])
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from snippet_engine import Settings, open_project, parse
from snippet_engine.run import Runner
from snippet_engine.sandbox import Sandbox
interpreter = [i for i in open_project(Settings.from_environ()).discovery.found if i.key == sys.argv[3]][0]
sandbox = Sandbox(use_bwrap=sys.argv[2] == "bwrap", trusted=True)
runner = Runner(sandbox)
pool = ThreadPoolExecutor(2)
snippet = parse(Path("snippets/slow.pycon"), sys.argv[4])
futures = [pool.submit(runner, snippet, interpreter) for _ in range(20)]
print("started", flush=True)
for future in futures:
    future.result()
"""


def _start_build(mode: str, mark: str) -> subprocess.Popen[str]:
    build = subprocess.Popen(
        [sys.executable, "-c", _BUILD, str(ROOT / "src"), mode, _CPYTHONS[0].key, SLOW.format(mark=mark)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert build.stdout is not None and build.stdout.readline() == "started\n"
    deadline = time.monotonic() + 20
    while len(_marked(f"{mark}\0")) < 2 and time.monotonic() < deadline:  # the mark ends the child's argv
        time.sleep(0.05)  # two runs under way, 18 queued
    assert len(_marked(f"{mark}\0")) >= 2
    return build


@pytest.mark.parametrize("mode", [pytest.param("bwrap", marks=needs_bwrap), "trusted"])
@pytest.mark.parametrize(
    "how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["SIGTERM", "SIGINT", "SIGKILL"]
)
def test_an_interrupted_build_stops_at_once_and_leaves_nothing(mode: str, how: signal.Signals) -> None:
    mark = f"interrupted-{os.getpid()}-{mode}-{how.name}"
    build = _start_build(mode, mark)
    start = time.monotonic()
    build.send_signal(how)
    build.communicate(timeout=10)
    assert time.monotonic() - start < 5, "queued runs were waited for"
    if how is signal.SIGKILL:
        # Nothing runs in a process killed so. In the sandbox, its runs die with
        # it (the PID namespace goes with the launcher, the launcher with the
        # engine); what is left (empty cgroups; without bubblewrap, the scratch
        # folder and the runs' cgroups) goes with the next build, even one that
        # runs nothing.
        if mode == "bwrap":
            _wait_until_gone(f"{mark}\0")
        Sandbox(use_bwrap=False).close()
        if mode == "trusted" and "pids" not in {c.name for c in controllers()}:
            pytest.skip("without bubblewrap or a cgroup, the runs of a SIGKILLed build run to their end")
    else:
        assert _leftovers(build.pid) == []
    _wait_until_gone(f"{mark}\0")
    assert _leftovers(build.pid) == []


def _wait_until_gone(mark: str) -> None:
    deadline = time.monotonic() + 3
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _marked(mark) == []


def test_every_build_sweeps_what_killed_ones_left_even_if_it_runs_nothing() -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    legacy = RUN_BASE / f"snippet-sandbox-{dead.pid}-abcdefgh"
    (legacy / "snippet-x" / "work").mkdir(parents=True)
    scratch = RUN_BASE / "snippet-run-zzzzzzzz"
    (scratch / "work").mkdir(parents=True)
    (RUN_BASE / "snippet-run-zzzzzzzz.lock").touch()
    old = time.time() - 60
    os.utime(scratch, (old, old))
    os.utime(RUN_BASE / "snippet-run-zzzzzzzz.lock", (old, old))
    cgroups = []
    for controller in controllers():
        folder = controller.parent / f"snippet-{dead.pid}-0"
        folder.mkdir()
        cgroups.append(folder)
    Sandbox(use_bwrap=False).close()  # runs nothing
    assert not legacy.exists() and not scratch.exists()
    assert not (RUN_BASE / "snippet-run-zzzzzzzz.lock").exists()
    assert [folder for folder in cgroups if folder.exists()] == []


@needs_bwrap
@pytest.mark.slow
def test_ctrl_c_stops_mkdocs_at_once(tmp_path: Path) -> None:
    mark = f"mkdocs-{os.getpid()}"
    snippets = {f"slow/s{i}.pycon": SLOW.format(mark=f"{mark}-{i}") for i in range(12)}
    pages = {"index.md": "# Slow\n\n" + "".join(f"```snippet\nslow/s{i}.pycon\n```\n\n" for i in range(12))}
    write_mini_site(tmp_path, pages, snippets)
    env = {**mini_site_env(tmp_path), "SNIPPET_PYTHONS": _CPYTHONS[0].path}
    build = subprocess.Popen(
        [*MKDOCS, "build", "--site-dir", str(tmp_path / "site")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _marked(mark), "no run started"
    start = time.monotonic()
    build.send_signal(signal.SIGINT)
    build.communicate(timeout=30)
    assert time.monotonic() - start < 5, "Ctrl-C waited for the queued runs"
    assert _marked(mark) == []
    assert _leftovers(build.pid) == []
