"""Shared fixtures, and a closing summary naming the interpreters used and skipped."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sites import Build

from snippet_engine import Interpreter, Project, Settings, open_project, supported_keys
from snippet_engine.interpreters import describe_key
from snippet_engine.run import Runner
from snippet_engine.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]
# Under CI every supported interpreter must be there: a missing one fails, never skips.
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
INSTALL_HINT = "make pythons (installs what is missing into ~/.cache/python-under-the-hood)"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-snippet-cache",
        action="store_true",
        help="run every snippet afresh instead of reusing .cache/snippets",
    )


@pytest.fixture(scope="session")
def settings(pytestconfig: pytest.Config) -> Settings:
    settings = Settings.from_environ()
    if pytestconfig.getoption("--no-snippet-cache"):
        settings = dataclasses.replace(settings, use_cache=False)
    return settings


@pytest.fixture(scope="session")
def runner(settings: Settings) -> Iterator[Runner]:
    """The real runner, sandbox included, for tests that run one snippet directly."""
    sandbox = Sandbox.from_settings(settings)
    yield Runner(sandbox)
    sandbox.close()


def found_interpreters() -> list[Interpreter]:
    """What discovery finds here (for parametrising at collection time)."""
    return list(_discovered())


@functools.cache  # a dozen modules parametrise on it; one discovery per process
def _discovered() -> tuple[Interpreter, ...]:
    project = open_project(Settings.from_environ(root=ROOT))
    try:
        return project.discovery.found
    finally:
        project.close()


@pytest.fixture(scope="session")
def project(settings: Settings) -> Iterator[Project]:
    project = open_project(settings)
    yield project
    project.close()


def skip_or_fail(reason: str) -> None:
    """Fail under CI, where a missing tool is a broken setup, not a reason to pass; skip elsewhere."""
    if IN_CI:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def missing_interpreter(key: str) -> None:
    """skip_or_fail, naming the interpreter and how to get it."""
    skip_or_fail(f"{describe_key(key)} not found on this machine; install it with: {INSTALL_HINT}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Never a silent skip: say which interpreters ran the snippets and which not.
    project = open_project(Settings.from_environ(root=ROOT))
    discovery = project.discovery
    used = ", ".join(f"{i.exact_label} {i.path}" for i in discovery.found)
    terminalreporter.write_sep("-", "snippet interpreters")
    terminalreporter.write_line(f"used: {used or 'none'}")
    missing = [describe_key(k) for k in supported_keys() if k in discovery.missing()]
    terminalreporter.write_line(f"not found (their items were skipped): {', '.join(missing) or 'none'}")
    project.close()


@pytest.fixture(scope="session")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The real site, built strict once per session into a temporary directory."""
    from sites import build_real_site

    return build_real_site(tmp_path_factory.mktemp("site") / "site")
