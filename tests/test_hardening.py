"""Hostile and broken snippets: every case is reported precisely, and nothing escapes.

The fixtures in tests/fixtures/hostile/ are real snippet files. Each is run
through the engine on the newest CPython found, then all of them are built
together in one throw-away site to show the build names path:line, interpreter
and what happened, while the good page next to them still renders.

A destructive fixture (it deletes README.md, remounts /...) runs only in the
bubblewrap sandbox, never with SNIPPET_TRUSTED=1: that is decided before
anything runs. tests/test_sandbox_*.py show what the sandbox stops.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import found_interpreters
from sites import ROOT, build_mini_site, mini_site_env, write_mini_site

from snippet_engine import Interpreter, RunResult, Settings, SnippetError, parse
from snippet_engine.run import Runner
from snippet_engine.sandbox import Sandbox, default_run_base
from snippet_engine.snippet import read_text

FIXTURES = Path(__file__).parent / "fixtures" / "hostile"
# Never run outside the sandbox, trusted or not; probe_* are run by the sandbox's own tests.
DESTRUCTIVE = {"writes_everywhere.py", "probe_isolation.py"}
_CPYTHONS = [i for i in found_interpreters() if i.implementation == "cpython"]
pytestmark = pytest.mark.skipif(not _CPYTHONS, reason="no CPython interpreter found")


@pytest.fixture(scope="module")
def runner(settings: Settings) -> Iterator[Runner]:
    """The engine's runner as the settings make it; nothing runs at all without a sandbox or trust."""
    sandbox = Sandbox.from_settings(settings)
    refusal = sandbox.refusal()
    if refusal is not None:
        sandbox.close()
        pytest.skip(refusal)
    yield Runner(sandbox)
    sandbox.close()


def _sandboxed(runner: Runner) -> bool:
    return runner.sandbox.bwrap is not None


def _fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8").replace("{repo}", str(ROOT))


@pytest.fixture(scope="module")
def newest() -> Interpreter:
    return _CPYTHONS[-1]


def _run(runner: Runner, name: str, interp: Interpreter) -> tuple[RunResult, float]:
    start = time.monotonic()
    result = runner(parse(Path("snippets/hostile") / name, _fixture_text(name)), interp)
    return result, time.monotonic() - start


def _git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--ignored=no"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def test_infinite_loop_is_stopped_by_the_timeout(runner: Runner, newest: Interpreter) -> None:
    result, seconds = _run(runner, "infinite_loop.pycon", newest)
    assert result.error == "timed out after 1 s"
    assert seconds < 5


def test_huge_output_hits_the_cap_without_filling_the_disk(runner: Runner, newest: Interpreter) -> None:
    result, seconds = _run(runner, "huge_output.pycon", newest)
    assert result.error is not None and "output exceeded the cap" in result.error
    assert sum(len(s.output) for s in result.steps) <= 5 * 1024 * 1024
    assert seconds < 10


def test_unbounded_memory_ends_in_memory_error(runner: Runner, newest: Interpreter) -> None:
    result, seconds = _run(runner, "memory_hog.pycon", newest)
    assert "MemoryError" in result.steps[-1].output
    assert seconds < 10


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("sys_exit.pycon", "exited with code 3 at the input on line 2"),
        ("os_exit.pycon", "exited with code 1 at the input on line 2"),
        ("sigkill.pycon", "was killed by SIGKILL at the input on line 2"),
    ],
)
def test_interpreter_death_names_the_input(
    runner: Runner, newest: Interpreter, name: str, message: str
) -> None:
    result, _ = _run(runner, name, newest)
    assert result.error is not None and message in result.error
    assert all("never printed" not in step.output for step in result.steps)


def test_input_gets_end_of_file_instead_of_hanging(runner: Runner, newest: Interpreter) -> None:
    result, seconds = _run(runner, "reads_stdin.pycon", newest)
    assert result.error is None
    assert result.steps[0].output.endswith("EOFError: EOF when reading a line\n")
    assert seconds < 5


