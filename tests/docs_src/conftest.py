"""Fixtures for the examples' tests (the summary line counting their cases is in `tests/conftest.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.docs_src.examples import forget_examples, import_example
from tests.docs_src.receiver import WebhookReceiver


@pytest.fixture
def upload_dir(tmp_path: Path) -> Path:
    """The folder `upload_accepted` writes to, private to one test."""
    return tmp_path / "uploads"


@pytest.fixture
def load_example(
    upload_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], ModuleType]]:
    """A function importing an example afresh, with its configuration pointed at test-only places:
    uploads and the task journal under the test's temp folder, Celery embedded (in-memory broker,
    in-process worker)."""
    monkeypatch.setenv("UPLOAD_DIR", str(upload_dir))
    monkeypatch.setenv("TASK_JOURNAL_DIR", str(tmp_path / "journal"))
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)
    forget_examples()
    yield import_example
    forget_examples()


@pytest.fixture(autouse=True)
def allow_local_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every receiver in these tests is on 127.0.0.1, which the webhook example
    refuses unless its host is allowed (servers started here inherit this)."""
    monkeypatch.setenv("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1:*")


@pytest.fixture
def webhook_receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    """A real HTTP receiver on a free loopback port, answering 200 at once."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # a CI proxy must not take loopback calls
    with WebhookReceiver() as receiver:
        yield receiver
