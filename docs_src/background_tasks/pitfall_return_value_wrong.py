"""Pitfall: a task's return value goes nowhere; the client never sees the total it computes."""

import time

from ravyn import BackgroundTask, Ravyn, post
from ravyn.responses import JSONResponse


def add_up(prices: list[float]) -> float:
    time.sleep(0.05)  # stands in for a slow price lookup
    return sum(prices)  # returned to the task runner, which has nobody to hand it to


@post("/cart/total")
def cart_total(prices: list[float]) -> JSONResponse:
    task = BackgroundTask(add_up, prices)
    # the response is built before the task has run: there is no total to put in it
    return JSONResponse({"status": "calculating"}, background=task)


app = Ravyn()
app.add_route(cart_total)
