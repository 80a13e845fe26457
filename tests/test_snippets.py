"""The one discovery test: every snippet file on every interpreter it applies to.

Items are named `snippets/<chapter>/<file>:<line>[<interpreter>]` (the line of
its first input) and run through the same engine as the build (fresh process,
shared cache), comparing each input's real output with the one recorded in
the file, by doctest's rules. Only the interpreters a snippet applies to are
collected (its header opts in to PyPy, or narrows the versions); a missing
one is skipped by name, and fails under CI.
"""

from __future__ import annotations

import pytest
from conftest import IN_CI, INSTALL_HINT, missing_interpreter

from snippet_engine import Project, Settings, open_project, problems, supported_keys
from snippet_engine.interpreters import describe_key, parse_key


def _collect() -> list[object]:
    # SNIPPET_ROOT may point the suite at another site (make bench does).
    project = open_project(Settings.from_environ())
    params = []
    for relative in project.all_snippets():
        snippet = project.load(relative)
        line = snippet.steps[0].lineno
        for key in supported_keys():
            implementation, language, _ = parse_key(key)
            if snippet.options.applies_to(implementation, language):
                params.append(pytest.param(relative, key, id=f"snippets/{relative}:{line}[{key}]"))
    return params


_PARAMS = _collect()


def test_every_snippet_is_collected(project: Project) -> None:
    # Guards the discovery itself: an empty site must not pass as a green one.
    assert _PARAMS and len({p.values[0] for p in _PARAMS}) == len(project.all_snippets())  # type: ignore[attr-defined]


def test_every_snippet_is_on_a_page(project: Project) -> None:
    embedded = project.embedded()
    orphans = [s for s in project.all_snippets() if s not in embedded]
    assert not orphans, f"snippets that no page embeds: {orphans}"


def test_every_fence_names_an_existing_snippet(project: Project) -> None:
    known = set(project.all_snippets())
    dangling = {s: pages for s, pages in project.embedded().items() if s not in known}
    assert not dangling, f"fences naming missing snippet files: {dangling}"


def test_every_supported_interpreter_is_present(project: Project) -> None:
    missing = project.discovery.missing()
    if missing:
        names = ", ".join(describe_key(k) for k in missing)
        message = f"missing interpreters: {names}; install them with: {INSTALL_HINT}"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.mark.parametrize(("relative", "key"), _PARAMS)
def test_snippet(project: Project, relative: str, key: str) -> None:
    snippet = project.load(relative)
    interpreter = project.discovery.by_key().get(key)
    if interpreter is None:
        missing_interpreter(key)
        return
    result = project.wait(snippet, interpreter)
    found_problems = problems(snippet, result)
    if found_problems:
        pytest.fail("\n\n".join(found_problems), pytrace=False)
    where = f"{snippet.display_path} on {interpreter.exact_label} ({interpreter.path})"
    assert len(result.steps) == len(snippet.steps), f"{where}: not every input ran"


def test_ids_name_the_first_input_and_only_interpreters_the_snippet_applies_to(project: Project) -> None:
    ids = {p.id for p in _PARAMS}  # type: ignore[attr-defined]
    for relative in project.all_snippets():
        snippet = project.load(relative)
        pypy = "pypy" in snippet.options.implementations
        line = snippet.steps[0].lineno
        assert any(i.startswith(f"snippets/{relative}:{line}[") for i in ids), relative
        assert any(i.startswith(f"snippets/{relative}:{line}[pypy") for i in ids) == pypy, relative
