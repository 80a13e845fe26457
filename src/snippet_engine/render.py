"""The `snippet` fence: run a snippet file everywhere and show what really came out.

Registered in mkdocs.yml as a pymdownx.superfences custom fence, so it works
wherever Python-Markdown runs (MkDocs, Zensical). A page writes

    ```snippet
    memory/small_int_cache.pycon
    ```

and gets the transcript with real outputs: one block when every interpreter
agrees, linked content tabs (one per interpreter) with the differing lines
highlighted when they do not, and a provenance line. A run that fails, or
disagrees with the outputs recorded in the file, is logged as a warning naming
the snippet's path:line, the interpreter and the page (so `--strict` fails) and
is shown on the page in a failure box.
"""

from __future__ import annotations

import functools
import html
import logging
import os
import re
import threading
import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markdown import Markdown
from markdown_exec import base_format, tabbed
from pymdownx.superfences import SuperFencesException

from .check import normalise, problems
from .interpreters import describe_key, supported_keys
from .memo import BuildMemo
from .project import Project, Selection, current
from .run import HASH_SEED, RunResult, StepResult, sandbox_description
from .snippet import Options, Snippet, SnippetError, prompted

# Under the "mkdocs" logger tree so `mkdocs build --strict` counts it.
logger = logging.getLogger("mkdocs.plugins.snippet_engine")

_ALLOWED_ATTRIBUTES = {"title"}
_prefetch_lock = threading.Lock()
_prefetched: set[int] = set()

LANGUAGES = {"pycon": "pycon", "console": "console", "script": "python"}
# Provenance lines say where an output came from, not what the page teaches:
# kept out of the search index (Material's data-search-exclude), so a search
# for "3.12" finds the text about 3.12 rather than every snippet's line.
_META = '<p class="snippet-meta" data-search-exclude>'

# (fence kind, id prefix, Markdown) -> HTML. Converting a fence's Markdown (a
# nested Markdown instance, pygments) is most of a rebuild; the plugin turns
# the memo on with the configuration's fingerprint as its scope.
FENCE_HTML: BuildMemo[tuple[str, str, str], str] = BuildMemo("fence HTML")
# Per page (one Markdown instance each): how many fences used each id prefix.
_prefixes: weakref.WeakKeyDictionary[Markdown, Counter[str]] = weakref.WeakKeyDictionary()


def validate(
    language: str, inputs: dict[str, str], options: dict[str, Any], attrs: dict[str, Any], md: Markdown
) -> bool:
    unknown = set(inputs) - _ALLOWED_ATTRIBUTES
    if unknown:
        # Superfences swallows every other exception and leaves the block raw.
        raise SuperFencesException(f"snippet fence: unknown attribute(s) {sorted(unknown)}")
    options.update(inputs)
    return True


def fence_format(
    source: str, language: str, css_class: str, options: dict[str, Any], md: Markdown, **kwargs: Any
) -> str:
    project = current()
    if project.execute:
        _prefetch_site(project)
    relative = source.strip()
    markdown = render_snippet(project, relative, title=options.get("title"))
    return _convert("snippet", markdown, md, name=relative)


def _id_prefix(md: Markdown, name: str) -> str:
    """'memory/small_int_cache.pycon' -> 'memory-small-int-cache-pycon--' (then '-2--' if repeated).

    markdown-exec's default prefix counts conversions across the whole process,
    so one edit renumbered every later fence and a remembered fence could
    collide; a prefix from the snippet's own name is stable and unique per page.
    """
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "fence"
    seen = _prefixes.setdefault(md, Counter())
    seen[base] += 1
    return f"{base}--" if seen[base] == 1 else f"{base}-{seen[base]}--"


def _convert(kind: str, markdown: str, md: Markdown, name: str) -> str:
    """A fence's Markdown -> HTML through the page's own extensions (tabs, admonitions, pygments)."""
    prefix = _id_prefix(md, name)

    def convert() -> str:
        return str(
            base_format(
                language=kind,
                run=lambda code, **_: markdown,
                code=name,
                md=md,
                update_toc=False,
                id_prefix=prefix,
            )
        )

    return FENCE_HTML.get((kind, prefix, markdown), convert)


