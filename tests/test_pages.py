"""What readers see: the acceptance checks of the engine, on the real built site.

Each test reads the HTML that the strict build wrote and looks at one example
the way a reader would: which tabs exist and what each shows.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import found_interpreters
from sites import ROOT, Build, TabSet, tab_sets, text_of

pytestmark = pytest.mark.slow
_FOUND = {i.key for i in found_interpreters()}


def needs(*keys: str) -> pytest.MarkDecorator:
    missing = [k for k in keys if k not in _FOUND]
    return pytest.mark.skipif(bool(missing), reason=f"needs interpreters {missing} to show the difference")


@pytest.fixture(scope="module")
def sets(real_site: Build) -> list[TabSet]:
    assert real_site.returncode == 0, real_site.log
    return tab_sets(real_site.site)


def outputs_containing(sets: list[TabSet], needle: str) -> dict[str, str]:
    """Interpreter key -> the text its tab shows, for the first tab set on any page showing needle.

    Tabs group interpreters that printed the same; data-tab-keys says which.
    """
    for tab_set in sets:
        texts = [text_of(block) for block in tab_set.blocks]
        if any(needle in t for t in texts):
            return {key: text for keys, text in zip(tab_set.keys, texts, strict=True) for key in keys}
    raise AssertionError(f"no tab set shows {needle!r}")


def _last_output(text: str, source: str) -> str:
    return text.split(source, 1)[1].strip().splitlines()[0]


@needs("3.11", "3.14", "3.15", "pypy3.11")
def test_separately_entered_1000s_are_not_identical_on_cpython_3_11_but_are_on_pypy(
    sets: list[TabSet],
) -> None:
    outputs = outputs_containing(sets, ">>> x is y")
    assert _last_output(outputs["3.11"], ">>> x is y") == "False"
    assert _last_output(outputs["pypy3.11"], ">>> x is y") == "True"


@needs("3.11", "3.12")
def test_refcount_of_none_differs_between_311_and_312(sets: list[TabSet]) -> None:
    outputs = outputs_containing(sets, ">>> sys.getrefcount(None)\n")
    before, after = (_last_output(outputs[v], ">>> sys.getrefcount(None)\n") for v in ("3.11", "3.12"))
    assert after == "4294967295"  # immortal (PEP 683)
    assert before != after


@needs("pypy3.11")
def test_pypy_shows_its_real_attribute_error_for_getrefcount(sets: list[TabSet]) -> None:
    outputs = outputs_containing(sets, ">>> sys.getrefcount(None)\n")
    assert "AttributeError: module 'sys' has no attribute 'getrefcount'" in outputs["pypy3.11"]


@needs("3.11", "pypy3.11")
def test_dis_of_a_plus_b_is_binary_op_on_cpython_and_binary_add_on_pypy(sets: list[TabSet]) -> None:
    outputs = outputs_containing(sets, 'dis.dis("a + b")')
    assert "BINARY_ADD" in outputs["pypy3.11"] and "BINARY_OP" not in outputs["pypy3.11"]
    for key, text in outputs.items():
        if not key.startswith("pypy"):
            assert "BINARY_OP" in text and "BINARY_ADD" not in text, key


def test_some_snippet_shows_one_block_for_every_interpreter(real_site: Build) -> None:
    found = found_interpreters()
    keys = " ".join(i.key for i in found)
    versions = ", ".join(i.full_version for i in found if i.implementation == "cpython")
    pages = [p.read_text(encoding="utf-8") for p in real_site.site.rglob("index.html")]
    same = [
        chunk
        for page in pages
        for chunk in page.split('<div class="snippet"')[1:]
        if f'data-tab-keys="{keys}"' in chunk.split(">", 1)[0]
    ]
    assert same, "no example printed the same on every interpreter"
    meta = same[0].split('<div class="snippet-meta"', 1)[1].split("</div>", 1)[0]
    assert '<div class="tabbed-set' not in same[0].split('<div class="snippet-meta"', 1)[0]
    assert "outputs differ" not in meta and f"CPython {versions}" in meta


def test_provenance_lines_are_shown_but_kept_out_of_search(real_site: Build) -> None:
    # Every snippet has one; indexed, a search for "3.12" or "PYTHONHASHSEED"
    # would list every example instead of the prose about them (which stays).
    page = real_site.page("memory/index.html")
    assert page.count('class="snippet-meta"') >= 10
    assert "Hash seed 0 (PYTHONHASHSEED)" in page
    index = json.loads(real_site.page("search/search_index.json"))
    texts = [doc["text"] for doc in index["docs"]]
    provenance = ("Exact versions:", "Hash seed 0", "outputs differ (highlighted)", "Execution off:")
    assert texts and not [t for t in texts if any(p in t for p in provenance)]
    assert any("PYTHONHASHSEED" in t for t in texts)  # the home page explains it, once
    assert any("getrefcount" in t for t in texts)  # the examples themselves stay searchable


@needs("3.12", "pypy3.11")
def test_the_implementation_table_is_built_from_real_outputs(real_site: Build) -> None:
    page = real_site.page("how-python-runs/index.html")
    table = next(t for t in page.split("<table>")[1:] if "What we asked" in t).split("</table>", 1)[0]
    header = [text_of(h) for h in re.findall(r"<th>(.*?)</th>", table)]
    row = next(r for r in table.split("<tr>") if "1000" in r)
    cells = [text_of(c) for c in re.findall(r"<td>(.*?)</td>", row, re.DOTALL)][1:]
    by_label = dict(zip(header[1:], cells, strict=False))
    assert by_label["CPython 3.12"] == "False"
    assert by_label["PyPy 3.11"] == "True"
    # A cell that differs from the newest CPython's is marked.
    assert 'class="snippet-differs"' in table
    assert "Generated at build time from snippets/" in page


def test_the_build_names_the_interpreters_it_used(real_site: Build) -> None:
    assert "snippet engine: running snippets on CPython" in real_site.log
    assert "not available:" in real_site.log


def _pytest_snippets(pythons: list[str], *, ci: bool) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_snippets.py",
            "-k",
            "reading_the_examples or present",
            "-rs",
            "-p",
            "no:cacheprovider",
            "-n0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "SNIPPET_PYTHONS": os.pathsep.join(pythons), "CI": "true" if ci else ""},
        check=False,
    )


@needs("pypy3.11")
def test_hiding_pypy_reports_its_items_as_skipped_with_the_reason() -> None:
    completed = _pytest_snippets(
        [i.path for i in found_interpreters() if i.implementation == "cpython"], ci=False
    )
    assert completed.returncode == 0, completed.stdout
    assert "PyPy 3.11 not found on this machine" in completed.stdout
    assert "not found (their items were skipped):" in completed.stdout and "PyPy 3.11" in completed.stdout


def test_under_ci_a_missing_interpreter_fails_and_is_named() -> None:
    completed = _pytest_snippets(["/nonexistent/python3"], ci=True)
    assert completed.returncode == 1, completed.stdout
    assert "missing interpreters: CPython 3.11, CPython 3.12" in completed.stdout
    assert " failed" in completed.stdout and "CPython 3.13 not found on this machine" in completed.stdout
