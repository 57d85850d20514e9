"""Helpers for the tests of ravyn/_lilya: each pins one assumption about Lilya."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ravyn._lilya import assumptions


@pytest.fixture
def fresh_reports() -> Iterator[set[str]]:
    """The set of broken assumptions reported, emptied for the test and restored after."""
    saved = set(assumptions.reported)
    assumptions.reported.clear()
    yield assumptions.reported
    assumptions.reported.clear()
    assumptions.reported.update(saved)
