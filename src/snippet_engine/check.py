"""Compare real runs with recorded outputs, and with each other, by doctest's rules.

Normalisation happens here and only here: addresses always, and for snippets
whose header says their output `varies`, long integers too (ids).
"""

from __future__ import annotations

import doctest
import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from .header import Options
from .results import RunResult
from .snippet import Snippet, Step, output_lines

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
_LONG_INT = re.compile(r"(?<![\w.])\d{9,}(?![\w.])")
_TRACEBACK = "Traceback (most recent call last):\n"
_EXCEPTION = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)(?P<detail>:.*)?$", re.DOTALL)
_CHECKER = doctest.OutputChecker()
_PLAIN = Options()


def normalise(text: str, options: Options) -> str:
    text = _ADDRESS.sub("0x…", text)
    if options.varies:
        text = _LONG_INT.sub("<id>", text)
    return text


def _without_stack(text: str, ignore_detail: bool) -> str:
    # Like doctest: after the traceback header only the exception itself counts,
    # so a frame listing that differs between versions is no difference.
    before, header, after = text.partition(_TRACEBACK)
    if not header:
        return text
    lines = after.splitlines(keepends=True)
    index = 0
    while index < len(lines) and lines[index][:1] in (" ", "\t"):
        index += 1
    exception = "".join(lines[index:])
    if ignore_detail:
        # doctest's IGNORE_EXCEPTION_DETAIL: the class name without its module, no message.
        match = _EXCEPTION.match(exception.strip("\n"))
        if match:
            exception = match["name"].rsplit(".", 1)[-1] + "\n"
    return before + header + exception


def _terminated(text: str) -> str:
    # Recorded outputs are whole lines; output that ends without a newline
    # (`print(end="")`, `printf`) is compared as if it had one, as doctest does.
    return text + "\n" if text and not text.endswith("\n") else text


def matches(want: str, got: str, options: Options, *, any_frames: bool = True) -> bool:
    """doctest's rules; `any_frames=False` also requires the traceback frames to agree."""
    if want == got:
        # Equal texts stay equal under every rule below; most runs of a warm
        # build end here.
        return True
    want, got = _terminated(normalise(want, options)), _terminated(normalise(got, options))
    flags = options.optionflags
    if _CHECKER.check_output(want, got, flags):
        return True
    if not any_frames:
        return False
    ignore = "IGNORE_EXCEPTION_DETAIL" in options.flags
    return _CHECKER.check_output(_without_stack(want, ignore), _without_stack(got, ignore), flags)


@dataclass(frozen=True)
class Mismatch:
    step: Step
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
            found.append(Mismatch(step, want, step_result.output, note))
    return found


def problems(snippet: Snippet, result: RunResult) -> list[str]:
    """Everything wrong with one run, each naming path:line and the interpreter.

    The one wording shared by the build's warnings, the tests and `snippets run`.
    """
    label = result.interpreter.exact_label
    found = []
    if result.error:
        line = snippet.steps[result.failed_at(len(snippet.steps))].lineno
        found.append(f"{snippet.display_path}:{line} on {label}: {result.error}")
    found.extend(m.describe(snippet.display_path, label) for m in mismatches(snippet, result))
    return found


def comparable(output: str) -> str:
    """An output as compared between interpreters: addresses differ on every run, not between versions."""
    return normalise(output, _PLAIN)


def _lines(column: Sequence[str], index: int) -> list[str]:
    return output_lines(comparable(column[index])) if index < len(column) else []


def differing(count: int, columns: Sequence[Sequence[str]], reference: int = 0) -> list[set[tuple[int, int]]]:
    """Per column, the (step, line within its output) positions of the lines the others do not share.

    Each column is aligned with the reference column (the tab a reader sees
    first) as difflib aligns two texts, so one extra line (a frame in PyPy's
    traceback) marks that line, not every line below it; the reference marks
    what any other column lacks. A column where more than half the output
    lines differ is left unmarked: the tab as a whole is the difference (a
    `dis` listing of another version, a one-line answer), and marking all of
    it would point at nothing.
    """
    marks: list[set[tuple[int, int]]] = [set() for _ in columns]
    totals = [0] * len(columns)
    for index in range(count):
        outputs = [_lines(column, index) for column in columns]
        for number, lines in enumerate(outputs):
            totals[number] += len(lines)
        for number, lines in enumerate(outputs):
            if lines == outputs[reference]:
                continue  # the common case: the same text, nothing to align
            matcher = SequenceMatcher(None, outputs[reference], lines, autojunk=False)
            for tag, start, end, other_start, other_end in matcher.get_opcodes():
                if tag != "equal":
                    marks[reference].update((index, line) for line in range(start, end))
                    marks[number].update((index, line) for line in range(other_start, other_end))
    return [found if 2 * len(found) <= total else set() for found, total in zip(marks, totals, strict=True)]
