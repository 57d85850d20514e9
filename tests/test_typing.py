"""The ParamSpec signatures of BackgroundTask and add_task, checked by mypy itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SAMPLE = textwrap.dedent(
    """
    from ravyn import BackgroundTask, BackgroundTasks

    def send_email(to: str, subject: str = "Hi") -> None: ...

    ok = BackgroundTask(send_email, "ada@example.com", subject="Welcome")
    missing = BackgroundTask(send_email)
    wrong_type = BackgroundTask(send_email, 42)
    tasks = BackgroundTasks()
    tasks.add_task(send_email, "ada@example.com")
    tasks.add_task(send_email, "ada@example.com", subjec="typo")
    """
)


def test_mypy_checks_task_arguments_against_the_function(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(SAMPLE)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path),
            str(sample),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    lines = sorted(int(line.split(":")[1]) for line in errors)
    # line numbers in SAMPLE: 7 missing argument, 8 wrong type, 11 unknown keyword
    assert lines == [7, 8, 11], result.stdout
    assert 'Missing positional argument "to"' in result.stdout


WHEN_SAMPLE = textwrap.dedent(
    """
    from ravyn import BackgroundTask, BackgroundTasks

    def audit(event: str) -> None: ...

    ok = BackgroundTask(audit, "refused").configure(when="always")
    typo = BackgroundTask(audit, "refused").configure(when="sometimes")
    cleanup = BackgroundTasks(when="error")
    wrong = BackgroundTasks(when=True)
    """
)


def test_mypy_checks_the_outcome_policy_against_the_three_values(tmp_path: Path) -> None:
    sample = tmp_path / "when_sample.py"
    sample.write_text(WHEN_SAMPLE)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path),
            str(sample),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    # line numbers in WHEN_SAMPLE: 7 an unknown policy, 9 not a string
    assert sorted(int(line.split(":")[1]) for line in errors) == [7, 9], result.stdout
    assert "Literal['success', 'always', 'error']" in result.stdout
