"""Reading the examples in a real browser: the "Outputs for" control, copy, exercises.

A small site of its own, with the real theme, templates, scripts and styles,
whose examples are chosen to need each case: one output per version, one
shared by every interpreter, one that ran on 3.14 and 3.15 only inside a
collapsed <details>, and a "Predict the output" exercise. Its outputs are
recorded here and produced by the interpreters at build time, as on the site.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import ROOT, chromium, serve
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, expect
from sites import build_mini_site

from snippet_engine.interpreters import supported_keys

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CPYTHONS = [k for k in supported_keys() if k[0].isdigit() and not k.endswith("t")]
NEWEST = CPYTHONS[-1]

# One tab per version (3.13t prints what 3.13 does): CPython only.
VERSION = ">>> import sys\n>>> sys.version_info[:2]\n" + "".join(
    f"#[{key}{' 3.13t' if key == '3.13' else ''}]\n({key.replace('.', ', ')})\n" for key in CPYTHONS
)
# Run on the two newest versions only: the others fall back to the nearest.
NEWER = (
    f"#| versions: {CPYTHONS[-2]}+\n#| why: a tab set without the older versions\n"
    + ">>> import sys\n>>> sys.version_info[:2]\n"
    + "".join(f"#[{key}]\n({key.replace('.', ', ')})\n" for key in CPYTHONS[-2:])
)
WHICH = (
    "#| implementations: cpython pypy\n>>> import sys\n>>> sys.implementation.name\n"
    f"#[{' '.join(k for k in supported_keys() if not k.startswith('pypy'))}]\n'cpython'\n"
    "#[pypy3.11]\n'pypy'\n"
)
COPY = '>>> words = ["tab", "set"]\n>>> for word in words:\n...     print(word.upper())\n...\nTAB\nSET\n'
COPY += ">>> len(words)\n2\n"

PAGE = """# Reading

```snippet
reading/version.pycon
```

```snippet
reading/which.pycon
```

??? note "Only the newest"

    ```snippet
    reading/newer.pycon
    ```

```predict
reading/which.pycon
choices: 'python'
why: Each implementation names itself.
```

```snippet
reading/copy.pycon
```

[The other page](other.md)
"""
OTHER = "# Other\n\n```snippet\nreading/version.pycon\n```\n\n```snippet\nreading/which.pycon\n```\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("reading")
    snippets = {
        "reading/version.pycon": VERSION,
        "reading/newer.pycon": NEWER,
        "reading/which.pycon": WHICH,
        "reading/copy.pycon": COPY,
    }
    # The theme's own files live under docs/: scripts, styles, logo.
    for folder in ("javascripts", "stylesheets", "assets"):
        shutil.copytree(ROOT / "docs" / folder, tmp / "docs" / folder)
    built = build_mini_site(tmp, {"index.md": PAGE, "other.md": OTHER}, snippets)
    assert built.returncode == 0, built.log
    assert "did not run as recorded" not in built.page("index.html"), built.log
    return built.site


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    with serve(site) as url:
        yield url


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context
    context.close()


def _open(context: BrowserContext, url: str) -> tuple[Page, list[str]]:
    page, errors = context.new_page(), []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", console)
    page.goto(url, wait_until="networkidle")
    return page, errors


def _snippet(page: Page, source: str) -> Locator:
    """Every example made from snippets/<source>, on the page in order."""
    return page.locator(".snippet").filter(has=page.locator(f"a.snippet-source:text-is('snippets/{source}')"))


def open_keys(snippet: Locator) -> list[str]:
    """The interpreters behind the tab that is open (checked), from the example's data-tab-keys."""
    groups = (snippet.get_attribute("data-tab-keys") or "").split(";")
    index = snippet.locator(".tabbed-set > input").evaluate_all("inputs => inputs.findIndex(i => i.checked)")
    return groups[int(index)].split()


def assert_open(snippet: Locator, keys: list[str]) -> None:
    """The open tab stands for exactly `keys`, soon: after instant navigation the script runs later."""
    for _ in range(50):
        if open_keys(snippet) == keys:
            return
        snippet.page.wait_for_timeout(100)
    assert open_keys(snippet) == keys


