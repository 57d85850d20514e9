"""A solution of the thumbnails exercise: a plain def, so it runs on a worker thread."""

import time

from ravyn import BackgroundTasks, Ravyn, get, post


def make_thumbnail(filename: str) -> None:
    time.sleep(0.5)
    print(f"thumbnail ready for {filename}")


@post("/photos", status_code=202)
async def upload_photo(filename: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(make_thumbnail, filename)
    return {"filename": filename, "status": "processing"}


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


app = Ravyn()
app.add_route(upload_photo)
app.add_route(health)