def test_a_child_that_outlives_the_snippet_is_killed(runner: Runner, newest: Interpreter) -> None:
    result, _ = _run(runner, "orphan_child.pycon", newest)
    assert result.error is None
    leftovers = subprocess.run(["pgrep", "-f", "sleep 3141"], capture_output=True, text=True, check=False)
    assert leftovers.stdout == "", f"still running: {leftovers.stdout}"


def test_writes_and_deletes_never_reach_the_repository(runner: Runner, newest: Interpreter) -> None:
    # Decided before running anything: without the sandbox this snippet would
    # really delete README.md.
    if not _sandboxed(runner):
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the bubblewrap sandbox; this machine has: {runner.sandbox.describe()}")
        pytest.skip(
            f"no filesystem sandbox here ({runner.sandbox.describe()}); not running a destructive case"
        )
    before = _git_status()
    result, _ = _run(runner, "writes_everywhere.py", newest)
    output = result.steps[0].output
    assert (ROOT / "README.md").is_file() and (ROOT / "snippets").is_dir()
    assert not (ROOT / "ESCAPED.txt").exists()
    assert _git_status() == before
    # The checkout is not in the sandbox at all; / and /tmp are read-only.
    assert f"refused {ROOT}/ESCAPED.txt FileNotFoundError" in output
    assert f"refused {ROOT}/README.md FileNotFoundError" in output
    assert "refused /tmp/escape-tmp.txt OSError" in output
    assert "refused ../../escape-up-up.txt OSError" in output
    assert not Path("/tmp/escape-tmp.txt").exists()
    # One level up is still the run's own directory, emptied after every run:
    # nothing is left behind, and nothing of it is on the host.
    assert "wrote ../escape-up.txt" in output
    base = Path(default_run_base() or tempfile.gettempdir())
    assert list(base.glob("**/escape-up*.txt")) == []
    after = runner(
        parse(Path("snippets/hostile/after.pycon"), ">>> import os\n>>> os.listdir('..')\n"), newest
    )
    assert "escape-up.txt" not in after.steps[1].output


def test_control_characters_and_bad_utf8_are_shown_as_escapes(runner: Runner, newest: Interpreter) -> None:
    result, _ = _run(runner, "weird_bytes.pycon", newest)
    outputs = [step.output for step in result.steps]
    assert outputs[1] == "\\xff\\xfe not utf-8\n13\n"
    assert outputs[2] == "\\x1b[31mred\\x1b[0m\n"
    assert outputs[3] == "abc\\x0dX\n"


def test_the_temporary_directory_is_shown_under_a_stable_name(runner: Runner, newest: Interpreter) -> None:
    snippet = parse(Path("t.pycon"), ">>> import os\n>>> os.getcwd()\n")
    assert runner(snippet, newest).steps[1].output == "'/home/you/demo'\n"


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory, newest: Interpreter, settings: Settings):  # type: ignore[no-untyped-def]
    """All fixtures on pages of one site, plus a good page, built strict on one CPython."""
    tmp = tmp_path_factory.mktemp("hostile")
    # Decided before anything runs: the destructive fixtures only where the build gets the sandbox.
    probe = Sandbox.from_settings(settings)
    sandboxed, refusal = probe.bwrap is not None, probe.refusal()
    probe.close()
    if refusal is not None:
        pytest.skip(refusal)
    names = sorted(p.name for p in FIXTURES.iterdir() if sandboxed or p.name not in DESTRUCTIVE)
    pages = {"good.md": "# Good\n\n```snippet\ngood/fine.pycon\n```\n"}
    pages.update({f"{Path(n).stem}.md": f"# {n}\n\n```snippet\nhostile/{n}\n```\n" for n in names})
    snippets = {f"hostile/{n}": _fixture_text(n) for n in names}
    snippets["good/fine.pycon"] = ">>> 6 * 7\n42\n"
    before = _git_status()
    os.environ["SNIPPET_PYTHONS"] = newest.path
    try:
        # Not strict, so the pages are written and can be inspected; that a
        # warning fails a strict build is shown in test_build.py.
        build = build_mini_site(tmp, pages, snippets, strict=False)
    finally:
        del os.environ["SNIPPET_PYTHONS"]
    return build, before, newest


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "line", "what"),
    [
        ("unexpected_exception.pycon", 2, "NameError"),
        ("syntax_error.pycon", 1, "SyntaxError"),
        ("infinite_loop.pycon", 3, "timed out after 1 s"),
        ("huge_output.pycon", 1, "output exceeded the cap"),
        ("memory_hog.pycon", 2, "MemoryError"),
        ("sys_exit.pycon", 2, "exited with code 3"),
        ("os_exit.pycon", 2, "exited with code 1"),
        ("sigkill.pycon", 2, "killed by SIGKILL"),
        ("reads_stdin.pycon", 1, "EOFError"),
    ],
)
def test_the_build_reports_each_failure_precisely(hostile_build, name: str, line: int, what: str) -> None:  # type: ignore[no-untyped-def]
    build, _, interp = hostile_build
    blocks = [b for b in build.log.split("WARNING") if f"snippets/hostile/{name}" in b]
    assert blocks, f"no warning names snippets/hostile/{name}"
    text = blocks[0]
    assert f"snippets/hostile/{name}:{line} on {interp.exact_label}" in text
    assert f"docs/{Path(name).stem}.md" in text
    assert what in text


