"""The strict build: the real site builds, and each kind of breakage fails it loudly."""

from __future__ import annotations

import sys
from html import unescape
from pathlib import Path

import pytest
from sites import Build, build_mini_site

from snippet_engine import supported_keys

pytestmark = pytest.mark.slow


def test_real_site_builds_strict(real_site: Build) -> None:
    assert real_site.returncode == 0, real_site.log
    assert (real_site.site / "index.html").is_file()


def test_broken_link_fails_the_build(tmp_path: Path) -> None:
    build = build_mini_site(tmp_path, {"index.md": "# Home\n\nSee [the missing page](missing.md).\n"})
    assert build.returncode != 0
    assert "missing.md" in build.log


def test_broken_anchor_fails_the_build(tmp_path: Path) -> None:
    pages = {
        "index.md": "# Home\n\n[Details](other.md#no-such-heading)\n",
        "other.md": "# Other\n\n## Real heading\n",
    }
    build = build_mini_site(tmp_path, pages)
    assert build.returncode != 0
    assert "no-such-heading" in build.log


def test_any_warning_fails_the_build(tmp_path: Path) -> None:
    # A page left out of the nav is only a warning; strict turns it into a failure.
    pages = {"index.md": "# Home\n"}
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "stray.md").write_text("# Stray\n", encoding="utf-8")
    build = build_mini_site(tmp_path, pages)
    assert build.returncode != 0
    assert "stray.md" in build.log


def test_failing_snippet_fails_the_build_with_its_location(tmp_path: Path) -> None:
    snippet = ">>> x = 1\n>>> x + undefined_name\n2\n"
    build = build_mini_site(
        tmp_path,
        {"index.md": "# Home\n\n```snippet\nbroken/unexpected_error.pycon\n```\n"},
        {"broken/unexpected_error.pycon": snippet},
    )
    assert build.returncode != 0
    assert "snippets/broken/unexpected_error.pycon:2" in build.log
    assert "docs/index.md" in build.log
    assert "CPython 3." in build.log
    assert "NameError" in build.log


def test_execution_off_renders_the_recorded_outputs_and_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The baseline of `make bench`, and a fast draft mode: nothing is run, so a
    # record that no interpreter would print still shows, clearly labelled.
    # The only interpreter it may find writes a marker if anything starts it.
    marker = tmp_path / "started"
    fake = tmp_path / "python3"
    fake.write_text(f'#!/bin/sh\ntouch {marker}\nexec {sys.executable} "$@"\n', encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("SNIPPET_EXECUTE", "0")
    monkeypatch.setenv("SNIPPET_PYTHONS", str(fake))
    page = "# Home\n\n```snippet\nt/recorded.pycon\n```\n\n```snippet-table\nsix | t/recorded.pycon\n```\n"
    build = build_mini_site(
        tmp_path,
        {"index.md": page + "\n```interpreters\n```\n"},
        {"t/recorded.pycon": ">>> 6 * 7\nonly-in-the-file\n"},
    )
    assert build.returncode == 0, build.log
    html = unescape(build.page("index.html"))
    # The block once, and the table's cell for every interpreter the record covers.
    assert html.count("only-in-the-file") == 1 + len(supported_keys())
    assert "Execution off: recorded outputs" in html and "this build ran no interpreter" in html
    assert not (tmp_path / ".cache").exists()
    assert not marker.exists(), "an interpreter was started with execution off"
