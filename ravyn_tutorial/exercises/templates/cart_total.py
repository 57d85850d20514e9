"""Exercise cart_total: a background task cannot answer the client.

POST /cart/total should answer with the total of the prices it is sent, and
afterwards write a note of that total to the audit log. The handler hands
the adding-up to a background task, so the client gets an empty answer: by
the time the sum is made, the response is long gone, and the result with it.

Make it so that:
  * the response body is {"total": <the sum of the prices>};
  * audit_total(total) still runs, after the response.

Check your work:  ravyn-tutorial check cart_total
Stuck?            ravyn-tutorial hint cart_total
"""

from ravyn import BackgroundTask, Ravyn, post
from ravyn.responses import JSONResponse


def add_up(prices: list[float]) -> float:
    return sum(prices)


def audit_total(total: float) -> None:
    print(f"audit: a cart came to {total:.2f}")


@post("/cart/total")
def cart_total(prices: list[float]) -> JSONResponse:
    task = BackgroundTask(add_up, prices)
    return JSONResponse({}, status_code=200, background=task)


app = Ravyn()
app.add_route(cart_total)
