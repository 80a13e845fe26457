"""On-disk results, shared by the build and the tests, so only what changed runs again.

The key covers everything that can change an output: the snippet file's bytes
and path, the interpreter (path, full and implementation versions), the
engine's own sources (worker included) and the sandbox limits. Writes go to a
temporary file and are renamed into place, so concurrent writers (pytest-xdist,
`mkdocs serve` next to `make test`) never leave a half-written entry.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

from .interpreters import Interpreter
from .run import HASH_SEED, RunResult
from .sandbox import MEMORY_LIMIT, OUTPUT_CAP
from .sandbox import describe as sandbox_description
from .snippet import Snippet

CACHE_VARIABLE = "SNIPPET_CACHE_DIR"
DISABLE_VARIABLE = "SNIPPET_NO_CACHE"


@functools.lru_cache(maxsize=1)
def engine_version() -> str:
    """A digest of the engine's own code: editing the runner invalidates every entry."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    # Only what changes a run's output: the runner and its sandbox, the worker inside the
    # interpreter, and the parser that cuts a file into inputs. Presentation,
    # comparison and bookkeeping may change without throwing results away.
    for source in sorted(package.glob("*.py")):
        if source.name not in {"run.py", "sandbox.py", "_launcher.py", "_worker.py", "snippet.py"}:
            continue
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir(root: Path) -> Path:
    configured = os.environ.get(CACHE_VARIABLE)
    return Path(configured) if configured else root / ".cache" / "snippets"


def key_for(snippet: Snippet, interpreter: Interpreter) -> str:
    return _key(_snippet_digest(snippet.display_path, snippet.text, snippet.options.timeout), interpreter)


# Keys are asked for twice per run in every build (prefetch, render) and on
# every serve rebuild: the snippet's part is digested once per text, the
# interpreter's part serialised once per interpreter, and each key hashes
# only the two (a warm build of 4500 runs spent 60 ms serialising whole texts).
@functools.lru_cache(maxsize=8192)
def _snippet_digest(path: str, text: str, timeout: float) -> str:
    return hashlib.sha256(json.dumps([path, text, timeout]).encode()).hexdigest()


@functools.lru_cache(maxsize=64)
def _interpreter_part(interpreter: Interpreter) -> bytes:
    parts = {
        "engine": engine_version(),
        "interpreter": [
            interpreter.path,
            interpreter.implementation,
            interpreter.full_version,
            interpreter.implementation_version,
        ],
        "limits": [HASH_SEED, OUTPUT_CAP, MEMORY_LIMIT, sandbox_description()],
    }
    return json.dumps(parts, sort_keys=True).encode()


@functools.lru_cache(maxsize=8192)
def _key(snippet_digest: str, interpreter: Interpreter) -> str:
    return hashlib.sha256(_interpreter_part(interpreter) + snippet_digest.encode()).hexdigest()


_CHUNK = 1 << 16


def _read(path: str) -> bytes:
    # os.read instead of open(): a warm build reads every stored result, and
    # the buffered file object cost as much again as the system calls.
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = [os.read(fd, _CHUNK)]
        while len(chunks[-1]) == _CHUNK:  # outputs may reach the 4 MiB cap
            chunks.append(os.read(fd, _CHUNK))
    finally:
        os.close(fd)
    return b"".join(chunks)


class Cache:
    def __init__(self, directory: Path, enabled: bool = True) -> None:
        self.directory = directory
        self._prefix = str(directory) + os.sep
        self.enabled = enabled and not os.environ.get(DISABLE_VARIABLE)

    def _path(self, key: str) -> str:
        # Plain strings: a warm build of 1000 snippets looks up 4500 entries
        # twice, and building pathlib paths cost more than the stat itself.
        return f"{self._prefix}{key[:2]}{os.sep}{key}.json"

    def get(self, key: str) -> RunResult | None:
        if not self.enabled:
            return None
        try:
            data = _read(self._path(key))
            return RunResult.from_json(json.loads(data.decode()))
        except (OSError, ValueError, KeyError, TypeError):  # missing, or not ours: run again
            return None

    def put(self, key: str, result: RunResult) -> None:
        if not self.enabled:
            return
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
