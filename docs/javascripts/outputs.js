// "Outputs for": which interpreter's output the examples show, on every page.
// Each example (<div class="snippet">) says in data-tab-keys which interpreters
// each of its tabs stands for, tab by tab ("3.11 3.12;3.13 3.14 3.15;pypy3.11").
// In every tab set this opens the tab of the reader's interpreter, else of the
// nearest one (3.13t -> 3.13 -> 3.12 ...; PyPy -> the newest CPython). The
// choice is the header's <select> (overrides/partials/header.html) or the tab
// the reader last clicked, kept in localStorage. Without JavaScript the tabs
// work as they are, the newest CPython's open.
(() => {
  const STORE = "puth.outputs";
  const KEY = /^(pypy)?3\.(\d+)(t?)$/;
  const parse = (key) => {
    const [, pypy, minor, ft] = KEY.exec(key);
    return { pypy: !!pypy, minor: +minor, ft: !!ft };
  };
  // On a phone the header has room for "3.15", not "CPython 3.15".
  const narrow = matchMedia("(max-width: 44.984375em)");
  const name = (key) =>
    key.startsWith("pypy") ? "PyPy " + key.slice(4) : (narrow.matches ? "" : "CPython ") + key;
  // The engine's order (interpreters.py SUPPORTED): CPython, its free-threaded build, PyPy.
  const order = (a, b) => {
    const x = parse(a), y = parse(b);
    return x.pypy - y.pypy || x.ft - y.ft || x.minor - y.minor;
  };
  // How far `key` is from `want`, compared element by element: the same
  // implementation first, the closest version, an older one before a newer
  // one; another implementation's newest default build last.
  const distance = (want, key) => {
    const w = parse(want), k = parse(key);
    return w.pypy === k.pypy
      ? [0, Math.abs(w.minor - k.minor), k.minor > w.minor, k.ft !== w.ft]
      : [1, k.pypy || k.ft, -k.minor];
  };
  const closer = (a, b) => a.findIndex((x, i) => x !== b[i]);
  const nearest = (want, keys) =>
    keys.reduce((best, key) => {
      if (best === undefined) return key;
      const d = distance(want, key), e = distance(want, best), i = closer(d, e);
      return i >= 0 && d[i] < e[i] ? key : best;
    }, undefined);

  const stored = () => {
    try {
      const key = localStorage.getItem(STORE);
      return key && KEY.test(key) ? key : null;
    } catch {
      return null; // storage blocked: the choice lasts for this page
    }
  };
  const store = (key) => {
    try {
      localStorage.setItem(STORE, key);
    } catch {}
  };

  const snippets = () => document.querySelectorAll(".snippet[data-tab-keys]");
  const tabs = (snippet) => snippet.dataset.tabKeys.split(";").map((keys) => keys.split(" "));
  const radios = (set) => [...set.children].filter((child) => child.matches("input[type=radio]"));
  const pageKeys = () =>
    [...new Set([...snippets()].flatMap((s) => s.dataset.tabKeys.split(/[; ]/)))]
      .filter((key) => KEY.test(key))
      .sort(order);
  const fallback = (keys) => keys.filter((k) => !parse(k).pypy && !parse(k).ft).pop() || keys.at(-1);
  let chosen = null; // when storage is blocked

  // Every tab set on the page, collapsed <details> included, shows `want`'s tab.
  const open = (want) => {
    for (const snippet of snippets()) {
      const set = snippet.querySelector(".tabbed-set");
      const inputs = set ? radios(set) : [];
      const groups = tabs(snippet);
      if (inputs.length !== groups.length || inputs.length < 2) continue;
      const key = nearest(want, groups.flat().filter((k) => KEY.test(k)));
      const input = inputs[groups.findIndex((keys) => keys.includes(key))];
      if (input && !input.checked) input.checked = true;
    }
  };

  // Switching tabs above the reader changes their height: keep `anchor` still.
  const steady = (anchor, change) => {
    const before = anchor ? anchor.getBoundingClientRect().top : 0;
    change();
    if (anchor) window.scrollBy(0, anchor.getBoundingClientRect().top - before);
  };

  const control = () => document.querySelector("[data-puth-outputs]");
  const show = (want, keys) => {
    const box = control();
    const select = box && box.querySelector("select");
    if (!select) return;
    if (keys.length && keys.join() !== [...select.options].map((o) => o.value).join()) {
      select.replaceChildren(...keys.map((key) => new Option(name(key), key)));
    }
    if (!select.options.length) return; // a page without examples, first visited
    box.hidden = false;
    select.value = nearest(want, [...select.options].map((o) => o.value));
  };

  narrow.addEventListener("change", () => {
    for (const option of document.querySelectorAll("#__outputs option")) option.text = name(option.value);
  });

  const choose = (want) => {
    chosen = want;
    store(want);
  };

  const page = () => {
    const keys = pageKeys();
    const want = stored() || chosen || (keys.length ? fallback(keys) : null);
    if (!want) return;
    show(want, keys);
    open(want);
  };

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (input.id === "__outputs") {
      const middle = document.elementFromPoint(innerWidth / 2, innerHeight / 2);
      const anchor = middle && middle.closest(".snippet, .md-typeset > *");
      choose(input.value);
      steady(anchor, () => open(input.value));
      return;
    }
    const set = input.parentElement;
    const snippet = input.closest(".snippet[data-tab-keys]");
    if (!snippet || !set.classList.contains("tabbed-set") || input.type !== "radio") return;
    const keys = tabs(snippet)[radios(set).indexOf(input)];
    if (!keys) return;
    // The tab's interpreter nearest to the current choice: "CPython 3.11–3.14"
    // after 3.15 means 3.14.
    const current = stored() || chosen || fallback(pageKeys());
    const want = nearest(current, keys.filter((k) => KEY.test(k)));
    choose(want);
    steady(set, () => open(want));
    show(want, []);
  });

  // Material's instant navigation swaps the page without reloading the scripts.
  if (window.document$) window.document$.subscribe(page);
  else page();
})();
