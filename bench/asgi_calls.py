"""Drive one contender's app in-process, with no server and no network: the
framework's own cost per request, and a profile of where it goes.

    python bench/asgi_calls.py ravyn_app A --requests 20000
    python bench/asgi_calls.py ravyn_app A --profile            # pyinstrument
    bench/.venvs/pypi-ravyn/bin/python bench/asgi_calls.py pypi_ravyn_app A

It prints the process CPU time per request (microseconds), which a busy
neighbour on the machine disturbs far less than requests per second. Only the
standard library is needed (pyinstrument for --profile), so it runs in any
contender's venv. Each call is a whole ASGI call: routing, body, handler,
response, and the background tasks, which run inside the call.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

APPS_DIR = Path(__file__).resolve().parent / "apps"
BODY = b'{"name": "ada", "email": "ada@example.com"}'


def make_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/register",
        "raw_path": b"/register",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", b"bench"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(BODY)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app: Any) -> int:
    sent: list[Any] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": BODY, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(make_scope(), receive, send)
    return int(sent[0]["status"])


async def drive(app: Any, requests: int) -> None:
    for _ in range(requests):
        await call(app)


async def measure(app: Any, requests: int, repeats: int) -> list[float]:
    status = await call(app)
    if not 200 <= status < 300:
        raise SystemExit(f"POST /register answered {status}")
    await drive(app, min(2000, requests))  # warm-up
    per_request = []
    for _ in range(repeats):
        started = time.process_time()
        await drive(app, requests)
        per_request.append((time.process_time() - started) / requests * 1e6)
    return per_request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", help="an app module of bench/apps, e.g. ravyn_app")
    parser.add_argument("scenario", choices=["A", "B", "C"])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile instead")
    parser.add_argument("--all", action="store_true", help="with --profile: show library frames too")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    os.environ["BENCH_SCENARIO"] = args.scenario
    sys.path.insert(0, str(APPS_DIR))
    app = importlib.import_module(args.module).app
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    if args.profile:
        from pyinstrument import Profiler

        asyncio.run(drive(app, 2000))
        profiler = Profiler(interval=0.0002, async_mode="disabled")
        profiler.start()
        asyncio.run(drive(app, args.requests))
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=args.all))
        return
    figures = asyncio.run(measure(app, args.requests, args.repeats))
    best = min(figures)
    if args.json:
        print(json.dumps({"module": args.module, "scenario": args.scenario, "us_per_request": figures}))
    else:
        print(
            f"{args.module} {args.scenario}: {best:.1f} us CPU per request (best of {args.repeats}; "
            f"median {statistics.median(figures):.1f}, {args.requests} requests each)"
        )


if __name__ == "__main__":
    main()
