"""One build of the site: which snippets a fence shows, run or recorded, and what is wrong with them.

A `Build` lives as long as the process (one per set of settings, see
`shared_build`) and notices when a new build starts: the pages or snippets
changed since the last page rendered. Then it forgets failures, prefetches
every snippet the pages embed (stored results are read, missing ones start
running in parallel while pages render one by one) and rotates the fence memo.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence

from markdown import Markdown
from markdown_exec import base_format

from .check import problems
from .fences import Fence, find_fences
from .header import SnippetError
from .interpreters import describe_key, supported_keys
from .kinds import HASH_SEED
from .memo import BuildMemo
from .project import Project, open_project
from .render import META as _META
from .render import (
    Column,
    cell,
    columns_of,
    failure,
    interpreters_table,
    provenance,
    recorded_meta,
    table,
    transcript,
)
from .settings import Settings
from .snippet import Snippet

logger = logging.getLogger("mkdocs.plugins.snippet_engine")


class Build:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.settings = project.settings
        self.memo: BuildMemo[tuple[str, str, str, str], str] = BuildMemo("fence HTML")
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._announced = False
        self._lock = threading.Lock()

    def _current_signature(self) -> tuple[tuple[str, int, int], ...]:
        found = []
        for base in (self.project.docs_dir, self.project.snippets_dir):
            for folder, _, files in os.walk(base):
                for name in files:
                    path = os.path.join(folder, name)
                    try:
                        status = os.stat(path)
                    except OSError:
                        continue
                    found.append((path, status.st_mtime_ns, status.st_size))
        return tuple(sorted(found))

    def begin_page(self) -> None:
        """Called for every page: a changed site means a new build has begun."""
        signature = self._current_signature()
        with self._lock:
            if signature == self._signature:
                return
            self._signature = signature
            self.memo.next_generation()
            if not self.settings.execute:
                return
            if not self._announced:
                self._announced = True
                self._announce()
            self.project.prefetch(sorted(self.project.embedded()))

    def _announce(self) -> None:
        discovery = self.project.discovery
        used = ", ".join(f"{i.exact_label} ({i.path})" for i in discovery.found) or "none"
        missing = ", ".join(describe_key(k) for k in discovery.missing()) or "none"
        logger.info("snippet engine: running snippets on %s; not available: %s", used, missing)
        logger.info("snippet engine: sandbox: %s", self.project.isolation())

    def pages_with(self, name: str, body: str) -> str:
        """The pages holding a fence with this body: a bad fence names no snippet to look pages up by."""
        pages = []
        for page in sorted(self.project.docs_dir.rglob("*.md")):
            fences = find_fences(page.read_text(encoding="utf-8"))
            if any(f.name == name and f.body.strip() == body.strip() for f in fences):
                pages.append(page.relative_to(self.project.root).as_posix())
        return ", ".join(pages) or "a page not under docs/"

    def pages_embedding(self, relatives: Sequence[str]) -> str:
        embedded = self.project.embedded()
        pages = sorted({page for relative in relatives for page in embedded.get(relative, [])})
        return ", ".join(pages) or "a page not under docs/"

    def render(self, fence: Fence, title: str | None) -> tuple[str, list[str]]:
        """The fence's Markdown, and every problem with what it shows (empty when all is well)."""
        if fence.name == "interpreters":
            return interpreters_table(self.project.discovery if self.settings.execute else None), []
        if fence.name == "snippet":
            return self._snippet(fence.paths[0], title)
        return self._table(fence)

    def _snippet(self, relative: str, title: str | None) -> tuple[str, list[str]]:
        try:
            snippet = self.project.load(relative)
        except (OSError, SnippetError) as error:
            return failure(str(error)), self._located([str(error)], [relative])
        if not self.settings.execute:
            return transcript(snippet, recorded_columns(snippet), title, recorded_meta(snippet)), []
        selection = self.project.select(snippet)
        if not selection.run_on:
            reasons = "; ".join(f"{describe_key(k)}: {why}" for k, why in selection.skipped)
            found = [f"{snippet.display_path}: no interpreter to run it on ({reasons})"]
            return failure("\n".join(found)), self._located(found, [relative])
        results = self.project.results(snippet)
        columns = columns_of([(r.interpreter, [s.output for s in r.steps]) for r in results])
        same = len({column.outputs for column in columns}) == 1
        meta = provenance(snippet, selection.run_on, same, selection.missing, HASH_SEED)
        body = transcript(snippet, columns, title, meta)
        found = [p for r in results for p in problems(snippet, r)]
        if found:
            return failure("\n".join(found), [body]), self._located(found, [relative])
        return body, []

    def _table(self, fence: Fence) -> tuple[str, list[str]]:
        rows, found, interpreters, snippets = [], [], {}, []
        for label, relative in fence.rows:
            try:
                snippet = self.project.load(relative)
            except (OSError, SnippetError) as error:
                found.append(str(error))
                continue
            snippets.append(snippet)
            if not self.settings.execute:
                by_key = {c.label: c.outputs[-1] for c in recorded_columns(snippet)}
                rows.append((label, by_key))
                continue
            by_key = {}
            for result in self.project.results(snippet):
                interpreters[result.key] = result.interpreter
                by_key[result.key] = result.steps[-1].output if result.steps else ""
                found.extend(problems(snippet, result))
            rows.append((label, by_key))
        if not self.settings.execute:
            markdown = _recorded_table(rows, snippets)
        else:
            order = supported_keys()
            columns = sorted(interpreters.values(), key=lambda i: order.index(i.key))
            sources = ", ".join(s.display_path for s in snippets)
            ran = ", ".join(i.exact_label for i in columns)
            meta = f"{_META}Generated at build time from {sources} · ran on {ran}</p>"
            markdown = table(rows, columns, meta)
        if found:
            return failure("\n".join(found), [markdown]), self._located(found, fence.paths)
        return markdown, []

    def _located(self, found: list[str], relatives: Sequence[str]) -> list[str]:
        return [f"in {self.pages_embedding(relatives)}:", *found]

    def convert(self, kind: str, markdown: str, md: Markdown, prefix: str) -> str:
        """A fence's Markdown -> HTML through the page's own extensions (tabs, admonitions, pygments)."""

        def convert() -> str:
            return str(
                base_format(
                    language=kind,
                    run=lambda code, **_: markdown,
                    code=prefix,
                    md=md,
                    update_toc=False,
                    id_prefix=prefix,
                )
            )

        return self.memo.get((kind, prefix, markdown, _fingerprint(md)), convert)


