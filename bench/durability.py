"""`python -m bench.durability [--quick]`: kill each durability tier under load, count what it lost.

For each tier, a few client threads send `POST /work` (a task of a random
20-300 ms that appends its id to a sink file, `bench/apps/durability_sink.py`)
while the harness SIGKILLs the server (and, for Celery, the worker) at a
random moment after each start, many times, then starts it once more, lets it
finish, stops it with SIGTERM, and counts per task id the client got a 2xx
for: done exactly once, re-run, lost (`bench.durability_count`). Tiers:

* `in-process`: plain tasks; the app has a journal, for its crash report;
* `journal`: `durable=True`;
* `celery-default` and `celery-acks-late`: `.delay()` to Redis (a
  redis-server on a free port of 127.0.0.1, started and stopped here), a
  Celery worker (threads pool) killed with the server.

Servers bind 127.0.0.1 on free ports and are always stopped; every wait is
bounded. The table is printed and the results written to
`docs/assets/durability.json` (`--out`; quick mode: a temporary folder).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import durability_report, machine
from bench.contenders import APPS_DIR, BENCH_DIR, BenchError
from bench.durability_count import read_crash_reports, read_sink, tally, task_id
from bench.server import free_port, request

ROOT = BENCH_DIR.parent
TIERS = ("in-process", "journal", "celery-default", "celery-acks-late")
LABELS = {
    "in-process": "In-process (plain tasks)",
    "journal": "Journal (durable=True)",
    "celery-default": "Celery + Redis, defaults",
    "celery-acks-late": "Celery + Redis, acks_late",
}
SETTINGS = {
    "in-process": "`tasks.add_task(work, ...)`, an app with `task_journal=...` (for the crash report only)",
    "journal": "`tasks.add_task(work, ..., durable=True)`, `task_journal=...` (defaults: lease 15 s, "
    "max_attempts 5, WAL, synchronous=FULL)",
    "celery-default": "`work_job.delay(...)` in the handler; Celery's defaults (acknowledged when the "
    "worker takes the message), `--pool threads --concurrency 32` "
    "(enough for the clients' rate, so no backlog builds up); Redis `visibility_timeout` 5 s, "
    "unacknowledged messages swept back every poll (see `bench/apps/durability_celery.py`)",
    "celery-acks-late": "the same with `task_acks_late=True` and `task_reject_on_worker_lost=True`",
}
TASK_MS = (20, 300)
KILL_AFTER_S = (0.3, 1.5)
READY_TIMEOUT = 20.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.durability", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="3 kills per tier, results in a temporary folder"
    )
    parser.add_argument("--kills", type=int, help="SIGKILLs per tier (full 30, quick 3)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads (%(default)s)")
    parser.add_argument("--tiers", default=",".join(TIERS), help="comma-separated, from %(default)s")
    parser.add_argument("--seed", type=int, help="the random moments' seed (default: from the clock)")
    parser.add_argument("--out", type=Path, help="folder for durability.json (full: docs/assets)")
    args = parser.parse_args(argv)
    args.command = " ".join(["python -m bench.durability", *(sys.argv[1:] if argv is None else argv)])
    args.kills = args.kills if args.kills is not None else (3 if args.quick else 30)
    if args.kills < 1:
        parser.error("--kills takes a count of 1 or more")
    if args.clients < 1:
        parser.error("--clients takes a count of 1 or more")
    args.tiers = [tier.strip() for tier in args.tiers.split(",") if tier.strip()]
    unknown = [tier for tier in args.tiers if tier not in TIERS]
    if unknown or not args.tiers:
        parser.error(f"--tiers takes {', '.join(TIERS)} (not {', '.join(unknown) or 'nothing'})")
    if args.out is None:
        args.out = Path(tempfile.mkdtemp(prefix="durability-")) if args.quick else ROOT / "docs" / "assets"
    args.seed = args.seed if args.seed is not None else time.time_ns() % 2**32
    return args


def say(message: str) -> None:
    print(message, flush=True)


@dataclass
class Clients:
    """Client threads that keep sending tasks to `port`, through kills; they record the 2xx ids."""

    port: int
    count: int
    seed: int
    acknowledged: set[str] = field(default_factory=set)
    sent: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for client in range(self.count):
            thread = threading.Thread(target=self._send, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def _send(self, client: int) -> None:
        rng = random.Random(self.seed * 1000 + client)
        sequence = 0
        while not self._stop.is_set():
            sequence += 1
            task = task_id(client, sequence)
            body = json.dumps({"task_id": task, "millis": rng.randint(*TASK_MS)}).encode()
            with self._lock:
                self.sent += 1
            try:
                status, _ = request(self.port, "POST", "/work", body)
            except (OSError, http.client.HTTPException):
                # the server is down (killed, not up yet), or was killed mid-answer (an
                # IncompleteRead): not acknowledged; try again shortly
                self._stop.wait(0.05)
                continue
            if 200 <= status < 300:
                with self._lock:
                    self.acknowledged.add(task)
            # a short pause, so that tasks are in flight at every moment without flooding the server
            self._stop.wait(rng.uniform(0.005, 0.03))


def _stop_process(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, grace: float = 15.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def redis_server(folder: Path) -> Iterator[int]:
    """A redis-server on a free port of 127.0.0.1, no persistence to disk; stopped on exit."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise BenchError(
            "redis-server is not installed: install it (apt-get install redis-server) or leave "
            "out the celery tiers (--tiers in-process,journal)"
        )
    port = free_port()
    log = (folder / "redis.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(
                    f"redis-server did not start on 127.0.0.1:{port}: see {folder / 'redis.log'}"
                )
            time.sleep(0.1)
        yield port
    finally:
        _stop_process(process)
        log.close()


