"""How long other clients wait while an attacker sends large invalid bodies.

    python -m bench.validation_attack [--seconds 4] [--attackers 2] [--checkout DIR]

Serves `bench/apps/validation_app.py` under uvicorn on 127.0.0.1, then, for
each kind of attack (a JSON list of invalid items, a list field of invalid
values, the same from a form and a query string), runs `--attackers`
processes that send it again and again while a probe sends `GET /ping` every
20 ms. Prints one table: the request and answer sizes, how many attack
requests were answered, the server's CPU time per attack request (how long
each holds the event loop, at most; on a busy machine the probe's figures
grow, this one does not), and the probe's latency (median, 99th percentile,
worst). `--checkout` measures the ravyn of another checkout (say the main
branch) for a before/after comparison.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

APPS_DIR = Path(__file__).parent / "apps"
PROBE_INTERVAL = 0.02


@dataclass(frozen=True)
class Attack:
    """One kind of hostile request."""

    name: str
    method: str
    path: str
    body: bytes
    content_type: str | None
    valid: bool = False
    """A body the handler takes (a 2xx): what decoding and validating it costs, with no error."""


LIMIT = 1024 * 1024  # the default max_body_size


def near_limit(make: Callable[[int], Any]) -> bytes:
    """The JSON of `make(n)` for the largest `n` that stays under the default body limit."""
    low, high = 1, 1
    while len(json.dumps(make(high)).encode()) <= LIMIT:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if len(json.dumps(make(middle)).encode()) <= LIMIT else (low, middle)
    return json.dumps(make(low)).encode()


def attacks(*, near: bool = True) -> list[Attack]:
    """The attacks measured: a few hundred kilobytes of invalid JSON, 1000 invalid form or query
    values, and (`near`) bodies just under the 1 MB default limit in the shapes that cost the most
    per byte: short lists of invalid values (errors), and short lists of numbers (decoding)."""
    invalid = [{"name": 1, "price": "x", "qty": "y"}] * 10_000
    items = json.dumps(invalid).encode()
    # valid items first: the errors to name are found only after them
    valid_first = json.dumps([{"name": "pen", "price": 1.5, "qty": 2}] * 5_000 + invalid[:5_000]).encode()
    tags = json.dumps({"tags": ["x"] * 60_000}).encode()
    form = urlencode({"tags": ["x"] * 1000}, doseq=True).encode()
    query = urlencode({"tag": ["x"] * 1000}, doseq=True)
    found = [
        Attack("JSON list of invalid items", "POST", "/items", items, "application/json"),
        Attack("JSON list, valid items first", "POST", "/items", valid_first, "application/json"),
        Attack("JSON list field, invalid values", "POST", "/tags", tags, "application/json"),
        Attack("form, 1000 invalid values", "POST", "/tags", form, "application/x-www-form-urlencoded"),
        Attack("query, 1000 invalid values", "GET", f"/tags?{query}", b"", None),
    ]
    if near:
        rows = near_limit(lambda n: {"tags": [["x"]] * n})
        grid = near_limit(lambda n: {"customer": "a", "grid": [["x"] * 10] * n})
        numbers = near_limit(lambda n: {"a": [[1, 2, 3]] * n})
        found += [
            Attack("1 MB: list field of short lists", "POST", "/tags", rows, "application/json"),
            Attack("1 MB: model, rows of invalid", "POST", "/orders", grid, "application/json"),
            Attack(
                "1 MB: valid short lists of numbers", "POST", "/rows", numbers, "application/json", valid=True
            ),
        ]
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _attack(
    port: int, attack: Attack, until: float, answered: multiprocessing.Queue[tuple[int, int]]
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"content-type": attack.content_type} if attack.content_type else {}
    count, size = 0, 0
    while time.monotonic() < until:
        connection.request(attack.method, attack.path, body=attack.body or None, headers=headers)
        response = connection.getresponse()
        size = len(response.read())
        count += 1
    connection.close()
    answered.put((count, size))


def _probe(port: int, seconds: float) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies: list[float] = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        started = time.perf_counter()
        connection.request("GET", "/ping")
        connection.getresponse().read()
        elapsed = time.perf_counter() - started
        latencies.append(elapsed * 1000)
        time.sleep(max(0.0, PROBE_INTERVAL - elapsed))
    connection.close()
    return latencies


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("uvicorn exited before it was ready")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("uvicorn did not start listening within 20 s")


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process `pid` has used so far (Linux only; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(attack: Attack | None, port: int, seconds: float, attackers: int, pid: int) -> dict[str, float]:
    """The probe's latencies while `attackers` processes send `attack` (None: no attack),
    and the server's CPU time per attack request (a figure other load on the machine does not change)."""
    context = multiprocessing.get_context("spawn")
    answered: multiprocessing.Queue[tuple[int, int]] = context.Queue()
    workers = []
    cpu_before = cpu_seconds(pid)
    if attack is not None:
        until = time.monotonic() + seconds + 0.5
        workers = [
            context.Process(target=_attack, args=(port, attack, until, answered)) for _ in range(attackers)
        ]
        for worker in workers:
            worker.start()
        time.sleep(0.5)  # the attack under way before the probe starts
    latencies = _probe(port, seconds)
    results = [answered.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join()
    cpu = cpu_seconds(pid) - cpu_before
    count = sum(done for done, _ in results)
    ordered = sorted(latencies)
    return {
        "request_kb": (len(attack.body) + len(attack.path)) / 1024 if attack else 0.0,
        "answer_kb": max((size for _, size in results), default=0) / 1024,
        "attacks": count,
        "cpu_ms": cpu / count * 1000 if count else 0.0,
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max": ordered[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="how long each attack lasts")
    parser.add_argument("--attackers", type=int, default=2, help="attacking processes at once")
    parser.add_argument(
        "--checkout", type=Path, default=Path(__file__).parent.parent, help="whose ravyn to serve"
    )
    args = parser.parse_args()
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(args.checkout.resolve())}
    command = [sys.executable, "-m", "uvicorn", "validation_app:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    with tempfile.TemporaryFile() as log:
        # cwd is bench/apps (first on sys.path): `import ravyn` finds the checkout's, never one next to it
        server = subprocess.Popen(command, cwd=APPS_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_listening(port, server)
            rows = [("no attack", measure(None, port, args.seconds, args.attackers, server.pid))]
            rows += [
                (attack.name, measure(attack, port, args.seconds, args.attackers, server.pid))
                for attack in attacks()
            ]
        finally:
            server.terminate()
            server.wait(timeout=10)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"ravyn from {args.checkout.resolve()}, {args.attackers} attackers, {args.seconds:g} s each,"
        f" load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'attack':34} {'request KB':>10} {'400 KB':>8} {'attacks':>8} {'CPU ms/attack':>13}"
        f" {'probe p50 ms':>12} {'p99 ms':>8} {'max ms':>8}"
    )
    for name, row in rows:
        print(
            f"{name:34} {row['request_kb']:10.0f} {row['answer_kb']:8.1f} {row['attacks']:8.0f}"
            f" {row['cpu_ms']:13.1f}"
            f" {row['p50']:12.1f} {row['p99']:8.1f} {row['max']:8.1f}"
        )


if __name__ == "__main__":
    main()
