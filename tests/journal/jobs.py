"""Durable task functions for the journal's tests: importable by module path,
recording what they did in `RAN` (in this process) so the tests can read it."""

from __future__ import annotations

import asyncio
import threading

RAN: list[str] = []
"""What the tasks did, in order."""

RELEASE = threading.Event()
"""Set it to let `wait_for_release` finish."""


def remember(value: str) -> None:
    """Append `value` to `RAN`."""
    RAN.append(value)


async def remember_async(value: str) -> None:
    """Append `value` to `RAN`, from a coroutine."""
    RAN.append(value)


def fail_always(value: str) -> None:
    """Record the attempt, then fail."""
    RAN.append(f"attempt {value}")
    raise RuntimeError(f"{value} always fails")


def wait_for_release(value: str) -> None:
    """Block (on a task thread) until `RELEASE` is set, then remember `value`."""
    RELEASE.wait(30)
    RAN.append(value)


async def sleep_then_remember(value: str, seconds: float) -> None:
    """Sleep `seconds`, then remember `value` (cancelled by a short drain)."""
    await asyncio.sleep(seconds)
    RAN.append(value)


class Mailer:
    """A class whose method cannot be a durable task once bound to an instance."""

    def send(self, to: str) -> None:
        RAN.append(to)

    @classmethod
    def send_later(cls, to: str) -> None:
        RAN.append(to)