@pytest.mark.slow
def test_the_build_reports_a_missing_interpreter(hostile_build) -> None:  # type: ignore[no-untyped-def]
    build, _, _ = hostile_build
    assert "snippets/hostile/missing_interpreter.pycon: no interpreter to run it on" in build.log
    assert "versions 3.99+: needs a Python that does not exist yet" in build.log


@pytest.mark.slow
def test_the_rest_of_the_build_is_unaffected(hostile_build) -> None:  # type: ignore[no-untyped-def]
    build, before, _ = hostile_build
    good = build.page("good/index.html")
    assert "42" in good and "did not run as recorded" not in good
    assert _git_status() == before


@pytest.mark.slow
def test_markup_in_output_is_shown_as_text(hostile_build) -> None:  # type: ignore[no-untyped-def]
    build, _, _ = hostile_build
    page = build.page("hostile_markup/index.html")
    assert "<script>alert" not in page
    assert "<h1>injected</h1>" not in page
    assert "<b>tag</b>" not in page
    assert html.escape("<b>tag</b>", quote=False) in page
    assert "`" * 12 in page


def test_a_run_that_tries_to_kill_the_sandbox_fails_alone(runner: Runner, newest: Interpreter) -> None:
    # Runs start from a launcher that lives for the whole session. In the
    # sandbox it is the PID namespace's init, which a run cannot signal to
    # death; without it, a run can kill it: then that run fails with a
    # message, and the next gets a new launcher and runs normally (a launcher
    # killed from outside, by the OOM killer say: tests/test_sandbox_limits.py).
    killer = parse(
        Path("snippets/hostile/kills_launcher.py"),
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint('still here')\n",
    )
    result = runner(killer, newest)
    if _sandboxed(runner):
        assert result.error is None and result.steps[0].output == "still here\n"
    else:
        assert result.error is not None and "sandbox" in result.error
    after = runner(parse(Path("snippets/hostile/after.pycon"), ">>> 6 * 7\n42\n"), newest)
    assert after.error is None and after.steps[0].output == "42\n"


@pytest.mark.parametrize("timeout", ["abc", "inf", "nan", "0", "-1", "1e9"])
def test_an_impossible_timeout_is_an_error_naming_the_line(timeout: str) -> None:
    message = f"snippets/hostile/t.pycon:1: timeout is a number of seconds from 0.5 to 120, not {timeout!r}"
    with pytest.raises(SnippetError) as caught:
        parse(Path("snippets/hostile/t.pycon"), f"#| timeout: {timeout}\n>>> 1\n1\n")
    assert str(caught.value) == message


@pytest.mark.parametrize("label", ["#[foo]", "#[3]", "#[3.12 foo]"])
def test_a_label_naming_no_interpreter_is_an_error_naming_the_line(label: str) -> None:
    with pytest.raises(SnippetError) as caught:
        parse(Path("snippets/hostile/t.pycon"), f">>> 1\n{label}\n1\n")
    assert str(caught.value).startswith(f"snippets/hostile/t.pycon:2: {label!r} names no interpreter")


