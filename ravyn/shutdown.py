"""Stopping a served app: the task drain starts at the first stop signal, a
watchdog makes sure the process ends within a known time, and a rule tells the
operator's second signal from the one a supervisor passes on.

What each signal means, in the process that serves the app:

- The first SIGTERM, SIGINT or SIGHUP starts the drain: running background
  tasks get `task_drain_timeout` seconds, then each one still running is
  logged lost by name. SIGHUP drains like SIGTERM (and then ends the process,
  as SIGHUP would have, but with nothing lost silently); under
  `uvicorn --workers N` the supervisor also answers SIGHUP by starting fresh
  workers, so there SIGHUP is a rolling restart. A SIGHUP someone else handles
  (or ignores, as under `nohup`) is left alone.
- A worker of `uvicorn --workers N` or `uvicorn --reload` has a supervisor
  that passes every stop on as one SIGTERM (`process.terminate()`), after the
  worker already got the signal itself when it was sent to the whole process
  group (Ctrl+C in a terminal, systemd's default). So in a worker whose
  parent is still the supervisor that started it, the first SIGTERM after the
  first signal is the supervisor's relay and changes nothing, if it comes
  within `RELAY_WINDOW` seconds (at any time after a SIGHUP: the supervisor
  restarts workers one at a time, each after its replacement is ready).
- Any other SIGTERM or SIGINT is the operator's second signal: every
  running task is given up on at once (each logged lost), requests still in
  their handler are cancelled, so that their `yield` dependencies are closed
  as after an error in the handler, within `CANCEL_GRACE` (one line says how
  many, never a traceback per request). The server, stopping since the first
  signal, then has nothing left to wait for and ends cleanly; it is passed the
  signal (a second SIGINT makes uvicorn quit at once) only if it has not
  ended within `SERVER_GRACE`, or at a third signal.
  SIGINT is never a relay: pressing Ctrl+C twice always stops at once.
- A SIGHUP after the first signal asks for what is already happening (a
  supervisor's second restart, say) and is only logged.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any, Literal

from ravyn.runner import CANCEL_GRACE, DRAIN_MARGIN

if TYPE_CHECKING:
    from ravyn.applications import Ravyn

__all__ = ["RELAY_WINDOW", "SERVER_GRACE", "SHUTDOWN_MARGIN", "Meaning", "StopSignals", "drain_on_signals"]

logger = logging.getLogger("ravyn.shutdown")


SHUTDOWN_MARGIN = DRAIN_MARGIN + 0.5
"""Seconds past `task_drain_timeout` (counted from the first signal) after which
a process still running is ended: the drain's own margin, plus half a second
for the server and the app's shutdown handlers."""

RELAY_WINDOW = 30.0
"""Seconds after a first SIGTERM or SIGINT within which a SIGTERM to a worker
is taken as its supervisor passing the stop on. uvicorn's supervisors relay
within half a second on a quiet machine (`--workers` looks at its signals
twice a second, `--reload` every `--reload-delay`, 0.25 s), but `--reload`
without watchfiles looks only between two scans of every `.py` file under its
folder, a virtual environment's included: on a loaded machine, a scan took
over 5 s (the window was 5 s, and a CI run took the late relay for a second
signal). Only the first such SIGTERM is taken as the relay, and only while
the supervisor is the worker's parent, so a longer window costs nothing:
an operator's second signal still ends things at once."""

SERVER_GRACE = 0.5
"""Seconds the server gets, after a second signal and the requests' clean-up,
to end on its own before it is told to quit (within `SHUTDOWN_MARGIN` in all)."""

Meaning = Literal["drain", "relay", "again", "at once"]
"""What a signal means for the shutdown: start the drain, the supervisor's relay
(nothing new), a SIGHUP during the drain (nothing new), or stop at once."""

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
"""The signals the server stops on, and we chain onto."""

SIGHUP: signal.Signals | None = getattr(signal, "SIGHUP", None)
"""SIGHUP, where there is one (not on Windows)."""


def _supervisor() -> int | None:
    """The pid of the process that started this one with `multiprocessing`
    (uvicorn's `--workers` and `--reload` supervisors), or None."""
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None else None


