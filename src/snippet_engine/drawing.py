"""Memory diagrams: names and objects as boxes and arrows, from a real run's objects.

A snippet whose header says `draw: a b` has the worker walk the objects those
names refer to at the end of the session and write their structure (types,
short labels, references, which objects are shared; nodes numbered in order
of first visit, never by id()). Here that structure, written by untrusted
code, is checked, turned into Graphviz's language and laid out by
graphviz-pure (a Rust port of Graphviz that gives the same bytes on every
platform) as SVG, themed with `currentColor` so it reads in both colour
schemes, with alt text made from the same structure.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_MAX_NODES = 64
_TABLE = '<table border="0" cellborder="1" cellspacing="0" cellpadding="4">'
_EDGE_STYLES = {"item", "attribute", "weak"}


class DrawingError(ValueError):
    """What the worker wrote is not a drawing."""


@dataclass(frozen=True)
class Node:
    type: str
    label: str
    edges: tuple[tuple[str, int | None, str], ...]  # (label, target node or None for a dead reference, style)
    more: int = 0  # items not shown


@dataclass(frozen=True)
class Drawing:
    names: tuple[tuple[str, int | None], ...]  # (name, node), None: the name was not defined
    nodes: tuple[Node, ...]


def parse(text: str) -> Drawing:
    """The worker's JSON -> a Drawing, or DrawingError when it is anything else."""
    try:
        data = json.loads(text)
        names = tuple((str(n), _target(t, data)) for n, t in data["names"])
        nodes = tuple(_node(item, data) for item in data["nodes"])
    except (ValueError, KeyError, TypeError) as error:
        raise DrawingError(f"not a drawing: {error}") from None
    if len(nodes) > _MAX_NODES + 1:
        raise DrawingError(f"a drawing has at most {_MAX_NODES} objects")
    return Drawing(names, nodes)


def _target(value: object, data: dict[str, list[object]]) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or not 0 <= value < len(data["nodes"]):
        raise ValueError(f"no node {value!r}")
    return value


def _node(item: dict[str, object], data: dict[str, list[object]]) -> Node:
    edges = []
    for label, target, style in item["edges"]:  # type: ignore[attr-defined]
        if style not in _EDGE_STYLES:
            raise ValueError(f"edge style {style!r}")
        edges.append((str(label), _target(target, data), str(style)))
    more = item.get("more", 0)
    if not isinstance(more, int):
        raise ValueError("more")
    return Node(str(item["type"]), str(item["label"]), tuple(edges), more)


def _weak(node: Node) -> bool:
    return any(style == "weak" for _, _, style in node.edges)


def _contains(node: Node) -> bool:
    """Drawn as a table with one cell per reference it holds (a weak reference has one cell too)."""
    return bool(node.edges) or node.more > 0 or node.type in ("list", "tuple", "dict", "set", "frozenset")


def _label(node: Node) -> str:
    """An HTML-like Graphviz label: a header with the type, then one port per item or attribute."""
    head = html.escape(node.type)
    if _weak(node):
        alive = node.edges[0][1] is not None
        cell = "referent" if alive else "dead"
        return f'<{_TABLE}<tr><td><b>weakref</b></td><td port="p0">{cell}</td></tr></table>>'
    if not _contains(node):
        value = html.escape(node.label)
        return f"<{_TABLE}<tr><td><i>{head}</i></td><td>{value}</td></tr></table>>"
    cells = [
        f'<td port="p{i}">{html.escape(label) or "&#160;"}</td>' for i, (label, _, _) in enumerate(node.edges)
    ]
    if node.more:
        cells.append(f"<td>+{node.more}</td>")
    span = max(len(cells), 1)
    row = "".join(cells) or "<td>empty</td>"
    return f'<{_TABLE}<tr><td colspan="{span}"><b>{head}</b></td></tr><tr>{row}</tr></table>>'


