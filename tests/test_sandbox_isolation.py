"""What a stranger's snippet can reach from inside the sandbox: nothing of the host it should not.

One probe (tests/fixtures/hostile/probe_isolation.py) tries every way out the
hostile pass found and prints what happened; it runs as this user (root, in
CI containers) and, where the machine allows, as an unprivileged one. It only
ever runs inside bubblewrap: it remounts / and writes into the checkout.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import found_interpreters
from sites import ROOT

from snippet_engine import parse
from snippet_engine.exposure import find_bwrap
from snippet_engine.run import Runner
from snippet_engine.sandbox import Sandbox

FIXTURES = Path(__file__).parent / "fixtures" / "hostile"
_CPYTHONS = [i for i in found_interpreters() if i.implementation == "cpython"]
SYSTEM_PYTHON = "/usr/bin/python3"  # what an unprivileged user can run (the venvs live under /root)
pytestmark = [
    pytest.mark.skipif(not _CPYTHONS, reason="no CPython interpreter found"),
    pytest.mark.skipif(find_bwrap() is None, reason="no working bubblewrap here: nothing hostile is run"),
]
CANARY = f"canary-{secrets.token_hex(8)}"


class _Host:
    """Services on the host a run must not reach: Unix sockets (a path and an abstract one), a TCP port."""

    def __init__(self, folder: Path) -> None:
        self.servers: list[socket.socket] = []
        self.paths = [str(folder / "host.sock"), f"/dev/shm/snippet-test-{secrets.token_hex(4)}.sock"]
        self.paths.append(f"\0snippet-test-{secrets.token_hex(4)}")
        for path in self.paths:
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.bind(path)
            server.listen()
            self.servers.append(server)
        tcp = socket.create_server(("127.0.0.1", 0))
        self.servers.append(tcp)
        self.port = tcp.getsockname()[1]

    def close(self) -> None:
        for server in self.servers:
            server.close()
        Path(self.paths[1]).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Host]:
    folder = tmp_path_factory.mktemp("host")
    folder.chmod(0o755)
    found = _Host(folder)
    yield found
    found.close()


def _probe_source(host: _Host) -> str:
    text = (FIXTURES / "probe_isolation.py").read_text(encoding="utf-8")
    return (
        text.replace("{repo}", str(ROOT))
        .replace("{canary}", CANARY)
        .replace("{sockets}", repr(host.paths))
        .replace("{tcp}", str(host.port))
    )


def _facts(output: str) -> dict[str, object]:
    return json.loads(output.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def as_this_user(host: _Host) -> dict[str, object]:
    """The probe's facts, run by this process's own engine with a canary in its environment."""
    os.environ["SNIPPET_TEST_CANARY"] = CANARY
    sandbox = Sandbox()
    try:
        result = Runner(sandbox)(parse(Path("snippets/hostile/probe.py"), _probe_source(host)), _CPYTHONS[-1])
    finally:
        sandbox.close()
        del os.environ["SNIPPET_TEST_CANARY"]
    assert result.error is None, result.error
    return _facts(result.steps[0].output)


_UNPRIVILEGED = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from snippet_engine import Interpreter, parse
from snippet_engine.run import Runner
from snippet_engine.sandbox import Sandbox
python = os.path.realpath(sys.executable)
version = "%d.%d" % sys.version_info[:2]
full = "%d.%d.%d" % sys.version_info[:3]
interpreter = Interpreter("cpython", version, full, full, sys.implementation.cache_tag, python, False, python)
sandbox = Sandbox()
result = Runner(sandbox)(parse(Path("snippets/hostile/probe.py"), sys.stdin.read()), interpreter)
sandbox.close()
outputs = [s.output for s in result.steps]
print(json.dumps({"error": result.error, "output": outputs, "isolation": sandbox.describe()}))
"""