class StopSignals:
    """The rule that gives each signal its `Meaning` (see the module's docstring).

    `supervisor` is the pid of the process expected to relay the stop (None:
    nobody relays, every second signal is the operator's); `parent_pid` and
    `clock` are there so that the rule can be checked without processes.

    ```python
    import signal
    from ravyn.shutdown import StopSignals

    rule = StopSignals(supervisor=41, parent_pid=lambda: 41)
    assert rule.meaning(signal.SIGINT) == "drain"     # Ctrl+C: the group's signal
    assert rule.meaning(signal.SIGTERM) == "relay"    # the supervisor passes it on
    assert rule.meaning(signal.SIGINT) == "at once"   # Ctrl+C again
    ```
    """

    def __init__(
        self,
        supervisor: int | None,
        *,
        parent_pid: Callable[[], int] = os.getppid,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.supervisor = supervisor
        self.parent_pid = parent_pid
        self.clock = clock
        self.first: int | None = None
        self.first_at = 0.0
        self.relayed = False

    def meaning(self, signum: int) -> Meaning:
        """What `signum`, arriving now, means; call it once per signal received."""
        now = self.clock()
        if self.first is None:
            self.first, self.first_at = signum, now
            return "drain"
        if signum == SIGHUP:
            return "again"
        if signum == signal.SIGTERM and not self.relayed and self._relay_expected(now):
            self.relayed = True
            return "relay"
        return "at once"

    def _relay_expected(self, now: float) -> bool:
        if self.supervisor is None or self.parent_pid() != self.supervisor:
            return False  # no supervisor, or it is gone (we were orphaned): nobody relays
        return self.first == SIGHUP or now - self.first_at <= RELAY_WINDOW


class _Watchdog:
    """Ends the process if it is still alive at a deadline: the last resort of
    a bounded shutdown, when something Python cannot interrupt holds it (a
    handler that never returns, a task that ignores its cancellation while the
    event loop closes, a non-daemon thread)."""

    def __init__(self, app: Ravyn) -> None:
        self.app = app
        self.deadline = float("inf")
        self.why = ""
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None

    def arm(self, seconds: float, why: str) -> None:
        """End the process `seconds` from now, unless an earlier deadline is set;
        `why` says, in the last log line, what the deadline counts from."""
        if time.monotonic() + seconds < self.deadline:
            self.deadline, self.why = time.monotonic() + seconds, why
        if self.thread is None:
            self.thread = threading.Thread(target=self._watch, name="ravyn-shutdown-watchdog", daemon=True)
            self.thread.start()
        self.wake.set()

    def _watch(self) -> None:
        while True:
            self.wake.wait(max(0.0, self.deadline - time.monotonic()))
            self.wake.clear()
            if time.monotonic() >= self.deadline:
                break
        stats = self.app.task_runner.stats
        logger.critical(
            "Shutdown still not over %.1fs %s: ending the process now "
            "(%d background task(s) lost in all, %d still counted running)",
            SHUTDOWN_MARGIN,
            self.why,
            stats.lost,
            stats.running,
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(1)


class _QuietCancelled(logging.Filter):
    """Once a second signal stopped things at once, drops the tracebacks the
    server would log for what we cancelled: an "Exception in ASGI application"
    for each request cancelled in its handler (one line of ours counts them),
    and the app's lifespan cancelled as the loop closes, when the server had to
    be told to quit (one line of ours says so)."""

    def __init__(self, cancelled: set[asyncio.Task[Any]], lifespan: asyncio.Task[Any] | None) -> None:
        super().__init__()
        self.cancelled = cancelled
        self.lifespan = lifespan

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            task = asyncio.current_task()
        except RuntimeError:  # logged outside any event loop
            return True
        if task is None:
            return True
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, asyncio.CancelledError) and task in self.cancelled:
            return False
        # the lifespan's failure comes as a message: the traceback's text
        if task is self.lifespan and record.getMessage().rstrip().endswith("CancelledError"):
            logger.warning("The app's lifespan was cancelled as the server quit at once (traceback left out)")
            return False
        return True


def _requests_in_flight(app: Ravyn, lifespan: asyncio.Task[Any] | None) -> list[asyncio.Task[Any]]:
    """The event loop's tasks now inside `app` serving a request (not the
    lifespan, nor a request already being cancelled, as the tasks of the
    requests the drain gave up on are)."""
    # every class's own __call__: a subclass of Ravyn may override it
    calls = {
        klass.__dict__["__call__"].__code__
        for klass in type(app).__mro__
        if hasattr(klass.__dict__.get("__call__"), "__code__")
    }
    return [
        task
        for task in asyncio.all_tasks()
        if task is not lifespan
        and not task.done()
        and not task.cancelling()
        and any(code in calls for code in _awaiting(task.get_coro()))
    ]


def _awaiting(coro: object) -> Iterator[CodeType]:
    """The code of each coroutine in the chain `coro` is suspended in (`Task.get_stack`
    gives only the outermost frame of a suspended task)."""
    for _ in range(1000):  # a chain is never that deep: the bound is against a cycle
        code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
        if code is None:
            return
        yield code
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)


