"""Build sites for tests: the real one, or small throw-away ones that inherit its config."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = [sys.executable, "-m", "mkdocs"]


@dataclass(frozen=True)
class Build:
    returncode: int
    log: str
    site: Path

    def page(self, name: str) -> str:
        return (self.site / name).read_text(encoding="utf-8")


def build_real_site(site_dir: Path, *, env: dict[str, str] | None = None, cwd: Path = ROOT) -> Build:
    completed = subprocess.run(
        [
            *MKDOCS,
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(site_dir),
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
        check=False,
    )
    return Build(completed.returncode, completed.stdout + completed.stderr, site_dir)


def build_mini_site(
    tmp: Path, pages: dict[str, str], snippets: dict[str, str] | None = None, *, strict: bool = True
) -> Build:
    """A site of `pages` (docs/-relative) and `snippets` (snippets/-relative), built strict.

    It inherits the real mkdocs.yml (theme, extensions, the snippet fence,
    validation) and replaces only what is site-specific.
    """
    for relative, text in pages.items():
        target = tmp / "docs" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (tmp / "snippets").mkdir(exist_ok=True)
    for relative, text in (snippets or {}).items():
        target = tmp / "snippets" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    nav = "\n".join(f"  - {p}" for p in pages)
    # Template overrides are resolved against this config's folder.
    overrides = ROOT / "overrides"
    theme = f"theme:\n  name: material\n  custom_dir: {overrides}\n" if overrides.is_dir() else ""
    (tmp / "mkdocs.yml").write_text(
        f"INHERIT: {ROOT / 'mkdocs.yml'}\n"
        "site_name: Test site\n"
        "docs_dir: docs\n"
        "watch: []\n"
        "plugins:\n  - search\n  - markdown-exec\n"
        f"{theme}"
        f"nav:\n{nav}\n",
        encoding="utf-8",
    )
    completed = subprocess.run(
        [*MKDOCS, "build", *(["--strict"] if strict else []), "--site-dir", str(tmp / "site")],
        capture_output=True,
        text=True,
        cwd=tmp,
        env={
            **os.environ,
            "NO_MKDOCS_2_WARNING": "1",
            "SNIPPET_ROOT": str(tmp),
            "SNIPPET_CACHE_DIR": str(tmp / ".cache"),
        },
        check=False,
    )
    return Build(completed.returncode, completed.stdout + completed.stderr, tmp / "site")
