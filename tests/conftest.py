"""Fixtures shared by every test module."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def anyio_backend() -> str:
    """Run `@pytest.mark.anyio` tests on asyncio, the loop uvicorn uses."""
    return "asyncio"


@dataclass(frozen=True)
class Build:
    """One `mkdocs build --strict` run: where it wrote, what it said, how long it took."""

    site: Path
    returncode: int
    output: str
    seconds: float


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Build]:
    """Build the site once per test session, strictly, into a temporary folder
    (the docs and the playground tests share it)."""
    site = tmp_path_factory.mktemp("site")
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
    yield Build(site, done.returncode, done.stdout + done.stderr, time.perf_counter() - started)


@pytest.fixture(scope="session")
def site(built_site: Build) -> Path:
    """The built site's folder; fails (rather than errors) when the build did."""
    if built_site.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{built_site.output}")
    return built_site.site


# Where the tests that need more than this process live, by path under tests/:
# `browser` drives Chromium, `server` starts a real server (uvicorn, Redis, a
# Celery worker), `slow` takes seconds per test (the site build, load, fuzzing,
# the tutorial's subprocesses). The framework's own fast lane is
#     pytest -m "not slow and not browser and not server"
# and CI runs everything. A path here is a prefix of the test file's path.
LANES: dict[str, tuple[str, ...]] = {
    "browser": (
        "docs/test_docs_browser.py",
        "docs/test_docs_accessibility.py",
        "playground/test_playground_browser.py",
        "playground/test_playground_site.py",
    ),
    "server": (
        "test_server.py",
        "test_shutdown.py",
        "test_shutdown_supervised.py",
        "test_testing.py",
        "test_testing_server.py",
        "docs_src/test_real_server.py",
        "journal/test_workers_server.py",
        "docs_src/test_durable_crash.py",
        "docs_src/test_webhook.py",
        "docs_src/test_practical_examples_page.py",
        "docs_src/test_celery.py",
        "docs_src/test_queue_job_status.py",
        "tutorial/test_server.py",
        "tutorial/test_lessons.py",
        "queue/",
        "loadtest/",
        "bench/test_bench_quick.py",
        "bench/test_durability_quick.py",
        "docs/test_docs_as_printed.py",
    ),
    "slow": ("docs/", "playground/", "fuzz/", "bench/", "loadtest/", "queue/", "tutorial/"),
}


def _heed_the_signals_the_tests_send() -> None:
    """Put SIGHUP and SIGINT back to their defaults when this process was started
    ignoring them, as under `nohup`, or as a background job of a script (`cmd &`
    ignores SIGINT). An ignored signal stays ignored in every process started
    from here: the servers the tests send SIGHUP or Ctrl+C to would never hear
    them, and those tests would wait out their time limits."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    sighup = getattr(signal, "SIGHUP", None)  # not on Windows
    if sighup is not None and signal.getsignal(sighup) == signal.SIG_IGN:
        signal.signal(sighup, signal.SIG_DFL)


def pytest_configure(config: pytest.Config) -> None:
    _heed_the_signals_the_tests_send()  # in the controller and in each xdist worker
    config.addinivalue_line("markers", "browser: drives a headless Chromium (tests/conftest.py LANES)")
    config.addinivalue_line("markers", "server: starts a real server or service (tests/conftest.py LANES)")
    config.addinivalue_line("markers", "slow: seconds per test; not in the framework's fast lane")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its lanes (`LANES`). Under pytest-xdist (`scripts/test`
    runs three workers, `--dist loadgroup`), the tests that need the built site
    go to two groups, each kept on one worker: the phone-width ones (axe over
    every page at 390 px is minutes of work) and the rest. The site is built
    once per group, and one Chromium per group drives its pages."""
    tests_dir = Path(__file__).resolve().parent
    for item in items:
        try:
            where = item.path.resolve().relative_to(tests_dir).as_posix()
        except ValueError:
            where = ""
        for lane, prefixes in LANES.items():
            if where.startswith(prefixes):
                item.add_marker(getattr(pytest.mark, lane))
        if "built_site" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
            phone = "phone" in item.name or "[390]" in item.name
            item.add_marker(pytest.mark.xdist_group("site-phone" if phone else "site"))


# A line in the summary counting the example cases, so a run that silently
# dropped examples shows it. Here rather than in tests/docs_src/conftest.py:
# under pytest-xdist only this conftest is loaded where reports are gathered.
EXAMPLE_CASE = "test_examples.py::test_example_answers_before_its_tasks"
_case_outcomes: Counter[str] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if EXAMPLE_CASE not in report.nodeid:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _case_outcomes[_outcome(report)] += 1


def _outcome(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    return report.outcome


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _case_outcomes:
        return
    from tests.docs_src.examples import example_modules  # imports the examples' package

    outcomes = ", ".join(f"{count} {outcome}" for outcome, count in sorted(_case_outcomes.items()))
    terminalreporter.write_line(
        f"docs_src: {len(example_modules())} example modules, "
        f"{sum(_case_outcomes.values())} example cases run ({outcomes})"
    )
