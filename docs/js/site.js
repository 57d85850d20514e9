// Small accessibility fixes to the theme's markup, on every page, and again
// after each page change of the theme's instant navigation (document$).

function nameTheSearchDialog() {
  // the theme's search is a role="dialog" without a name
  const search = document.querySelector('.md-search[role="dialog"]');
  if (search && !search.hasAttribute("aria-label")) search.setAttribute("aria-label", "Search");
}

function letKeyboardsScrollWideTables() {
  // a table wider than the screen scrolls in its box: a keyboard reaches it with Tab
  for (const box of document.querySelectorAll(".md-typeset__scrollwrap")) {
    if (box.scrollWidth > box.clientWidth + 1) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", "Table, scrolls sideways");
    } else if (box.getAttribute("role") === "region") {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }
}

function fix() {
  nameTheSearchDialog();
  letKeyboardsScrollWideTables();
}

document$.subscribe(() => requestAnimationFrame(fix));
window.addEventListener("resize", () => requestAnimationFrame(letKeyboardsScrollWideTables));
