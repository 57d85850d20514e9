"""The webhook example's URL check: addresses in every disguise, ports in the allowlist,
malformed URLs answered with a 400 naming the field, and odd URLs never a 5xx.

Every name is answered by a fake resolver and no connection leaves the machine
(`tests/docs_src/fake_network.py`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from types import ModuleType
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from docs_src.background_tasks.safe_urls import allowed_hosts, is_allowed, refusal, vet_url
from docs_src.catalogue import EXAMPLES
from ravyn.exceptions import RequestError
from ravyn.testing import record
from tests.docs_src.fake_network import fake_network

pytestmark = pytest.mark.anyio

PUBLIC = "93.184.215.14"
NAMES = {
    "hooks.example.com": [PUBLIC],
    "mixed.example": [f"{PUBLIC},10.0.0.7"],
    "v6.example": ["2606:4700::1111"],
}


async def order(app: Any, url: str) -> Any:
    body = {**EXAMPLES["webhook_notification"].json, "webhook_url": url}
    return await record(app, "POST", "/orders", json=body)


def the_field_error(timeline: Any) -> str:
    """The one error's message, after checking it names `webhook_url`."""
    [error] = timeline.json()["errors"]
    assert error["loc"] == ["body", "webhook_url"]
    return str(error["msg"])


