"""Run the comparison and write `results.json` and `results.md` (see the package's docstring).

Five measurements, each with real processes on 127.0.0.1, each starting from
an empty Redis and fresh servers and workers (warmed up by one job):

1. **A crash.** The server is SIGKILLed one second into a five-second job.
   The background task dies with it. The Celery job is acknowledged only when
   done (`task_acks_late`), so Redis gives it to another worker once the
   visibility timeout has passed; the worker that was running it is killed too.
2. **A deploy.** SIGTERM one second into the same job: the server drains its
   tasks for `task_drain_timeout` seconds, then cuts them off; a Celery
   worker's warm shutdown waits for its job.
3. **A flaky job** that fails twice, then succeeds: as a plain background
   task, with Ravyn's in-memory `retries=2`, and as a Celery job with
   `autoretry_for` and exponential back-off.
4. **Throughput:** 1 000 jobs of 10 ms as background tasks (one server
   process), then as Celery jobs with 1 worker and with 4.
5. **The client's wait:** how long each `POST` took to answer, throughout.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import redis

from docs_src.queue_comparison.jobs import JOURNAL_ENV, Journal
from docs_src.queue_comparison.services import ROOT, Service, celery_workers, redis_binary, redis_server
from ravyn.testing import Server, ServerProcess, serve

__all__ = ["COMMAND", "Comparison", "Settings", "main", "render_markdown", "run", "write"]

COMMAND = "python -m docs_src.queue_comparison"
APP = "docs_src.queue_comparison.app:app"
JOBS_MODULE = "docs_src.queue_comparison.jobs"
RESULTS_DIR = Path(__file__).resolve().parent
BACKGROUND, QUEUED = "/background-jobs", "/queued-jobs"


@dataclass(frozen=True)
class Settings:
    """What the comparison runs; the tests run it shorter."""

    job_seconds: float = 5.0
    """The long job of the crash and the deploy."""
    kill_after: float = 1.0
    """When the crash or the deploy comes, counted from the job's start."""
    visibility_timeout: float = 10.0
    """Redis's visibility timeout: above `job_seconds`, far below production's hour, so the run ends soon."""
    drain_timeout: float = 2.0
    """The server's `task_drain_timeout` in the deploy (Ravyn's default is 30 s)."""
    flaky_seconds: float = 0.2
    fail_times: int = 2
    background_retry_delay: float = 1.0
    jobs: int = 1000
    short_job_seconds: float = 0.01
    worker_counts: tuple[int, ...] = (1, 4)
    clients: int = 8
    """Client threads sending the throughput run's requests."""


