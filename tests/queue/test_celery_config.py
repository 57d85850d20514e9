"""`celery_app` read from the environment: embedded without it, Redis with production settings with it.

Each case imports the module in a fresh interpreter: Celery reads its
configuration once, at import, and the test session keeps the embedded one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from docs_src.queue_comparison.services import ROOT
from tests.queue import conftest

READ_CONFIG = """
import json
from docs_src.background_tasks import celery_app as c
c.celery.loader.import_default_modules()  # what a worker does at its start
conf = c.celery.conf
print(json.dumps({
    "embedded": c.EMBEDDED, "broker": conf.broker_url, "backend": conf.result_backend,
    "transport": conf.broker_transport_options, "acks_late": conf.task_acks_late,
    "reject_on_worker_lost": conf.task_reject_on_worker_lost, "prefetch": conf.worker_prefetch_multiplier,
    "tasks": sorted(name for name in c.celery.tasks if name.startswith("docs_src.")),
}))
"""


def read_config(env: dict[str, str]) -> dict[str, Any]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("CELERY_")}
    done = subprocess.run(
        [sys.executable, "-c", READ_CONFIG],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_no_broker_configured_means_embedded() -> None:
    config = read_config({})
    assert config["embedded"] is True
    assert config["broker"] == "memory://localhost/" and config["backend"] == "cache+memory://"


def test_a_redis_url_configures_redis_with_a_visibility_timeout() -> None:
    config = read_config({"CELERY_BROKER_URL": "redis://127.0.0.1:6390/0", "CELERY_VISIBILITY_TIMEOUT": "8"})
    assert config["embedded"] is False
    assert (
        config["broker"] == config["backend"] == "redis://127.0.0.1:6390/0"
    )  # results default to the broker
    assert config["transport"] == {
        "visibility_timeout": 8.0,
        "unacked_restore_interval": 2,
        "unacked_restore_throttle": 1,
    }
    assert (config["acks_late"], config["reject_on_worker_lost"], config["prefetch"]) == (True, True, 1)


def test_production_keeps_the_one_hour_visibility_timeout_and_a_worker_finds_every_job() -> None:
    config = read_config({"CELERY_BROKER_URL": "redis://127.0.0.1:6390/0"})
    assert config["transport"]["visibility_timeout"] == 3600
    assert config["transport"]["unacked_restore_interval"] == 10
    # what `celery -A docs_src.background_tasks.celery_app worker` registers
    assert config["tasks"] == [
        "docs_src.background_tasks.pitfall_long_job_celery.build_monthly_report",
        "docs_src.background_tasks.queue_job_status.import_contacts",
    ]


@pytest.mark.parametrize(("ci", "outcome"), [("true", "failed"), ("", "skipped")])
def test_a_missing_redis_skips_locally_and_fails_in_ci(
    ci: str, outcome: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # no redis-server to be found
    monkeypatch.setenv("CI", ci)
    with pytest.raises((pytest.fail.Exception, pytest.skip.Exception)) as raised:
        conftest.require_redis()
    assert isinstance(raised.value, pytest.fail.Exception if outcome == "failed" else pytest.skip.Exception)
    assert "redis-server is not installed" in str(raised.value)
