"""Drive one contender's app in-process, with no server and no network: the
framework's own cost per request, and a profile of where it goes.

    python bench/asgi_calls.py ravyn_app A --requests 20000
    python bench/asgi_calls.py ravyn_app A --profile            # pyinstrument
    python bench/asgi_calls.py ravyn_app A --breakdown          # microseconds by layer
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
import functools
import importlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

APPS_DIR = Path(__file__).resolve().parent / "apps"
SCENARIOS = ("A", "B", "C", "G", "Y", "R", "M", "P", "D")


@functools.cache
def shapes() -> Any:
    """bench/apps/shapes.py, the scenarios' requests (imported by path: this runs as a script)."""
    if str(APPS_DIR) not in sys.path:
        sys.path.insert(0, str(APPS_DIR))
    return importlib.import_module("shapes")


@functools.cache
def _request(scenario: str) -> tuple[str, str, bytes, tuple[tuple[bytes, bytes], ...]]:
    """The scenario's method, path, body and headers, worked out once (not in the timed calls)."""
    shape = shapes().SHAPES[scenario]
    headers = (
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"bench"),
        *((name.lower().encode(), value.encode()) for name, value in shape.headers),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(shape.body)).encode()),
    )
    return shape.method, shape.path, shape.body, headers


def make_scope(scenario: str = "A") -> dict[str, Any]:
    """The ASGI scope of the scenario's request, as uvicorn would build it."""
    method, path, _, headers = _request(scenario)
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": list(headers),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app: Any, scenario: str = "A") -> list[dict[str, Any]]:
    """One whole ASGI call of the scenario's request; returns the messages the app sent."""
    sent: list[dict[str, Any]] = []
    delivered = False
    body = _request(scenario)[2]

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(make_scope(scenario), receive, send)
    return sent


def check(sent: list[dict[str, Any]], scenario: str) -> None:
    """Stop unless the call got the scenario's answer (and its CORS header): a wrong app measures nothing."""
    shape = shapes().SHAPES[scenario]
    status = int(sent[0]["status"])
    body = b"".join(message.get("body", b"") for message in sent[1:])
    what = f"{shape.method} {shape.path} answered {status} {body[:200]!r}"
    try:
        answer = json.loads(body or b"null")
    except ValueError:
        answer = None
    if not 200 <= status < 300 or answer != shape.answer:
        raise SystemExit(f"{what}, not {shape.answer!r}")
    headers = {bytes(name).lower(): bytes(value) for name, value in sent[0].get("headers", [])}
    if shape.cors and headers.get(b"access-control-allow-origin") != shapes().ORIGIN.encode():
        raise SystemExit(f"{what} without access-control-allow-origin: the CORS middleware did not run")


async def drive(app: Any, requests: int, scenario: str = "A") -> None:
    for _ in range(requests):
        await call(app, scenario)


async def measure(app: Any, requests: int, repeats: int, scenario: str = "A") -> list[float]:
    check(await call(app, scenario), scenario)
    await drive(app, min(2000, requests), scenario)  # warm-up
    per_request = []
    for _ in range(repeats):
        started = time.process_time()
        await drive(app, requests, scenario)
        per_request.append((time.process_time() - started) / requests * 1e6)
    return per_request


