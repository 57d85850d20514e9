"""`queue_job_status` with Celery embedded: the job's id at once, then its state from `GET /jobs/{job_id}`.

The states a worker writes (started, success, failure) and the 404 are the same
with Redis; `tests/queue/test_redis_examples.py` adds "pending", which only a
broker without a free worker can show for sure.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from types import ModuleType

import anyio
import pytest

from ravyn.testing import Recorder

pytestmark = pytest.mark.anyio


async def follow(recorder: Recorder, job_id: str, timeout: float = 20.0) -> list[dict[str, object]]:
    """GET the job every 20 ms until it is done; return each new answer."""
    answers: list[dict[str, object]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        timeline = await recorder.request("GET", f"/jobs/{job_id}")
        assert timeline.status == 200, timeline.render()
        answer = timeline.json()
        if not answers or answers[-1] != answer:
            answers.append(answer)
        if answer["state"] in ("success", "failure"):
            return answers
        await anyio.sleep(0.02)
    raise AssertionError(f"job {job_id} not done after {timeout}s: {answers}")


async def test_a_job_is_followed_from_its_id_to_its_result(
    load_example: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPORT_SECONDS_PER_CONTACT", "0.3")  # long enough to be seen running
    module = load_example("queue_job_status")
    assert module.celery.conf.broker_url.startswith("memory://")

    async with Recorder(module.app) as recorder:
        queued = await recorder.request(
            "POST", "/imports", json={"emails": ["ada@example.com", "grace@example.com"]}
        )
        job_id = queued.json()["job_id"]
        answers = await follow(recorder, job_id)

    assert (queued.status, queued.json()) == (202, {"status": "queued", "job_id": job_id})
    assert queued.header("location") == f"/jobs/{job_id}"
    assert queued.all("task_started") == []  # a job on the queue, not a background task
    states = [answer["state"] for answer in answers]
    assert states[-2:] == ["started", "success"] and set(states) <= {"pending", "started", "success"}
    assert answers[-1] == {"job_id": job_id, "state": "success", "result": {"imported": 2}}


async def test_a_failed_job_reports_its_error_and_an_unknown_id_is_a_404(
    load_example: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_example("queue_job_status")
    unknown = str(uuid.uuid4())
    queued_ids: list[str] = []

    def broker_down(*args: object, task_id: str, **options: object) -> None:
        queued_ids.append(task_id)
        raise ConnectionError("the broker is down")

    async with Recorder(module.app) as recorder:
        queued = await recorder.request("POST", "/imports", json={"emails": ["lin@mail.example.invalid"]})
        job_id = queued.json()["job_id"]
        answers = await follow(recorder, job_id)
        missing = await recorder.request("GET", f"/jobs/{unknown}")

        monkeypatch.setattr(module.import_contacts, "apply_async", broker_down)
        not_queued = await recorder.request(
            "POST", "/imports", json={"emails": ["ada@example.com"]}, raise_app_exceptions=False
        )
        after = await recorder.request("GET", f"/jobs/{queued_ids[0]}")

    assert answers[-1] == {
        "job_id": job_id,
        "state": "failure",
        "error": "LookupError: no mail server for mail.example.invalid",
    }
    assert (missing.status, missing.json()) == (404, {"detail": f"No job {unknown}"})
    # a job the broker never took: a 500, and its id is not left "pending" for ever
    assert (not_queued.status, not_queued.json()) == (500, {"detail": "Internal Server Error"})
    assert after.status == 404
