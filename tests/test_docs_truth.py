"""What README and CONTRIBUTING promise matches what the project does."""

from __future__ import annotations

import re
import tomllib

from conftest import ROOT

from snippet_engine.header import ALLOWED_FLAGS, KEYS
from snippet_engine.settings import VARIABLES


def _table_keys(text: str, pattern: str) -> list[str]:
    return re.findall(pattern, text, re.MULTILINE)


def test_contributing_documents_exactly_the_engine_settings() -> None:
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    documented = _table_keys(contributing, r"^\| `(SNIPPET_[A-Z_]+)` \|")
    assert sorted(documented) == sorted(VARIABLES)


def test_contributing_documents_every_header_key_and_flag() -> None:
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    table = contributing.split("| key | meaning |", 1)[1].split("\n\n", 1)[0]
    for key in KEYS:
        assert f"`{key}:" in table, key
    for flag in ALLOWED_FLAGS:
        assert f"`{flag}`" in table, flag


def test_readme_states_the_python_the_venv_needs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    needs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert needs == ">=3.11"
    assert "Python 3.11" in readme


def test_every_pinned_dependency_is_used() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [re.split(r"[=<>\[]", d)[0].lower() for d in project["dependencies"]]
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py"))
    sources += (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    imports = {"mkdocs": "mkdocs", "mkdocs-material": "material", "pymdown-extensions": "pymdownx"}
    imports |= {"markdown-exec": "markdown_exec", "markdown": "markdown"}
    imports["mkdocs-git-revision-date-localized-plugin"] = "git-revision-date-localized"
    for name in names:
        assert imports.get(name, name) in sources, f"{name} is pinned but nothing uses it"
