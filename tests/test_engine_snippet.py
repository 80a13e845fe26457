"""The snippet file format: parsing, recorded variants, and writing back."""

from __future__ import annotations

from pathlib import Path

import pytest

from snippet_engine import SnippetError, Variant, dump, parse

TRANSCRIPT = """\
#| implementations: cpython pypy
#| flags: ELLIPSIS
>>> x = 1000
>>> x is 1000
#[3.10 3.11]
False
#[3.12 3.13]
True
>>> for i in range(2):
...     print(i)
...
0
1
>>> print("a\\n\\nb")
a
<BLANKLINE>
b
"""


def test_transcript_steps_sources_and_lines() -> None:
    snippet = parse(Path("snippets/t/x.pycon"), TRANSCRIPT)
    assert snippet.kind == "pycon"
    assert snippet.options.implementations == ("cpython", "pypy")
    assert [s.lineno for s in snippet.steps] == [3, 4, 9, 14]
    assert snippet.steps[2].source == "for i in range(2):\n    print(i)\n\n"
    assert snippet.steps[3].expected == (Variant(None, "a\n\nb\n"),)


def test_variants_resolve_by_label_then_nearest_older_cpython() -> None:
    step = parse(Path("t.pycon"), TRANSCRIPT).steps[1]
    assert step.expected_for("3.11") == ("False\n", None)
    assert step.expected_for("3.13") == ("True\n", None)
    text, note = step.expected_for("3.14")
    assert text == "True\n"
    assert note is not None and "3.13" in note
    # The free-threaded build borrows its own language version's record.
    text, note = step.expected_for("3.13t")
    assert text == "True\n" and note is not None and "3.13" in note
    # PyPy never borrows a CPython record: it has to be recorded for real.
    assert step.expected_for("pypy3.11") == (None, None)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("x.pycon", TRANSCRIPT),
        (
            "x.py",
            "#| raises: ValueError\nprint(1)\nraise ValueError('no')\n\n#>[3.10]\n#> 1\n#>\n#>[3.11]\n#> 2\n",
        ),
        ("x.console", "$ python -c 'print(1)'\n1\n$ printf 'a\\nb' \\\n> | cat\na\nb\n"),
    ],
)
def test_dump_round_trips(name: str, text: str) -> None:
    snippet = parse(Path(name), text)
    assert dump(snippet) == text
    assert parse(Path(name), dump(snippet)) == snippet


def test_script_output_block_is_not_part_of_the_source() -> None:
    snippet = parse(Path("x.py"), "print('hi')\n\n#> hi\n")
    assert snippet.steps[0].source == "print('hi')\n"
    assert snippet.steps[0].expected == (Variant(None, "hi\n"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("#| colour: blue\n>>> 1\n", "unknown header key"),
        ("#| versions: 3.12+\n>>> 1\n", "needs a 'why'"),
        ("#| versions: three\n#| why: x\n>>> 1\n", "bad version spec"),
        ("#| flags: FAST\n>>> 1\n", "unknown flag"),
        ("#| implementations: jython\n>>> 1\n", "implementations"),
        ("hello\n", "expected a '>>> ' line"),
        (">>> 1\n#[3.10]\n1\n", None),
    ],
)
def test_header_and_format_errors_name_the_file(text: str, message: str | None) -> None:
    if message is None:
        parse(Path("snippets/t/ok.pycon"), text)
        return
    with pytest.raises(SnippetError, match=message) as error:
        parse(Path("snippets/t/bad.pycon"), text)
    assert "snippets/t/bad.pycon:" in str(error.value)


def test_versions_header_selects_languages() -> None:
    snippet = parse(Path("x.pycon"), "#| versions: 3.12+\n#| why: immortal objects\n>>> 1\n")
    assert not snippet.options.applies_to("cpython", "3.11")
    assert snippet.options.applies_to("cpython", "3.13")
    assert not snippet.options.applies_to("pypy", "3.12")
