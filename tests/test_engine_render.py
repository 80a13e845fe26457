"""What a page shows for a snippet, from fake results: nothing is executed here."""

from __future__ import annotations

import re
from pathlib import Path

import markdown
import pytest
from engine_support import CPYTHON_312, CPYTHON_313, PYPY, CountingRunner, make_project, write_snippets
from markdown_exec import markdown_config

from snippet_engine import Interpreter, RunResult, Snippet, StepResult, parse_body
from snippet_engine.build import Build
from snippet_engine.extension import SnippetExtension, fence_format, validate, value_format
from snippet_engine.render import columns_of, names

SAME = ">>> 6 * 7\n42\n>>> 'x'\n'x'\n"
DIFFERENT = (
    "#| implementations: cpython pypy\n>>> x = 1000\n>>> y = 1000\n>>> x is y\n"
    "#[3.12]\nFalse\n#[3.13]\nFalse\n#[pypy3.11]\nTrue\n"
)


def _page(root: Path, snippets: dict[str, str], body: str, interpreters: tuple[Interpreter, ...]) -> str:
    write_snippets(root, snippets)
    (root / "docs").mkdir(exist_ok=True)
    (root / "docs" / "index.md").write_text(body, encoding="utf-8")
    build = Build(make_project(root, CountingRunner(), interpreters))
    fences = [
        {"name": name, "class": name, "validator": validate, "format": fmt}
        for name, fmt in (
            ("snippet", fence_format),
            ("snippet-table", fence_format),
            ("interpreters", fence_format),
            ("predict", fence_format),
        )
    ]
    extensions = ["admonition", "md_in_html", "pymdownx.highlight", "pymdownx.inlinehilite"]
    extensions += ["pymdownx.superfences", "pymdownx.tabbed"]
    inline = [{"name": "out", "class": "snippet-value", "format": value_format}]
    configs = {
        "pymdownx.superfences": {"custom_fences": fences},
        "pymdownx.tabbed": {"alternate_style": True},
        "pymdownx.inlinehilite": {"custom_inline": inline},
    }
    # What markdown-exec's MkDocs plugin does for a site: inner conversions use the same extensions.
    markdown_config.save(extensions, configs)
    try:
        md = markdown.Markdown(
            extensions=[*extensions, SnippetExtension(build=build)], extension_configs=configs
        )
        return md.convert(body)
    finally:
        markdown_config.reset()


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&gt;", ">").replace("&#39;", "'").replace("&quot;", '"')


def test_the_same_output_everywhere_is_one_block_with_the_exact_versions(tmp_path: Path) -> None:
    html = _page(
        tmp_path, {"a/same.pycon": SAME}, "```snippet\na/same.pycon\n```\n", (CPYTHON_312, CPYTHON_313)
    )
    assert "tabbed-set" not in html
    assert html.count("<pre") == 1
    assert "Ran on CPython 3.12\u20133.13" in html and "outputs differ" not in html
    assert "Exact versions: CPython 3.12.1, 3.13.0." in html
    assert ">>> 6 * 7\n42" in _text(html)


def test_different_outputs_are_tabs_with_the_differing_line_highlighted(tmp_path: Path) -> None:
    shared = ">>> 'a'\n'a'\n>>> 'b'\n'b'\n"
    html = _page(
        tmp_path,
        {"a/diff.pycon": DIFFERENT.replace(">>> x = 1000", shared + ">>> x = 1000")},
        "```snippet\na/diff.pycon\n```\n",
        (CPYTHON_312, CPYTHON_313, PYPY),
    )
    labels = re.findall(r'<label for="[^"]+">([^<]+)</label>', html)
    # Interpreters that printed the same text share one tab.
    assert labels == ["CPython 3.12\u20133.13", "PyPy 3.11"]
    assert "outputs differ (highlighted)" in html and "PyPy 3.11.17 (8.0.1)" in html
    highlighted = [_text(h) for h in re.findall(r'<span class="hll">(.*?)</span>\n?', html, re.DOTALL)]
    assert [h.strip() for h in highlighted] == ["False", "True"]  # only the `x is y` line, in each tab


def test_outputs_that_differ_only_in_addresses_share_one_block() -> None:
    a = columns_of(
        [("3.12", ["<object object at 0x7f0011223344>\n"]), ("3.13", ["<object object at 0x7f99887766>\n"])]
    )
    assert len(a) == 1 and a[0].keys == ("3.12", "3.13")
    assert a[0].outputs == ("<object object at 0x7f0011223344>\n",)  # the first interpreter's, as printed


