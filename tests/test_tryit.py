"""The "Edit and run" panel in a real browser: Debian's Chromium driven by Playwright.

On one chapter page, loaded once: nothing of the interpreter is fetched before
a reader asks; after the click, a transcript edited through the panel runs in
CPython compiled to WebAssembly (Pyodide, served by the site itself) and is
echoed as CPython 3.14's REPL echoes it; Stop ends a runaway loop within a
second and the next run works in a fresh interpreter; output is capped; the
panel works by keyboard, at 390 px, in the dark scheme and across Material's
instant navigation; and every request stays on the site's own origin. The
same panel also runs under a real `mkdocs serve` of the project.

Pyodide is cold-loaded once per worker process of the suite (the page fixture
is module-scoped). Timings (click to first output, cold and warm) go to
test-artifacts/tryit-timings.json; screenshots to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import pytest
from browser_support import ROOT, chromium, serve, site_prefix
from conftest import skip_or_fail
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Worker, expect
from sites import MKDOCS, Build

pytestmark = pytest.mark.browser

ASSETS = ROOT / "docs" / "assets" / "tryit"
RUNTIME_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
ARTIFACTS = ROOT / "test-artifacts"
CHAPTER = "mutability/"  # a chapter with transcripts and a "Predict the output" exercise
LOADED = 60_000  # ms: a cold load takes a few seconds; a slow CI machine gets room
LABEL = re.compile(r"^Output: CPython 3\.14\.\d+ on WebAssembly \(32-bit\)$")
FINISHED = re.compile(r"^(Ran in|The session ended)")


@dataclass
class Session:
    """The one page the tests share, and what it asked the network for."""

    page: Page
    base: str
    requests: list[str] = field(default_factory=list)
    before_click: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    closed: dict[int, float] = field(default_factory=dict)  # id(worker): when it ended

    def started(self, worker: Worker) -> None:
        self.workers.append(worker)
        worker.on("close", lambda _: self.ended(worker))

    def ended(self, worker: Worker) -> None:
        self.closed.setdefault(id(worker), time.monotonic())

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def live(self) -> list[Worker]:
        return [w for w in self.workers if id(w) not in self.closed]

    timings: dict[str, float] = field(default_factory=dict)

    def foreign(self) -> list[str]:
        origin = urlsplit(self.base)[:2]
        return [
            u
            for u in self.requests
            if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u)[:2] != origin
        ]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # The suite's one Playwright per thread: a second sync_playwright() in the
    # same worker fails ("Sync API inside the asyncio loop").
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def session(browser: Browser, real_site: Build) -> Iterator[Session]:
    missing = [name for name in RUNTIME_FILES if not (ASSETS / name).is_file()]
    if missing:
        skip_or_fail(f"docs/assets/tryit/ lacks {', '.join(missing)}: run `make tryit-assets` (needs npm)")
    assert real_site.returncode == 0, real_site.log
    with serve(real_site.site) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="light")
        page = context.new_page()
        shared = Session(page, base)
        page.on("request", lambda request: shared.requests.append(request.url))
        page.on("console", shared.console)
        page.on("pageerror", lambda error: shared.errors.append(str(error)))
        page.on("worker", shared.started)
        page.goto(base + CHAPTER, wait_until="networkidle")
        shared.before_click = list(shared.requests)
        yield shared
        ARTIFACTS.mkdir(exist_ok=True)
        if shared.timings:
            (ARTIFACTS / "tryit-timings.json").write_text(json.dumps(shared.timings, indent=2) + "\n")
        context.close()


def _panel(session: Session) -> Locator:
    """The first transcript's panel, opened by keyboard if it is not open."""
    page = session.page
    panel = page.locator("section.tryit").first
    if not panel.count():
        opener = page.locator(".snippet .tryit-open").first
        opener.focus()
        page.keyboard.press("Enter")
        expect(panel).to_be_visible()
    return panel