def test_a_file_that_is_not_utf8_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.pycon"
    path.write_bytes(">>> 1\n1\n>>> print('café')\n".encode("latin-1"))
    with pytest.raises(SnippetError) as caught:
        read_text(path)
    assert str(caught.value) == f"{path}:3: not UTF-8 (byte 0xe9)"


def test_a_garbage_results_file_fails_the_run_with_a_message(runner: Runner, newest: Interpreter) -> None:
    text = (
        ">>> import os\n"
        ">>> _ = open(os.path.join(os.path.dirname(os.getcwd()), 'results'), 'w').write('\\x00 garbage')\n"
    )
    result, _ = _run_text(runner, "garbage.pycon", text, newest)
    assert result.error == "the results file was not written by the worker (changed by the snippet?)"
    after = runner(parse(Path("snippets/hostile/after.pycon"), ">>> 6 * 7\n42\n"), newest)
    assert after.error is None


def _run_text(runner: Runner, name: str, text: str, interp: Interpreter) -> tuple[RunResult, float]:
    start = time.monotonic()
    result = runner(parse(Path("snippets/hostile") / name, text), interp)
    return result, time.monotonic() - start


def test_a_byte_order_mark_is_an_error_not_a_hidden_header() -> None:
    # Behind an invisible U+FEFF, "#| timeout: 2" would be an ordinary comment.
    with pytest.raises(SnippetError) as caught:
        parse(Path("snippets/hostile/bom.py"), "\ufeff#| timeout: 2\nprint(1)\n")
    assert (
        str(caught.value)
        == "snippets/hostile/bom.py:1: starts with a UTF-8 byte-order mark; save it without one"
    )


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A site in tmp_path/site and, beside it, a file no page may publish."""
    secret = tmp_path / "outside" / "secret.py"
    secret.parent.mkdir()
    secret.write_text("print('TOP-SECRET-LINE')\n", encoding="utf-8")
    (tmp_path / "site" / "snippets").mkdir(parents=True)
    (tmp_path / "site" / "snippets" / "leak.py").symlink_to(secret)
    return secret


@pytest.mark.parametrize(
    ("fence", "message"),
    [
        (
            "../../outside/secret.py",
            "snippet paths are relative to snippets/ and stay inside it, not '../../outside/secret.py'",
        ),
        ("{secret}", "snippet paths are relative to snippets/ and stay inside it, not '{secret}'"),
        ("leak.py", "snippets/leak.py: leads outside snippets/ (to {secret})"),
    ],
    ids=["dot_dot", "absolute", "symlink"],
)
def test_a_fence_path_leading_out_of_snippets_fails_the_build_naming_the_page(
    outside: Path, fence: str, message: str
) -> None:
    root = outside.parent.parent / "site"
    pages = {"leaks.md": f"# Leaks\n\n```snippet\n{fence.format(secret=outside)}\n```\n"}
    build = build_mini_site(root, pages, {"fine.pycon": ">>> 6 * 7\n42\n"})
    assert build.returncode != 0
    assert "docs/leaks.md" in build.log
    assert message.format(secret=outside) in build.log
    published = root / "site" / "leaks" / "index.html"
    assert not published.exists() or "TOP-SECRET-LINE" not in published.read_text(encoding="utf-8")


def test_update_never_writes_through_a_link_out_of_snippets(outside: Path) -> None:
    root = outside.parent.parent / "site"
    write_mini_site(root, {"index.md": "# Home\n"}, {"fine.pycon": ">>> 6 * 7\n41\n"})
    before = outside.read_bytes()
    updating = subprocess.run(
        [str(Path(sys.executable).with_name("snippets")), "update"],
        cwd=root,
        env=mini_site_env(root),
        capture_output=True,
        text=True,
        check=False,
    )
    assert updating.returncode == 1
    assert f"error: snippets/leak.py: leads outside snippets/ (to {outside})" in updating.stderr
    assert outside.read_bytes() == before
    # The rest is still updated.
    assert (root / "snippets" / "fine.pycon").read_text(encoding="utf-8") == ">>> 6 * 7\n42\n"
