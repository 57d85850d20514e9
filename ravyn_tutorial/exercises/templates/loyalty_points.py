"""Exercise loyalty_points: a failing task must leave a trace.

POST /checkout answers at once, then, in the background, adds loyalty
points to the customer's account and sends a receipt. When the points cannot
be added (a customer we have no account for), nobody ever hears of it: the
error vanishes without a word.

Make it so that:
  * a failure of add_loyalty_points shows up in the server's log (WARNING
    level or above), so someone can see it and fix the account;
  * send_receipt still runs after a failure;
  * the client still gets its 201 either way.

Check your work:  ravyn-tutorial check loyalty_points
Stuck?            ravyn-tutorial hint loyalty_points
"""

import logging

from ravyn import BackgroundTasks, Ravyn, post

logger = logging.getLogger("shop.checkout")

POINTS = {"ada": 120, "grace": 80}


def add_loyalty_points(customer: str, amount: float) -> None:
    try:
        POINTS[customer] += int(amount)
        print(f"{customer} now has {POINTS[customer]} points")
    except Exception:
        pass


def send_receipt(customer: str, amount: float) -> None:
    print(f"receipt for {amount:.2f} sent to {customer}")


@post("/checkout")
def checkout(customer: str, amount: float, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(add_loyalty_points, customer, amount)
    tasks.add_task(send_receipt, customer, amount)
    return {"customer": customer, "status": "paid"}


app = Ravyn()
app.add_route(checkout)
