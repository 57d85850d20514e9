"""Background tasks: work that runs after the response has been sent.

`BackgroundTask` and `BackgroundTasks` subclass Lilya's
[`lilya.background.Task`][lilya.background.Task] and `Tasks`, so either kind
can be given to `background=` anywhere, and `isinstance(task, Task)` holds for
ours. What this module adds on top of Lilya:

* a `ParamSpec` signature, so `mypy` checks the arguments against the function;
* a timeout and retry policy per task (`configure()`), and
  `stop_on_error=True` per collection;
* an outcome policy per task or collection, `when=`: after a success (the
  default), after an error, or always (see [`ravyn.runner.when`][ravyn.runner.when]);
* durable tasks (`configure(durable=True)`), written to the app's task journal
  before the response and run again after a crash (see `Ravyn(task_journal=...)`);
* calling a task runs it through the task runner of the app serving the
  request (see [`ravyn.runner`][ravyn.runner]): isolated, logged, counted.

Example:
    ```python
    from ravyn import BackgroundTasks

    def send_email(to: str, subject: str) -> None: ...

    tasks = BackgroundTasks()
    tasks.add_task(send_email, "ada@example.com", subject="Welcome")
    ```
"""

from __future__ import annotations

import inspect
import logging
import reprlib
from collections.abc import Callable, Iterator, Sequence
from inspect import CO_COROUTINE
from types import FunctionType
from typing import Any, ParamSpec

from lilya.background import Task, Tasks
from lilya.concurrency import AsyncCallable
from lilya.exceptions import HTTPException

import ravyn.runner
from ravyn.runner import current_runner, task_name
from ravyn.runner.requests import current_request
from ravyn.runner.when import When, check_when

__all__ = ["BackgroundTask", "BackgroundTasks", "TooManyTasks", "task_name"]

P = ParamSpec("P")

logger = logging.getLogger("ravyn.background")

_short_repr = reprlib.Repr()
_short_repr.maxstring = 60
_short_repr.maxother = 60
_short_repr.maxlong = 40


MAX_KEY_LENGTH = 1024
"""The longest `key` a durable task may have (it is an index entry of the journal)."""

POLICY_KEYWORDS = ("timeout", "retries", "retry_delay", "when", "durable", "key")
_POLICY_SET = frozenset(POLICY_KEYWORDS)


