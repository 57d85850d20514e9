"""Exercise order_jobs: three jobs after one order.

POST /orders places an order. Once the client has its answer, three things
must happen, in this order:

    send_receipt(email, order_id)
    reserve_stock(sku, quantity)
    notify_warehouse(order_id)

The client does get its 201, but not one of the three ever runs.

Make it so that all three run after the response, once each, in that order,
with the values of the order.

Check your work:  ravyn-tutorial check order_jobs
Stuck?            ravyn-tutorial hint order_jobs
"""

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
    return JSONResponse({"order_id": order_id, "status": "placed"}, status_code=201)


app = Ravyn()
app.add_route(place_order)