class Comparison:
    """The measurements, against one Redis; every server and worker is started and stopped inside."""

    def __init__(self, redis_url: str, workdir: Path, settings: Settings = Settings()) -> None:
        self.redis_url = redis_url
        self.workdir = workdir
        self.settings = settings
        self.worker_starts: list[float] = []
        """How long each `celery_workers` start took, until every worker of it was ready."""

    def env(self, name: str, **extra: str) -> tuple[Journal, dict[str, str]]:
        """A fresh journal, and the environment pointing the app and the workers at it and at Redis."""
        path = self.workdir / f"{name}.jsonl"
        env = {
            "CELERY_BROKER_URL": self.redis_url,
            "CELERY_RESULT_BACKEND": self.redis_url,
            "CELERY_VISIBILITY_TIMEOUT": str(self.settings.visibility_timeout),
            JOURNAL_ENV: str(path),
            **extra,
        }
        return Journal(path), env

    @contextmanager
    def running(
        self, journal: Journal, env: dict[str, str], route: str, workers: int = 0
    ) -> Iterator[tuple[Server, list[Service], httpx.Client]]:
        """An empty Redis, `workers` Celery workers, the app under uvicorn and an HTTP client,
        warmed up by one job on `route` (connections made, code loaded)."""
        with redis.Redis.from_url(self.redis_url) as client:
            client.flushdb()  # nothing left over from the last run
        with ExitStack() as stack:
            started = time.perf_counter()
            names = [f"worker-{chr(ord('a') + n)}" for n in range(workers)]
            pool = stack.enter_context(celery_workers(names, env, include=[JOBS_MODULE])) if workers else []
            if workers:
                self.worker_starts.append(round(time.perf_counter() - started, 2))
            server = stack.enter_context(serve(APP, env=env, cwd=ROOT))
            limits = httpx.Limits(max_connections=self.settings.clients)
            http = stack.enter_context(
                httpx.Client(base_url=server.url, timeout=30, trust_env=False, limits=limits)
            )
            timed_post(http, route, {"job_id": "warm-up", "seconds": 0})
            if not journal.wait_for("warm-up", "finished", timeout=15):
                raise RuntimeError(f"the warm-up job on {route} did not finish:\n{server.output}")
            yield server, pool, http

    # ------------------------------------------------------------------ 1. a crash

    def crash(self) -> dict[str, Any]:
        """SIGKILL the server one second into a five-second job, each way."""
        return {"background_task": self._crash_background(), "celery": self._crash_celery()}

    def _crash_background(self) -> dict[str, Any]:
        s = self.settings
        journal, env = self.env("crash-background")
        with self.running(journal, env, BACKGROUND) as (server, _, http):
            wait = timed_post(http, BACKGROUND, {"job_id": "crash", "seconds": s.job_seconds})
            [started] = journal.wait_for("crash", "started", timeout=10)
            sleep_until(started["t"] + s.kill_after)
            server.process.kill()
            server.process.wait()
            killed = time.time()
        sleep_until(started["t"] + s.job_seconds + 2.0)  # long past the job's end, had it lived
        return {
            "client_wait_ms": ms(wait),
            "killed_after_s": round(killed - started["t"], 2),
            "watched_for_s": round(time.time() - started["t"], 2),
            "attempts": len(journal.events("crash", "started")),
            "completed": bool(journal.events("crash", "finished")),
        }

    def _crash_celery(self) -> dict[str, Any]:
        s = self.settings
        journal, env = self.env("crash-celery")
        with self.running(journal, env, QUEUED, workers=2) as (server, workers, http):
            wait = timed_post(http, QUEUED, {"job_id": "crash", "seconds": s.job_seconds})
            [first] = journal.wait_for("crash", "started", timeout=10)
            [victim] = [worker for worker in workers if first["where"].startswith(f"{worker.name}@")]
            sleep_until(first["t"] + s.kill_after)
            server.process.kill()
            victim.kill()
            killed = time.time()
            finished = journal.wait_for(
                "crash", "finished", timeout=s.visibility_timeout + s.job_seconds + 30
            )
            starts = journal.events("crash", "started")
        result: dict[str, Any] = {
            "client_wait_ms": ms(wait),
            "killed_after_s": round(killed - first["t"], 2),
            "killed_worker": first["where"],
            "visibility_timeout_s": s.visibility_timeout,
            "attempts": len(starts),
            "completed": bool(finished),
        }
        if finished:
            result["finished_on"] = finished[0]["where"]
            result["restarted_after_s"] = round(starts[-1]["t"] - first["t"], 2)
            result["finished_after_s"] = round(finished[0]["t"] - first["t"], 2)
        return result

    # ------------------------------------------------------------------ 2. a deploy

    def deploy(self) -> dict[str, Any]:
        """SIGTERM one second into a five-second job: the server, then a Celery worker."""
        s = self.settings
        journal, env = self.env("deploy-background", QUEUE_DRAIN_TIMEOUT=str(s.drain_timeout))
        with self.running(journal, env, BACKGROUND) as (server, _, http):
            timed_post(http, BACKGROUND, {"job_id": "deploy", "seconds": s.job_seconds})
            [started] = journal.wait_for("deploy", "started", timeout=10)
            background = self._terminate(server.process, started["t"])
        background["drain_timeout_s"] = s.drain_timeout
        background["completed"] = bool(journal.events("deploy", "finished"))
        background["logged_lost"] = "lost" in server.output

        journal, env = self.env("deploy-celery")
        with self.running(journal, env, QUEUED, workers=1) as (_, [worker], http):
            timed_post(http, QUEUED, {"job_id": "deploy", "seconds": s.job_seconds})
            [started] = journal.wait_for("deploy", "started", timeout=10)
            celery = self._terminate(worker.process, started["t"])
            finished = journal.events("deploy", "finished")
            celery["completed"] = bool(finished)
            if finished:
                celery["done_after_s"] = round(
                    finished[0]["t"] - started["t"] - celery["terminated_after_s"], 2
                )
        return {"background_task": background, "celery": celery}

    def _terminate(self, process: ServerProcess, job_started: float) -> dict[str, Any]:
        """SIGTERM `process` `kill_after` seconds into the job; wait for it to exit."""
        sleep_until(job_started + self.settings.kill_after)
        process.terminate()
        terminated = time.time()
        process.wait(timeout=self.settings.job_seconds + 30)
        return {
            "terminated_after_s": round(terminated - job_started, 2),
            "exited_after_s": round(time.time() - terminated, 2),
        }

    # ------------------------------------------------------------------ 3. a flaky job

    def flaky(self) -> dict[str, Any]:
        """A job that fails twice, then succeeds."""
        s = self.settings
        job = {"seconds": s.flaky_seconds, "fail_times": s.fail_times}
        journal, env = self.env("flaky-background")
        with self.running(journal, env, BACKGROUND) as (_, _, http):
            before = http.get("/task-stats").json()
            wait = timed_post(http, BACKGROUND, {"job_id": "plain", **job})
            [failed] = journal.wait_for("plain", "failed", timeout=10)
            # would another attempt come? watch for as long as the retried versions take
            sleep_until(failed["t"] + s.fail_times * (s.background_retry_delay + s.flaky_seconds) + 1.0)
            after = http.get("/task-stats").json()
            plain = outcome(journal, "plain", wait, timeout=0)
            plain |= {
                "watched_for_s": round(time.time() - failed["t"], 2),
                "task_stats": delta(before, after),
            }

            retries = {"retries": s.fail_times, "retry_delay": s.background_retry_delay}
            wait = timed_post(http, BACKGROUND, {"job_id": "retried", **job, **retries})
            retried = outcome(journal, "retried", wait, timeout=30)
            retried["task_stats"] = delta(after, http.get("/task-stats").json())

        journal, env = self.env("flaky-celery")
        with self.running(journal, env, QUEUED, workers=1) as (_, _, http):
            sent = time.time()
            wait = timed_post(http, QUEUED, {"job_id": "celery", **job})
            states = watch_states(http, "celery", timeout=30)
            celery = outcome(journal, "celery", wait, timeout=5)
            celery["states"] = [state for state, _ in states]
            celery["outcome_known_after_s"] = round(states[-1][1] - sent, 2)
        return {"background_task": plain, "background_task_with_retries": retried, "celery": celery}

    # ------------------------------------------------------------------ 4. throughput

    def throughput(self) -> dict[str, Any]:
        """`jobs` short jobs: as background tasks, then on Celery with each worker count."""
        results = {"background_task": self._many("many-background", BACKGROUND, 0)}
        for count in self.settings.worker_counts:
            results[f"celery_{count}_workers"] = self._many(f"many-celery-{count}", QUEUED, count)
        return results

    def _many(self, name: str, route: str, workers: int) -> dict[str, Any]:
        s = self.settings
        journal, env = self.env(name)
        ids = [f"{name}-{n}" for n in range(s.jobs)]
        with self.running(journal, env, route, workers) as (_, _, http):
            started = time.time()
            with ThreadPoolExecutor(s.clients) as pool:
                body = {"seconds": s.short_job_seconds}
                waits = list(
                    pool.map(lambda job_id: timed_post(http, route, {"job_id": job_id, **body}), ids)
                )
            sent = time.time()
            deadline = time.monotonic() + 30 + s.jobs * s.short_job_seconds * 5
            while len(finished_jobs(journal, name)) < s.jobs and time.monotonic() < deadline:
                time.sleep(0.05)
            finished = [event for event in journal.events(event="finished") if event["job"].startswith(name)]
        done = {event["job"] for event in finished}
        return {
            "jobs": s.jobs,
            "job_seconds": s.short_job_seconds,
            "workers": workers,
            "completed": len(done),
            "ran_twice": len(finished) - len(done),
            "send_s": round(sent - started, 2),
            "wall_s": round(max(event["t"] for event in finished) - started, 2) if finished else None,
            "client_wait": summary_ms(waits),
        }