def _prefetch_site(project: Project) -> None:
    # Without the plugin (Zensical), the first fence of the first build starts
    # every snippet of the site on the pool, so interpreters run in parallel
    # while pages render one by one.
    with _prefetch_lock:
        if id(project) in _prefetched:
            return
    prefetch_site(project)


def prefetch_site(project: Project) -> None:
    """Start every snippet the pages embed; the first call per project says where they run."""
    with _prefetch_lock:
        first = id(project) not in _prefetched
        _prefetched.add(id(project))
    if first:
        _announce(project)
    project.prefetch(list(project.embedded()))


def _announce(project: Project) -> None:
    discovery = project.discovery
    used = ", ".join(f"{i.label} [{i.full_version}]" for i in discovery.found) or "none"
    missing = ", ".join(describe_key(k) for k in discovery.missing()) or "none"
    logger.info("snippet engine: running snippets on %s; not available: %s", used, missing)
    logger.info("snippet engine: sandbox: %s", sandbox_description())


@dataclass
class Checked:
    """A snippet's runs and everything wrong with them, ready to render."""

    snippet: Snippet | None
    selection: Selection | None
    results: list[RunResult]
    problems: list[str]


def run_checked(project: Project, relative: str) -> Checked:
    """Load, run everywhere and compare with the record; problems name path:line and interpreter."""
    try:
        snippet = project.load(relative)
    except (OSError, SnippetError) as error:
        return Checked(None, None, [], [str(error)])
    selection = project.select(snippet)
    if not selection.run_on:
        reasons = "; ".join(f"{describe_key(k)}: {why}" for k, why in selection.skipped)
        return Checked(
            snippet, selection, [], [f"{snippet.display_path}: no interpreter to run it on ({reasons})"]
        )
    results = project.results(snippet)
    return Checked(snippet, selection, results, [p for r in results for p in problems(snippet, r)])


def render_recorded(project: Project, relative: str, title: str | None = None) -> str:
    """Execution off (SNIPPET_EXECUTE=0): the same display, built from the recorded outputs."""
    try:
        snippet = project.load(relative)
    except (OSError, SnippetError) as error:
        return _failure(str(error), [])
    labelled = {label for step in snippet.steps for v in step.expected for label in (v.labels or ())}
    keys = [k for k in supported_keys() if k in labelled] or ["3.10"]
    results = [
        RunResult(
            key,
            describe_key(key),
            "recorded",
            tuple(StepResult(step.expected_for(key)[0] or "", "ok") for step in snippet.steps),
        )
        for key in keys
    ]
    meta = f"{_META}Execution off: recorded outputs · {snippet.display_path}</p>"
    return _render_results(snippet, tuple(results), Selection((), ()), title, meta=meta)


def render_snippet(project: Project, relative: str, title: str | None = None) -> str:
    """Markdown for one snippet; problems are logged and shown, never swallowed."""
    if not project.execute:
        return render_recorded(project, relative, title)
    checked = run_checked(project, relative)
    body = []
    if checked.snippet and checked.selection and checked.results:
        body.append(_render_results(checked.snippet, tuple(checked.results), checked.selection, title))
    if checked.problems:
        return _failure(_pages_note(project, [relative]) + "\n".join(checked.problems), body)
    return body[0]


def _pages_note(project: Project, relatives: list[str]) -> str:
    embedded = project.embedded()
    pages = sorted({page for r in relatives for page in embedded.get(r, [])})
    return f"in {', '.join(pages) or 'a page not under docs/'}:\n"


def table_format(
    source: str, language: str, css_class: str, options: dict[str, Any], md: Markdown, **kwargs: Any
) -> str:
    """`snippet-table`: one row per `label | snippet path`, one column per interpreter.

    Each cell is the output of the snippet's last input on that interpreter (the
    exception line for a traceback), so a comparison table is never typed.
    """
    project = current()
    _prefetch_site(project)
    rows = []
    for line in source.strip().splitlines():
        if "|" not in line:
            raise SuperFencesException(f"snippet-table rows read 'label | snippet path', got {line!r}")
        label, relative = (part.strip() for part in line.rsplit("|", 1))
        rows.append((label, relative, run_checked(project, relative)))
    markdown = render_table(project, rows)
    return _convert("snippet-table", markdown, md, name="table")


