"""One site build per test run, shared by the pytest-xdist workers (`tests/support/site_build.py`)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.support.site_build import Build, shared_build


class Builder:
    """Stands in for mkdocs: records each build, and can hold one until told to go on."""

    def __init__(self, returncode: int = 0) -> None:
        self.returncode = returncode
        self.builds: list[Path] = []
        self.started = threading.Event()
        self.go_on = threading.Event()
        self.go_on.set()

    def __call__(self, site: Path) -> Build:
        self.builds.append(site)
        self.started.set()
        assert self.go_on.wait(timeout=30)
        site.mkdir()
        (site / "index.html").write_text("<h1>built</h1>")
        return Build(site, self.returncode, f"build {len(self.builds)}", 1.5)


def test_workers_asking_at_once_share_one_build(tmp_path: Path) -> None:
    builder = Builder()
    builder.go_on.clear()
    results: dict[str, Build] = {}

    def ask(name: str) -> None:
        results[name] = shared_build(tmp_path / "shared", builder)

    first = threading.Thread(target=ask, args=("first",))
    first.start()
    assert builder.started.wait(timeout=30)  # the first holds the lock, mid-build
    others = [threading.Thread(target=ask, args=(name,)) for name in ("second", "third")]
    for thread in others:
        thread.start()
    builder.go_on.set()
    for thread in (first, *others):
        thread.join(timeout=30)

    assert builder.builds == [tmp_path / "shared" / "site"]
    assert set(results) == {"first", "second", "third"}
    assert len(set(results.values())) == 1, results
    assert results["third"] == Build(tmp_path / "shared" / "site", 0, "build 1", 1.5)
    assert (results["second"].site / "index.html").read_text() == "<h1>built</h1>"


def test_a_failed_build_is_reported_to_every_worker_and_not_built_again(tmp_path: Path) -> None:
    builder = Builder(returncode=1)

    first = shared_build(tmp_path, builder)
    second = shared_build(tmp_path, builder)

    assert len(builder.builds) == 1
    assert first == second and second.returncode == 1 and second.output == "build 1"


def test_a_build_cut_short_leaves_no_result_and_the_next_worker_builds_again(tmp_path: Path) -> None:
    def killed(site: Path) -> Build:
        raise TimeoutError("mkdocs build ran past its time limit")

    with pytest.raises(TimeoutError):
        shared_build(tmp_path, killed)
    builder = Builder()
    rebuilt = shared_build(tmp_path, builder)

    assert builder.builds == [tmp_path / "site"]
    assert rebuilt.returncode == 0 and rebuilt.output == "build 1"