def _set_inputs(panel: Locator, inputs: list[str]) -> None:
    """Edit the transcript the way a reader does: remove boxes, type, add boxes."""
    while panel.locator(".tryit-row").count() > 1:
        panel.locator(".tryit-remove").last.click()
    panel.locator("textarea").first.fill(inputs[0])
    for text in inputs[1:]:
        panel.get_by_role("button", name="Add input").click()
        area = panel.locator("textarea").last
        expect(area).to_be_focused()
        area.fill(text)


def _run(session: Session, panel: Locator, key: str | None = None) -> str:
    """Run (Ctrl+Enter in the first box) and return the echoed transcript; time the first output."""
    page = session.page
    page.evaluate(
        """(panel) => {
            const code = panel.querySelector('.tryit-output code');
            window.__tryitFirst = null;
            window.__tryitStart = performance.now();
            new MutationObserver((changes, observer) => {
                if (code.querySelector('.go, .gr')) {
                    window.__tryitFirst = performance.now() - window.__tryitStart;
                    observer.disconnect();
                }
            }).observe(code, { childList: true, subtree: true, characterData: true });
        }""",
        panel.element_handle(),
    )
    panel.locator("textarea").first.press("Control+Enter")
    expect(panel.locator(".tryit-status")).to_have_text(FINISHED, timeout=LOADED)
    first = page.evaluate("window.__tryitFirst")
    if key and first is not None:
        session.timings.setdefault(key, round(first))
    return str(panel.locator(".tryit-output code").inner_text())


