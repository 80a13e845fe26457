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

from markdown_exec import tabbed

from .check import differing
from .discovery import Discovery
from .interpreters import Interpreter, describe_key, group_label
from .snippet import Snippet, output_lines, prompted

LANGUAGES = {"pycon": "pycon", "console": "console", "script": "python"}
# Provenance lines say where an output came from, not what the page teaches:
# kept out of the search index (Material's data-search-exclude), so a search
# for "3.12" finds the text about 3.12 rather than every snippet's line.
META = '<p class="snippet-meta" data-search-exclude>'
_BACKTICKS = re.compile("`+")


@dataclass(frozen=True)
class Column:
    """What one interpreter (or one record, with execution off) printed for each step."""

    label: str  # the tab title, identical on every page so linked tabs switch together
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
            lines.append(line)
            if (index, position) in marked:
                marks.append(len(lines))
    text = "\n".join(lines)
    if snippet.kind == "script":
        return fenced("text", text or "(no output)", marks, title="Output")
    return fenced(LANGUAGES[snippet.kind], text, marks)


def transcript(snippet: Snippet, columns: Sequence[Column], title: str | None, meta: str) -> str:
    """The snippet as shown: its source (scripts), one block or one tab per column, then `meta`."""
    marked = differing(len(snippet.steps), [column.outputs for column in columns])
    same = not marked and len({len(column.outputs) for column in columns}) == 1
    parts = []
    if title:
        parts.append(f"**{html.escape(title)}**")
    if snippet.kind == "script":
        parts.append(fenced("python", snippet.steps[0].source.rstrip("\n"), title=snippet.path.name))
    if same:
        parts.append(_block(snippet, columns[0], marked))
    else:
        parts.append(tabbed(*[(column.label, _block(snippet, column, marked)) for column in columns]))
    parts.append(meta)
    return "\n\n".join(parts)


def columns_of(results: Sequence[tuple[Interpreter, Sequence[str]]]) -> list[Column]:
    """One column per distinct output, labelled with every interpreter that printed it."""
    groups: dict[tuple[str, ...], list[Interpreter]] = {}
    for interpreter, outputs in results:
        groups.setdefault(tuple(outputs), []).append(interpreter)
    return [Column(group_label(members), outputs) for outputs, members in groups.items()]


def names(interpreters: Sequence[Interpreter]) -> str:
    """'CPython 3.10.13, 3.11.7 and PyPy 3.9.16 (7.3.11)': exact versions, grouped."""
    cpython = [i.full_version for i in interpreters if i.implementation == "cpython"]
    others = [i.exact_label for i in interpreters if i.implementation != "cpython"]
    return " and ".join(([f"CPython {', '.join(cpython)}"] if cpython else []) + others)


def provenance(
    snippet: Snippet, interpreters: Sequence[Interpreter], same: bool, missing: Sequence[str], hash_seed: str
) -> str:
    # Short enough for a phone: one lead, the exact versions once, the file.
    lead = (
        f"Same output on {names(interpreters)}"
        if same
        else "Differs between interpreters (highlighted lines)"
    )
    details = [lead] if same else [lead, f"ran on {names(interpreters)}"]
    details += [f"PYTHONHASHSEED={hash_seed}", snippet.display_path]
    if snippet.options.versions:
        details.append(f"{snippet.options.versions} only: {snippet.options.why}")
    if missing:
        details.append("not installed for this build: " + ", ".join(describe_key(k) for k in missing))
    body = " · ".join(html.escape(d) for d in details)
    note = ""
    if snippet.options.varies:
        note = f'\n\n!!! info "Varies from run to run"\n\n    {html.escape(snippet.options.varies)}'
    return f"{META}{body}</p>{note}"


def recorded_meta(snippet: Snippet) -> str:
    return f"{META}Execution off: recorded outputs · {html.escape(snippet.display_path)}</p>"


def cell(output: str) -> str:
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
    return f"<code>{escaped}</code>" if escaped else "<em>nothing</em>"


def table(rows: Sequence[tuple[str, dict[str, str]]], columns: Sequence[Interpreter], meta: str) -> str:
    """`rows`: (label, key -> the last input's output); one column per interpreter."""
    lines = ["| What we asked | " + " | ".join(i.short_label for i in columns) + " |"]
    lines.append("|---|" + "---|" * len(columns))
    for label, by_key in rows:
        cells = [cell(by_key[i.key]) if i.key in by_key else "<em>not run</em>" for i in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
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


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else "" for line in text.splitlines())