def test_a_tab_that_differs_throughout_is_not_highlighted_and_the_line_says_so(tmp_path: Path) -> None:
    old = "".join(f"{n}\n" for n in range(6))
    new = "".join(f"{n + 10}\n" for n in range(5)) + "5\n"
    text = f">>> for n in range(6): print(n)\n...\n#[3.12]\n{old}#[3.13]\n{new}"

    def run(snippet: Snippet, interpreter: Interpreter) -> RunResult:
        return RunResult(interpreter, (StepResult(new if interpreter.key == "3.13" else old, "ok"),))

    write_snippets(tmp_path, {"a/loop.pycon": text})
    (tmp_path / "docs").mkdir()
    build = Build(make_project(tmp_path, CountingRunner(run), (CPYTHON_312, CPYTHON_313)))
    markdown_text, problems = build.views.render(parse_body("snippet", "a/loop.pycon"), None)
    assert problems == []
    assert '=== "CPython 3.12"' in markdown_text and "hl_lines" not in markdown_text
    assert "outputs differ</span>" in markdown_text and "(highlighted)" not in markdown_text


def test_varies_adds_a_note_and_missing_interpreters_are_named(tmp_path: Path) -> None:
    text = "#| implementations: cpython pypy\n#| varies: ids are addresses\n>>> 1\n1\n"
    html = _page(tmp_path, {"a/v.pycon": text}, "```snippet\na/v.pycon\n```\n", (CPYTHON_312,))
    assert "Varies from run to run" in html and "ids are addresses" in html
    missing = re.search(r"Not run in this build: ([^<]*)\.<", html)
    assert missing is not None
    assert {"CPython 3.13", "PyPy 3.11"} <= set(missing.group(1).split(", "))
    assert "CPython 3.12" not in missing.group(1)


