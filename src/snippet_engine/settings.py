"""Every knob of the engine, read from the environment once, in one place.

The table in CONTRIBUTING.md ("Settings") documents each variable; a test
keeps the two in step. Nothing else in the package reads `os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# variable -> what it does; CONTRIBUTING.md's table lists exactly these.
VARIABLES = {
    "SNIPPET_PYTHONS": "':'-separated interpreter paths; replaces discovery",
    "SNIPPET_EXECUTE": "'0': run nothing; pages show the recorded outputs, labelled",
    "SNIPPET_STRICT": "'1': a failing snippet raises instead of warning (Zensical counts no warnings)",
    "SNIPPET_NO_CACHE": "'1': ignore and do not write the results cache",
    "SNIPPET_CACHE_DIR": "where results are cached (default .cache/snippets)",
    "SNIPPET_SANDBOX": "'none': no bubblewrap; snippets then run only with SNIPPET_TRUSTED=1",
    "SNIPPET_TRUSTED": "'1': without bubblewrap, run snippets anyway, unsandboxed (only snippets you trust)",
    "SNIPPET_RUN_DIR": "where run directories go (default /dev/shm when usable)",
    "SNIPPET_ROOT": "the project root, when it cannot be inferred",
    "SNIPPET_PYTHONS_CACHE": "where make pythons installs interpreters and the engine keeps clean venvs",
}


@dataclass(frozen=True)
class Settings:
    root: Path
    pythons: tuple[str, ...] | None = None  # None: discover; otherwise exactly these paths
    execute: bool = True
    strict: bool = False
    use_cache: bool = True
    cache_dir: Path | None = None  # None: <root>/.cache/snippets
    sandbox: str = "auto"  # "auto": bubblewrap when it works; "none": never
    trusted: bool = False  # without bubblewrap, run snippets anyway (otherwise each run is refused)
    run_dir: str | None = None  # None: /dev/shm when usable, else the system's temp
    pythons_dir: Path | None = None  # installed interpreters (manifest.json) and clean venvs; None: neither

    @property
    def results_dir(self) -> Path:
        return self.cache_dir or self.root / ".cache" / "snippets"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, *, root: Path | None = None) -> Settings:
        env = os.environ if environ is None else environ
        pythons = env.get("SNIPPET_PYTHONS")
        cache_dir = env.get("SNIPPET_CACHE_DIR")
        return cls(
            root=root or find_root(env.get("SNIPPET_ROOT")),
            pythons=None if pythons is None else tuple(p for p in pythons.split(os.pathsep) if p),
            execute=env.get("SNIPPET_EXECUTE", "1") != "0",
            strict=env.get("SNIPPET_STRICT") == "1",
            use_cache=not env.get("SNIPPET_NO_CACHE"),
            cache_dir=Path(cache_dir) if cache_dir else None,
            sandbox="none" if env.get("SNIPPET_SANDBOX") == "none" else "auto",
            trusted=env.get("SNIPPET_TRUSTED") == "1",
            run_dir=env.get("SNIPPET_RUN_DIR") or None,
            pythons_dir=Path(env.get("SNIPPET_PYTHONS_CACHE") or _user_cache(env) / "pythons"),
        )


def _user_cache(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".cache")
    return Path(base) / "python-under-the-hood"


def find_root(configured: str | None = None) -> Path:
    """The repository root, whatever the builder's current directory."""
    if configured:
        return Path(configured).resolve()
    # An editable install sits in src/ of the checkout; prefer that over cwd so
    # `mkdocs build -f /repo/mkdocs.yml` from elsewhere gives the same site.
    here = Path(__file__).resolve().parents[2]
    if (here / "mkdocs.yml").is_file() and (here / "snippets").is_dir():
        return here
    return Path.cwd()
