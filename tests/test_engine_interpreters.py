"""Discovery: which binaries are probed, what a probe says, and the clean environment each runs in."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import found_interpreters

from snippet_engine import Interpreter, supported_keys
from snippet_engine.discovery import _in_pyenv, _installed, clean_environment, discover
from snippet_engine.interpreters import describe_key, group_label, key_of, parse_key


def _fake_python(path: Path, body: str = "exit 1") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_pyenv_folders_named_after_unsupported_cpythons_are_not_probed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("3.9.18", "3.10.13", "3.12.1", "3.13.0t", "3.14.0t", "my-env", "pypy3.11-8.0.1"):
        _fake_python(
            tmp_path / "versions" / name / "bin" / ("pypy3" if name.startswith("pypy") else "python3")
        )
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    probed = sorted(p.parent.parent.name for p in _in_pyenv())
    assert probed == ["3.12.1", "3.13.0t", "my-env", "pypy3.11-8.0.1"]


def test_a_listed_interpreter_is_always_probed(tmp_path: Path) -> None:
    # SNIPPET_PYTHONS names exactly what to use: even an unsupported-looking
    # path is asked who it is, and reported by what it says.
    fake = _fake_python(tmp_path / "versions" / "3.9.18" / "bin" / "python3")
    found = discover((str(fake),), None)
    assert found.found == ()
    assert found.ignored == (f"{fake}: does not run as Python 3",)
    assert found.missing() == supported_keys()


def test_what_the_installer_put_in_its_folder_is_found(tmp_path: Path) -> None:
    manifest = {"interpreters": [{"key": "3.14", "path": "/opt/x/bin/python3.14"}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert _installed(tmp_path) == [Path("/opt/x/bin/python3.14")]
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    assert _installed(tmp_path) == []
    assert _installed(None) == []


def test_keys_labels_and_ranges() -> None:
    assert key_of("cpython", "3.13", True) == "3.13t"
    assert parse_key("pypy3.11") == ("pypy", "3.11", False)
    assert describe_key("3.13t") == "CPython 3.13t"
    cpython = [Interpreter("cpython", v, v, v, None, "") for v in ("3.12", "3.13", "3.14", "3.15")]
    free = Interpreter("cpython", "3.13", "3.13.15", "3.13.15", None, "", free_threaded=True)
    pypy = Interpreter("pypy", "3.11", "3.11.17", "8.0.1", None, "")
    assert group_label([i.key for i in cpython]) == "CPython 3.12\u20133.15"
    keys = [cpython[0].key, cpython[2].key, free.key, pypy.key]
    assert group_label(keys) == "CPython 3.12, 3.14, 3.13t \u00b7 PyPy 3.11"


def test_a_clean_environment_sees_no_site_packages_of_the_host(tmp_path: Path) -> None:
    base = Interpreter("cpython", "3.11", "3.11.0", "3.11.0", None, sys.executable, base=sys.executable)
    made = clean_environment(base, tmp_path)
    assert made.path != sys.executable and Path(made.path).is_file()
    assert clean_environment(base, tmp_path).path == made.path  # made once, then reused
    config = (Path(made.path).parent.parent / "pyvenv.cfg").read_text(encoding="utf-8")
    assert "include-system-site-packages = false" in config
    # sys.executable is the project's own venv: the clean one is made from that venv's base
    # (a venv of PyPy's venv would have no bin/python3).
    assert f"home = {Path(sys.executable).parent}\n" not in config
    assert f"home = {Path(sys._base_executable).parent}\n" in config


@pytest.mark.parametrize("interp", found_interpreters(), ids=lambda i: i.key)
def test_no_interpreter_imports_a_third_party_module_at_start_up(interp: Interpreter) -> None:
    # This machine's pyenv 3.11 has a .pth that imports certifi; a reader's clean install does not.
    import subprocess

    probe = "import sys; print('certifi' in sys.modules, any('site-packages' in p for p in sys.path))"
    out = subprocess.run([interp.path, "-s", "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split()[0] == "False", f"{interp.exact_label} ({interp.path}) imports certifi at start-up"
