"""`mkdocs serve` rebuilds reuse unchanged work, and never serve anything stale.

The Markdown extension keeps fence HTML, and the MkDocs plugin
(src/snippet_engine/plugin.py) compiled templates and search entries, between
builds of one process. These tests hold it to:
every reused result is byte-for-byte what a fresh `mkdocs build` makes; an
edited snippet is converted again and shows its new output; the shortcuts it
takes (a lighter page for the search indexer, the search settings
spelled out, fence ids from snippet names) change nothing a reader sees.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import subprocess
import sys
from typing import Any

import pytest
from material.plugins.search.plugin import Parser
from mkdocs.config import load_config
from mkdocs.structure.files import Files
from serve_session import digests
from sites import MKDOCS, ROOT, Build, copy_real_site

from snippet_engine.memo import BuildMemo
from snippet_engine.plugin import lighter, skip_hidden_theme_folders

pytestmark = pytest.mark.slow

EDITED = "memory/is_versus_eq.pycon"
EDITED_PAGE = "memory/index.html"
EPOCH = "1700000000"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A fresh `mkdocs build` of a copy of the site, and four serve-style builds of it in one process."""
    tmp = tmp_path_factory.mktemp("serve")
    root = copy_real_site(tmp / "site")
    cache = tmp / "cache"
    # Reuse what the suite already ran, without writing the edit's runs into the repository's cache.
    if (ROOT / ".cache" / "snippets").is_dir():
        shutil.copytree(
            ROOT / ".cache" / "snippets", cache, ignore=shutil.ignore_patterns(".tmp-*"), dirs_exist_ok=True
        )
    env = {
        **os.environ,
        "SNIPPET_ROOT": str(root),
        "SNIPPET_CACHE_DIR": str(cache),
        "SOURCE_DATE_EPOCH": EPOCH,
        "NO_MKDOCS_2_WARNING": "1",
    }
    fresh = subprocess.run(
        [*MKDOCS, "build", "--strict", "--site-dir", str(tmp / "fresh")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    served = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "serve_session.py"), str(root), str(tmp / "served"), EDITED],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert served.returncode == 0, served.stderr
    fresh_build = Build(fresh.returncode, fresh.stdout + fresh.stderr, tmp / "fresh")
    assert fresh_build.returncode == 0, fresh_build.log
    return {"fresh": digests(tmp / "fresh"), "fresh_site": tmp / "fresh", **json.loads(served.stdout)}


def _differing(left: dict[str, str], right: dict[str, str]) -> list[str]:
    return sorted(name for name in left.keys() | right.keys() if left.get(name) != right.get(name))


def test_an_unchanged_rebuild_reuses_everything_and_equals_a_fresh_build(session: dict[str, Any]) -> None:
    first, second = session["builds"][:2]
    assert _differing(first["files"], session["fresh"]) == []
    assert _differing(second["files"], session["fresh"]) == []
    reused = second["reused"]
    fences = reused["fence HTML"]
    assert fences["misses"] == 0 and fences["hits"] >= 150, fences
    assert reused["search entries"] == {"hits": 6, "misses": 0}
    assert reused["templates"]["hits"] > 0


def test_an_edited_snippet_is_rendered_again_and_nothing_else(session: dict[str, Any]) -> None:
    before, edited, restored = session["builds"][1:]
    changed = _differing(before["files"], edited["files"])
    # Its page and the search index, which holds the page's text.
    assert changed == [EDITED_PAGE, "search/search_index.json"]
    assert edited["reused"]["fence HTML"]["misses"] == 1
    assert edited["reused"]["search entries"] == {"hits": 5, "misses": 1}
    assert _differing(restored["files"], session["fresh"]) == []
    # The edited build did not use the original's HTML, so it was let go (memory
    # stays at about one build's worth) and is converted once more.
    assert restored["reused"]["fence HTML"]["misses"] == 1


def test_the_edit_shows_its_new_output_and_the_restoration_removes_it(session: dict[str, Any]) -> None:
    shown = [build["edit_shown_on"] for build in session["builds"]]
    assert shown == [[], [], [EDITED_PAGE], []]


