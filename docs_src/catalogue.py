"""The request each example is driven with, and what it must show.

One entry per module of `docs_src/background_tasks/` (helper modules such as
`celery_app` are listed in `HELPERS`). The test suite (`tests/docs_src/`) and
the docs build (`docs/hooks/timelines.py`) both read this catalogue, so the
request a page shows is the request the tests send.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field
from typing import Any

PACKAGE = "docs_src.background_tasks"

HELPERS = frozenset({"celery_app"})
"""Modules that support examples but are not examples themselves."""


@dataclass(frozen=True)
class Example:
    """One example module and the request that shows what it does."""

    module: str
    """Module name inside `docs_src.background_tasks`."""
    title: str
    method: str
    path: str
    json: Any = None
    status: int = 200
    body: Any = None
    """The JSON body the response must have (None: not checked here)."""
    tasks: tuple[str, ...] = ()
    """The background tasks' names, in the order they must start."""
    failing: tuple[str, ...] = ()
    """Tasks that fail on purpose (the "wrong" pitfall variants)."""
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def import_path(self) -> str:
        """Dotted module path, e.g. `docs_src.background_tasks.quick_start`."""
        return f"{PACKAGE}.{self.module}"

    def curl(self, base: str = "http://127.0.0.1:8000") -> str:
        """The `curl` command that sends this request to a running server."""
        parts = ["curl", "-i", "-X", self.method, f"'{base}{self.path}'"]
        if self.json is not None:
            parts += ["-H", "'content-type: application/json'", "-d", f"'{jsonlib.dumps(self.json)}'"]
        return " ".join(parts)


EXAMPLES: dict[str, Example] = {}
"""Filled in below, in the guide's order."""


def _add(example: Example) -> None:
    EXAMPLES[example.module] = example
