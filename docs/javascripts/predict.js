// "Predict the output" exercises (the engine's `predict` fence). Choosing an
// answer says at once where it is right, in a live region under the choices
// ("Right on CPython 3.11–3.14. PyPy 3.11 prints True."), and opens the reveal.
// Each choice's data-keys lists the interpreters that really print it (none
// for a wrong answer), and data-label names them as the engine labels tabs;
// the engine writes the (empty) live region too, so screen readers announce
// the first answer. Without JavaScript the reveal is a <details> as it is.
(() => {
  const keysOf = (input) => input.dataset.keys.split(" ").filter(Boolean);
  // The answer as shown beside its radio button (a <code>, or <em>nothing</em>).
  const answer = (input) => {
    const shown = input.parentElement.querySelector("code, em");
    return shown ? shown.cloneNode(true) : document.createTextNode(input.parentElement.textContent.trim());
  };

  const answered = (input) => {
    const exercise = input.closest(".predict");
    const region = exercise.querySelector(".predict-feedback");
    const right = keysOf(input);
    const others = [...exercise.querySelectorAll(".predict-choices input")].filter(
      (other) => other !== input && keysOf(other).length,
    );
    const parts = [];
    const says = (other, end) => parts.push(`${other.dataset.label} prints `, answer(other), end);
    if (right.length && !others.length) {
      parts.push("Right: every interpreter here prints that.");
    } else if (right.length) {
      parts.push(`Right on ${input.dataset.label}. `);
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
})();
