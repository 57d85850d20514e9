"""The request each example is driven with, and what it must show.

One entry per module of `docs_src/background_tasks/` (helper modules such as
`celery_app` are listed in `HELPERS`). The test suite (`tests/docs_src/`) and
the docs build (`docs/hooks/timelines.py`) both read this catalogue, so the
request a page shows is the request the tests send.
"""

from __future__ import annotations

import json as jsonlib
import shlex
from dataclasses import dataclass, field
from typing import Any

PACKAGE = "docs_src.background_tasks"

HELPERS = frozenset({"celery_app", "safe_files", "safe_urls", "webhook_receiver"})
"""Modules that support examples but are not examples themselves."""


@dataclass(frozen=True)
class Probe:
    """A second request, sent by another client while the first request's work runs.

    The figure shows when it was sent and when it got its answer: how long a
    job makes everybody else wait.
    """

    method: str
    path: str
    after: float
    """Seconds after the first request was sent."""


@dataclass(frozen=True)
class Example:
    """One example module and the request that shows what it does."""

    module: str
    """Module name inside `docs_src.background_tasks`."""
    title: str
    method: str
    path: str
    json: Any = None
    status: int = 200
    body: Any = None
    """The JSON body the response must have (None: not checked here)."""
    tasks: tuple[str, ...] = ()
    """The background tasks' names, in the order they must start."""
    failing: tuple[str, ...] = ()
    """Tasks that fail on purpose (the "wrong" pitfall variants)."""
    notes: dict[str, Any] = field(default_factory=dict)
    effects: tuple[str, ...] = ()
    """The messages the tasks log on the example's own logger (`logging.getLogger(__name__)`),
    in order; each appears once, after the response is complete."""
    body_includes: dict[str, Any] | None = None
    """For a body holding a value that changes on every request (a job id), the
    items it must include; `body` is then None."""
    queue: str | None = None
    """The task queue the work is handed to instead of a background task (`"celery"`):
    it runs on a worker, outside the request's timeline."""
    probe: Probe | None = None
    """A second request sent while this one's work runs, drawn on the figure."""
    lost_value: str | None = None
    """A value the task computes that the client never gets: it shows up in the
    task's log after the response is complete, and not in the response body."""
    run_env: dict[str, str] = field(default_factory=dict)
    """Environment variables the "Try it" command sets, so that the example answers
    the printed `curl` as its figure shows."""

    @property
    def import_path(self) -> str:
        """Dotted module path, e.g. `docs_src.background_tasks.quick_start`."""
        return f"{PACKAGE}.{self.module}"

    def command(self) -> str:
        """The shell command that serves this example with uvicorn, from the repository's root."""
        env = [f"{name}={shlex.quote(value)}" for name, value in self.run_env.items()]
        return " ".join([*env, "uvicorn", f"{self.import_path}:app", "--reload"])

    def curl(self, base: str = "http://127.0.0.1:8000") -> str:
        """The `curl` command that sends this request to a running server."""
        parts = ["curl", "-i", "-X", self.method, f"'{base}{self.path}'"]
        if self.json is not None:
            parts += ["-H", "'content-type: application/json'", "-d", f"'{jsonlib.dumps(self.json)}'"]
        return " ".join(parts)


EXAMPLES: dict[str, Example] = {}
"""Filled in below, in the order the pages show them."""


def _add(example: Example) -> None:
    EXAMPLES[example.module] = example


