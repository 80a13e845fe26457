"""The standard library's docstring examples as REPL transcripts, recorded by the engine.

Transcripts written by others, for `scripts/repl_check.py --corpus stdlib`.
For one interpreter:

1. Extract: the interpreter itself runs `doctest.DocTestFinder` over the
   modules of MODULES that it ships, so each interpreter gets its own
   library's examples. Each docstring with examples becomes one `.pycon`
   file of inputs only, `snippets/<module>/<name>.pycon` under a throw-away
   project root, ~/.cache/python-under-the-hood/repl-check/corpus/<key>/.
   Its first inputs import the module, its public names and the private
   ones its examples use (doctest gives examples the module's globals; a
   person at a prompt imports them), then every example as the docstring
   has it, line for line: a bare `...` stays an empty Enter, and a compound
   statement without one stays without one.
   Examples marked `+SKIP` are left out, and a docstring seen in an earlier
   module (PyPy's `decimal` is `_pydecimal`) is not written twice.
2. Record: `snippets update` (the engine's own command, with SNIPPET_ROOT,
   SNIPPET_CACHE_DIR and SNIPPET_PYTHONS naming the corpus and this one
   interpreter), then a second recording of every new file by the engine
   without its cache.
3. Keep what runs non-interactively and deterministically: an example is
   dropped, with its reason counted, when its run times out, ends or kills
   the interpreter, reads stdin (EOFError: runs have no stdin), prints an
   address, an id or a time, prints something else in the second
   recording, or prints what a record cannot hold
   (`snippet_engine.record.unwritable`). Dropping an example changes what
   later ones see, so files with drops are written again and recorded
   again, until nothing is dropped.
4. Check the records: a second `snippets update`, without the cache, must
   change nothing (what it changes counts as "differs between two
   recordings" and goes round again), and every file must parse back to
   exactly the outputs the engine printed.

A corpus is rebuilt when the interpreter, what the engine runs in its
sandbox, how it records, or this file change (or with `rebuild=True`);
otherwise the last build is reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from snippet_engine import Interpreter, RunResult, Settings, Snippet, Variant, open_project, parse
from snippet_engine.cache import engine_digest
from snippet_engine.record import unwritable
from snippet_engine.sandbox import Sandbox
from snippet_engine.snippet import prompted

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "python-under-the-hood"
CORPUS = CACHE / "repl-check" / "corpus"
# The modules whose docstrings are searched; one an interpreter lacks is reported and left out.
MODULES = (
    # decimal's examples on CPython, whose C `decimal` has few. Searched first:
    # its classes say they are decimal's, and doctest believes
    # sys.modules["decimal"] once anything (fractions, statistics) imported it.
    "_pydecimal",
    "statistics",
    "fractions",
    "decimal",
    "collections",
    "itertools",
    "functools",
    "doctest",
    "textwrap",
    "heapq",
    "bisect",
    "operator",
    "string",
    "difflib",
    "json",
    "enum",
    "dataclasses",
    "pprint",
    "typing",
    "ipaddress",
    "datetime",
    "unittest.mock",
    "pickletools",
    "pickle",
    "_threading_local",
    "builtins",
    "hashlib",
    "binascii",
    "math",
    "uuid",
    "secrets",
)
# Not searched: modules whose examples reach the network or the filesystem
# (ftplib, smtplib, subprocess, tempfile, shutil) or open windows (turtle).
MAX_ROUNDS = 6
SKIP_REASON = "marked +SKIP in its docstring"
UNSTABLE = "differs between two recordings"

# Runs inside the interpreter under test (`-I`): plain code for every version.
# It re-reads each example's lines from the docstring because doctest's
# Example.source loses a trailing bare `...` (the empty Enter that ends a block).
_EXTRACT = r"""
import builtins, doctest, importlib, json, re, sys

