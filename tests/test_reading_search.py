"""Search finds what a reader types: Material's search box on the built site, in Chromium.

Each query must put the right section first. The chapters are rewritten
often, so a section is recognised by its page and what its heading or its
text says, never by its exact wording. When a query stops finding its
section, the fix is usually a word in the chapter (see the assertion message).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from browser_support import chromium, serve, site_prefix
from mkdocs.config import load_config
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sites import ROOT, Build

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _separator() -> re.Pattern[str]:
    search: Any = load_config(config_file=str(ROOT / "mkdocs.yml")).plugins["material/search"]
    return re.compile(search.config.separator)


def words(text: str) -> list[str]:
    """How the search splits text into words (Python's re reads this pattern as JavaScript does)."""
    return [w.lower() for w in _separator().split(text) if w]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sys.getrefcount(None)", ["sys", "getrefcount", "none"]),
        ("hello.cpython-312.pyc in __pycache__/", ["hello", "cpython", "312", "pyc", "in", "pycache"]),
        ("Python 3.12 and 3.13.", ["python", "3.12", "and", "3.13"]),
        ("co_varnames: TypeError", ["co", "varnames", "type", "error"]),
        ("PyPy and CPython", ["pypy", "and", "cpython"]),
        ("x is y", ["x", "is", "y"]),
    ],
)
def test_the_separator_splits_names_as_readers_type_them(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@dataclass(frozen=True)
class Hit:
    page: str  # the page's path under the site, "memory/"
    anchor: str  # the section's id; "" for the page itself
    heading: str


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def search(browser: Browser, real_site: Build) -> Iterator[Page]:
    assert real_site.returncode == 0, real_site.log
    with serve(real_site.site) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(url, wait_until="networkidle")
        yield page
        context.close()


def first_hit(page: Page, query: str) -> Hit | None:
    """The best section for `query`: the first section of the first result (its page comes first)."""
    box = page.locator("input.md-search__input")
    box.click()
    box.fill("")
    # Material listens to keystrokes: type the query as a reader does.
    box.press_sequentially(query)
    # Results carry the query in their links (?h=...): wait for this query's, not the last one's.
    # "No matching documents" proves nothing while the query is still being typed (a prefix
    # such as "p" can match nothing), so only a wait that runs out means nothing was found.
    try:
        page.wait_for_function(
            """q => document.querySelector(`.md-search-result__item a[href*="h=${q}#"]`)""",
            arg=quote(query),
            timeout=10_000,
        )
    except PlaywrightTimeoutError:
        return None
    links = page.locator(".md-search-result__item").first.locator("a.md-search-result__link")
    if not links.count():
        return None
    sections = [link for link in links.all() if "#" in (link.get_attribute("href") or "")]
    best = sections[0] if sections else links.first
    return _hit(best.get_attribute("href") or "", best.locator("h1, h2").first.inner_text())


def _hit(href: str, heading: str) -> Hit:
    parts = urlsplit(href)
    page = parts.path.split(site_prefix(), 1)[-1]
    return Hit(page, parts.fragment, heading.strip())


def section_text(site: Path, hit: Hit, *, prose_only: bool = False) -> str:
    """The section's text in the built page: from its heading to the next heading of any level."""
    page = (site / hit.page / "index.html").read_text(encoding="utf-8")
    start = page.index(f'id="{hit.anchor}"') if hit.anchor else page.index("<h1")
    body = re.split(r"<h[1-6][ >]", page[start:].split(">", 1)[1], maxsplit=1)[0]
    if prose_only:
        # Not the examples, their tab labels and provenance lines, or tables of outputs.
        for element in (r"<pre\b.*?</pre>", r"<table\b.*?</table>", r'<div class="tabbed-labels.*?</div>'):
            body = re.sub(element, " ", body, flags=re.S)
        body = re.sub(r'<div class="snippet-meta".*?</div>', " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_refcount_finds_the_section_on_reference_counting(search: Page) -> None:
    hit = first_hit(search, "refcount")
    assert hit is not None, "nothing found: the reference-counting section needs the word 'refcount'"
    assert hit.page == "memory/", hit
    assert re.search(r"reference.count", hit.heading, re.I), (
        f"{hit}: the memory chapter's reference-counting section needs the word 'refcount' in its prose"
    )


def test_getrefcount_finds_the_section_that_uses_it(search: Page, real_site: Build) -> None:
    hit = first_hit(search, "getrefcount")
    assert hit is not None, "nothing found"
    assert hit.page == "memory/", hit
    assert "sys.getrefcount" in section_text(real_site.site, hit), hit


def test_pyc_finds_pyc_files_and_pycache(search: Page) -> None:
    hit = first_hit(search, "pyc")
    assert hit is not None, "nothing found"
    assert hit.page == "how-python-runs/", hit
    assert ".pyc" in hit.heading and "__pycache__" in hit.heading, hit


def test_a_version_finds_prose_about_it(search: Page, real_site: Build) -> None:
    # Tab labels and provenance lines are out of the index: what is left is text about 3.12.
    hit = first_hit(search, "3.12")
    assert hit is not None, "nothing found"
    assert "3.12" in section_text(real_site.site, hit, prose_only=True), hit


@pytest.mark.parametrize("query", ["is", "identity"])
def test_is_and_identity_find_the_sections_on_identity(search: Page, query: str) -> None:
    hit = first_hit(search, query)
    assert hit is not None, "nothing found"
    about_identity = re.search(r"\bidentity\b|^is\b|\bis versus\b|\band is$", hit.heading, re.I)
    # "is" is in most sections; the heading of the one about the operator must
    # say it more often than headings that use it as a verb ("What is Python").
    assert about_identity, f"{hit} comes first"
