"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 that records what it is sent."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got."""

    path: str
    payload: Any
    content_type: str
    received_at: float
    """`time.perf_counter()` when the request arrived."""
    host: str = ""
    """The request's `Host` header."""


class WebhookReceiver:
    """Answers every POST with 200 (after `reply_delay` seconds) and keeps a list of them.

    Use it as a context manager; it listens on a free loopback port until the block ends.
    """

    def __init__(self, reply_delay: float = 0.0) -> None:
        self.reply_delay = reply_delay
        self.deliveries: list[Delivery] = []
        self.replied = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:54321`."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        """Wait until `count` deliveries have been answered; return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.replied >= count:
                    return list(self.deliveries)
            time.sleep(0.02)
        raise AssertionError(f"{count} webhook(s) expected in {timeout}s, got {self.deliveries}")

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.perf_counter()
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                delivery = Delivery(
                    self.path,
                    json.loads(raw),
                    self.headers.get("content-type", ""),
                    arrived,
                    self.headers.get("host", ""),
                )
                with receiver._lock:
                    receiver.deliveries.append(delivery)
                time.sleep(receiver.reply_delay)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()
                with receiver._lock:
                    receiver.replied += 1

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        return Handler
