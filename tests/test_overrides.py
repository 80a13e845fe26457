"""Template overrides that copy a Material partial change only what they say they change.

A copy of a third-party template silently drifts when Material updates its
own: each copy here must equal the installed Material's file apart from its
own comment and the lines listed below, so an update of Material that touches
one of these partials fails this test until the copy is redone.
"""

from __future__ import annotations

import difflib
import re
from importlib.metadata import version
from pathlib import Path

import material
import pytest

ROOT = Path(__file__).resolve().parents[1]
MATERIAL = Path(material.__file__).parent / "templates"

# override -> the lines it removes from Material's file and the lines it adds.
CHANGES: dict[str, tuple[list[str], list[str]]] = {
    "partials/header.html": (
        [],
        [
            "    </div>",
            '    <div class="md-header__option puth-outputs" data-puth-outputs hidden>',
            '      <label class="puth-outputs__label" for="__outputs">Outputs for</label>',
            '      <select class="puth-outputs__select" id="__outputs"></select>',
        ],
    ),
    "partials/search.html": (
        ['<div class="md-search" data-md-component="search" role="dialog">'],
        [
            '<div class="md-search" data-md-component="search" role="dialog" '
            "aria-label=\"{{ lang.t('search') }}\">"
        ],
    ),
    "partials/source.html": (
        [
            '<a href="{{ config.repo_url }}" title="{{ lang.t(\'source\') }}" class="md-source" '
            'data-md-component="source">'
        ],
        ['<a href="{{ config.repo_url }}" title="{{ lang.t(\'source\') }}" class="md-source">'],
    ),
}
_LEADING_COMMENT = re.compile(r"\A\{#-.*?-#\}\n", re.DOTALL)


def _body(path: Path) -> list[str]:
    return _LEADING_COMMENT.sub("", path.read_text(encoding="utf-8")).splitlines()


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_an_override_is_materials_partial_with_only_its_stated_change(name: str) -> None:
    ours = ROOT / "overrides" / name
    comment = ours.read_text(encoding="utf-8").split("-#}", 1)[0]
    assert f"Material {version('mkdocs-material')}'s {name}" in comment, (
        f"overrides/{name} says which Material it copies; it is not the installed one: redo the copy"
    )
    diff = list(difflib.ndiff(_body(MATERIAL / name), _body(ours)))
    removed = [line[2:] for line in diff if line.startswith("- ")]
    added = [line[2:] for line in diff if line.startswith("+ ")]
    assert (removed, added) == CHANGES[name], (
        f"overrides/{name} no longer differs from Material's only as stated"
    )


def test_every_copied_partial_is_checked() -> None:
    # A copy's comment opens with "Material <version>'s <its path>"; replacements and extensions do not.
    copies = {
        path.relative_to(ROOT / "overrides").as_posix()
        for path in (ROOT / "overrides").rglob("*.html")
        if re.match(r"\{#-\s+Material [\d.]+'s ", path.read_text(encoding="utf-8"))
    }
    unchecked = sorted(copies - set(CHANGES))
    assert copies and not unchecked, f"copies of Material partials without a check here: {unchecked}"