def to_dot(drawing: Drawing) -> str:
    lines = [
        "digraph memory {",
        '  graph [rankdir=LR, bgcolor="transparent", nodesep=0.25, ranksep=0.45];',
        '  node [shape=plain, fontname="Helvetica", fontsize=12];',
        "  edge [arrowsize=0.7];",
    ]
    for index, (name, target) in enumerate(drawing.names):
        lines.append(f'  name{index} [shape=plaintext, fontname="Courier", label="{_quoted(name)}"];')
        if target is not None:
            lines.append(f"  name{index} -> n{target};")
    for number, node in enumerate(drawing.nodes):
        lines.append(f"  n{number} [label={_label(node)}];")
        for port, (_, target, style) in enumerate(node.edges):
            if target is None:
                continue
            source = f"n{number}:p{port}" if _contains(node) else f"n{number}"
            dashed = " [style=dashed]" if style == "weak" else ""
            # An object that refers to itself: the loop leaves below its cell and
            # comes back from below, clear of the neighbouring boxes.
            ends = (f"{source}:s", f"n{target}:s") if target == number else (source, f"n{target}")
            lines.append(f"  {ends[0]} -> {ends[1]}{dashed};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def describe(drawing: Drawing) -> str:
    """Alt text from the structure: each name, what it refers to, and what that holds."""

    def thing(number: int | None) -> str:
        if number is None:
            return "nothing"
        node = drawing.nodes[number]
        if _weak(node):
            return "a weak reference"
        return f"a {node.type}" if _contains(node) else f"the {node.type} {node.label}"

    sentences = [f"{name} refers to {thing(target)} (object {target})" for name, target in drawing.names]
    for number, node in enumerate(drawing.nodes):
        if _weak(node):
            target = node.edges[0][1]
            state = "is dead" if target is None else f"refers to object {target}"
            sentences.append(f"object {number}, a weak reference, {state}")
        elif _contains(node) and node.edges:
            held = ", ".join(
                f"{label + ': ' if label else ''}{'dead' if t is None else f'object {t}'}"
                for label, t, _ in node.edges
            )
            sentences.append(f"object {number}, a {node.type}, holds {held}")
    shared = [n for n in range(len(drawing.nodes)) if _incoming(drawing, n) > 1]
    if shared:
        sentences.append("shared: " + ", ".join(f"object {n}" for n in shared))
    return "; ".join(sentences) + "."


def _incoming(drawing: Drawing, number: int) -> int:
    count = sum(1 for _, t in drawing.names if t == number)
    return count + sum(1 for node in drawing.nodes for _, t, _ in node.edges if t == number)


def _layout_program() -> str:
    beside = Path(sys.executable).with_name("graphviz-pure")  # installed with the engine, in its venv
    found = str(beside) if beside.is_file() else shutil.which("graphviz-pure")
    if found is None:
        raise DrawingError("graphviz-pure is not installed (it is a dependency of this project: make setup)")
    return found


_DROP = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<title>.*?</title>", re.DOTALL)


def to_svg(drawing: Drawing, title_id: str) -> str:
    """Lay the drawing out with graphviz-pure; themed with currentColor, titled with its alt text."""
    laid_out = subprocess.run(
        [_layout_program(), "-Tsvg"],
        input=to_dot(drawing),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if laid_out.returncode != 0:
        raise DrawingError(f"graphviz-pure failed: {laid_out.stderr.strip()[-300:]}")
    svg = _DROP.sub("", laid_out.stdout).strip()
    # Graphviz numbers its groups graph0, node1, edge1 in every drawing: unique per page only with a prefix.
    svg = re.sub(r'\bid="', f'id="{title_id}-', svg)
    svg = svg.replace('stroke="black"', 'stroke="currentColor"').replace(
        'fill="black"', 'fill="currentColor"'
    )
    title = f'<title id="{title_id}">{html.escape(describe(drawing))}</title>'
    return svg.replace(
        "<svg ", f'<svg role="img" aria-labelledby="{title_id}" class="memory-diagram" ', 1
    ).replace(">", ">" + title, 1)
