"""Drive `loadtest.app` under uvicorn and check every invariant of the run."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import anyio

from loadtest.client import Connection
from ravyn.testing import serve


@dataclass
class LoadResult:
    """What one load run measured."""

    requests: int
    concurrency: int
    seconds: float
    statuses: dict[int, int]
    before: dict[str, int]
    after: dict[str, int]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every invariant held."""
        return not self.problems

    def table(self) -> str:
        """A plain-text table of the run."""
        runs = self.after["runs_audit"] + self.after["runs_notify"]
        runs -= self.before["runs_audit"] + self.before["runs_notify"]
        memory_change = (self.after["rss_kb"] - self.before["rss_kb"]) / max(self.before["rss_kb"], 1)
        rows = [
            ("requests", f"{self.requests} at {self.concurrency} concurrent connections"),
            ("wall time", f"{self.seconds:.1f} s ({self.requests / self.seconds:.0f} req/s)"),
            ("responses", ", ".join(f"{code}: {count}" for code, count in sorted(self.statuses.items()))),
            ("task runs", f"{runs} (expected {2 * self.requests})"),
            (
                "tasks failed",
                f"{self.after['task_failed'] - self.before['task_failed']} (by design: 1 in 10)",
            ),
            ("tasks lost / running", f"{self.after['task_lost']} / {self.after['task_running']}"),
            ("memory", f"{self.before['rss_kb']} KiB -> {self.after['rss_kb']} KiB ({memory_change:+.1%})"),
            (
                "threads",
                f"{self.before['threads']} -> {self.after['threads']} (bound {self.after['thread_bound']})",
            ),
            ("verdict", "OK" if self.ok else "FAILED: " + "; ".join(self.problems)),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


async def _fire(base_url: str, count: int, concurrency: int, first: int) -> dict[int, int]:
    statuses: dict[int, int] = {}
    next_order = first

    async def worker() -> None:
        nonlocal next_order
        connection = Connection(base_url)
        try:
            while next_order < first + count:
                order = next_order
                next_order += 1
                status, _ = await connection.request("POST", "/orders", {"order": order})
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            await connection.close()

    async with anyio.create_task_group() as group:
        for _ in range(concurrency):
            group.start_soon(worker)
    return statuses


async def _settled_stats(base_url: str, timeout: float = 30.0) -> dict[str, Any]:
    """The server's stats once no task is running any more."""
    connection = Connection(base_url)
    try:
        with anyio.fail_after(timeout):
            while True:
                _, body = await connection.request("GET", "/stats")
                stats: dict[str, Any] = json.loads(body)
                if stats["task_running"] == 0:
                    return stats
                await anyio.sleep(0.05)
    finally:
        await connection.close()


async def _drive(base_url: str, requests: int, concurrency: int, warmup: int) -> LoadResult:
    await _fire(base_url, warmup, concurrency, first=1)
    before = await _settled_stats(base_url)
    started = time.perf_counter()
    statuses = await _fire(base_url, requests, concurrency, first=warmup + 1)
    seconds = time.perf_counter() - started
    after = await _settled_stats(base_url)
    result = LoadResult(requests, concurrency, seconds, statuses, before, after)
    _check(result)
    return result


def _check(result: LoadResult) -> None:
    before, after, problems = result.before, result.after, result.problems
    if set(result.statuses) != {201}:
        problems.append(f"non-2xx responses: {result.statuses}")
    for kind in ("audit", "notify"):
        runs = after[f"runs_{kind}"] - before[f"runs_{kind}"]
        if runs != result.requests:
            problems.append(f"{kind} ran {runs} times for {result.requests} requests")
    started = after["task_started"] - before["task_started"]
    if started != 2 * result.requests:
        problems.append(f"{started} tasks started, expected {2 * result.requests}")
    expected_failures = sum(1 for order in range(1, result.requests + 1) if order % 5 == 0)
    failed = after["task_failed"] - before["task_failed"]
    if abs(failed - expected_failures) > 1:  # the run's first order number shifts the count by at most one
        problems.append(f"{failed} tasks failed, expected about {expected_failures}")
    if after["task_lost"] or after["task_running"]:
        problems.append(f"lost {after['task_lost']}, still running {after['task_running']}")
    if after["rss_kb"] > before["rss_kb"] * 1.10:
        problems.append(f"memory grew from {before['rss_kb']} to {after['rss_kb']} KiB (over 10%)")
    # pools start threads lazily, so the count may rise to, never past, their fixed bounds
    if after["threads"] > max(before["threads"], after["thread_bound"]):
        problems.append(f"{after['threads']} threads, over the bound of {after['thread_bound']}")


def run_load(requests: int = 10_000, concurrency: int = 50, warmup: int = 1_000) -> LoadResult:
    """Start `loadtest.app` under uvicorn, run the load, stop the server, return the result."""
    with serve("loadtest.app:app", uvicorn_args=("--no-access-log",)) as server:
        return anyio.run(_drive, server.url, requests, concurrency, warmup)
