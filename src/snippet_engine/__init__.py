"""Run documentation snippets the way a reader's own interpreter would, on every
supported interpreter, and render, check and update them.

Split by job: `settings` (the environment, read once), `interpreters` (which
exist; `discovery` finds them), `header` and `snippet` (the file format),
`fences` (fence bodies), `sandbox` (with `launcher`, `exposure`, `cgroups`,
`limits`) and `run`/`kinds` (one fresh process per run), `results`, `cache`,
`project` (the one way to a result), `check` (doctest comparison), `record`
(rewriting records), `render` (results to Markdown), `build` and `extension`
(the Markdown extension both MkDocs and Zensical run), `drawing` (memory
diagrams), `plugin` (MkDocs-only speed-ups), `cli`.
"""

from .check import Mismatch, comparable, differing, matches, mismatches, normalise, problems
from .discovery import Discovery, discover
from .fences import Fence, FenceError, find_fences, parse_body
from .header import Options, SnippetError
from .interpreters import SUPPORTED, Interpreter, supported_keys
from .project import Project, Selection, open_project
from .record import updated
from .results import RunResult, StepResult
from .settings import Settings, find_root
from .snippet import Snippet, Step, Variant, dump, parse

__all__ = [
    "SUPPORTED",
    "Discovery",
    "Fence",
    "FenceError",
    "Interpreter",
    "Mismatch",
    "Options",
    "Project",
    "RunResult",
    "Selection",
    "Settings",
    "Snippet",
    "SnippetError",
    "Step",
    "StepResult",
    "Variant",
    "comparable",
    "differing",
    "discover",
    "dump",
    "find_fences",
    "find_root",
    "matches",
    "mismatches",
    "normalise",
    "open_project",
    "parse",
    "parse_body",
    "problems",
    "supported_keys",
    "updated",
]
