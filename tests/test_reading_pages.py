"""What a reader of the built site sees in the examples, read from its HTML.

Every tab set is a real difference: no two of its tabs show the same text,
the tab open by default is the newest CPython's, and the highlighted lines
(the ones that differ between tabs) stay few enough to point at something:
at most a fifth of all output lines in tab sets across the site.
"""

from __future__ import annotations

import re

import pytest
from sites import Build, TabSet, tab_sets, text_of

from snippet_engine.interpreters import supported_keys

pytestmark = pytest.mark.slow

HIGHLIGHTED_SHARE = 0.20
_LINE_END = "\n"


def output_lines(block: str) -> list[tuple[bool, str]]:
    """(highlighted, text) for every output line of a tab: not the prompts' input lines."""
    lines = []
    for code in re.findall(r"<code>(.*?)</code></pre>", block, re.DOTALL):
        # Pygments closes each highlighted line's span after its newline.
        marked = code.replace('<span class="hll">', "\x00")
        for raw in marked.split(_LINE_END):
            # A highlighted line's closing </span> starts the next line.
            raw = re.sub(r"^(?:</span>)+", "", raw)
            highlighted = "\x00" in raw
            if raw.lstrip("\x00").startswith('<span class="gp">'):
                continue  # an input: ">>> ", "... " or "$ "
            text = text_of(raw.replace("\x00", ""))
            if text or highlighted:
                lines.append((highlighted, text))
    return lines


@pytest.fixture(scope="module")
def sets(real_site: Build) -> list[TabSet]:
    assert real_site.returncode == 0, real_site.log
    found = tab_sets(real_site.site)
    assert found, "no page shows per-interpreter tabs"
    return found


def test_every_tab_set_matches_its_tab_keys(sets: list[TabSet]) -> None:
    for tab_set in sets:
        assert len(tab_set.keys) == len(tab_set.labels) == len(tab_set.blocks), tab_set.source


def test_no_tab_set_has_two_tabs_showing_the_same_text(sets: list[TabSet]) -> None:
    repeated = []
    for tab_set in sets:
        texts = [text_of(block).strip() for block in tab_set.blocks]
        if len(set(texts)) != len(texts):
            repeated.append(f"{tab_set.page}: {tab_set.source} ({', '.join(tab_set.labels)})")
    assert repeated == []


def test_the_tab_open_by_default_is_the_newest_cpython(sets: list[TabSet]) -> None:
    order = supported_keys()
    wrong = []
    for tab_set in sets:
        cpython = [k for keys in tab_set.keys for k in keys if k[0].isdigit() and not k.endswith("t")]
        newest = max(cpython, key=order.index)
        if newest not in tab_set.keys[tab_set.checked]:
            wrong.append(f"{tab_set.page}: {tab_set.source} opens {tab_set.labels[tab_set.checked]}")
    assert wrong == []


def test_at_most_a_fifth_of_the_output_lines_in_tabs_are_highlighted(sets: list[TabSet]) -> None:
    per_snippet: dict[str, tuple[int, int]] = {}
    for tab_set in sets:
        lines = [line for block in tab_set.blocks for line in output_lines(block)]
        marked = sum(highlighted for highlighted, _ in lines)
        before = per_snippet.get(f"{tab_set.page}: {tab_set.source}", (0, 0))
        per_snippet[f"{tab_set.page}: {tab_set.source}"] = (before[0] + marked, before[1] + len(lines))
    marked = sum(m for m, _ in per_snippet.values())
    total = sum(t for _, t in per_snippet.values())
    assert total
    worst = sorted(per_snippet.items(), key=lambda item: -item[1][0])[:12]
    report = "; ".join(f"{name} {m}/{t}" for name, (m, t) in worst)
    assert marked / total <= HIGHLIGHTED_SHARE, f"{marked}/{total} lines highlighted; most: {report}"
