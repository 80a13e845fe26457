"""Build and test speed at scale: `make bench` prints one JSON document to stdout, progress to stderr.

For synthetic sites of N small `.pycon` snippets on 10 pages, their outputs
recorded by `snippets update` (once, for the largest N):

* the cold build (empty cache) against execution off (SNIPPET_EXECUTE=0) and
  against the floor: every run's bare `python -I -c pass` start-up over the
  cores, measured just before and after each cold build (start-ups drift);
* the warm build against execution off, in wall time and in instructions
  (cachegrind, once each: counts repeat to 0.2% where times swing by 15%);
* the rebuild after one snippet edit, in one process as under `mkdocs serve`
  (scripts/serve_timing.py times tests/serve_session.py's session);
* `pytest tests/test_snippets.py -n 2`, cold and warm, if that module collects
  the snippets of SNIPPET_ROOT (checked; skipped, saying so, if not);

and, on a throw-away copy of the real site, the rebuild after one edit.

Commands are timed by hyperfine (Debian: `apt-get install hyperfine`; without
it, by a plain loop, and the JSON says so). hyperfine does every run of one
command before the next command's, so compared commands are timed in rounds of
alternating order. Nothing here is a pass/fail test: the figures come with the
targets they are judged against, for a person to read (the machines are shared).

    .venv/bin/python scripts/bench.py  [--sizes 50,200,1000]  [--quick: N=20, all once]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import itertools
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from snippet_engine import Interpreter, Settings, open_project, parse
from snippet_engine.run import Runner
from snippet_engine.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test-site helpers, as the namespace package `tests`
from serve_timing import cache_entries  # noqa: E402  (beside this script)

from tests import sites  # noqa: E402

PAGES = 10
CORES = os.cpu_count() or 1
PLUGINS = ("search", "markdown-exec", "snippet-engine")  # the real site's, less the git plugin
TARGETS = {
    "cold_overhead_over_floor": 1.5,
    "warm_over_execution_off": 1.1,
    "real_site_rebuild_seconds": 1.0,
    "linear_when_slopes_within": 1.5,  # largest marginal cost per snippet / smallest
}
HYPERFINE, VALGRIND = shutil.which("hyperfine"), shutil.which("valgrind")
CACHEGRIND = ["--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
Timing = tuple[list[float], float]  # wall seconds of each timed run; mean CPU seconds of a run
_started = time.monotonic()


def progress(message: str) -> None:
    print(f"[bench {time.monotonic() - _started:7.1f} s] {message}", file=sys.stderr, flush=True)


def median(values: Timing | list[float]) -> float:
    return round(statistics.median(values[0] if isinstance(values, tuple) else values), 3)


# --------------------------------------------------------------------------
# Timing commands


def _loop(command: list[str], runs: int, warmup: int, prepare: list[str], env: dict[str, str]) -> Timing:
    """What hyperfine does, for a machine without it."""
    times, cpu = [], []
    for index in range(warmup + runs):
        subprocess.run(prepare, env=env, check=True)
        before, start = os.times(), time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        seconds, after = time.perf_counter() - start, os.times()
        if index >= warmup:
            times.append(seconds)
            cpu.append(sum(after[2:4]) - sum(before[2:4]))  # the children's user and system time
    return times, statistics.mean(cpu)


def time_commands(
    commands: dict[str, list[str]],
    env: dict[str, str],
    *,
    runs: int,
    warmup: int = 0,
    prepare: dict[str, list[str]] | None = None,
) -> dict[str, Timing]:
    """Each command in turn: `warmup` untimed runs, then `runs` timed ones, `prepare` before each."""
    before = {name: (prepare or {}).get(name, ["true"]) for name in commands}
    if HYPERFINE is None:
        return {name: _loop(argv, runs, warmup, before[name], env) for name, argv in commands.items()}
    with tempfile.TemporaryDirectory(prefix="bench-hyperfine-") as tmp:
        export = Path(tmp) / "times.json"
        argv = [
            HYPERFINE,
            "-N",
            "--style=none",
            f"--runs={runs}",
            f"--warmup={warmup}",
            f"--export-json={export}",
        ]
        argv += [f"--prepare={shlex.join(before[name])}" for name in commands]
        argv += [shlex.join(command) for command in commands.values()]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:  # hyperfine drops the commands' output: run them by hand to see it
            raise RuntimeError(f"hyperfine failed: {done.stderr.strip()}\n{list(commands.values())}")
        results = json.loads(export.read_text(encoding="utf-8"))["results"]
    return {
        name: ([float(t) for t in result["times"]], float(result["user"]) + float(result["system"]))
        for name, result in zip(commands, results, strict=True)
    }


def round_order(commands: dict[str, list[str]], index: int) -> dict[str, list[str]]:
    """Round `index` of a comparison: every other round in reverse order, so drift favours no command."""
    names = list(commands) if index % 2 == 0 else list(commands)[::-1]
    return {name: commands[name] for name in names}


def startups(interpreters: list[Interpreter], env: dict[str, str]) -> dict[str, float]:
    """Median wall seconds of each interpreter's bare start-up (-I works on PyPy too)."""
    commands = {i.key: [i.path, "-I", "-c", "pass"] for i in interpreters}
    timed = time_commands(commands, env, runs=10, warmup=2)
    return {key: statistics.median(times) for key, (times, _) in timed.items()}


