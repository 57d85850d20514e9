"""A solution of the order_jobs exercise: three add_task calls, handed to the response."""

from itertools import count

from ravyn import BackgroundTasks, Ravyn, post
from ravyn.responses import JSONResponse

ORDER_IDS = count(1001)  # each order gets the next number


def send_receipt(email: str, order_id: int) -> None:
    print(f"receipt for order {order_id} sent to {email}")


def reserve_stock(sku: str, quantity: int) -> None:
    print(f"reserved {quantity} x {sku}")


def notify_warehouse(order_id: int) -> None:
    print(f"warehouse told about order {order_id}")


@post("/orders")
def place_order(email: str, sku: str, quantity: int) -> JSONResponse:
    order_id = next(ORDER_IDS)
    jobs = BackgroundTasks()
    jobs.add_task(send_receipt, email, order_id)
    jobs.add_task(reserve_stock, sku, quantity)
    jobs.add_task(notify_warehouse, order_id)
    return JSONResponse({"order_id": order_id, "status": "placed"}, status_code=201, background=jobs)


app = Ravyn()
app.add_route(place_order)
