"""`python -m loadtest [--requests N] [--concurrency C] [--warmup W]`: run the load test, print a table."""

from __future__ import annotations

import argparse
import sys

from loadtest.runner import run_load


def main(argv: list[str] | None = None) -> int:
    """Run the load test; exit 1 if any invariant failed."""
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000, help="requests in the measured run")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent connections")
    parser.add_argument("--warmup", type=int, default=1_000, help="requests before measuring")
    args = parser.parse_args(argv)
    if min(args.requests, args.concurrency) < 1 or args.warmup < 0:
        parser.error("--requests and --concurrency must be at least 1, --warmup at least 0")
    result = run_load(args.requests, args.concurrency, args.warmup)
    print(result.table())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
