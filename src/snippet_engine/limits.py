"""The limits every run gets, and where a run's files are: shared by the sandbox's parts."""

from __future__ import annotations

OUTPUT_CAP = 4 * 1024 * 1024  # bytes a snippet may write to any one file, and print in all
MEMORY_LIMIT = 2 * 1024 * 1024 * 1024  # address space per process; PyPy's GC needs more than CPython
RUN_MEMORY = 3 * 1024 * 1024 * 1024  # all of a run's processes together (and its files in memory)
RUN_PROCESSES = 256  # a run's processes (and threads) at once
RUN_DISK = 256 * 1024 * 1024  # bytes in the run's directory
RUN_SHM = 64 * 1024 * 1024  # bytes in the run's /dev/shm
RUN_ROOT = "/tmp/snippet"  # the run's directory, as the run sees it in the sandbox
OUTPUT_DIR = "/run/snippet-output"  # in the sandbox, a tmpfs of its own for the run's (unnamed) stdout
OUTPUT_SPACE = OUTPUT_CAP + (1 << 20)
POLL = 0.05  # seconds between looks at a run's cgroup counters while it runs
SCRATCH_PREFIX = "snippet-run-"  # without bubblewrap: <run base>/snippet-run-XXXXXXXX (+ .lock)
LEGACY_PREFIX = "snippet-sandbox-"  # what earlier engines left in the run base
CGROUP_PREFIX = "snippet-"
# How long past a run's own timeout the launcher may take to answer before it is replaced.
LAUNCHER_GRACE = 10.0
SWEEP_AGE = 5.0  # seconds: a lock file or folder younger than this may be being made right now
LIMIT_PHRASES = {
    "memory": f"its memory limit ({RUN_MEMORY >> 30} GiB for all of its processes together)",
    "processes": f"its limit of {RUN_PROCESSES} processes at once",
    "disk": f"its space for files ({RUN_DISK >> 20} MiB in its directory, {RUN_SHM >> 20} MiB in /dev/shm)",
}
ETC_SECRETS = ("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-")
