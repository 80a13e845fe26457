"""The project as the engine sees it: where snippets live, which interpreters run
them, and a pool that runs them in parallel through the cache.

One `Project` per process (see `current()`), shared by every fence of every
page, so the interpreters are probed once and runs for a whole site overlap.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import stat
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .cache import Cache, cache_dir, key_for
from .interpreters import Discovery, Interpreter, describe_key, discover, supported_keys
from .run import RunResult, prepare, run
from .snippet import KINDS, Options, Snippet, parse

ROOT_VARIABLE = "SNIPPET_ROOT"
EXECUTE_VARIABLE = "SNIPPET_EXECUTE"  # "0": render recorded outputs, run nothing
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,})[ \t]*(?P<name>snippet(?:-table)?)\b[^\n]*\n"
    r"(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def fence_paths(name: str, body: str) -> list[str]:
    """Snippet paths a fence names: its body, or the right column of a table."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if name == "snippet":
        return lines[:1]
    return [line.rsplit("|", 1)[1].strip() for line in lines if "|" in line]


def find_root() -> Path:
    """The repository root, whatever the builder's current directory."""
    configured = os.environ.get(ROOT_VARIABLE)
    if configured:
        return Path(configured).resolve()
    # An editable install sits in src/ of the checkout; prefer that over cwd so
    # `mkdocs build -f /repo/mkdocs.yml` from elsewhere gives the same site.
    here = Path(__file__).resolve().parents[2]
    if (here / "mkdocs.yml").is_file() and (here / "snippets").is_dir():
        return here
    return Path.cwd()


@dataclass(frozen=True)
class Selection:
    run_on: tuple[Interpreter, ...]
    skipped: tuple[tuple[str, str], ...]  # (key, reason) for every supported key not run


