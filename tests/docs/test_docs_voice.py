"""The site speaks of this project alone: no page or example talks about another document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.conftest import DOCS, ROOT

ANOTHER_DOCUMENT = re.compile(
    r"original guide|guide (this site|it) is based on|the guide's (block|example|code)|"
    r"the guide (uses|imports|declares|builds)|a slip\b",
    re.I,
)

SOURCES = sorted([*DOCS.rglob("*.md"), *(ROOT / "docs_src").rglob("*.py")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_page_or_example_talks_about_another_document(path: Path) -> None:
    lines = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if ANOTHER_DOCUMENT.search(line)
    ]
    assert lines == []


def test_the_pattern_catches_what_the_pages_used_to_say() -> None:
    for old in (
        '!!! note "A slip in the original guide, fixed"',
        "The guide this site is based on imports `BackgroundTask`",
        "The guide's block uses `BackgroundTasks` without importing it;",
    ):
        assert ANOTHER_DOCUMENT.search(old), old
