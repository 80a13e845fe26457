"""Would a pre-started interpreter that forks a child per snippet give the same outputs?

A forked child skips the interpreter's start-up, the largest part of a run
(issue "Build and test speed at scale"). The engine may adopt it only if, for
every transcript in the site, the child's output is the output of a fresh
process. This script measures exactly that and prints one JSON table:

* for every `.pycon` snippet and every interpreter it applies to, the run's
  raw output and per-input statuses, once from a fresh `python` process (what
  the engine does) and once from a child forked by a zygote of the same
  interpreter that was started the same way;
* how many runs are identical byte for byte, how many only differ where the
  doctest comparison normalises anyway (addresses), and the first differing
  lines of every other one;
* the median wall time of a run each way.

Both sides run in the same directory, with the same environment, arguments,
limits and ASLR setting, without the bubblewrap sandbox (whose PID namespace
would be one more difference to account for); the zygote binds no names in
`__main__` and the child closes every descriptor the fresh process lacks. What
still differs is what a fork cannot hide: the heap the zygote used before the
fork, the objects it created, and the counters they moved.

    .venv/bin/python scripts/fork_check.py            # every transcript, every interpreter
    .venv/bin/python scripts/fork_check.py --only memory/
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# Before the engine reads it: both sides must start processes the same way.
os.environ["SNIPPET_SANDBOX"] = "none"

from snippet_engine import check as engine_check
from snippet_engine.interpreters import Interpreter
from snippet_engine.project import Project, find_root
from snippet_engine.run import _boot, _decode, _environment, worker_arguments
from snippet_engine.sandbox import (
    _aslr_by_personality,
    _limits_prefix,
    _no_aslr_for_children,
    _spawn_directly,
)
from snippet_engine.snippet import Snippet

# The zygote's `-c` program. It binds no name in __main__ (a fresh prompt's
# dir() must be unchanged), waits for one byte per run on stdin, forks, and
# the child falls through to the very boot statement a fresh process runs.
# Replies (the child's exit status) go out on an inherited pipe, which the
# child closes with every other descriptor a fresh process does not have.
_ZYGOTE = """\
while __import__('os').read(0, 1):
    if not __import__('os').fork():
        (lambda os, out: (
            os.dup2(out, 1), os.dup2(out, 2), os.close(out),
            os.dup2(os.open('/dev/null', os.O_RDONLY), 0),
            os.closerange(3, 1 << 16),
        ))(__import__('os'), __import__('os').open({output!r}, 0o2101, 0o644))
        break
    (lambda os: os.write({replies}, b'%d\\n' % os.waitstatus_to_exitcode(os.wait()[1])))(__import__('os'))
else:
    __import__('os')._exit(0)
{boot}
"""


@dataclass
class Outcome:
    output: str
    results: str
    returncode: int
    seconds: float


class Zygote:
    """One pre-started interpreter whose children run transcripts in `root`."""

    def __init__(self, interpreter: Interpreter, root: Path, argv: list[str], env: dict[str, str]) -> None:
        self.root = root
        read_end, write_end = os.pipe()
        program = _ZYGOTE.format(
            output=str(root / "output"), boot=_boot(interpreter, root), replies=write_end
        )
        with _no_aslr_for_children(_aslr_by_personality()):
            self.process = subprocess.Popen(
                [*_limits_prefix(), interpreter.path, "-s", "-c", program, *argv],
                cwd=root / "work",
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(write_end,),
                start_new_session=True,
            )
        os.close(write_end)
        self._replies: IO[bytes] = os.fdopen(read_end, "rb")

    def run(self) -> int:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(b"g")
        stdin.flush()
        return int(self._replies.readline())

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=10)
        self._replies.close()


def _fresh(interpreter: Interpreter, root: Path, argv: list[str], env: dict[str, str]) -> int:
    """Exactly the engine's no-sandbox path for a transcript (a blocking wait, no polling)."""
    command = [interpreter.path, "-s", "-c", _boot(interpreter, root), *argv]
    code, _ = _spawn_directly(command, cwd=root / "work", env=env, output=root / "output", timeout=60)
    return -1 if code is None else code


def _reset(root: Path, snippet: Snippet) -> None:
    for name in ("output", "results"):
        (root / name).unlink(missing_ok=True)
    for name in ("work", "home", "tmp"):  # whatever the last run left there
        shutil.rmtree(root / name, ignore_errors=True)
        (root / name).mkdir()
    (root / "inputs").write_text("\0".join(step.source for step in snippet.steps), encoding="utf-8")


