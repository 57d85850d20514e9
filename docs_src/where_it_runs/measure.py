"""Each deployment setting of the Where it runs page, measured with real uvicorn servers on 127.0.0.1.

Every function starts `docs_src.where_it_runs.app` under uvicorn with the
setting it measures, drives it with plain HTTP requests and signals, reads what
the server printed, and returns what happened, with times measured from the
process's point of view (`time.perf_counter()` here, the server's lines as it
printed them). Nothing is asserted here: `tests/docs_src/test_where_it_runs.py`
does that, and `python -m docs_src.where_it_runs` turns the results into the
page's table.
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from ravyn.testing import serve

APP = "docs_src.where_it_runs.app:app"
QUIET = ("--no-access-log",)


def post_job(client: httpx.Client, base: str, label: str, seconds: float) -> httpx.Response:
    """One `POST /jobs` on a connection of its own, closed after the answer, as most clients do."""
    return client.post(
        f"{base}/jobs", json={"label": label, "seconds": seconds}, headers={"connection": "close"}
    )


def done_in(output: str) -> dict[str, int]:
    """Task label -> the process that printed `done <label> in <pid>`."""
    return {label: int(pid) for label, pid in re.findall(r"^done (\S+) in (\d+)$", output, re.M)}


@dataclass
class ConcurrencyLimit:
    """`--limit-concurrency`: a request whose tasks still run keeps its slot."""

    limit: int
    task_seconds: float
    answered: list[tuple[int, float]] = field(default_factory=list)
    """(status, seconds since the first request) of the requests that fill the slots."""
    refused: int = 0
    """503 answers to the next request while those tasks ran."""
    first_refused_at: float | None = None
    admitted_at: float | None = None
    """Seconds since the first request when the next request was admitted."""
    admitted_status: int | None = None


def concurrency_limit(limit: int = 2, task_seconds: float = 3.0, poll: float = 0.25) -> ConcurrencyLimit:
    """Fill the limit with requests whose task runs `task_seconds`, then knock until one more gets in."""
    result = ConcurrencyLimit(limit=limit, task_seconds=task_seconds)
    arguments = (*QUIET, "--limit-concurrency", str(limit))
    with serve(APP, uvicorn_args=arguments) as server, httpx.Client(timeout=30) as client:
        started = time.perf_counter()
        for number in range(limit):
            response = post_job(client, server.url, f"slot{number}", task_seconds)
            result.answered.append((response.status_code, time.perf_counter() - started))
        deadline = started + task_seconds * 3
        while time.perf_counter() < deadline:
            response = post_job(client, server.url, "next", 0)
            if response.status_code != 503:
                result.admitted_at = time.perf_counter() - started
                result.admitted_status = response.status_code
                break
            result.refused += 1
            if result.first_refused_at is None:
                result.first_refused_at = time.perf_counter() - started
            time.sleep(poll)
    return result


@dataclass
class SeveralWorkers:
    """`--workers N`: every process has its own tasks and its own counters."""

    workers: int
    requests: int
    answered_by: dict[int, int] = field(default_factory=dict)
    """Process id -> requests it answered."""
    ran_where_answered: bool = False
    """Every task ran in the process that answered its request."""
    started_per_process: dict[int, int] = field(default_factory=dict)
    """Process id -> `task_stats()["started"]`, asked of each process after the requests."""


def several_workers(workers: int = 2, requests: int = 16, task_seconds: float = 0.3) -> SeveralWorkers:
    """Send `requests` jobs to `workers` processes; see which ran each task and what each one counts."""
    result = SeveralWorkers(workers=workers, requests=requests)
    with serve(APP, uvicorn_args=(*QUIET, "--workers", str(workers))) as server:
        with httpx.Client(timeout=30) as client:
            time.sleep(1.0)  # every worker imports the app: let the slower ones start accepting
            answers = {}
            for number in range(requests):
                response = post_job(client, server.url, f"job{number}", task_seconds)
                answers[f"job{number}"] = int(response.json()["pid"])
            time.sleep(task_seconds + 1.0)
            # each process answers for itself: ask, on a new connection each time, until all
            # have. Which worker takes a connection is the kernel's choice, and on a busy
            # machine one worker took 40 in a row: ask for up to 30 s, not a fixed number of times
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                stats = client.get(f"{server.url}/stats", headers={"connection": "close"}).json()
                result.started_per_process[int(stats["pid"])] = int(stats["started"])
                if len(result.started_per_process) == len(set(answers.values())):
                    break
                time.sleep(0.02)
        ran = done_in(server.output)
    result.answered_by = dict(Counter(answers.values()))
    result.ran_where_answered = ran == answers
    return result


@dataclass
class Recycling:
    """`--limit-max-requests` with several workers: a worker at its limit finishes its tasks, then goes."""

    workers: int
    max_requests: int
    requests: int
    accepted: int = 0
    """Requests answered 202."""
    failed: list[str] = field(default_factory=list)
    """Requests that got no answer (connection refused or reset), with the error."""
    processes: int = 0
    """Processes that answered at least one request (more than `workers`: some were replaced)."""
    tasks_done: int = 0
    """Tasks that printed their `done` line."""
    lost_lines: int = 0


def recycling(
    workers: int = 2, max_requests: int = 3, requests: int = 12, task_seconds: float = 1.0
) -> Recycling:
    """Send jobs one after another to workers that each stop after `max_requests` requests."""
    result = Recycling(workers=workers, max_requests=max_requests, requests=requests)
    arguments = (*QUIET, "--workers", str(workers), "--limit-max-requests", str(max_requests))
    pids = set()
    with serve(APP, uvicorn_args=arguments) as server:
        with httpx.Client(timeout=30) as client:
            time.sleep(1.0)
            for number in range(requests):
                try:
                    response = post_job(client, server.url, f"job{number}", task_seconds)
                except httpx.TransportError as exc:
                    result.failed.append(f"job{number}: {type(exc).__name__}")
                    time.sleep(0.5)
                    continue
                if response.status_code == 202:
                    result.accepted += 1
                    pids.add(int(response.json()["pid"]))
                time.sleep(0.2)
            time.sleep(task_seconds + 2.0)
        output = server.output
    result.processes = len(pids)
    result.tasks_done = len(done_in(output))
    result.lost_lines = len(re.findall(r"lost", output))
    return result


@dataclass
class GracePeriod:
    """A container's stop: SIGTERM, then SIGKILL once the grace period is over."""

    drain_timeout: float
    grace: float
    task_seconds: float
    exited_at: float | None = None
    """Seconds after SIGTERM when the process exited on its own (None: it was killed)."""
    killed: bool = False
    lost_logged: bool = False
    """The log names the task cut off as lost."""
    task_done: bool = False


