"""An audit line for every transfer request, and a clean-up when one is refused.

A task added with `when="always"` runs after the response, whatever it was; one
added with `when="error"` runs only after an error response (the handler or a
dependency raised). The handler places a hold on the funds before it checks
the limit: when it refuses the transfer, the client gets its 403 first, then
the hold is released and the request is audited.
"""

import itertools
import logging

from lilya.exceptions import HTTPException

from ravyn import BackgroundTasks, Ravyn, post

logger = logging.getLogger(__name__)

LIMIT = 1000
hold_ids = itertools.count(1)


def record_audit_entry(account: str, amount: int) -> None:
    logger.info("Audit: %s asked to transfer %s", account, amount)


def release_hold(hold_id: int) -> None:
    logger.info("Hold %s released", hold_id)


def send_receipt(account: str, amount: int) -> None:
    logger.info("Receipt for %s sent to %s", amount, account)


@post("/transfers")
def create_transfer(account: str, amount: int, tasks: BackgroundTasks) -> dict[str, object]:
    tasks.add_task(record_audit_entry, account, amount, when="always")
    hold_id = next(hold_ids)  # funds held until the transfer is sent or refused
    tasks.add_task(release_hold, hold_id, when="error")
    if amount > LIMIT:
        raise HTTPException(status_code=403, detail=f"Transfers over {LIMIT} need an approval")
    tasks.add_task(send_receipt, account, amount)
    return {"account": account, "amount": amount, "status": "sent"}


app = Ravyn(routes=[create_transfer])
