"""Results -> Markdown: what a page shows for a snippet, a comparison table, or the interpreters.

Pure functions of their arguments: nothing here runs, reads files or logs.
One block when every interpreter printed the same thing, linked content tabs
(one per interpreter, the differing lines highlighted) when they did not, and
a provenance line under each. Output is always shown as text inside a fence
that is longer than any backtick run in it, so no output becomes markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .check import comparable, differing
from .discovery import Discovery
from .interpreters import Interpreter, describe_key, group_label, supported_keys
from .snippet import Snippet, output_lines, prompted

LANGUAGES = {"pycon": "pycon", "console": "console", "script": "python"}
# Provenance lines say where an output came from, not what the page teaches:
# kept out of the search index (Material's data-search-exclude), so a search
# for "3.12" finds the text about 3.12 rather than every snippet's line.
META = '<p class="snippet-meta" data-search-exclude="true">'  # tables' provenance line
_BACKTICKS = re.compile("`+")


@dataclass(frozen=True)
class Column:
    """What a group of interpreters (or of records, with execution off) printed for each step."""

    label: str  # the tab title: "CPython 3.12\u20133.15"
    keys: tuple[str, ...]  # the interpreters behind it, in supported order
    outputs: tuple[str, ...]


def fenced(language: str, code: str, hl_lines: Sequence[int] = (), title: str | None = None) -> str:
    # markdown_exec.code_block uses a fixed eight-backtick fence; real output
    # may itself contain backticks, so the fence grows past the longest run.
    longest = max(map(len, _BACKTICKS.findall(code)), default=0)
    fence = "`" * max(8, longest + 1)
    options = f' hl_lines="{" ".join(map(str, hl_lines))}"' if hl_lines else ""
    if title:
        options += f' title="{html.escape(title)}"'
    return f"{fence}{language}{options}\n{code}\n{fence}"


def _block(snippet: Snippet, column: Column, marked: set[tuple[int, int]]) -> str:
    lines: list[str] = []
    marks: list[int] = []
    for index, output in enumerate(column.outputs):
        if snippet.kind != "script":
            lines.extend(prompted(snippet.kind, snippet.steps[index].source))
        for position, line in enumerate(output_lines(output)):
            # A terminal moves a tab to the next multiple of 8 columns; left
            # as is, Markdown turned it into spaces to its own 4-column stops.
            lines.append(line.expandtabs(8))
            if (index, position) in marked:
                marks.append(len(lines))
    text = "\n".join(lines)
    if snippet.kind == "script":
        return fenced("text", text or "(no output)", marks, title="Output")
    return fenced(LANGUAGES[snippet.kind], text, marks)


def marks(snippet: Snippet, columns: Sequence[Column]) -> list[set[tuple[int, int]]]:
    """Per column, the (step, line) positions to highlight: what differs from the tab shown first."""
    return differing(len(snippet.steps), [column.outputs for column in columns], default(columns))


def transcript(
    snippet: Snippet,
    columns: Sequence[Column],
    marked: Sequence[set[tuple[int, int]]],
    title: str | None,
    meta: str,
) -> str:
    """The snippet as shown: its source (scripts), one block or one tab per column, then `meta`."""
    parts = []
    if title:
        parts.append(f"**{html.escape(title)}**")
    if snippet.kind == "script":
        parts.append(fenced("python", snippet.steps[0].source.rstrip("\n"), title=snippet.path.name))
    if len(columns) == 1:
        parts.append(_block(snippet, columns[0], set()))
    else:
        labelled = [(c.label, _block(snippet, c, m)) for c, m in zip(columns, marked, strict=True)]
        parts.append(tabs(labelled, default(columns)))
    parts.append(meta)
    return "\n\n".join(parts)


def _newest_cpython(keys: Sequence[str]) -> str | None:
    """The newest default (GIL) CPython among keys: what a reader most likely runs, shown first."""
    order = supported_keys()
    cpythons = [k for k in keys if k[0].isdigit() and not k.endswith("t")]
    return max(cpythons, key=order.index) if cpythons else None


def default(columns: Sequence[Column]) -> int:
    """The column a reader sees first: the newest CPython's."""
    newest = _newest_cpython([k for c in columns for k in c.keys])
    return next((i for i, c in enumerate(columns) if newest in c.keys), 0)