def timed_post(http: httpx.Client, route: str, body: dict[str, Any]) -> float:
    """POST `body`; return how long the client waited for the whole response (which must be a 202)."""
    started = time.perf_counter()
    response = http.post(route, json=body)
    waited = time.perf_counter() - started
    if response.status_code != 202:
        raise RuntimeError(f"POST {route} answered {response.status_code}: {response.text}")
    return waited


def watch_states(http: httpx.Client, job_id: str, timeout: float) -> list[tuple[str, float]]:
    """Poll a Celery job's state every 20 ms until it is done; return each new state and when it was seen."""
    seen: list[tuple[str, float]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = http.get(f"{QUEUED}/{job_id}").json()["state"]
        if not seen or seen[-1][0] != state:
            seen.append((state, time.time()))
        if state in ("SUCCESS", "FAILURE"):
            break
        time.sleep(0.02)
    return seen


def outcome(journal: Journal, job_id: str, wait: float, timeout: float) -> dict[str, Any]:
    """Whether a job finished (waiting up to `timeout` s), after how many attempts and how long."""
    finished = journal.wait_for(job_id, "finished", timeout=timeout)
    starts = journal.events(job_id, "started")
    result: dict[str, Any] = {
        "client_wait_ms": ms(wait),
        "attempts": len(starts),
        "completed": bool(finished),
    }
    if finished:
        result["done_after_s"] = round(finished[0]["t"] - starts[0]["t"], 2)
    return result


def finished_jobs(journal: Journal, prefix: str) -> set[str]:
    return {event["job"] for event in journal.events(event="finished") if event["job"].startswith(prefix)}


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """How much each `task_stats()` counter moved."""
    return {key: after[key] - before.get(key, 0) for key in after if key != "running"}


def sleep_until(moment: float) -> None:
    """Sleep until `time.time()` reaches `moment` (not at all if it has)."""
    time.sleep(max(0.0, moment - time.time()))


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """The median and the 95th percentile of durations, in milliseconds."""
    if len(seconds) < 2:
        return {"median_ms": ms(seconds[0]), "p95_ms": ms(seconds[0])}
    return {
        "median_ms": ms(statistics.median(seconds)),
        "p95_ms": ms(statistics.quantiles(seconds, n=20)[-1]),
    }


# ---------------------------------------------------------------------- the whole run


def environment() -> dict[str, Any]:
    """Where the numbers come from."""
    version = subprocess.run([redis_binary(), "--version"], capture_output=True, text=True, check=True).stdout
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        "celery": metadata.version("celery"),
        "redis_server": next((part[2:] for part in version.split() if part.startswith("v=")), "?"),
        "uvicorn": metadata.version("uvicorn"),
        "load_average_before": round(os.getloadavg()[0], 2),
    }