# Where a sampled frame's own time goes: the first pattern found in its file's
# path names the layer. The standard library (and built-ins) count for the
# layer that called them: anyio's cancel scope is the runner's cost even though
# its time is spent in contextlib; `json` is its own layer.
LAYERS = [
    ("/ravyn/params.py", "ravyn: parameter binding, body reading"),
    ("/ravyn/_binding/", "ravyn: parameter binding, body reading"),
    ("/ravyn/routing.py", "ravyn: route handler, response"),
    ("/ravyn/responses.py", "ravyn: route handler, response"),
    ("/ravyn/converters.py", "ravyn: parameter binding, body reading"),
    ("/ravyn/_pipeline/", "ravyn: app and middleware pipeline"),
    ("/ravyn/_lilya/", "ravyn: app and middleware pipeline"),
    ("/ravyn/applications.py", "ravyn: app and middleware pipeline"),
    ("/ravyn/middleware", "ravyn: app and middleware pipeline"),
    ("/ravyn/background.py", "ravyn: task objects and runner"),
    ("/ravyn/runner", "ravyn: task objects and runner"),  # runner.py, or the runner/ package
    ("/ravyn/threads.py", "ravyn: task objects and runner"),
    ("/anyio/", "anyio (cancel scopes, task groups, threads)"),
    ("/ravyn/", "ravyn: other"),
    ("/lilya/apps.py", "Lilya: app and middleware"),
    ("/lilya/middleware/", "Lilya: app and middleware"),
    ("/lilya/_internal/_middleware", "Lilya: app and middleware"),
    ("/lilya/routing/", "Lilya: router and path"),
    ("/lilya/_internal/_responses", "Lilya: handler wrapper"),
    ("/lilya/responses.py", "Lilya: response and headers"),
    ("/lilya/datastructures.py", "Lilya: response and headers"),
    ("/lilya/_internal/_helpers", "Lilya: response and headers"),
    ("/lilya/requests.py", "Lilya: request"),
    ("/lilya/_internal/_connection", "Lilya: request"),
    ("/lilya/background.py", "Lilya: tasks"),
    ("/lilya/concurrency.py", "Lilya: tasks"),
    ("/lilya/compat.py", "Lilya: tasks"),
    ("/lilya/serializers.py", "JSON"),
    ("/lilya/_internal/_encoders", "JSON"),
    ("/json/", "JSON"),
    ("/lilya/", "Lilya: other"),
    ("/starlette/", "Starlette"),
    ("/fastapi/", "FastAPI"),
    ("/opentelemetry", "FastAPI"),  # its built-in telemetry
    ("/pydantic", "pydantic"),
    ("/bench/apps/", "the app's handler and tasks"),
    ("/bench/asgi_calls.py", "(the harness)"),
]


def _layer(path: str | None, inherited: str) -> str:
    if not path or path.startswith("<"):
        return inherited
    for pattern, layer in LAYERS:
        if pattern in path:
            return layer
    if "site-packages" not in path:
        return inherited  # the standard library: counted for its caller
    return "other libraries"


def breakdown(root: Any) -> dict[str, float]:
    """Share of the sampled time per layer (the harness left out)."""
    totals: dict[str, float] = {}

    def walk(frame: Any, inherited: str) -> None:
        layer = _layer(frame.file_path, inherited)
        children = frame.children
        own = frame.time - sum(child.time for child in children)
        totals[layer] = totals.get(layer, 0.0) + own
        for child in children:
            walk(child, layer)

    walk(root, "(the harness)")
    totals.pop("(the harness)", None)
    whole = sum(totals.values()) or 1.0
    return {layer: time / whole for layer, time in sorted(totals.items(), key=lambda kv: -kv[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", help="an app module of bench/apps, e.g. ravyn_app")
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile instead")
    parser.add_argument("--all", action="store_true", help="with --profile: show library frames too")
    parser.add_argument("--breakdown", action="store_true", help="microseconds per request by layer")
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
    if args.profile or args.breakdown:
        from pyinstrument import Profiler

        asyncio.run(drive(app, 2000, args.scenario))
        profiler = Profiler(interval=0.0002, async_mode="disabled")
        profiler.start()
        asyncio.run(drive(app, args.requests, args.scenario))
        session = profiler.stop()
        if args.profile:
            print(profiler.output_text(unicode=True, color=False, show_all=args.all))
            return
        shares = breakdown(session.root_frame(trim_stem=False))
    # the first whole measure is thrown away: it warms the allocator and caches as it always has
    figures = asyncio.run(measure(app, args.requests, args.repeats, args.scenario))
    figures = asyncio.run(measure(app, args.requests, args.repeats, args.scenario))
    best = min(figures)
    if args.breakdown:
        layers = {layer: share * best for layer, share in shares.items()}
        if args.json:
            print(
                json.dumps(
                    {
                        "module": args.module,
                        "scenario": args.scenario,
                        "us_per_request": best,
                        "layers": layers,
                    }
                )
            )
            return
        print(
            f"{args.module} {args.scenario}: {best:.1f} us CPU per request, by layer (shares of the profile):"
        )
        for layer, us in layers.items():
            print(f"  {us:7.1f} us  {shares[layer]:6.1%}  {layer}")
        return
    if args.json:
        print(json.dumps({"module": args.module, "scenario": args.scenario, "us_per_request": figures}))
    else:
        print(
            f"{args.module} {args.scenario}: {best:.1f} us CPU per request (best of {args.repeats}; "
            f"median {statistics.median(figures):.1f}, {args.requests} requests each)"
        )


if __name__ == "__main__":
    main()
