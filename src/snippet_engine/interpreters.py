"""Which interpreters exist on this machine, and which ones the site supports.

An interpreter is more than a CPython version: it is an implementation, the
language version it speaks, its own release, and a path. Discovery looks in
`SNIPPET_PYTHONS` (which replaces everything else when set), `PATH`, and
pyenv's versions directory; probing asks each binary who it is.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# The one place that says what the site supports. Order is display order.
SUPPORTED: tuple[tuple[str, str], ...] = (
    ("cpython", "3.10"),
    ("cpython", "3.11"),
    ("cpython", "3.12"),
    ("cpython", "3.13"),
    ("cpython", "3.14"),
    ("pypy", "3.9"),
    ("pypy", "3.10"),
    ("pypy", "3.11"),
)

_PROBE = (
    "import sys, json; i = sys.implementation; v = i.version; "
    "print(json.dumps([i.name, '%d.%d' % sys.version_info[:2], "
    "sys.version.split()[0], '%d.%d.%d' % tuple(v[:3]), i.cache_tag]))"
)


@dataclass(frozen=True, order=True)
class Interpreter:
    """One interpreter binary, as it describes itself."""

    implementation: str  # "cpython" or "pypy" (sys.implementation.name)
    language: str  # "3.12": what `sys.version_info[:2]` says
    full_version: str  # "3.12.1": sys.version's first word
    implementation_version: str  # PyPy's "7.3.11"; CPython's equals full_version
    cache_tag: str | None
    path: str

    @property
    def key(self) -> str:
        """Short, stable identifier used in files, test ids and tab links."""
        prefix = "" if self.implementation == "cpython" else self.implementation
        return f"{prefix}{self.language}"

    @property
    def label(self) -> str:
        if self.implementation == "cpython":
            return f"CPython {self.language}"
        return f"PyPy {self.language} ({self.implementation_version})"

    @property
    def exact_label(self) -> str:
        """'CPython 3.12.1', 'PyPy 3.9.16 (7.3.11)': what the provenance and messages name."""
        if self.implementation == "cpython":
            return f"CPython {self.full_version}"
        return f"PyPy {self.full_version} ({self.implementation_version})"

    @property
    def short_label(self) -> str:
        """Tab title: identical on every page so linked tabs switch together."""
        name = "CPython" if self.implementation == "cpython" else "PyPy"
        return f"{name} {self.language}"

    @property
    def version_tuple(self) -> tuple[int, int]:
        return parse_version(self.language)


def parse_version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def supported_keys() -> list[str]:
    return [("" if impl == "cpython" else impl) + lang for impl, lang in SUPPORTED]


def describe_key(key: str) -> str:
    """'3.12' -> 'CPython 3.12', 'pypy3.9' -> 'PyPy 3.9' (for skip reasons)."""
    if key.startswith("pypy"):
        return f"PyPy {key[4:]}"
    return f"CPython {key}"


def _is_shim(path: Path) -> bool:
    # pyenv shims are shell scripts that re-dispatch (slow, and only expose the
    # global version): the real binaries live under versions/.
    return "shims" in path.parts


def _candidates_on_path() -> list[Path]:
    names = [f"python{lang}" for impl, lang in SUPPORTED if impl == "cpython"]
    names += ["pypy3"] + [f"pypy{lang}" for impl, lang in SUPPORTED if impl == "pypy"]
    found: list[Path] = []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory:
            continue
        for name in names:
            candidate = Path(directory) / name
            if candidate.is_file() and os.access(candidate, os.X_OK) and not _is_shim(candidate):
                found.append(candidate)
    return found


def _candidates_in_pyenv() -> list[Path]:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if not root.is_dir():
        return []
    found = []
    for version_dir in sorted(root.iterdir()):
        for name in ("python3", "pypy3"):
            candidate = version_dir / "bin" / name
            if candidate.is_file():
                found.append(candidate)
                break
    return found


def candidate_paths(listed: tuple[str, ...] | None) -> list[Path]:
    if listed is not None:
        return [Path(p) for p in listed]
    return _candidates_in_pyenv() + _candidates_on_path()


def _probe_process(path: str) -> Interpreter | None:
    try:
        completed = subprocess.run(
            # -I -S: who an interpreter is does not depend on site-packages, and
            # skipping them (a .pth here imports certifi) makes a probe 10 ms, not 50.
            [path, "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": os.defpath, "PYTHONNOUSERSITE": "1"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    name, language, full, impl_version, tag = json.loads(completed.stdout)
    return Interpreter(name, language, full, impl_version, tag, path)


def _fingerprint(path: Path) -> str | None:
    # mtime and size: an interpreter upgraded in place is probed again.
    try:
        stat = path.stat()
    except OSError:
        return None
    return f"{os.path.realpath(path)}:{stat.st_mtime_ns}:{stat.st_size}"


class ProbeCache:
    """Probes remembered on disk, so a warm build starts no process to ask who is who."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.entries: dict[str, list[str] | None] = {}
        if file is not None:
            try:
                self.entries = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}
        self.dirty = False

    def probe(self, path: Path) -> Interpreter | None:
        fingerprint = _fingerprint(path)
        if fingerprint is None:
            return None
        key = f"{path}|{fingerprint}"
        if key in self.entries:
            fields = self.entries[key]
            if fields is None:
                return None
            implementation, language, full, release, tag = fields
            return Interpreter(implementation, language, full, release, tag or None, str(path))
        interp = _probe_process(str(path))
        self.entries[key] = (
            None
            if interp is None
            else [
                interp.implementation,
                interp.language,
                interp.full_version,
                interp.implementation_version,
                interp.cache_tag or "",
            ]
        )
        self.dirty = True
        return interp

    def save(self) -> None:
        if self.file is None or not self.dirty:
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.file.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self.entries, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.file)


