"""Times the rebuilds of tests/serve_session.py: `mkdocs serve`'s work, in one process, for scripts/bench.py.

    python scripts/serve_timing.py SITE_ROOT OUT_DIR EDIT SESSIONS

Runs that session (build, unchanged rebuild, rebuild after an edit of the
snippet EDIT, rebuild after its restoration) SESSIONS times in this process,
each edit with a new token so that it runs again, and prints JSON. Each build
is timed from its configuration's reload to the end of `build()`, as serve
does it. Run it in a fresh process: the engine's build is process-wide.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from mkdocs.utils import CountHandler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the namespace package `tests`


def cache_entries(cache: Path) -> int:
    return sum(1 for _ in cache.glob("*/*.json"))


def main(root: Path, out: Path, edit: str, sessions: int) -> dict[str, Any]:
    session: Any = importlib.import_module("tests.serve_session")  # its globals are wrapped below
    load, build, cache = session.load_config, session.build, Path(os.environ["SNIPPET_CACHE_DIR"])
    seconds: list[float] = []
    stored: list[int] = []  # cache entries after each build: an edit stores one per interpreter
    started: list[float] = []

    def timed_load(**kwargs: Any) -> Any:
        started.append(time.perf_counter())
        return load(**kwargs)

    def timed_build(config: Any) -> None:
        start = started.pop() if started else time.perf_counter()
        build(config)
        seconds.append(time.perf_counter() - start)
        stored.append(cache_entries(cache))

    session.load_config, session.build = timed_load, timed_build
    warnings = CountHandler(level=logging.WARNING)
    logging.getLogger("mkdocs").addHandler(warnings)
    logging.getLogger("mkdocs").propagate = False  # counted, not printed
    shown = []
    for _ in range(sessions):
        session.EDIT_TOKEN = f"bench-edit-{uuid.uuid4().hex[:8]}"
        shown.append(bool(session.main(root, out, edit)["builds"][2]["edit_shown_on"]))
    return {
        "edited": edit,
        "edit_rebuild_seconds": round(statistics.median(seconds[2::4]), 3),
        "edit_rebuild_samples": [round(s, 3) for s in seconds[2::4]],
        "unchanged_rebuild_seconds": round(min(seconds[1::4]), 3),
        "initial_build_seconds": round(seconds[0], 3),
        "runs_stored_per_edit": [stored[i] - stored[i - 1] for i in range(2, len(stored), 4)],
        "edit_shown_every_time": all(shown),
        "warnings": sum(count for _, count in warnings.get_counts()),
    }


if __name__ == "__main__":
    site, out, edit, sessions = sys.argv[1:]
    print(json.dumps(main(Path(site), Path(out), edit, int(sessions))))