def drain_on_signals(app: Ravyn) -> Callable[[], None]:
    """Start the task drain as soon as a stop signal arrives; return a function
    that puts the previous handlers back (called at lifespan shutdown).

    uvicorn waits for running requests, background tasks included, before it
    runs the lifespan shutdown, and by default it waits forever. Chaining onto
    its signal handlers lets `task_drain_timeout` count from the signal. What a
    later signal means (the supervisor's relay, or the operator's second
    signal, which gives up on the tasks at once, each logged lost) is decided
    by `StopSignals`, as the module's docstring describes. From the first
    signal, a watchdog ends the process if it is still running
    `task_drain_timeout + SHUTDOWN_MARGIN` seconds later (`SHUTDOWN_MARGIN`
    after a second signal). Only possible in the main thread; elsewhere the
    drain starts at lifespan shutdown.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    return _SignalChain(app).install()


_Handler = Callable[[int, FrameType | None], Any]


class _SignalChain:
    """Our handler in front of the server's, for SIGTERM, SIGINT and SIGHUP.

    Signals are handled one at a time, in the order they arrive. Python runs a
    handler for a signal that arrives while another handler runs nested inside
    it, between two bytecodes: a supervisor's SIGTERM landing in the middle of
    the handler of the group's SIGINT would then reach the server first, and
    the SIGINT, coming second, would make uvicorn quit at once."""

    def __init__(self, app: Ravyn) -> None:
        self.app = app
        self.loop = asyncio.get_running_loop()
        self.lifespan = asyncio.current_task()
        self.watchdog = _Watchdog(app)
        self.rule = StopSignals(_supervisor())
        self.server_log = logging.getLogger("uvicorn.error")
        self.cancelled: set[asyncio.Task[Any]] = set()
        self.quiet = _QuietCancelled(self.cancelled, self.lifespan)
        self.stopping: set[asyncio.Task[None]] = set()  # the loop holds tasks only weakly
        self.pending: list[tuple[int, FrameType | None]] = []
        self.busy = False
        self.gave_up = False
        self.unhooked = False
        self.server: dict[int, _Handler | int | None] = {}
        self.restored: dict[int, Any] = {}

    def install(self) -> Callable[[], None]:
        """Chain onto the current handlers; return the function that unhooks."""
        term = signal.getsignal(signal.SIGTERM)
        hooked = list(STOP_SIGNALS)
        # SIGHUP would end the process on the spot, tasks and all: drain instead, when the
        # server stops gracefully on SIGTERM and nobody else handles (or ignores) SIGHUP
        if SIGHUP is not None and callable(term) and signal.getsignal(SIGHUP) == signal.SIG_DFL:
            hooked.append(SIGHUP)
        for sig in hooked:
            previous = signal.getsignal(sig)
            self.restored[sig] = previous
            # the server does not know SIGHUP: it is told to stop as on SIGTERM
            self.server[sig] = term if sig == SIGHUP else previous
            signal.signal(sig, self.on_signal)
        return self.restore

    def restore(self) -> None:
        """Put the previous handlers back, unless someone installed one after ours."""
        self.unhooked = True
        if all(task.done() for task in self.cancelled):
            self.server_log.removeFilter(self.quiet)
        for sig, previous in self.restored.items():
            # == not is: each `self.on_signal` is a new bound method, equal to the others
            if signal.getsignal(sig) == self.on_signal and previous is not None:
                signal.signal(sig, previous)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """The handler: queue the signal, and handle the queue unless a handler
        this one interrupted is already doing so (it will come to this one)."""
        self.pending.append((signum, frame))
        while self.pending and not self.busy:
            self.busy = True
            try:
                while self.pending:
                    self._handle(*self.pending.pop(0))
            finally:
                self.busy = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        meaning = self.rule.meaning(signum)
        name = signal.Signals(signum).name
        if meaning == "drain":
            self.watchdog.arm(self.app.task_drain_timeout + SHUTDOWN_MARGIN, "past task_drain_timeout")
            self._soon(self._start_drain)
        elif meaning == "relay":
            # the server already stops: a second stop could make it quit at once
            self._soon(_log_info, "%s from the supervisor passing the stop on: the drain goes on", name)
            return
        elif meaning == "again":
            self._soon(_log_info, "%s during the drain: the drain goes on (SIGINT stops at once)", name)
            return
        else:
            self.watchdog.arm(SHUTDOWN_MARGIN, "after a second signal")
            # a server with a handler hears of it once the requests' clean-up had its chance
            told_later = callable(self.server[signum])
            if self._soon(self._stop_at_once, signum, frame, told_later) and told_later:
                return
        self._tell_server(signum, frame)

    def _soon(self, callback: Callable[..., Any], *args: Any) -> bool:
        """Run `callback` on the event loop, not inside the signal handler; False
        if the loop is closed."""
        if self.loop.is_closed():
            return False
        self.loop.call_soon_threadsafe(callback, *args)
        return True

    def _tell_server(self, signum: int, frame: FrameType | None) -> None:
        server = self.server[signum]
        if callable(server):
            server(signum, frame)
        elif server == signal.SIG_DFL and signum == signal.SIGINT:
            raise KeyboardInterrupt

    def _start_drain(self) -> None:
        app, runner = self.app, self.app.task_runner
        if app.drain_task is None and not runner.draining:
            runner.draining = True
            # keep a reference: the loop holds tasks only weakly
            app.drain_task = self.loop.create_task(runner.drain(app.task_drain_timeout, close=True))

    def _stop_at_once(self, signum: int, frame: FrameType | None, tell: bool) -> None:
        task = self.loop.create_task(self._give_up(signum, frame, tell))
        self.stopping.add(task)
        task.add_done_callback(self.stopping.discard)

    async def _give_up(self, signum: int, frame: FrameType | None, tell: bool) -> None:
        """The operator's second signal: every task lost at once, the requests
        still in their handler cancelled (the clean-up of their `yield`
        dependencies runs as after an error, within `CANCEL_GRACE`). The server,
        stopping since the first signal, then has nothing left to wait for and
        ends cleanly (its lifespan shutdown runs); it is told to quit only if it
        has not within `SERVER_GRACE`, or at a third signal (`tell`: the server
        has a handler to tell; otherwise the signal handler already acted)."""
        if self.gave_up:
            if tell:
                self._tell_server(signum, frame)
            return
        self.gave_up = True
        self.server_log.addFilter(self.quiet)
        runner = self.app.task_runner
        try:
            if not runner.closed:
                runner.finish_now()
            requests = _requests_in_flight(self.app, self.lifespan)
            if requests:
                self.cancelled.update(requests)
                for task in requests:
                    task.cancel("stopped at once by a second signal")
                _, busy = await asyncio.wait(requests, timeout=CANCEL_GRACE)
                done = len(requests) - len(busy)
                logger.warning(
                    "%d request(s) still in their handler cancelled at once: %d closed their `yield` "
                    "dependencies, as after an error in the handler%s",
                    len(requests),
                    done,
                    f"; {len(busy)} ignored the cancellation for {CANCEL_GRACE}s and end with the process, "
                    "their clean-up skipped"
                    if busy
                    else "",
                )
            # uvicorn told to quit skips the lifespan shutdown, and the app's lifespan,
            # cancelled as the loop closes, would log a traceback
            deadline = self.loop.time() + SERVER_GRACE
            while not self.unhooked and self.loop.time() < deadline:
                await asyncio.sleep(0.02)
        finally:
            if tell and not self.unhooked:
                self._tell_server(signum, frame)


def _log_info(message: str, *args: object) -> None:
    """Log at INFO from the event loop (here, so the record names this module)."""
    logger.info(message, *args)
