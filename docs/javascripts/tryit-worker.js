// The interpreter behind "Edit and run" (tryit.js), one per run: a module
// Web Worker that loads Pyodide, CPython compiled to WebAssembly, from this
// site's own assets/tryit/ (copied there by `make tryit-assets`), and types
// the reader's inputs into CPython's REPL with the build's own driver,
// src/snippet_engine/_worker.py: its run_session(inputs, mark) feeds PyREPL's
// read loop line by line and calls mark(index, status) once an input's output
// is flushed. Nothing here touches the network beyond those files, and the
// reader's inputs arrive by postMessage and go nowhere else.
//
// Messages in: {type: "load", base}, then {type: "run", inputs, basic, stop}.
// Messages out: {type: "ready", label} or {type: "unavailable", message};
// then {type: "inputs", inputs} (the lines typed), {type: "out", chunks:
// [[stream, text], ...]} (0 stdout, 1 stderr), {type: "mark", index, status},
// {type: "cut"} once past the output cap, and last {type: "done", status}.
//
// Stop: Python never yields to this worker's event loop, so no message can
// reach it while it runs, and Chromium lets a busy worker run 2 s after
// terminate(). So the page revokes a blob: URL (`stop`) instead, which this
// worker polls with a synchronous request from CPython's own signal check
// (Pyodide's interrupt buffer, read every few bytecodes; throttled to every
// 50 ms here): SIGINT, so the running input ends in KeyboardInterrupt exactly
// as Ctrl+C ends it at a prompt, and the session ends before the next input.
// (A SharedArrayBuffer would need cross-origin isolation headers, which a
// static host cannot send.) The page terminates the worker after each run,
// and at once if a stop is not honoured within half a second.

const CAP = 100 * 1024; // bytes of output per run; past it the output is dropped
// The environment the build runs every snippet in (src/snippet_engine/kinds.py).
const ENV = {
  LANG: "C.UTF-8",
  LC_ALL: "C.UTF-8",
  PYTHONHASHSEED: "0",
  PYTHONIOENCODING: "utf-8",
  NO_COLOR: "1",
  PYTHON_COLORS: "0",
  TERM: "xterm-256color",
  COLUMNS: "80",
  LINES: "24",
};

// The glue, run in a namespace of its own so that the REPL's __main__ stays
// as empty as at a fresh prompt. It only undoes what Pyodide's start-up does
// that a terminal's python does not: a name in __main__ and its own
// sys.excepthook (the REPL calls the hook only when it is not the default).
const GLUE = String.raw`
import sys, __main__

__main__.__dict__.pop("_pyodide_core", None)
sys.excepthook = sys.__excepthook__

def label():
    name = {"cpython": "CPython"}.get(sys.implementation.name, sys.implementation.name)
    machine = "WebAssembly" if sys.platform in ("emscripten", "wasi") else sys.platform
    bits = 64 if sys.maxsize > 2**32 else 32
    return "%s %s on %s (%d-bit)" % (name, sys.version.split()[0], machine, bits)

def load(source):
    namespace = {"__name__": "_tryit", "__file__": "_worker.py"}
    exec(compile(source, "_worker.py", "exec"), namespace)
    return namespace

def ended(inputs):
    # Each box of the editor is one input: where the REPL would still wait at
    # "... " after its last line (a block, "while True: pass"), the box ends
    # with the empty line a reader would type there. Whether it waits is
    # codeop's decision, the one PyREPL's more_lines and code.InteractiveConsole
    # make (PyREPL imports codeop before its first prompt anyway).
    # Its compile warnings are not the reader's: the run prints them, as at a
    # prompt (compile-time warnings keep no registry, so none is lost).
    import codeop

    class Sink:
        def write(self, text):
            return len(text)

        def flush(self):
            pass

    def waits(text):
        stderr, sys.stderr = sys.stderr, Sink()
        try:
            return codeop.compile_command(text, "<stdin>", "single") is None
        except (SyntaxError, OverflowError, ValueError):
            return False
        finally:
            sys.stderr = stderr

    done = []
    for text in inputs:
        lines = text.split("\n")
        if waits(text) and not waits(text + "\n"):
            lines.append("")
        done.append(lines)
    return done

def run(worker, inputs, mark, basic, stopping):
    if basic:
        import os
        os.environ["PYTHON_BASIC_REPL"] = "1"

    def marked(index, status):
        if stopping():
            raise EOFError  # a stop: the REPL reads no further input (Ctrl+D)
        mark(index, status)

    try:
        worker["run_session"]([line + "\n" for line in ("\n".join(lines) for lines in inputs)], marked)
    except SystemExit:
        return "exit"
    except BaseException:
        if stopping():
            return "stopped"
        raise
    return "ok"
`;

