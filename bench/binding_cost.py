"""The in-process cost of reading a request into a handler's parameters.

    python bench/binding_cost.py               # this checkout's ravyn
    (cd ../other-checkout && python /path/to/bench/binding_cost.py)   # another ravyn, to compare

Prints a table of process CPU time per whole ASGI call (microseconds; routing,
body, validation, handler, JSON response; async handlers, so no thread hop):
a handler with two fields, and one with a dataclass body (`data: Signup`, which
every version of ravyn reads). Then, for the binding alone, the two ways
pydantic can validate a two-field JSON body: one `TypeAdapter` per parameter
on the decoded JSON (what ravyn does to word an error), or one model over all
the handler's fields validating the raw bytes (what ravyn does first, for a
body of plain fields). Only the median of several rounds is shown.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path.cwd()))

from ravyn import Ravyn, post

BODY = b'{"name": "ada", "email": "ada@example.com"}'
ROUNDS = 5
REQUESTS = 4000


@dataclasses.dataclass
class Signup:
    name: str
    email: str


@post("/fields")
async def two_fields(name: str, email: str) -> dict[str, str]:
    return {"name": name}


@post("/model")
async def dataclass_body(data: Signup) -> dict[str, str]:
    return {"name": data.name}


app = Ravyn(routes=[two_fields, dataclass_body], enable_openapi=False)


def scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def one_call(path: str) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 201, message

    await app(scope(path), receive, send)


async def per_call(path: str) -> float:
    for _ in range(200):
        await one_call(path)
    rounds = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(REQUESTS):
            await one_call(path)
        rounds.append((time.process_time() - started) / REQUESTS * 1e6)
    return statistics.median(rounds)


def binding_alternatives() -> list[tuple[str, float]]:
    import timeit

    from pydantic import TypeAdapter, create_model

    name, email = TypeAdapter(str), TypeAdapter(str)

    def per_parameter() -> Any:
        decoded = json.loads(BODY)
        return name.validate_python(decoded["name"]), email.validate_python(decoded["email"])

    model = create_model("Fields", name=(str, ...), email=(str, ...))

    def one_model() -> Any:
        return model.model_validate_json(BODY)

    results = []
    for label, func in [("a TypeAdapter per parameter", per_parameter), ("one model, raw bytes", one_model)]:
        runs = [timeit.timeit(func, number=20000) / 20000 * 1e6 for _ in range(ROUNDS)]
        results.append((label, statistics.median(runs)))
    return results


def main() -> None:
    import ravyn

    print(f"ravyn from {Path(ravyn.__file__).parent}")
    print("| whole ASGI call | CPU µs per request |")
    print("|---|---|")
    for label, path in [("two fields (`name`, `email`)", "/fields"), ("a dataclass body (`data`)", "/model")]:
        print(f"| {label} | {asyncio.run(per_call(path)):.1f} |")
    try:
        alternatives = binding_alternatives()
    except ImportError:
        return
    print()
    print("| binding a two-field JSON body | µs |")
    print("|---|---|")
    for label, micros in alternatives:
        print(f"| {label} | {micros:.2f} |")


if __name__ == "__main__":
    main()