def test_pyodide_is_pinned_and_the_copied_driver_is_the_engines() -> None:
    package = json.loads((ROOT / "tools" / "pyodide" / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "tools" / "pyodide" / "package-lock.json").read_text(encoding="utf-8"))
    pinned = package["dependencies"]["pyodide"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "pin an exact version"
    assert lock["packages"]["node_modules/pyodide"]["version"] == pinned
    script = (ROOT / "tools" / "pyodide" / "copy-assets.sh").read_text(encoding="utf-8")
    assert all(name in script for name in RUNTIME_FILES)
    copied = ASSETS / "_worker.py"
    if not copied.is_file():
        skip_or_fail("docs/assets/tryit/_worker.py is missing: run `make tryit-assets` (needs npm)")
    # The panel runs the engine's REPL driver itself, never a copy that drifted.
    engine = ROOT / "src" / "snippet_engine" / "_worker.py"
    assert copied.read_bytes() == engine.read_bytes(), "stale copy: run `make tryit-assets`"


def test_buttons_are_added_and_nothing_loads_before_the_click(session: Session) -> None:
    page = session.page
    openers = page.locator(".tryit-open")
    transcripts = page.locator(".snippet:has(.language-pycon .gp), .predict:has(.language-pycon .gp)")
    assert openers.count() == transcripts.count() > 5
    expect(openers.first).to_have_accessible_name("Edit and run")
    expect(openers.first).to_have_attribute("aria-expanded", "false")
    # An exercise has one too, in the provenance line after it.
    assert page.locator(".predict + .snippet-meta .tryit-open").count() >= 1
    fetched = [urlsplit(u).path.rsplit("/", 1)[-1] for u in session.before_click]
    assert not [name for name in fetched if name in (*RUNTIME_FILES, "_worker.py")], fetched
    assert not {"tryit-panel.js", "tryit-panel.css", "tryit-worker.js"} & set(fetched), fetched
    assert "tryit.js" in fetched


def test_an_edited_transcript_runs_and_echoes_as_the_314_repl(session: Session) -> None:
    page = session.page
    cold = not page.locator("section.tryit").count()
    panel = _panel(session)
    # Focus moves into the editor, on the first input.
    expect(panel.get_by_role("textbox", name="Input 1")).to_be_focused()
    _set_inputs(panel, ["x = 1000", "y = 1000", "x is y", "1; 2"])
    echoed = _run(session, panel, "cold_click_to_first_output_ms" if cold else None)
    # Each input compiled on its own (so two 1000s), and of `1; 2` only the last
    # statement's value is shown, as CPython 3.14's REPL does.
    assert echoed.rstrip("\n") == ">>> x = 1000\n>>> y = 1000\n>>> x is y\nFalse\n>>> 1; 2\n2"
    expect(panel.locator(".tryit-label")).to_have_text(LABEL)
    # Warm: the next interpreter loads while the reader reads the output.
    panel.locator("textarea").last.fill("print(6 * 7)")
    expect(panel).to_have_attribute("data-interpreter", "ready", timeout=LOADED)
    assert _run(session, panel, "warm_click_to_first_output_ms").rstrip("\n").endswith(">>> print(6 * 7)\n42")
    assert session.foreign() == [] and session.errors == []


def test_stop_ends_a_runaway_loop_within_a_second_and_the_next_run_works(session: Session) -> None:
    page = session.page
    panel = _panel(session)
    _set_inputs(panel, ["while True: pass"])
    panel.get_by_role("button", name="Run").click()
    expect(panel.locator(".tryit-status")).to_have_text("Running\u2026 (Stop ends it)", timeout=LOADED)
    page.wait_for_timeout(300)  # it is really spinning
    running = session.live()
    assert running, "no worker runs the loop"
    started = time.monotonic()
    panel.get_by_role("button", name="Stop").click()
    expect(panel.locator(".tryit-status")).to_have_text(re.compile(r"^Stopped after"), timeout=1000)
    page.wait_for_timeout(300)
    ended = [session.closed[id(w)] for w in running if id(w) in session.closed]
    # The running worker is terminated (the spare loading the next run is not).
    assert ended and min(ended) - started < 1.0, "the running worker was not terminated within a second"
    # As Ctrl+C at a prompt: the input ends in KeyboardInterrupt.
    echoed = panel.locator(".tryit-output").inner_text().rstrip()
    assert echoed.startswith(">>> while True: pass\n...\nTraceback (most recent call last):\n"), echoed
    assert echoed.endswith("\nKeyboardInterrupt"), echoed
    _set_inputs(panel, ["6 * 7"])
    assert _run(session, panel).rstrip("\n") == ">>> 6 * 7\n42"
    assert session.foreign() == [] and session.errors == []


def test_output_is_capped(session: Session) -> None:
    panel = _panel(session)
    _set_inputs(panel, ["for i in range(10**9): print('x' * 1000)", "'never reached'"])
    panel.get_by_role("button", name="Run").click()
    status = panel.locator(".tryit-status")
    expect(status).to_have_text(re.compile(r"^Stopped at 100 KB of output after"), timeout=LOADED)
    echoed = panel.locator(".tryit-output code").inner_text().rstrip("\n")
    assert echoed.endswith("\n\u2026 output cut: a run shows its first 100 KB")
    assert 100_000 < len(echoed.encode()) < 105_000
    assert "never reached" not in echoed


def test_keyboard_phone_width_dark_scheme_and_escape(session: Session) -> None:
    page = session.page
    panel = _panel(session)
    opener = page.locator(".snippet .tryit-open").first
    expect(opener).to_have_attribute("aria-expanded", "true")
    for name in ("Run", "Stop", "Add input", "Reset", "Close", "Remove input 1"):
        expect(panel.get_by_role("button", name=name)).to_have_count(1)
    panel.get_by_role("button", name="Reset").click()
    assert panel.locator("textarea").first.input_value() == "scores = [90, 85]"
    screenshots = ARTIFACTS / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    try:
        schemes: list[tuple[int, Literal["dark", "light"]]] = [(390, "dark"), (1280, "light")]
        for width, scheme in schemes:
            page.set_viewport_size({"width": width, "height": 844})
            page.emulate_media(color_scheme=scheme)  # the palette follows the system's
            expect(page.locator("body")).to_have_attribute(
                "data-md-color-scheme", "slate" if scheme == "dark" else "default"
            )
            panel.scroll_into_view_if_needed()
            assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), "the panel overflows"
            panel.screenshot(path=str(screenshots / f"tryit-panel-{width}-{scheme}.png"))
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})
        page.emulate_media(color_scheme="light")
    panel.locator("textarea").first.focus()
    page.keyboard.press("Escape")
    expect(page.locator("section.tryit")).to_have_count(0)
    expect(opener).to_be_focused()
    expect(opener).to_have_attribute("aria-expanded", "false")


