"""Exercise lost_invoice: an invoice that must survive a crash.

POST /orders places an order and, in the background, sends its invoice.
Sending takes a second (the mail server is slow). When the server dies in
that second (a deploy, an out-of-memory kill, a power cut), the invoice is
never sent and nothing says so: the task lived only in the memory of the
process that died.

Make it so that:
  * an invoice whose server was killed (SIGKILL) after its 201 is sent when
    the app starts again, exactly once;
  * send_invoice stays as it is: it stands for the mail server.

The check serves this file under uvicorn, kills it after the response, and
starts it again in the same folder.

Check your work:  ravyn-tutorial check lost_invoice
Stuck?            ravyn-tutorial hint lost_invoice
"""

import time

from ravyn import BackgroundTasks, Ravyn, post


def send_invoice(order_id: int, email: str) -> None:
    time.sleep(1)  # the mail server, taking its time
    print(f"invoice for order {order_id} sent to {email}")


@post("/orders")
def place_order(order_id: int, email: str, tasks: BackgroundTasks) -> dict[str, object]:
    tasks.add_task(send_invoice, order_id, email)
    return {"order_id": order_id, "status": "placed"}


app = Ravyn(routes=[place_order])
