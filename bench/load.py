"""Load from wrk, in a process of its own, and the task-run check after each run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass
from typing import Any

from bench.apps.shapes import SHAPES, TASKS_PER_REQUEST
from bench.contenders import BENCH_DIR, BenchError
from bench.server import Server

WRK_SCRIPT = BENCH_DIR / "wrk" / "register.lua"


@dataclass
class Run:
    """One wrk run against one server."""

    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    completed: int  # responses wrk received within the duration
    sent: int  # requests wrk sent: completed + those still in flight when it stopped
    cpu_us: float  # server CPU time (all threads) per request sent, in microseconds
    task_runs: int  # counted by the app after the run
    expected_task_runs: int
    duration_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed: apt-get install -y wrk")
    return path


def wrk_version() -> str:
    done = subprocess.run([wrk_path(), "--version"], capture_output=True, text=True, timeout=10)
    first = (done.stdout + done.stderr).splitlines()[0]
    # "wrk debian/4.1.0-3+b2 [epoll] Copyright ..." -> "wrk debian/4.1.0-3+b2"
    return first.split(" [", 1)[0].strip()


def wrk_env(scenario: str) -> dict[str, str]:
    """What `wrk/register.lua` sends for a scenario: method, path, body and extra headers."""
    shape = SHAPES[scenario]
    return {
        "BENCH_METHOD": shape.method,
        "BENCH_PATH": shape.path,
        "BENCH_BODY": shape.body.decode(),
        "BENCH_HEADERS": shape.wrk_headers(),
    }


def run_wrk(server: Server, duration: float, connections: int, threads: int) -> Run:
    """Load `server` for `duration` seconds, then check that every request's tasks ran.

    wrk counts the requests it completed; it stops on time and drops those
    still in flight, which the server has received and still answers (and
    runs their tasks). The script counts every request sent, so the check is
    exact: task runs == tasks per request x requests sent.
    """
    before = server.count()
    cpu_before = server.cpu_seconds()
    command = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        server.url,
    ]
    env = {**os.environ, **wrk_env(server.scenario)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=duration + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(line.removeprefix("BENCH_RESULT "))
    errors = {kind: n for kind, n in result["errors"].items() if n}
    name = f"{server.contender.name} scenario {server.scenario}"
    if errors:
        raise BenchError(f"{name}: wrk saw errors {errors}:\n{done.stdout}\nserver log:\n{server.log()}")
    sent, completed = int(result["sent"]), int(result["requests"])
    if not completed or not 0 <= sent - completed <= connections:
        raise BenchError(
            f"{name}: wrk sent {sent} requests and completed {completed} with {connections} connections"
        )
    expected = before + TASKS_PER_REQUEST[server.scenario] * sent
    after = server.wait_for_count(expected)
    cpu = server.cpu_seconds() - cpu_before  # the requests in flight at the stop and all tasks included
    seconds = result["duration_us"] / 1e6
    latency = result["latency_us"]
    return Run(
        rps=completed / seconds,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        completed=completed,
        sent=sent,
        cpu_us=cpu / sent * 1e6,
        task_runs=after - before,
        expected_task_runs=expected - before,
        duration_s=seconds,
    )
