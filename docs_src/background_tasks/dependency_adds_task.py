"""A dependency that identifies the API client and adds a usage-metering task.

`metered_client` takes the request's `BackgroundTasks`, the same collector the
handler gets: its task runs after the response, before the handler's own task
(it was added first). Any route that declares the dependency is metered.
"""

import logging
import time

from ravyn import BackgroundTasks, Depends, Ravyn, Request, get

logger = logging.getLogger(__name__)


def record_api_usage(client: str, path: str) -> None:
    time.sleep(0.05)  # stands in for a write to the metering store
    logger.info("Usage recorded: %s called %s", client, path)


def warm_report_cache(city: str) -> None:
    time.sleep(0.05)  # stands in for precomputing tomorrow's report
    logger.info("Report cache warmed for %s", city)


def metered_client(request: Request, tasks: BackgroundTasks, api_key: str) -> str:
    client = api_key.split("-", 1)[0]  # a real app would look the key up
    tasks.add_task(record_api_usage, client, request.url.path)
    return client


@get("/forecast")
def forecast(city: str, tasks: BackgroundTasks, client: str = Depends(metered_client)) -> dict[str, str]:
    tasks.add_task(warm_report_cache, city)
    return {"city": city, "forecast": "sunny", "client": client}


app = Ravyn(routes=[forecast])