def tabs(items: Sequence[tuple[str, str]], selected: int) -> str:
    """pymdownx.tabbed content tabs, the `selected` one open (`===+`)."""
    out = []
    for index, (title, body) in enumerate(items):
        out.append(f'==={"+" if index == selected else ""} "{title}"')
        out.extend((_indent(body), ""))
    return "\n".join(out)


def exercise(
    snippet: Snippet, columns: Sequence[Column], *, name: str, ask: str, extra: Sequence[str], why: str
) -> str:
    """A "Predict the output" exercise: the inputs, choices from what the interpreters printed, a reveal.

    Without JavaScript the reveal is a plain <details>; docs/javascripts/predict.js
    adds feedback on the chosen answer. Choices are radio buttons: keyboard-usable as they are.
    """
    shown = columns[default(columns)]
    question = Column(shown.label, shown.keys, (*shown.outputs[:-1], ""))
    answers: dict[str, list[str]] = {}
    for column in columns:
        answers.setdefault(cell(column.outputs[-1]), []).extend(column.keys)
    for text in extra:
        answers.setdefault(cell(text), [])
    # data-label: the interpreters that print this answer, labelled as tabs are (predict.js says it).
    radios = [
        f'<label><input type="radio" name="{name}" value="{n}" data-keys="{" ".join(keys)}"'
        f' data-label="{group_label(keys) if keys else ""}"> {text}</label>'
        for n, (text, keys) in enumerate(sorted(answers.items()))
    ]
    # Grouped by the answer itself: tabs that differ earlier may agree on the last output.
    printed: dict[str, list[str]] = {}
    for column in columns:
        printed.setdefault(comparable(column.outputs[-1]), [column.outputs[-1]]).extend(column.keys)
    order = supported_keys()
    groups = [(output, sorted(keys, key=order.index)) for output, *keys in printed.values()]
    # data-keys: which interpreters printed the block that follows (tryit-panel.js finds 3.14's).
    if len(groups) == 1:
        output, keys = groups[0]
        reveal = [f'<p data-keys="{" ".join(keys)}">Every interpreter prints:</p>\n\n{_block_of(output)}']
    else:
        reveal = [
            f'<p data-keys="{" ".join(keys)}"><strong>{group_label(keys)}</strong></p>\n\n{_block_of(output)}'
            for output, keys in groups
        ]
    return "\n\n".join(
        [
            '<div class="predict" data-predict="true" markdown>',
            '<p class="predict-title"><strong>Predict the output</strong></p>',
            _block(snippet, question, set()),
            f'<fieldset class="predict-choices"><legend>{html.escape(ask)}</legend>\n'
            + "\n".join(radios)
            + "\n</fieldset>",
            '<p class="predict-feedback" aria-live="polite"></p>',
            '<details class="predict-reveal" markdown>\n<summary>Reveal the output</summary>',
            *reveal,
            f'<p class="predict-why">{html.escape(why)}</p>',
            "</details>",
            "</div>",
        ]
    )


def _block_of(output: str) -> str:
    return fenced("text", output.rstrip("\n").expandtabs(8) or "(nothing)")


def columns_of(results: Sequence[tuple[str, Sequence[str]]]) -> list[Column]:
    """(interpreter key, outputs) -> one column per distinct output, labelled with its keys.

    Outputs that differ only in addresses are one column, showing the first
    interpreter's: an address changes from run to run, not from version to version.
    """
    groups: dict[tuple[str, ...], tuple[tuple[str, ...], list[str]]] = {}
    for key, outputs in results:
        groups.setdefault(tuple(map(comparable, outputs)), (tuple(outputs), []))[1].append(key)
    return [Column(group_label(keys), tuple(keys), outputs) for outputs, keys in groups.values()]


def names(interpreters: Sequence[Interpreter]) -> str:
    """'CPython 3.11.7, 3.12.1 and PyPy 3.11.17 (8.0.1)': exact versions, grouped."""
    cpython = [i.exact_label.removeprefix("CPython ") for i in interpreters if i.implementation == "cpython"]
    others = [i.exact_label for i in interpreters if i.implementation != "cpython"]
    return " and ".join(([f"CPython {', '.join(cpython)}"] if cpython else []) + others)


