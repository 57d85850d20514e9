"""The webhook example posts its event to a real receiver on 127.0.0.1, after the response,
and only ever to the address it checked (no DNS rebinding, Host header and TLS name kept)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from docs_src.background_tasks.safe_urls import pinned_client, vet_url
from docs_src.catalogue import EXAMPLES
from ravyn.testing import record
from tests.docs_src.examples import task_effects
from tests.docs_src.fake_network import fake_network
from tests.docs_src.receiver import WebhookReceiver

pytestmark = pytest.mark.anyio


async def test_the_receiver_gets_the_order_event_once_after_the_response(
    load_example: Callable[[str], ModuleType], webhook_receiver: WebhookReceiver
) -> None:
    example = EXAMPLES["webhook_notification"]
    app = load_example("webhook_notification").app
    body = {**example.json, "webhook_url": f"{webhook_receiver.url}/hooks/orders"}

    timeline = await record(app, example.method, example.path, json=body)

    assert (timeline.status, timeline.json()) == (201, {"order_id": 1, "status": "created"})
    [delivery] = webhook_receiver.wait_for(1)
    assert delivery.path == "/hooks/orders"
    assert delivery.content_type == "application/json"
    assert delivery.payload == {"event": "order.created", "order_id": 1, "sku": "KB-42", "quantity": 2}
    assert timeline.started + timeline.response_complete.at < delivery.received_at
    assert [event.detail["text"] for event in task_effects(timeline, example)] == list(example.effects)


async def test_a_receiver_that_is_down_makes_the_task_fail_in_the_log_not_the_response(
    load_example: Callable[[str], ModuleType],
) -> None:
    example = EXAMPLES["webhook_notification"]
    app = load_example("webhook_notification").app
    with WebhookReceiver() as receiver:
        gone = receiver.url  # a loopback port that nothing listens on once the block ends
    body = {**example.json, "webhook_url": f"{gone}/hooks/orders"}

    timeline = await record(app, example.method, example.path, json=body)

    assert timeline.status == 201
    assert timeline.task_names("task_failed") == ["send_webhook"]
    assert any("ConnectError" in line for line in timeline.lines())


PUBLIC = "93.184.215.14"  # a public address: the fake network refuses to connect to it


async def test_a_rebinding_dns_answer_cannot_send_the_webhook_to_loopback(
    load_example: Callable[[str], ModuleType],
    webhook_receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The name is public when checked, 127.0.0.1 when asked again: the connection must use the first."""
    monkeypatch.delenv("WEBHOOK_ALLOWED_HOSTS")
    example = EXAMPLES["webhook_notification"]
    app = load_example("webhook_notification").app
    port = int(webhook_receiver.url.rsplit(":", 1)[1])
    body = {**example.json, "webhook_url": f"http://rebind.example:{port}/hooks/orders"}

    with fake_network(monkeypatch, {"rebind.example": [PUBLIC, "127.0.0.1"]}) as network:
        timeline = await record(app, example.method, example.path, json=body)

    assert timeline.status == 201
    assert timeline.task_names("task_failed") == ["send_webhook"]
    assert network.connects == [(PUBLIC, port)]
    assert webhook_receiver.deliveries == []


async def test_the_webhook_keeps_its_host_header_while_connecting_to_the_vetted_address(
    load_example: Callable[[str], ModuleType],
    webhook_receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOWED_HOSTS", "hooks.example.com:*")
    example = EXAMPLES["webhook_notification"]
    app = load_example("webhook_notification").app
    port = int(webhook_receiver.url.rsplit(":", 1)[1])
    body = {**example.json, "webhook_url": f"http://Hooks.Example.com:{port}/hooks/orders"}

    with fake_network(monkeypatch, {"hooks.example.com": ["127.0.0.1", PUBLIC]}) as network:
        timeline = await record(app, example.method, example.path, json=body)

    assert timeline.status == 201
    [delivery] = webhook_receiver.wait_for(1)
    assert delivery.host == f"hooks.example.com:{port}"
    assert network.connects == [("127.0.0.1", port)]
    assert network.lookups == ["hooks.example.com"]  # once, by the check: the connection uses its answer


def self_signed_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate for `name` only (not for 127.0.0.1), and its key, made with the openssl tool."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    command += ["-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}"]
    command += ["-addext", f"subjectAltName=DNS:{name}"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def tls_receiver(cert: Path, key: Path) -> Iterator[tuple[int, list[str | None], list[str]]]:
    """An https server on 127.0.0.1 answering 200; yields (port, server names sent, Host headers)."""
    server_names: list[str | None] = []
    hosts: list[str] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _socket, server_name, _context: server_names.append(server_name)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            hosts.append(self.headers.get("host", ""))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port, server_names, hosts
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


async def test_https_uses_the_host_name_for_tls_while_connecting_to_the_vetted_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The certificate names only hooks.example.com: it verifies only if TLS is told that name."""
    cert, key = self_signed_certificate(tmp_path, "hooks.example.com")
    monkeypatch.setenv("WEBHOOK_ALLOWED_HOSTS", "hooks.example.com:*")
    trusted = ssl.create_default_context(cafile=str(cert))
    with (
        tls_receiver(cert, key) as (port, server_names, hosts),
        fake_network(monkeypatch, {"hooks.example.com": ["127.0.0.1", PUBLIC]}) as network,
    ):
        vetted = await vet_url(f"https://hooks.example.com:{port}/hooks", field="webhook_url")
        async with pinned_client(vetted, verify=trusted) as client:
            response = await client.post(vetted.url, json={"event": "order.created"})

    assert response.status_code == 200
    assert server_names == ["hooks.example.com"]
    assert hosts == [f"hooks.example.com:{port}"]
    assert network.connects == [("127.0.0.1", port)]


async def test_the_pinned_client_refuses_any_other_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOWED_HOSTS", "hooks.example.com:*")
    with fake_network(monkeypatch, {"hooks.example.com": ["127.0.0.1"]}) as network:
        vetted = await vet_url("http://hooks.example.com:9000/hooks", field="webhook_url")
        async with pinned_client(vetted) as client:
            for other in (
                "http://hooks.example.com:9001/",
                "https://hooks.example.com:9000/",
                "http://other/",
            ):
                with pytest.raises(httpx.ConnectError, match="not the vetted origin"):
                    await client.get(other)
    assert network.connects == []
