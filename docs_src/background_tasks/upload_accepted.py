"""An upload answers 202 Accepted at once and is scanned afterwards; its name cannot leave the folder.

`safe_files.UploadFolder` does the checking: a 400 naming `filename` for a name
with a folder in it or one too long for the disk, a private folder, and files
opened without following links. Configure the folder with `UPLOAD_DIR` (default:
a new private folder in the system's temporary folder) and the simulated scan's
length with `UPLOAD_SCAN_SECONDS`.
"""

import logging
import os
import time

from docs_src.background_tasks.safe_files import UploadFolder
from ravyn import BackgroundTask, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)

REPORT = ".scan.txt"
uploads = UploadFolder(os.environ.get("UPLOAD_DIR"), suffixes=(REPORT,))
SCAN_SECONDS = float(os.environ.get("UPLOAD_SCAN_SECONDS", "0.1"))


def scan_upload(name: str, user_id: int) -> None:
    """Scan the file, then append the verdict to a report next to it."""
    time.sleep(SCAN_SECONDS)  # stands in for a virus scan and thumbnailing
    with uploads.open_to_append(name + REPORT) as report:
        report.write(f"clean, uploaded by user {user_id}\n")
    logger.info("Scanned %s for user %s: clean", name, user_id)


@post("/uploads")
async def accept_upload(filename: str, user_id: int) -> JSONResponse:
    name = uploads.checked_name(filename, field="filename")  # a real app streams the bytes in here
    return JSONResponse(
        {"message": "Upload accepted, scan started", "file": name},
        status_code=202,
        background=BackgroundTask(scan_upload, name, user_id),
    )


app = Ravyn()
app.add_route(accept_upload)
