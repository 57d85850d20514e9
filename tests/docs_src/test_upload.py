"""The upload example writes only plain files of its own, in a folder of its own.

A symlink or hard link planted in the folder is refused, not followed; a name too
long for the file system gets a 400 before the 202; the default folder is new and
private, and a configured one that others could write to is refused.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from docs_src.background_tasks.safe_files import UnsafeFolderError, UploadFolder
from ravyn.exceptions import RequestError
from ravyn.testing import Timeline, record

pytestmark = pytest.mark.anyio


async def upload(app: Any, filename: str) -> Timeline:
    return await record(app, "POST", "/uploads", json={"filename": filename, "user_id": 7})


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
async def test_a_link_planted_in_the_folder_is_refused_not_followed(
    link: str, load_example: Callable[[str], ModuleType], upload_dir: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    upload_dir.mkdir(mode=0o700)
    planted = upload_dir / "q3.pdf.scan.txt"
    if link == "symlink":
        planted.symlink_to(victim)
    else:
        os.link(victim, planted)
    app = load_example("upload_accepted").app

    timeline = await upload(app, "q3.pdf")

    assert timeline.status == 202
    assert timeline.task_names("task_failed") == ["scan_upload"]
    assert victim.read_text() == "precious\n"


async def test_a_dangling_symlink_is_not_followed_to_create_a_file(
    load_example: Callable[[str], ModuleType], upload_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "created-elsewhere.txt"
    upload_dir.mkdir(mode=0o700)
    (upload_dir / "q3.pdf.scan.txt").symlink_to(target)
    app = load_example("upload_accepted").app

    timeline = await upload(app, "q3.pdf")

    assert timeline.task_names("task_failed") == ["scan_upload"]
    assert not target.exists()


def longest_name(folder: Path) -> int:
    return os.pathconf(folder, "PC_NAME_MAX") - len(".scan.txt")


@pytest.mark.parametrize("extra", [1, 2, 9, 10, 100])
async def test_a_name_too_long_for_the_disk_gets_a_400_before_any_task(
    extra: int, load_example: Callable[[str], ModuleType], upload_dir: Path
) -> None:
    app = load_example("upload_accepted").app  # makes the configured folder
    limit = longest_name(upload_dir)  # 246 on most file systems: 255 less ".scan.txt"

    timeline = await upload(app, "a" * (limit + extra))

    assert timeline.status == 400
    [error] = timeline.json()["errors"]
    assert error["loc"] == ["body", "filename"]
    assert error["msg"] == f"must be at most {limit} bytes long"
    assert timeline.all("task_started") == []


async def test_the_longest_name_the_disk_takes_is_accepted_and_scanned(
    load_example: Callable[[str], ModuleType], upload_dir: Path
) -> None:
    app = load_example("upload_accepted").app  # makes the configured folder
    name = "a" * longest_name(upload_dir)

    timeline = await upload(app, name)

    assert timeline.status == 202
    assert timeline.task_names("task_failed") == []
    assert (upload_dir / f"{name}.scan.txt").read_text() == "clean, uploaded by user 7\n"


async def test_by_default_the_folder_is_new_and_private_never_one_found_in_the_temp_dir(
    load_example: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shared = tmp_path / "shared-tmp"
    planted = shared / "ravyn-uploads"  # the name the example used to adopt
    planted.mkdir(parents=True)
    planted.chmod(0o777)
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    monkeypatch.delenv("UPLOAD_DIR")
    module = load_example("upload_accepted")

    timeline = await upload(module.app, "q3.pdf")

    assert timeline.task_names("task_finished") == ["scan_upload"]
    folder = module.uploads.path
    assert folder.parent == shared and folder != planted
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert list(planted.iterdir()) == []
    assert (folder / "q3.pdf.scan.txt").is_file()
    assert UploadFolder(None).path != folder  # a new one each time: no name to guess


def test_a_configured_folder_that_does_not_exist_is_made_private_when_the_app_starts(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "uploads"
    UploadFolder(str(folder))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_an_unsafe_configured_folder_stops_the_example_from_starting(
    load_example: Callable[[str], ModuleType], upload_dir: Path
) -> None:
    upload_dir.mkdir(mode=0o777)
    upload_dir.chmod(0o777)
    # RuntimeError: a fresh import of the example brings a fresh `UnsafeFolderError` class with it
    with pytest.raises(RuntimeError, match="can be written by other users"):
        load_example("upload_accepted")


@pytest.mark.parametrize("mode", [0o770, 0o777, 0o722, 0o1777])
def test_a_configured_folder_others_can_write_to_is_refused(mode: int, tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    folder.chmod(mode)
    with pytest.raises(UnsafeFolderError, match="can be written by other users"):
        UploadFolder(str(folder))


def test_a_configured_folder_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "uploads").symlink_to(real)
    with pytest.raises(UnsafeFolderError, match="is not a folder"):
        UploadFolder(str(tmp_path / "uploads"))


def test_a_configured_folder_of_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir(mode=0o700)
    monkeypatch.setattr(os, "geteuid", lambda: folder.stat().st_uid + 1)
    with pytest.raises(UnsafeFolderError, match="belongs to another user"):
        UploadFolder(str(folder))


def test_the_length_limit_leaves_room_for_the_longest_suffix(tmp_path: Path) -> None:
    uploads = UploadFolder(str(tmp_path / "uploads"), suffixes=(".scan.txt", ".thumbnail.webp"))
    limit = os.pathconf(uploads.path, "PC_NAME_MAX") - len(".thumbnail.webp")
    assert uploads.checked_name("a" * limit, field="filename") == "a" * limit
    with pytest.raises(RequestError) as refused:
        uploads.checked_name("a" * (limit + 1), field="filename")
    assert refused.value.status_code == 400
    assert refused.value.errors[0]["msg"] == f"must be at most {limit} bytes long"