def test_the_control_shows_the_newest_cpython_and_lists_the_interpreters(
    context: BrowserContext, base_url: str
) -> None:
    page, errors = _open(context, base_url)
    select = page.get_by_label("Outputs for")
    expect(select).to_be_visible()
    expect(select).to_have_value(NEWEST)
    assert select.locator("option:checked").text_content() == f"CPython {NEWEST}"
    assert select.locator("option").evaluate_all("options => options.map(o => o.value)") == supported_keys()
    # Every tab set opens the newest CPython's tab, the one the page opens without JavaScript.
    assert NEWEST in open_keys(_snippet(page, "reading/version.pycon"))
    assert NEWEST in open_keys(_snippet(page, "reading/which.pycon").first)
    assert errors == []


def test_a_choice_reaches_every_tab_set_and_the_next_pages(context: BrowserContext, base_url: str) -> None:
    page, errors = _open(context, base_url)
    page.get_by_label("Outputs for").select_option("3.12")
    assert open_keys(_snippet(page, "reading/version.pycon")) == ["3.12"]
    # Inside a collapsed <details>, still closed: no 3.12 there, so the nearest version.
    collapsed = _snippet(page, "reading/newer.pycon")
    expect(page.locator("details:has(.snippet)")).not_to_have_attribute("open", "")
    assert open_keys(collapsed) == [CPYTHONS[-2]]
    assert "3.12" in open_keys(_snippet(page, "reading/which.pycon").first)
    # Instant navigation to the next page, then a full reload: the choice stays.
    page.get_by_role("link", name="The other page").click()
    page.wait_for_url(re.compile(r"/other/$"))
    expect(page.get_by_label("Outputs for")).to_have_value("3.12")
    assert_open(_snippet(page, "reading/version.pycon"), ["3.12"])
    page.reload(wait_until="networkidle")
    expect(page.get_by_label("Outputs for")).to_have_value("3.12")
    assert open_keys(_snippet(page, "reading/version.pycon")) == ["3.12"]
    assert errors == []


def test_an_interpreter_an_example_did_not_run_on_falls_back_to_the_nearest(
    context: BrowserContext, base_url: str
) -> None:
    page, errors = _open(context, base_url)
    select = page.get_by_label("Outputs for")
    version, newer = _snippet(page, "reading/version.pycon"), _snippet(page, "reading/newer.pycon")
    # The free-threaded build: its own version's tab, else the nearest version.
    select.select_option("3.13t")
    assert "3.13" in open_keys(version) and "3.13t" in open_keys(version)
    assert open_keys(newer) == [CPYTHONS[-2]]
    # PyPy, where an example ran on CPython only: the newest CPython.
    select.select_option("pypy3.11")
    assert open_keys(version) == [NEWEST]
    assert open_keys(newer) == [NEWEST]
    assert open_keys(_snippet(page, "reading/which.pycon").first) == ["pypy3.11"]
    assert errors == []


def test_choosing_a_tab_becomes_the_choice_everywhere(context: BrowserContext, base_url: str) -> None:
    page, errors = _open(context, base_url)
    version = _snippet(page, "reading/version.pycon")
    version.locator(".tabbed-labels > label", has_text="CPython 3.13, 3.13t").click()
    # The tab stands for 3.13 and 3.13t; from the newest CPython the nearest is 3.13.
    expect(page.get_by_label("Outputs for")).to_have_value("3.13")
    assert open_keys(_snippet(page, "reading/newer.pycon")) == [CPYTHONS[-2]]
    page.goto(base_url + "other/", wait_until="networkidle")
    assert open_keys(_snippet(page, "reading/version.pycon")) == ["3.13", "3.13t"]
    assert errors == []


