"""A stand-in webhook receiver for lessons that call one back.

A lesson whose request carries a `webhook_url` (the webhook example) needs
something listening there. `WebhookReceiver` answers every POST with 200 on
a free 127.0.0.1 port and reports each delivery as a `webhook_received`
event, so the delivery shows up on the lesson's timeline.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ravyn_tutorial.timeline import Event

__all__ = ["URL_FIELDS", "WebhookReceiver", "needs_receiver"]

URL_FIELDS = ("webhook_url", "callback_url")


def needs_receiver(body: Any) -> str | None:
    """The field of `body` holding a callback URL, if it has one."""
    if isinstance(body, dict):
        return next((key for key in URL_FIELDS if isinstance(body.get(key), str)), None)
    return None


class WebhookReceiver:
    """Answers 200 to every request on 127.0.0.1 and reports what it got."""

    def __init__(self, events: queue.Queue[Event], label: Callable[[], str]) -> None:
        self.events = events
        self.label = label
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                receiver.events.put(
                    Event(
                        "webhook_received", time.time(), receiver.label(), {"path": self.path, "body": body}
                    )
                )
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def rewrite(self, url: str) -> str:
        """`url` pointed at this receiver, keeping its path and query."""
        parts = urlsplit(url)
        return urlunsplit(("http", f"127.0.0.1:{self.port}", parts.path or "/", parts.query, ""))

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(2)