class Project:
    def __init__(self, root: Path, *, use_cache: bool = True, workers: int | None = None) -> None:
        self.root = root
        self.snippets_dir = root / "snippets"
        self.docs_dir = root / "docs"
        self.cache = Cache(cache_dir(root), enabled=use_cache)
        self.execute = os.environ.get(EXECUTE_VARIABLE, "1") != "0"
        self._pool = ThreadPoolExecutor(
            max_workers=workers or os.cpu_count() or 2, initializer=_yield_to_builder
        )
        self._futures: dict[str, Future[RunResult]] = {}
        self._lock = threading.Lock()
        self._prepared = False
        self._loaded: dict[str, tuple[tuple[int, int], Snippet]] = {}
        self._selections: dict[Options, Selection] = {}
        self._stored: dict[str, RunResult] = {}

    @functools.cached_property
    def discovery(self) -> Discovery:
        return discover(cache_dir(self.root) / "interpreters.json")

    def load(self, relative: str) -> Snippet:
        """Parse `snippets/<relative>`; paths in messages are relative to the root."""
        # A build loads each snippet twice (prefetch, render) and serve on every
        # rebuild: read it again only when its size or modification time changed.
        # The stat goes through a string: pathlib costs more than the stat.
        try:
            status = os.stat(os.path.join(self.snippets_dir, relative))
        except OSError:
            status = None
        if status is None or not stat.S_ISREG(status.st_mode):
            raise FileNotFoundError(f"no snippet file snippets/{relative}")
        signature = (status.st_mtime_ns, status.st_size)
        known = self._loaded.get(relative)
        if known is not None and known[0] == signature:
            return known[1]
        path = self.snippets_dir / relative
        snippet = _parse_cached(path.relative_to(self.root), path.read_text(encoding="utf-8"))
        self._loaded[relative] = (signature, snippet)
        return snippet

    def all_snippets(self) -> list[str]:
        return sorted(
            p.relative_to(self.snippets_dir).as_posix()
            for p in self.snippets_dir.rglob("*")
            if p.suffix in KINDS and p.is_file() and "__pycache__" not in p.parts
        )

    def select(self, snippet: Snippet) -> Selection:
        # Depends only on the header and on the interpreters found, which stay
        # fixed for the process; asked for every snippet at prefetch and render.
        selection = self._selections.get(snippet.options)
        if selection is None:
            selection = self._selections[snippet.options] = self._select(snippet.options)
        return selection

    def _select(self, options: Options) -> Selection:
        present = self.discovery.by_key()
        run_on, skipped = [], []
        for key in supported_keys():
            interp = present.get(key)
            implementation = "pypy" if key.startswith("pypy") else "cpython"
            language = key.removeprefix("pypy")
            if not options.applies_to(implementation, language):
                if implementation in options.implementations:
                    why = options.why or ""
                    skipped.append((key, f"header says versions {options.versions}: {why}"))
                continue
            if interp is None:
                skipped.append((key, f"{describe_key(key)} not found on this machine"))
            else:
                run_on.append(interp)
        return Selection(tuple(run_on), tuple(skipped))

    def _stored_result(self, key: str) -> RunResult | None:
        """A result this process has read before, or the cache's, remembered from then on.

        Read in the calling thread: handing ~0.1 ms reads to the pool cost more
        in thread switches and GIL contention with the rendering thread than
        the reads themselves (warm builds); and a stored result needs no Future
        (each allocates a Condition), which at 4500 runs was measurable too.
        """
        stored = self._stored.get(key)
        if stored is None:
            stored = self.cache.get(key)
            if stored is not None:
                self._stored[key] = stored
        return stored

    def submit(self, snippet: Snippet, interpreter: Interpreter) -> Future[RunResult]:
        key = key_for(snippet, interpreter)
        with self._lock:
            future = self._futures.get(key)
        if future is not None:
            return future
        cached = self._stored_result(key)
        with self._lock:
            future = self._futures.get(key)
            if future is None:
                if cached is not None:
                    future = Future()
                    future.set_result(cached)
                else:
                    future = self._pool.submit(self._run_cached, key, snippet, interpreter)
                self._futures[key] = future
            return future

    def _run_cached(self, key: str, snippet: Snippet, interpreter: Interpreter) -> RunResult:
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        result = run(snippet, interpreter)
        if result.error is None:
            # Failures (a timeout on a loaded machine, a crash) are retried
            # next time rather than remembered.
            self.cache.put(key, result)
        return result

    def results(self, snippet: Snippet) -> list[RunResult]:
        pending: list[RunResult | Future[RunResult]] = []
        for interp in self.select(snippet).run_on:
            key = key_for(snippet, interp)
            stored = None if key in self._futures else self._stored_result(key)
            pending.append(stored if stored is not None else self.submit(snippet, interp))
        return [item if isinstance(item, RunResult) else item.result() for item in pending]

    def prefetch(self, relatives: list[str]) -> None:
        """Read every stored result and start every missing run, so fences find them done or under way."""
        for relative in relatives:
            try:
                snippet = self.load(relative)
            except (OSError, ValueError):
                continue  # reported when the fence that names it is rendered
            for interp in self.select(snippet).run_on:
                key = key_for(snippet, interp)
                if key not in self._futures and self._stored_result(key) is None:
                    self.submit(snippet, interp)

    def prepare(self) -> None:
        """In the background, once: what the first run on each interpreter would do first.

        For `mkdocs serve`, after its first build, so the first snippet edited
        does not wait for it; a one-off build with nothing to run skips it.
        """
        with self._lock:
            first, self._prepared = not self._prepared, True
        if first:
            for interpreter in self.discovery.found:
                self._pool.submit(prepare, interpreter)

    def embedded(self) -> dict[str, list[str]]:
        """snippet path -> pages that embed it, read from the Markdown sources."""
        pages: dict[str, list[str]] = {}
        for page in sorted(self.docs_dir.rglob("*.md")):
            for match in _FENCE.finditer(page.read_text(encoding="utf-8")):
                for path in fence_paths(match.group("name"), match.group("body")):
                    pages.setdefault(path, []).append(page.relative_to(self.root).as_posix())
        return pages


RUN_NICENESS = 5


def _yield_to_builder() -> None:
    """Pool threads, and the runs they start, give way to the thread rendering pages.

    Niceness is per thread in Linux and children inherit it. With as many runs
    as cores, the rendering thread used to get a fraction of a core while an
    edited snippet ran under `mkdocs serve`; now it renders at full speed and
    the runs use what is left. A build's total work is unchanged.
    """
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(
            os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + RUN_NICENESS
        )


@functools.lru_cache(maxsize=4096)
def _parse_cached(path: Path, text: str) -> Snippet:
    # A build parses each snippet twice (prefetch, then render); the text is
    # part of the key, so an edited file is parsed again.
    return parse(path, text)


_current: Project | None = None
_current_lock = threading.Lock()


def current() -> Project:
    """The process-wide project (created on first use, root found automatically)."""
    global _current
    with _current_lock:
        if _current is None:
            _current = Project(find_root())
        return _current