def typed(lines, example):
    margin = " " * example.indent
    out = [lines[example.lineno][example.indent + 4:]]
    number = example.lineno + 1
    while number < len(lines) and lines[number].startswith(margin + "..."):
        rest = lines[number][len(margin) + 3:]
        if rest and not rest.startswith(" "):
            break
        out.append(rest[1:])
        number += 1
    if "\n".join(out).rstrip("\n") != example.source.rstrip("\n"):
        out = example.source.rstrip("\n").split("\n")  # not laid out as doctest reads it: its reading
    return out

def imports(module, name, examples):
    # doctest gives examples the module's globals. A person at a prompt
    # imports the module, its public names, and the private ones the examples use.
    public = set(getattr(module, "__all__", None) or [n for n in dir(module) if not n[:1] == "_"])
    used = set(re.findall(r"(?<![.\w])([A-Za-z_]\w*)", "\n".join(line for e in examples if e for line in e)))
    private = sorted(n for n in used - public if hasattr(module, n) and not hasattr(builtins, n))
    lines = ["import %s" % name, "from %s import *" % name]
    return lines + (["from %s import %s" % (name, ", ".join(private))] if private else [])

parser = doctest.DocTestParser()
finder = doctest.DocTestFinder(exclude_empty=True)
found, errors = [], []
for name in sys.argv[1:]:
    try:
        module = importlib.import_module(name)
        tests = finder.find(module, name)
    except Exception as error:
        errors.append("%s: %s: %s" % (name, type(error).__name__, error))
        continue
    for test in sorted(tests, key=lambda t: t.name):
        if not test.examples:
            continue
        text = test.docstring.expandtabs()
        indent = parser._min_indent(text)
        lines = [line[indent:] for line in text.split("\n")] if indent > 0 else text.split("\n")
        examples = [None if e.options.get(doctest.SKIP) else typed(lines, e) for e in test.examples]
        found.append({
            "module": name, "name": test.name, "docstring": test.docstring,
            "imports": imports(module, name, examples), "examples": examples,
        })
print(json.dumps({"found": found, "errors": errors}))
"""

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
_ID = re.compile(r"\bid\(|\bid='?\d")
_CLOCK = re.compile(r"\b(timeit|perf_counter|process_time|monotonic|time\.time|now|today|utcnow)\b")
_READS_STDIN = re.compile(r"\b(input\(|sys\.stdin|breakpoint\(|pdb\.)")
_SUMMARY = re.compile(r"^(\d+) updated, (\d+) unchanged, (\d+) not written$", re.MULTILINE)


@dataclass
class Docstring:
    """One docstring's examples as typed (a bare `...` being ''), and the imports before them."""

    module: str
    name: str
    imports: list[str]  # one input each: `import M`, `from M import *`, the private names used
    examples: list[list[str]]
    skipped: int = 0  # examples marked +SKIP, left out

    @property
    def relative(self) -> str:
        return f"{self.module}/{re.sub(r'[^A-Za-z0-9_.-]', '_', self.name)}.pycon"

    def text(self, implementation: str) -> str:
        """The transcript: inputs only, the module's names imported first."""
        lines = [] if implementation == "cpython" else [f"#| implementations: {implementation}"]
        lines += [f">>> {line}" for line in self.imports]
        for example in self.examples:
            lines += prompted("pycon", "\n".join(example) + "\n")
        return "".join(line + "\n" for line in lines)