def _cell(output: str) -> str:
    text = output.strip("\n")
    if "Traceback (most recent call last):" in text:
        text = text.splitlines()[-1]
    escaped = html.escape(text).replace("|", "&#124;").replace("\n", "<br>")
    return f"<code>{escaped}</code>" if escaped else "<em>nothing</em>"


def render_table(project: Project, rows: list[tuple[str, str, Checked]]) -> str:
    keys: list[str] = []
    labels: dict[str, str] = {}
    for _, _, checked in rows:
        for result in checked.results:
            if result.key not in keys:
                keys.append(result.key)
                labels[result.key] = result.label.split(" (")[0]
    order = supported_keys()
    keys.sort(key=order.index)
    lines = ["| What we asked | " + " | ".join(labels[k] for k in keys) + " |", "|---|" + "---|" * len(keys)]
    problems = []
    for label, _relative, checked in rows:
        by_key = {r.key: r for r in checked.results}
        cells = []
        for key in keys:
            found = by_key.get(key)
            cells.append(_cell(found.steps[-1].output) if found and found.steps else "<em>not run</em>")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
        problems.extend(checked.problems)
    exact = {r.key: _exact(r) for _, _, c in rows for r in c.results}
    ran = ", ".join(exact[k] for k in keys)
    sources = ", ".join(f"snippets/{relative}" for _, relative, _ in rows)
    provenance = f"Generated at build time from {sources} · ran on {ran}"
    meta = f"{_META}{html.escape(provenance)}</p>"
    table = "\n".join(lines) + "\n\n" + meta
    if problems:
        return _failure(_pages_note(project, [r for _, r, _ in rows]) + "\n".join(problems), [table])
    return table


STRICT_VARIABLE = "SNIPPET_STRICT"


def _failure(message: str, after: list[str]) -> str:
    logger.warning("snippet: %s", message)
    if os.environ.get(STRICT_VARIABLE) == "1":
        # For builders that do not count warnings (Zensical): superfences lets
        # only its own exception through, and that one stops the build.
        raise SuperFencesException(f"snippet: {message}")
    box = '!!! failure "This example did not run as recorded"\n\n' + _indent(_fenced("text", message))
    return "\n\n".join([box, *after])


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else "" for line in text.splitlines())


_BACKTICKS = re.compile("`+")


def _fenced(language: str, code: str, hl_lines: Sequence[int] = (), title: str | None = None) -> str:
    # markdown_exec.code_block uses a fixed eight-backtick fence; real output
    # may itself contain backticks, so the fence grows past the longest run.
    longest = max(map(len, _BACKTICKS.findall(code)), default=0)
    fence = "`" * max(8, longest + 1)
    options = f' hl_lines="{" ".join(map(str, hl_lines))}"' if hl_lines else ""
    if title:
        options += f' title="{html.escape(title)}"'
    return f"{fence}{language}{options}\n{code}\n{fence}"


def _lines(snippet: Snippet, result: RunResult) -> list[tuple[int, str]]:
    """(step index or -1 for source, line) for the transcript as one interpreter printed it."""
    out: list[tuple[int, str]] = []
    for index, step_result in enumerate(result.steps):
        if snippet.kind != "script":
            out.extend((-1, line) for line in prompted(snippet.kind, snippet.steps[index].source))
        out.extend((index, line) for line in step_result.output.splitlines())
    return out


_PLAIN = Options()


def _differing(snippet: Snippet, results: Sequence[RunResult]) -> set[tuple[int, int]]:
    """(step, line within its output) positions where interpreters disagree."""
    positions: set[tuple[int, int]] = set()
    for index in range(len(snippet.steps)):
        raw = {r.steps[index].output if index < len(r.steps) else None for r in results}
        if len(raw) == 1 and None not in raw:
            continue  # the same text everywhere, the common case: nothing to compare line by line
        # Addresses differ on every run, not between versions: not worth a tab.
        outputs = [
            normalise(r.steps[index].output, _PLAIN).splitlines() if index < len(r.steps) else []
            for r in results
        ]
        for line in range(max(map(len, outputs), default=0)):
            seen = {o[line] if line < len(o) else None for o in outputs}
            if len(seen) > 1:
                positions.add((index, line))
    return positions


