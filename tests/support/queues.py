"""Waiting on a queue that another thread fills (a server's output, its events)."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def take_until(items: queue.Queue[T], found: Callable[[T], bool], timeout: float = 15.0) -> list[T]:
    """Take items off `items` until one is `found`: all those taken, that one last.
    `AssertionError`, listing what came, if none is within `timeout` seconds."""
    seen: list[T] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            item = items.get(timeout=0.1)
        except queue.Empty:
            continue
        seen.append(item)
        if found(item):
            return seen
    raise AssertionError(f"nothing awaited came in {timeout} s; came: {seen}")