@dataclass
class Build:
    """What building one interpreter's corpus found, kept and dropped."""

    key: str
    label: str
    root: str
    docstrings: int = 0
    files: int = 0
    examples: int = 0  # found in the docstrings
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> examples
    rounds: int = 0
    second_update: str = ""  # the summary line of the second `snippets update`
    second_update_clean: bool = False
    read_back: list[str] = field(default_factory=list)  # files whose records are not the engine's outputs
    errors: list[str] = field(default_factory=list)  # modules that could not be searched
    seconds: float = 0.0
    reused: bool = False

    @property
    def snippets_dir(self) -> Path:
        return Path(self.root) / "snippets"

    def summary(self) -> str:
        dropped = ", ".join(f"{count} {reason}" for reason, count in sorted(self.dropped.items())) or "none"
        second = "changed nothing" if self.second_update_clean else f"CHANGED: {self.second_update}"
        back = "all parse back" if not self.read_back else f"{len(self.read_back)} do NOT parse back"
        made = "reused" if self.reused else f"built in {self.seconds:.0f} s, {self.rounds} rounds"
        return (
            f"{self.key:<9} {self.files} files, {self.examples} examples, kept {self.kept};"
            f" dropped: {dropped}; second update {second}; {back}; {made}"
            + (f"; modules left out: {'; '.join(self.errors)}" if self.errors else "")
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------- extraction


def extract(
    interpreter: Interpreter, modules: tuple[str, ...] = MODULES
) -> tuple[list[Docstring], list[str]]:
    """Every docstring with examples in those modules, as the interpreter's own doctest finds them."""
    done = subprocess.run(
        [interpreter.path, "-I", "-c", _EXTRACT, *modules],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": os.defpath, "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"{interpreter.path}: the extraction failed: {done.stderr.strip()[-500:]}")
    data = json.loads(done.stdout)
    seen: set[str] = set()
    docstrings = []
    for item in data["found"]:
        if item["docstring"] in seen:  # re-exported: PyPy's decimal is _pydecimal
            continue
        seen.add(item["docstring"])
        examples = [example for example in item["examples"] if example is not None]  # None: +SKIP
        skipped = len(item["examples"]) - len(examples)
        docstrings.append(Docstring(item["module"], item["name"], item["imports"], examples, skipped))
    return docstrings, list(data["errors"])


# ------------------------------------------------------------------ the engine


def _environment(root: Path, interpreter: Interpreter) -> dict[str, str]:
    """What `snippets update` reads to record this corpus on this one interpreter only."""
    env = {k: v for k, v in os.environ.items() if k not in ("SNIPPET_NO_CACHE", "SNIPPET_EXECUTE")}
    env.update(
        SNIPPET_ROOT=str(root),
        SNIPPET_CACHE_DIR=str(root / "cache"),
        SNIPPET_PYTHONS=interpreter.base,
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p),
    )
    return env


def snippets_update(root: Path, interpreter: Interpreter, *, no_cache: bool = False) -> str:
    """Run the engine's `snippets update` over the corpus; its summary line."""
    # `python -m snippet_engine.cli` is the `snippets` console script's own entry point.
    command = [sys.executable, "-m", "snippet_engine.cli", *(["--no-cache"] if no_cache else []), "update"]
    done = subprocess.run(
        command, env=_environment(root, interpreter), capture_output=True, text=True, check=False
    )
    summary = _SUMMARY.search(done.stdout)
    if summary is None:
        raise RuntimeError(f"snippets update gave no summary: {done.stderr.strip()[-800:]}")
    return summary.group(0)


def engine_results(
    root: Path, interpreter: Interpreter, relatives: list[str], *, cached: bool
) -> dict[str, RunResult]:
    """The engine's run of each file: from its cache (what `snippets update` recorded), or afresh."""
    settings = Settings.from_environ(_environment(root, interpreter))
    if not cached:
        settings = replace(settings, use_cache=False)
    project = open_project(settings)
    try:
        [found] = project.discovery.found
        if found.path != interpreter.path:
            raise RuntimeError(f"the corpus ran on {found.path}, not {interpreter.path}")
        project.prefetch(relatives)
        return {relative: project.wait(project.load(relative), found) for relative in relatives}
    finally:
        project.close()


# -------------------------------------------------------------- what is kept


def _failure(error: str) -> str:
    if "timed out" in error:
        return "times out"
    if " exited " in error or "was killed" in error:
        return "ends or kills the interpreter"
    if "cap" in error:
        return "prints over the output cap"
    return "the run fails"


def _one_step(snippet: Snippet, index: int, output: str) -> Snippet:
    step = replace(snippet.steps[index], expected=(Variant(None, output),))
    return replace(snippet, steps=(step,))