def unprivileged_command() -> list[str] | str:
    """How to run a command as `nobody` here, or why it cannot be done."""
    if os.geteuid() != 0:
        return "already unprivileged: the tests above ran as this user"
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return "no setpriv to switch to an unprivileged user"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"no {SYSTEM_PYTHON} an unprivileged user could run"
    command = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all"]
    check = subprocess.run(
        [
            *command,
            SYSTEM_PYTHON,
            "-c",
            f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r}); import snippet_engine.run",
        ],
        capture_output=True,
        text=True,
        cwd="/",
        check=False,
    )
    if check.returncode != 0:
        return f"nobody cannot import the engine with {SYSTEM_PYTHON}: {check.stderr.strip()[-200:]}"
    trial = subprocess.run(
        [*command, "bwrap", "--ro-bind", "/", "/", "--unshare-pid", "true"],
        capture_output=True,
        cwd="/",
        check=False,
    )
    if trial.returncode != 0:
        return "bubblewrap does not work for an unprivileged user here (no user namespaces)"
    return command


@pytest.fixture(scope="module")
def as_nobody(host: _Host) -> dict[str, object]:
    command = unprivileged_command()
    if isinstance(command, str):
        pytest.skip(command)
    done = subprocess.run(
        [*command, SYSTEM_PYTHON, "-c", _UNPRIVILEGED, str(ROOT / "src")],
        input=_probe_source(host),
        capture_output=True,
        text=True,
        cwd="/",
        env={**os.environ, "SNIPPET_TEST_CANARY": CANARY},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["error"] is None, found["error"]
    assert "RLIMIT_NPROC" in found["isolation"], found["isolation"]
    return _facts(found["output"][0])


@pytest.fixture(scope="module", params=["this user", "nobody"])
def facts(request: pytest.FixtureRequest) -> dict[str, object]:
    return request.getfixturevalue("as_this_user" if request.param == "this user" else "as_nobody")


def test_no_capability_is_left_even_for_root(facts: dict[str, object]) -> None:
    for key in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert facts[key] == "0000000000000000", key
    assert facts["NoNewPrivs"] == "1"


def test_remounting_the_root_is_refused_and_the_checkout_is_unchanged(facts: dict[str, object]) -> None:
    assert facts["remount /"] == "refused EPERM"
    assert facts["remount /usr"] == "refused EPERM"
    assert facts["write /usr"] == "refused EROFS"
    assert str(facts["write checkout"]).startswith("refused")  # the checkout is not even there
    assert not (ROOT / "ESCAPED-BY-REMOUNT.txt").exists()
    assert str(facts["unshare user"]).startswith("refused")


def test_no_secret_of_the_host_is_readable(facts: dict[str, object]) -> None:
    assert facts["read /etc/shadow"] == "refused EACCES"
    assert facts["read /etc/gshadow"] == "refused EACCES"
    for path in ("/root/.gitconfig", f"{ROOT}/.git/config", f"{ROOT}/README.md"):
        assert facts[f"read {path}"] == "refused ENOENT", path
    visible = facts["visible"]
    assert isinstance(visible, dict)
    assert not any(visible.values()), visible
    # /root holds only the way to the interpreters' own trees (pyenv, the engine's cache).
    assert set(facts["in /root"]) <= {".cache", ".pyenv"}, facts["in /root"]  # type: ignore[arg-type]
    assert facts["in /run"] == ["snippet-output"]


def test_the_builders_environment_is_in_no_file_a_run_can_open(facts: dict[str, object]) -> None:
    assert facts["canary leaks"] == []
    # PID 1 is the launcher, PID 2 the run: a PID namespace of its own. The
    # launcher was started with an empty environment, and is not even readable.
    processes = facts["processes"]
    assert isinstance(processes, list) and len(processes) == 2 and processes[0] == 1
    assert facts["pid 1 environ"] in ("", "refused EACCES")


def test_no_host_socket_or_port_is_reachable(facts: dict[str, object], host: _Host) -> None:
    for path in host.paths:
        assert str(facts["connect " + path.replace("\0", "@")]).startswith("refused"), path
    assert str(facts["connect tcp"]).startswith("refused")
    assert facts["sockets found"] == []


def test_nothing_outside_the_run_directory_is_writable(facts: dict[str, object]) -> None:
    # uid 0 may write most sysctls without any capability: /proc/sys is read-only.
    assert facts["write /proc/sys"] == "refused EROFS"
    for path in ("/dev/left-behind", "/left-behind", "/tmp/left-behind"):
        assert facts[f"write {path}"] == "refused EROFS", path


def test_a_run_cannot_kill_its_launcher(facts: dict[str, object]) -> None:
    # The launcher is the namespace's init: a signal it has no handler for is dropped.
    assert facts["kill launcher"] == "ok"
