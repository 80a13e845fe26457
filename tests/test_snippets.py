"""The one discovery test: every snippet file on every supported interpreter.

Items are named `snippets/<chapter>/<file>:<line>[<interpreter>]` and run
through the same engine as the build (fresh process, shared cache), comparing
each input's real output with the one recorded in the file, by doctest's rules.
"""

from __future__ import annotations

import pytest

from snippet_engine import Project, current, problems, supported_keys
from snippet_engine.interpreters import describe_key

_project = current()
_PARAMS = [
    pytest.param(relative, key, id=f"snippets/{relative}[{key}]")
    for relative in _project.all_snippets()
    for key in supported_keys()
]


def test_every_snippet_is_collected() -> None:
    # Guards the discovery itself: an empty site must not pass as a green one.
    assert _project.all_snippets(), "no snippet files found under snippets/"


def test_every_snippet_is_on_a_page(project: Project) -> None:
    embedded = project.embedded()
    orphans = [s for s in project.all_snippets() if s not in embedded]
    assert not orphans, f"snippets that no page embeds: {orphans}"


def test_every_fence_names_an_existing_snippet(project: Project) -> None:
    known = set(project.all_snippets())
    dangling = {s: pages for s, pages in project.embedded().items() if s not in known}
    assert not dangling, f"fences naming missing snippet files: {dangling}"


@pytest.mark.parametrize(("relative", "key"), _PARAMS)
def test_snippet(project: Project, relative: str, key: str) -> None:
    snippet = project.load(relative)
    selection = project.select(snippet)
    skipped = dict(selection.skipped)
    if key in skipped:
        pytest.skip(skipped[key])
    if not any(i.key == key for i in selection.run_on):
        pytest.skip(f"{describe_key(key)} is not one of the implementations this snippet opts in to")
    interpreter = next(i for i in selection.run_on if i.key == key)
    result = project.submit(snippet, interpreter).result()
    found = problems(snippet, result)
    if found:
        pytest.fail("\n\n".join(found), pytrace=False)
    where = f"{snippet.display_path} on {interpreter.label} ({interpreter.full_version}, {interpreter.path})"
    assert len(result.steps) == len(snippet.steps), f"{where}: not every input ran"
