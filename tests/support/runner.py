"""What the runner's test modules share: the counters' invariant, and a task that ignores cancellation."""

from __future__ import annotations

import asyncio

import anyio


def balanced(stats: dict[str, int]) -> bool:
    """Every task handed over is counted once: ended one way, or still running."""
    ended = ("succeeded", "failed", "skipped", "rejected", "lost", "running")
    return stats["started"] == sum(stats[key] for key in ended)


class Stubborn:
    """An async task (`run`) that swallows every cancellation, counting them in
    `swallowed`, until `stop` is set. Make it inside the test's event loop."""

    def __init__(self) -> None:
        self.stop = anyio.Event()
        self.swallowed = 0

    async def run(self) -> None:
        while not self.stop.is_set():
            try:
                await anyio.sleep(0.02)
            except asyncio.CancelledError:
                self.swallowed += 1