def _collect(root: Path, returncode: int, seconds: float) -> Outcome:
    results = root / "results"
    return Outcome(
        _decode((root / "output").read_bytes(), root),
        results.read_text(encoding="utf-8") if results.exists() else "",
        returncode,
        seconds,
    )


def _differing_lines(a: str, b: str, limit: int = 4) -> list[list[str]]:
    pairs = [[x, y] for x, y in zip(a.splitlines(), b.splitlines(), strict=False) if x != y]
    if not pairs and a != b:
        pairs = [[a[-80:], b[-80:]]]
    return pairs[:limit]


def _equivalent(snippet: Snippet, fresh: str, forked: str) -> bool:
    """Equal once compared the way the tests compare outputs (addresses normalised)."""
    return engine_check.normalise(fresh, snippet.options) == engine_check.normalise(forked, snippet.options)


def compare(project: Project, interpreter: Interpreter, relatives: list[str]) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="fork-check-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    root = base / "run"
    root.mkdir()
    env = _environment(root, interpreter)  # fixed root: the same environment for every run
    argv = worker_arguments(interpreter, root)
    identical, normalised_equal, differing = 0, 0, []
    fresh_seconds: list[float] = []
    forked_seconds: list[float] = []
    for relative in relatives:
        snippet = project.load(relative)
        if interpreter not in project.select(snippet).run_on:
            continue
        _reset(root, snippet)
        start = time.perf_counter()
        code = _fresh(interpreter, root, argv, env)
        fresh = _collect(root, code, time.perf_counter() - start)
        # A zygote per snippet, started before the clock: in the engine it would
        # be started once and fork many children; here every child must come
        # from a zygote that has forked nothing yet, or earlier children would
        # be one more difference.
        _reset(root, snippet)
        zygote = Zygote(interpreter, root, argv, env)
        time.sleep(0.2)  # let it finish starting: only the fork is timed
        start = time.perf_counter()
        code = zygote.run()
        forked = _collect(root, code, time.perf_counter() - start)
        zygote.close()
        fresh_seconds.append(fresh.seconds)
        forked_seconds.append(forked.seconds)
        same = (fresh.output, fresh.results, fresh.returncode) == (
            forked.output,
            forked.results,
            forked.returncode,
        )
        if same:
            identical += 1
        elif fresh.results == forked.results and _equivalent(snippet, fresh.output, forked.output):
            normalised_equal += 1
            differing.append(
                {
                    "snippet": relative,
                    "normalised_equal": True,
                    "lines": _differing_lines(fresh.output, forked.output),
                }
            )
        else:
            differing.append(
                {
                    "snippet": relative,
                    "normalised_equal": False,
                    "lines": _differing_lines(fresh.output, forked.output),
                    "returncodes": [fresh.returncode, forked.returncode],
                }
            )
    shutil.rmtree(base, ignore_errors=True)
    return {
        "runs": identical + len(differing),
        "identical": identical,
        "equal_after_normalising": normalised_equal,
        "different": len(differing) - normalised_equal,
        "fresh_run_ms_median": round(statistics.median(fresh_seconds) * 1000, 1) if fresh_seconds else None,
        "forked_run_ms_median": round(statistics.median(forked_seconds) * 1000, 1)
        if forked_seconds
        else None,
        "differences": differing,
    }


def _median_ms(seconds: list[float]) -> float | None:
    return round(statistics.median(seconds) * 1000, 1) if seconds else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help="snippet paths starting with this")
    args = parser.parse_args(argv)
    project = Project(find_root(), use_cache=False)
    relatives = [r for r in project.all_snippets() if r.endswith(".pycon") and r.startswith(args.only)]
    table: dict[str, Any] = {"transcripts": len(relatives), "interpreters": {}}
    for interpreter in project.discovery.found:
        print(f"[fork-check] {interpreter.label}", file=sys.stderr, flush=True)
        table["interpreters"][interpreter.key] = compare(project, interpreter, relatives)
    summary = {
        key: {k: v for k, v in value.items() if k != "differences"}
        for key, value in table["interpreters"].items()
    }
    table["summary"] = summary
    print(json.dumps(table, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
