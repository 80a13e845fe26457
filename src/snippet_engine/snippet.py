"""Snippet files: parse them into steps with recorded outputs, and write them back.

Three kinds, chosen by extension:

* `.pycon`   a REPL transcript in doctest format (`>>> `, `... `, then output);
* `.py`      a script run as `python file.py`; its output is recorded at the end
             of the file as `#> ` lines;
* `.console` shell commands (`$ `, continued with `> `), where `python` is the
             interpreter under test.

A header of `#| key: value` lines may open any of them. Where interpreters
disagree, the recorded output is split into blocks labelled `#[3.10 3.11]`
(`#>[3.10 3.11]` in scripts); an interpreter missing from every label is
compared with the block of the closest older CPython.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .header import Options, SnippetError, parse_header
from .interpreters import parse_key, parse_version

KINDS = {".pycon": "pycon", ".py": "script", ".console": "console"}
PROMPTS = {"pycon": (">>> ", "... "), "console": ("$ ", "> ")}

_LABEL = re.compile(r"^#>?\[([^\]]+)\]$")
_BOM = "\ufeff"


@dataclass(frozen=True)
class Variant:
    labels: tuple[str, ...] | None  # None: the output of every interpreter
    text: str


@dataclass(frozen=True)
class Step:
    source: str  # what runs: one REPL input, one command, or a whole script
    lineno: int  # 1-based line where the step starts in the file
    expected: tuple[Variant, ...] = ()

    def expected_for(self, key: str) -> tuple[str | None, str | None]:
        """(recorded output, note) for an interpreter key; None when nothing applies."""
        for variant in self.expected:
            if variant.labels is None or key in variant.labels:
                return variant.text, None
        # An interpreter with no record of its own (3.15 in a file recorded up
        # to 3.14, a free-threaded 3.13t) is compared with the recording of the
        # same language version, else the nearest older one, of the same
        # implementation, and the note says so.
        implementation, language, _ = parse_key(key)
        wanted = parse_version(language)
        best: tuple[tuple[int, int], str, Variant] | None = None
        for variant in self.expected:
            for label in variant.labels or ():
                other, other_language, _ = parse_key(label)
                version = parse_version(other_language)
                if other == implementation and version <= wanted and (best is None or version > best[0]):
                    best = (version, label, variant)
        if best is None:
            return None, None
        return best[2].text, f"no output recorded for {key}; compared with {best[1]}"


@dataclass(frozen=True)
class Snippet:
    path: Path
    kind: str
    options: Options
    steps: tuple[Step, ...]
    header_lines: tuple[str, ...] = field(default=())
    text: str = ""  # the file as read, to tell whether an update changed it

    @property
    def display_path(self) -> str:
        return self.path.as_posix()

    @functools.cached_property
    def inputs_digest(self) -> str:
        """What can change what the snippet prints: never its recorded outputs (part of the cache key)."""
        options = self.options
        parts = [self.kind, self.display_path, options.timeout, options.repl, list(options.draw)]
        parts.append([s.source for s in self.steps])
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _split_variants(lines: list[str], path: Path, first_lineno: int) -> tuple[Variant, ...]:
    """Output lines -> variants; `<BLANKLINE>` stands for an empty line."""
    if not lines:
        return (Variant(None, ""),)
    variants: list[Variant] = []
    labels: tuple[str, ...] | None = None
    body: list[str] = []
    started = False
    for offset, line in enumerate(lines):
        match = _LABEL.match(line)
        if match:
            if started:
                variants.append(Variant(labels, _join(body)))
            elif body:
                raise SnippetError(f"{path}:{first_lineno + offset}: output before the first label")
            labels, body, started = tuple(match.group(1).split()), [], True
            bad = [label for label in labels if not _is_key(label)]
            if bad or not labels:
                raise SnippetError(
                    f"{path}:{first_lineno + offset}: {line!r} names no interpreter "
                    "(labels read like 3.12, 3.14t or pypy3.11)"
                )
        else:
            body.append("" if line == "<BLANKLINE>" else line)
    variants.append(Variant(labels, _join(body)))
    return tuple(variants)


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _parse_transcript(lines: list[str], start: int, path: Path, prompt: str, more: str) -> list[Step]:
    steps: list[Step] = []
    index = start
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        if not is_prompt(line, prompt):
            raise SnippetError(f"{path}:{index + 1}: expected a '{prompt}' line, found {line!r}")
        lineno = index + 1
        source = [line[len(prompt) :]]
        index += 1
        while index < len(lines) and is_prompt(lines[index], more):
            source.append(lines[index][len(more) :])
            index += 1
        output: list[str] = []
        first_output = index + 1
        # Output runs to the next blank line or prompt; a bare `>>>` is an
        # input of its own (an empty Enter), never an output line.
        while index < len(lines) and lines[index].strip() and not is_prompt(lines[index], prompt):
            output.append(lines[index])
            index += 1
        steps.append(Step(_join(source), lineno, _split_variants(output, path, first_output)))
    return steps


def _is_key(label: str) -> bool:
    """A label names an interpreter key (3.12, 3.14t, pypy3.11)."""
    try:
        parse_key(label)
    except ValueError:
        return False
    return True


def is_prompt(line: str, prompt: str) -> bool:
    """Whether `line` starts with `prompt` (a bare prompt, Enter alone, has no trailing space)."""
    return line.startswith(prompt) or line == prompt.rstrip()


def _lines(text: str, path: Path) -> list[str]:
    """The file's lines. Only "\n" ends a line: U+2028 or U+0085 in an output are characters."""
    if "\r" in text:
        line = text[: text.index("\r")].count("\n") + 1
        raise SnippetError(f"{path}:{line}: a carriage return; save the file with LF line endings")
    return output_lines(text)


