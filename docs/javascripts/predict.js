// "Predict the output" exercises (the engine's `predict` fence). Choosing an
// answer says at once where it is right, in a live region under the choices
// ("Right on CPython 3.11–3.14. PyPy 3.11 prints True."), and opens the reveal.
// Each choice's data-keys lists the interpreters that really print it (none
// for a wrong answer). Without JavaScript the reveal is a <details> as it is.
(() => {
  const KEY = /^(pypy)?3\.(\d+)(t?)$/;
  const minor = (key) => +KEY.exec(key)[2];
  const rank = (key) => (key.startsWith("pypy") ? 2 : key.endsWith("t") ? 1 : 0);
  // "3.13 3.11 3.12 pypy3.11" -> "CPython 3.11–3.13 · PyPy 3.11", as the engine labels tabs.
  const label = (keys) => {
    const sorted = keys.filter((k) => KEY.test(k)).sort((a, b) => rank(a) - rank(b) || minor(a) - minor(b));
    const runs = [];
    for (const key of sorted.filter((k) => rank(k) < 2)) {
      const run = runs.at(-1);
      const last = run && run.at(-1);
      if (run && rank(key) === 0 && rank(last) === 0 && minor(key) === minor(last) + 1) run.push(key);
      else runs.push([key]);
    }
    const pypy = sorted.filter((k) => rank(k) === 2).map((k) => k.slice(4));
    const spans = runs.map((run) => (run.length > 1 ? `${run[0]}\u2013${run.at(-1)}` : run[0]));
    return [spans.length && `CPython ${spans.join(", ")}`, pypy.length && `PyPy ${pypy.join(", ")}`]
      .filter(Boolean)
      .join(" \u00b7 ");
  };
  const keysOf = (input) => input.dataset.keys.split(" ").filter(Boolean);
  // The answer as shown beside its radio button (a <code>, or <em>nothing</em>).
  const answer = (input) => {
    const shown = input.parentElement.querySelector("code, em");
    return shown ? shown.cloneNode(true) : document.createTextNode(input.parentElement.textContent.trim());
  };

  const feedback = (exercise) => {
    let region = exercise.querySelector(".predict-feedback");
    if (!region) {
      region = document.createElement("p");
      region.className = "predict-feedback";
      region.setAttribute("aria-live", "polite");
      exercise.querySelector(".predict-choices").after(region);
    }
    return region;
  };

  const answered = (input) => {
    const exercise = input.closest(".predict");
    const region = feedback(exercise);
    const right = keysOf(input);
    const others = [...exercise.querySelectorAll(".predict-choices input")].filter(
      (other) => other !== input && keysOf(other).length,
    );
    const parts = [];
    const says = (other, end) => parts.push(`${label(keysOf(other))} prints `, answer(other), end);
    if (right.length && !others.length) {
      parts.push("Right: every interpreter here prints that.");
    } else if (right.length) {
      parts.push(`Right on ${label(right)}. `);
      others.forEach((other) => says(other, ". "));
    } else {
      parts.push("Not on any interpreter here; ");
      others.forEach((other, i) => says(other, i === others.length - 1 ? "." : "; "));
    }
    region.replaceChildren(...parts);
    region.classList.toggle("predict-feedback--right", right.length > 0);
    region.classList.toggle("predict-feedback--wrong", right.length === 0);
    const reveal = exercise.querySelector(".predict-reveal");
    if (reveal) reveal.open = true;
  };

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (input.matches(".predict-choices input[type=radio]")) answered(input);
  });
  // The live region exists before the first answer, so screen readers announce it.
  const page = () => document.querySelectorAll(".predict").forEach(feedback);
  if (window.document$) window.document$.subscribe(page);
  else page();
})();
