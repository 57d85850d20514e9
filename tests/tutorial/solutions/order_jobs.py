"""A solution of the order_jobs exercise: three add_task calls, handed to the response."""

from ravyn import BackgroundTasks, Ravyn, post
from ravyn.responses import JSONResponse

ORDER_ID = 1001


def send_receipt(email: str, order_id: int) -> None:
    print(f"receipt for order {order_id} sent to {email}")


def reserve_stock(sku: str, quantity: int) -> None:
    print(f"reserved {quantity} x {sku}")


def notify_warehouse(order_id: int) -> None:
    print(f"warehouse told about order {order_id}")


@post("/orders")
def place_order(email: str, sku: str, quantity: int) -> JSONResponse:
    jobs = BackgroundTasks()
    jobs.add_task(send_receipt, email, ORDER_ID)
    jobs.add_task(reserve_stock, sku, quantity)
    jobs.add_task(notify_warehouse, ORDER_ID)
    return JSONResponse({"order_id": ORDER_ID, "status": "placed"}, status_code=201, background=jobs)


app = Ravyn()
app.add_route(place_order)
