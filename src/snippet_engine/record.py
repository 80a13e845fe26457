"""Rewrite a snippet's recorded outputs from real runs (`snippets update`).

A record is kept where it still matches what its interpreter printed, frames
of a traceback included, so deliberate placeholders (`...` under ELLIPSIS,
addresses) survive; anywhere else the file gets what each interpreter really
printed, grouped where the texts are identical. Records of supported
interpreters not present on this machine are kept as they are; records of
interpreters the site no longer supports are dropped.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .check import matches
from .header import SnippetError
from .interpreters import supported_keys
from .results import RunResult
from .snippet import PROMPTS, Snippet, Step, Variant, dump, is_prompt, output_lines, parse

_LABEL_LIKE = re.compile(r"^#>?\[[^\]]*\]$")


def _recorded(step: Step, key: str) -> str | None:
    """The text recorded for exactly this interpreter (not one borrowed from an older version)."""
    text, borrowed = step.expected_for(key)
    return None if borrowed else text


def _step(snippet: Snippet, step: Step, outputs: dict[str, str]) -> Step:
    chosen: dict[str, str] = {}
    for key, got in outputs.items():
        want = _recorded(step, key)
        keep = want is not None and matches(want, got, snippet.options, any_frames=False)
        chosen[key] = want if keep and want is not None else got
    labels = {label for variant in step.expected for label in variant.labels or ()}
    if all(chosen[key] == _recorded(step, key) for key in chosen) and labels <= set(supported_keys()):
        return step
    order = supported_keys()
    for variant in step.expected:
        for label in variant.labels or ():
            if label in order:  # records of interpreters no longer supported are dropped
                chosen.setdefault(label, variant.text)
    keys = sorted(chosen, key=order.index)
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(chosen[key], []).append(key)
    if len(groups) == 1:
        return replace(step, expected=(Variant(None, next(iter(groups))),))
    return replace(step, expected=tuple(Variant(tuple(k), text) for text, k in groups.items()))


def updated(snippet: Snippet, results: list[RunResult]) -> Snippet:
    """The snippet with records rewritten where a real run disagrees with them."""
    steps = []
    for index, step in enumerate(snippet.steps):
        # A run that failed (a timeout, a crash, an exit half-way) records nothing:
        # its warning says what happened, and the old record stays.
        outputs = {r.key: r.steps[index].output for r in results if r.error is None and index < len(r.steps)}
        steps.append(_step(snippet, step, outputs) if outputs else step)
    return replace(snippet, steps=tuple(steps))


def _unwritable(kind: str, text: str) -> str | None:
    """Why an output cannot be written so that it reads back the same, if it cannot."""
    for line in output_lines(text):
        if line and not line.strip():
            return "a line of only spaces (a blank line ends an output)"
        if line == "<BLANKLINE>":
            return "a line that reads <BLANKLINE> (that marks an empty line)"
        if _LABEL_LIKE.match(line):
            return f"a line that reads like a label, {line!r}"
        if kind in PROMPTS and is_prompt(line, PROMPTS[kind][0]):
            return f"a line that starts like an input, {line!r}"
    return None


def unwritable(snippet: Snippet) -> str | None:
    """Why `dump(snippet)` would not read back as the same inputs and records, naming path:line."""
    for step in snippet.steps:
        for variant in step.expected:
            why = _unwritable(snippet.kind, variant.text)
            if why:
                where = f"{snippet.display_path}:{step.lineno}"
                return f"{where}: the output holds {why}; print its repr() instead, or change the example"
    try:
        again = parse(snippet.path, dump(snippet))
    except SnippetError as error:
        return str(error)
    if [(s.source, s.expected) for s in again.steps] != [(s.source, s.expected) for s in snippet.steps]:
        return f"{snippet.display_path}: the recorded outputs would not read back as written"
    return None
