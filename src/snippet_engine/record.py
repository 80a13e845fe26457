"""Rewrite a snippet's recorded outputs from real runs (`snippets update`).

A record is kept where it still matches what its interpreter printed, frames
of a traceback included, so deliberate placeholders (`...` under ELLIPSIS,
addresses) survive; anywhere else the file gets what each interpreter really
printed, grouped where the texts are identical. Records of interpreters not
present on this machine are kept as they are.
"""

from __future__ import annotations

from dataclasses import replace

from .check import matches
from .interpreters import supported_keys
from .results import RunResult
from .snippet import Snippet, Step, Variant


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
    if all(chosen[key] == _recorded(step, key) for key in chosen):
        return step
    for variant in step.expected:
        for label in variant.labels or ():
            chosen.setdefault(label, variant.text)
    order = supported_keys()
    keys = sorted(chosen, key=lambda k: (order.index(k) if k in order else len(order), k))
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
        # An input the run never finished (timeout, crash) has nothing to record.
        outputs = {
            r.key: r.steps[index].output
            for r in results
            if index < len(r.steps) and r.steps[index].status != "unfinished"
        }
        steps.append(_step(snippet, step, outputs) if outputs else step)
    return replace(snippet, steps=tuple(steps))
