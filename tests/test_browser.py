"""The built site in a real browser: Debian's Chromium driven by Playwright.

What a reader does, checked: every page loads with no console error, no
failed request and no request to another host; search answers offline; the
per-interpreter tabs switch (with the mouse and the keyboard); copy buttons
copy an example's inputs alone; the dark scheme switches on. The reading
features (the "Outputs for" control, exercises) are in test_reading_browser.py.
Screenshots of every page at 1280x800 and 390x844 go to
test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_support import ROOT, chromium, nav_pages, serve
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
)
from sites import Build

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
PAGES = nav_pages()
# A tab names the interpreters that printed the same: "CPython 3.11\u20133.14",
# "CPython 3.15, 3.13t \u00b7 PyPy 3.11", "PyPy 3.11".
GROUP_LABEL = re.compile(r"^(CPython \d[\d.t,\u2013 ]*)?( \u00b7 )?(PyPy \d[\d., ]*)?$")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


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
    """A page with an example whose outputs differ: a tab set of interpreter groups."""
    for path in PAGES:
        html = (site / path / "index.html").read_text(encoding="utf-8")
        if re.search(r'<div class="snippet"[^>]*data-tab-keys="[^"]*;', html):
            return path
    pytest.fail("no page shows per-interpreter tabs; the tab tests need one")


def test_version_tabs_switch_with_the_mouse_and_the_keyboard(
    browser: Browser, base_url: str, real_site: Build
) -> None:
    path = _page_with_version_tabs(real_site.site)
    context = browser.new_context(viewport=DESKTOP)
    page, traffic = _open(context, base_url + path)
    first = page.locator(".snippet .tabbed-set").first
    labels = first.locator(".tabbed-labels > label")
    names = [(labels.nth(i).text_content() or "").strip() for i in range(labels.count())]
    assert len(names) >= 2 and all(GROUP_LABEL.match(n) for n in names), names
    labels.nth(1).click()
    expect(first.locator(".tabbed-block").nth(1)).to_be_visible()
    expect(first.locator(".tabbed-block").nth(0)).to_be_hidden()
    # The keyboard: each set is a radio group, so an arrow key moves to the next tab.
    first.locator("input:checked").focus()
    page.keyboard.press("ArrowRight")
    expect(first.locator(".tabbed-block").nth(2 % len(names))).to_be_visible()
    context.close()
    assert traffic.errors == []


def test_copy_copies_the_inputs_without_prompts_or_outputs(
    browser: Browser, base_url: str, real_site: Build
) -> None:
    path = _page_with_version_tabs(real_site.site)
    context = browser.new_context(viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    page, _ = _open(context, base_url + path)
    snippet = page.locator(".snippet[data-copy]").filter(has=page.locator(".tabbed-set")).first
    # Material 9.8 calls it md-code__button; older releases md-clipboard.
    button = snippet.locator(".tabbed-block:visible").locator(
        ".md-clipboard, .md-code__button[data-md-type='copy']"
    )
    shown = snippet.locator(".tabbed-block:visible code").inner_text()
    button.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    inputs = snippet.get_attribute("data-copy") or ""
    context.close()
    assert copied == inputs.rstrip() and copied.strip()
    assert not [line for line in copied.splitlines() if line.startswith((">>> ", "... ", "$ "))]
    # What the block shows has prompts and outputs; the copy is its inputs alone.
    prompted = [line[4:] for line in shown.splitlines() if line.startswith((">>> ", "... "))]
    assert [line for line in copied.splitlines() if line.strip()] == [p for p in prompted if p.strip()]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_back_to_top_covers_no_tab_label(
    browser: Browser, base_url: str, real_site: Build, viewport: ViewportSize
) -> None:
    # Material's pill floated just under the header, over whatever was there:
    # often a tab set's labels. Now it sits in the bottom corner.
    path = max(PAGES, key=lambda p: (real_site.site / p / "index.html").read_text().count("tabbed-labels"))
    context = browser.new_context(viewport=viewport)
    page, _ = _open(context, base_url + path)
    labels = page.locator(".snippet .tabbed-labels").nth(2)
    labels.scroll_into_view_if_needed()
    # Labels just under the header, then a small scroll up: the button appears.
    page.evaluate("el => window.scrollBy(0, el.getBoundingClientRect().top - 80)", labels.element_handle())
    page.mouse.wheel(0, 400)
    page.wait_for_timeout(200)
    page.mouse.wheel(0, -120)
    top = page.locator(".md-top")
    expect(top).to_be_visible()
    page.wait_for_timeout(300)
    button = top.bounding_box()
    covered = page.locator(".tabbed-labels").evaluate_all(
        """(all, b) => all.map(l => l.getBoundingClientRect()).filter(r =>
             r.width && r.left < b.x + b.width && b.x < r.right && r.top < b.y + b.height && b.y < r.bottom)
           .length""",
        button,
    )
    context.close()
    assert button is not None and button["y"] > viewport["height"] / 2, button
    assert covered == 0


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
