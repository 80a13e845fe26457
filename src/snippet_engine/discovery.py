"""Which supported interpreters this machine has, each behind a clean virtual environment.

Discovery looks in `SNIPPET_PYTHONS` (which replaces everything else when
set), pyenv's versions directory, `PATH`, uv's managed interpreters and the
folder `scripts/install_pythons.py` installs into (its `manifest.json`), asks
each binary who it is (answers are cached on disk by path, size and mtime),
and keeps the first one found for each supported key. Snippets then run in a
virtual environment made from it without pip and without system
site-packages: a reader's clean install, not the host's packages or `.pth`
files (a pyenv 3.11 here imports certifi at start-up from one).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from .interpreters import SUPPORTED, Interpreter, supported_keys

_PROBE = (
    "import sys, json, sysconfig; i = sys.implementation; v = i.version; "
    "print(json.dumps([i.name, '%d.%d' % sys.version_info[:2], sys.version.split()[0], "
    "'%d.%d.%d' % tuple(v[:3]), i.cache_tag, bool(sysconfig.get_config_var('Py_GIL_DISABLED'))]))"
)
_PYENV_CPYTHON = re.compile(r"^(\d+)\.(\d+)\.\d+(t?)$")  # pyenv names CPython builds "3.12.1", "3.13.0t"


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


def _names() -> list[str]:
    names = {f"python{lang}{'t' if ft else ''}" for impl, lang, ft in SUPPORTED if impl == "cpython"}
    names |= {"pypy3"} | {f"pypy{lang}" for impl, lang, _ in SUPPORTED if impl == "pypy"}
    return sorted(names)


def _on_path() -> list[Path]:
    found = []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        for name in _names() if directory else ():
            candidate = Path(directory) / name
            # pyenv's shims re-dispatch slowly and expose only the global version.
            if candidate.is_file() and os.access(candidate, os.X_OK) and "shims" not in candidate.parts:
                found.append(candidate)
    return found


def _in_pyenv() -> list[Path]:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = []
    for version_dir in sorted(root.iterdir()) if root.is_dir() else ():
        # A CPython build's folder says which it is: only a supported one is probed.
        match = _PYENV_CPYTHON.match(version_dir.name)
        if match and ("cpython", f"{match[1]}.{match[2]}", bool(match[3])) not in SUPPORTED:
            continue
        for name in ("python3", "pypy3"):
            if (version_dir / "bin" / name).is_file():
                found.append(version_dir / "bin" / name)
                break
    return found


def _from_uv() -> list[Path]:
    uv = shutil.which("uv")
    if uv is None:
        return []
    try:
        listed = subprocess.run(
            [uv, "python", "list", "--only-installed", "--output-format", "json"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
        return [Path(entry["path"]) for entry in json.loads(listed.stdout) if entry.get("path")]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError):
        return []


def _installed(pythons_dir: Path | None) -> list[Path]:
    """What scripts/install_pythons.py put in its folder, from its manifest."""
    if pythons_dir is None:
        return []
    try:
        manifest = json.loads((pythons_dir / "manifest.json").read_text(encoding="utf-8"))
        return [Path(entry["path"]) for entry in manifest.get("interpreters", [])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


def candidate_paths(listed: tuple[str, ...] | None, pythons_dir: Path | None) -> list[Path]:
    if listed is not None:
        return [Path(p) for p in listed]
    return _in_pyenv() + _on_path() + _from_uv() + _installed(pythons_dir)


def _probe_process(path: str) -> list[object] | None:
    try:
        completed = subprocess.run(
            # -I -S: who an interpreter is does not depend on site-packages.
            [path, "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": os.defpath},
            check=False,
        )
        answer = json.loads(completed.stdout) if completed.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    return answer if isinstance(answer, list) and len(answer) == 6 else None


def _fingerprint(path: Path) -> str | None:
    # mtime and size: an interpreter upgraded in place is probed again.
    try:
        status = path.stat()
    except OSError:
        return None
    return f"{path}|{os.path.realpath(path)}:{status.st_mtime_ns}:{status.st_size}"


class ProbeCache:
    """Probes remembered on disk, so a warm build starts no process to ask who is who."""

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.entries: dict[str, list[object] | None] = {}
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
        known = self.entries.get(fingerprint)
        if fingerprint not in self.entries or (known is not None and len(known) != 6):
            self.entries[fingerprint] = _probe_process(str(path))
            self.dirty = True
        fields = self.entries[fingerprint]
        if fields is None:
            return None
        implementation, language, full, release, tag, free_threaded = fields
        return Interpreter(
            str(implementation), str(language), str(full), str(release), str(tag) if tag else None,
            str(path), bool(free_threaded), str(path),
        )  # fmt: skip

    def save(self) -> None:
        if self.file is None or not self.dirty:
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.file.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self.entries, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.file)


def _made_from(python: str) -> str:
    """The interpreter a virtual environment's `python` was made from; `python` itself if none.

    A venv made from PyPy's own venv has no bin/python3, so venvs are made from the base.
    """
    try:
        config = (Path(python).parent.parent / "pyvenv.cfg").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return python
    for line in config.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "executable" and os.access(value.strip(), os.X_OK):
            return value.strip()
    return python


def clean_environment(interpreter: Interpreter, venvs_dir: Path) -> Interpreter:
    """The interpreter behind a virtual environment of its own, without pip or system site-packages."""
    identity = f"{os.path.realpath(interpreter.base)}|{_fingerprint(Path(interpreter.base))}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    target = venvs_dir / f"{interpreter.key}-{digest}"
    python = target / "bin" / "python3"
    if not python.exists():
        venvs_dir.mkdir(parents=True, exist_ok=True)
        # Made beside the target and renamed into place: pytest workers may race here.
        scratch = Path(tempfile.mkdtemp(prefix=f".{interpreter.key}-", dir=venvs_dir))
        made = subprocess.run(
            [_made_from(interpreter.base), "-I", "-m", "venv", "--without-pip", str(scratch / "venv")],
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0 or not (scratch / "venv" / "bin" / "python3").exists():
            shutil.rmtree(scratch, ignore_errors=True)
            raise OSError(
                f"{interpreter.base} -m venv failed: {made.stderr.strip()[-300:] or 'no bin/python3'}"
            )
        try:
            os.rename(scratch / "venv", target)
        except OSError:
            if not python.exists():  # another process won the race: use theirs
                raise
        shutil.rmtree(scratch, ignore_errors=True)
    return replace(interpreter, path=str(python))


def discover(
    listed: tuple[str, ...] | None = None,
    probe_cache: Path | None = None,
    *,
    pythons_dir: Path | None = None,
    venvs_dir: Path | None = None,
) -> Discovery:
    """Every supported interpreter present, the first found for each key."""
    paths, seen = [], set()
    for candidate in candidate_paths(listed, pythons_dir):
        if os.path.realpath(candidate) not in seen:
            seen.add(os.path.realpath(candidate))
            paths.append(candidate)
    cache = ProbeCache(probe_cache)
    with ThreadPoolExecutor(max_workers=8) as pool:
        probed = list(pool.map(cache.probe, paths))
    cache.save()
    chosen: dict[str, Interpreter] = {}
    ignored: list[str] = []
    wanted = supported_keys()
    for path, interp in zip(paths, probed, strict=True):
        if interp is None:
            ignored.append(f"{path}: does not run as Python 3")
        elif interp.key not in wanted:
            ignored.append(f"{path}: {interp.exact_label} is not in the supported list")
        elif interp.key in chosen:
            ignored.append(f"{path}: {interp.exact_label} already provided by {chosen[interp.key].base}")
        else:
            chosen[interp.key] = interp
    if venvs_dir is not None:
        with ThreadPoolExecutor(max_workers=4) as pool:
            made = dict(
                zip(chosen, pool.map(_environment_or_reason(venvs_dir), chosen.values()), strict=True)
            )
        for key, outcome in made.items():
            if isinstance(outcome, str):
                ignored.append(outcome)
                del chosen[key]
            else:
                chosen[key] = outcome
    found = tuple(sorted(chosen.values(), key=lambda i: wanted.index(i.key)))
    return Discovery(found, tuple(ignored))


def _environment_or_reason(venvs_dir: Path) -> Callable[[Interpreter], Interpreter | str]:
    def make(interpreter: Interpreter) -> Interpreter | str:
        try:
            return clean_environment(interpreter, venvs_dir)
        except OSError as error:
            return f"{interpreter.base}: no clean virtual environment ({error})"

    return make
