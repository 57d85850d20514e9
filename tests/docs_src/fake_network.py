"""A resolver whose answers the test chooses, and a guard that lets connections reach loopback only.

Patched into anyio (which both the webhook's check and httpx's connection go
through), they let a test play a rebinding DNS server without any packet
leaving the machine: names are answered from a table (in turn, the last answer
repeating), IP literals are parsed locally (`AI_NUMERICHOST`), and a connection
to any address but loopback is recorded and refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import anyio._core._sockets
import pytest


def address_info(address: str, port: int) -> tuple[Any, ...]:
    """One entry of a `getaddrinfo` answer for a TCP connection to `address`."""
    if ":" in address:
        return (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))


class FakeNetwork:
    """DNS answers from `names`; connections allowed to loopback only, every attempt recorded.

    Each name has a list of answers, given in turn (the last one repeats); an
    answer is one address or several, comma-separated.
    """

    def __init__(self, names: dict[str, list[str]] | None = None) -> None:
        self.names = {name: list(answers) for name, answers in (names or {}).items()}
        self.lookups: list[str] = []
        self.connects: list[tuple[str, int]] = []
        """Every (host, port) a connection was asked for, refused or not."""
        self._getaddrinfo = anyio.getaddrinfo
        self._connect_tcp = anyio.connect_tcp

    async def getaddrinfo(self, host: Any, port: Any, **options: Any) -> list[Any]:
        """Answer a name from the table; parse an IP literal; anything else does not exist."""
        host = host.decode() if isinstance(host, bytes) else str(host)
        self.lookups.append(host)
        answers = self.names.get(host.lower())
        if answers is None:
            options["flags"] = options.get("flags", 0) | socket.AI_NUMERICHOST  # never asks a DNS server
            return list(await self._getaddrinfo(host, port, **options))
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return [address_info(address, int(port or 0)) for address in answer.split(",")]

    async def connect_tcp(self, remote_host: Any, remote_port: int, **options: Any) -> Any:
        """Connect to a loopback address (a name is resolved here, once); refuse anything else."""
        host = str(remote_host)
        self.connects.append((host, remote_port))
        try:
            address = ipaddress.ip_address(host)
        except ValueError:  # a name: resolved as anyio would, with the fake answers
            [first, *_] = await self.getaddrinfo(host, remote_port, type=socket.SOCK_STREAM)
            address = ipaddress.ip_address(first[4][0])
        if not address.is_loopback:
            raise OSError(f"test network: no connection to {host} ({address}) leaves this machine")
        return await self._connect_tcp(str(address), remote_port, **options)


@contextmanager
def fake_network(
    monkeypatch: pytest.MonkeyPatch, names: dict[str, list[str]] | None = None
) -> Iterator[FakeNetwork]:
    """Patch anyio's resolver and TCP connect with a `FakeNetwork` for the block."""
    network = FakeNetwork(names)
    with monkeypatch.context() as patch:
        patch.setattr(anyio, "getaddrinfo", network.getaddrinfo)
        patch.setattr(anyio._core._sockets, "getaddrinfo", network.getaddrinfo)
        patch.setattr(anyio, "connect_tcp", network.connect_tcp)
        yield network