def instructions(build: list[str], env: dict[str, str]) -> dict[str, Any]:
    """User-space instructions of a warm and an execution-off build process (valgrind follows no children)."""
    counts: dict[str, int | None] = {}
    for name, execute in (("warm", "1"), ("execution_off", "0")):
        mode = {**env, "SNIPPET_EXECUTE": execute}
        done = subprocess.run([str(VALGRIND), *CACHEGRIND, *build], env=mode, capture_output=True, text=True)
        found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
        counts[name] = int(found.group(1).replace(",", "")) if found and done.returncode == 0 else None
    ratio = counts["warm"] / counts["execution_off"] if counts["warm"] and counts["execution_off"] else None
    return {**counts, "warm_over_execution_off": None if ratio is None else round(ratio, 4)}


def engine_runs(settings: Settings, interpreters: list[Interpreter], runs: int) -> dict[str, float]:
    """Median milliseconds of one run of a two-input transcript by the engine's own Runner and sandbox."""
    sandbox = Sandbox.from_settings(settings)
    runner, found = Runner(sandbox), {}
    snippet = parse(Path("snippets/bench/one_run.pycon"), ">>> 6 * 7\n42\n>>> 'ab'.upper()\n'AB'\n")
    try:
        for interpreter in interpreters:
            runner.prepare(interpreter)  # launcher started, worker compiled: as for every run but the first
            samples = []
            for _ in range(runs):
                start = time.perf_counter()
                if runner(snippet, interpreter).error:
                    raise RuntimeError(f"the engine could not run a transcript on {interpreter.path}")
                samples.append(time.perf_counter() - start)
            found[interpreter.key] = round(statistics.median(samples) * 1000, 1)
    finally:
        sandbox.close()
    return found


# --------------------------------------------------------------------------
# Synthetic sites


def _inputs(i: int) -> list[str]:
    """2 to 4 REPL inputs for snippet i: arithmetic, a list, a string method, all distinct."""
    word = "".join("abcdefghijklmnopqrstuvwxyz"[(i * 7 + k * 3) % 26] for k in range(5 + i % 4))
    pool = [
        f"{i + 3} * {i % 17 + 2} + {i % 5}",
        f"[x * {i % 9 + 1} for x in range({i % 4 + 2})]",
        f"'{word}'.upper()",
        f"n = {i} ** 2",
        f"divmod({i * 13 + 7}, {i % 6 + 2})",
        f"sorted({{{i % 10}, {i % 7 + 20}, {i % 3 + 40}}})",
        f"'-'.join('{word[:4]}')",
        f"len('{word}' * {i % 5 + 1})",
    ]
    chosen = [pool[(i + k) % len(pool)] for k in range(2 + i % 3)]
    return [*chosen, "n % 97"] if chosen[-1].startswith("n = ") else chosen  # end on a visible output


def unrecorded(n: int) -> dict[str, str]:
    """snippets/-relative path -> a transcript without outputs; half opt in to PyPy, as on the real site."""
    header = "#| implementations: cpython pypy\n"
    return {
        f"page-{i % PAGES:02d}/example_{i:05d}.pycon": (header if i % 2 else "")
        + "".join(f">>> {source}\n" for source in _inputs(i))
        for i in range(n)
    }


def pages(relatives: list[str]) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    for relative in relatives:
        chapter, name = relative.split("/")
        body = found.setdefault(f"{chapter}.md", [f"# Page {chapter[-2:]}", ""])
        body += [f"## {name}", "", f"Example {name}.", "", "```snippet", relative, "```", ""]
    return {page: "\n".join(body) for page, body in sorted(found.items())}


