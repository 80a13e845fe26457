"""MkDocs plugin `snippet-engine`: what only MkDocs needs for fast `mkdocs serve` rebuilds.

Everything a build needs lives in the Markdown extension (`extension`), so
MkDocs and Zensical behave the same. This plugin adds what is MkDocs-specific,
each kept across the rebuilds of one `mkdocs serve` process and keyed so that
a changed input can never be served stale:

* theme templates: Jinja's own `BytecodeCache` hook, keyed by Jinja on the
  template's name and a checksum of its source (serve reloads the
  configuration, so the theme's templates were compiled afresh every time);
* search entries: Material's indexer is still what makes them, but a page whose
  HTML, title, table of contents and metadata are unchanged reuses its entries
  (this wraps `SearchIndex.add_entry_from_context`, an internal of Material:
  tests/test_serve_speed.py fails when it changes);
* theme files are listed without walking hidden folders (Material's 14,348
  icons, which MkDocs would filter out anyway);
* after serve's first build, each interpreter's first-run work is done in the
  background, so the first snippet edited does not wait for it.

A plain `mkdocs build` does each conversion once, so it gains nothing and
produces the same bytes (tests/test_serve_speed.py builds twice and compares).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable
from typing import Any

import jinja2
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink

from .build import shared_build
from .memo import BuildMemo

log = logging.getLogger("mkdocs.plugins.snippet_engine")


class _TemplateBytecode(jinja2.BytecodeCache):
    """Compiled theme templates, in memory for the life of the process."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}
        self.loads = 0

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            # Jinja checks the source checksum stored with the code and
            # recompiles by itself if the template changed.
            bucket.bytecode_from_string(data)
            self.loads += 1

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


class _SkipsHiddenFolders(jinja2.FileSystemLoader):
    """Jinja's file loader, listing templates without walking folders whose names start with a dot.

    MkDocs lists every theme file on each build to copy the static ones, then
    drops any path with a component starting with "." (its patterns `.*` and
    `*/.*`). Material's templates hold 14,348 icons under `.icons/`: walking
    and filtering them was 0.1-0.2 s of every rebuild, for nothing. Loading a
    template (`.icons/...` included) is unchanged; the static files MkDocs
    copies are the same (tests/test_serve_speed.py compares both lists).
    """

    def list_templates(self) -> list[str]:
        found: set[str] = set()
        for searchpath in self.searchpath:
            for directory, folders, names in os.walk(searchpath, followlinks=self.followlinks):
                folders[:] = [folder for folder in folders if not folder.startswith(".")]
                relative = os.path.relpath(directory, searchpath)
                prefix = "" if relative == os.curdir else relative.replace(os.sep, "/") + "/"
                found.update(prefix + name for name in names)
        return sorted(found)


def skip_hidden_theme_folders(config: MkDocsConfig) -> None:
    theme: Any = config.theme
    make_env = theme.get_env

    def get_env() -> jinja2.Environment:
        env: jinja2.Environment = make_env()
        loader = env.loader
        if type(loader) is jinja2.FileSystemLoader:  # anything else: leave it alone
            env.loader = _SkipsHiddenFolders(loader.searchpath, loader.encoding, loader.followlinks)
        return env

    theme.get_env = get_env


def _toc(links: list[AnchorLink]) -> list[Any]:
    return [[link.id, link.url, link.title, link.level, _toc(link.children)] for link in links]


def _search_key(page: Page) -> str:
    described = json.dumps(
        [page.url, page.title, page.meta, _toc(list(page.toc)), page.content],
        default=str,
        sort_keys=True,
    )
    return hashlib.sha256(described.encode()).hexdigest()


_PRE = re.compile(r"<pre\b.*?</pre>", re.DOTALL)
_SPAN = re.compile(r"</?span\b[^>]*>")


def lighter(content: str) -> str:
    """The page as Material's search indexer reads it, without pygments' token spans in code blocks.

    A page is mostly highlighted transcripts, one span per token: parsing them
    was most of the indexing time. Inside <pre> the indexer keeps text as is and
    ignores <span> itself, so dropping the tags leaves every entry unchanged
    (tests/test_serve_speed.py compares all pages both ways).
    """

    def strip(match: re.Match[str]) -> str:
        block = match.group(0)
        return block if "data-search" in block else _SPAN.sub("", block)

    return _PRE.sub(strip, content)


class _NoOptions(Config):  # type: ignore[no-untyped-call]
    """The plugin takes no options: it only remembers, never changes what a build makes."""


class SnippetEnginePlugin(BasePlugin[_NoOptions]):  # type: ignore[no-untyped-call]
    command = ""  # "serve", "build" or "gh-deploy", from on_startup

    def __init__(self) -> None:
        super().__init__()
        self.templates = _TemplateBytecode()
        self.search_entries: BuildMemo[str, list[dict[str, Any]]] = BuildMemo("search entries")

    # Defining on_startup keeps one instance for a whole `mkdocs serve` session.
    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.command = command

    # After Material's search plugin (priority 0) has created this build's index.
    @event_priority(-100)
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.search_entries.next_generation()
        self._remember_search_entries(config)
        skip_hidden_theme_folders(config)
        return config

    def on_env(self, env: jinja2.Environment, /, *, config: MkDocsConfig, files: Files) -> jinja2.Environment:
        env.bytecode_cache = self.templates
        return env

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        build = shared_build()
        if self.command == "serve" and build.settings.execute:
            build.project.prepare()
        log.debug(
            "snippet engine: reused %s",
            ", ".join(f"{m.hits}/{m.hits + m.misses} {m.name}" for m in (build.memo, self.search_entries)),
        )

    def _remember_search_entries(self, config: MkDocsConfig) -> None:
        search = config.plugins.get("material/search") or config.plugins.get("search")
        index = getattr(search, "search_index", None)
        original: Callable[[Page], None] | None = getattr(index, "add_entry_from_context", None)
        entries = getattr(index, "entries", None)
        if original is None or not isinstance(entries, list):
            # Another search plugin, or Material changed: index every page as usual.
            log.debug("snippet engine: search entries are not reused (no Material search index)")
            return

        def add_entry_from_context(page: Page) -> None:
            def index_page() -> list[dict[str, Any]]:
                before, content = len(entries), page.content
                page.content = lighter(content) if content else content
                try:
                    original(page)
                finally:
                    page.content = content
                return copy.deepcopy(entries[before:])

            before = len(entries)
            made = self.search_entries.get(_search_key(page), index_page)
            if len(entries) == before:  # reused: add what the indexer made last time
                entries.extend(copy.deepcopy(made))

        index.add_entry_from_context = add_entry_from_context  # type: ignore[union-attr]
