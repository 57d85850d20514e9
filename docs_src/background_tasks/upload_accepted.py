"""An upload answers 202 Accepted at once and is scanned afterwards; its name cannot leave the folder.

Configure the folder with `UPLOAD_DIR` (default: `ravyn-uploads` in the system's temp
folder) and the simulated scan's length with `UPLOAD_SCAN_SECONDS`.
"""

import logging
import os
import re
import tempfile
import time
from pathlib import Path

from ravyn import BackgroundTask, Ravyn, post
from ravyn.exceptions import FieldError, RequestError
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)

UPLOAD_DIR = Path(os.environ.get("UPLOAD_DIR") or Path(tempfile.gettempdir()) / "ravyn-uploads")
SCAN_SECONDS = float(os.environ.get("UPLOAD_SCAN_SECONDS", "0.1"))

# ASCII letters, digits, "_", "-" and ".", not starting with a dot: no "/", "\", "..", NUL or empty name
PLAIN_FILE_NAME = re.compile(r"[\w-][\w.-]{0,254}", re.ASCII)
# names Windows keeps for devices, whatever the extension ("con.txt" is the console)
RESERVED_NAMES = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{n}" for n in range(10)),
    *(f"lpt{n}" for n in range(10)),
}


def upload_path(filename: str) -> Path:
    """Where an upload called `filename` is kept; a 400 naming the field if the name is unsafe."""
    reserved = filename.split(".", 1)[0].lower() in RESERVED_NAMES
    if reserved or not PLAIN_FILE_NAME.fullmatch(filename):
        raise RequestError(
            400,
            "Invalid upload: filename",
            [FieldError(["body", "filename"], "invalid_value", "must be a plain file name, without folders")],
        )
    return UPLOAD_DIR / filename


def scan_upload(path: Path, user_id: int) -> None:
    """Scan the file, then append the verdict to a report next to it."""
    time.sleep(SCAN_SECONDS)  # stands in for a virus scan and thumbnailing
    with path.with_name(path.name + ".scan.txt").open("a", encoding="utf-8") as report:
        report.write(f"clean, uploaded by user {user_id}\n")
    logger.info("Scanned %s for user %s: clean", path.name, user_id)


@post("/uploads")
async def accept_upload(filename: str, user_id: int) -> JSONResponse:
    path = upload_path(filename)
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)  # a real app streams the file's bytes to `path` here
    return JSONResponse(
        {"message": "Upload accepted, scan started", "file": filename},
        status_code=202,
        background=BackgroundTask(scan_upload, path, user_id),
    )


app = Ravyn()
app.add_route(accept_upload)