@dataclass
class Tier:
    """One tier's processes: the web server (and the Celery worker), started and killed in turn."""

    name: str
    folder: Path
    port: int
    broker: str | None
    starts: int = 0
    logs: list[Path] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DURABILITY_TIER": "celery" if self.name.startswith("celery") else self.name,
            "DURABILITY_SINK": str(self.folder / "sink.txt"),
            "DURABILITY_JOURNAL": str(self.folder / "tasks.sqlite3"),
            "DURABILITY_ACKS_LATE": "1" if self.name == "celery-acks-late" else "0",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(APPS_DIR)]),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if self.broker:
            env["DURABILITY_BROKER"] = self.broker
        return env

    def _spawn(self, what: str, argv: list[str]) -> None:
        log_path = self.folder / f"{what}-{self.starts}.log"
        self.logs.append(log_path)
        with log_path.open("wb") as log:
            self.processes.append(
                subprocess.Popen(argv, env=self.env(), cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)
            )

    def start(self) -> None:
        """Start the server (and the worker), and wait until the server answers."""
        self.starts += 1
        self._spawn(
            "server",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "durability_app:app",
                "--app-dir",
                str(APPS_DIR),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
        )
        if self.broker:
            self._spawn(
                "worker",
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "durability_celery",
                    "worker",
                    "--pool",
                    "threads",
                    "--concurrency",
                    "32",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel",
                    "warning",
                ],
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            with suppress(OSError):
                if request(self.port, "GET", "/health")[0] == 200:
                    return
            if any(p.poll() is not None for p in self.processes) or time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"the {self.name} server did not start: see {self.logs[-1]}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL every process of this tier at once, and reap them."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
        for process in self.processes:
            process.wait(timeout=10)
        self.processes.clear()

    def stop(self) -> None:
        """Stop with SIGTERM (the server drains), killing what does not stop in time."""
        for process in self.processes:
            _stop_process(process)
        self.processes.clear()


def broker_backlog(broker: str | None) -> int:
    """Messages still on the broker: queued, or held unacknowledged by a worker (0 without one)."""
    if broker is None:
        return 0
    import redis  # Celery's Redis transport needs it: it is there whenever a Celery tier runs

    client = redis.Redis.from_url(broker, socket_timeout=5)
    try:
        return int(client.llen("celery")) + int(client.hlen("unacked"))
    finally:
        client.close()


def _wait_for_the_end(tier: Tier, clients: Clients, quiet: float, limit: float) -> None:
    """Until every acknowledged task ran, or the broker holds nothing and the sink has not grown
    for `quiet` s; bounded by `limit` (what is then still on the broker is reported, not hidden)."""
    sink = tier.folder / "sink.txt"
    deadline = time.monotonic() + limit
    last_size, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        runs = read_sink(sink)
        if all(runs[task] for task in clients.acknowledged):
            return
        size = sink.stat().st_size if sink.exists() else 0
        if size != last_size:
            last_size, last_change = size, time.monotonic()
        elif time.monotonic() - last_change > quiet and broker_backlog(tier.broker) == 0:
            return
        time.sleep(0.2)


def run_tier(name: str, args: argparse.Namespace, folder: Path, broker: str | None) -> dict[str, Any]:
    """Kill one tier `args.kills` times under load, then count."""
    rng = random.Random(args.seed + TIERS.index(name))
    tier = Tier(name, folder, free_port(), broker)
    clients = Clients(tier.port, args.clients, args.seed + 17 * TIERS.index(name))
    began = time.monotonic()
    try:
        clients.start()
        for kill in range(args.kills):
            tier.start()
            time.sleep(rng.uniform(*KILL_AFTER_S))
            tier.kill()
            say(f"    {name}: kill {kill + 1}/{args.kills}, {len(clients.acknowledged)} tasks answered 2xx")
        tier.start()
        time.sleep(0.5)  # a last stretch of load on the last start, then no more requests
        clients.stop()
        # Celery gives a message held by a killed worker back after its visibility timeout
        quiet = 20.0 if broker else 3.0
        _wait_for_the_end(tier, clients, quiet=quiet, limit=180.0 if broker else 60.0)
        left_on_broker = broker_backlog(broker)
    finally:
        clients.stop()
        tier.stop()
    report = read_crash_reports(path.read_text("utf-8", "replace") for path in tier.logs if path.exists())
    counts = tally(clients.acknowledged, read_sink(folder / "sink.txt"), report)
    return {
        "tier": name,
        "label": LABELS[name],
        "settings": SETTINGS[name],
        "kills": args.kills,
        "requests_sent": clients.sent,
        "seconds": round(time.monotonic() - began, 1),
        "left_on_broker": left_on_broker,
        **counts.as_dict(),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "command": args.command,
        "machine": machine.describe(),
        "seed": args.seed,
        "clients": args.clients,
        "task_ms": list(TASK_MS),
        "kill_after_s": list(KILL_AFTER_S),
        "tiers": [],
    }
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="durability-run-")))
        celery = any(name.startswith("celery") for name in args.tiers)
        broker_port = stack.enter_context(redis_server(work)) if celery else None
        for index, name in enumerate(args.tiers):
            say(f"==> {LABELS[name]}: {args.kills} SIGKILLs under load")
            folder = work / name
            folder.mkdir()
            # each Celery tier on a Redis database of its own, so no message crosses tiers
            broker = f"redis://127.0.0.1:{broker_port}/{index}" if name.startswith("celery") else None
            results["tiers"].append(run_tier(name, args, folder, broker))
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        results = run(args)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    say("")
    say(durability_report.table(results))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "durability.json"
    path.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    say(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
