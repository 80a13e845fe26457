"""Run documentation snippets the way a reader's own interpreter would, on every
supported interpreter, and render, check and update them.

Split by job: `interpreters` (which exist), `snippet` (the file format), `run`
(one fresh process), `sandbox` (isolation, limits, timeout; its launcher
runs inside bubblewrap), `cache`, `project` (pool and paths), `check`
(doctest comparison and updates), `render` (the superfences fence), `memo` and
`plugin` (what `mkdocs serve` keeps between rebuilds), `cli`.
"""

from .check import Mismatch, matches, mismatches, normalise, problems, updated
from .interpreters import SUPPORTED, Discovery, Interpreter, discover, supported_keys
from .project import Project, current, find_root
from .run import RunResult, StepResult, run
from .snippet import Options, Snippet, SnippetError, Step, Variant, dump, parse

__all__ = [
    "SUPPORTED",
    "Discovery",
    "Interpreter",
    "Mismatch",
    "Options",
    "Project",
    "RunResult",
    "Snippet",
    "SnippetError",
    "Step",
    "StepResult",
    "Variant",
    "current",
    "discover",
    "dump",
    "find_root",
    "matches",
    "mismatches",
    "normalise",
    "parse",
    "problems",
    "run",
    "supported_keys",
    "updated",
]
