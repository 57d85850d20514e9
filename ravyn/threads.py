"""Where sync code runs off the event loop, and what happens where it cannot.

Sync handlers run on anyio's worker threads (`run_sync`). Sync background
tasks run on daemon threads of the runner's own (see
`ravyn.runner.threads`). In a browser (Pyodide) or
under WASI no thread can start (`THREADS_AVAILABLE` is false): both then run
inline, blocking the loop, and the first such call says so in the log.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

__all__ = ["THREADS_AVAILABLE", "run_inline", "run_sync"]

T = TypeVar("T")

logger = logging.getLogger("ravyn.threads")

THREADS_AVAILABLE = sys.platform not in ("emscripten", "wasi")
"""False in a browser (Pyodide) or WASI, where a sync callable must run inline."""

_warned_inline = False


def run_inline(call: Callable[[], T]) -> T:
    """Run `call()` here, on the loop, where no thread can start; the first time, say so."""
    global _warned_inline
    if not _warned_inline:
        _warned_inline = True
        logger.warning("No threads on this platform: sync handlers and tasks run inline, blocking the loop")
    return call()


async def run_sync(call: Callable[[], T]) -> T:
    """Run a sync handler on anyio's worker threads, or inline where there are none."""
    if not THREADS_AVAILABLE:
        return run_inline(call)
    return await anyio.to_thread.run_sync(call)
