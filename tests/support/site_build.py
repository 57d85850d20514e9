"""The documentation site, built once per test run and shared by every pytest-xdist worker.

`mkdocs build --strict` runs every example to draw its timeline: about 15 s on
an idle machine, much more on a busy one. Each worker used to build its own
copy (three builds a CI run, each slowing the others); now the first worker to
need the site builds it under the run's temporary folder, and the others wait
for that build and read its result.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock, so each worker builds its own site
    fcntl = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Build:
    """One `mkdocs build --strict` run: where it wrote, what it said, how long it took."""

    site: Path
    returncode: int
    output: str
    seconds: float


def build(site: Path) -> Build:
    """Build the site strictly into `site`, from a clean folder."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return Build(site, done.returncode, done.stdout + done.stderr, time.perf_counter() - started)


def shared_build(folder: Path, make: Callable[[Path], Build] = build) -> Build:
    """The build in `folder`, made by whichever process of this test run asks first.

    The others block on the lock until it is done, then read the result it
    recorded (a failed build too, so every worker reports the same failure).
    The record is written only after the build returned: a build cut short
    (its time limit, a killed worker) leaves none, the lock dies with its
    process, and the next process to ask builds again. `make` builds (tests
    pass a stand-in for mkdocs).
    """
    if fcntl is None:
        return make(folder / f"site-{os.getpid()}")
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / "build.json"
    with open(folder / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or its process dies
        if record.is_file():
            fields = json.loads(record.read_text("utf-8"))
            return Build(**{**fields, "site": Path(fields["site"])})
        built = make(folder / "site")
        record.write_text(json.dumps({**asdict(built), "site": str(built.site)}), "utf-8")
        return built
