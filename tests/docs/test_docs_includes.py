"""Every example module is shown by some page, included from docs_src (never pasted)."""

from __future__ import annotations

import re
from pathlib import Path

from docs_src.catalogue import EXAMPLES, HELPERS
from tests.docs.conftest import DOCS, ROOT
from tests.docs.conftest import EXAMPLES as EXAMPLES_DIR

SNIPPET = re.compile(r'^[ \t]*--8<--[ \t]+"(?P<path>[^"]+)"[ \t]*$', re.M)
MARKER = re.compile(r"^[ \t]*<!--\s*timeline:\s*(?P<name>[a-z0-9_]+)", re.M)


def pages() -> dict[Path, str]:
    return {page: page.read_text("utf-8") for page in sorted(DOCS.rglob("*.md"))}


def included() -> dict[str, list[Path]]:
    """Included file (relative to the repository) -> the pages that include it."""
    found: dict[str, list[Path]] = {}
    for page, text in pages().items():
        for match in SNIPPET.finditer(text):
            found.setdefault(match.group("path"), []).append(page)
    return found


def example_modules() -> list[str]:
    return sorted(path.stem for path in EXAMPLES_DIR.glob("*.py") if path.name != "__init__.py")


def test_every_module_in_docs_src_is_included_by_a_page() -> None:
    paths = included()
    missing = [name for name in example_modules() if f"docs_src/background_tasks/{name}.py" not in paths]
    assert missing == [], f"modules no page includes: {missing}"


def test_every_included_file_exists() -> None:
    absent = [path for path in included() if not (ROOT / path).is_file()]
    assert absent == []


def test_every_example_has_a_measured_timeline_next_to_it() -> None:
    drawn = {match.group("name") for text in pages().values() for match in MARKER.finditer(text)}
    undrawn = [name for name in example_modules() if name not in HELPERS and name not in drawn]
    assert undrawn == [], f"examples without a timeline marker: {undrawn}"
    unknown = sorted(drawn - set(EXAMPLES))
    assert unknown == [], f"timeline markers without a catalogue entry: {unknown}"


def windows(text: str, size: int = 3) -> set[tuple[str, ...]]:
    """Every run of `size` consecutive non-blank lines of `text`, stripped of indentation."""
    lines = [line.strip() for line in text.splitlines()]
    return {
        tuple(lines[i : i + size])
        for i in range(len(lines) - size + 1)
        if all(lines[i : i + size])
        and not any(line.startswith(("import ", "from ")) for line in lines[i : i + size])
    }


def test_examples_are_not_pasted_into_the_pages() -> None:
    """A page shows an example's code only through its include, never a copy of three lines or more."""
    for name in example_modules():
        code = windows((EXAMPLES_DIR / f"{name}.py").read_text("utf-8"))
        for page, text in pages().items():
            pasted = code & windows(text)
            assert not pasted, f"{page.relative_to(DOCS)} pastes lines of {name}.py: {sorted(pasted)[0]}"
