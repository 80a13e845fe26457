"""Compare real runs with recorded outputs (doctest's rules), and rewrite the records.

Normalisation happens here and only here: addresses always, and for snippets
whose header says their output `varies`, long integers too (ids).
"""

from __future__ import annotations

import doctest
import re
from dataclasses import dataclass, replace

from .interpreters import supported_keys
from .run import RunResult
from .snippet import Options, Snippet, Step, Variant

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
_LONG_INT = re.compile(r"(?<![\w.])\d{9,}(?![\w.])")
_TRACEBACK = "Traceback (most recent call last):\n"
_CHECKER = doctest.OutputChecker()


def normalise(text: str, options: Options) -> str:
    text = _ADDRESS.sub("0x…", text)
    if options.varies:
        text = _LONG_INT.sub("<id>", text)
    return text


def _without_stack(text: str) -> str:
    # Like doctest: after the traceback header only the exception itself counts,
    # so a frame listing that differs between versions is no difference.
    before, header, after = text.partition(_TRACEBACK)
    if not header:
        return text
    lines = after.splitlines(keepends=True)
    index = 0
    while index < len(lines) and lines[index][:1] in (" ", "\t"):
        index += 1
    return before + header + "".join(lines[index:])


def _terminated(text: str) -> str:
    # Recorded outputs are whole lines; output that ends without a newline
    # (`print(end="")`, `printf`) is compared as if it had one, as doctest does.
    return text + "\n" if text and not text.endswith("\n") else text


def matches(want: str, got: str, options: Options) -> bool:
    if want == got:
        # Equal texts stay equal under every rule below; most runs of a warm
        # build end here (4500 doctest comparisons cost 0.1 s at N=1000).
        return True
    want, got = _terminated(normalise(want, options)), _terminated(normalise(got, options))
    if _CHECKER.check_output(want, got, options.optionflags):
        return True
    return _CHECKER.check_output(_without_stack(want), _without_stack(got), options.optionflags)


@dataclass(frozen=True)
class Mismatch:
    step: Step
    key: str
    want: str | None  # None: nothing recorded for this interpreter
    got: str
    note: str | None

    def describe(self, path: str, label: str) -> str:
        first = self.step.source.splitlines()[0] if self.step.source.strip() else ""
        head = f"{path}:{self.step.lineno} on {label}: `{first}`"
        if self.want is None:
            return f"{head}\n  no output recorded for this interpreter; run `make update`"
        example = doctest.Example(self.step.source, self.want)
        difference = _CHECKER.output_difference(example, self.got, doctest.REPORT_UDIFF)
        note = f"\n  ({self.note})" if self.note else ""
        return f"{head}{note}\n{difference}"


def mismatches(snippet: Snippet, result: RunResult) -> list[Mismatch]:
    found = []
    for step, step_result in zip(snippet.steps, result.steps, strict=False):
        want, note = step.expected_for(result.key)
        if want is None or not matches(want, step_result.output, snippet.options):
            found.append(Mismatch(step, result.key, want, step_result.output, note))
    return found


def problems(snippet: Snippet, result: RunResult) -> list[str]:
    """Everything wrong with one run, each naming path:line and the interpreter.

    The one wording shared by the build's warnings, the tests and `snippets run`.
    """
    label = f"{result.label} ({result.full_version})"
    found = []
    if result.error:
        line = snippet.steps[result.failed_at(len(snippet.steps))].lineno
        found.append(f"{snippet.display_path}:{line} on {label}: {result.error}")
    found.extend(m.describe(snippet.display_path, label) for m in mismatches(snippet, result))
    return found


def _regroup(step: Step, outputs: dict[str, str], options: Options) -> tuple[Variant, ...]:
    groups: list[tuple[str, list[str]]] = []
    # Records for interpreters not present here (3.14 on a contributor's
    # machine, PyPy elsewhere) are kept as they are.
    for variant in step.expected:
        for label in variant.labels or ():
            if label not in outputs:
                outputs = {**outputs, label: variant.text}
    for key in [k for k in supported_keys() if k in outputs]:
        for text, keys in groups:
            if matches(text, outputs[key], options):
                keys.append(key)
                break
        else:
            groups.append((outputs[key], [key]))
    if len(groups) == 1:
        return (Variant(None, groups[0][0]),)
    return tuple(Variant(tuple(keys), text) for text, keys in groups)


def updated(snippet: Snippet, results: list[RunResult]) -> Snippet:
    """The snippet with records rewritten where a real run disagrees with them."""
    steps = []
    for index, step in enumerate(snippet.steps):
        outputs = {r.key: r.steps[index].output for r in results if index < len(r.steps)}
        agrees = all(
            (want := step.expected_for(key)[0]) is not None and matches(want, got, snippet.options)
            for key, got in outputs.items()
        )
        steps.append(
            step
            if agrees or not outputs
            else replace(step, expected=_regroup(step, outputs, snippet.options))
        )
    return replace(snippet, steps=tuple(steps))