def site_env(root: Path) -> dict[str, str]:
    """The environment of builds of the site in `root`; its results cache is `root/.cache`."""
    env = {**sites.mini_site_env(root), "PYTHONDONTWRITEBYTECODE": "1"}  # pytest: nothing into tests/
    env.pop("SNIPPET_NO_CACHE", None)
    return env


def record(n: int, work: Path) -> dict[str, str]:
    """The synthetic snippets, with the outputs that `snippets update` recorded from real runs."""
    root, snippets = work / "record", unrecorded(n)
    sites.write_mini_site(root, pages(list(snippets)), snippets, plugins=PLUGINS)
    command = [sys.executable, "-m", "snippet_engine.cli", "update"]
    done = subprocess.run(command, env=site_env(root), capture_output=True, text=True, check=False)
    if done.returncode or "warning:" in done.stdout:
        raise RuntimeError(f"snippets update failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    progress(f"recorded N={n} with `snippets update`: {done.stdout.strip().splitlines()[-1]}")
    recorded = {relative: (root / "snippets" / relative).read_text(encoding="utf-8") for relative in snippets}
    shutil.rmtree(root)
    return recorded


def runs_per_interpreter(settings: Settings) -> collections.Counter[str]:
    """How many runs a cold build makes on each interpreter, by the engine's own selection."""
    project = open_project(settings)
    try:
        chosen = (project.select(project.load(relative)).run_on for relative in project.all_snippets())
        return collections.Counter(interpreter.key for run_on in chosen for interpreter in run_on)
    finally:
        project.close()


# --------------------------------------------------------------------------
# Serve-style rebuilds (scripts/serve_timing.py times tests/serve_session.py's, in a fresh process)


def serve_rebuilds(root: Path, edit: str, sessions: int) -> dict[str, Any]:
    out = root.parent / f"{root.name}-served"
    script = ROOT / "scripts" / "serve_timing.py"
    command = [sys.executable, str(script), str(root), str(out), edit, str(sessions)]
    done = subprocess.run(command, env=site_env(root), cwd=root, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"serve session failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}")
    shutil.rmtree(out, ignore_errors=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------
# One size, the real site, the verdicts


def measure_cold(
    builds: dict[str, list[str]], runs: collections.Counter[str], interpreters: list[Interpreter],
    repeat: int, env: dict[str, str],
) -> dict[str, Any]:  # fmt: skip
    """Cold builds, each beside an execution-off one, with a floor from start-ups just before and after."""
    empty = {"cold": ["rm", "-rf", env["SNIPPET_CACHE_DIR"]]}
    samples: dict[str, list[float]] = collections.defaultdict(list)
    for index in range(repeat):
        before = startups(interpreters, env)
        timed = time_commands(round_order(builds, index), env, runs=1, prepare=empty)
        after = startups(interpreters, env)
        floor = sum(count * (before[key] + after[key]) / 2 for key, count in runs.items()) / CORES
        cold, off = median(timed["cold"]), median(timed["execution_off"])
        for field, value in (("seconds", cold), ("execution_off", off), ("floor", floor)):
            samples[field].append(round(value, 3))
        samples["over_floor"].append(round((cold - off) / floor, 3))  # each build against its own floor
        progress(f"cold {cold:.1f} s, off {off:.2f} s, floor {floor:.2f} s: {samples['over_floor'][-1]}x")
    return {
        "seconds": median(samples["seconds"]),
        "execution_off_seconds": median(samples["execution_off"]),
        "floor_seconds": median(samples["floor"]),
        "overhead_over_floor": median(samples["over_floor"]),
        "samples": samples,
    }


def measure_warm(builds: dict[str, list[str]], rounds: int, runs: int, env: dict[str, str]) -> dict[str, Any]:
    """Warm and execution-off builds in rounds; each round's ratio (builds close in time), then the median."""
    timed = [
        time_commands(round_order(builds, index), env, runs=runs, warmup=1 if index == 0 else 0)
        for index in range(rounds)
    ]
    warm, off = [t for r in timed for t in r["warm"][0]], [t for r in timed for t in r["execution_off"][0]]
    return {
        "seconds": median(warm),
        "execution_off_seconds": median(off),
        "over_execution_off": median([median(r["warm"]) / median(r["execution_off"]) for r in timed]),
        "cpu_over_execution_off": median([r["warm"][1] / r["execution_off"][1] for r in timed]),
        "samples": [round(t, 3) for t in warm],
        "execution_off_samples": [round(t, 3) for t in off],
    }


def measure_pytest(env: dict[str, str], runs: int) -> dict[str, Any]:
    """`pytest tests/test_snippets.py -n 2`, cold and warm, if it collects the snippets of SNIPPET_ROOT."""
    tests = [sys.executable, "-m", "pytest", "tests/test_snippets.py", "-q", "-p", "no:cacheprovider"]
    listed = subprocess.run([*tests, "--collect-only"], env=env, cwd=ROOT, capture_output=True, text=True)
    if f"snippets/{next(iter(unrecorded(1)))}:" not in listed.stdout:
        return {
            "skipped": "tests/test_snippets.py runs the repository's snippets, whatever SNIPPET_ROOT says"
        }
    command = ["env", "-C", str(ROOT), *tests, "-n", "2"]  # hyperfine has no working-directory option
    empty = {"cold": ["rm", "-rf", env["SNIPPET_CACHE_DIR"]]}
    cold = time_commands({"cold": command}, env, runs=1, prepare=empty)
    warm = time_commands({"warm": command}, env, runs=runs)
    return {"n2_cold_seconds": median(cold["cold"]), "n2_warm_seconds": median(warm["warm"])}


def measure_size(
    n: int, recorded: dict[str, str], interpreters: list[Interpreter], args: argparse.Namespace
) -> dict[str, Any]:
    root = args.work / f"n{n}"
    snippets = dict(itertools.islice(recorded.items(), n))
    sites.write_mini_site(root, pages(list(snippets)), snippets, plugins=PLUGINS, site_name=f"Bench N={n}")
    env, cache = site_env(root), root / ".cache"
    runs = runs_per_interpreter(Settings.from_environ(env))
    progress(f"N={n}: {sum(runs.values())} runs per cold build")
    build = [*sites.MKDOCS, "build", "--strict", f"--config-file={root / 'mkdocs.yml'}"]
    build.append(f"--site-dir={args.work / 'out'}")
    execute, off = ["env", "SNIPPET_EXECUTE=1", *build], ["env", "SNIPPET_EXECUTE=0", *build]
    result: dict[str, Any] = {"snippets": n, "runs_by_interpreter": dict(sorted(runs.items()))}
    repeat = args.cold_repeat if n <= 200 else min(args.cold_repeat, 2)  # a cold N=1000 takes minutes
    result["cold"] = measure_cold({"execution_off": off, "cold": execute}, runs, interpreters, repeat, env)
    entries = cache_entries(cache)
    result["warm"] = warm = measure_warm({"execution_off": off, "warm": execute}, args.rounds, args.runs, env)
    warm["cache_entries_added"] = cache_entries(cache) - entries  # not 0: not warm (engine edited meanwhile?)
    progress(f"N={n}: warm {warm['seconds']} s, off {warm['execution_off_seconds']} s")
    skipped = {"skipped": "valgrind not installed" if args.instructions else "--no-instructions"}
    counted = args.instructions and VALGRIND
    result["instructions"] = instructions(build, env) if counted else skipped
    progress(f"N={n}: instructions {result['instructions']}")
    edit = next(relative for relative, text in snippets.items() if "pypy" in text)  # the most runs per edit
    result["serve"] = serve_rebuilds(root, edit, args.edits)
    progress(f"N={n}: serve rebuild after one edit {result['serve']['edit_rebuild_seconds']} s")
    result["pytest"] = measure_pytest(env, args.runs) if args.pytest else {"skipped": "--no-pytest"}
    progress(f"N={n}: pytest {result['pytest']}")
    shutil.rmtree(root, ignore_errors=True)
    return result


def _editable(path: Path) -> bool:
    """A transcript that also runs on PyPy (the most runs per edit), on every version, to its end."""
    text = path.read_text(encoding="utf-8")
    return "implementations: cpython pypy" in text and "versions:" not in text and "exit" not in text


def measure_real_site(work: Path, edits: int) -> dict[str, Any]:
    root = sites.copy_real_site(work / "real")
    # Start from the repository's cache (copied, never written), as a contributor's serve does.
    with contextlib.suppress(OSError):  # no cache yet, or an entry replaced mid-copy (it just misses)
        shutil.copytree(
            ROOT / ".cache" / "snippets", root / ".cache", ignore=shutil.ignore_patterns(".tmp-*")
        )
    transcripts = sorted((root / "snippets").rglob("*.pycon"))
    edit = next(filter(_editable, transcripts), transcripts[0]).relative_to(root / "snippets").as_posix()
    result = serve_rebuilds(root, edit, edits)
    progress(f"real site: rebuild after editing {edit}: {result['edit_rebuild_seconds']} s")
    return result


def _within(value: float | None, target: str) -> bool | None:
    return None if value is None else value <= TARGETS[target]


def verdicts(per_size: list[dict[str, Any]], real: dict[str, Any] | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for size in per_size:
        instructions_ratio, serve = size["instructions"].get("warm_over_execution_off"), size["serve"]
        found[f"N={size['snippets']}"] = {
            "cold_overhead": _within(size["cold"]["overhead_over_floor"], "cold_overhead_over_floor"),
            "warm": _within(size["warm"]["over_execution_off"], "warm_over_execution_off"),
            "warm_by_instructions": _within(instructions_ratio, "warm_over_execution_off"),
            "serve_edit_shown_without_warnings": serve["edit_shown_every_time"] and not serve["warnings"],
        }
    for part in ("cold", "warm"):  # marginal seconds per snippet between consecutive sizes agree
        points = [(size["snippets"], size[part]["seconds"]) for size in per_size]
        slopes = [round((t2 - t1) / (n2 - n1), 5) for (n1, t1), (n2, t2) in itertools.pairwise(points)]
        spread = max(slopes) / min(slopes) if len(slopes) > 1 and min(slopes) > 0 else None
        found[f"{part}_linear_in_N"] = {
            "slopes": slopes,
            "linear": _within(spread, "linear_when_slopes_within"),
        }
    if real is not None:
        found["real_site_rebuild"] = _within(real["edit_rebuild_seconds"], "real_site_rebuild_seconds")
    return found


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--sizes", default="50,200,1000", help="comma-separated snippet counts")
    add("--quick", action="store_true", help="smoke run: N=20, every measurement once")
    add("--cold-repeat", type=int, default=3, help="cold builds per size (2 at most above 200)")
    add("--rounds", type=int, default=3, help="warm/off rounds per size, their order alternating")
    add("--runs", type=int, default=2, help="runs of each command per round")
    add("--edits", type=int, default=5, help="serve sessions (one edit each) per site")
    add("--no-instructions", dest="instructions", action="store_false", help="skip cachegrind")
    add("--no-pytest", dest="pytest", action="store_false", help="skip pytest on the synthetic sites")
    add("--no-real-site", dest="real_site", action="store_false", help="skip the real site")
    args = parser.parse_args(argv)
    args.sizes = sorted(int(size) for size in args.sizes.split(",") if size.strip())
    if args.quick:
        vars(args).update(sizes=[20], cold_repeat=1, rounds=1, runs=1, edits=1, instructions=False)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if HYPERFINE is None:
        progress("hyperfine not found (Debian: apt-get install hyperfine): timing with a plain loop instead")
    load_before, settings = [round(x, 2) for x in os.getloadavg()], Settings.from_environ(root=ROOT)
    # The project's own discovery: the clean venvs the builds run, installed interpreters included.
    project = open_project(settings)
    try:
        interpreters = list(project.discovery.found)
    finally:
        project.close()
    # The same interpreters throughout, in every child, even if one is installed meanwhile.
    os.environ["SNIPPET_PYTHONS"] = os.pathsep.join(i.base for i in interpreters)
    startup = startups(interpreters, dict(os.environ))
    engine_run = engine_runs(settings, interpreters, 3 if args.quick else 11)
    each = (f"{key} {startup[key] * 1e3:.1f}, {engine_run[key]} ms" for key in startup)
    progress(f"start-up, engine run: {', '.join(each)}")
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        args.work = Path(tmp)
        recorded = record(max(args.sizes), args.work)
        per_size = [measure_size(n, recorded, interpreters, args) for n in args.sizes]
        real = measure_real_site(args.work, args.edits) if args.real_site else None
    version = subprocess.run([HYPERFINE, "--version"], capture_output=True, text=True) if HYPERFINE else None
    machine = {"cores": CORES, "python": sys.version.split()[0], "load_average_before": load_before}
    machine["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    total = round(time.monotonic() - _started, 1)
    document = {
        "machine": machine,
        "timer": version.stdout.strip() if version else "a plain loop (hyperfine not found)",
        "instructions_by": "valgrind --tool=cachegrind (the build process only)" if VALGRIND else None,
        "interpreters": {
            i.key: {
                "path": i.path,
                "startup_ms": round(startup[i.key] * 1e3, 1),
                "engine_run_ms": engine_run[i.key],
            }
            for i in interpreters
        },
        "floor": "the sum over a cold build's runs of the bare `python -I -c pass` start-up, over the cores",
        "sizes": per_size,
        "real_site": real,
        "targets": TARGETS,
        "verdicts": verdicts(per_size, real),
        "total_seconds": total,
    }
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
