"""Plausible wrong fixes, each rejected by `check` with a message naming the
mistake; each reference solution passes, whatever the random requests.

A wrong fix is the reference solution (or the broken template) with a few
lines changed, the way a newcomer would. The checks run in this process
(`run_check`), with fixed seeds, so this suite spawns no server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ravyn_tutorial.checking import Report, run_check
from ravyn_tutorial.exercises import EXERCISES, solution_text, template_text

SEEDS = (11, 2024)


@dataclass(frozen=True)
class WrongFix:
    exercise: str
    mistake: str
    edits: tuple[tuple[str, str], ...]
    says: str
    """Words the failing findings must contain."""
    base: str = "solution"


def _source(fix: WrongFix) -> str:
    exercise = EXERCISES[fix.exercise]
    text = solution_text(exercise) if fix.base == "solution" else template_text(exercise)
    for old, new in fix.edits:
        assert old in text, f"{fix.mistake}: {old!r} is not in the {fix.base}"
        text = text.replace(old, new, 1)
    return text


def _check(tmp_path: Path, name: str, source: str, seed: int) -> Report:
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return run_check(EXERCISES[name], path, seed=seed)


def _failures(report: Report) -> str:
    assert report.error is None, report.error
    return " ".join(" ".join(f.text.split()) for f in report.findings if not f.ok)


SIGNUP_TASK = "    tasks.add_task(send_welcome_email, email)\n"
PARTNER_TASK = "timeout=0.5, retries=2)"
INVOICE_TASK = "BackgroundTask(send_invoice, order_id, email)"
THREE_JOBS = (
    "    jobs.add_task(send_receipt, email, order_id)\n"
    "    jobs.add_task(reserve_stock, sku, quantity)\n"
    "    jobs.add_task(notify_warehouse, order_id)\n"
)
REST = "    reserve_stock(sku, quantity)\n    notify_warehouse(order_id)\n"
FOLLOW_UP = (
    "def follow_up(email: str, order_id: int, sku: str, quantity: int) -> None:\n"
    "    send_receipt(email, order_id)\n" + REST + "\n\n@post("
)
SIGNUP_DEF = "def signup(email: str, tasks: BackgroundTasks) -> dict[str, str]:"

WRONG_FIXES = [
    # ---------------------------------------------------------------- slow_signup
    WrongFix(
        "slow_signup",
        "asyncio.create_task in an async handler",
        (
            ("import time\n", "import asyncio\nimport time\n"),
            ("def send_welcome_email", "async def send_welcome_email"),
            (SIGNUP_DEF, "async def signup(email: str) -> dict[str, str]:"),
            (SIGNUP_TASK, "    asyncio.create_task(send_welcome_email(email))\n"),
        ),
        "asyncio.create_task starts work on the side, outside Ravyn",
    ),
    WrongFix(
        "slow_signup",
        "the address written into the task",
        ((SIGNUP_TASK, '    tasks.add_task(send_welcome_email, "ada@example.com")\n'),),
        "It got the same values for every request: are they written into the code?",
    ),
    WrongFix(
        "slow_signup",
        "add_task(f(x)) calls the function in the handler",
        ((SIGNUP_TASK, "    tasks.add_task(send_welcome_email(email))\n"),),
        "`add_task(send_welcome_email(...))` calls send_welcome_email right away",
    ),
    WrongFix(
        "slow_signup",
        "the slow mail server's stand-in removed",
        (("    time.sleep(0.5)\n", ""),),
        "send_welcome_email no longer calls time.sleep(0.5)",
    ),
    WrongFix(
        "slow_signup",
        "a thread of its own",
        (
            ("import time\n", "import threading\nimport time\n"),
            (SIGNUP_TASK, "    threading.Thread(target=send_welcome_email, args=(email,)).start()\n"),
        ),
        "threading.Thread starts work on the side",
    ),
    WrongFix(
        "slow_signup",
        "sent in the handler and again as a task",
        ((SIGNUP_TASK, SIGNUP_TASK + "    send_welcome_email(email)\n"),),
        "send_welcome_email's work happened 2 times",
    ),
    WrongFix(
        "slow_signup",
        "a hard-coded answer",
        (('return {"email": email,', 'return {"email": "ada@example.com",'),),
        "It gives the same answer whatever it is sent",
    ),
    # ---------------------------------------------------------------- order_jobs
    WrongFix(
        "order_jobs",
        "fixed values for the stock",
        (("jobs.add_task(reserve_stock, sku, quantity)", 'jobs.add_task(reserve_stock, "MUG-01", 2)'),),
        "reserve_stock got 'MUG-01', 2",
    ),
    WrongFix(
        "order_jobs",
        "a fixed order number",
        (("jobs.add_task(notify_warehouse, order_id)", "jobs.add_task(notify_warehouse, 1001)"),),
        "notify_warehouse got 1001",
    ),
    WrongFix(
        "order_jobs",
        "the jobs in the wrong order",
        (
            ("    jobs.add_task(reserve_stock, sku, quantity)\n", ""),
            (
                "    jobs.add_task(notify_warehouse, order_id)\n",
                "    jobs.add_task(notify_warehouse, order_id)\n"
                "    jobs.add_task(reserve_stock, sku, quantity)\n",
            ),
        ),
        "They ran in the order send_receipt, notify_warehouse, reserve_stock",
    ),
    WrongFix(
        "order_jobs",
        "the collection never handed to the response",
        ((", background=jobs)", ")"),),
        "None of the three jobs ran",
    ),
    WrongFix(
        "order_jobs",
        "the jobs called in the handler",
        (
            ("jobs.add_task(send_receipt, email, order_id)", "send_receipt(email, order_id)"),
            ("jobs.add_task(reserve_stock, sku, quantity)", "reserve_stock(sku, quantity)"),
            ("jobs.add_task(notify_warehouse, order_id)", "notify_warehouse(order_id)"),
        ),
        "send_receipt ran in the handler, before the response",
    ),
    WrongFix(
        "order_jobs",
        "add_task(f(x))",
        (("jobs.add_task(send_receipt, email, order_id)", "jobs.add_task(send_receipt(email, order_id))"),),
        "`add_task(send_receipt(...))` calls send_receipt right away",
    ),
    # ---------------------------------------------------------------- thumbnails
    WrongFix(
        "thumbnails",
        "await asyncio.sleep instead of the blocking library",
        (
            ("import time\n", "import asyncio\n"),
            ("def make_thumbnail", "async def make_thumbnail"),
            ("    time.sleep(0.5)\n", "    await asyncio.sleep(0.5)\n"),
        ),
        "make_thumbnail awaits an async sleep instead of calling time.sleep(0.5)",
    ),
    WrongFix(
        "thumbnails",
        "still an async def task (the broken app)",
        (),
        "the server was frozen for",
        base="template",
    ),
    WrongFix(
        "thumbnails",
        "the library's stand-in removed",
        (("    time.sleep(0.5)\n", ""),),
        "make_thumbnail no longer calls time.sleep(0.5)",
    ),
    WrongFix(
        "thumbnails",
        "an early return before the work",
        (
            (
                "    time.sleep(0.5)\n",
                "    if filename:\n"
                '        print(f"thumbnail ready for {filename}")\n'
                "        return\n"
                "    time.sleep(0.5)\n",
            ),
        ),
        "does it return before reaching it?",
    ),
    WrongFix(
        "thumbnails",
        "asyncio.create_task around to_thread",
        (
            ("import time\n", "import asyncio\nimport time\n"),
            (
                "    tasks.add_task(make_thumbnail, filename)\n",
                "    asyncio.create_task(asyncio.to_thread(make_thumbnail, filename))\n",
            ),
        ),
        "asyncio.create_task starts work on the side",
    ),
    WrongFix(
        "thumbnails",
        "the work awaited in a thread before answering",
        (
            ("import time\n", "import time\n\nimport anyio\n"),
            (
                "    tasks.add_task(make_thumbnail, filename)\n",
                "    await anyio.to_thread.run_sync(make_thumbnail, filename)\n",
            ),
        ),
        "make_thumbnail ran in the handler, before the response",
    ),
    WrongFix(
        "thumbnails",
        "a fixed file name",
        (("tasks.add_task(make_thumbnail, filename)", 'tasks.add_task(make_thumbnail, "cat.png")'),),
        "are they written into the code?",
    ),
    # ---------------------------------------------------------------- loyalty_points
    WrongFix(
        "loyalty_points",
        "the except block prints",
        (
            (
                'logger.exception("could not add loyalty points for %s", customer)',
                'print(f"no account for {customer}")',
            ),
        ),
        "the `except` block prints",
    ),
    WrongFix(
        "loyalty_points",
        "except Exception: pass (the broken app)",
        (),
        "swallows the error without a word",
        base="template",
    ),
    WrongFix(
        "loyalty_points",
        "a fix that never adds the points",
        (
            (
                "        POINTS[customer] += int(amount)\n",
                "        if customer not in POINTS:\n            raise KeyError(customer)\n",
            ),
        ),
        "should have gained",
    ),
    WrongFix(
        "loyalty_points",
        "points added to one customer only",
        (("POINTS[customer] += int(amount)", 'POINTS["ada"] += int(amount)'),),
        "should have gained",
    ),
    WrongFix(
        "loyalty_points",
        "logged below WARNING",
        (("logger.exception(", "logger.info("),),
        "it logged the failure at INFO only",
    ),
    WrongFix(
        "loyalty_points",
        "an account made up for an unknown customer",
        (("POINTS[customer] += int(amount)", "POINTS[customer] = POINTS.get(customer, 0) + int(amount)"),),
        "An account was made for",
    ),
    WrongFix(
        "loyalty_points",
        "the receipt sent from inside the points task",
        (
            ("    except KeyError:\n", "        send_receipt(customer, amount)\n    except KeyError:\n"),
            ("    tasks.add_task(send_receipt, customer, amount)\n", ""),
        ),
        "Ravyn ran add_loyalty_points, but 'receipt for",
    ),
    # ---------------------------------------------------------------- visit_log
    WrongFix(
        "visit_log",
        "the Request handed to the task (the broken app)",
        (),
        "record_visit is handed the whole Request",
        base="template",
    ),
    WrongFix(
        "visit_log",
        "the body read in the handler, the Request still handed over",
        (
            (
                "def record_visit(page: str, agent: str) -> None:",
                "def record_visit(request: Request) -> None:\n"
                "    page, agent = 'x', request.headers.get('user-agent')",
            ),
            (
                '    tasks.add_task(record_visit, page, request.headers.get("user-agent", "unknown"))\n',
                "    await request.json()\n    tasks.add_task(record_visit, request)\n",
            ),
        ),
        "record_visit is handed the whole Request",
    ),
    WrongFix(
        "visit_log",
        "a fixed page",
        (("tasks.add_task(record_visit, page,", 'tasks.add_task(record_visit, "/pricing",'),),
        "record_visit got '/pricing'",
    ),
    WrongFix(
        "visit_log",
        "the user agent never read",
        (('request.headers.get("user-agent", "unknown")', '"unknown"'),),
        "record_visit got",
    ),
    WrongFix(
        "visit_log",
        "recorded in the handler",
        (
            (
                '    tasks.add_task(record_visit, page, request.headers.get("user-agent", "unknown"))\n',
                '    record_visit(page, request.headers.get("user-agent", "unknown"))\n',
            ),
        ),
        "record_visit ran in the handler, before the response",
    ),
    # ---------------------------------------------------------------- cart_total
    WrongFix(
        "cart_total",
        "a hard-coded total",
        (('JSONResponse({"total": total}', 'JSONResponse({"total": 8.0}'),),
        "is the answer written into the code?",
    ),
    WrongFix(
        "cart_total",
        "the audit note forgotten",
        ((", background=BackgroundTask(audit_total, total))", ")"),),
        "Ravyn never ran audit_total as a background task",
    ),
    WrongFix(
        "cart_total",
        "the audit note written in the handler",
        (
            ("    total = add_up(prices)\n", "    total = add_up(prices)\n    audit_total(total)\n"),
            (", background=BackgroundTask(audit_total, total))", ")"),
        ),
        "audit_total ran in the handler, before the response",
    ),
    WrongFix(
        "cart_total",
        "add_up kept as a task as well",
        (
            (
                "background=BackgroundTask(audit_total, total))",
                "background=BackgroundTasks("
                "[BackgroundTask(add_up, prices), BackgroundTask(audit_total, total)]))",
            ),
            ("from ravyn import BackgroundTask,", "from ravyn import BackgroundTask, BackgroundTasks,"),
        ),
        "add_up still runs as a background task",
    ),
    WrongFix(
        "cart_total",
        "the prices audited instead of the total",
        (("BackgroundTask(audit_total, total)", "BackgroundTask(audit_total, prices)"),),
        "For POST /cart/total",
    ),
    WrongFix(
        "cart_total",
        "BackgroundTask(f(x))",
        (("BackgroundTask(audit_total, total)", "BackgroundTask(audit_total(total))"),),
        "`BackgroundTask(audit_total(...))` calls audit_total right away",
    ),
    # ------------------------------------------- the task added, the old direct call left in place
    WrongFix(
        "order_jobs",
        "the receipt added as a task and still sent in the handler",
        (
            (
                "    jobs.add_task(send_receipt, email, order_id)\n",
                "    send_receipt(email, order_id)\n    jobs.add_task(send_receipt, email, order_id)\n",
            ),
        ),
        "send_receipt's work happened 2 times",
    ),
    WrongFix(
        "thumbnails",
        "the thumbnail added as a task and still made in a thread before answering",
        (
            ("import time\n", "import time\n\nimport anyio\n"),
            (
                "    tasks.add_task(make_thumbnail, filename)\n",
                "    await anyio.to_thread.run_sync(make_thumbnail, filename)\n"
                "    tasks.add_task(make_thumbnail, filename)\n",
            ),
        ),
        "make_thumbnail's work happened 2 times",
    ),
    WrongFix(
        "visit_log",
        "the visit added as a task and still recorded in the handler",
        (
            (
                '    tasks.add_task(record_visit, page, request.headers.get("user-agent", "unknown"))\n',
                '    record_visit(page, request.headers.get("user-agent", "unknown"))\n'
                '    tasks.add_task(record_visit, page, request.headers.get("user-agent", "unknown"))\n',
            ),
        ),
        "record_visit's work happened 2 times",
    ),
    WrongFix(
        "cart_total",
        "the audit note added as a task and still written in the handler",
        (("    total = add_up(prices)\n", "    total = add_up(prices)\n    audit_total(total)\n"),),
        "audit_total's work happened 2 times",
    ),
    WrongFix(
        "loyalty_points",
        "the points added as a task and still added in the handler",
        (
            (
                "    tasks.add_task(add_loyalty_points, customer, amount)\n",
                "    add_loyalty_points(customer, amount)\n"
                "    tasks.add_task(add_loyalty_points, customer, amount)\n",
            ),
        ),
        "add_loyalty_points ran twice for one checkout",
    ),
    WrongFix(
        "loyalty_points",
        "the receipt added as a task and still sent in the handler",
        (
            (
                "    tasks.add_task(send_receipt, customer, amount)\n",
                "    send_receipt(customer, amount)\n    tasks.add_task(send_receipt, customer, amount)\n",
            ),
        ),
        "send_receipt's work happened 2 times",
    ),
    # ------------------------------------------- an async def task that still blocks
    WrongFix(
        "slow_signup",
        "an async def task that keeps its blocking time.sleep",
        (("def send_welcome_email", "async def send_welcome_email"),),
        "send_welcome_email is an `async def` task, and Ravyn awaits those on the event loop's own thread",
    ),
    WrongFix(
        "thumbnails",
        "an async def wrapper task around the blocking function",
        (
            (
                "@post(",
                "async def thumbnail_later(filename: str) -> None:\n    make_thumbnail(filename)\n\n\n@post(",
            ),
            ("tasks.add_task(make_thumbnail, filename)", "tasks.add_task(thumbnail_later, filename)"),
        ),
        "thumbnail_later is an `async def` task",
    ),
    # ------------------------------------------- the handler's log standing in for the task's
    WrongFix(
        "loyalty_points",
        "a warning logged by the handler, the task's error still swallowed",
        (
            (
                "    tasks.add_task(add_loyalty_points, customer, amount)\n",
                "    if customer not in POINTS:\n"
                '        logger.warning("no loyalty account for %s", customer)\n'
                "    tasks.add_task(add_loyalty_points, customer, amount)\n",
            ),
        ),
        "by the handler, before the task ran",
        base="template",
    ),
    WrongFix(
        "slow_signup",
        "the same task added twice",
        ((SIGNUP_TASK, SIGNUP_TASK + SIGNUP_TASK),),
        "The same task was handed to Ravyn more than once",
    ),
    WrongFix(
        "order_jobs",
        "one wrapper task doing the jobs in the wrong order",
        (
            (
                "@post(",
                FOLLOW_UP.replace(REST, "    notify_warehouse(order_id)\n    reserve_stock(sku, quantity)\n"),
            ),
            (THREE_JOBS, "    jobs.add_task(follow_up, email, order_id, sku, quantity)\n"),
        ),
        "They ran in the order send_receipt, notify_warehouse, reserve_stock",
    ),
    WrongFix(
        "visit_log",
        "an async def task that blocks",
        (
            (
                "def record_visit(page: str, agent: str) -> None:\n",
                "async def record_visit(page: str, agent: str) -> None:\n"
                "    import time\n\n    time.sleep(0.4)\n",
            ),
        ),
        "record_visit is an `async def` task",
    ),
    WrongFix(
        "order_jobs",
        "the three jobs in a concurrent group",
        (("jobs = BackgroundTasks()", "jobs = BackgroundTasks(as_group=True)"),),
        "the jobs ran at the same time (a group, as_group=True)",
    ),
    # ---------------------------------------------------------------- flaky_partner
    WrongFix(
        "flaky_partner",
        "no time limit (the broken app)",
        (),
        "nothing stopped the attempt that hung",
        base="template",
    ),
    WrongFix(
        "flaky_partner",
        "a time limit but no retry",
        ((PARTNER_TASK, "timeout=0.5)"),),
        "Ravyn gave up after 1 attempt(s)",
    ),
    WrongFix(
        "flaky_partner",
        "a time limit longer than the partner's budget",
        ((PARTNER_TASK, "timeout=1.5, retries=2)"),),
        "tell_partner may take 1.5 s per attempt; the partner gets at most 0.5 s",
    ),
    WrongFix(
        "flaky_partner",
        "the partner's hang removed",
        (("        await anyio.sleep(2)\n", "        pass\n"),),
        "must still hang",
    ),
    WrongFix(
        "flaky_partner",
        "the partner called in the handler as well",
        (
            (
                "    task = BackgroundTask(",
                "    await tell_partner(event)\n    task = BackgroundTask(",
            ),
        ),
        "tell_partner's work happened 2 times",
    ),
    # ---------------------------------------------------------------- lost_invoice
    WrongFix(
        "lost_invoice",
        "a plain task (the broken app)",
        (),
        "the task lived only in the memory of the process that died",
        base="template",
    ),
    WrongFix(
        "lost_invoice",
        "durable=True but no task_journal",
        ((', task_journal="invoices.sqlite3")', ")"),),
        "The task asks for durable=True, but the app has no task journal",
    ),
    WrongFix(
        "lost_invoice",
        "a task journal but a plain task",
        ((".configure(durable=True)", ""),),
        "the invoice task is not durable",
    ),
    WrongFix(
        "lost_invoice",
        "a lambda as the durable task",
        ((INVOICE_TASK, "BackgroundTask(lambda: send_invoice(order_id, email))"),),
        "a lambda, or a function defined inside the handler, has no such path",
    ),
    WrongFix(
        "lost_invoice",
        "the invoice sent in the handler as well",
        (("    invoice = ", "    send_invoice(order_id, email)\n    invoice = "),),
        "was sent 2 times: 1 by the server before it was killed, 1 after the restart",
    ),
    WrongFix(
        "lost_invoice",
        "one key for every order",
        ((".configure(durable=True)", '.configure(durable=True, key="invoice")'),),
        "Every order's durable task has the key 'invoice'",
    ),
    WrongFix(
        "lost_invoice",
        "the mail server's second removed",
        (("    time.sleep(1)\n", ""),),
        "send_invoice must keep its `time.sleep(1)`",
    ),
]


def test_every_exercise_has_at_least_three_wrong_fixes() -> None:
    counts = {name: sum(fix.exercise == name for fix in WRONG_FIXES) for name in EXERCISES}
    assert min(counts.values()) >= 3, counts


@pytest.mark.parametrize("fix", WRONG_FIXES, ids=lambda fix: f"{fix.exercise}: {fix.mistake}")
def test_a_wrong_fix_is_rejected_with_a_message_naming_the_mistake(tmp_path: Path, fix: WrongFix) -> None:
    report = _check(tmp_path, fix.exercise, _source(fix), SEEDS[0])

    assert not report.passed
    assert fix.says in _failures(report)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(EXERCISES))
def test_each_reference_solution_passes(tmp_path: Path, name: str, seed: int) -> None:
    report = _check(tmp_path, name, solution_text(EXERCISES[name]), seed)

    assert report.passed, [f.text for f in report.findings if not f.ok]


def test_the_requests_vary_with_the_seed_and_replay_with_it(tmp_path: Path) -> None:
    source = solution_text(EXERCISES["cart_total"])

    first, again, other = (_check(tmp_path, "cart_total", source, seed) for seed in (5, 5, 6))

    sent = [[trial.request for trial in report.trials] for report in (first, again, other)]
    assert sent[0] == sent[1]
    assert sent[0] != sent[2]
    assert len(set(sent[0])) == len(sent[0]) >= 3


POINTS_LINES = (
    "        POINTS[customer] += int(amount)\n"
    '        print(f"{customer} now has {POINTS[customer]} points")\n'
)
POINTS_TRY = (
    "    try:\n"
    + POINTS_LINES
    + '    except KeyError:\n        logger.exception("could not add loyalty points for %s", customer)\n'
)
POINTS_PLAIN = POINTS_LINES.replace("        ", "    ")

RIGHT_IN_OTHER_WORDS = [
    (
        "thumbnails",
        "the blocking call awaited on an executor, inside an async task",
        (
            ("import time\n", "import asyncio\nimport time\n"),
            ("def make_thumbnail", "async def make_thumbnail"),
            (
                "    time.sleep(0.5)\n",
                "    await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0.5)\n",
            ),
        ),
        "",
    ),
    (
        "thumbnails",
        "the blocking call awaited in a worker thread, inside an async task",
        (
            ("import time\n", "import time\n\nimport anyio\n"),
            ("def make_thumbnail", "async def make_thumbnail"),
            ("    time.sleep(0.5)\n", "    await anyio.to_thread.run_sync(time.sleep, 0.5)\n"),
        ),
        "",
    ),
    (
        "slow_signup",
        "a BackgroundTask on the response instead of a parameter",
        (
            (
                "from ravyn import BackgroundTasks, Ravyn, post",
                "from ravyn import BackgroundTask, Ravyn, post\nfrom ravyn.responses import JSONResponse",
            ),
            (SIGNUP_DEF, "def signup(email: str) -> JSONResponse:"),
            (SIGNUP_TASK, ""),
            (
                '    return {"email": email, "status": "registered"}',
                '    body = {"email": email, "status": "registered"}\n'
                "    task = BackgroundTask(send_welcome_email, email)\n"
                "    return JSONResponse(body, status_code=201, background=task)",
            ),
        ),
        "",
    ),
    (
        "loyalty_points",
        "no try/except at all: Ravyn logs the failing task",
        ((POINTS_TRY, POINTS_PLAIN),),
        "",
    ),
    # ---------------------------------------------------------------- functools.partial
    (
        "slow_signup",
        "functools.partial",
        (
            ("import time\n", "import functools\nimport time\n"),
            (SIGNUP_TASK, "    tasks.add_task(functools.partial(send_welcome_email, email))\n"),
        ),
        "",
    ),
    (
        "order_jobs",
        "partial with keywords",
        (
            ("from itertools import count\n", "from functools import partial\nfrom itertools import count\n"),
            (
                "jobs.add_task(reserve_stock, sku, quantity)",
                "jobs.add_task(partial(reserve_stock, sku=sku, quantity=quantity))",
            ),
        ),
        "",
    ),
    (
        "thumbnails",
        "functools.partial",
        (
            ("import time\n", "import functools\nimport time\n"),
            (
                "tasks.add_task(make_thumbnail, filename)",
                "tasks.add_task(functools.partial(make_thumbnail, filename))",
            ),
        ),
        "",
    ),
    # ---------------------------------------------------------------- a lambda
    (
        "slow_signup",
        "a lambda",
        ((SIGNUP_TASK, "    tasks.add_task(lambda: send_welcome_email(email))\n"),),
        "This works, but Ravyn only knows the task as a lambda",
    ),
    (
        "cart_total",
        "a lambda on the response",
        (("BackgroundTask(audit_total, total)", "BackgroundTask(lambda: audit_total(total))"),),
        "This works, but Ravyn only knows the task as a lambda",
    ),
    # ---------------------------------------------------------------- a small wrapper task
    (
        "slow_signup",
        "a small wrapper task",
        (
            (
                "@post(",
                "def welcome_later(email: str) -> None:\n    send_welcome_email(email)\n\n\n@post(",
            ),
            (SIGNUP_TASK, "    tasks.add_task(welcome_later, email)\n"),
        ),
        "This works, but through a task of your own, welcome_later, that calls send_welcome_email",
    ),
    (
        "visit_log",
        "a small wrapper task",
        (
            (
                "@post(",
                "def note_visit(page: str, agent: str) -> None:\n    record_visit(page, agent)\n\n\n@post(",
            ),
            ("tasks.add_task(record_visit,", "tasks.add_task(note_visit,"),
        ),
        "This works, but through a task of your own, note_visit, that calls record_visit",
    ),
    (
        "loyalty_points",
        "a wrapper task that sends the receipt",
        (
            (
                "@post(",
                "def receipt_later(customer: str, amount: float) -> None:\n"
                "    send_receipt(customer, amount)\n\n\n@post(",
            ),
            ("tasks.add_task(send_receipt,", "tasks.add_task(receipt_later,"),
        ),
        "This works, but through a task of your own, receipt_later, that calls send_receipt",
    ),
    (
        "order_jobs",
        "one wrapper task doing the three jobs in order",
        (
            ("@post(", FOLLOW_UP),
            (THREE_JOBS, "    jobs.add_task(follow_up, email, order_id, sku, quantity)\n"),
        ),
        "This works, but through a task of your own, follow_up, that calls reserve_stock",
    ),
    (
        "slow_signup",
        "an async wrapper task awaiting the function in a worker thread",
        (
            ("import time\n", "import time\n\nimport anyio\n"),
            (
                "@post(",
                "async def welcome_later(email: str) -> None:\n"
                "    await anyio.to_thread.run_sync(send_welcome_email, email)\n\n\n@post(",
            ),
            (SIGNUP_TASK, "    tasks.add_task(welcome_later, email)\n"),
        ),
        "This works, but through a task of your own, welcome_later",
    ),
    (
        "slow_signup",
        "the argument by keyword",
        ((SIGNUP_TASK, "    tasks.add_task(send_welcome_email, email=email)\n"),),
        "",
    ),
    (
        "visit_log",
        "a lambda over values read in the handler",
        (
            (
                '    tasks.add_task(record_visit, page, request.headers.get("user-agent", "unknown"))\n',
                '    agent = request.headers.get("user-agent", "unknown")\n'
                "    tasks.add_task(lambda: record_visit(page, agent))\n",
            ),
        ),
        "This works, but Ravyn only knows the task as a lambda",
    ),
    (
        "loyalty_points",
        "a warning that does not name the customer",
        (
            (
                'logger.exception("could not add loyalty points for %s", customer)',
                'logger.warning("no account")',
            ),
        ),
        "",
    ),
    (
        "flaky_partner",
        "add_task with the policy keywords",
        (
            (
                "from ravyn import BackgroundTask, Ravyn, post",
                "from ravyn import BackgroundTasks, Ravyn, post",
            ),
            (
                "async def accept_event(event: str) -> JSONResponse:",
                "async def accept_event(event: str, tasks: BackgroundTasks) -> JSONResponse:",
            ),
            (
                "    task = BackgroundTask(tell_partner, event).configure(timeout=0.5, retries=2)\n",
                "    tasks.add_task(tell_partner, event, timeout=0.5, retries=2)\n",
            ),
            (", background=task)", ")"),
        ),
        "",
    ),
    (
        "lost_invoice",
        "add_task with durable=True and a key",
        (
            (
                "from ravyn import BackgroundTask, Ravyn, post",
                "from ravyn import BackgroundTasks, Ravyn, post",
            ),
            (
                "def place_order(order_id: int, email: str) -> JSONResponse:",
                "def place_order(order_id: int, email: str, tasks: BackgroundTasks) -> JSONResponse:",
            ),
            (
                f"    invoice = {INVOICE_TASK}.configure(durable=True)\n",
                "    tasks.add_task(send_invoice, order_id, email, durable=True,"
                ' key=f"invoice-{order_id}")\n',
            ),
            (", background=invoice)", ")"),
        ),
        "",
    ),
]


@pytest.mark.parametrize(
    ("name", "way", "edits", "note"),
    RIGHT_IN_OTHER_WORDS,
    ids=[f"{name}: {way}" for name, way, _, _ in RIGHT_IN_OTHER_WORDS],
)
def test_a_right_fix_in_other_words_passes_too(
    tmp_path: Path, name: str, way: str, edits: tuple[tuple[str, str], ...], note: str
) -> None:
    source = _source(WrongFix(name, way, edits, ""))

    report = _check(tmp_path, name, source, SEEDS[1])

    assert report.passed, [f.text for f in report.findings if not f.ok]
    said = " ".join(" ".join(f.text.split()) for f in report.findings)
    assert "never started it" not in said
    assert "never ran" not in said
    if note:
        assert note in said
    else:
        assert "This works, but" not in said