def _block(snippet: Snippet, result: RunResult, differing: set[tuple[int, int]]) -> str:
    lines = _lines(snippet, result)
    marks: list[int] = []
    counters: dict[int, int] = {}
    for number, (step, _) in enumerate(lines, start=1):
        if step >= 0:
            position = counters.get(step, 0)
            counters[step] = position + 1
            if (step, position) in differing:
                marks.append(number)
    text = "\n".join(line for _, line in lines)
    if snippet.kind == "script":
        return _fenced("text", text or "(no output)", marks, title="Output")
    return _fenced(LANGUAGES[snippet.kind], text, marks)


@functools.lru_cache(maxsize=1024)
def _render_results(
    snippet: Snippet,
    results: tuple[RunResult, ...],
    selection: Selection,
    title: str | None,
    meta: str | None = None,
) -> str:
    differing = _differing(snippet, results)
    same = not differing and len({len(r.steps) for r in results}) == 1
    parts = []
    if title:
        parts.append(f"**{html.escape(title)}**")
    if snippet.kind == "script":
        parts.append(_fenced("python", snippet.steps[0].source.rstrip("\n"), title=snippet.path.name))
    if same:
        parts.append(_block(snippet, results[0], differing))
    else:
        parts.append(tabbed(*[(r.label.split(" (")[0], _block(snippet, r, differing)) for r in results]))
    parts.append(meta or _provenance(snippet, results, selection, same))
    return "\n\n".join(parts)


def _exact(result: RunResult) -> str:
    """'CPython 3.12' -> 'CPython 3.12.1'; 'PyPy 3.9 (7.3.11)' -> 'PyPy 3.9.16 (7.3.11)'."""
    name, _language, *rest = result.label.split(" ")
    return " ".join([name, result.full_version, *rest])


def _names(results: Sequence[RunResult]) -> str:
    """'CPython 3.10.13, 3.11.7 and PyPy 3.9.16 (7.3.11)': exact versions, grouped."""
    cpython = [r.full_version for r in results if r.label.startswith("CPython")]
    others = [_exact(r) for r in results if not r.label.startswith("CPython")]
    groups = ([f"CPython {', '.join(cpython)}"] if cpython else []) + others
    return " and ".join(groups)


def _provenance(snippet: Snippet, results: Sequence[RunResult], selection: Selection, same: bool) -> str:
    # Short enough for a phone: one lead, the exact versions once, the file.
    if same:
        details = [f"Same output on {_names(results)}"]
    else:
        details = ["Differs between interpreters (highlighted lines)", f"ran on {_names(results)}"]
    details += [f"PYTHONHASHSEED={HASH_SEED}", snippet.display_path]
    limited = [key for key, why in selection.skipped if not why.endswith("not found on this machine")]
    missing = [key for key, why in selection.skipped if why.endswith("not found on this machine")]
    if limited:
        details.append(f"{snippet.options.versions} only: {snippet.options.why}")
    if missing:
        details.append("not installed for this build: " + ", ".join(describe_key(k) for k in missing))
    body = " · ".join(html.escape(d) for d in details)
    note = ""
    if snippet.options.varies:
        note = f'\n\n!!! info "Varies from run to run"\n\n    {html.escape(snippet.options.varies)}'
    return f"{_META}{body}</p>{note}"


def interpreters_format(
    source: str, language: str, css_class: str, options: dict[str, Any], md: Markdown, **kwargs: Any
) -> str:
    """`interpreters`: which interpreters produced this build's outputs."""
    discovery = current().discovery
    lines = ["| Interpreter | Exact version | Implementation release |", "|---|---|---|"]
    for interp in discovery.found:
        lines.append(f"| {interp.short_label} | {interp.full_version} | {interp.implementation_version} |")
    missing = [describe_key(k) for k in discovery.missing()]
    if missing:
        lines.append("")
        lines.append(
            f"Supported but not available to this build (their outputs are not shown): {', '.join(missing)}."
        )
    markdown = "\n".join(lines)
    return _convert("interpreters", markdown, md, name="interpreters")
