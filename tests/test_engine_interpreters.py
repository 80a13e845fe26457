"""Discovery: which binaries are probed, and what a probe says."""

from __future__ import annotations

from pathlib import Path

import pytest

from snippet_engine.interpreters import _unsupported_by_name, discover


@pytest.mark.parametrize(
    ("path", "skipped"),
    [
        ("/root/.pyenv/versions/3.9.18/bin/python3", True),
        ("/root/.pyenv/versions/3.6.15/bin/python3", True),
        ("/root/.pyenv/versions/3.12.1/bin/python3", False),
        ("/root/.pyenv/versions/3.13.0t/bin/python3", False),
        ("/root/.pyenv/versions/my-project-env/bin/python3", False),  # a virtualenv: probe it
        ("/root/.pyenv/versions/pypy3.9-7.3.11/bin/pypy3", False),
        ("/usr/bin/python3.9", False),  # not a pyenv folder: its name proves nothing
    ],
)
def test_only_pyenv_folders_named_after_unsupported_cpythons_skip_the_probe(path: str, skipped: bool) -> None:
    assert (_unsupported_by_name(Path(path)) is not None) is skipped


def test_a_listed_interpreter_is_always_probed(tmp_path: Path) -> None:
    # SNIPPET_PYTHONS names exactly what to use: even an unsupported-looking
    # pyenv path is asked who it is, and reported by what it says.
    fake = tmp_path / "versions" / "3.9.18" / "bin" / "python3"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    found = discover((str(fake),), None)
    assert found.found == ()
    assert found.ignored == (f"{fake}: does not run as Python 3",)
