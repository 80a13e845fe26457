"""Per-run memory and process limits by cgroups, where this process may make child cgroups.

Only controllers already delegated to this process's cgroup are used (v2
preferred, else v1's memory and pids); enabling one would change the
machine's cgroup tree. Without them the launcher watches its runs instead.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .limits import CGROUP_PREFIX, RUN_MEMORY, RUN_PROCESSES


@dataclass(frozen=True)
class Controller:
    name: str  # "memory" or "pids"
    parent: Path  # this process's own cgroup in that hierarchy, where runs' cgroups are made
    version: int  # 1 or 2


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount point, root, fs type, super options) of each cgroup mount."""
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo", encoding="utf-8") as table:
        for line in table:
            before, _, after = line.partition(" - ")
            fields, tail = before.split(), after.split()
            if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
                found.append((fields[4], fields[3], tail[0], set(tail[2].split(","))))
    return found


def _own_cgroups() -> dict[str, str]:
    """controller ('' for v2) -> this process's cgroup path."""
    own: dict[str, str] = {}
    with contextlib.suppress(OSError), open("/proc/self/cgroup", encoding="utf-8") as table:
        for line in table:
            parts = line.rstrip("\n").split(":", 2)
            if len(parts) == 3:
                for name in parts[1].split(",") if parts[1] else [""]:
                    own[name.removeprefix("name=")] = parts[2]
    return own


def _inside(point: str, root: str, path: str) -> Path:
    relative = path[len(root) :] if root != "/" and path.startswith(root) else path
    return Path(point) / relative.lstrip("/")


def _can_make_children(parent: Path) -> bool:
    probe = parent / f"{CGROUP_PREFIX}{os.getpid()}-probe"
    try:
        probe.mkdir()
    except FileExistsError:
        pass
    except OSError:
        return False
    with contextlib.suppress(OSError):
        probe.rmdir()
    return True


@functools.cache
def controllers() -> tuple[Controller, ...]:
    """The memory and pids controllers this process may make child cgroups of (v2 preferred)."""
    found: dict[str, Controller] = {}
    own, mounts = _own_cgroups(), _mounts()
    for point, root, kind, _ in mounts:
        if kind == "cgroup2" and "" in own:
            parent = _inside(point, root, own[""])
            try:
                available = (parent / "cgroup.controllers").read_text().split()
                enabled = (parent / "cgroup.subtree_control").read_text().split()
            except OSError:
                continue
            # Only controllers already given to this cgroup's children: enabling one
            # would change the cgroup tree of the machine (and fails where this
            # cgroup holds processes itself, unless it is a root).
            enabled = [name for name in enabled if name in available]
            if enabled and _can_make_children(parent):
                for name in ("memory", "pids"):
                    if name in enabled:
                        found.setdefault(name, Controller(name, parent, 2))
    for point, root, kind, options in mounts:
        for name in ("memory", "pids"):
            if kind == "cgroup" and name in options and name not in found and name in own:
                parent = _inside(point, root, own[name])
                if _can_make_children(parent):
                    found[name] = Controller(name, parent, 1)
    return tuple(found[name] for name in ("memory", "pids") if name in found)


class Group:
    """The cgroup(s) of one launcher and its runs: made with it, removed with it."""

    _numbers = itertools.count()

    def __init__(self, controllers: Sequence[Controller]) -> None:
        name = f"{CGROUP_PREFIX}{os.getpid()}-{next(self._numbers)}"
        self.dirs: dict[str, tuple[Path, int]] = {}
        try:
            for controller in controllers:
                folder = controller.parent / name
                folder.mkdir(exist_ok=True)
                self.dirs[controller.name] = (folder, controller.version)
                if controller.name == "memory":
                    limits = (
                        [("memory.max", RUN_MEMORY), ("memory.swap.max", 0)]
                        if controller.version == 2
                        else [
                            ("memory.limit_in_bytes", RUN_MEMORY),
                            ("memory.memsw.limit_in_bytes", RUN_MEMORY),
                        ]
                    )
                else:
                    # bubblewrap's monitor and the launcher are in it too.
                    limits = [("pids.max", RUN_PROCESSES + 2)]
                for index, (file, value) in enumerate(limits):
                    try:
                        (folder / file).write_text(str(value))
                    except OSError:
                        if index == 0:
                            raise
        except OSError:
            self.remove()
            raise
        self.seen = self._counters()

    @property
    def limited(self) -> set[str]:
        return set(self.dirs)

    def wrap(self, command: list[str]) -> list[str]:
        """The command, started inside these cgroups (by a shell that joins them, then execs it)."""
        procs = sorted({str(folder / "cgroup.procs") for folder, _ in self.dirs.values()})
        joins = " && ".join(f'echo $$ > "${index + 1}"' for index in range(len(procs)))
        script = f'{joins} && shift {len(procs)} && unset PWD OLDPWD && exec "$@"'  # a shell exports PWD
        return ["/bin/sh", "-c", script, "sh", *procs, *command]

    def _counters(self) -> dict[str, int]:
        counts = {}
        for name, (folder, version) in self.dirs.items():
            file, key = {
                ("memory", 2): ("memory.events", "oom_kill"),
                ("memory", 1): ("memory.oom_control", "oom_kill"),
            }.get((name, version), ("pids.events", "max"))
            counts[name] = _counter(folder / file, key)
        return counts

    def hit(self) -> str | None:
        """The limit the runs hit since the last call, if any."""
        # One read: an event between two reads would be counted as seen, never reported.
        now = self._counters()
        found, self.seen = self._hit_in(now), now
        return found

    def peek(self) -> str | None:
        """The limit the runs hit since the last hit(), without marking it seen."""
        return self._hit_in(self._counters())

    def _hit_in(self, now: dict[str, int]) -> str | None:
        hits = [name for name, count in now.items() if count > self.seen.get(name, 0)]
        return "memory" if "memory" in hits else "processes" if "pids" in hits else None

    def kill(self) -> None:
        for folder, version in self.dirs.values():
            if version == 2 and (folder / "cgroup.kill").exists():
                with contextlib.suppress(OSError):
                    (folder / "cgroup.kill").write_text("1")
            kill_members(folder)

    def remove(self) -> None:
        for folder, _ in self.dirs.values():
            remove_cgroup(folder)
        self.dirs = {}


def _counter(file: Path, key: str) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in file.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    return 0


def kill_members(folder: Path) -> None:
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            members = [int(pid) for pid in (folder / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return
        if not members:
            return
        for pid in members:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)


def remove_cgroup(folder: Path) -> None:
    deadline = time.monotonic() + 2.0
    while True:
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                return  # swept by a later build
            kill_members(folder)
            time.sleep(0.005)
