"""ravyn/_lilya/tasks.py: Lilya's Task/Tasks go through a Ravyn app's runner only
once an app installed that, never because `ravyn` was imported.

Each check that depends on the process-wide install count runs in a fresh
interpreter, where no other test's app holds an install.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

from lilya.background import Task, Tasks

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    """Run `code` in a fresh interpreter from the repository root; return its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_ravyn_leaves_lilyas_task_and_tasks_unchanged() -> None:
    out = _run(
        """
        from lilya.background import Task, Tasks
        task_call, tasks_call = Task.__call__, Tasks.__call__
        import ravyn, ravyn.runner, ravyn.background, ravyn.testing
        print(Task.__call__ is task_call, Tasks.__call__ is tasks_call)
        """
    )
    assert out.split() == ["True", "True"]


def test_an_app_installs_the_routing_and_its_undo_restores_lilyas_methods() -> None:
    out = _run(
        """
        from lilya.background import Task, Tasks
        task_call, tasks_call = Task.__call__, Tasks.__call__
        from ravyn import Ravyn
        app = Ravyn()
        print(Task.__call__ is task_call, Tasks.__call__ is tasks_call)
        app._unroute_lilya_tasks()
        print(Task.__call__ is task_call, Tasks.__call__ is tasks_call)
        """
    )
    assert out.split() == ["False", "False", "True", "True"]


def test_installs_are_counted_and_an_undo_counts_once() -> None:
    out = _run(
        """
        from lilya.background import Task
        original = Task.__call__
        from ravyn._lilya.tasks import route_lilya_tasks_through_runner
        first, second = route_lilya_tasks_through_runner(), route_lilya_tasks_through_runner()
        first(); first()  # a second undo of the same install changes nothing
        print(Task.__call__ is original)
        second()
        print(Task.__call__ is original)
        """
    )
    assert out.split() == ["False", "True"]


def test_a_collected_app_undoes_its_install() -> None:
    # Lilya's settings keep the newest app alive: the older one is collected
    out = _run(
        """
        import gc
        from lilya.background import Task
        original = Task.__call__
        from ravyn import Ravyn
        older = Ravyn()
        newer = Ravyn()
        del older
        gc.collect()
        print(Task.__call__ is original)
        newer._unroute_lilya_tasks()  # the last install left: the older one's was undone
        print(Task.__call__ is original)
        """
    )
    assert out.split() == ["False", "True"]


def test_when_lilyas_call_changes_shape_nothing_is_replaced_and_it_is_logged_once() -> None:
    out = _run(
        """
        import logging, sys
        from lilya.background import Tasks
        logging.basicConfig(level=logging.WARNING, format="%(name)s %(message)s", stream=sys.stdout)
        def run_later(self, when): ...  # a Lilya that took an argument
        Tasks.__call__ = run_later
        from ravyn._lilya.tasks import route_lilya_tasks_through_runner
        undo = route_lilya_tasks_through_runner(); route_lilya_tasks_through_runner()
        print("kept", Tasks.__call__ is run_later)
        undo()
        """
    )
    lines = out.splitlines()
    assert lines[-1] == "kept True"
    assert sum(line.startswith("ravyn.lilya ") for line in lines) == 1, out


def test_lilyas_task_and_tasks_define_the_async_call_that_is_replaced() -> None:
    # the assumption the install rests on, as Lilya ships it
    for cls in (Task, Tasks):
        call = cls.__dict__["__call__"]
        call = getattr(call, "__wrapped__", call)  # an app in this process may have installed ours
        assert inspect.iscoroutinefunction(call)
        assert list(inspect.signature(call).parameters) == ["self"]
