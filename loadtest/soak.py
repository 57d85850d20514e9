"""The soak: a sustained overload of slow, failing tasks, watched over time.

`python -m loadtest --soak` sends `POST /visits` on 64 keep-alive connections
for 120 s. Each request adds two tasks, the second failing after a few
seconds, so tasks arrive faster than they end and the backlog climbs to
`max_pending_tasks`; past it, requests get 503 with `Retry-After` and the
client waits as asked. Every few seconds the server's counters and RSS are
sampled into a table. Then the load stops, the backlog drains, and the run
checks: peak RSS under 300 MB, RSS back within 20% of its value before the
burst, and every task counted
(started = succeeded + failed + skipped + rejected + lost + running).

"Before the burst" is measured after a warm-up burst (15 s by default) that
fills the backlog once: Python keeps the memory of its first high-water mark
(freed objects leave its arenas part-used, so the OS does not get them back),
and the question the soak answers is whether memory grows with the length of
the overload or comes back to where one burst leaves it. The cold RSS, before
any request, is printed too.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import anyio

from loadtest.client import Connection
from ravyn.testing import serve

PEAK_RSS_LIMIT_KB = 300 * 1024
RSS_RETURN_TOLERANCE = 0.20
ENDED = ("succeeded", "failed", "skipped", "rejected", "lost", "running")
COUNTED = ("refused", "rejected", "failed")


@dataclass
class Sample:
    """The server's state at one moment of the soak."""

    at: float
    responses: dict[int, int]
    stats: dict[str, Any]

    @property
    def rss_mb(self) -> float:
        """Resident memory of the server, in MiB."""
        return float(self.stats["rss_kb"]) / 1024


