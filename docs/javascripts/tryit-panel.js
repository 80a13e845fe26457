// The "Edit and run" panel (see tryit.js, which imports this module on a
// reader's first click): an editor of the transcript's inputs, the Run and
// Stop buttons, the output as the REPL echoes it, and a note where the
// build's outputs depend on the machine. Each run is a fresh interpreter in a
// Web Worker (tryit-worker.js); the next one is loaded while the reader reads.
const ASSETS = new URL("../assets/tryit/", import.meta.url).href;
const WORKER = new URL("tryit-worker.js", import.meta.url).href;
const STYLE = new URL("../stylesheets/tryit-panel.css", import.meta.url).href;

// The panel's stylesheet, added on the first click (and again should an
// instant navigation have dropped it).
let style = null;
const styled = () => {
  if (!style || !style.link.isConnected) {
    const link = Object.assign(document.createElement("link"), { rel: "stylesheet", href: STYLE });
    const loaded = new Promise((resolve) => (link.onload = link.onerror = resolve));
    document.head.append(link);
    style = { link, loaded };
  }
  return style.loaded;
};
const PS1 = ">>> ";
const PS2 = "... ";
// What depends on the machine: 64-bit, CPython's native build, addresses.
const NATIVE = [
  [/\bgetsizeof\b|__sizeof__/, "object sizes"],
  [/\bgetrefcount\b/, "reference counts"],
  [/\bid\s*\(/, "id()"],
  [/\bhash\s*\(/, "hash values"],
  [/\bmaxsize\b|\bint_info\b|\bhash_info\b/, "sys.maxsize and the int layout"],
  [/\bstruct\b|\bctypes\b|\bcalcsize\b/, "C type sizes"],
  [/\bplatform\b|\bsys\.platform\b|\bos\.uname\b/, "the platform"],
  [/\bthreading\b|\b_thread\b|\bsubprocess\b|\bmultiprocessing\b|\bos\.fork\b|\bsocket\b/, "threads and processes"],
  [/\btracemalloc\b|\bgetallocatedblocks\b|\b_is_gil_enabled\b|\bgc\.get_/, "the memory allocator"],
  [/\bsys\._jit\b/, "the JIT"],
];
const ADDRESS = /\b0x[0-9a-f]{5,}\b/;
const ERRNO = /Error: \(\d+, '/; // OverflowError: (34, 'Numerical result out of range')

// ---- Inputs, as the rendered transcript shows them ----------------------

// Each input is the list of lines typed at its ">>> " and "... " prompts
// (Pygments marks prompts as .gp). data-copy, where the engine writes it,
// holds the same lines newline-joined: then its exact text is taken.
const inputsOf = (code, copy) => {
  const clone = code.cloneNode(true);
  for (const prompt of clone.querySelectorAll(".gp")) {
    prompt.textContent = prompt.textContent.trimStart().startsWith(">") ? "\u0001" : "\u0002";
  }
  const inputs = [];
  for (const line of clone.textContent.split("\n")) {
    if (line[0] === "\u0001") inputs.push([line.slice(1)]);
    else if (line[0] === "\u0002" && inputs.length) inputs.at(-1).push(line.slice(1));
  }
  const exact = copy != null ? copy.split("\n") : null;
  if (exact && exact.length === inputs.flat().length) {
    let at = 0;
    for (const lines of inputs) lines.forEach((_, i) => (lines[i] = exact[at++]));
  }
  return inputs.map((lines) => lines.join("\n"));
};

// The build's own output for CPython 3.14 (or the first tab), to show beside
// ours. `meta`: the example's provenance line (tryit.js found it).
const buildOutput = (root, exercise, meta) => {
  const versions = ((meta && meta.querySelector("details p")) || {}).textContent || "";
  const exact = (/\b3\.14\.\d+\b/.exec(versions) || ["3.14"])[0];
  if (exercise) {
    // The reveal: a <p data-keys="..."> naming who printed it, then that
    // output ("(nothing)" for none).
    for (const label of root.querySelectorAll(".predict-reveal > p[data-keys]")) {
      const block = label.nextElementSibling;
      if (label.dataset.keys.split(" ").includes("3.14") && block && block.matches(".highlight")) {
        return { label: `CPython ${exact}`, block, on314: true };
      }
    }
    return null;
  }
  const groups = (root.dataset.tabKeys || "").split(";");
  const blocks = [...root.querySelectorAll(".highlight")];
  let index = groups.findIndex((keys) => keys.split(" ").includes("3.14"));
  if (index < 0 || index >= blocks.length) index = 0;
  const labels = root.querySelectorAll(".tabbed-labels label");
  const on314 = Boolean(groups[index] && groups[index].split(" ").includes("3.14"));
  const summary = ((meta && meta.querySelector("summary")) || {}).firstChild;
  const other = (labels[index] || {}).textContent || ((summary && summary.textContent) || "").replace(/^Ran on /, "");
  return blocks[index] ? { label: on314 ? `CPython ${exact}` : other, block: blocks[index], on314 } : null;
};
// ---- Interpreters: one Web Worker per run, the next one loaded ahead ----

let available = null; // a promise: are the interpreter's files in this build?
let spare = null;
const probe = () =>
  (available ??= fetch(ASSETS + "pyodide-lock.json", { method: "HEAD", cache: "no-cache" })
    .then((response) => response.ok)
    .catch(() => false));
const spawn = () => {
  const worker = new Worker(WORKER, { type: "module", name: "tryit" });
  const ready = new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      if (data.type === "ready") resolve(data.label);
      else if (data.type === "unavailable") reject(new Error(data.message));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message || "the interpreter did not start"));
    };
  });
  ready.catch(() => {});
  worker.postMessage({ type: "load", base: ASSETS });
  return { worker, ready };
};
const prepare = () => (spare ??= spawn());
const take = () => {
  const taken = prepare();
  spare = null;
  return taken;
};

