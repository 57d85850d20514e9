"""Stopping a served app: the task drain starts at the first SIGTERM or SIGINT,
and a watchdog makes sure the process ends within a known time."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from ravyn.runner import DRAIN_MARGIN

if TYPE_CHECKING:
    from ravyn.applications import Ravyn

__all__ = ["SHUTDOWN_MARGIN", "drain_on_signals"]

logger = logging.getLogger("ravyn.shutdown")


SHUTDOWN_MARGIN = DRAIN_MARGIN + 0.5
"""Seconds past `task_drain_timeout` (counted from the first signal) after which
a process still running is ended: the drain's own margin, plus half a second
for the server and the app's shutdown handlers."""


class _Watchdog:
    """Ends the process if it is still alive at a deadline: the last resort of
    a bounded shutdown, when something Python cannot interrupt holds it (a
    handler that never returns, a task that ignores its cancellation while the
    event loop closes, a non-daemon thread)."""

    def __init__(self, app: Ravyn) -> None:
        self.app = app
        self.deadline = float("inf")
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None

    def arm(self, seconds: float) -> None:
        """End the process `seconds` from now, unless an earlier deadline is set."""
        self.deadline = min(self.deadline, time.monotonic() + seconds)
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
            "Shutdown still not over %.1fs past task_drain_timeout: ending the process now "
            "(%d background task(s) lost in all, %d still counted running)",
            SHUTDOWN_MARGIN,
            stats.lost,
            stats.running,
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(1)


def drain_on_signals(app: Ravyn) -> Callable[[], None]:
    """Start the task drain as soon as SIGTERM or SIGINT arrives; return a
    function that puts the previous handlers back (called at lifespan shutdown).

    uvicorn waits for running requests, background tasks included, before it
    runs the lifespan shutdown, and by default it waits forever. Chaining onto
    its signal handlers lets `task_drain_timeout` count from the signal. A
    second signal gives up on the tasks at once (each logged lost). From the
    first signal, a watchdog ends the process if it is still running
    `task_drain_timeout + SHUTDOWN_MARGIN` seconds later (`SHUTDOWN_MARGIN`
    after a second signal). Only possible in the main thread; elsewhere the
    drain starts at lifespan shutdown.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    watchdog = _Watchdog(app)

    def start_drain() -> None:
        runner = app.task_runner
        if app.drain_task is None and not runner.draining:
            runner.draining = True
            watchdog.arm(app.task_drain_timeout + SHUTDOWN_MARGIN)
            # keep a reference: the loop holds tasks only weakly
            app.drain_task = loop.create_task(runner.drain(app.task_drain_timeout, close=True))
        elif not runner.closed:
            watchdog.arm(SHUTDOWN_MARGIN)
            runner.finish_now()
        else:
            watchdog.arm(SHUTDOWN_MARGIN)

    installed: dict[signal.Signals, tuple[Callable[[int, FrameType | None], None], Any]] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)

        def chained(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(start_drain)
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL and signum == signal.SIGINT:
                raise KeyboardInterrupt

        signal.signal(sig, chained)
        installed[sig] = (chained, previous)

    def restore() -> None:
        for sig, (chained, previous) in installed.items():
            # leave alone a handler someone installed after ours
            if signal.getsignal(sig) is chained and previous is not None:
                signal.signal(sig, previous)

    return restore