@dataclass
class SoakResult:
    """What one soak measured."""

    seconds: float
    concurrency: int
    cold: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]
    samples: list[Sample]
    responses: dict[int, int]
    problems: list[str] = field(default_factory=list)
    """Counting and correctness problems."""
    memory_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check held."""
        return not self.problems and not self.memory_problems

    @property
    def peak_rss_kb(self) -> int:
        """The highest RSS sampled."""
        return max([int(s.stats["rss_kb"]) for s in self.samples] + [int(self.after["rss_kb"])])

    def table(self) -> str:
        """The samples as a table, then the checks."""
        lines = [
            f"soak: {self.seconds:.0f} s at {self.concurrency} connections, POST /visits, "
            "two tasks per request (the second fails)",
            "",
            "| time (s) | 201 | 503 | running tasks | refused | rejected | failed | RSS (MiB) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in self.samples:
            # counters since the soak began (the warm-up's are in the baseline)
            since = {key: s.stats[f"task_{key}"] - self.before[f"task_{key}"] for key in COUNTED}
            lines.append(
                f"| {s.at:.0f} | {s.responses.get(201, 0)} | {s.responses.get(503, 0)} "
                f"| {s.stats['task_running']} | {since['refused']} | {since['rejected']} "
                f"| {since['failed']} | {s.rss_mb:.0f} |"
            )
        before, after = self.before, self.after
        counted = " + ".join(f"{after['task_' + key]} {key}" for key in ENDED)  # warm-up included
        lines += [
            "",
            f"RSS cold {self.cold['rss_kb'] / 1024:.0f} MiB, after the warm-up burst "
            f"(the baseline) {before['rss_kb'] / 1024:.0f} MiB, "
            f"peak {self.peak_rss_kb / 1024:.0f} MiB, "
            f"after the backlog drained {after['rss_kb'] / 1024:.0f} MiB",
            f"tasks, warm-up included: {after['task_started']} started = {counted}",
            f"threads after: {after['threads']} (bound {after['thread_bound']})",
            "verdict: " + ("OK" if self.ok else "FAILED: " + "; ".join(self.problems + self.memory_problems)),
        ]
        return "\n".join(lines)


async def _get_stats(connection: Connection) -> dict[str, Any]:
    _, body = await connection.request("GET", "/stats")
    stats: dict[str, Any] = json.loads(body)
    return stats


async def _settled(base_url: str, timeout: float) -> dict[str, Any]:
    connection = Connection(base_url)
    try:
        with anyio.fail_after(timeout):
            while True:
                stats = await _get_stats(connection)
                if stats["task_running"] == 0:
                    return stats
                await anyio.sleep(0.2)
    finally:
        await connection.close()


async def _burst(base_url: str, seconds: float, concurrency: int, responses: dict[int, int]) -> None:
    """Send `POST /visits` on `concurrency` connections for `seconds`, counting statuses."""
    stop_at = time.monotonic() + seconds
    next_page = 0

    async def worker() -> None:
        nonlocal next_page
        connection = Connection(base_url)
        try:
            while time.monotonic() < stop_at:
                next_page += 1
                status, _ = await connection.request("POST", "/visits", {"page": next_page})
                responses[status] = responses.get(status, 0) + 1
                if status == 503:
                    await anyio.sleep(1)  # the Retry-After the server sends
        finally:
            await connection.close()

    async with anyio.create_task_group() as group:
        for _ in range(concurrency):
            group.start_soon(worker)


async def _drive(
    base_url: str, seconds: float, concurrency: int, sample_every: float, warmup: float
) -> SoakResult:
    cold = await _settled(base_url, 30)
    if warmup > 0:
        await _burst(base_url, warmup, concurrency, {})
    before = await _settled(base_url, 120)
    responses: dict[int, int] = {}
    samples: list[Sample] = []
    started = time.monotonic()
    stop_at = started + seconds

    async def sampler() -> None:
        while True:
            # a connection per sample: uvicorn closes one left idle for 5 s
            connection = Connection(base_url)
            try:
                stats = await _get_stats(connection)
            finally:
                await connection.close()
            samples.append(Sample(time.monotonic() - started, dict(responses), stats))
            if time.monotonic() >= stop_at:
                return
            await anyio.sleep(min(sample_every, max(0.0, stop_at - time.monotonic())))

    async with anyio.create_task_group() as group:
        group.start_soon(sampler)
        group.start_soon(_burst, base_url, seconds, concurrency, responses)
    after = await _settled(base_url, 120)
    samples.append(Sample(time.monotonic() - started, dict(responses), after))
    result = SoakResult(seconds, concurrency, cold, before, after, samples, responses)
    _check(result)
    return result


def _check(result: SoakResult) -> None:
    before, after, problems = result.before, result.after, result.problems
    if set(result.responses) - {201, 503}:
        problems.append(f"unexpected statuses: {result.responses}")
    if result.peak_rss_kb > PEAK_RSS_LIMIT_KB:
        result.memory_problems.append(
            f"peak RSS {result.peak_rss_kb // 1024} MiB, over {PEAK_RSS_LIMIT_KB // 1024} MiB"
        )
    if abs(after["rss_kb"] - before["rss_kb"]) > before["rss_kb"] * RSS_RETURN_TOLERANCE:
        result.memory_problems.append(
            f"RSS {after['rss_kb'] // 1024} MiB after the burst, not within "
            f"{RSS_RETURN_TOLERANCE:.0%} of {before['rss_kb'] // 1024} MiB before it"
        )
    for stats in [s.stats for s in result.samples]:
        ended = sum(stats[f"task_{key}"] for key in ENDED)
        if stats["task_started"] != ended:
            problems.append(f"{stats['task_started']} tasks started but {ended} counted")
            break
    accepted = result.responses.get(201, 0)
    started = after["task_started"] - before["task_started"]
    if started != 2 * accepted:
        problems.append(f"{started} tasks handed over for {accepted} accepted requests (expected two each)")
    visits = after["runs_visit"] - before["runs_visit"]
    partner = after["runs_partner"] - before["runs_partner"]
    rejected = after["task_rejected"] - before["task_rejected"]
    if visits + partner + rejected != started:
        problems.append(f"{visits} + {partner} task runs and {rejected} rejected for {started} handed over")
    if after["threads"] > max(before["threads"], after["thread_bound"]):
        problems.append(f"{after['threads']} threads, over the bound of {after['thread_bound']}")


def run_soak(
    seconds: float = 120,
    concurrency: int = 64,
    sample_every: float = 10.0,
    warmup: float = 15.0,
    task_seconds: float = 2.0,
) -> SoakResult:
    """Start `loadtest.app` under uvicorn, warm it up, soak it, stop it, return the result."""
    env = {"SOAK_TASK_SECONDS": str(task_seconds)}
    with serve("loadtest.app:app", env=env, uvicorn_args=("--no-access-log",)) as server:
        return anyio.run(_drive, server.url, seconds, concurrency, sample_every, warmup)
