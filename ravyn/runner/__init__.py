"""The task runner: how background tasks run after the response.

Every `Ravyn` app owns a [`TaskRunner`][ravyn.runner.TaskRunner]
(`app.task_runner`). Whatever route serves a request inside the app (ours, a
Lilya `Path`, an `Include`d app, a mounted ASGI app), the tasks given to its
response, ours or Lilya's `Task`/`Tasks`, run through that runner: each
exactly once, in order, a failure logged and reported, never raised into the
server. What the runner adds to Lilya's plain `await task()`:

* sync functions run on daemon threads of its own (`task_threads`), and a
  thread the runner stopped waiting for frees its slot;
* timeouts and retries per task, stop-at-first-failure per collection or app-wide;
* any exception, `BaseException` included, is contained like a failure; only a
  real cancellation of the runner passes through;
* [`TaskEvent`][ravyn.runner.TaskEvent]s for listeners, counters
  ([`TaskStats`][ravyn.runner.TaskStats]), a bound on pending tasks
  (backpressure) and a shutdown drain that always ends.

Task logs go to the `ravyn.background` logger, the one to configure for them.
The runner needs asyncio (uvicorn's loop, and Pyodide's in a browser).

The package, one concept a module: `events` (events, counters, observers),
`plan` (a request's tasks flattened into steps), `requests` (the request
being served, admission), `core` (`TaskRunner`, the general path), `steps`
(one run's steps), `inline` (every fast path, behind one boundary), `drain`
(shutdown and lost tasks), `logs` (names and log lines), `threads` (the
daemon thread pool), `when` (the outcome policy: which tasks run after a
success or an error). Import the public names from here.
"""

from __future__ import annotations

import warnings
from typing import Any

from ravyn.runner.core import DEFAULT_MAX_PENDING_TASKS, TaskRunner, current_runner, default_runner
from ravyn.runner.drain import CANCEL_GRACE, DRAIN_MARGIN
from ravyn.runner.events import TaskErrorHook, TaskEvent, TaskListener, TaskStats, observe_tasks
from ravyn.runner.logs import escape_text, task_name
from ravyn.runner.plan import Plan, plan_tasks
from ravyn.runner.requests import METHODS_WITHOUT_TASKS, serving

__all__ = [
    "CANCEL_GRACE",
    "DEFAULT_MAX_PENDING_TASKS",
    "DRAIN_MARGIN",
    "METHODS_WITHOUT_TASKS",
    "Plan",
    "TaskErrorHook",
    "TaskEvent",
    "TaskListener",
    "TaskRunner",
    "TaskStats",
    "current_runner",
    "default_runner",
    "escape_text",
    "observe_tasks",
    "plan_tasks",
    "serving",
    "task_name",
]


def __getattr__(name: str) -> Any:
    # the old name said "safe", which in HTTP means GET and HEAD: imports of it keep working a while
    if name == "SAFE_METHODS":
        warnings.warn(
            "ravyn.runner.SAFE_METHODS is now METHODS_WITHOUT_TASKS", DeprecationWarning, stacklevel=2
        )
        return METHODS_WITHOUT_TASKS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
