"""The project as the engine sees it: its snippet files, the interpreters that run
them, and the one way a result is found (memory, then disk, then a run).

A `Project` is given everything it depends on (settings, how to discover
interpreters, how to run a snippet, the cache), so a test builds an isolated
one in-process with a fake runner; `open_project` wires the real ones.
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .cache import Cache, engine_digest
from .discovery import Discovery, discover
from .fences import FenceError, find_fences, find_values, parse_body, parse_value
from .header import SnippetError
from .interpreters import Interpreter, parse_key, supported_keys
from .results import RunResult
from .run import Runner
from .sandbox import Sandbox
from .settings import Settings
from .snippet import KINDS, Snippet, parse, read_text

RunFunction = Callable[[Snippet, Interpreter], RunResult]
RUN_NICENESS = 5


@dataclass(frozen=True)
class Selection:
    run_on: tuple[Interpreter, ...]
    skipped: tuple[tuple[str, str], ...]  # (key, reason) for every supported key not run

    @property
    def missing(self) -> list[str]:
        """Keys the snippet applies to but this machine lacks."""
        return [key for key, why in self.skipped if why == NOT_FOUND]


NOT_FOUND = "not found on this machine"


class Project:
    def __init__(
        self,
        settings: Settings,
        *,
        discover: Callable[[], Discovery],
        run: RunFunction,
        cache: Cache,
        prepare: Callable[[Interpreter], None] | None = None,
        close: Callable[[], None] | None = None,
        isolation: Callable[[], str] = lambda: "none (an in-process runner)",
    ) -> None:
        self.settings = settings
        self.root = settings.root
        self.snippets_dir = settings.root / "snippets"
        self.docs_dir = settings.root / "docs"
        self.cache = cache
        self._discover, self._run, self._prepare, self._close = discover, run, prepare, close
        self.isolation = isolation  # what isolates runs, for the build log
        self._discovery: Discovery | None = None
        self._prepared = False
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._results: dict[str, RunResult | Future[RunResult]] = {}
        self._loaded: dict[str, tuple[tuple[int, int], Snippet]] = {}

    @property
    def discovery(self) -> Discovery:
        with self._lock:
            if self._discovery is None:
                self._discovery = self._discover()
            return self._discovery

    def load(self, relative: str) -> Snippet:
        """Parse `snippets/<relative>`, which must be a regular file inside snippets/ after links."""
        path = self.snippets_dir / relative
        real, base = os.path.realpath(path), os.path.realpath(self.snippets_dir)
        if os.path.commonpath([real, base]) != base:
            raise SnippetError(f"snippets/{relative}: leads outside snippets/ (to {real})")
        try:
            status = os.stat(real)
        except OSError:
            status = None
        if status is None or not stat.S_ISREG(status.st_mode):
            raise SnippetError(f"snippets/{relative}: no such snippet file")
        # A build loads each snippet twice (prefetch, render) and serve on every
        # rebuild: read it again only when its size or modification time changed.
        signature = (status.st_mtime_ns, status.st_size)
        known = self._loaded.get(relative)
        if known is not None and known[0] == signature:
            return known[1]
        snippet = parse(path.relative_to(self.root), read_text(Path(real)))
        self._loaded[relative] = (signature, snippet)
        return snippet

    def all_snippets(self) -> list[str]:
        return sorted(
            p.relative_to(self.snippets_dir).as_posix()
            for p in self.snippets_dir.rglob("*")
            if p.suffix in KINDS and "__pycache__" not in p.parts and (p.is_file() or p.is_symlink())
        )

    def select(self, snippet: Snippet) -> Selection:
        present = self.discovery.by_key()
        run_on, skipped = [], []
        for key in supported_keys():
            implementation, language, _ = parse_key(key)
            if implementation not in snippet.options.implementations:
                continue  # not opted in: not a skip, the snippet is not about it
            if not snippet.options.applies_to(implementation, language):
                skipped.append(
                    (key, f"header says versions {snippet.options.versions}: {snippet.options.why}")
                )
            elif key in present:
                run_on.append(present[key])
            else:
                skipped.append((key, NOT_FOUND))
        return Selection(tuple(run_on), tuple(skipped))

    def result(self, snippet: Snippet, interpreter: Interpreter) -> RunResult | Future[RunResult]:
        """The one way to a result: this process's memory, then the disk cache, then a run on the pool.

        A stored result is read in the calling thread: handing ~0.1 ms reads to
        the pool cost more in thread switches than the reads themselves.
        """
        key = self.cache.key(snippet, interpreter)
        with self._lock:
            known = self._results.get(key)
        if known is not None:
            return known
        stored = self.cache.get(key, interpreter, len(snippet.steps))
        with self._lock:
            known = self._results.get(key)
            if known is None:
                if stored is not None:
                    known = stored
                else:
                    known = self._executor().submit(self._run_and_store, key, snippet, interpreter)
                self._results[key] = known
            return known

    def _run_and_store(self, key: str, snippet: Snippet, interpreter: Interpreter) -> RunResult:
        result = self._run(snippet, interpreter)
        self.cache.put(key, result)  # only successes are stored
        with self._lock:
            if result.error is None:
                self._results[key] = result
        return result

    def wait(self, snippet: Snippet, interpreter: Interpreter) -> RunResult:
        found = self.result(snippet, interpreter)
        return found if isinstance(found, RunResult) else found.result()

    def results(self, snippet: Snippet) -> list[RunResult]:
        found = [self.result(snippet, interpreter) for interpreter in self.select(snippet).run_on]
        return [item if isinstance(item, RunResult) else item.result() for item in found]

    def forget_failures(self) -> None:
        """Failures are never remembered past the build that saw them: the next one runs them again."""
        with self._lock:
            for key, known in list(self._results.items()):
                failed = (
                    isinstance(known, Future)
                    and known.done()
                    and (known.exception() is not None or known.result().error is not None)
                )
                if failed:
                    del self._results[key]

    def prefetch(self, relatives: list[str]) -> None:
        """Read every stored result and start every missing run, so fences find them done or under way."""
        self.forget_failures()
        for relative in relatives:
            try:
                snippet = self.load(relative)
            except (OSError, SnippetError):
                continue  # reported when the fence that names it is rendered
            for interpreter in self.select(snippet).run_on:
                self.result(snippet, interpreter)

    def prepare(self) -> None:
        """In the background: what the first run on each interpreter would do first (for `serve`)."""
        with self._lock:
            first, self._prepared = not self._prepared, True
        if first and self._prepare is not None:
            for interpreter in self.discovery.found:
                self._executor().submit(self._prepare, interpreter)

    def embedded(self) -> dict[str, list[str]]:
        """snippet path -> pages that embed it (a fence or an inline value), from the Markdown sources."""
        pages: dict[str, list[str]] = {}
        for page in sorted(self.docs_dir.rglob("*.md")):
            text = page.read_text(encoding="utf-8")
            named: list[str] = []
            for found in find_fences(text):
                with contextlib.suppress(FenceError):  # reported when the page renders
                    named.extend(parse_body(found.name, found.body).paths)
            for spec in find_values(text):
                with contextlib.suppress(FenceError):
                    named.append(parse_value(spec).path)
            for path in dict.fromkeys(named):
                pages.setdefault(path, []).append(page.relative_to(self.root).as_posix())
        return pages

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, initializer=_yield_to_builder)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._close is not None:
            self._close()


def _yield_to_builder() -> None:
    """Pool threads, and the runs they start, give way to the thread rendering pages.

    Niceness is per thread in Linux and children inherit it. With as many runs
    as cores, the rendering thread used to get a fraction of a core while an
    edited snippet ran under `mkdocs serve`; now it renders at full speed.
    """
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(
            os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + RUN_NICENESS
        )


def open_project(settings: Settings) -> Project:
    """A project with the real sandbox, runner, cache and interpreter discovery."""
    sandbox = Sandbox.from_settings(settings)
    runner = Runner(sandbox)
    probe_cache = settings.results_dir / "interpreters.json"
    pythons = settings.pythons_dir
    return Project(
        settings,
        discover=lambda: discover(
            settings.pythons,
            probe_cache,
            pythons_dir=pythons,
            venvs_dir=pythons / "venvs" if pythons else None,
        ),
        run=runner,
        cache=Cache(
            settings.results_dir,
            enabled=settings.use_cache,
            engine=functools.cache(lambda: engine_digest(sandbox.describe())),
        ),
        prepare=runner.prepare,
        close=sandbox.close,
        isolation=sandbox.describe,
    )
