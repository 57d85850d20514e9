"""The durability harness's quick mode on the in-process and journal tiers, so its code cannot rot.

It starts real uvicorn servers on 127.0.0.1, SIGKILLs them three times under
load, and checks the counts: the journal loses nothing a client got a 2xx
for. The Celery tiers need redis-server; they run in the full harness
(`python -m bench.durability`), and here only when redis-server is installed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.cli import main

pytestmark = [pytest.mark.server, pytest.mark.slow]


def test_quick_mode_kills_each_tier_and_the_journal_loses_no_acknowledged_task(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiers = "in-process,journal" + (",celery-acks-late" if shutil.which("redis-server") else "")
    assert main(["--durability", "--quick", "--tiers", tiers, "--out", str(tmp_path)]) == 0, (
        capsys.readouterr().err
    )
    results = json.loads((tmp_path / "durability.json").read_text())
    rows = {row["tier"]: row for row in results["tiers"]}
    assert list(rows) == tiers.split(",")
    for row in rows.values():
        assert row["kills"] == 3
        assert row["acknowledged"] > 0
        assert row["done_once"] + row["rerun"] + row["lost"] == row["acknowledged"]
    assert rows["journal"]["lost"] == 0
    # no such claim for Celery's acks_late: the full run lost 1 of 4,786 there, unexplained
    # the crash report names only tasks that were lost, and never more than it counted
    in_process = rows["in-process"]
    assert in_process["lost_named"] <= min(in_process["lost"], in_process["reported_lost"])
    assert "| Journal (durable=True) | 3 |" in capsys.readouterr().out
