"""Fixtures shared by every test module."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest

from tests.support.site_build import Build, build, shared_build

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def anyio_backend() -> str:
    """Run `@pytest.mark.anyio` tests on asyncio, the loop uvicorn uses."""
    return "asyncio"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Build the site once per test run, strictly, into a temporary folder (the
    docs and the playground tests share it). Under pytest-xdist the workers share
    one build too: the first to ask makes it in the run's temporary folder,
    which holds each worker's own (`tests/support/site_build.py`)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return shared_build(tmp_path_factory.getbasetemp().parent / "shared-site")
    return build(tmp_path_factory.mktemp("site"))


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
    """Mark each test with its lanes (`LANES`); a test that needs the built site is `slow`.

    The tests that need the site are spread over every pytest-xdist worker like
    the others, and share one build (`built_site`). They once carried two
    `xdist_group` marks, meant to keep them on two workers; the marks came
    after pytest-xdist had read them, so they never applied, and applying them
    would put minutes of browser tests in a queue on one worker."""
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
