"""What readers see: the acceptance checks of the engine, on the real built site.

Each test reads the HTML that the strict build wrote and looks at one example
the way a reader would: which tabs exist and what each shows.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys

import pytest
from conftest import found_interpreters
from sites import ROOT, Build

pytestmark = pytest.mark.slow
_FOUND = {i.key for i in found_interpreters()}


def needs(*keys: str) -> pytest.MarkDecorator:
    missing = [k for k in keys if k not in _FOUND]
    return pytest.mark.skipif(bool(missing), reason=f"needs interpreters {missing} to show the difference")


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def tabs_containing(page: str, needle: str) -> dict[str, str]:
    """Tab label -> visible text, for the first tab set whose text contains needle."""
    for chunk in page.split('<div class="tabbed-set')[1:]:
        labels = re.findall(
            r'<label for="[^"]+">([^<]+)</label>', chunk.split('<div class="tabbed-content">')[0]
        )
        blocks = chunk.split('<div class="tabbed-block">')[1 : len(labels) + 1]
        texts = [_text(b) for b in blocks]
        if any(needle in t for t in texts):
            return dict(zip(labels, texts, strict=False))
    raise AssertionError(f"no tab set shows {needle!r}")


def _last_output(text: str, source: str) -> str:
    return text.split(source, 1)[1].strip().splitlines()[0]


@needs("3.10", "3.11", "3.12", "3.13", "pypy3.9")
def test_separately_entered_1000s_are_not_identical_on_cpython_but_are_on_pypy(real_site: Build) -> None:
    tabs = tabs_containing(real_site.page("index.html"), ">>> x is y")
    for label, text in tabs.items():
        assert _last_output(text, ">>> x is y") == ("True" if label.startswith("PyPy") else "False"), label


@needs("3.11", "3.12")
def test_refcount_of_none_differs_between_311_and_312(real_site: Build) -> None:
    tabs = tabs_containing(real_site.page("memory/index.html"), "sys.getrefcount(None)")
    before, after = (_last_output(tabs[f"CPython {v}"], "sys.getrefcount(None)") for v in ("3.11", "3.12"))
    assert after == "4294967295"
    assert before.isdigit() and before != after


@needs("pypy3.9")
def test_pypy_shows_its_real_attribute_error_for_getrefcount(real_site: Build) -> None:
    tabs = tabs_containing(real_site.page("memory/index.html"), "sys.getrefcount(None)")
    assert "AttributeError: module 'sys' has no attribute 'getrefcount'" in tabs["PyPy 3.9"]


@needs("3.10", "3.11")
def test_dis_of_a_plus_b_is_binary_add_on_310_and_binary_op_from_311(real_site: Build) -> None:
    tabs = tabs_containing(real_site.page("how-python-runs/index.html"), 'dis.dis("a + b")')
    assert "BINARY_ADD" in tabs["CPython 3.10"] and "BINARY_OP" not in tabs["CPython 3.10"]
    for label, text in tabs.items():
        if label.startswith("CPython") and label != "CPython 3.10":
            assert "BINARY_OP" in text and "BINARY_ADD" not in text, label


def test_some_snippet_is_marked_the_same_on_every_version(real_site: Build) -> None:
    found = found_interpreters()
    versions = ", ".join(i.full_version for i in found if i.implementation == "cpython")
    pages = [
        real_site.page(p.relative_to(real_site.site).as_posix()) for p in real_site.site.rglob("index.html")
    ]
    assert any(f"Same output on CPython {versions}" in page for page in pages)


def test_provenance_lines_are_shown_but_kept_out_of_search(real_site: Build) -> None:
    # Every snippet has one; indexed, a search for "3.12" or "PYTHONHASHSEED"
    # would list every example instead of the prose about them (which stays).
    page = real_site.page("memory/index.html")
    assert page.count('class="snippet-meta"') >= 10
    assert "PYTHONHASHSEED=0" in page
    index = json.loads(real_site.page("search/search_index.json"))
    texts = [doc["text"] for doc in index["docs"]]
    provenance = ("PYTHONHASHSEED=0 ·", "Same output on", "Differs between interpreters", "Execution off:")
    assert texts and not [t for t in texts if any(p in t for p in provenance)]
    assert any("PYTHONHASHSEED" in t for t in texts)
    assert any("getrefcount" in t for t in texts)  # the examples themselves stay searchable


@needs("3.12", "pypy3.9")
def test_the_implementation_table_is_built_from_real_outputs(real_site: Build) -> None:
    page = real_site.page("how-python-runs/index.html")
    table = page.split('id="what-is-python-and-what-is-cpython"', 1)[1].split("</table>", 1)[0]
    header = re.findall(r"<th>([^<]*)</th>", table)
    row = next(r for r in table.split("<tr>") if "for two separately entered" in r)
    cells = [_text(c) for c in re.findall(r"<td>(.*?)</td>", row, re.DOTALL)][1:]
    by_label = dict(zip(header[1:], cells, strict=False))
    assert by_label["CPython 3.12"] == "False"
    assert by_label["PyPy 3.9"] == "True"
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


@needs("pypy3.9")
def test_hiding_pypy_reports_its_items_as_skipped_with_the_reason() -> None:
    completed = _pytest_snippets(
        [i.path for i in found_interpreters() if i.implementation == "cpython"], ci=False
    )
    assert completed.returncode == 0, completed.stdout
    assert "PyPy 3.9 not found on this machine" in completed.stdout
    assert "not found (their items were skipped):" in completed.stdout and "PyPy 3.9" in completed.stdout


def test_under_ci_a_missing_interpreter_fails_and_is_named() -> None:
    completed = _pytest_snippets(["/nonexistent/python3"], ci=True)
    assert completed.returncode == 1, completed.stdout
    assert "missing interpreters: CPython 3.10, CPython 3.11" in completed.stdout
    assert " failed" in completed.stdout and "CPython 3.12 not found on this machine" in completed.stdout