def parse(path: Path, text: str | None = None) -> Snippet:
    """Read a snippet file. Raises SnippetError with path:line on anything odd."""
    kind = KINDS.get(path.suffix)
    if kind is None:
        raise SnippetError(f"{path}: unknown snippet kind; use one of {sorted(KINDS)}")
    if text is None:
        text = read_text(path)
    if text.startswith(_BOM):
        # A byte-order mark would hide a header behind an invisible character.
        raise SnippetError(f"{path}:1: starts with a UTF-8 byte-order mark; save it without one")
    lines = _lines(text, path)
    options, start = parse_header(lines, path)
    if kind == "pycon":
        steps = _parse_transcript(lines, start, path, *PROMPTS["pycon"])
    elif kind == "console":
        steps = _parse_transcript(lines, start, path, *PROMPTS["console"])
    else:
        steps = [_parse_script(lines, start, path)]
    if not steps:
        raise SnippetError(f"{path}:1: no inputs found")
    if options.raises and kind != "script":
        raise SnippetError(f"{path}:1: 'raises' is for scripts; a transcript shows its tracebacks")
    if options.draw and kind != "pycon":
        raise SnippetError(
            f"{path}:1: 'draw' is for REPL transcripts (.pycon): it draws the session's objects"
        )
    return Snippet(path, kind, options, tuple(steps), tuple(lines[:start]), text)


def read_text(path: Path) -> str:
    """A snippet file's text: UTF-8, or an error naming the file and the first bad byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SnippetError(f"{path}:{line}: not UTF-8 (byte {data[error.start]:#04x})") from None


def _parse_script(lines: list[str], start: int, path: Path) -> Step:
    end = len(lines)
    while end > start and (lines[end - 1].startswith("#>") or not lines[end - 1].strip()):
        end -= 1
    output = [line for line in lines[end:] if line.strip()]
    decoded = []
    for line in output:
        if _LABEL.match(line):
            decoded.append(line)
        elif line == "#>":
            decoded.append("<BLANKLINE>")
        elif line.startswith("#> "):
            decoded.append(line[3:])
        else:
            raise SnippetError(f"{path}: recorded output lines start with '#> '")
    source = _join(lines[start:end])
    return Step(source, start + 1, _split_variants(decoded, path, end + 1))


def output_lines(text: str) -> list[str]:
    """An output's lines: only "\n" ends one (U+2028 and U+0085 are characters, as a terminal shows them)."""
    lines = text.split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def _render_output(text: str, prefix: str) -> list[str]:
    lines = output_lines(text)
    if prefix:
        return [f"{prefix} {line}" if line else prefix for line in lines]
    return [line if line else "<BLANKLINE>" for line in lines]


def _render_variants(variants: tuple[Variant, ...], prefix: str, label_mark: str) -> list[str]:
    out: list[str] = []
    for variant in variants:
        if variant.labels is not None:
            out.append(f"{label_mark}[{' '.join(variant.labels)}]")
        out.extend(_render_output(variant.text, prefix))
    return out


def dump(snippet: Snippet) -> str:
    """The file text for a snippet, with its (possibly updated) recorded outputs."""
    lines = list(snippet.header_lines)
    if snippet.kind == "script":
        step = snippet.steps[0]
        lines.extend(step.source.splitlines())
        while lines and not lines[-1].strip():
            lines.pop()
        lines.append("")
        lines.extend(_render_variants(step.expected, "#>", "#>"))
        return _join(lines)
    for step in snippet.steps:
        lines.extend(prompted(snippet.kind, step.source))
        lines.extend(_render_variants(step.expected, "", "#"))
    return _join(lines)


def prompted(kind: str, source: str) -> list[str]:
    """A transcript input as typed at the prompt: `>>> `/`... ` or `$ `/`> `."""
    prompt, more = PROMPTS[kind]
    first, *rest = source.splitlines() or [""]
    return [prompt + first if first else prompt.rstrip()] + [
        more + line if line else more.rstrip() for line in rest
    ]
