// Two accessibility repairs to markup that Material's own script builds, so
// they cannot be made in a template. Both run again whenever the page changes
// (first load, every instant navigation) and when the window is resized.
(() => {
  const repair = () => {
    // 1. Material 9.8 wraps each code block's copy button in an unlabelled
    //    <nav>: a chapter with ninety examples gets ninety "navigation"
    //    landmarks beside the real ones (axe: landmark-unique). A button bar
    //    is not navigation, so it loses the landmark role.
    for (const nav of document.querySelectorAll("nav.md-code__nav:not([role])")) {
      nav.setAttribute("role", "none");
    }
    // 2. A table wider than the text column scrolls sideways; keyboard users
    //    can only scroll it if it can take focus (axe: scrollable-region-
    //    focusable). Material does this for code blocks, not for tables.
    for (const wrap of document.querySelectorAll(".md-typeset__scrollwrap")) {
      if (wrap.scrollWidth > wrap.clientWidth) {
        wrap.setAttribute("tabindex", "0");
      } else {
        wrap.removeAttribute("tabindex");
      }
    }
  };
  let pending = false;
  const schedule = () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        repair();
      });
    }
  };
  repair();
  new MutationObserver(schedule).observe(document.body, { childList: true, subtree: true });
  window.addEventListener("resize", schedule);
})();
