"""The queue examples on a real Redis, with a real `celery worker` subprocess and the app under uvicorn."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx

from docs_src.catalogue import EXAMPLES
from docs_src.queue_comparison.services import ROOT, Service, celery_workers
from ravyn.testing import serve

IMPORTS = "docs_src.background_tasks.queue_job_status:app"
REPORTS = "docs_src.background_tasks.pitfall_long_job_celery:app"


def poll(read: Callable[[], dict[str, object]], until: set[str], timeout: float = 20.0) -> list[str]:
    """Read a job's state every 20 ms until it is one of `until`; return the states seen, each once."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = str(read()["state"])
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in until:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"no state in {until} after {timeout}s; seen {seen}")


def wait_for_line(worker: Service, text: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in worker.output.splitlines():
            if text in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the worker's output:\n{worker.output}")


def test_job_states_pending_started_success_failure_and_404(celery_env: dict[str, str]) -> None:
    env = {**celery_env, "IMPORT_SECONDS_PER_CONTACT": "0.75"}
    with (
        serve(IMPORTS, env=env, cwd=ROOT) as server,
        httpx.Client(base_url=server.url, trust_env=False) as http,
    ):
        good = http.post("/imports", json={"emails": ["ada@example.com", "grace@example.com"]})
        bad = http.post("/imports", json={"emails": ["lin@mail.example.invalid"]})
        assert good.status_code == bad.status_code == 202
        assert good.json()["status"] == "queued"
        good_id, bad_id = good.json()["job_id"], bad.json()["job_id"]
        assert good.headers["location"] == f"/jobs/{good_id}"

        # no worker yet: both jobs wait in Redis, known to the app
        for job_id in (good_id, bad_id):
            assert http.get(f"/jobs/{job_id}").json() == {"job_id": job_id, "state": "pending"}
        unknown = str(uuid.uuid4())
        missing = http.get(f"/jobs/{unknown}")
        assert (missing.status_code, missing.json()) == (404, {"detail": f"No job {unknown}"})

        with celery_workers(["worker-a"], env):  # one pool process: the jobs run one after the other
            seen = poll(lambda: http.get(f"/jobs/{good_id}").json(), {"success", "failure"})
            done = http.get(f"/jobs/{good_id}").json()
            poll(lambda: http.get(f"/jobs/{bad_id}").json(), {"success", "failure"})
            failed = http.get(f"/jobs/{bad_id}").json()

    assert seen in (["pending", "started", "success"], ["started", "success"])  # "pending" was seen above
    assert done == {"job_id": good_id, "state": "success", "result": {"imported": 2}}
    assert failed == {
        "job_id": bad_id,
        "state": "failure",
        "error": "LookupError: no mail server for mail.example.invalid",
    }


def test_the_long_job_example_runs_on_a_real_worker(celery_env: dict[str, str]) -> None:
    example = EXAMPLES["pitfall_long_job_celery"]
    with (
        celery_workers(["worker-a"], celery_env) as [worker],
        serve(REPORTS, env=celery_env, cwd=ROOT) as server,
    ):
        response = httpx.post(server.url + example.path, json=example.json, trust_env=False)
        assert response.status_code == 202
        job_id = response.json()["job_id"]
        line = wait_for_line(worker, f"(job {job_id} on worker-a@")
    assert "Monthly report for 2024-05 built" in line
    assert f"job {job_id}" not in server.output  # the web process only queued it
