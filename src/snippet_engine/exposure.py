"""What a sandboxed run sees of the host, and the bubblewrap command line that shows it.

Only /usr, /etc with every entry that is not world-readable masked, and,
read-only, each interpreter's own tree; nothing of home directories, the
checkout, /run, /var or /tmp; its own /dev, /proc (with /proc/sys read-only)
and a size-limited run directory.
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from .limits import ETC_SECRETS, OUTPUT_DIR, OUTPUT_SPACE, RUN_DISK, RUN_ROOT, RUN_SHM


def tree_of(executable: str) -> str | None:
    """The installation an interpreter binary belongs to (prefix/bin/python -> prefix)."""
    real = Path(os.path.realpath(executable))
    prefix = real.parent.parent
    if prefix.name == "usr" and prefix != Path("/usr"):
        prefix = prefix.parent  # an unpacked package: <tree>/usr/bin/python, <tree>/etc
    homes = {Path("/"), Path("/root"), Path("/home"), Path.home(), *Path("/home").glob("*")}
    if prefix in homes or not real.is_file():
        return None  # never a whole home directory
    return str(prefix)


@functools.cache
def interpreter_trees(path: str, base: str = "") -> frozenset[str]:
    """What a run on this interpreter must see: its clean venv, and the installation it was made from."""
    trees = set()
    venv = Path(path).parent.parent
    if (venv / "pyvenv.cfg").is_file():
        trees.add(str(venv))
    for executable in (base, path):
        tree = tree_of(executable) if executable else None
        if tree is not None:
            trees.add(tree)
    return frozenset(tree for tree in trees if not _already_visible(tree))


def _already_visible(tree: str) -> bool:
    return tree == "/usr" or tree.startswith("/usr/") or tree == "/etc" or tree.startswith("/etc/")


def launcher_python() -> str:
    """The engine's own interpreter, as an installation (a venv's python cannot start without its venv)."""
    base = getattr(sys, "_base_executable", "") or sys.executable
    return os.path.realpath(base if os.path.isfile(base) else sys.executable)


@functools.cache
def _etc_masks() -> tuple[tuple[str, bool], ...]:
    """(path, is a directory) for every entry of /etc a stranger's code must not read, and sockets."""
    masks: list[tuple[str, bool]] = [(p, False) for p in ETC_SECRETS if os.path.lexists(p)]
    for top, dirs, files in os.walk("/etc"):
        for name in sorted(dirs):
            path = os.path.join(top, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode) and mode & 0o005 != 0o005:
                masks.append((path, True))
                dirs.remove(name)  # nothing under it is seen
        for name in files:
            path = os.path.join(top, name)
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                continue
            if stat.S_ISLNK(mode) or path in ETC_SECRETS:
                continue
            if stat.S_ISSOCK(mode) or not mode & stat.S_IROTH:
                masks.append((path, False))
    return tuple(masks)


def _top_level() -> list[str]:
    """/bin, /lib... as the host has them: merged into /usr (links) or directories of their own."""
    arguments = []
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{name}"
        if os.path.islink(path):
            arguments += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            arguments += ["--ro-bind", path, path]
    return arguments


def bwrap_arguments(exposed: Iterable[str], sized: bool, userns: bool = True) -> list[str]:
    # A user namespace of its own, in which no further one may be made: a run
    # cannot give itself capabilities again in a namespace of its own making.
    no_userns = ["--unshare-user", "--disable-userns"] if userns else []
    arguments = [
        "--unshare-pid", "--unshare-net", "--unshare-ipc", *no_userns, "--as-pid-1",
        "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv",
        "--ro-bind", "/usr", "/usr", *_top_level(), "--ro-bind", "/etc", "/etc",
    ]  # fmt: skip
    for path, is_dir in _etc_masks():
        arguments += ["--tmpfs", path, "--remount-ro", path] if is_dir else ["--ro-bind", "/dev/null", path]
    for tree in _outermost(exposed):
        arguments += ["--ro-bind", tree, tree]
    size = ["--size", str(RUN_SHM)] if sized else []
    arguments += ["--dev", "/dev", *size, "--tmpfs", "/dev/shm", "--mqueue", "/dev/mqueue"]
    # bubblewrap leaves /proc/sys writable when it drops root's capabilities, and
    # uid 0 may write most sysctls (core_pattern!) without any: read-only.
    arguments += ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys"]
    size = ["--size", str(RUN_DISK)] if sized else []
    arguments += ["--dir", "/tmp", *size, "--tmpfs", RUN_ROOT]
    size = ["--size", str(OUTPUT_SPACE)] if sized else []
    arguments += [*size, "--tmpfs", OUTPUT_DIR]
    arguments += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", RUN_ROOT]
    return arguments


def _outermost(paths: Iterable[str]) -> list[str]:
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


@functools.cache
def probe_bwrap(found: str) -> tuple[bool, bool, bool]:
    """(works, takes --size, takes --disable-userns): the sandbox as runs get it, tried once per process.

    bubblewrap 0.8 has both options; an older one gets a sandbox without them
    (an unsized run directory, and nested user namespaces), which `describe` says.
    """
    for sized, userns in ((True, True), (True, False), (False, False)):
        trial = [found, *bwrap_arguments([], sized, userns), "--", "/bin/sh", "-c", "exit 0"]
        if subprocess.run(trial, capture_output=True, env={}, check=False).returncode == 0:
            return True, sized, userns
    return False, False, False


def find_bwrap() -> str | None:
    """bubblewrap, if the sandbox works here (it needs user namespaces or root)."""
    found = shutil.which("bwrap")
    return found if found is not None and probe_bwrap(found)[0] else None