@dataclass(frozen=True)
class Discovery:
    """The interpreters to use, one per supported key, and what was left out."""

    found: tuple[Interpreter, ...]
    ignored: tuple[str, ...]  # human-readable reasons

    def by_key(self) -> dict[str, Interpreter]:
        return {interp.key: interp for interp in self.found}

    def missing(self) -> list[str]:
        present = self.by_key()
        return [key for key in supported_keys() if key not in present]


_PYENV_CPYTHON = re.compile(r"^(\d+)\.(\d+)\.\d")  # pyenv names CPython builds "3.12.1", "3.13.0t"


def _unsupported_by_name(path: Path) -> str | None:
    """Why a pyenv CPython need not be probed: its folder's name says an unsupported version."""
    match = _PYENV_CPYTHON.match(path.parent.parent.name)  # versions/<name>/bin/python3
    if match is None or path.parent.parent.parent.name != "versions":
        return None
    language = f"{match.group(1)}.{match.group(2)}"
    if ("cpython", language) in SUPPORTED:
        return None
    return f"{path}: CPython {language} (by its pyenv name) is not in the supported list"


def discover(listed: tuple[str, ...] | None = None, probe_cache: Path | None = None) -> Discovery:
    """Every supported interpreter present, the first found for each key.

    `listed` (SNIPPET_PYTHONS) replaces discovery, and each path in it is probed.
    """
    paths: list[Path] = []
    seen: set[str] = set()
    ignored: list[str] = []
    for candidate in candidate_paths(listed):
        real = os.path.realpath(candidate)
        if real in seen:
            continue
        seen.add(real)
        # Each probe is a process: a cold build waited 0.16 s for fourteen of them.
        reason = None if listed is not None else _unsupported_by_name(candidate)
        if reason:
            ignored.append(reason)
        else:
            paths.append(candidate)
    cache = ProbeCache(probe_cache)
    with ThreadPoolExecutor(max_workers=8) as pool:
        probed = list(pool.map(cache.probe, paths))
    cache.save()
    chosen: dict[str, Interpreter] = {}
    wanted = set(supported_keys())
    for path, interp in zip(paths, probed, strict=False):
        if interp is None:
            ignored.append(f"{path}: does not run as Python 3")
        elif interp.key not in wanted:
            ignored.append(f"{path}: {interp.label} is not in the supported list")
        elif interp.key in chosen:
            ignored.append(f"{path}: {interp.label} already provided by {chosen[interp.key].path}")
        else:
            chosen[interp.key] = interp
    order = supported_keys()
    found = tuple(sorted(chosen.values(), key=lambda i: order.index(i.key)))
    return Discovery(found, tuple(ignored))


_VERSION_SPEC = re.compile(r"^(\d+\.\d+)?\s*(\+|-\s*(\d+\.\d+))?$")


def version_matches(spec: str, language: str) -> bool:
    """'3.11+' / '3.10-3.12' / '3.12' against a language version."""
    match = _VERSION_SPEC.match(spec.strip())
    if not match or not match.group(1):
        raise ValueError(f"bad version spec {spec!r}: use '3.12', '3.11+' or '3.10-3.12'")
    low = parse_version(match.group(1))
    version = parse_version(language)
    if match.group(2) == "+":
        return version >= low
    if match.group(3):
        return low <= version <= parse_version(match.group(3))
    return version == low