@pytest.mark.parametrize(
    "url",
    [
        "http://[::127.0.0.1]/hooks",  # IPv4-compatible
        "http://[::ffff:127.0.0.1]/hooks",  # IPv4-mapped
        "http://[::ffff:7f00:1]/hooks",  # the same, written in hex
        "http://[::ffff:169.254.169.254]/latest/meta-data",
        "http://[::ffff:0:7f00:1]/hooks",  # IPv4-translated
        "http://[64:ff9b::7f00:1]/hooks",  # NAT64
        "http://[64:ff9b::a00:1]/hooks",  # NAT64 of 10.0.0.1
        "http://[64:ff9b:1::7f00:1]/hooks",  # local-use NAT64
        "http://[2002:7f00:1::]/hooks",  # 6to4 of 127.0.0.1
        "http://[2002:c0a8:1::1]/hooks",  # 6to4 of 192.168.0.1
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hooks",  # Teredo, client 127.0.0.1
        "http://[fe80::1]/hooks",
        "http://[fe80::1%25eth0]/hooks",
        "http://[fc00::1]/hooks",
        "http://[fec0::1]/hooks",  # site-local
        "http://[ff02::1]/hooks",
        "http://[::]/hooks",
        "http://[::1]/hooks",
        "http://2130706433/hooks",  # 127.0.0.1 as one number
        "http://0x7f.1/hooks",
        "http://127.1/hooks",
        "http://100.64.0.1/hooks",  # shared address space (carrier-grade NAT)
        "http://224.0.0.1/hooks",
        "http://255.255.255.255/hooks",
        "http://mixed.example/hooks",  # one public answer, one private
    ],
)
async def test_an_address_inside_our_network_in_any_form_gets_a_400(
    url: str, load_example: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEBHOOK_ALLOWED_HOSTS")
    app = load_example("webhook_notification").app
    with fake_network(monkeypatch, NAMES) as network:
        timeline = await order(app, url)

    assert timeline.status == 400
    assert "must not point to a private, loopback or link-local address" in the_field_error(timeline)
    assert timeline.all("task_started") == []
    assert network.connects == []


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "2606:4700::1111", "2002:808:808::", "64:ff9b::808:808", "::ffff:8.8.8.8"],
)
def test_public_addresses_and_their_ipv6_forms_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://[::1", "is not a valid URL"),
        ("http://[::1]x/", "is not a valid URL"),
        ("http://hooks.example.com:99999/x", "outside 1-65535"),
        ("http://hooks.example.com:0/x", "outside 1-65535"),
        ("http://hooks.example.com:abc/x", "is not a valid URL"),
        ("http://xn--a.com/x", "is not a valid URL"),  # not valid IDNA
        ("http://\u2100.com/x", "is not a valid URL"),
        ("http://a..b/x", "cannot be resolved"),
        ("http://0177.0.0.1/x", "is not a valid URL"),  # httpx refuses octal; the resolver would not
        ("http://nowhere.example/x", "cannot be resolved"),
        ("http://" + "a" * 64 + ".com/x", "cannot be resolved"),  # a label over 63 characters
        ("ftp://hooks.example.com/x", "must be an http:// or https:// URL"),
    ],
)
async def test_a_malformed_url_gets_a_400_naming_the_field(
    url: str, problem: str, load_example: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = load_example("webhook_notification").app
    with fake_network(monkeypatch, NAMES) as network:
        timeline = await order(app, url)

    assert timeline.status == 400
    assert problem in the_field_error(timeline)
    assert network.connects == []


@pytest.mark.parametrize(
    ("setting", "url", "allowed"),
    [
        ("127.0.0.1:9000", "http://127.0.0.1:9000/hooks", True),
        ("127.0.0.1:9000", "http://127.0.0.1:9001/hooks", False),
        ("127.0.0.1:9000", "http://127.0.0.1/hooks", False),
        ("127.0.0.1", "http://127.0.0.1/hooks", True),  # a bare host: the default port
        ("127.0.0.1", "http://127.0.0.1:9000/hooks", False),
        ("127.0.0.1", "https://127.0.0.1/hooks", True),
        ("127.0.0.1", "https://127.0.0.1:80/hooks", False),
        ("127.0.0.1:*", "http://127.0.0.1:22/hooks", True),
        ("localhost:9000", "http://LocalHost:9000/hooks", True),
        ("localhost:9000", "http://127.0.0.1:9000/hooks", False),  # the host as written, not its address
        ("[::1]:9000", "http://[0:0::1]:9000/hooks", True),
        ("[::1]:9000", "http://[::ffff:127.0.0.1]:9000/hooks", False),
        ("::1", "http://[::1]/hooks", False),  # IPv6 needs brackets: an unclear entry allows nothing
        (":80", "http://127.0.0.1/hooks", False),
        ("[::1", "http://[::1]/hooks", False),
        ("127.0.0.1:x", "http://127.0.0.1/hooks", False),
        ("other.example, 127.0.0.1:9000", "http://127.0.0.1:9000/hooks", True),
    ],
)
async def test_the_allowlist_checks_the_port_too(
    setting: str, url: str, allowed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOWED_HOSTS", setting)
    with fake_network(monkeypatch, {"localhost": ["127.0.0.1"]}):
        try:
            vetted = await vet_url(url, field="webhook_url")
        except RequestError as exc:
            assert not allowed, exc.errors
            assert "private, loopback or link-local" in exc.errors[0]["msg"]
        else:
            assert allowed
            assert ipaddress.ip_address(vetted.address).is_loopback


def test_an_allowlist_entry_that_cannot_be_read_allows_nothing() -> None:
    assert allowed_hosts("[::1, :9000, host:port:extra, h:abc, ,") == []
    assert not is_allowed("http", "127.0.0.1", 80, "127.0.0.1:")


@st.composite
def odd_urls(draw: st.DrawFn) -> str:
    """URLs from near-valid to broken: odd schemes, hosts, ports, brackets, encodings."""
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "ftp", "", "http:", "javascript"]))
    host = draw(
        st.sampled_from(
            [
                "hooks.example.com",
                "v6.example",
                "mixed.example",
                "[::1]",
                "[::1",
                "::1]",
                "[64:ff9b::7f00:1]",
                "[2002:7f00:1::]",
                "[fe80::1%25eth0]",
                "2130706433",
                "xn--a.com",
                "xn--bcher-kva.de",
                "bücher.de",
                "\u2100.com",
                "a..b",
                "",
                "user:pass@hooks.example.com",
                "hooks.example.com@127.0.0.1",
            ]
        )
        | st.text(max_size=20)
    )
    port = draw(
        st.sampled_from(["", ":", ":80", ":0", ":65535", ":65536", ":99999", ":abc", ":-1", ": 80"])
        | st.integers(min_value=-10, max_value=10**6).map(lambda n: f":{n}")
    )
    path = draw(
        st.sampled_from(["", "/", "/hooks", "/%zz", "/\x00", "?q=\ud800", "#f"]) | st.text(max_size=10)
    )
    return f"{scheme}://{host}{port}{path}" if draw(st.booleans()) else draw(st.text(max_size=30))


@given(url=odd_urls())
@example(url="http://[::1")
@example(url="http://hooks.example.com:99999/")
@example(url="http://hooks.example.com:abc/")
@example(url="http://xn--a.com/")
@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_an_odd_webhook_url_never_gets_a_5xx(
    url: str, load_example: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEBHOOK_ALLOWED_HOSTS", raising=False)
    app = load_example("webhook_notification").app
    with fake_network(monkeypatch, NAMES) as network:
        timeline = anyio.run(order, app, url)

    assert timeline.status in (201, 400), (url, timeline.status, timeline.body)
    if timeline.status == 400:
        the_field_error(timeline)
    connected = {ipaddress.ip_address(host) for host, _ in network.connects}
    assert all(refusal(address) is None for address in connected), (url, network.connects)