def _reason(snippet: Snippet, index: int, first: RunResult, second: RunResult | None) -> str | None:
    """Why the input at `index` is not a deterministic, non-interactive, recordable example, if it is not."""
    step, result = snippet.steps[index], first.steps[index]
    if result.status == "exception:EOFError" or _READS_STDIN.search(step.source):
        return "reads stdin"
    if _ADDRESS.search(result.output):
        return "prints an address"
    if _ID.search(step.source) or _ID.search(result.output):
        return "prints an id"
    if _CLOCK.search(step.source):
        return "prints a time"
    if second is not None and (index >= len(second.steps) or second.steps[index].output != result.output):
        return UNSTABLE
    if unwritable(_one_step(snippet, index, result.output)):
        return "cannot be written as a record"
    return None


def verdicts(snippet: Snippet, first: RunResult, second: RunResult | None) -> dict[int, str]:
    """Step index -> why that input goes. After a failed run only the input that failed is judged."""
    for result in (first, second):
        if result is not None and result.error:
            return {result.failed_at(len(snippet.steps)): _failure(result.error)}
    found = {}
    for index in range(min(len(first.steps), len(snippet.steps))):
        reason = _reason(snippet, index, first, second)
        if reason:
            found[index] = reason
    return found


def _changed_steps(before: str, path: Path) -> dict[int, str]:
    """Inputs whose records a `snippets update` rewrote (the file's text before it, and the file now)."""
    old, new = parse(path, before), parse(path)
    return {
        index: UNSTABLE
        for index, (a, b) in enumerate(zip(old.steps, new.steps, strict=True))
        if a.expected != b.expected
    }


def read_back(root: Path, interpreter: Interpreter, relatives: list[str]) -> list[str]:
    """Files whose records, parsed back, are not exactly what the engine printed, and why."""
    results = engine_results(root, interpreter, relatives, cached=True)
    problems = []
    for relative in relatives:
        snippet = parse(root / "snippets" / relative)
        for index, (step, got) in enumerate(zip(snippet.steps, results[relative].steps, strict=False)):
            want, borrowed = step.expected_for(interpreter.key)
            if want != got.output or borrowed:
                why = unwritable(_one_step(snippet, index, got.output)) or "the record is not the output"
                problems.append(f"{relative}:{step.lineno}: {why}")
    return problems


# ------------------------------------------------------------------ building


class _Corpus:
    """The docstrings being kept, their files, and the count of what was dropped."""

    def __init__(self, root: Path, interpreter: Interpreter, docstrings: list[Docstring]) -> None:
        self.root, self.interpreter = root, interpreter
        self.dropped: Counter[str] = Counter()
        self.files: dict[str, Docstring] = {}
        for doc in docstrings:
            self.dropped[SKIP_REASON] += doc.skipped
            if doc.examples:
                self.files[doc.relative] = doc

    def write(self, relatives: list[str]) -> None:
        for relative in relatives:
            path = self.root / "snippets" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.files[relative].text(self.interpreter.implementation), encoding="utf-8")

    def drop(self, relative: str, found: dict[int, str]) -> None:
        """Remove the examples judged (by step index); an import judged takes the whole file with it."""
        doc = self.files[relative]
        first = len(doc.imports)
        failed = [index for index in found if index < first]
        if failed:
            self.dropped[found[failed[0]]] += len(doc.examples)
            doc.examples = []
        for index in sorted(found, reverse=True):
            if index >= first:
                self.dropped[found[index]] += 1
                del doc.examples[index - first]
        if doc.examples:
            self.write([relative])
        else:
            del self.files[relative]
            (self.root / "snippets" / relative).unlink()

    def judge(self, fresh: list[str]) -> dict[str, dict[int, str]]:
        """Record everything, run `fresh` files a second time, and say what goes."""
        snippets_update(self.root, self.interpreter)
        relatives = sorted(self.files)
        first = engine_results(self.root, self.interpreter, relatives, cached=True)
        second = engine_results(self.root, self.interpreter, fresh, cached=False)
        found = {}
        for relative in relatives:
            snippet = parse(self.root / "snippets" / relative)
            judged = verdicts(snippet, first[relative], second.get(relative))
            if judged:
                found[relative] = judged
        return found

    def second_update(self) -> tuple[str, dict[str, dict[int, str]]]:
        """The second `snippets update`, without the cache: its summary, and the inputs it re-recorded."""
        before = {r: (self.root / "snippets" / r).read_text(encoding="utf-8") for r in self.files}
        summary = snippets_update(self.root, self.interpreter, no_cache=True)
        changed = {}
        for relative, text in before.items():
            path = self.root / "snippets" / relative
            if path.read_text(encoding="utf-8") != text:
                changed[relative] = _changed_steps(text, path)
        return summary, changed


