"""Exercise thumbnails: a slow job must not freeze the server.

POST /photos accepts a photo and makes its thumbnail in the background.
make_thumbnail calls an image library that blocks (time.sleep stands in for
it, and you cannot change the library). It does run after the response, but
while it works the whole server stops: no other client gets an answer.

Make it so that make_thumbnail still runs after the response, still takes
its half second, and the server keeps answering other requests meanwhile.

Check your work:  ravyn-tutorial check thumbnails
Stuck?            ravyn-tutorial hint thumbnails
"""

import time

from ravyn import BackgroundTasks, Ravyn, get, post


async def make_thumbnail(filename: str) -> None:
    time.sleep(0.5)  # the image library at work: it blocks, it never awaits
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
