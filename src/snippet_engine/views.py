"""What each fence shows: a snippet's transcript or tabs, an exercise, a table, an inline value.

Every view takes the snippet's results from the project (run, or recorded
when execution is off) and returns Markdown with every problem found in it,
each problem headed by the pages that embed the snippet; the extension turns
the Markdown into HTML and the problems into warnings.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .check import problems
from .drawing import DrawingError, to_svg
from .drawing import parse as parse_drawing
from .fences import Fence, Value
from .header import SnippetError
from .interpreters import describe_key, group_label, supported_keys
from .kinds import HASH_SEED
from .project import Project, Selection
from .render import META as _META
from .render import (
    Column,
    columns_of,
    exercise,
    failure,
    interpreters_table,
    marks,
    provenance,
    recorded_meta,
    slug,
    table,
    transcript,
)
from .results import RunResult
from .snippet import Snippet


@dataclass(frozen=True)
class Ran:
    """A snippet's outputs, one column per tab, and what produced them (None: recorded, execution off)."""

    snippet: Snippet
    columns: list[Column]
    selection: Selection | None
    results: list[RunResult]


@dataclass(frozen=True)
class Shown:
    """A snippet as a page shows it: its columns (tabs), their highlighted lines, the provenance line."""

    snippet: Snippet
    columns: list[Column]
    marked: list[set[tuple[int, int]]]
    meta: str
    problems: list[str]