let loading = null;
let chunks = [];
let size = 0;
let cut = false;
let cutAt = null;
let lastPost = 0;
let stopURL = null;
let stopping = false; // sticky: the page asked for a stop, or the output passed the cap
let interrupted = false; // SIGINT is raised once
let nextCheck = 0;

const stopRequested = () => {
  if (stopping || !stopURL) return stopping;
  const now = performance.now();
  if (now < nextCheck) return false;
  nextCheck = now + 50;
  try {
    const request = new XMLHttpRequest();
    request.open("GET", stopURL, false);
    request.send();
  } catch {
    stopping = true; // revoked
  }
  return stopping;
};
// What CPython's signal check reads: 2 is SIGINT. Writes (the reset to 0) are ignored.
const interruptBuffer = {
  get 0() {
    if (interrupted || !stopRequested()) return 0;
    interrupted = true;
    return 2;
  },
  set 0(value) {},
};

const post = (message) => self.postMessage(message);

const flush = () => {
  if (chunks.length) post({ type: "out", chunks });
  chunks = [];
  lastPost = performance.now();
};

// Every byte is reported as written, dropped ones too, so Python never retries.
const decoders = [new TextDecoder(), new TextDecoder()];
const writer = (stream) => (bytes) => {
  if (!cut && size + bytes.length > CAP) {
    cut = true;
    cutAt = chunks.length;
  }
  const kept = cut ? bytes.subarray(0, Math.max(CAP - size, 0)) : bytes;
  if (kept.length) {
    size += kept.length;
    const text = decoders[stream].decode(kept, { stream: true });
    const last = chunks.at(-1);
    if (last && last[0] === stream) last[1] += text;
    else chunks.push([stream, text]);
    // Python runs without yielding, so output goes out as it comes, in batches.
    if (performance.now() - lastPost > 40) flush();
  }
  if (cut && cutAt !== null) {
    // The run stops here: past the cap, a loop would only spin.
    cutAt = null;
    stopping = true;
    flush();
    post({ type: "cut" });
  }
  return bytes.length;
};

async function load(base) {
  const { loadPyodide } = await import(new URL("pyodide.mjs", base).href);
  const [pyodide, source] = await Promise.all([
    loadPyodide({ indexURL: base, env: ENV, fullStdLib: false, checkAPIVersion: true }),
    fetch(new URL("_worker.py", base)).then((response) => {
      if (!response.ok) throw new Error(`_worker.py: HTTP ${response.status}`);
      return response.text();
    }),
  ]);
  pyodide.setStdin({ stdin: () => null }); // end of file, as the build's runs read
  pyodide.setStdout({ write: writer(0), isatty: false });
  pyodide.setStderr({ write: writer(1), isatty: false });
  pyodide.setInterruptBuffer(interruptBuffer);
  const glue = pyodide.globals.get("dict")();
  pyodide.runPython(GLUE, { globals: glue });
  const driver = glue.get("load")(source);
  return { pyodide, glue, driver, label: glue.get("label")() };
}

self.onmessage = async ({ data }) => {
  if (data.type === "load") {
    loading = load(data.base);
    try {
      post({ type: "ready", label: (await loading).label });
    } catch (error) {
      post({ type: "unavailable", message: String((error && error.message) || error) });
    }
  } else if (data.type === "run") {
    const { pyodide, glue, driver } = await loading;
    stopURL = data.stop;
    // The lines typed, each box ended as at a prompt: the page echoes these.
    const inputs = glue.get("ended")(pyodide.toPy(data.inputs));
    post({ type: "inputs", inputs: inputs.toJs() });
    const mark = (index, status) => {
      flush();
      post({ type: "mark", index, status });
    };
    let status;
    try {
      status = glue.get("run")(driver, inputs, mark, Boolean(data.basic), stopRequested);
    } catch (error) {
      status = "error";
      chunks.push([1, String((error && error.message) || error)]);
    }
    flush();
    post({ type: "done", status });
  }
};
