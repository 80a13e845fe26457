"""On-disk results, shared by the build and the tests, so only what changed runs again.

A key covers everything that can change an output and nothing else: the
snippet's inputs (never its recorded outputs, so `make update` re-runs
nothing), its kind, path and timeout; the interpreter (path, versions); the
code that runs inside the sandbox (worker and launcher), the run environment,
how outputs spell the run's folders, the limits and the sandbox. Messages
and rendering may be reworded freely.
Writes go to a temporary file renamed into place, so concurrent writers
(pytest-xdist, `mkdocs serve` beside `make test`) never leave half an entry;
an entry that is not exactly a stored result is treated as missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .interpreters import Interpreter
from .kinds import ENVIRONMENT, SHOWN_AS, WORKDIR_SHOWN, WORKER
from .launcher import LAUNCHER
from .limits import MEMORY_LIMIT, OUTPUT_CAP
from .results import RunResult
from .snippet import Snippet

# Bump when the stored format or the meaning of a key changes.
SCHEMA = "3"
_CHUNK = 1 << 16


def engine_digest(sandbox: str) -> str:
    """What every run shares: the code inside the sandbox, its environment, limits and isolation."""
    digest = hashlib.sha256(SCHEMA.encode())
    for source in (WORKER, LAUNCHER):
        digest.update(source.read_bytes())
    shown = [WORKDIR_SHOWN, SHOWN_AS]  # how outputs spell the run's folders
    digest.update(
        json.dumps([ENVIRONMENT, shown, OUTPUT_CAP, MEMORY_LIMIT, sandbox], sort_keys=True).encode()
    )
    return digest.hexdigest()


def _read(path: str) -> bytes:
    # os.read instead of open(): a warm build reads every stored result, and
    # the buffered file object cost as much again as the system calls.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        chunks = [os.read(fd, _CHUNK)]
        while len(chunks[-1]) == _CHUNK:  # outputs may reach the 4 MiB cap
            chunks.append(os.read(fd, _CHUNK))
    finally:
        os.close(fd)
    return b"".join(chunks)


class Cache:
    def __init__(self, directory: Path, *, enabled: bool, engine: Callable[[], str]) -> None:
        self.directory = directory
        self.enabled = enabled
        self._engine = engine  # asked once, at the first key: it may probe the sandbox
        self._prefix = str(directory) + os.sep
        self._interpreters: dict[Interpreter, bytes] = {}

    def key(self, snippet: Snippet, interpreter: Interpreter) -> str:
        part = self._interpreters.get(interpreter)
        if part is None:
            described = [self._engine(), interpreter.path, interpreter.implementation]
            described += [interpreter.full_version, interpreter.implementation_version]
            part = self._interpreters[interpreter] = json.dumps(described).encode()
        return hashlib.sha256(part + snippet.inputs_digest.encode()).hexdigest()

    def _path(self, key: str) -> str:
        # Plain strings: a warm build looks up thousands of entries, and
        # building pathlib paths cost more than the stat itself.
        return f"{self._prefix}{key[:2]}{os.sep}{key}.json"

    def get(self, key: str, interpreter: Interpreter, steps: int) -> RunResult | None:
        """The stored result, or None when missing or not a well-formed result for `steps` steps."""
        if not self.enabled:
            return None
        try:
            data = json.loads(_read(self._path(key)).decode("utf-8"))
        except (OSError, ValueError):
            return None
        return RunResult.from_json(data, interpreter, steps)

    def put(self, key: str, result: RunResult) -> None:
        if not self.enabled or result.error is not None:
            return  # failures (a timeout on a loaded machine, a crash) are retried, never stored
        target = Path(self._path(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(result.to_json(), stream, sort_keys=True)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
