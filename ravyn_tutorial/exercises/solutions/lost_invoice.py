"""A solution of the lost_invoice exercise: a durable task, and a journal for the app.

(`tasks.add_task(send_invoice, order_id, email, durable=True)` does the same;
`configure()` spells the keyword in a way type checkers know.)
"""

import time

from ravyn import BackgroundTask, Ravyn, post
from ravyn.responses import JSONResponse


def send_invoice(order_id: int, email: str) -> None:
    time.sleep(1)
    print(f"invoice for order {order_id} sent to {email}")


@post("/orders")
def place_order(order_id: int, email: str) -> JSONResponse:
    invoice = BackgroundTask(send_invoice, order_id, email).configure(durable=True)
    return JSONResponse({"order_id": order_id, "status": "placed"}, status_code=201, background=invoice)


app = Ravyn(routes=[place_order], task_journal="invoices.sqlite3")
