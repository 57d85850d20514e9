"""A webhook receiver to try `webhook_notification` with: it prints each order event it is sent.

Start it on port 9000, the port of the example's `webhook_url`:
`uvicorn docs_src.background_tasks.webhook_receiver:app --port 9000`.
"""

from ravyn import Ravyn, post


@post("/hooks/orders", status_code=200)
def order_event(event: str, order_id: int, sku: str, quantity: int) -> dict[str, str]:
    print(f"{event}: order {order_id}, {quantity} x {sku}", flush=True)
    return {"received": event}


app = Ravyn(routes=[order_event])