def run(settings: Settings = Settings()) -> dict[str, Any]:
    """Start Redis, run every measurement, stop Redis; return the results."""
    with tempfile.TemporaryDirectory(prefix="queue-comparison-") as workdir:
        started = time.perf_counter()
        with redis_server() as redis_url:
            redis_ready = round(time.perf_counter() - started, 3)
            comparison = Comparison(redis_url, Path(workdir), settings)
            results: dict[str, Any] = {
                "command": COMMAND,
                "environment": environment(),
                "settings": dataclasses.asdict(settings),
                "crash": comparison.crash(),
                "deploy": comparison.deploy(),
                "flaky": comparison.flaky(),
                "throughput": comparison.throughput(),
            }
            results["setup"] = {"redis_ready_s": redis_ready, "workers_ready_s": comparison.worker_starts}
            results["environment"]["load_average_after"] = round(os.getloadavg()[0], 2)
    return results


# ---------------------------------------------------------------------- the results, written

ROWS = (
    ("Setup", "nothing: part of Ravyn", "a broker (Redis, RabbitMQ) and worker processes"),
    ("How long a job may take", "seconds", "minutes to hours"),
    (
        "Reliability",
        "best effort: lost if the process stops",
        "the broker keeps the job until a worker has done it",
    ),
    (
        "Retries",
        "optional, in memory: `configure(retries=...)`; gone if the process stops",
        "built in, with back-off, kept by the broker",
    ),
    (
        "Monitoring",
        "your logs (Ravyn logs every failure) and `app.task_stats()` counters",
        "dashboards and job states (Flower, rq-dashboard)",
    ),
    ("Scaling", "the web server's own processes", "as many workers as you start, on any machine"),
    (
        "What the client waits",
        "the response; the task runs after it",
        "the response; the job waits for a worker",
    ),
    ("Best for", "quick side effects", "critical or long jobs"),
)
"""The table's rows: what each side promises. `measured_cells` adds what the script saw."""


