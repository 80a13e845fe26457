"""The same mkdocs.yml builds with Zensical, Material's successor, with executed outputs.

Material for MkDocs reaches end of life in 2027; Zensical reads mkdocs.yml and
runs Python-Markdown extensions (our fences) but not MkDocs plugins. This keeps
the way out open: the pages must come out with the same real outputs.
"""

from __future__ import annotations

import html
import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sites import ROOT, Build

pytestmark = pytest.mark.slow
_META = re.compile(r'<p class="snippet-meta"[^>]*>(.*?)</p>', re.DOTALL)
_PRE = re.compile(r"<pre\b[^>]*>(.*?)</pre>", re.DOTALL)
_LABEL = re.compile(r'<label for="[^"]*__tabbed_[^"]*">([^<]*)</label>')
_HLL = re.compile(r'<span class="hll">')


def _without_varying(page: str) -> str:
    """The page with each example labelled "Varies from run to run" cut down to its snippet's path.

    Such outputs (timings) are promised to differ: two builds that each ran the
    snippet (on a cold cache, in two test workers at once) print two timings.
    """
    starts = [m.start() for m in re.finditer(r'<div class="snippet"', page)] + [len(page)]
    kept, position = [], 0
    for start, following in itertools.pairwise(starts):
        segment = page[start:following]
        if "Varies from run to run" in segment:
            # The note is the example's last part: its </div>, then the example's own.
            note_end = segment.index("</div>", segment.index("Varies from run to run"))
            end = start + segment.index("</div>", note_end + len("</div>")) + len("</div>")
            source = re.search(r'class="snippet-source"[^>]*>([^<]+)<', segment)
            kept += [page[position:start], f"(varies: {source.group(1) if source else '?'})"]
            position = end
    return "".join(kept) + page[position:]


def _shown(page: str) -> dict[str, object]:
    """What a reader sees of the executed examples: every code block's text, tab labels, highlights."""
    page = _without_varying(page)
    texts = [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in _PRE.findall(page)]
    return {
        "code": texts,
        "tabs": _LABEL.findall(page),
        "highlighted lines": len(_HLL.findall(page)),
        "provenance": _META.findall(page),
    }


class _Loader(yaml.SafeLoader):
    """Reads mkdocs.yml's !!python/name tags as plain strings, to write them back."""


_Loader.add_multi_constructor(
    "tag:yaml.org,2002:python/name:", lambda loader, suffix, node: f"!!python/name:{suffix}"
)


def _config_for(site_dir: Path, *, nav: bool = True) -> str:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)
    if not nav:
        del config["nav"]
    config["docs_dir"] = "docs"  # Zensical wants it inside the config's folder: a copy
    config["site_dir"] = str(site_dir)
    if "custom_dir" in config.get("theme", {}):
        config["theme"]["custom_dir"] = str(ROOT / config["theme"]["custom_dir"])
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    return re.sub(r"'(!!python/name:[\w.]+)'", r"\1", text)


@pytest.fixture(scope="module")
def zensical_site(tmp_path_factory: pytest.TempPathFactory) -> Build:
    tmp = tmp_path_factory.mktemp("zensical")
    shutil.copytree(ROOT / "docs", tmp / "docs")
    (tmp / "mkdocs.yml").write_text(_config_for(tmp / "site"), encoding="utf-8")
    zensical = Path(sys.executable).with_name("zensical")
    completed = subprocess.run(
        [str(zensical), "build", "--strict", "--config-file", str(tmp / "mkdocs.yml")],
        cwd=tmp,
        capture_output=True,
        text=True,
        env={**os.environ, "SNIPPET_ROOT": str(ROOT)},
        check=False,
    )
    return Build(completed.returncode, completed.stdout + completed.stderr, tmp / "site")


def test_zensical_builds_the_site(zensical_site: Build) -> None:
    assert zensical_site.returncode == 0, zensical_site.log


def test_same_pages_with_the_same_executed_outputs(zensical_site: Build, real_site: Build) -> None:
    pages = sorted(p.relative_to(real_site.site).as_posix() for p in real_site.site.rglob("index.html"))
    assert pages, "the MkDocs build produced no pages"
    for page in pages:
        ours, theirs = _shown(real_site.page(page)), _shown(zensical_site.page(page))
        for what in ours:
            assert theirs[what] == ours[what], f"{page}: {what} differ between MkDocs and Zensical"
        assert ours["code"], f"{page}: no code blocks found"
    memory = zensical_site.page("memory/index.html")
    assert "4294967295" in memory and 'class="tabbed-set' in memory


def test_a_failing_snippet_stops_zensical_in_strict_mode(tmp_path: Path) -> None:
    # Zensical does not count logged warnings, so SNIPPET_STRICT=1 makes the
    # fence raise the one exception superfences lets through.
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(
        "# Home\n\n```snippet\nb/wrong.pycon\n```\n", encoding="utf-8"
    )
    (tmp_path / "snippets" / "b").mkdir(parents=True)
    (tmp_path / "snippets" / "b" / "wrong.pycon").write_text(">>> 1/0\n2\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(_config_for(tmp_path / "site", nav=False), encoding="utf-8")
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("zensical")), "build", "--strict", "--clean"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "SNIPPET_ROOT": str(tmp_path),
            "SNIPPET_CACHE_DIR": str(tmp_path / ".snippet-cache"),
            "SNIPPET_STRICT": "1",
        },
        check=False,
    )
    assert completed.returncode != 0
    assert "snippets/b/wrong.pycon:1 on CPython" in completed.stdout + completed.stderr
