"""The built site in a real browser: Debian's Chromium driven by Playwright.

What a reader does, checked: every page loads with no console error, no
failed request and no request to another host; search answers offline; the
per-interpreter tabs switch (with the mouse and the keyboard) and stay linked
across tab sets and pages; copy buttons copy; the dark scheme switches on.
Screenshots of every page at 1280x800 and 390x844 go to
test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_support import CHROMIUM_ARGS, ROOT, find_chromium, nav_pages, serve
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Request,
    Response,
    ViewportSize,
    expect,
    sync_playwright,
)
from sites import Build

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
PAGES = nav_pages()
VERSION_LABEL = re.compile(r"^(CPython|PyPy) \d+\.\d+$")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable, reason = find_chromium()
    if executable is None:
        # On CI a missing browser is a broken setup, not a reason to pass.
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def base_url(real_site: Build) -> Iterator[str]:
    assert real_site.returncode == 0, real_site.log
    with serve(real_site.site) as url:
        yield url


@dataclass
class Traffic:
    """Everything a page asked for, and everything that went wrong."""

    requests: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("request", self._request)
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _failed(self, request: Request) -> None:
        self.failures.append(f"{request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.failures.append(f"{response.url}: HTTP {response.status}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _page_error(self, error: Error) -> None:
        self.errors.append(str(error))

    def external(self) -> list[str]:
        # data: and blob: URLs have no host; anything with a host must be ours.
        return [u for u in self.requests if urlsplit(u).hostname not in (None, "", "127.0.0.1")]


def _open(context: BrowserContext, url: str) -> tuple[Page, Traffic]:
    page, traffic = context.new_page(), Traffic()
    traffic.watch(page)
    page.goto(url, wait_until="networkidle")
    return page, traffic


def _shot_name(path: str, viewport: ViewportSize) -> Path:
    stem = path.strip("/").replace("/", "_") or "home"
    return SCREENSHOTS / f"{stem}-{viewport['width']}x{viewport['height']}.png"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.strip("/") or "home")
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_page_loads_cleanly(browser: Browser, base_url: str, path: str, viewport: ViewportSize) -> None:
    context = browser.new_context(viewport=viewport, color_scheme="light")
    page, traffic = _open(context, base_url + path)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # The site lets the browser skip rendering code blocks far off screen
    # (content-visibility, extra.css); a full-page shot would show them blank.
    page.add_style_tag(content="* { content-visibility: visible !important; }")
    page.screenshot(path=_shot_name(path, viewport), full_page=True)
    # Wider than the screen means sideways scrolling for the whole page on a
    # phone; code blocks and tables scroll inside themselves instead.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    context.close()
    assert traffic.external() == [], "requests to another host"
    assert traffic.failures == [], "failed requests"
    assert traffic.errors == [], "console errors"
    assert overflow <= 0, f"the page is {overflow}px wider than a {viewport['width']}px screen"


def test_missing_page_gets_the_404_page(browser: Browser, base_url: str) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    traffic = Traffic()
    traffic.watch(page)
    response = page.goto(base_url + "no/such/page/", wait_until="networkidle")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    # Its links are absolute, so they work from any depth: follow the first.
    page.locator("article a").first.click()
    page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == urlsplit(base_url).path
    context.close()
    # Only the missing page itself may fail; its styles and scripts must load.
    assert [f for f in traffic.failures if "/no/such/page/" not in f] == []
    assert traffic.external() == []


def test_search_finds_a_term_offline(browser: Browser, base_url: str) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page, traffic = _open(context, base_url)
    # The index and the search worker came with the page; nothing else may be needed.
    context.set_offline(True)
    box = page.locator("input.md-search__input")
    box.click()
    box.press_sequentially("interpreter")
    results = page.locator(".md-search-result__item")
    expect(results.first).to_be_visible(timeout=10_000)
    assert results.first.locator("a").first.get_attribute("href")
    context.close()
    assert traffic.external() == [] and traffic.errors == []


def _page_with_version_tabs(site: Path) -> str:
    """A page with at least two tab sets of interpreter versions (linked tabs need two)."""
    for path in PAGES:
        html = (site / path / "index.html").read_text(encoding="utf-8")
        if html.count('class="tabbed-set') >= 2 and re.search(r">CPython 3\.\d+</", html):
            return path
    pytest.fail("no page shows per-interpreter tabs; the tab tests need one")


def test_version_tabs_switch_and_stay_linked(browser: Browser, base_url: str, real_site: Build) -> None:
    path = _page_with_version_tabs(real_site.site)
    context = browser.new_context(viewport=DESKTOP)
    page, _ = _open(context, base_url + path)
    sets = page.locator(".tabbed-set").filter(
        has=page.locator(".tabbed-labels label", has_text=VERSION_LABEL)
    )
    first = sets.first
    labels = first.locator(".tabbed-labels > label")
    assert labels.count() >= 2
    names = [(labels.nth(i).text_content() or "").strip() for i in range(labels.count())]
    assert all(VERSION_LABEL.match(n) for n in names), names
    target = names[1]
    labels.nth(1).click()
    expect(first.locator(".tabbed-block").nth(1)).to_be_visible()
    expect(first.locator(".tabbed-block").nth(0)).to_be_hidden()

    # content.tabs.link: every other set with that label shows it too.
    linked = 0
    for i in range(1, sets.count()):
        other = sets.nth(i)
        other_names = [t.strip() for t in other.locator(".tabbed-labels > label").all_text_contents()]
        if target in other_names:
            expect(other.locator(".tabbed-block").nth(other_names.index(target))).to_be_visible()
            linked += 1
    assert linked, f"no other tab set on {path or 'the home page'} has a {target} tab"

    # The keyboard: each set is a radio group, so an arrow key moves to the next tab.
    first.locator("input:checked").focus()
    page.keyboard.press("ArrowRight")
    expect(first.locator(".tabbed-block").nth(2 % len(names))).to_be_visible()

    # And the choice follows the reader to the next page that has the same tab.
    chosen = names[2 % len(names)]
    for other_path in [p for p in PAGES if p != path]:
        page.goto(base_url + other_path, wait_until="networkidle")
        elsewhere = page.locator(".tabbed-set").filter(has=page.locator("label", has_text=chosen))
        if elsewhere.count():
            tab_names = [
                t.strip() for t in elsewhere.first.locator(".tabbed-labels > label").all_text_contents()
            ]
            expect(elsewhere.first.locator(".tabbed-block").nth(tab_names.index(chosen))).to_be_visible()
            break
    else:
        pytest.fail(f"no other page has a {chosen} tab to follow the choice to")
    context.close()


def test_copy_button_copies_the_code(browser: Browser, base_url: str, real_site: Build) -> None:
    path = _page_with_version_tabs(real_site.site)
    context = browser.new_context(viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    page, _ = _open(context, base_url + path)
    # Material 9.8 calls it md-code__button; older releases md-clipboard.
    button = page.locator(".md-clipboard, .md-code__button[data-md-type='copy']").first
    block = page.locator(".highlight").filter(has=button).first
    button.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    expected = block.locator("code").inner_text()
    context.close()
    assert copied.strip() and copied.split() == expected.split()


def test_dark_scheme_toggles(browser: Browser, base_url: str) -> None:
    context = browser.new_context(viewport=DESKTOP, color_scheme="light")
    page, traffic = _open(context, base_url)
    body = page.locator("body")
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    # The toggle cycles system -> light -> dark; only the current one is visible.
    for _ in range(3):
        if body.get_attribute("data-md-color-scheme") == "slate":
            break
        page.locator("form[data-md-component='palette'] label:visible").click()
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    # The choice is remembered on the next page.
    page.goto(base_url + PAGES[-1], wait_until="networkidle")
    expect(page.locator("body")).to_have_attribute("data-md-color-scheme", "slate")
    context.close()
    assert traffic.errors == []
