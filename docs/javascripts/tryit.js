// "Edit and run": under each REPL transcript and "Predict the output"
// exercise, a button that opens an editor of the transcript's inputs and runs
// them in the reader's browser, in CPython compiled to WebAssembly (Pyodide),
// through the very REPL driver the build uses (src/snippet_engine/_worker.py).
// This script only adds the buttons. Nothing else loads until a reader presses
// one: then tryit-panel.js, and a Web Worker (tryit-worker.js) that fetches
// the interpreter from this site's own assets/tryit/ (`make tryit-assets`).
// No other host, no storage: the reader's edits never leave the page.
(() => {
  const here = (document.currentScript && document.currentScript.src) || location.href;
  const PANEL = new URL("tryit-panel.js", here).href;
  let panel = null; // the module, once a reader asked for it
  const load = () => (panel ??= import(PANEL));

  const metaOf = (root) => {
    const after = root.nextElementSibling;
    return root.querySelector(":scope > .snippet-meta") || (after && after.matches(".snippet-meta") ? after : null);
  };

  const page = () => {
    if (panel) panel.then((module) => module.sweep());
    const found = [
      ...[...document.querySelectorAll(".snippet")].map((root) => [root, false]),
      ...[...document.querySelectorAll(".predict")].map((root) => [root, true]),
    ];
    for (const [root, exercise] of found) {
      if (!root.querySelector(".language-pycon code .gp")) continue; // a transcript, not a script or a shell
      let meta = metaOf(root);
      if (meta && meta.querySelector(".tryit-open")) continue;
      const opener = document.createElement("button");
      opener.type = "button";
      opener.className = "tryit-open";
      opener.textContent = "Edit and run";
      opener.setAttribute("aria-expanded", "false");
      opener.addEventListener("click", () => load().then((module) => module.toggle(opener, root, exercise, meta)));
      if (!meta) root.append((meta = Object.assign(document.createElement("div"), { className: "snippet-meta" })));
      meta.prepend(opener, " \u00b7 ");
    }
  };
  if (window.document$) window.document$.subscribe(page);
  else page();
})();