def recorded_columns(snippet: Snippet) -> list[Column]:
    """Execution off: one column per interpreter the records name, built from the file alone."""
    labelled = {label for step in snippet.steps for v in step.expected for label in (v.labels or ())}
    keys = [k for k in supported_keys() if k in labelled] or [supported_keys()[0]]
    return [
        Column(describe_key(key), tuple(step.expected_for(key)[0] or "" for step in snippet.steps))
        for key in keys
    ]


def _recorded_table(rows: list[tuple[str, dict[str, str]]], snippets: list[Snippet]) -> str:
    labels = [c.label for s in snippets for c in recorded_columns(s)]
    ordered = list(dict.fromkeys(labels))
    lines = ["| What we asked | " + " | ".join(ordered) + " |", "|---|" + "---|" * len(ordered)]
    for label, by_label in rows:
        lines.append(f"| {label} | " + " | ".join(cell(by_label.get(k, "")) for k in ordered) + " |")
    sources = ", ".join(s.display_path for s in snippets)
    return "\n".join(lines) + f"\n\n{_META}Execution off: recorded outputs · {sources}</p>"


def _fingerprint(md: Markdown) -> str:
    """What a fence's HTML depends on besides its Markdown: the page's extensions and their settings."""
    described = [
        (type(e).__qualname__, sorted(e.getConfigs().items(), key=str)) for e in md.registeredExtensions
    ]
    return hashlib.sha256(repr((md.output_format, md.tab_length, described)).encode()).hexdigest()


_builds: dict[Settings, Build] = {}
_builds_lock = threading.Lock()


def shared_build(settings: Settings | None = None) -> Build:
    """The process's build for these settings (from the environment by default), made on first use."""
    settings = settings or Settings.from_environ()
    with _builds_lock:
        build = _builds.get(settings)
        if build is None:
            build = _builds[settings] = Build(open_project(settings))
        return build
