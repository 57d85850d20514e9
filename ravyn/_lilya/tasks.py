"""Lilya's own `Task` and `Tasks`, routed through a Ravyn app's runner.

Lilya's responses run their `background` with `await self.background()`,
which is `Task.__call__` (or `Tasks.__call__`). For a Lilya task given to a
response inside a Ravyn app (a Lilya `Path`, an `Include`d Lilya app) to run
through the app's runner, isolated, logged and counted, those two methods are
replaced, on Lilya's classes, by ones that hand the task to the runner of the
request being served, and call Lilya's own outside a Ravyn request.

Nothing is replaced at import: `route_lilya_tasks_through_runner()` does it
(each `Ravyn` app calls it once) and returns the function that undoes it.
The installs are counted: the originals come back when the last one is
undone. The assumptions (both classes define an async `__call__` of their own
that takes no argument) are pinned by `tests/_lilya/test_tasks.py`; if they
no longer hold, nothing is replaced, Lilya's tasks run Lilya's way, and the
log says so once.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable
from typing import Any

from lilya.background import Task, Tasks

from ravyn._lilya.assumptions import broken
from ravyn.runner.requests import current_request

__all__ = ["route_lilya_tasks_through_runner"]


_lock = threading.Lock()
_installs = 0
_originals: dict[type[Task], Callable[..., Any]] = {}


def _through_runner(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    async def __call__(self: Task) -> None:
        """Inside a Ravyn app's request: through the app's runner; elsewhere Lilya's own."""
        request = current_request()
        if request is None:
            await original(self)
        else:
            await request.runner.run(self)

    __call__.__wrapped__ = original  # type: ignore[attr-defined]
    return __call__


def _assumptions_hold() -> bool:
    """Whether `Task` and `Tasks` each define the async, argument-less `__call__` we replace."""
    for cls in (Task, Tasks):
        call = cls.__dict__.get("__call__")
        if call is None or not inspect.iscoroutinefunction(call):
            return False
        if list(inspect.signature(call).parameters) != ["self"]:
            return False
    return True


def route_lilya_tasks_through_runner(owner: object | None = None) -> Callable[[], None]:
    """Make Lilya's `Task`/`Tasks` run through the runner of the Ravyn request
    being served; return the function that undoes it (once; later calls do nothing).

    With an `owner` (the app), the install is also undone when the owner is
    garbage-collected. Several installs may overlap: Lilya's own methods come
    back when the last one is undone.
    """
    global _installs
    with _lock:
        if _installs == 0 and not _originals:
            if not _assumptions_hold():
                broken(
                    "lilya.background.Task/Tasks no longer define the __call__ Ravyn replaces",
                    "Lilya tasks run Lilya's way, outside the app's task runner",
                )
                return _nothing_to_undo
            for cls in (Task, Tasks):
                _originals[cls] = cls.__dict__["__call__"]
                cls.__call__ = _through_runner(_originals[cls])  # type: ignore[method-assign, assignment]
        _installs += 1
    undone = False

    def undo() -> None:
        nonlocal undone
        global _installs
        with _lock:
            if undone:
                return
            undone = True
            _installs -= 1
            if _installs == 0:
                for cls, original in _originals.items():
                    cls.__call__ = original  # type: ignore[method-assign]
                _originals.clear()

    if owner is not None:
        weakref.finalize(owner, undo)
    return undo


def _nothing_to_undo() -> None:
    """What undoes an install that replaced nothing."""
