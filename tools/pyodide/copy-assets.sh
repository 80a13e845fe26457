#!/bin/sh
# `make tryit-assets`: the interpreter of the "Edit and run" panel, put where the
# site's builders copy static files from.
#
# Pyodide (CPython compiled to WebAssembly) is pinned in this folder's npm lock
# and installed with `npm ci`, only when the lock changed. Its five runtime
# files, and the engine's REPL driver src/snippet_engine/_worker.py that the
# panel runs in it, go to docs/assets/tryit/ (gitignored), which MkDocs and
# Zensical copy into the site as they are. A file already there and identical is
# left alone, so a running `mkdocs serve` sees no change.
#
# Without npm, or when `npm ci` fails (offline), it says so and exits 0: the
# site builds all the same, and the panel tells the reader that it is not
# available in this build. It never waits more than about 30 s for npm.
set -u
cd "$(dirname "$0")/../.."
tools=tools/pyodide
dest=docs/assets/tryit
package=$tools/node_modules/pyodide
files="pyodide.mjs pyodide.asm.mjs pyodide.asm.wasm python_stdlib.zip pyodide-lock.json"

unavailable() {
  echo "tryit-assets: $1: the site builds without the in-browser interpreter" \
    "(its \"Edit and run\" panel says it is not available in this build)" >&2
  exit 0
}

installed=$tools/node_modules/.package-lock.json  # npm ci writes it last
if [ ! -f "$installed" ] || [ "$tools/package-lock.json" -nt "$installed" ] || [ ! -f "$package/pyodide.asm.wasm" ]; then
  command -v npm >/dev/null 2>&1 || unavailable "npm not found (install Node.js 18 or newer with npm)"
  limit=
  command -v timeout >/dev/null 2>&1 && limit="timeout 30"
  echo "tryit-assets: npm ci in $tools"
  (cd "$tools" && $limit npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
    --fetch-retries=1 --fetch-timeout=10000) || unavailable "npm ci failed in $tools"
fi

mkdir -p "$dest"
for name in $files; do
  [ -f "$package/$name" ] || unavailable "$package/$name is missing"
  cmp -s "$package/$name" "$dest/$name" || cp "$package/$name" "$dest/$name"
done
cmp -s src/snippet_engine/_worker.py "$dest/_worker.py" || cp src/snippet_engine/_worker.py "$dest/_worker.py"
