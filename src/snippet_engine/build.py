"""One build of the site: when it begins, what it prefetches, and how a fence's Markdown becomes HTML.

A `Build` lives as long as the process (one per set of settings, see
`shared_build`) and notices when a new build starts: the pages or snippets
changed since the last page rendered. Then it forgets failures, prefetches
every snippet the pages embed (stored results are read, missing ones start
running in parallel while pages render one by one) and rotates the fence memo.
What each fence shows is `views.Views`'s job.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading

from markdown import Markdown
from markdown_exec import base_format

from .fences import find_fences
from .interpreters import describe_key
from .memo import BuildMemo
from .project import Project, open_project
from .settings import Settings
from .views import Views

logger = logging.getLogger("mkdocs.plugins.snippet_engine")


class Build:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.settings = project.settings
        self.memo: BuildMemo[tuple[str, str, str, str], str] = BuildMemo("fence HTML")
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._announced = False
        self._lock = threading.Lock()
        self.views = Views(project)
        self._converting = threading.local()  # set while a fence's Markdown is converted

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
        """Called for every page: a changed site means a new build has begun.

        Not for the Markdown instances markdown-exec makes to convert each
        fence's own Markdown: walking the site for every fence made a build
        quadratic in the number of snippets.
        """
        if getattr(self._converting, "active", False):
            return
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

    def pages_with_text(self, text: str) -> str:
        pages = [
            p.relative_to(self.project.root).as_posix() for p in sorted(self.project.docs_dir.rglob("*.md"))
        ]
        return (
            ", ".join(p for p in pages if text in (self.project.root / p).read_text(encoding="utf-8"))
            or "a page"
        )

    def convert(self, kind: str, markdown: str, md: Markdown, prefix: str, settings: str) -> str:
        """A fence's Markdown -> HTML through the page's own extensions (tabs, admonitions, pygments).

        `settings`: what else the HTML depends on, md's extensions and their settings (fingerprint()).
        """

        def convert() -> str:
            self._converting.active = True
            try:
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
            finally:
                self._converting.active = False

        return self.memo.get((kind, prefix, markdown, settings), lambda: _searchable_once(convert()))


_SET = re.compile(
    r'<div class="tabbed-set.*?<div class="tabbed-content">(?:.(?!<div class="tabbed-set))*', re.DOTALL
)


def _searchable_once(converted: str) -> str:
    """Tab labels, and every tab but the open one, out of the search index (Material's data-search-exclude).

    Indexed, "3.12" found every tab set's glued labels, and each example turned
    up once per tab. Our fences' tab sets are never nested.
    """

    def one_set(match: re.Match[str]) -> str:
        block = match.group(0)
        radios = re.findall(r"<input[^>]*>", block.split('<div class="tabbed-labels"', 1)[0])
        selected = next((n for n, radio in enumerate(radios) if "checked" in radio), 0)
        pieces = block.split('<div class="tabbed-block">')
        marked = [pieces[0]] + [
            (
                '<div class="tabbed-block">'
                if n == selected
                else '<div class="tabbed-block" data-search-exclude="true">'
            )
            + piece
            for n, piece in enumerate(pieces[1:])
        ]
        return "".join(marked).replace(
            '<div class="tabbed-labels">', '<div class="tabbed-labels" data-search-exclude="true">'
        )

    return _SET.sub(one_set, converted)


def fingerprint(md: Markdown) -> str:
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
