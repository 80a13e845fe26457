"""The same commit builds the same pages, byte for byte, wherever and however it is built."""

from __future__ import annotations

import filecmp
import gzip
import subprocess
from pathlib import Path

import pytest
from sites import ROOT, build_real_site

pytestmark = pytest.mark.slow


def _differences(left: Path, right: Path) -> list[str]:
    found: list[str] = []

    def walk(comparison: filecmp.dircmp[str], prefix: str) -> None:
        found.extend(prefix + name for name in comparison.left_only + comparison.right_only)
        # dircmp's diff_files is shallow (size and mtime): compare bytes instead.
        for name in comparison.common_files:
            if (Path(comparison.left) / name).read_bytes() != (Path(comparison.right) / name).read_bytes():
                found.append(prefix + name)
        for name, sub in comparison.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right), "")
    return found


def _commit_epoch() -> str:
    return subprocess.run(
        ["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    epoch = _commit_epoch()
    first = build_real_site(tmp_path / "a", env={"PYTHONHASHSEED": "1", "SOURCE_DATE_EPOCH": epoch})
    # Another hash seed and another working directory: neither may leak into a page.
    second = build_real_site(
        tmp_path / "b", env={"PYTHONHASHSEED": "4242", "SOURCE_DATE_EPOCH": epoch}, cwd=tmp_path
    )
    assert first.returncode == 0, first.log
    assert second.returncode == 0, second.log
    assert _differences(first.site, second.site) == []


def test_the_only_build_date_is_the_commit_date(tmp_path: Path) -> None:
    # sitemap.xml carries a date; with SOURCE_DATE_EPOCH (set by the Makefile
    # from the last commit) it is the commit's, so rebuilding later changes nothing.
    build = build_real_site(tmp_path / "site", env={"SOURCE_DATE_EPOCH": "86400"})
    assert build.returncode == 0, build.log
    sitemap = (build.site / "sitemap.xml").read_text(encoding="utf-8")
    assert "<lastmod>1970-01-02</lastmod>" in sitemap
    assert gzip.decompress((build.site / "sitemap.xml.gz").read_bytes()).decode() == sitemap