class Views:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.source_url: str | None = None  # where the snippet files are browsed, from the extension's config

    def render(self, fence: Fence, title: str | None) -> tuple[str, list[str]]:
        """The fence's Markdown, and every problem with what it shows (empty when all is well)."""
        if fence.name == "interpreters":
            return interpreters_table(self.project.discovery if self.project.settings.execute else None), []
        if fence.name == "snippet":
            return self._snippet(fence.paths[0], title)
        if fence.name == "predict":
            return self._predict(fence)
        return self._table(fence)

    def _ran(self, relative: str) -> Ran | tuple[str, list[str]]:
        """The snippet's outputs, run or recorded; or (a failure box, its problems) when there are none."""
        try:
            snippet = self.project.load(relative)
        except (OSError, SnippetError) as error:
            return failure(str(error)), self._located([str(error)], [relative])
        if not self.project.settings.execute:
            return Ran(snippet, recorded_columns(snippet), None, [])
        selection = self.project.select(snippet)
        if not selection.run_on:
            reasons = "; ".join(f"{describe_key(k)}: {why}" for k, why in selection.skipped)
            found = [f"{snippet.display_path}: no interpreter to run it on ({reasons})"]
            return failure("\n".join(found)), self._located(found, [relative])
        results = self.project.results(snippet)
        columns = columns_of([(r.key, [s.output for s in r.steps]) for r in results])
        return Ran(snippet, columns, selection, results)

    def _shown(self, relative: str) -> Shown | tuple[str, list[str]]:
        """The snippet as shown, run or recorded; or (a failure box, its problems) when it cannot be."""
        ran = self._ran(relative)
        if not isinstance(ran, Ran):
            return ran
        snippet, columns, selection, results = ran.snippet, ran.columns, ran.selection, ran.results
        marked = marks(snippet, columns)
        if selection is None:
            return Shown(snippet, columns, marked, recorded_meta(snippet, self.source_url), [])
        meta = provenance(snippet, selection.run_on, marked, selection.missing, HASH_SEED, self.source_url)
        found = [p for r in results for p in problems(snippet, r)]
        if snippet.options.draw:
            diagrams, trouble = self._diagrams(snippet, results)
            meta = diagrams + "\n\n" + meta
            found += trouble
        return Shown(snippet, columns, marked, meta, found)

    def _diagrams(self, snippet: Snippet, results: list[RunResult]) -> tuple[str, list[str]]:
        """One figure per distinct drawing, labelled with the interpreters whose objects it shows."""
        groups: dict[str, list[str]] = {}
        trouble = []
        for result in results:
            if result.drawing is None:
                trouble.append(
                    f"{snippet.display_path}:1 on {result.interpreter.exact_label}: nothing was drawn"
                )
            else:
                groups.setdefault(result.drawing, []).append(result.key)
        figures = []
        prefix = slug(snippet.display_path)
        for number, (text, keys) in enumerate(groups.items()):
            try:
                svg = to_svg(parse_drawing(text), f"{prefix}-drawing-{number}")
            except DrawingError as error:
                trouble.append(f"{snippet.display_path}:1 on {group_label(keys)}: {error}")
                continue
            names = ", ".join(snippet.options.draw)
            caption = f"{names} at the end of the session, drawn from the live objects on {group_label(keys)}"
            figcaption = f"<figcaption>{html.escape(caption)}</figcaption>"
            figures.append(f'<figure class="snippet-drawing">\n{svg}\n{figcaption}\n</figure>')
        return "\n\n".join(figures), trouble

    def _snippet(self, relative: str, title: str | None) -> tuple[str, list[str]]:
        shown = self._shown(relative)
        if not isinstance(shown, Shown):
            return shown
        snippet, columns = shown.snippet, shown.columns
        body = wrapped(snippet, columns, transcript(snippet, columns, shown.marked, title, shown.meta))
        return self._with_problems(body, shown.problems, [relative])

    def _predict(self, fence: Fence) -> tuple[str, list[str]]:
        relative = fence.paths[0]
        shown = self._shown(relative)
        if not isinstance(shown, Shown):
            return shown
        snippet = shown.snippet
        ask = "What does the script print?" if snippet.kind == "script" else "What does the last input print?"
        extra = [choice.strip() for choice in fence.setting("choices").split("|") if choice.strip()]
        name = "predict-" + slug(relative)
        body = exercise(
            snippet,
            shown.columns,
            name=name,
            ask=fence.setting("ask", ask),
            extra=extra,
            why=fence.setting("why"),
        )
        return self._with_problems(body + "\n\n" + shown.meta, shown.problems, [relative])

    def _table(self, fence: Fence) -> tuple[str, list[str]]:
        rows: list[tuple[str, dict[str, str]]] = []
        found: list[str] = []
        ran: dict[str, str] = {}  # key -> exact label of what produced the cells
        snippets = []
        for label, relative in fence.rows:
            try:
                snippet = self.project.load(relative)
            except (OSError, SnippetError) as error:
                found.append(str(error))
                continue
            snippets.append(snippet)
            by_key: dict[str, str] = {}
            if self.project.settings.execute:
                for result in self.project.results(snippet):
                    ran[result.key] = result.interpreter.exact_label
                    by_key[result.key] = result.steps[-1].output if result.steps else ""
                    found.extend(problems(snippet, result))
            else:
                for column in recorded_columns(snippet):
                    for key in column.keys:
                        ran[key] = describe_key(key)
                        by_key[key] = column.outputs[-1]
            rows.append((label, by_key))
        keys = [key for key in supported_keys() if key in ran]
        sources = ", ".join(s.display_path for s in snippets)
        if self.project.settings.execute:
            exact = ", ".join(ran[k] for k in keys)
            meta = f"{_META}Generated at build time from {sources} · ran on {exact}</p>"
        else:
            meta = f"{_META}Execution off: recorded outputs · {sources}</p>"
        markdown = table(rows, [(key, describe_key(key)) for key in keys], meta)
        return self._with_problems(markdown, found, fence.paths)

    def value(self, value: Value) -> tuple[str, str, list[str]]:
        """An inline value: (the text, where it came from, problems)."""
        # Only the outputs: highlights, provenance, problems and drawings are the snippet's own fence's.
        ran = self._ran(value.path)
        if not isinstance(ran, Ran):
            return "(not available)", value.path, ran[1] or [f"snippets/{value.path}: not available"]
        snippet, columns = ran.snippet, ran.columns
        steps = [i for i, step in enumerate(snippet.steps) if value.line is None or step.lineno == value.line]
        where = f"{snippet.display_path}:{value.line or snippet.steps[-1].lineno}"
        if not steps:
            return (
                "(no such input)",
                where,
                self._located([f"{where}: no input starts on that line"], [value.path]),
            )
        index = steps[-1]
        try:
            if value.key == "all":
                parts = [(extract(c.outputs[index], value.pattern), c.keys) for c in columns]
                text = join_values(parts)
            else:
                column = next((c for c in columns if value.key in c.keys), None)
                if column is None:
                    keys = ", ".join(k for c in columns for k in c.keys)
                    problem = f"{where}: no output for {value.key} in this build (ran: {keys})"
                    return f"(not run on {value.key})", where, self._located([problem], [value.path])
                text = extract(column.outputs[index], value.pattern)
        except ValueError as error:
            return "(no value)", where, self._located([f"{where}: {error}"], [value.path])
        return text, where, []

    def _with_problems(
        self, markdown: str, found: list[str], relatives: Sequence[str]
    ) -> tuple[str, list[str]]:
        """The Markdown as it is, or after a failure box listing the problems, which are returned located."""
        if not found:
            return markdown, []
        return failure("\n".join(found), [markdown]), self._located(found, relatives)

    def _located(self, found: list[str], relatives: Sequence[str]) -> list[str]:
        """The problems, headed by the pages that embed these snippets."""
        embedded = self.project.embedded()
        pages = sorted({page for relative in relatives for page in embedded.get(relative, [])})
        return [f"in {', '.join(pages) or 'a page not under docs/'}:", *found]


