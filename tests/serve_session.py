"""Builds a site several times in one process, the way `mkdocs serve` does, and reports.

Run as a script by tests/test_serve_speed.py, in a fresh process so the
engine's process-wide state (memos, futures) starts empty:

    python tests/serve_session.py SITE_ROOT OUT_DIR [EDIT]

Prints JSON: for each build, a digest of every output file and what the
plugin reused. With EDIT (a snippets/-relative path), the third build follows
an edit of that snippet (one more input, recorded correctly) and the fourth
follows its restoration.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from mkdocs.commands.build import build
from mkdocs.config import load_config

from snippet_engine.build import shared_build

EDIT_TOKEN = "serve-session-edit"


def digests(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def main(root: Path, out: Path, edit: str | None) -> dict[str, Any]:
    first = load_config(config_file=str(root / "mkdocs.yml"), site_dir=str(out))
    first.plugins.on_startup(command="serve", dirty=False)
    builds: list[dict[str, Any]] = []

    plugin = first.plugins["snippet-engine"]  # one instance for the session, as under serve

    def rebuild(config: Any = None) -> None:
        # serve reloads the configuration for every rebuild after the first.
        config = config or load_config(config_file=str(root / "mkdocs.yml"), site_dir=str(out))
        memos = (shared_build().memo, plugin.search_entries)
        before = {memo.name: (memo.hits, memo.misses) for memo in memos}
        loads = plugin.templates.loads
        build(config)
        reused = {
            memo.name: {
                "hits": memo.hits - before[memo.name][0],
                "misses": memo.misses - before[memo.name][1],
            }
            for memo in memos
        }
        reused["templates"] = {"hits": plugin.templates.loads - loads, "misses": 0}
        shown = sorted(
            p.relative_to(out).as_posix() for p in out.rglob("*.html") if EDIT_TOKEN in p.read_text()
        )
        builds.append({"files": digests(out), "reused": reused, "edit_shown_on": shown})

    rebuild(first)
    rebuild()
    if edit:
        target = root / "snippets" / edit
        original = target.read_text(encoding="utf-8")
        target.write_text(original.rstrip("\n") + f"\n>>> '{EDIT_TOKEN}'\n'{EDIT_TOKEN}'\n", encoding="utf-8")
        try:
            rebuild()
        finally:
            target.write_text(original, encoding="utf-8")
        rebuild()
    first.plugins.on_shutdown()
    return {"builds": builds}


if __name__ == "__main__":
    arguments = sys.argv[1:]
    print(
        json.dumps(main(Path(arguments[0]), Path(arguments[1]), arguments[2] if len(arguments) > 2 else None))
    )
