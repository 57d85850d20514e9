"""The latency probe: sequential requests at a gentle, fixed pace over one
keep-alive connection, each timed from the first byte sent to the last byte
of the body received. Runs as a process of its own:

    python -m bench.probe --port 8000 --requests 40 --interval 0.05

and prints one JSON object: {"latencies_ms": [...], "statuses": [...]}.
The pace keeps slow tasks from piling up: the probe measures what a client
waits for, not a server under load.
"""

from __future__ import annotations

import argparse
import http.client
import json
import time

BODY = b'{"name": "ada", "email": "ada@example.com"}'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between request starts")
    parser.add_argument("--warmup", type=int, default=5, help="requests sent first and not timed")
    args = parser.parse_args()
    connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    latencies: list[float] = []
    statuses: list[int] = []
    try:
        for index in range(args.warmup + args.requests):
            started = time.perf_counter()
            connection.request("POST", "/register", body=BODY, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            if index >= args.warmup:
                latencies.append(elapsed * 1000)
                statuses.append(response.status)
            time.sleep(max(0.0, args.interval - elapsed))
    finally:
        connection.close()
    print(json.dumps({"latencies_ms": latencies, "statuses": statuses, "sent": args.warmup + args.requests}))


if __name__ == "__main__":
    main()