def grace_period(drain_timeout: float, grace: float = 10.0, task_seconds: float = 20.0) -> GracePeriod:
    """Stop a server running a long task the way `docker stop` does, with `grace` seconds before SIGKILL."""
    result = GracePeriod(drain_timeout=drain_timeout, grace=grace, task_seconds=task_seconds)
    env = {"TASK_DRAIN_TIMEOUT": str(drain_timeout)}
    with serve(APP, env=env, uvicorn_args=QUIET) as server:
        with httpx.Client(timeout=30) as client:
            post_job(client, server.url, "long", task_seconds)
        time.sleep(0.5)
        process = server.process
        process.send_signal(signal.SIGTERM)
        signalled = time.perf_counter()
        while time.perf_counter() - signalled < grace and process.poll() is None:
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
            result.killed = True
        else:
            result.exited_at = time.perf_counter() - signalled
        time.sleep(0.2)  # the last lines reach the log file
        output = server.output
    result.lost_logged = bool(re.search(r"^.*\bwork\(.*\blost\b", output, re.M))
    result.task_done = "long" in done_in(output)
    return result


def measure_all() -> dict[str, Any]:
    """Every case of the page, in its order."""
    return {
        "concurrency_limit": asdict(concurrency_limit()),
        "several_workers": asdict(several_workers()),
        "recycling": asdict(recycling()),
        "grace_default_drain": asdict(grace_period(drain_timeout=30.0)),
        "grace_short_drain": asdict(grace_period(drain_timeout=7.0)),
    }