def seconds(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f} s"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def attempts(run: dict[str, Any], note: str = "") -> str:
    if not run["completed"]:
        return f"**gave up** after {plural(run['attempts'], 'attempt')}"
    return f"**done** on attempt {run['attempts']} ({seconds(run.get('done_after_s'))} after the first{note})"


def measured_cells(results: dict[str, Any]) -> dict[str, str]:
    """One measured cell per row of `ROWS`: short, the details being in `results.json`."""
    setup, settings, many = results["setup"], results["settings"], results["throughput"]
    job = f"{settings['kill_after']:g} s into a {settings['job_seconds']:g} s job"
    crashed, killed = results["crash"]["background_task"], results["crash"]["celery"]
    drained, warm = results["deploy"]["background_task"], results["deploy"]["celery"]
    plain, retried = results["flaky"]["background_task"], results["flaky"]["background_task_with_retries"]
    flaky = results["flaky"]["celery"]
    tasks = many["background_task"]
    celery_runs = [many[key] for key in many if key.startswith("celery_")]
    ready = setup["workers_ready_s"]

    lost = "**cut off** and logged as lost" if drained["logged_lost"] else "**cut off**"
    duration = (
        f"a deploy (SIGTERM) {job}: the task was {lost} when the drain ended "
        f"(`task_drain_timeout={drained['drain_timeout_s']:g}` here, 30 by default); "
    )
    if warm["completed"]:
        duration += f"the Celery worker **waited**: job done {seconds(warm['done_after_s'])} after the signal"
    else:
        duration += "the Celery job **did not finish** either"

    reliability = f"server SIGKILLed {job}: the task was **lost**; "
    if killed["completed"] and killed["finished_on"] != killed["killed_worker"]:
        reliability += (
            f"the Celery job, its worker killed too, was **run again** by the other worker "
            f"{seconds(killed['restarted_after_s'])} after its start "
            f"(visibility timeout {killed['visibility_timeout_s']:g} s), "
            f"and done at {seconds(killed['finished_after_s'])}"
        )
    else:
        reliability += "the Celery job **did not finish** either"

    fails = {1: "once", 2: "twice"}.get(settings["fail_times"], plural(settings["fail_times"], "time"))
    retries = (
        f"a job failing {fails}: the task {attempts(plain)}; with `retries={settings['fail_times']}`, "
        f"{attempts(retried, ', in memory')}; Celery {attempts(flaky, ', back-off 1 s then 2 s')}"
    )
    stats = ", ".join(f"{key} {value}" for key, value in plain["task_stats"].items() if value)
    monitoring = (
        f"`app.task_stats()` after the failing task: {stats}; "
        f"the Celery job's states, polled: {' → '.join(flaky['states'])}"
    )

    scaling = (
        f"{settings['jobs']:,} jobs of {settings['short_job_seconds'] * 1000:g} ms, all done after: "
        f"{seconds(tasks['wall_s'])} as tasks (one server process); on Celery "
        + ", ".join(
            f"{seconds(run['wall_s'])} with {plural(run['workers'], 'worker')}" for run in celery_runs
        )
    )

    medians = [("tasks", tasks), *((plural(run["workers"], "worker"), run) for run in celery_runs)]
    client = (
        f"the 202 for the long job: {crashed['client_wait_ms']:.0f} ms (task), "
        f"{killed['client_wait_ms']:.0f} ms (Celery); median over the {settings['jobs']:,} requests "
        f"({settings['clients']} at a time): "
        + ", ".join(f"{run['client_wait']['median_ms']:.0f} ms ({name})" for name, run in medians)
        + ". The outcome: a task's is only in the logs; the flaky Celery job's state read SUCCESS "
        f"{seconds(flaky['outcome_known_after_s'])} after the POST"
    )
    return {
        "Setup": (
            f"Redis ready in {setup['redis_ready_s'] * 1000:.0f} ms; "
            f"`celery worker` processes in {min(ready):.1f} to {max(ready):.1f} s"
        ),
        "How long a job may take": duration,
        "Reliability": reliability,
        "Retries": retries,
        "Monitoring": monitoring,
        "Scaling": scaling,
        "What the client waits": client,
        "Best for": "—",
    }