def test_buttons_follow_instant_navigation_and_note_the_native_build(session: Session) -> None:
    page = session.page
    _panel(session)
    page.locator("a.md-footer__link--next").click()  # to data-types/, by instant navigation
    page.wait_for_url(re.compile(r"/data-types/(#.*)?$"))
    expect(page.locator(".tryit-open").first).to_be_visible()
    # The panel left with its page, and no worker runs for it.
    expect(page.locator("section.tryit")).to_have_count(0)
    sized = page.locator(".snippet:has(.language-pycon .gp)").filter(has_text="getsizeof").first
    sized.locator(".tryit-open").click()
    note = page.locator("section.tryit .tryit-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("Depends on the machine")
    expect(note).to_contain_text("object sizes")
    expect(note.locator(".highlight")).to_have_count(1)  # the build's own output, beside it
    page.keyboard.press("Escape")
    page.go_back()
    page.wait_for_url(re.compile(f"/{CHAPTER}(#.*)?$"))
    assert session.foreign() == [] and session.errors == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The project under `mkdocs serve`, as a maintainer runs it (live reload included)."""
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [*MKDOCS, "serve", "--dev-addr", f"127.0.0.1:{port}"],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}{site_prefix()}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base, timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"mkdocs serve did not start:\n{log.read_text()}", pytrace=False)
                time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_panel_runs_under_mkdocs_serve(browser: Browser, served: str) -> None:
    if not all((ASSETS / name).is_file() for name in RUNTIME_FILES):
        skip_or_fail("docs/assets/tryit/ is incomplete: run `make tryit-assets` (needs npm)")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        shared = Session(page, served)
        page.on("request", lambda request: shared.requests.append(request.url))
        page.on("pageerror", lambda error: shared.errors.append(str(error)))
        page.goto(served + CHAPTER, wait_until="load")
        page.locator(".snippet .tryit-open").first.click()
        panel = page.locator("section.tryit").first
        expect(panel.get_by_role("textbox", name="Input 1")).to_be_focused()
        _set_inputs(panel, ["x = 1000", "y = 1000", "x is y"])
        echoed = _run(shared, panel)
        assert echoed.rstrip("\n") == ">>> x = 1000\n>>> y = 1000\n>>> x is y\nFalse"
        expect(panel.locator(".tryit-label")).to_have_text(LABEL)
        assert shared.foreign() == [] and shared.errors == []
    finally:
        context.close()


def test_a_basic_repl_transcript_runs_in_the_basic_repl(session: Session) -> None:
    # snippets/shell/one_line_basic.pycon asks for `repl: basic`: at a 3.14 prompt
    # `1; 2` would echo only 2, in the basic REPL both values.
    page = session.page
    page.goto(session.base + "shell/", wait_until="networkidle")
    basic = page.locator('.snippet[data-repl="basic"]').filter(has_text="1; 2").first
    basic.locator(".tryit-open").click()
    panel = page.locator("section.tryit").first
    expect(panel.get_by_role("textbox", name="Input 1")).to_be_focused()
    echoed = _run(session, panel)
    assert echoed.rstrip("\n").endswith(">>> 1; 2\n1\n2"), echoed
    expect(panel.locator(".tryit-status")).to_contain_text("The same output as this page's build")
    page.keyboard.press("Escape")
    page.goto(session.base + CHAPTER, wait_until="networkidle")
    assert session.foreign() == [] and session.errors == []


def test_an_exercise_run_unedited_matches_the_reveal_for_314(session: Session) -> None:
    # The panel finds 3.14's output in the reveal by its data-keys and compares.
    page = session.page
    page.locator(".predict + .snippet-meta .tryit-open").first.click()
    panel = page.locator("section.tryit").first
    expect(panel.get_by_role("textbox", name="Input 1")).to_be_focused()
    _run(session, panel)
    expect(panel.locator(".tryit-status")).to_contain_text("The same output as this page's build")
    page.keyboard.press("Escape")
    assert session.foreign() == [] and session.errors == []
