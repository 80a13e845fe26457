"""Shared fixtures, and a closing summary naming the interpreters used and skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from sites import Build

from snippet_engine import Project, find_root, supported_keys
from snippet_engine.interpreters import describe_key

ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-snippet-cache",
        action="store_true",
        help="run every snippet afresh instead of reusing .cache/snippets",
    )


@pytest.fixture(scope="session")
def project(pytestconfig: pytest.Config) -> Project:
    return Project(find_root(), use_cache=not pytestconfig.getoption("--no-snippet-cache"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Never a silent skip: say which interpreters ran the snippets and which not.
    discovery = Project(ROOT).discovery
    used = ", ".join(f"{i.label} [{i.full_version}] {i.path}" for i in discovery.found)
    terminalreporter.write_sep("-", "snippet interpreters")
    terminalreporter.write_line(f"used: {used or 'none'}")
    missing = [describe_key(k) for k in supported_keys() if k in discovery.missing()]
    terminalreporter.write_line(f"not found (their items were skipped): {', '.join(missing) or 'none'}")


@pytest.fixture(scope="session")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The real site, built strict once per session into a temporary directory."""
    from sites import build_real_site

    return build_real_site(tmp_path_factory.mktemp("site") / "site")