def test_a_mismatch_is_a_failure_box_and_a_warning_naming_page_path_line_and_interpreter(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def wrong(snippet: Snippet, interpreter: Interpreter) -> RunResult:
        return RunResult(interpreter, (StepResult("41\n", "ok"), StepResult("'x'\n", "ok")))

    write_snippets(tmp_path, {"a/same.pycon": SAME})
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("```snippet\na/same.pycon\n```\n", encoding="utf-8")
    build = Build(make_project(tmp_path, CountingRunner(wrong), (CPYTHON_312,)))
    markdown_text, problems = build.views.render(parse_body("snippet", "a/same.pycon"), None)
    assert "did not run as recorded" in markdown_text
    assert problems[0] == "in docs/page.md:"
    assert problems[1].startswith("snippets/a/same.pycon:1 on CPython 3.12.1: `6 * 7`")


def test_execution_off_shows_the_records_and_runs_nothing(tmp_path: Path) -> None:
    runner = CountingRunner()
    write_snippets(tmp_path, {"a/diff.pycon": DIFFERENT})
    project = make_project(tmp_path, runner, (CPYTHON_312,))
    project.settings = type(project.settings)(root=tmp_path, execute=False)
    build = Build(project)
    markdown_text, problems = build.views.render(parse_body("snippet", "a/diff.pycon"), None)
    assert problems == [] and runner.runs == []
    assert "Execution off: recorded outputs" in markdown_text
    assert "CPython 3.12" in markdown_text and "PyPy 3.11" in markdown_text
    table, _ = build.views.render(parse_body("snippet-table", "x is y | a/diff.pycon"), None)
    # The cell that differs from the newest CPython's is marked.
    assert "<code>False</code>" in table and '<code class="snippet-differs">True</code>' in table
    listing, _ = build.views.render(parse_body("interpreters", ""), None)
    assert "ran no interpreter" in listing
    assert runner.runs == []


def test_table_cells_are_escaped_text(tmp_path: Path) -> None:
    text = ">>> print('__main__ [x](javascript:alert(1)) ![i](http://e.example/i.png) <b>')\n"
    text += "__main__ [x](javascript:alert(1)) ![i](http://e.example/i.png) <b>\n"
    html = _page(tmp_path, {"a/t.pycon": text}, "```snippet-table\nmarkup | a/t.pycon\n```\n", (CPYTHON_312,))
    cells = re.findall(r"<td>(.*?)</td>", html)
    assert cells[1].startswith("<code>") and "<strong>" not in html and "<b>" not in html
    assert "<a " not in html.split("<table>")[1] and "<img" not in html


def test_a_predict_fence_asks_first_and_reveals_every_interpreter_s_real_output(tmp_path: Path) -> None:
    body = "```predict\na/diff.pycon\nchoices: an error | False\nwhy: CPython makes two objects.\n```\n"
    html = _page(tmp_path, {"a/diff.pycon": DIFFERENT}, body, (CPYTHON_312, CPYTHON_313, PYPY))
    assert "Predict the output" in html
    question, reveal = html.split('<details class="predict-reveal"', 1)
    # The question shows the inputs but not the answer.
    assert "x is y" in _text(question) and "True" not in _text(question.split("<fieldset", 1)[0])
    choices = re.findall(
        r'<input type="radio" name="predict-a-diff-pycon" value="\d+"'
        r' data-keys="([^"]*)" data-label="([^"]*)"> ',
        html,
    )
    texts = [_text(t).strip() for t in re.findall(r'data-label="[^"]*"> (.*?)</label>', html)]
    assert dict(zip(texts, choices, strict=True)) == {
        "False": ("3.12 3.13", "CPython 3.12\u20133.13"),
        "True": ("pypy3.11", "PyPy 3.11"),
        "an error": ("", ""),
    }
    assert "CPython 3.12\u20133.13" in reveal and "PyPy 3.11" in reveal
    assert "CPython makes two objects." in reveal


def test_a_predict_reveal_groups_interpreters_by_the_answer_they_print(tmp_path: Path) -> None:
    # 3.12 and 3.13 differ in the first input's output but print the same last one.
    text = "#| implementations: cpython pypy\n>>> import sys\n#[3.12]\nwarning\n>>> 1 + 1\n2\n"

    def run(snippet: Snippet, interpreter: Interpreter) -> RunResult:
        first = "warning\n" if interpreter.key == "3.12" else ""
        return RunResult(interpreter, (StepResult(first, "ok"), StepResult("2\n", "ok")))

    write_snippets(tmp_path, {"a/two.pycon": text})
    (tmp_path / "docs").mkdir()
    build = Build(make_project(tmp_path, CountingRunner(run), (CPYTHON_312, CPYTHON_313, PYPY)))
    markdown_text, _ = build.views.render(parse_body("predict", "a/two.pycon\nwhy: 1 + 1 is 2."), None)
    reveal = markdown_text.split("Reveal the output", 1)[1]
    assert "Every interpreter prints:" in reveal and reveal.count("```text") == 1


def test_inline_values_put_real_outputs_into_prose(tmp_path: Path) -> None:
    text = "#| implementations: cpython pypy\n>>> import sys\n>>> sys.version_info[:2]\n"
    text += "#[3.12]\n(3, 12)\n#[3.13]\n(3, 13)\n#[pypy3.11]\n(3, 11)\n"
    prose = (
        "On 3.12 it is `#!out a/v.pycon 3.12`, the minor part `#!out a/v.pycon:3 3.13 /, (\\d+)/`; "
        "everywhere: `#!out a/v.pycon all`."
    )
    html = _page(tmp_path, {"a/v.pycon": text}, prose + "\n", (CPYTHON_312, CPYTHON_313, PYPY))
    values = [_text(v) for v in re.findall(r'<span class="snippet-value"[^>]*>(.*?)</span>', html)]
    assert values == [
        "(3, 12)",
        "13",
        "(3, 12) on CPython 3.12, (3, 13) on CPython 3.13 and (3, 11) on PyPy 3.11",
    ]
    assert 'title="from snippets/a/v.pycon:3"' in html


def test_an_inline_value_is_text_never_markup(tmp_path: Path) -> None:
    text = ">>> print('__pycache__', '<module>', '*a*')\n__pycache__ <module> *a*\n"
    html = _page(tmp_path, {"a/m.pycon": text}, "It prints `#!out a/m.pycon 3.12`.\n", (CPYTHON_312,))
    value = re.search(r'<span class="snippet-value"[^>]*>(.*?)</span>', html)
    assert value is not None and value.group(1) == "__pycache__ &lt;module&gt; *a*"


def test_exact_versions_name_a_free_threaded_build_as_such() -> None:
    free = Interpreter("cpython", "3.13", "3.13.5", "3.13.5", "cpython-313", "/fake/t", free_threaded=True)
    assert names([CPYTHON_312, free, PYPY]) == "CPython 3.12.1, 3.13.5t and PyPy 3.11.17 (8.0.1)"
