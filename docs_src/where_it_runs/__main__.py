"""`python -m docs_src.where_it_runs`: measure every case, write results.json and results.md."""

import datetime
import json
import sys
from pathlib import Path

from docs_src.where_it_runs.measure import measure_all
from docs_src.where_it_runs.report import machine, table

HERE = Path(__file__).parent


def main() -> int:
    """Run the measurements (about a minute) and write the page's table beside this file."""
    print("measuring: a concurrency limit, two workers, recycled workers, two container stops (~1 min)")
    results = measure_all()
    results["date"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    results["machine"] = machine()
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (HERE / "results.md").write_text(table(results))
    print(table(results))
    return 0


sys.exit(main())