def test_on_a_phone_the_control_names_versions_briefly(browser: Browser, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page, errors = _open(context, base_url)
    select = page.get_by_label("Outputs for")
    expect(select).to_be_visible()
    assert select.locator("option:checked").text_content() == NEWEST
    box = select.bounding_box()
    context.close()
    assert box is not None and box["x"] + box["width"] <= 390
    assert errors == []


def test_the_provenance_line_is_short_and_opens_from_the_keyboard(browser: Browser, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page, errors = _open(context, base_url)
    metas = page.locator(".md-content__inner > .snippet > .snippet-meta")
    assert metas.count() >= 3
    for meta in metas.all():
        line = float(meta.evaluate("m => parseFloat(getComputedStyle(m).lineHeight)"))
        box = meta.bounding_box()
        assert box is not None and round(box["height"] / line) <= 3, meta.inner_text()
    first = metas.first
    expect(first.get_by_text("Exact versions:")).to_be_hidden()
    first.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(first.get_by_text("Exact versions:")).to_be_visible()
    expect(first.get_by_text("Hash seed 0 (PYTHONHASHSEED)", exact=False)).to_be_visible()
    context.close()
    assert errors == []


def test_copy_copies_the_inputs_alone(browser: Browser, base_url: str) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, permissions=["clipboard-read", "clipboard-write"]
    )
    page, _ = _open(context, base_url)
    copied = []
    for source in ("reading/copy.pycon", "reading/version.pycon"):
        snippet = _snippet(page, source)
        snippet.locator(".highlight:visible").hover()
        snippet.locator(
            ".highlight:visible .md-code__button[data-md-type='copy'], .md-clipboard"
        ).first.click()
        copied.append(page.evaluate("navigator.clipboard.readText()"))
    context.close()
    # The blank line that ends the loop stays: pasted at a prompt, it closes the block.
    assert copied == [
        'words = ["tab", "set"]\nfor word in words:\n    print(word.upper())\n\nlen(words)',
        "import sys\nsys.version_info[:2]",
    ]


def test_a_prediction_answered_by_keyboard_says_where_it_is_right(
    context: BrowserContext, base_url: str
) -> None:
    page, errors = _open(context, base_url)
    exercise = page.locator(".predict")
    feedback = exercise.locator(".predict-feedback")
    reveal = exercise.locator("details.predict-reveal")
    expect(feedback).to_have_attribute("aria-live", "polite")
    expect(reveal).not_to_have_attribute("open", "")
    # Keyboard only: focus the choices, Space picks one, the arrow keys move on.
    choices = exercise.locator(".predict-choices input")
    assert [c.strip() for c in exercise.locator(".predict-choices label").all_inner_texts()] == [
        "'cpython'",
        "'pypy'",
        "'python'",
    ]
    choices.first.focus()
    page.keyboard.press("Space")
    everywhere_but_pypy = "CPython 3.11\u20133.15, 3.13t"
    expect(feedback).to_have_text(f"Right on {everywhere_but_pypy}. PyPy 3.11 prints 'pypy'.")
    expect(reveal).to_have_attribute("open", "")
    expect(reveal.locator("code").first).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(feedback).to_have_text(f"Right on PyPy 3.11. {everywhere_but_pypy} prints 'cpython'.")
    page.keyboard.press("ArrowDown")
    expect(feedback).to_have_text(
        f"Not on any interpreter here; {everywhere_but_pypy} prints 'cpython'; PyPy 3.11 prints 'pypy'."
    )
    # The reveal itself: Enter on its summary closes and opens it.
    reveal.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(reveal).not_to_have_attribute("open", "")
    page.keyboard.press("Enter")
    expect(reveal).to_have_attribute("open", "")
    assert errors == []


def test_without_javascript_the_reveal_and_the_tabs_still_work(browser: Browser, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url, wait_until="networkidle")
    # A control that could switch nothing is not shown.
    expect(page.locator("[data-puth-outputs]")).to_be_hidden()
    reveal = page.locator(".predict details.predict-reveal")
    reveal.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(reveal).to_have_attribute("open", "")
    expect(reveal.get_by_text("'pypy'", exact=True)).to_be_visible()
    # Tabs are radio buttons and labels: they switch with no script at all.
    version = _snippet(page, "reading/version.pycon")
    version.locator(".tabbed-labels > label").first.click()
    expect(version.locator(".tabbed-block").first).to_be_visible()
    expect(version.locator(".tabbed-block").last).to_be_hidden()
    context.close()