def render_markdown(results: dict[str, Any]) -> str:
    """The comparison table with its measured column, and where the numbers come from."""
    cells = measured_cells(results)
    env = results["environment"]
    lines = [
        "| What | Background tasks | Task queues (Celery, RQ) | Measured: a Ravyn task, a Celery job |",
        "|---|---|---|---|",
        *(f"| {row} | {task} | {queue} | {cells[row]} |" for row, task, queue in ROWS),
        "",
        f"Measured on {env['date']} by `{results['command']}`, every process on 127.0.0.1: "
        f"Python {env['python']}, Celery {env['celery']}, Redis {env['redis_server']}, "
        f"uvicorn {env['uvicorn']}, {env['platform']}, {env['cpus']} CPUs "
        f"(one-minute load average {env['load_average_before']:g} before the run, "
        f"{env['load_average_after']:g} after it). "
        "The raw numbers: `docs_src/queue_comparison/results.json`.",
    ]
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], directory: Path = RESULTS_DIR) -> tuple[Path, Path]:
    """Write `results.json` and `results.md` into `directory`."""
    json_path, markdown_path = directory / "results.json", directory / "results.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    markdown_path.write_text(render_markdown(results), encoding="utf-8")
    return json_path, markdown_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description="Background tasks against Celery, measured.")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="where results.json and .md go")
    parser.add_argument("--jobs", type=int, default=Settings.jobs, help="jobs in the throughput run")
    options = parser.parse_args(argv)
    started = time.perf_counter()
    results = run(Settings(jobs=options.jobs))
    paths = write(results, options.output)
    print(render_markdown(results))
    elapsed = time.perf_counter() - started
    print(f"Wrote {' and '.join(str(path) for path in paths)} in {elapsed:.0f} s", file=sys.stderr)
    return 0
