"""The journal's one writer: a daemon thread that owns the SQLite connection.

Everything the journal writes goes through it, as operations (functions of the
connection) taken from a queue. All the operations waiting when the thread
wakes run in one transaction with one commit (group commit): under load, many
requests' durable tasks share one fsync. Each operation runs in a savepoint of
its own, so one that fails (a duplicate key) does not undo the others; a
failed commit fails every operation of the batch.

`submit` returns a future the caller waits on (a durable task's record, before
the response); `post` does not (a plain task in flight, a task's outcome).
Every `tick_every` seconds, the thread also runs `on_tick` (the heartbeat).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from ravyn.runner.logs import escape_text

__all__ = ["JournalClosed", "JournalWriter", "Operation"]

logger = logging.getLogger("ravyn.journal")

Operation = Callable[[sqlite3.Connection], Any]
"""A piece of work on the journal, run on the writer's thread inside its transaction."""

BATCH_LIMIT = 512
"""The most operations one transaction takes: a huge backlog is written in several commits."""

_STOP = object()


class JournalClosed(RuntimeError):
    """The journal was closed (the app shut down): nothing more can be written."""


class JournalWriter:
    """The daemon thread that writes the journal (see the module's docstring)."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        tick_every: float,
        on_tick: Operation | None = None,
        name: str = "ravyn-journal",
    ) -> None:
        self.connection = connection
        self.tick_every = tick_every
        self.on_tick = on_tick
        self.name = name
        self._queue: queue.SimpleQueue[tuple[Operation, Future[Any] | None] | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.failed_batches = 0
        """Transactions that could not be committed (their operations failed)."""

    @property
    def closed(self) -> bool:
        """True once `close()` was called."""
        return self._closed

    def submit(self, operation: Operation) -> Future[Any]:
        """Queue `operation`; the future gets its result once committed (or the error)."""
        future: Future[Any] = Future()
        self._put(operation, future)
        return future

    def post(self, operation: Operation) -> None:
        """Queue `operation` without waiting for it (a failure is logged; once
        closed, it is dropped: the journal's rows say what a restart must do)."""
        self._put(operation, None)

    def _put(self, operation: Operation, future: Future[Any] | None) -> None:
        with self._lock:
            if self._closed:
                if future is None:
                    logger.debug("A write to the closed task journal was dropped")
                else:
                    future.set_exception(JournalClosed("the task journal is closed"))
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
            self._queue.put((operation, future))

    def close(self, timeout: float = 5.0) -> bool:
        """Write what is queued, stop the thread and close the connection;
        return False if the thread did not stop within `timeout` seconds."""
        with self._lock:
            if self._closed:
                return True
            self._closed = True
            thread = self._thread
            self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                # still in a write (waiting on another worker's lock): its connection stays open
                logger.error("The task journal's writer did not stop within %gs", timeout)
                return False
        self.connection.close()
        return True

    # ----------------------------------------------------------------------- the thread

    def _loop(self) -> None:
        next_tick = time.monotonic()  # a heartbeat at once: the worker shows up alive
        while True:
            wait = max(0.0, next_tick - time.monotonic())
            batch: list[tuple[Operation, Future[Any] | None]] = []
            stop = False
            try:
                item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            except queue.Empty:
                item = None
            while item is not None:
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)  # type: ignore[arg-type]
                if len(batch) >= BATCH_LIMIT:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    item = None
            if self.on_tick is not None and time.monotonic() >= next_tick and not stop:
                batch.append((self.on_tick, None))
                next_tick = time.monotonic() + self.tick_every
            if batch:
                self._write(batch)
            if stop:
                return

    def _write(self, batch: list[tuple[Operation, Future[Any] | None]]) -> None:
        connection = self.connection
        results: list[tuple[Future[Any] | None, bool, Any]] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
            for index, (operation, future) in enumerate(batch):
                savepoint = f"op{index}"
                connection.execute(f"SAVEPOINT {savepoint}")
                try:
                    result = operation(connection)
                except Exception as exc:  # this operation only: the others still commit
                    connection.execute(f"ROLLBACK TO {savepoint}")
                    connection.execute(f"RELEASE {savepoint}")
                    if future is None:
                        logger.error("A task journal write failed: %s", exc, exc_info=exc)
                    results.append((future, False, exc))
                else:
                    connection.execute(f"RELEASE {savepoint}")
                    results.append((future, True, result))
            connection.execute("COMMIT")
        except Exception as exc:
            self.failed_batches += 1
            try:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            logger.error(
                "The task journal could not commit %d write(s): %s: %s",
                len(batch),
                escape_text(type(exc).__name__),
                escape_text(str(exc)),
            )
            for _, future in batch:
                if future is not None and not future.done():
                    future.set_exception(exc)
            return
        for future, succeeded, value in results:
            if future is None:
                continue
            if succeeded:
                future.set_result(value)
            else:
                future.set_exception(value)
