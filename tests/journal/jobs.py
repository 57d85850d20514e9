"""Durable task functions for the journal's tests: importable by module path,
recording what they did in `ran` (in this process) so the tests can read it."""

from __future__ import annotations

import asyncio
import threading

ran: list[str] = []
"""What the tasks did, in order."""

release = threading.Event()
"""Set it to let `wait_for_release` finish."""


def remember(value: str) -> None:
    """Append `value` to `ran`."""
    ran.append(value)


async def remember_async(value: str) -> None:
    """Append `value` to `ran`, from a coroutine."""
    ran.append(value)


def fail_always(value: str) -> None:
    """Record the attempt, then fail."""
    ran.append(f"attempt {value}")
    raise RuntimeError(f"{value} always fails")


def wait_for_release(value: str) -> None:
    """Block (on a task thread) until `release` is set, then remember `value`."""
    release.wait(30)
    ran.append(value)


async def sleep_then_remember(value: str, seconds: float) -> None:
    """Sleep `seconds`, then remember `value` (cancelled by a short drain)."""
    await asyncio.sleep(seconds)
    ran.append(value)


class Mailer:
    """A class whose method cannot be a durable task once bound to an instance."""

    def send(self, to: str) -> None:
        ran.append(to)

    @classmethod
    def send_later(cls, to: str) -> None:
        ran.append(to)


def exit_process(value: str) -> None:
    """Raise `SystemExit`, as a task calling `sys.exit()` would."""
    ran.append(value)
    raise SystemExit(3)