def provenance(
    snippet: Snippet,
    interpreters: Sequence[Interpreter],
    marked: Sequence[set[tuple[int, int]]],
    missing: Sequence[str],
    hash_seed: str,
    source: str | None = None,
) -> str:
    """One short line (where it ran, whether outputs differ, the file), the exact versions behind a tap.

    `marked` has one entry per column shown: more than one, and the outputs differ.
    """
    lead = f"Ran on {group_label([i.key for i in interpreters])}"
    if len(marked) > 1:
        # The swatch (CSS) is the legend of the highlighted lines: only where there are some.
        shown = (
            ' snippet-meta-highlighted"> · outputs differ (highlighted)'
            if any(marked)
            else '"> · outputs differ'
        )
        lead += f'<span class="snippet-meta-differs{shown}</span>'
    exact = [f"Exact versions: {names(interpreters)}.", f"Hash seed {hash_seed} (PYTHONHASHSEED)."]
    if snippet.options.versions:
        exact.append(f"Only for {snippet.options.versions}: {snippet.options.why}.")
    if missing:
        exact.append("Not run in this build: " + ", ".join(describe_key(k) for k in missing) + ".")
    body = " ".join(html.escape(part) for part in exact)
    note = ""
    if snippet.options.varies:
        note = f'\n\n!!! info "Varies from run to run"\n\n    {html.escape(snippet.options.varies)}'
    return _meta(f"<details><summary>{lead}</summary><p>{body}</p></details>", snippet, source) + note


def _meta(inner: str, snippet: Snippet, source: str | None) -> str:
    path = html.escape(snippet.display_path)
    if source:
        href = html.escape(source + snippet.display_path.removeprefix("snippets/"))
        path = f'<a class="snippet-source" href="{href}">{path}</a>'
    return f'<div class="snippet-meta" data-search-exclude="true">{inner} · {path}</div>'


def recorded_meta(snippet: Snippet, source: str | None = None) -> str:
    return _meta("Execution off: recorded outputs", snippet, source)


def cell(output: str, differs: bool = False) -> str:
    """One table cell: the output's last line for a traceback, always as text, never as markup.

    Markdown still reads emphasis, links and images inside inline HTML, so every
    punctuation character becomes a numeric entity, which it leaves alone.
    """
    text = output.strip("\n")
    if "Traceback (most recent call last):" in text:
        text = text.splitlines()[-1]
    lines = [
        "".join(ch if ch.isalnum() or ch == " " else f"&#{ord(ch)};" for ch in line)
        for line in text.split("\n")
    ]
    escaped = "<br>".join(lines)
    mark = ' class="snippet-differs"' if differs else ""
    return f"<code{mark}>{escaped}</code>" if escaped else f"<em{mark}>nothing</em>"


def table(rows: Sequence[tuple[str, dict[str, str]]], columns: Sequence[tuple[str, str]], meta: str) -> str:
    """`rows`: (label, key -> the last input's output); `columns`: (key, heading), one per interpreter."""
    lines = ["| What we asked | " + " | ".join(heading for _, heading in columns) + " |"]
    lines.append("|---|" + "---|" * len(columns))
    reference = _newest_cpython([key for key, _ in columns]) or ""
    for label, by_key in rows:
        # A cell that is not what the newest CPython printed is marked, so the difference shows.
        shown = [
            cell(by_key[k], reference in by_key and by_key[k] != by_key[reference])
            if k in by_key
            else "<em>not run</em>"
            for k, _ in columns
        ]
        lines.append(f"| {label} | " + " | ".join(shown) + " |")
    return "\n".join(lines) + "\n\n" + meta


def interpreters_table(discovery: Discovery | None) -> str:
    if discovery is None:
        return "Execution off: this build ran no interpreter; the pages show the recorded outputs."
    lines = ["| Interpreter | Exact version | Implementation release |", "|---|---|---|"]
    for interp in discovery.found:
        lines.append(f"| {interp.short_label} | {interp.full_version} | {interp.implementation_version} |")
    missing = [describe_key(k) for k in discovery.missing()]
    if missing:
        lines.append("")
        lines.append(
            f"Supported but not available to this build (their outputs are not shown): {', '.join(missing)}."
        )
    return "\n".join(lines)


def failure(message: str, after: Sequence[str] = ()) -> str:
    box = '!!! failure "This example did not run as recorded"\n\n' + _indent(fenced("text", message))
    return "\n\n".join([box, *after])


def slug(text: str) -> str:
    """'memory/small_int_cache.pycon' -> 'memory-small-int-cache-pycon': for ids and names in a page."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else "" for line in text.splitlines())