def _sections(html: str) -> list[tuple[str, str, str | None]]:
    parser = Parser()
    parser.feed(html)
    parser.close()
    return [("".join(s.title), "".join(s.text), s.id) for s in parser.data]


def test_the_search_indexer_reads_the_same_text_without_code_spans(real_site: Build) -> None:
    pages = sorted(real_site.site.rglob("*.html"))
    assert len(pages) >= 7
    for page in pages:
        html = page.read_text(encoding="utf-8")
        light = lighter(html)
        if "<pre" in html:
            assert len(light) < len(html), page
        assert _sections(light) == _sections(html), page


def test_search_settings_are_spelled_out_so_serve_never_looks_up_defaults() -> None:
    """The search settings are the site's own (see mkdocs.yml), and all three are set.

    Left empty, the plugin compiles its translation templates on every
    `mkdocs serve` rebuild to find Material's defaults. They are not those
    defaults any more: the separator also splits dotted names, calls, file
    names and snake_case, and the pipeline drops the stop-word filter (it threw
    away "is") for the trimmer. tests/test_reading_search.py checks what the
    queries find with them.
    """
    config = load_config(config_file=str(ROOT / "mkdocs.yml"))
    search: Any = config.plugins["material/search"]
    assert search.config.lang == [search._translate(config, "search.config.lang")] == ["en"]
    assert search.config.separator and search.config.pipeline
    assert search.config.separator != search._translate(config, "search.config.separator")
    assert search.config.pipeline == ["trimmer"]
    assert "stopWordFilter" not in search.config.pipeline


def test_no_page_repeats_an_id(real_site: Build) -> None:
    # Fence ids come from snippet names now, not a process-wide counter.
    for page in sorted(real_site.site.rglob("*.html")):
        ids = re.findall(r'\sid="([^"]+)"', page.read_text(encoding="utf-8"))
        repeated = [i for i, n in collections.Counter(ids).items() if n > 1]
        assert repeated == [], page


def test_a_build_memo_keeps_only_what_the_last_build_used() -> None:
    memo: BuildMemo[str, int] = BuildMemo("test")
    calls: list[str] = []

    def compute(key: str) -> int:
        calls.append(key)
        return len(calls)

    memo.get("a", lambda: compute("a"))
    memo.get("b", lambda: compute("b"))
    memo.next_generation()
    assert memo.get("a", lambda: compute("a")) == 1  # reused
    memo.next_generation()  # "b" was not used by the build that just ended: dropped
    memo.get("b", lambda: compute("b"))
    memo.get("a", lambda: compute("a"))  # reused again
    memo.next_generation()
    memo.next_generation()  # a build that converted nothing keeps what the last one used
    memo.get("a", lambda: compute("a"))
    assert calls == ["a", "b", "b"]
    assert (memo.hits, memo.misses) == (3, 3)


def test_material_search_internal_that_the_plugin_wraps_is_still_there() -> None:
    # The plugin wraps SearchIndex.add_entry_from_context and reads `entries`;
    # if Material renames either, reuse silently stops: fail here instead.
    from material.plugins.search.plugin import SearchIndex

    index = SearchIndex()
    assert callable(index.add_entry_from_context)
    assert isinstance(index.entries, list)


def test_theme_files_are_the_same_without_walking_hidden_folders() -> None:
    config = load_config(config_file=str(ROOT / "mkdocs.yml"))
    stock_env = config.theme.get_env()
    stock = Files([])
    stock.add_files_from_theme(stock_env, config)
    skip_hidden_theme_folders(config)
    ours_env = config.theme.get_env()
    ours = Files([])
    ours.add_files_from_theme(ours_env, config)
    assert len(stock) > 20  # 43 with Material 9.8.1
    assert [f.src_uri for f in ours] == [f.src_uri for f in stock]
    assert len(ours_env.list_templates()) < len(stock_env.list_templates()) // 10
    # Templates under hidden folders still load (Material's icons).
    assert "<svg" in ours_env.get_template(".icons/material/github.svg").render()
