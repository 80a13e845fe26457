"""Build sites for tests: the real one, or small throw-away ones that inherit its config.

`scripts/bench.py` uses the same helpers for its synthetic sites and its copy
of the real site.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = [sys.executable, "-m", "mkdocs"]
MINI_SITE_PLUGINS = ("search", "markdown-exec")


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


def write_mini_site(
    tmp: Path,
    pages: dict[str, str],
    snippets: dict[str, str] | None = None,
    *,
    plugins: Sequence[str] = MINI_SITE_PLUGINS,
    site_name: str = "Test site",
) -> None:
    """Write a site of `pages` (docs/-relative) and `snippets` (snippets/-relative) into `tmp`.

    It inherits the real mkdocs.yml (theme, extensions, the snippet fence,
    validation) and replaces only what is site-specific: the name, the nav and
    the plugins (by default neither the git plugin, as these pages are not
    committed, nor the snippet-engine plugin, which only speeds up serve).
    """
    for relative, text in pages.items():
        target = tmp / "docs" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (tmp / "snippets").mkdir(parents=True, exist_ok=True)
    for relative, text in (snippets or {}).items():
        target = tmp / "snippets" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    nav = "\n".join(f"  - {p}" for p in pages)
    listed = "".join(f"\n  - {plugin}" for plugin in plugins)
    # Template overrides are resolved against this config's folder.
    overrides = ROOT / "overrides"
    theme = f"theme:\n  name: material\n  custom_dir: {overrides}\n" if overrides.is_dir() else ""
    (tmp / "mkdocs.yml").write_text(
        f"INHERIT: {ROOT / 'mkdocs.yml'}\n"
        f"site_name: {site_name}\n"
        "docs_dir: docs\n"
        "watch: []\n"
        f"plugins:{listed}\n"
        f"{theme}"
        f"nav:\n{nav}\n",
        encoding="utf-8",
    )


def mini_site_env(tmp: Path) -> dict[str, str]:
    """What a build of the site in `tmp` runs with: its own root and results cache."""
    return {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "SNIPPET_ROOT": str(tmp),
        "SNIPPET_CACHE_DIR": str(tmp / ".cache"),
    }


def build_mini_site(
    tmp: Path, pages: dict[str, str], snippets: dict[str, str] | None = None, *, strict: bool = True
) -> Build:
    """A site of `pages` (docs/-relative) and `snippets` (snippets/-relative), built strict.

    See `write_mini_site` for what it inherits from the real mkdocs.yml.
    """
    write_mini_site(tmp, pages, snippets)
    completed = subprocess.run(
        [*MKDOCS, "build", *(["--strict"] if strict else []), "--site-dir", str(tmp / "site")],
        capture_output=True,
        text=True,
        cwd=tmp,
        env=mini_site_env(tmp),
        check=False,
    )
    return Build(completed.returncode, completed.stdout + completed.stderr, tmp / "site")


def copy_real_site(target: Path) -> Path:
    """A throw-away copy of the real site, config unchanged, as a fresh git repository of one commit.

    The git-revision-date plugin reads the page's history: one commit gives it some.
    """
    for name in ("docs", "snippets", "overrides"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "commit.gpgsign=false"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "copy"]):
        subprocess.run([*git, *command], cwd=target, check=True, capture_output=True)
    return target
