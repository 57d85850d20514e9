"""Finding, importing and reading the results of the examples in `docs_src/background_tasks/`."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from types import ModuleType
from typing import Any

import pytest

import docs_src.background_tasks
from docs_src.catalogue import HELPERS, PACKAGE, Example
from ravyn.testing import Timeline, TimelineEvent

FRAMEWORK_LOGGER = "ravyn.background"
"""Where Ravyn logs a failing task (with `task_name` on the record)."""


def example_params() -> list[Any]:
    """`example_modules()` as pytest params."""
    return [pytest.param(name, id=name) for name in example_modules()]


def example_modules() -> list[str]:
    """Every example module's name, found on disk (helpers such as `celery_app` left out)."""
    found = (info.name for info in pkgutil.iter_modules(docs_src.background_tasks.__path__))
    return sorted(name for name in found if name not in HELPERS)


IMPORTED_ONCE = frozenset(
    {f"{PACKAGE}.celery_app", f"{PACKAGE}.pitfall_long_job_celery", f"{PACKAGE}.queue_job_status"}
)
"""Modules kept for the whole session: Celery shares an app's tasks with every app made
later in the process, so a second import of a task module registers its task twice."""


def forget_examples() -> None:
    """Drop the imported examples, so the next import starts from scratch (in-memory ids and all)."""
    for name in [name for name in sys.modules if name.startswith(PACKAGE + ".")]:
        if name not in IMPORTED_ONCE:
            del sys.modules[name]


def import_example(name: str) -> ModuleType:
    """Import `docs_src.background_tasks.<name>` (fresh, if `forget_examples` ran before)."""
    return importlib.import_module(f"{PACKAGE}.{name}")


def task_effects(timeline: Timeline, example: Example) -> list[TimelineEvent]:
    """What the example's own code left in the timeline, in order: its logger's
    records, printed lines and marks."""
    return [
        event
        for event in timeline.events
        if (event.kind == "log" and event.name == example.import_path) or event.kind in ("output", "mark")
    ]


def framework_failure_logs(timeline: Timeline, task: str) -> list[TimelineEvent]:
    """The records Ravyn logged about task `task` failing."""
    return [
        event
        for event in timeline.all("log", FRAMEWORK_LOGGER)
        if event.detail.get("task_name") == task and event.detail.get("level") == "ERROR"
    ]
