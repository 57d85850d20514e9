"""`python -m loadtest [--requests N] [--concurrency C] [--warmup W]`: run the load test, print a table.

`python -m loadtest --soak [--seconds S] [--concurrency C]`: the soak (120 s at
64 connections by default): backlog and RSS over time, then the checks.
"""

from __future__ import annotations

import argparse
import sys

from loadtest.runner import run_load
from loadtest.soak import run_soak


def main(argv: list[str] | None = None) -> int:
    """Run the load test; exit 1 if any invariant failed."""
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000, help="requests in the measured run")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="concurrent connections (50; 64 for --soak)"
    )
    parser.add_argument("--warmup", type=int, default=1_000, help="requests before measuring")
    parser.add_argument("--soak", action="store_true", help="the soak: sustained overload, watched over time")
    parser.add_argument("--seconds", type=float, default=120.0, help="how long the soak sends requests")
    parser.add_argument(
        "--warmup-seconds", type=float, default=15.0, help="the soak's warm-up burst, before the baseline"
    )
    args = parser.parse_args(argv)
    concurrency = args.concurrency or (64 if args.soak else 50)
    if min(args.requests, concurrency) < 1 or args.warmup < 0 or args.seconds <= 0:
        parser.error(
            "--requests and --concurrency must be at least 1, --warmup at least 0, --seconds above 0"
        )
    if args.soak:
        soak = run_soak(args.seconds, concurrency, warmup=args.warmup_seconds)
        print(soak.table())
        return 0 if soak.ok else 1
    result = run_load(args.requests, concurrency, args.warmup)
    print(result.table())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