_add(
    Example(
        module="quick_start",
        title="Quick start: a sign-up that emails afterwards",
        method="POST",
        path="/accounts",
        json={"email": "ada@example.com"},
        status=201,
        body={"account_id": 1, "email": "ada@example.com"},
        tasks=("send_welcome_email",),
        effects=("Welcome email sent to ada@example.com",),
    )
)
_add(
    Example(
        module="decorator_single_task",
        title="One task on the route decorator",
        method="POST",
        path="/articles",
        json={"title": "Background tasks in five minutes"},
        status=201,
        body={"published": "Background tasks in five minutes"},
        tasks=("record_audit_entry",),
        effects=("Audit entry: article_published",),
    )
)
_add(
    Example(
        module="decorator_many_tasks",
        title="Several tasks on the route decorator",
        method="POST",
        path="/subscriptions",
        json={"email": "ada@example.com"},
        status=201,
        body={"subscribed": "ada@example.com"},
        tasks=("notify_editor", "count_event", "refresh_subscriber_total"),
        effects=(
            "Editor notified at editor@example.com",
            "Counted event newsletter_subscription",
            "Subscriber total refreshed",
        ),
    )
)
_add(
    Example(
        module="decorator_response_tasks",
        title="Several tasks put on the response by the handler",
        method="POST",
        path="/invitations",
        json={"email": "grace@example.com"},
        status=201,
        body={"invited": "grace@example.com"},
        tasks=("send_invitation", "record_audit_entry"),
        effects=("Invitation sent to grace@example.com", "Audit entry: invitation_sent"),
    )
)
_add(
    Example(
        module="response_single_task",
        title="One task on the response",
        method="POST",
        path="/alerts",
        json={"device_id": 7, "text": "Front door open"},
        status=202,
        body={"status": "alert queued"},
        tasks=("push_alert",),
        effects=("Alert pushed to device 7: Front door open",),
    )
)
_add(
    Example(
        module="response_many_tasks",
        title="Several tasks on the response",
        method="POST",
        path="/checkout",
        json={"customer_id": 42, "email": "ada@example.com"},
        status=202,
        body={"status": "processing"},
        tasks=("email_receipt", "add_loyalty_points", "record_audit_entry"),
        effects=(
            "Receipt emailed to ada@example.com",
            "Loyalty points added for customer 42",
            "Audit entry: checkout_completed",
        ),
    )
)
_add(
    Example(
        module="add_task_conditional",
        title="add_task: tasks chosen by the handler, with keyword arguments",
        method="POST",
        path="/transfers",
        json={"account_email": "ada@example.com", "amount": 25000},
        status=202,
        body={"status": "accepted", "amount": 25000},
        tasks=("email_account_holder", "write_ledger_note"),
        effects=(
            "Email to ada@example.com: Your transfer is being reviewed",
            "Ledger note (review): 25000 from ada@example.com held",
        ),
    )
)
_add(
    Example(
        module="audit_refused_transfer",
        title="when=: an audit line and a clean-up after a refused request",
        method="POST",
        path="/transfers",
        json={"account": "acc-1", "amount": 5000},
        status=403,
        body={"detail": "Transfers over 1000 need an approval"},
        tasks=("record_audit_entry", "release_hold"),
        effects=("Audit: acc-1 asked to transfer 5000", "Hold 1 released"),
    )
)
_add(
    Example(
        module="sync_and_async_tasks",
        title="def and async def tasks together",
        method="POST",
        path="/photos",
        json={"photo": "harbour.jpg"},
        status=200,
        body={"photo": "harbour.jpg", "status": "ok"},
        tasks=("make_thumbnail", "publish_to_cdn"),
        effects=("Thumbnail made for harbour.jpg", "harbour.jpg published to the CDN"),
    )
)
_add(
    Example(
        module="registration_flow",
        title="A registration with three follow-up tasks",
        method="POST",
        path="/register",
        json={"email": "ada@example.com", "password": "correct horse battery staple"},
        status=201,
        body={"user_id": 1, "message": "Registration successful"},
        tasks=("send_welcome_email", "create_default_profile", "notify_admins"),
        effects=(
            "Welcome email sent to ada@example.com",
            "Default profile created for user 1",
            "Admins told about the new user ada@example.com",
        ),
    )
)
_add(
    Example(
        module="upload_accepted",
        title="An upload accepted for processing (202)",
        method="POST",
        path="/uploads",
        json={"filename": "quarterly-report.pdf", "user_id": 7},
        status=202,
        body={"message": "Upload accepted, scan started", "file": "quarterly-report.pdf"},
        tasks=("scan_upload",),
        effects=("Scanned quarterly-report.pdf for user 7: clean",),
        notes={"env": {"UPLOAD_DIR": "the folder uploads and scan reports go to"}},
    )
)
_add(
    Example(
        module="webhook_notification",
        title="A webhook sent with httpx after the order is created",
        method="POST",
        path="/orders",
        json={"sku": "KB-42", "quantity": 2, "webhook_url": "http://127.0.0.1:9000/hooks/orders"},
        status=201,
        body={"order_id": 1, "status": "created"},
        tasks=("send_webhook",),
        effects=("Webhook for order 1 delivered (HTTP 200)",),
        # the example refuses loopback webhook URLs unless their host is allowed
        run_env={"WEBHOOK_ALLOWED_HOSTS": "127.0.0.1:9000"},
        notes={
            "receiver": "webhook_url must point at a running receiver that answers 200 "
            "(the tests start one on a free port and put its URL here)",
        },
    )
)
_add(
    Example(
        module="pitfall_return_value_wrong",
        title="Pitfall: expecting a task's return value",
        method="POST",
        path="/cart/total",
        json={"prices": [12.5, 30.0]},
        status=200,
        body={"status": "calculating"},
        tasks=("add_up",),
        effects=("Cart total computed: 42.5",),
        lost_value="42.5",
    )
)
_add(
    Example(
        module="pitfall_return_value_right",
        title="Fix: compute the result in the handler",
        method="POST",
        path="/cart/total",
        json={"prices": [12.5, 30.0]},
        status=200,
        body={"total": 42.5},
        tasks=("record_cart_total",),
        effects=("Cart of 2 items totalled 42.5",),
    )
)
_add(
    Example(
        module="pitfall_long_job_wrong",
        title="Pitfall: a long job as a background task",
        method="POST",
        path="/reports",
        json={"month": "2024-05"},
        status=202,
        body={"status": "building", "month": "2024-05"},
        tasks=("build_monthly_report",),
        effects=("Monthly report for 2024-05 built",),
        probe=Probe("GET", "/openapi.json", after=0.1),
    )
)
_add(
    Example(
        module="pitfall_long_job_celery",
        title="Fix: hand the long job to Celery",
        method="POST",
        path="/reports",
        json={"month": "2024-05"},
        status=202,
        body_includes={"status": "queued"},
        queue="celery",
        probe=Probe("GET", "/openapi.json", after=0.1),
        notes={"job": "docs_src.background_tasks.pitfall_long_job_celery.build_monthly_report"},
    )
)
_add(
    Example(
        module="queue_job_status",
        title="A queued job with its id (202) and GET /jobs/{job_id} for its state",
        method="POST",
        path="/imports",
        json={"emails": ["ada@example.com", "grace@example.com"]},
        status=202,
        body_includes={"status": "queued"},
        queue="celery",
        notes={
            "job": "docs_src.background_tasks.queue_job_status.import_contacts",
            "env": {"IMPORT_SECONDS_PER_CONTACT": "how long the simulated check of one address takes"},
        },
    )
)
_add(
    Example(
        module="pitfall_silent_error_wrong",
        title="Pitfall: a task that does not handle its errors",
        method="POST",
        path="/refunds",
        json={"payment_id": "pay_1001"},
        status=202,
        body={"status": "refund requested"},
        tasks=("issue_refund",),
        failing=("issue_refund",),
    )
)
_add(
    Example(
        module="pitfall_logged_error_right",
        title="Fix: catch and log the error in the task",
        method="POST",
        path="/refunds",
        json={"payment_id": "pay_1001"},
        status=202,
        body={"status": "refund requested"},
        tasks=("issue_refund",),
        effects=("Refund for payment pay_1001 not issued: the record has no amount",),
    )
)
_add(
    Example(
        module="pitfall_request_in_task_wrong",
        title="Pitfall: reading the request inside the task",
        method="POST",
        path="/feedback",
        json={"stars": 5, "comment": "Quick and painless"},
        status=202,
        body={"status": "thanks"},
        tasks=("store_feedback",),
        failing=("store_feedback",),
    )
)
_add(
    Example(
        module="pitfall_request_values_right",
        title="Fix: pass the request's values, not the request",
        method="POST",
        path="/feedback",
        json={"stars": 5, "comment": "Quick and painless"},
        status=202,
        body={"status": "thanks"},
        tasks=("store_feedback",),
        effects=(
            "Feedback on http://testserver/feedback from 127.0.0.1 stored: 5 stars, 'Quick and painless'",
        ),
    )
)
_add(
    Example(
        module="lilya_classes",
        title="Lilya's Task and Tasks on a Ravyn response",
        method="POST",
        path="/backups",
        json={"database": "orders"},
        status=202,
        body={"status": "backup scheduled", "database": "orders"},
        tasks=("dump_database", "upload_archive"),
        effects=("Dumped orders", "Archive of orders uploaded"),
    )
)
_add(
    Example(
        module="model_body_task",
        title="A pydantic model as the body, handed to a task",
        method="POST",
        path="/orders",
        json={
            "email": "ada@example.com",
            "lines": [{"product": "tea", "quantity": 2}, {"product": "cake", "quantity": 1}],
        },
        status=202,
        body={"status": "accepted", "lines": 2},
        tasks=("send_order_confirmation",),
        effects=("Confirmation for 3 items sent to ada@example.com",),
    )
)
_add(
    Example(
        module="dependency_adds_task",
        title="A dependency that adds a task to the handler's collector",
        method="GET",
        path="/forecast?city=Lisbon&api_key=acme-123",
        status=200,
        body={"city": "Lisbon", "forecast": "sunny", "client": "acme"},
        tasks=("record_api_usage", "warm_report_cache"),
        effects=("Usage recorded: acme called /forecast", "Report cache warmed for Lisbon"),
    )
)
_add(
    Example(
        module="dependency_session",
        title="A database session from a yield dependency, used in a task",
        method="POST",
        path="/signups",
        json={"email": "ada@example.com"},
        status=201,
        body={"email": "ada@example.com", "status": "registered"},
        tasks=("count_signups",),
        effects=("Signup of ada@example.com counted: 1 in total", "Session closed"),
    )
)
_add(
    Example(
        module="session_commit_after_tasks_wrong",
        title="Pitfall: a session that commits after yield, after the tasks",
        method="POST",
        path="/orders",
        json={"item": "teapot"},
        status=201,
        body={"order_id": 1, "status": "placed"},
        tasks=("send_confirmation",),
        effects=("Order 1 not found: no confirmation sent", "Order committed"),
    )
)
_add(
    Example(
        module="session_commit_before_response_right",
        title="Fix: commit, then respond, then run",
        method="POST",
        path="/orders",
        json={"item": "teapot"},
        status=201,
        body={"order_id": 1, "status": "placed"},
        tasks=("send_confirmation",),
        effects=("Confirmation sent for order 1 (teapot)", "Session closed"),
    )
)
_add(
    Example(
        module="pipeline_stop_on_error",
        title="A pipeline that stops at its first failure",
        method="POST",
        path="/images",
        json={"name": "report.pdf"},
        status=202,
        body={"image": "report.pdf", "status": "processing"},
        tasks=("resize_image",),
        failing=("resize_image",),
    )
)
_add(
    Example(
        module="durable_tasks",
        title="A durable task: in the journal before the 201, run again after a crash",
        method="POST",
        path="/orders",
        json={"order_id": 42, "email": "ada@example.com"},
        status=201,
        body={"order_id": 42, "status": "placed"},
        tasks=("send_invoice",),
        effects=("Invoice for order 42 sent to ada@example.com",),
        notes={
            "env": {"TASK_JOURNAL_DIR": "the folder of the task journal (tasks.sqlite3)"},
            "not_in_browser": "durable tasks need a task journal, a SQLite file written by a thread, "
            "and a second start of the server; a browser page has none of these",
        },
    )
)
