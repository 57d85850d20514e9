"""A solution of the loyalty_points exercise: the failure is logged with its traceback."""

import logging

from ravyn import BackgroundTasks, Ravyn, post

logger = logging.getLogger("shop.checkout")

POINTS = {"ada": 120, "grace": 80}


def add_loyalty_points(customer: str, amount: float) -> None:
    try:
        POINTS[customer] += int(amount)
        print(f"{customer} now has {POINTS[customer]} points")
    except KeyError:
        logger.exception("could not add loyalty points for %s", customer)


def send_receipt(customer: str, amount: float) -> None:
    print(f"receipt for {amount:.2f} sent to {customer}")


@post("/checkout")
def checkout(customer: str, amount: float, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(add_loyalty_points, customer, amount)
    tasks.add_task(send_receipt, customer, amount)
    return {"customer": customer, "status": "paid"}


app = Ravyn()
app.add_route(checkout)
