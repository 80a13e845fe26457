"""What one run of one snippet on one interpreter produced.

A result carries the `Interpreter` it ran on, so nothing downstream parses
labels back out of strings. Stored results are plain JSON without the
interpreter (the cache key already names it) and are checked for shape when
read back: a file that is not exactly what `to_json` writes is not a result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .interpreters import Interpreter

# "exception:<Name>" carries the exception's class name; the rest are fixed.
_STATUS = re.compile(r"^(ok|syntax|exit|unfinished|failed|exception:[A-Za-z_][A-Za-z0-9_.]*)$")


@dataclass(frozen=True)
class StepResult:
    output: str
    status: str  # "ok", "syntax", "exception:<Name>", "exit", "failed" or "unfinished"


@dataclass(frozen=True)
class RunResult:
    interpreter: Interpreter
    steps: tuple[StepResult, ...]
    error: str | None = None  # why the run as a whole failed (timeout, crash, cap); never cached
    seconds: float = 0.0
    drawing: str | None = None  # the `draw` header's objects at the end of the run, as the worker wrote them

    @property
    def key(self) -> str:
        return self.interpreter.key

    def failed_at(self, count: int) -> int:
        """Index of the step the failure happened in, for a path:line in messages."""
        for index, step in enumerate(self.steps):
            if step.status in ("unfinished", "exit"):
                return index
        # The process died before reporting the next step: that one was running.
        return min(len(self.steps), count - 1)

    def to_json(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "steps": [[s.output, s.status] for s in self.steps],
            "seconds": self.seconds,
        }
        if self.drawing is not None:
            stored["drawing"] = self.drawing
        return stored

    @classmethod
    def from_json(cls, data: object, interpreter: Interpreter, steps: int) -> RunResult | None:
        """The stored result, or None when `data` is not one for a snippet of `steps` steps."""
        if not isinstance(data, dict) or set(data) - {"drawing"} != {"steps", "seconds"}:
            return None
        stored, seconds, drawing = data["steps"], data["seconds"], data.get("drawing")
        if drawing is not None and not isinstance(drawing, str):
            return None
        if not isinstance(stored, list) or len(stored) != steps or not isinstance(seconds, (int, float)):
            return None
        parsed = []
        for item in stored:
            if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)):
                return None
            output, status = item
            if not _STATUS.match(status) or status in ("unfinished", "exit"):
                return None  # only completed runs are ever stored
            parsed.append(StepResult(output, status))
        return cls(interpreter, tuple(parsed), None, float(seconds), drawing)