# The engine's sources that decide what a run prints and how it is written down
# (the worker and launcher are in engine_digest); the rest (rendering, the build) do not.
_RECORDING_SOURCES = ("kinds.py", "run.py", "check.py", "record.py", "snippet.py", "header.py", "cli.py")


def _stamp(interpreter: Interpreter) -> str:
    """What a built corpus depends on: the interpreter, what runs and records it, this builder."""
    sandbox = Sandbox.from_settings(Settings.from_environ())
    try:
        engine = engine_digest(sandbox.describe())
    finally:
        sandbox.close()
    digest = hashlib.sha256(json.dumps([asdict(interpreter), list(MODULES), engine]).encode())
    sources = [ROOT / "src" / "snippet_engine" / name for name in _RECORDING_SOURCES]
    for source in [Path(__file__), *sources]:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def build(interpreter: Interpreter, *, rebuild: bool = False, log: Callable[[str], None] = print) -> Build:
    """The corpus of one interpreter, built (or the last build, when nothing it depends on changed)."""
    root = CORPUS / interpreter.key
    stamp_file = root / "build.json"
    stamp = _stamp(interpreter)
    if not rebuild and stamp_file.exists():
        saved = json.loads(stamp_file.read_text(encoding="utf-8"))
        if saved.get("stamp") == stamp:
            return Build(**{**saved["build"], "reused": True})
    started = time.monotonic()
    log(f"stdlib corpus for {interpreter.exact_label}: extracting")
    docstrings, errors = extract(interpreter)
    shutil.rmtree(root / "snippets", ignore_errors=True)
    corpus = _Corpus(root, interpreter, docstrings)
    result = Build(
        interpreter.key, interpreter.exact_label, str(root), docstrings=len(docstrings), errors=errors
    )
    result.examples = sum(len(d.examples) + d.skipped for d in docstrings)
    corpus.write(sorted(corpus.files))
    fresh = sorted(corpus.files)
    for result.rounds in range(1, MAX_ROUNDS + 1):
        log(f"stdlib corpus for {interpreter.key}: round {result.rounds}, {len(fresh)} files to record")
        found = corpus.judge(fresh)
        if not found:
            result.second_update, found = corpus.second_update()
            if not found:
                break
        last = result.rounds == MAX_ROUNDS
        for relative, judged in found.items():
            # Still unsettled after the last round: the whole file goes (with its first import).
            corpus.drop(relative, {0: UNSTABLE} if last else judged)
        fresh = sorted(r for r in found if r in corpus.files)
    clean = _SUMMARY.match(result.second_update)
    result.second_update_clean = clean is not None and clean[1] == clean[3] == "0"
    result.read_back = read_back(root, interpreter, sorted(corpus.files))
    result.files = len(corpus.files)
    result.kept = sum(len(d.examples) for d in corpus.files.values())
    result.dropped = {reason: count for reason, count in corpus.dropped.items() if count}
    result.seconds = round(time.monotonic() - started, 1)
    stamp_file.parent.mkdir(parents=True, exist_ok=True)
    stamp_file.write_text(json.dumps({"stamp": stamp, "build": result.as_json()}, indent=2), encoding="utf-8")
    log(f"stdlib corpus: {result.summary()}")
    return result
