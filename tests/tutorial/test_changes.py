"""`FileChanges`: watchdog tells the watch mode when to look at the files;
without it (or without the folder) it falls back to looking every time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ravyn_tutorial.changes import FileChanges


def test_a_write_in_the_folder_is_heard_and_silence_is_not(tmp_path: Path) -> None:
    with FileChanges(tmp_path, safety=3600) as changes:
        assert changes.watching
        assert not changes.wait(0.2), "nothing happened"

        (tmp_path / "slow_signup.py").write_text("print('saved')\n", encoding="utf-8")

        assert changes.wait(5.0)
        # one write is several events (created, modified, closed): they stop coming
        assert any(not changes.wait(0.3) for _ in range(10)), "the flag is cleared once read"


def test_a_file_replaced_by_a_rename_is_heard(tmp_path: Path) -> None:
    target = tmp_path / "slow_signup.py"
    target.write_text("old\n", encoding="utf-8")
    with FileChanges(tmp_path, safety=3600) as changes:
        changes.wait(0.2)
        staged = tmp_path / ".slow_signup.py.swp"
        staged.write_text("new\n", encoding="utf-8")
        changes.wait(1.0)
        staged.replace(target)  # how many editors save: write aside, then rename over

        assert changes.wait(5.0)


def test_the_safety_net_says_look_even_without_an_event(tmp_path: Path) -> None:
    with FileChanges(tmp_path, safety=0.0) as changes:
        assert changes.wait(0.05)


def test_without_watchdog_it_falls_back_to_looking_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "watchdog.observers", None)

    with FileChanges(tmp_path) as changes:
        assert not changes.watching
        assert changes.wait(0.0)


def test_a_folder_that_is_gone_falls_back_to_looking(tmp_path: Path) -> None:
    with FileChanges(tmp_path / "gone") as changes:
        assert not changes.watching
        assert changes.wait(0.0)