def wrapped(snippet: Snippet, columns: Sequence[Column], body: str) -> str:
    """The shown snippet inside a <div> that says which interpreters each tab covers and what Copy copies.

    docs/javascripts/outputs.js reads data-tab-keys to open the reader's
    interpreter's tab; Material's copy button copies data-copy when an ancestor
    has it: the inputs alone, as a reader would paste them. data-repl="basic"
    tells the "Edit and run" panel (tryit-panel.js) to run the basic REPL, as
    the build did.
    """
    keys = ";".join(" ".join(column.keys) for column in columns)
    attributes = f'data-tab-keys="{keys}"'
    if snippet.kind != "script":
        inputs = "".join(step.source for step in snippet.steps).rstrip("\n")
        attributes += f' data-copy="{html.escape(inputs)}"'
    if snippet.options.repl == "basic":
        attributes += ' data-repl="basic"'
    return f'<div class="snippet" {attributes} markdown>\n\n{body}\n\n</div>'


def extract(output: str, pattern: str | None) -> str:
    """The value an inline reference names: a one-line output, or what a regular expression picks out."""
    text = output.strip("\n")
    if pattern is not None:
        match = re.search(pattern, text)
        if match is None:
            raise ValueError(f"/{pattern}/ matches nothing in {text!r}")
        return match.group(1) if match.groups() else match.group(0)
    if "\n" in text:
        raise ValueError(f"the output has several lines; pick one with /regex/: {text!r}")
    return text


def join_values(parts: Sequence[tuple[str, Sequence[str]]]) -> str:
    """[("5", ["3.11"]), ("7", ["3.12"])] -> "5 on CPython 3.11 and 7 on CPython 3.12".

    Grouped by the value itself: columns that differ elsewhere in their output
    but agree on this value are named together.
    """
    merged: dict[str, list[str]] = {}
    for text, keys in parts:
        merged.setdefault(text, []).extend(keys)
    phrases = [f"{text} on {group_label(keys)}" for text, keys in merged.items()]
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]


def recorded_columns(snippet: Snippet) -> list[Column]:
    """Execution off: the records alone, grouped as a run's outputs would be."""
    labelled = {label for step in snippet.steps for v in step.expected for label in (v.labels or ())}
    keys = [k for k in supported_keys() if k in labelled] or supported_keys()
    return columns_of([(key, [step.expected_for(key)[0] or "" for step in snippet.steps]) for key in keys])
