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

// A comparison table (three columns or more, of sentences rather than numbers)
// stacks on a phone: each row becomes a card and each cell is labelled with its
// column's heading (site.css). Tables of figures keep their columns and scroll.
const STACK_MIN_COLUMNS = 3;
const STACK_MIN_CHARACTERS = 30; // mean length of a body cell's text

function stackComparisonTables() {
  for (const table of document.querySelectorAll(".md-typeset table:not([class])")) {
    if (table.classList.contains("rp-stack") || table.dataset.rpChecked) continue;
    table.dataset.rpChecked = "true";
    const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    const cells = [...table.querySelectorAll("tbody td")];
    if (headings.length < STACK_MIN_COLUMNS || cells.length === 0) continue;
    const mean = cells.reduce((sum, td) => sum + td.textContent.trim().length, 0) / cells.length;
    if (mean < STACK_MIN_CHARACTERS) {
      // a table of figures: its columns stay, as narrow as their numbers allow (site.css)
      table.dataset.rpFigures = "true";
      continue;
    }
    table.classList.add("rp-stack");
    // display: block would take the table's semantics away: say them outright
    table.setAttribute("role", "table");
    for (const group of table.querySelectorAll("thead, tbody")) group.setAttribute("role", "rowgroup");
    for (const th of table.querySelectorAll("thead th")) th.setAttribute("role", "columnheader");
    for (const row of table.querySelectorAll("tr")) {
      row.setAttribute("role", "row");
      [...row.children].forEach((cell, column) => {
        if (cell.tagName !== "TD") return;
        cell.setAttribute("role", "cell");
        if (headings[column]) cell.dataset.label = headings[column];
      });
    }
  }
}

function fix() {
  nameTheSearchDialog();
  stackComparisonTables();
  letKeyboardsScrollWideTables();
}

document$.subscribe(() => requestAnimationFrame(fix));
window.addEventListener("resize", () => requestAnimationFrame(letKeyboardsScrollWideTables));
