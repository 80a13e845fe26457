"""Memory diagrams: what the worker writes is checked, laid out deterministically and described."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import found_interpreters

from snippet_engine import Interpreter
from snippet_engine import parse as parse_snippet
from snippet_engine.drawing import DrawingError, describe, parse, to_dot, to_svg
from snippet_engine.run import Runner

ALIASED = {
    "names": [["a", 0], ["b", 1]],
    "nodes": [
        {"type": "list", "label": "list", "edges": [["0", 1, "item"], ["1", 1, "item"]], "more": 0},
        {"type": "list", "label": "list", "edges": [["0", 2, "item"]], "more": 0},
        {"type": "int", "label": "0", "edges": []},
    ],
}


def test_a_drawing_is_laid_out_the_same_way_every_time_and_described_in_words() -> None:
    drawing = parse(json.dumps(ALIASED))
    first, second = to_svg(drawing, "d0"), to_svg(drawing, "d0")
    assert first == second
    assert first.startswith("<svg") and 'role="img"' in first and 'aria-labelledby="d0"' in first
    assert 'stroke="black"' not in first  # themed with currentColor for both colour schemes
    text = describe(drawing)
    assert "a refers to a list" in text and "shared: object 1" in text


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        json.dumps({"names": [["a", 5]], "nodes": []}),
        json.dumps({"names": [], "nodes": [{"type": "x", "label": "x", "edges": [["", 0, "evil"]]}]}),
        json.dumps({"names": [], "nodes": [{"type": "x", "label": "x", "edges": [], "more": "many"}]}),
        json.dumps({"names": [], "nodes": [{"type": "x", "label": "x", "edges": []}] * 100}),
    ],
)
def test_anything_else_the_run_wrote_is_refused(bad: str) -> None:
    with pytest.raises(DrawingError):
        parse(bad)


def test_labels_are_escaped_in_the_layout_language() -> None:
    hostile = {
        "names": [['x"];evil[label="', 0]],
        "nodes": [{"type": "str", "label": "'<b>&</b>'", "edges": []}],
    }
    dot = to_dot(parse(json.dumps(hostile)))
    assert '\\"' in dot and "&lt;b&gt;&amp;" in dot and "<b>&" not in dot


_ONE_OF_EACH = list({i.implementation: i for i in reversed(found_interpreters())}.values())


@pytest.mark.parametrize("interp", _ONE_OF_EACH, ids=lambda i: i.key)
def test_the_worker_draws_the_named_objects_of_a_real_session(runner: Runner, interp: Interpreter) -> None:
    transcript = "#| implementations: cpython pypy\n#| draw: a b c\n"
    transcript += ">>> a = [[0] * 3] * 3\n>>> b = a[0]\n>>> c = None\n"
    result = runner(parse_snippet(Path("t.pycon"), transcript), interp)
    assert result.error is None and result.drawing is not None
    drawing = parse(result.drawing)
    assert [name for name, _ in drawing.names] == ["a", "b", "c"]
    a, b = drawing.names[0][1], drawing.names[1][1]
    assert a is not None and b is not None
    # The inner list is one object, three times in a and once as b.
    assert [target for _, target, _ in drawing.nodes[a].edges] == [b, b, b]