class BackgroundTask(Task):
    """One call of `func(*args, **kwargs)`, made after the response is sent.

    Wraps `lilya.background.Task`. `func` may be `def` or `async def`: a sync
    function runs on a worker thread so it never blocks the event loop, an
    async one is awaited on the loop.

    Off by default, a task can have a `timeout` (seconds per attempt) and
    `retries` (extra attempts after a failure or a timeout, `retry_delay`
    seconds apart). Set them with `configure()`, which type-checks; passing
    `timeout=`, `retries=` or `retry_delay=` to the constructor works too when
    `func` takes no parameter of that name. Retries do not make a task
    durable: a task still in memory when the process dies is lost.

    `when` says after which outcome of its request the task runs: `"success"`
    (the default: after a response the handler produced), `"error"` (after the
    error response of a request whose handler or dependency raised, or whose
    input was refused) or `"always"`. A task given no `when` takes the one of
    the collection holding it. Set it with `configure(when=...)`, the
    constructor's `when=` or `add_task(..., when=...)` (these two only when
    `func` takes no parameter named `when` and no `**kwargs`: then it is
    `func`'s argument).

    `durable=True` (with the app's `task_journal`) writes the task to the
    journal before the response and runs it again after a crash (at least
    once). It is checked when the task is made: `func` must be importable by
    its module path and each argument must come back unchanged from JSON, or
    `TypeError` names what cannot be stored. `key`: at most one unfinished
    durable task per key; another one with that key is dropped (logged).

    Example:
        ```python
        from ravyn import BackgroundTask

        def log_signup(email: str, source: str = "web") -> None:
            print(f"signup {email} from {source}")

        task = BackgroundTask(log_signup, "ada@example.com", source="mobile")
        flaky = BackgroundTask(log_signup, "ada@example.com").configure(timeout=2.0, retries=3)
        audit = BackgroundTask(log_signup, "ada@example.com").configure(when="always")
        ```
    """

    call: Callable[..., Any]
    timeout: float | None = None
    retries: int = 0
    retry_delay: float = 0.0
    when: When = "success"
    """After which outcome of its request the task runs (see `configure`)."""
    durable: bool = False
    key: str | None = None
    durable_payload: tuple[str, str] | None = None
    """For a durable task: `("module:qualname", arguments as JSON)`, what the journal stores."""
    journal_id: int | None = None
    """For a durable task recorded in the journal: its row's id."""

    def __init__(self, func: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        policy = _pop_policy(func, kwargs) if kwargs and not _POLICY_SET.isdisjoint(kwargs) else None
        if type(func) is FunctionType:
            # what Lilya's Task.__init__ does, without inspect's generic checks: a plain
            # function is a coroutine function exactly when its code says so
            self.func = func if func.__code__.co_flags & CO_COROUTINE else AsyncCallable(func)
            self.args = args  # type: ignore[assignment]
            self.kwargs = kwargs  # type: ignore[assignment]
        else:
            super().__init__(func, *args, **kwargs)
        self.call = func
        if policy:
            self.configure(**policy)

    @property
    def name(self) -> str:
        """The task's name for logs and events: its function's `__qualname__`."""
        # worked out when first read (logs, listeners), not for every task made
        name: str | None = self.__dict__.get("_name")
        if name is None:
            name = self.__dict__["_name"] = task_name(self.call)
        return name

    @name.setter
    def name(self, value: str) -> None:
        self.__dict__["_name"] = value

    def configure(
        self,
        *,
        timeout: float | None = None,
        retries: int = 0,
        retry_delay: float = 0.0,
        when: When | None = None,
        durable: bool = False,
        key: str | None = None,
    ) -> BackgroundTask:
        """Set the timeout and retry policy, the outcome policy and whether the
        task is durable; returns the task itself.

        `when` is `"success"`, `"always"` or `"error"`; None leaves it as it is
        (given none, a task follows its collection's, else `"success"`).

        Raises `ValueError` for a timeout that is not positive, negative
        retries or delay, or another `when` (`TypeError` if it is not a
        string); `TypeError` for a durable task whose function or arguments
        the journal cannot store (naming the argument), or a `key` without
        `durable=True`.
        """
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be a whole number >= 0, got {retries!r}")
        if not retry_delay >= 0:
            raise ValueError(f"retry_delay must be >= 0 seconds, got {retry_delay!r}")
        policy = check_when(when) if when is not None else None
        if key is not None and (not durable or not isinstance(key, str)):
            raise TypeError(f"key= names a durable task: give a str with durable=True, got key={key!r:.80}")
        if key is not None and len(key) > MAX_KEY_LENGTH:
            raise ValueError(f"key= may be at most {MAX_KEY_LENGTH} characters, got {len(key)}")
        payload = None
        if durable:
            from ravyn._journal.check import check_durable  # imported only by apps that use it

            payload = check_durable(self.call, self.args, self.kwargs, self.name)
            request = current_request()
            if request is not None and request.runner.journal is None:
                _say_not_durable(self.name)
        self.timeout, self.retries, self.retry_delay = timeout, retries, retry_delay
        self.durable, self.key, self.durable_payload = bool(durable), key, payload
        if policy is not None:
            self.when = policy
        return self

    def describe(self) -> str:
        """Return `name(args...)` with long arguments shortened, for logs."""
        parts = [_short_repr.repr(arg) for arg in self.args]
        parts += [f"{key}={_short_repr.repr(value)}" for key, value in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"

    async def __call__(self) -> None:
        """Run this task through the runner of the app serving the current
        request (the default runner outside one): a failure is logged, never raised."""
        await current_runner().run(self)

    def __repr__(self) -> str:
        return f"BackgroundTask({self.describe()})"


_said_not_durable: set[str] = set()


def _say_not_durable(name: str) -> None:
    """Warn, once per task name, that a durable task was made in an app without a journal."""
    if name not in _said_not_durable:
        _said_not_durable.add(name)
        logging.getLogger("ravyn.journal").warning(
            "Durable task %s made in an app without a task journal: it runs as a plain task and is "
            "lost if the process dies; give the app task_journal=...",
            name,
        )


def _pop_policy(func: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Take the policy keywords out of `kwargs`, unless `func` itself takes them."""
    present = [key for key in POLICY_KEYWORDS if key in kwargs]
    if not present:
        return {}
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):  # builtins without a signature take no such keywords
        parameters = {}  # type: ignore[assignment]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return {}
    return {key: kwargs.pop(key) for key in present if key not in parameters}


class BackgroundTasks(Tasks, BackgroundTask):
    """An ordered collection of tasks, run one after the other.

    Wraps `lilya.background.Tasks`. It is also a `BackgroundTask`, so a handler
    parameter annotated with either class receives one of these, ready for
    `add_task`. With `as_group=True` its tasks run concurrently instead.
    With `stop_on_error=True`, a failing task skips the collection's later
    tasks (a pipeline of dependent steps); the app-wide
    `Ravyn(stop_on_task_error=True)` does this for every request's tasks.
    With `when=`, its tasks that set no `when` of their own run after that
    outcome of the request (a task's own `when` wins).

    Example:
        ```python
        from ravyn import BackgroundTask, BackgroundTasks

        def notify(channel: str) -> None: ...

        tasks = BackgroundTasks(tasks=[BackgroundTask(notify, "email")])
        tasks.add_task(notify, "sms")
        assert len(tasks) == 2

        pipeline = BackgroundTasks(stop_on_error=True)
        pipeline.add_task(notify, "resize")
        pipeline.add_task(notify, "upload")  # skipped if the resize fails

        cleanup = BackgroundTasks(when="error")  # only after an error response
        cleanup.add_task(notify, "undo")
        cleanup.add_task(notify, "audit", when="always")  # its own policy wins
        ```
    """

    stop_on_error: bool
    ran = False
    """Whether an app's runner has run this collection's tasks (set once they
    all ended): a task added after that is logged, since nothing would run it."""

    def __init__(
        self,
        tasks: Sequence[Task] | None = None,
        as_group: bool = False,
        *,
        stop_on_error: bool = False,
        when: When | None = None,
    ) -> None:
        Tasks.__init__(self, tasks, as_group)
        self.name = type(self).__name__
        self.stop_on_error = stop_on_error
        if when is not None:
            self.when = check_when(when)

    def add_task(self, func: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        """Append a call of `func(*args, **kwargs)` to run after the response.

        Inside a request of a `Ravyn` app, a request may add at most as many
        tasks as the app had room for when its handler started
        (`max_pending_tasks` less the tasks pending then; `max_pending_tasks` on
        a route that does not reserve, such as a Lilya `Path` or a HEAD request):
        past that, this raises `TooManyTasks`, which answers the request 503 if
        its handler lets it propagate (a task that adds one fails with it, logged)."""
        request = current_request()
        if request is not None:
            if request.added >= request.room:
                if not request.handed_over:  # still in the handler: the request is answered 503
                    request.overflowed = True
                raise TooManyTasks(request.room)
            request.added += 1
        task = BackgroundTask(func, *args, **kwargs)
        if self.ran:
            # added too late, say by a coroutine a task left behind: never silently dropped
            logger.warning(
                "Background task %s added to a collection whose tasks already ran: "
                "it runs only if the collection is run again",
                task.describe(),
            )
        self.tasks.append(task)

    def describe(self) -> str:
        """Return the names of the tasks held, for logs."""
        return f"{self.name}[{', '.join(task_name(task) for task in self.tasks)}]"

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    async def __call__(self) -> None:
        """Run the tasks through the current app's runner (see `BackgroundTask.__call__`),
        each isolated from the others."""
        await current_runner().run(self)

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        # recursive_repr: a task given its own collection as an argument shows it as `...`
        options = f"as_group={self.as_group}" + (", stop_on_error=True" if self.stop_on_error else "")
        return f"BackgroundTasks({list(self.tasks)!r}, {options})"


class TooManyTasks(HTTPException):
    """A request tried to add more background tasks than its app has room for
    (see `BackgroundTasks.add_task`): answered 503 with `Retry-After`, its
    tasks not run, and counted in `refused`."""

    def __init__(self, room: int) -> None:
        super().__init__(
            status_code=503,
            detail=f"Too many background tasks: a request may add at most {room} now "
            "(max_pending_tasks); try again shortly",
            headers={"retry-after": "1"},
        )
        self.room = room


_MOVED_TO_RUNNER = frozenset(
    {
        "TaskErrorHook",
        "TaskEvent",
        "TaskListener",
        "TaskRunner",
        "TaskStats",
        "default_runner",
        "observe_tasks",
        "plan_tasks",
    }
)


def __getattr__(name: str) -> Any:
    # the runner lived here before `ravyn.runner`: old imports keep working
    if name in _MOVED_TO_RUNNER:
        return getattr(ravyn.runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
