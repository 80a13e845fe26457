"""Build sites for tests: the real one, or small throw-away ones that inherit its config.

`scripts/bench.py` uses the same helpers for its synthetic sites and its copy
of the real site.
"""

from __future__ import annotations

import html
import os
import re
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


@dataclass(frozen=True)
class TabSet:
    page: str
    source: str  # the snippet file, from the provenance link
    keys: list[list[str]]  # data-tab-keys: the interpreters behind each tab
    labels: list[str]
    checked: int
    blocks: list[str]  # each tab's HTML


def text_of(fragment: str) -> str:
    """An HTML fragment's text: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def tab_sets(site: Path) -> list[TabSet]:
    """Every example of the built `site` that shows per-interpreter tabs."""
    found = []
    for path in sorted(site.rglob("*.html")):
        page = path.read_text(encoding="utf-8")
        for match in re.finditer(r'<div class="snippet"([^>]*)>', page):
            keys = re.search(r'data-tab-keys="([^"]*)"', match.group(1))
            body = page[match.end() :].split('<div class="snippet-meta"', 1)
            if keys is None or '<div class="tabbed-set' not in body[0]:
                continue
            source = re.search(r'class="snippet-source"[^>]*>([^<]+)<', body[1]) if len(body) > 1 else None
            head, content = body[0].split('<div class="tabbed-content">', 1)
            radios = re.findall(r"<input[^>]*>", head.split('<div class="tabbed-labels', 1)[0])
            found.append(
                TabSet(
                    page=path.relative_to(site).as_posix(),
                    source=source.group(1) if source else "?",
                    keys=[group.split() for group in keys.group(1).split(";")],
                    labels=[text_of(label) for label in re.findall(r"<label[^>]*>(.*?)</label>", head)],
                    checked=next(i for i, radio in enumerate(radios) if "checked" in radio),
                    blocks=content.split('<div class="tabbed-block"')[1:],
                )
            )
    return found
