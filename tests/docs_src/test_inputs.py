"""The examples that take input from the client refuse bad input with a 400 naming the field,
and the conditional example picks its tasks from the input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docs_src.background_tasks.safe_files import UploadFolder
from docs_src.catalogue import EXAMPLES
from ravyn.exceptions import RequestError
from ravyn.testing import record
from tests.docs_src.examples import task_effects

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "filename",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "reports/q3.pdf",
        "..\\..\\boot.ini",
        "..",
        ".",
        ".hidden",
        "report\x00.pdf",
        "",
        "CON",
        "nul.txt",
        "com1.log",
        "\uff0e\uff0e\uff0fpasswd",  # fullwidth "../passwd"
        "a/../b",
    ],
)
async def test_an_upload_name_that_could_leave_the_folder_gets_a_400(
    filename: str, load_example: Callable[[str], ModuleType], upload_dir: Path, tmp_path: Path
) -> None:
    app = load_example("upload_accepted").app
    timeline = await record(app, "POST", "/uploads", json={"filename": filename, "user_id": 7})

    assert timeline.status == 400
    [error] = timeline.json()["errors"]
    assert error["loc"] == ["body", "filename"]
    assert timeline.all("task_started") == []
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert written == []


async def test_an_accepted_upload_leaves_one_report_in_the_upload_folder(
    load_example: Callable[[str], ModuleType], upload_dir: Path
) -> None:
    app = load_example("upload_accepted").app
    timeline = await record(app, "POST", "/uploads", json={"filename": "q3_report.pdf", "user_id": 3})

    assert timeline.status == 202
    assert [path.name for path in upload_dir.iterdir()] == ["q3_report.pdf.scan.txt"]
    assert (upload_dir / "q3_report.pdf.scan.txt").read_text() == "clean, uploaded by user 3\n"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/orders",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "hooks.example.com/orders",
        "http://",
        "",
    ],
)
async def test_a_webhook_url_that_is_not_http_gets_a_400(
    url: str, load_example: Callable[[str], ModuleType]
) -> None:
    app = load_example("webhook_notification").app
    body = {"sku": "KB-42", "quantity": 2, "webhook_url": url}
    timeline = await record(app, "POST", "/orders", json=body)

    assert timeline.status == 400
    [error] = timeline.json()["errors"]
    assert error["loc"] == ["body", "webhook_url"]
    assert timeline.all("task_started") == []


async def test_a_small_transfer_gets_only_the_ledger_note(load_example: Callable[[str], ModuleType]) -> None:
    app = load_example("add_task_conditional").app
    body = {"account_email": "ada@example.com", "amount": 120}
    timeline = await record(app, "POST", "/transfers", json=body)

    assert timeline.status == 202
    assert timeline.task_names() == ["write_ledger_note"]
    effects = task_effects(timeline, EXAMPLES["add_task_conditional"])
    assert [event.detail["text"] for event in effects] == [
        "Ledger note (routine): 120 from ada@example.com cleared"
    ]


@pytest.fixture(scope="module")
def shared_uploads(tmp_path_factory: pytest.TempPathFactory) -> UploadFolder:
    """One upload folder for every draw of the Hypothesis test (a function-scoped one would be reused)."""
    return UploadFolder(str(tmp_path_factory.mktemp("uploads") / "inbox"), suffixes=(".scan.txt",))


@given(filename=st.text(max_size=40))
@settings(max_examples=200, derandomize=True, deadline=None)
def test_any_accepted_name_stays_inside_the_upload_folder(
    filename: str, shared_uploads: UploadFolder
) -> None:
    try:
        name = shared_uploads.checked_name(filename, field="filename")
    except RequestError as exc:
        assert exc.status_code == 400
        return
    folder = shared_uploads.path.resolve()
    assert (folder / name).resolve().parent == folder
    assert "\x00" not in filename


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data",  # a cloud metadata service
        "http://[::1]/hooks",
        "http://0.0.0.0/hooks",
    ],
)
async def test_a_webhook_into_our_own_network_gets_a_400(
    url: str, load_example: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEBHOOK_ALLOWED_HOSTS", raising=False)
    app = load_example("webhook_notification").app
    body = {**EXAMPLES["webhook_notification"].json, "webhook_url": url}
    timeline = await record(app, "POST", "/orders", json=body)
    assert timeline.status == 400
    [error] = timeline.json()["errors"]
    assert error["loc"] == ["body", "webhook_url"]
    assert "private, loopback or link-local" in error["msg"]
    assert timeline.all("task_started") == []
