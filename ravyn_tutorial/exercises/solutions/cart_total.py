"""A solution of the cart_total exercise: the total in the handler, the audit note after."""

from ravyn import BackgroundTask, Ravyn, post
from ravyn.responses import JSONResponse


def add_up(prices: list[float]) -> float:
    return sum(prices)


def audit_total(total: float) -> None:
    print(f"audit: a cart came to {total:.2f}")


@post("/cart/total")
def cart_total(prices: list[float]) -> JSONResponse:
    total = add_up(prices)
    return JSONResponse({"total": total}, status_code=200, background=BackgroundTask(audit_total, total))


app = Ravyn()
app.add_route(cart_total)
