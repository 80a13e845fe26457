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

import html
import logging
import threading
from collections.abc import Sequence
from typing import Any

from markdown import Markdown
from markdown_exec import base_format, tabbed
from pymdownx.superfences import SuperFencesException

from .check import mismatches
from .interpreters import describe_key
from .project import Project, Selection, current
from .run import HASH_SEED, RunResult
from .snippet import Snippet, SnippetError

# Under the "mkdocs" logger tree so `mkdocs build --strict` counts it.
logger = logging.getLogger("mkdocs.plugins.snippet_engine")

_ALLOWED_ATTRIBUTES = {"title"}
_prefetch_lock = threading.Lock()
_prefetched: set[int] = set()

PROMPTS = {"pycon": (">>> ", "... "), "console": ("$ ", "> ")}
LANGUAGES = {"pycon": "pycon", "console": "console", "script": "python"}


def validate(language: str, inputs: dict[str, str], options: dict[str, Any], attrs: dict[str, Any], md: Markdown) -> bool:
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
    _prefetch_site(project)
    relative = source.strip()
    markdown = render_snippet(project, relative, title=options.get("title"))
    return str(base_format(language="snippet", run=lambda code, **_: markdown, code=relative, md=md, update_toc=False))


def _prefetch_site(project: Project) -> None:
    # The first fence of a build starts every snippet of the site on the pool,
    # so interpreters run in parallel while pages render one by one.
    with _prefetch_lock:
        if id(project) in _prefetched:
            return
        _prefetched.add(id(project))
    project.prefetch(list(project.embedded()))


def render_snippet(project: Project, relative: str, title: str | None = None) -> str:
    """Markdown for one snippet; problems are logged and shown, never swallowed."""
    pages = ", ".join(project.embedded().get(relative, [])) or "no page"
    try:
        snippet = project.load(relative)
    except (OSError, SnippetError) as error:
        return _failure(f"{error} (in {pages})", [])
    selection = project.select(snippet)
    if not selection.run_on:
        reasons = "; ".join(f"{describe_key(k)}: {why}" for k, why in selection.skipped)
        return _failure(f"snippets/{relative}: no interpreter to run it on ({reasons}) (in {pages})", [])
    results = project.results(snippet)
    problems = []
    for result in results:
        if result.error:
            line = snippet.steps[min(len(result.steps), len(snippet.steps)) - 1].lineno
            problems.append(f"{snippet.display_path}:{line} on {result.label}: {result.error}")
        for mismatch in mismatches(snippet, result):
            problems.append(mismatch.describe(snippet.display_path, f"{result.label} ({result.full_version})"))
    body = _render_results(snippet, results, selection, title)
    if problems:
        return _failure(f"in {pages}:\n" + "\n".join(problems), [body])
    return body


def _failure(message: str, after: list[str]) -> str:
    logger.warning("snippet: %s", message)
    box = '!!! failure "This example did not run as recorded"\n\n' + _indent(_fenced("text", message))
    return "\n\n".join([box, *after])


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else "" for line in text.splitlines())


def _fenced(language: str, code: str, hl_lines: Sequence[int] = ()) -> str:
    # markdown_exec.code_block uses a fixed eight-backtick fence; real output
    # may itself contain backticks, so the fence grows past the longest run.
    longest, run = 0, 0
    for char in code:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(8, longest + 1)
    options = f' hl_lines="{" ".join(map(str, hl_lines))}"' if hl_lines else ""
    return f"{fence}{language}{options}\n{code}\n{fence}"


def _lines(snippet: Snippet, result: RunResult) -> list[tuple[int, str]]:
    """(step index or -1 for source, line) for the transcript as one interpreter printed it."""
    out: list[tuple[int, str]] = []
    prompt, more = PROMPTS.get(snippet.kind, ("", ""))
    for index, step_result in enumerate(result.steps):
        if snippet.kind != "script":
            source = snippet.steps[index].source.splitlines() or [""]
            out.append((-1, prompt + source[0] if source[0] else prompt.rstrip()))
            out.extend((-1, (more + line) if line else more.rstrip()) for line in source[1:])
        out.extend((index, line) for line in step_result.output.splitlines())
    return out


def _differing(snippet: Snippet, results: list[RunResult]) -> set[tuple[int, int]]:
    """(step, line within its output) positions where interpreters disagree."""
    positions: set[tuple[int, int]] = set()
    for index in range(len(snippet.steps)):
        outputs = [r.steps[index].output.splitlines() if index < len(r.steps) else [] for r in results]
        for line in range(max(map(len, outputs), default=0)):
            seen = {o[line] if line < len(o) else None for o in outputs}
            if len(seen) > 1:
                positions.add((index, line))
    return positions


def _block(snippet: Snippet, result: RunResult, differing: set[tuple[int, int]]) -> str:
    lines = _lines(snippet, result)
    marks, counters = [], {}
    for number, (step, _) in enumerate(lines, start=1):
        if step >= 0:
            position = counters.get(step, 0)
            counters[step] = position + 1
            if (step, position) in differing:
                marks.append(number)
    text = "\n".join(line for _, line in lines)
    if snippet.kind == "script":
        return _fenced("text", text or "(no output)", marks)
    return _fenced(LANGUAGES[snippet.kind], text, marks)


def _render_results(snippet: Snippet, results: list[RunResult], selection: Selection, title: str | None) -> str:
    differing = _differing(snippet, results)
    same = not differing and len({len(r.steps) for r in results}) == 1
    parts = []
    if title:
        parts.append(f"**{html.escape(title)}**")
    if snippet.kind == "script":
        parts.append(_fenced("python", snippet.steps[0].source.rstrip("\n")))
    if same:
        parts.append(_block(snippet, results[0], differing))
    else:
        parts.append(tabbed(*[(r.label.split(" (")[0], _block(snippet, r, differing)) for r in results]))
    parts.append(_provenance(snippet, results, selection, same))
    return "\n\n".join(parts)


def _exact(result: RunResult) -> str:
    """'CPython 3.12' -> 'CPython 3.12.1'; 'PyPy 3.9 (7.3.11)' -> 'PyPy 3.9.16 (7.3.11)'."""
    name, language, *rest = result.label.split(" ")
    return " ".join([name, result.full_version, *rest])


def _names(results: list[RunResult]) -> str:
    cpython = [r.label.split(" ")[1] for r in results if r.label.startswith("CPython")]
    others = [r.label.split(" (")[0] for r in results if not r.label.startswith("CPython")]
    groups = ([f"CPython {', '.join(cpython)}"] if cpython else []) + others
    return " and ".join(groups)


def _provenance(snippet: Snippet, results: list[RunResult], selection: Selection, same: bool) -> str:
    if same:
        lead = f"Same output on {_names(results)}"
    else:
        lead = "Output differs between interpreters: differing lines are highlighted"
    details = [
        lead,
        "ran on " + ", ".join(_exact(r) for r in results),
        f"PYTHONHASHSEED={HASH_SEED}",
        snippet.display_path,
    ]
    if selection.skipped:
        details.append("not run: " + "; ".join(f"{describe_key(k)} ({why})" for k, why in selection.skipped))
    body = " · ".join(html.escape(d) for d in details)
    note = ""
    if snippet.options.varies:
        note = f'\n\n!!! info "Varies from run to run"\n\n    {html.escape(snippet.options.varies)}'
    return f'<p class="snippet-meta">{body}</p>{note}'
