"""Pitfall: a task's return value goes nowhere; the client never sees the total it computes."""

import logging
import time

from ravyn import BackgroundTask, Ravyn, post
from ravyn.responses import JSONResponse

logger = logging.getLogger(__name__)


def add_up(prices: list[float]) -> float:
    time.sleep(0.05)  # stands in for a slow price lookup
    total = sum(prices)
    logger.info("Cart total computed: %s", total)  # the only place the total ever shows up
    return total  # returned to the task runner, which has nobody to hand it to


@post("/cart/total")
def cart_total(prices: list[float]) -> JSONResponse:
    task = BackgroundTask(add_up, prices)
    # the response is built before the task has run: there is no total to put in it
    return JSONResponse({"status": "calculating"}, background=task)


app = Ravyn()
app.add_route(cart_total)