// ---- The panel ----------------------------------------------------------

let count = 0;
const panels = new Set();
const element = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name.startsWith("aria") || name === "role") node.setAttribute(name.replace(/^aria(?=[A-Z])/, "aria-").toLowerCase(), value);
    else node[name] = value;
  }
  node.append(...children);
  return node;
};
const button = (text, className, onclick) => element("button", { type: "button", className, onclick }, text);

class Panel {
  constructor(opener, root, exercise, meta) {
    this.opener = opener;
    this.host = root; // the .snippet wrapper, or the .predict exercise
    this.exercise = exercise;
    this.meta = meta; // its provenance line, which holds the button
    this.shown = buildOutput(root, exercise, meta); // the page never changes it
    const code = root.querySelector(".language-pycon code");
    this.original = inputsOf(code, exercise ? null : root.dataset.copy);
    this.basic = root.dataset.repl === "basic";
    this.id = `tryit-${++count}`;
    this.build();
    this.reset();
  }

  build() {
    const source = this.meta.querySelector(".snippet-source");
    this.label = element("span", { className: "tryit-label" }, "CPython for WebAssembly, loaded from this site");
    this.inputs = element("div", { className: "tryit-inputs" });
    this.runButton = button("Run", "tryit-run", () => this.run());
    this.stopButton = button("Stop", "tryit-stop", () => this.stop("Stopped"));
    this.stopButton.disabled = true;
    this.status = element("p", { className: "tryit-status", role: "status" });
    this.output = element("code");
    this.outputBlock = element(
      "div",
      { className: "highlight tryit-output", hidden: true },
      element("pre", { tabIndex: 0, ariaLabel: "Output" }, this.output),
    );
    this.note = element("div", { className: "tryit-note", hidden: true });
    this.root = element(
      "section",
      { className: "tryit", id: this.id, ariaLabel: `Edit and run${source ? ": " + source.textContent.split("/").pop() : ""}` },
      element("p", { className: "tryit-head" }, element("strong", {}, "Edit and run"), " · ", this.label),
      this.inputs,
      element(
        "div",
        { className: "tryit-actions" },
        this.runButton,
        this.stopButton,
        button("Add input", "tryit-add", () => this.add("", true)),
        button("Reset", "tryit-reset", () => this.reset(true)),
        button("Close", "tryit-close", () => this.close()),
      ),
      element("p", { className: "tryit-hint" }, "Each box is one input at the >>> prompt. Ctrl+Enter runs, Escape closes. Your edits stay in this page."),
      this.status,
      this.outputBlock,
      this.note,
    );
    this.root.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.close();
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.run();
      }
    });
  }

  add(text, focus) {
    const area = element("textarea", { className: "tryit-input", value: text, spellcheck: false, autocapitalize: "off", autocomplete: "off" });
    area.setAttribute("autocorrect", "off");
    const fit = () => (area.rows = Math.max(1, area.value.split("\n").length));
    area.addEventListener("input", fit);
    fit();
    const remove = button("\u00d7", "tryit-remove", () => {
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      this.renumber();
      (next ? next.querySelector("textarea") : this.root.querySelector(".tryit-add")).focus();
    });
    const row = element("div", { className: "tryit-row" }, element("span", { className: "tryit-ps1", ariaHidden: "true" }, ">>>"), area, remove);
    this.inputs.append(row);
    this.renumber();
    if (focus) area.focus();
  }

  renumber() {
    [...this.inputs.children].forEach((row, i) => {
      row.querySelector("textarea").setAttribute("aria-label", `Input ${i + 1}`);
      row.querySelector(".tryit-remove").setAttribute("aria-label", `Remove input ${i + 1}`);
    });
  }

  reset(focus) {
    this.inputs.replaceChildren();
    this.original.forEach((text) => this.add(text, false));
    if (focus) this.focus();
  }

  focus() {
    const first = this.inputs.querySelector("textarea");
    (first || this.runButton).focus();
  }

  // What the reader typed: each box's lines. The worker ends a box that the
  // REPL would still continue with an empty line, as a reader would.
  typed() {
    return [...this.inputs.querySelectorAll("textarea")].map((area) => {
      const lines = area.value.replace(/\r\n?/g, "\n").split("\n");
      if (lines.length > 1 && lines.at(-1) === "") lines.pop(); // the box's last Enter
      return lines;
    });
  }

  async run() {
    if (this.worker) return;
    const inputs = this.typed();
    this.setRunning(true);
    if (!(await probe())) return this.unavailable();
    this.say(spare ? "Starting Python\u2026" : "Loading Python (about 13 MB from this site, once)\u2026");
    const taken = take();
    this.worker = taken.worker;
    this.root.dataset.interpreter = "running";
    let label;
    try {
      label = await taken.ready;
    } catch (error) {
      if (this.worker === taken.worker) this.finish(`Python did not start: ${error.message}`);
      return;
    }
    if (this.worker !== taken.worker) return; // stopped or closed while it loaded
    this.runtime = label;
    this.label.textContent = `Output: ${label}`;
    this.lines = inputs;
    this.current = -1;
    this.outputs = [];
    this.atLineStart = true;
    this.output.replaceChildren();
    this.outputBlock.hidden = false;
    this.explain(inputs);
    this.started = performance.now();
    this.say("Running\u2026 (Stop ends it)");
    taken.worker.onmessage = ({ data }) => this.message(data);
    this.stopURL = URL.createObjectURL(new Blob()); // revoked to ask for a stop
    taken.worker.postMessage({ type: "run", inputs: inputs.map((lines) => lines.join("\n")), basic: this.basic, stop: this.stopURL });
  }

  message(data) {
    if (data.type === "out") {
      for (const [stream, text] of data.chunks) {
        this.print(text, stream ? "gr" : "go");
        this.outputs[this.current] = (this.outputs[this.current] || "") + text;
      }
    } else if (data.type === "mark") {
      this.echo(data.index + 1);
    } else if (data.type === "inputs") {
      this.lines = data.inputs;
      this.echo(0);
    } else if (data.type === "cut") {
      this.print("\u2026 output cut: a run shows its first 100 KB\n", "tryit-cut", true);
      this.stop("Stopped at 100 KB of output", false);
    } else if (data.type === "done" && this.stopping) {
      this.finish(`${this.stopping} after ${this.seconds()} s${this.interrupting ? " (KeyboardInterrupt, as Ctrl+C at a prompt)" : ""}. Run starts a fresh interpreter.`);
    } else if (data.type === "done") {
      const seconds = this.seconds();
      const ended = data.status === "exit" && this.current < this.lines.length - 1;
      const same = this.sameAsBuild();
      this.explain(this.lines, same);
      const match = same === null ? "" : same ? " The same output as this page's build." : " This page's build printed something else (below).";
      this.finish((ended ? `The session ended (SystemExit) after ${seconds} s; the inputs after it did not run.` : `Ran in ${seconds} s.`) + match);
    }
  }

  // Show input `index` at its prompts, as the REPL does before running it.
  echo(index) {
    const lines = this.lines;
    for (let i = this.current + 1; i <= index && i < lines.length; i++) {
      lines[i].forEach((line, n) => {
        const prompt = n ? PS2 : PS1;
        this.print(line ? prompt : prompt.trimEnd(), "gp", true);
        this.print(line + "\n", "", true);
      });
    }
    this.current = Math.max(this.current, Math.min(index, lines.length - 1));
  }

  print(text, className, ownLine) {
    if (!text) return;
    if (ownLine && !this.atLineStart && className !== "") text = "\n" + text;
    const last = this.output.lastChild;
    if (last && last.className === className && className !== "gp") last.textContent += text;
    else this.output.append(className ? element("span", { className }, text) : document.createTextNode(text));
    this.atLineStart = text.endsWith("\n");
    const pre = this.output.parentElement;
    if (pre.scrollHeight - pre.scrollTop - pre.clientHeight < 80) pre.scrollTop = pre.scrollHeight;
  }

  // Where the build's outputs need 64-bit or CPython's native build, say so
  // beside them; after a run of the unedited inputs, say whether ours match.
  explain(inputs, same) {
    const text = inputs.flat().join("\n");
    const found = NATIVE.filter(([pattern]) => pattern.test(text)).map(([, what]) => what);
    const shown = this.shown;
    if (shown && ADDRESS.test(shown.block.textContent)) found.push("memory addresses");
    if (shown && ERRNO.test(shown.block.textContent)) found.push("the C library's error numbers");
    const parts = [];
    if (found.length) {
      const where = this.runtime ? `here it is ${this.runtime}` : "here it is WebAssembly (32-bit)";
      parts.push(element("p", {}, element("strong", {}, "Depends on the machine: "), `these inputs show ${[...new Set(found)].join(", ")}. This page's outputs come from CPython's native 64-bit build; ${where}, so such values can differ.`));
    }
    if (shown && !shown.on314) {
      parts.push(element("p", {}, element("strong", {}, "Not a 3.14 example: "), `this page's build ran it on ${shown.label} only, and ${this.runtime || "the interpreter here"} may lack what it shows.`));
    }
    if (shown && (found.length || same === false)) {
      const copy = shown.block.cloneNode(true);
      copy.querySelectorAll("[id], nav, button").forEach((node) => (node.matches("nav, button") ? node.remove() : node.removeAttribute("id")));
      const heading = same === false ? `This page's build printed something else, on ${shown.label}:` : `The build's output on ${shown.label}:`;
      parts.push(element("p", {}, heading), copy);
    }
    this.note.replaceChildren(...parts);
    this.note.hidden = !parts.length;
  }

  // Did the unedited inputs print what this page shows for 3.14 (for an
  // exercise: its last input)? null: edited, or nothing to compare with.
  sameAsBuild() {
    const shown = this.shown;
    if (!shown || !shown.on314 || this.lines.map((lines) => lines.join("\n")).join("\n") !== this.original.join("\n")) return null;
    // The build expands tabs, as a terminal shows them.
    const tidy = (text) =>
      text
        .split("\n")
        .map((line) => line.replace(/[^\t]*\t/g, (run) => run.slice(0, -1) + " ".repeat(8 - ((run.length - 1) % 8))).trimEnd())
        .join("\n")
        .replace(/\n+$/, "");
    const ours = this.exercise ? this.outputs[this.lines.length - 1] || "" : this.output.textContent;
    const theirs = tidy(shown.block.textContent);
    return (this.exercise && theirs === "(nothing)" ? "" : theirs) === tidy(ours);
  }

  setRunning(running) {
    this.runButton.disabled = running;
    this.stopButton.disabled = !running;
  }

  say(text) {
    this.status.textContent = text;
  }

  unavailable() {
    this.setRunning(false);
    this.runButton.disabled = true;
    this.say("Running Python in the browser is not available in this build (its files were not copied: make tryit-assets).");
  }

  seconds() {
    return ((performance.now() - this.started) / 1000).toFixed(2);
  }

  // End the run, if any: its worker, its stop URL, its stop timer.
  teardown() {
    if (this.worker) this.worker.terminate();
    if (this.stopURL) URL.revokeObjectURL(this.stopURL);
    clearTimeout(this.stopTimer);
    this.worker = this.stopURL = this.stopping = null;
    this.setRunning(false);
  }

  finish(text) {
    this.teardown();
    this.say(text);
    if (this.root.isConnected) {
      if (this.root.contains(document.activeElement) || document.activeElement === document.body) this.runButton.focus();
      this.warm(); // the next run starts at once, in a fresh interpreter
    }
  }

  // Stop: the worker cannot take a message while Python runs, so the page
  // revokes the run's blob: URL, which CPython's signal check polls there:
  // the input ends in KeyboardInterrupt, as Ctrl+C ends it at a prompt, and
  // the session ends. Python stuck where it never checks is terminated.
  stop(why, interrupting = true) {
    if (!this.worker || this.stopping) return;
    if (!this.stopURL) return this.finish(`${why}.`); // still loading
    this.stopping = why;
    this.interrupting = interrupting;
    URL.revokeObjectURL(this.stopURL);
    this.say("Stopping\u2026");
    this.stopTimer = setTimeout(() => {
      if (this.current >= 0) this.print("\u2026 stopped\n", "tryit-cut", true);
      this.interrupting = false;
      this.finish(`${why} after ${this.seconds()} s (the interpreter was ended). Run starts a fresh one.`);
    }, 500);
  }

  open() {
    (this.exercise ? this.meta : this.host).after(this.root);
    this.opener.setAttribute("aria-expanded", "true");
    this.opener.setAttribute("aria-controls", this.id);
    panels.add(this);
    this.focus();
    this.explain(this.original.map((text) => text.split("\n")));
    probe().then((ok) => (ok ? this.warm() : this.unavailable()));
  }

  // Load the next interpreter ahead; data-interpreter says when it is there.
  warm() {
    const next = prepare();
    this.root.dataset.interpreter = "loading";
    next.ready.then(
      () => spare === next && (this.root.dataset.interpreter = "ready"),
      () => {},
    );
  }

  close() {
    this.teardown();
    this.root.remove();
    panels.delete(this);
    this.opener.setAttribute("aria-expanded", "false");
    if (this.opener.isConnected) this.opener.focus();
  }
}

// Open or close the panel of a transcript (`root`: its .snippet wrapper, or a
// .predict exercise; `meta`: the provenance line holding the button) from its button.
const byOpener = new WeakMap();
export async function toggle(opener, root, exercise, meta) {
  let panel = byOpener.get(opener);
  if (panel && panel.root.isConnected) return panel.close();
  if (opening.has(opener)) return; // a second click while the stylesheet loads
  opening.add(opener);
  await styled();
  opening.delete(opener);
  if (!panel) byOpener.set(opener, (panel = new Panel(opener, root, exercise, meta)));
  panel.open();
}
const opening = new WeakSet();

// After an instant navigation: stop the runs of panels no longer on the page.
export function sweep() {
  for (const panel of panels) if (!panel.root.isConnected) panel.close();
}
