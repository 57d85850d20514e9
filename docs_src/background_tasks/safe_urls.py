"""Checking a URL a client gave us before the server calls it, and calling only what was checked.

A helper of `webhook_notification`: the example's page shows the handler and
the task; the checks live here. Two functions:

* `vet_url(url, field)`: parse `url` (with httpx's own parser, so what is checked
  is what is sent), resolve its host once, and refuse it with a 400 naming
  `field` unless every address it resolves to is on the public internet (or its
  host and port are allowed by `WEBHOOK_ALLOWED_HOSTS`). Returns a `VettedURL`:
  the URL plus the one address that was checked.
* `pinned_client(vetted)`: an `httpx.AsyncClient` that connects to that address
  and nowhere else, whatever the host's DNS answers later. The request keeps its
  `Host` header, and for https the TLS server name and certificate check use the
  URL's host name, not the address.

`WEBHOOK_ALLOWED_HOSTS` is a comma-separated list of `host:port` (that port
only), `host:*` (any port) or `host` (the scheme's default port only: 80 for
http, 443 for https). IPv6 hosts go in brackets: `[::1]:9000`. An allowed host
skips the "public address" rule, nothing else: it is still resolved once and
pinned.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from ravyn.exceptions import FieldError, RequestError

__all__ = ["VettedURL", "allowed_hosts", "pinned_client", "refusal", "vet_url"]

DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 forms that carry an IPv4 address the packets really go to (RFC 4291 mapped,
# RFC 6052 NAT64, RFC 3056 6to4, RFC 4380 Teredo): judged by the IPv4 inside.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class VettedURL:
    """A URL that passed `vet_url`, and the address its connection must go to."""

    url: str
    """The URL as httpx normalises it (IDNA host, percent-encoding)."""
    scheme: str
    host: str
    """The host as sent on the wire (ASCII, IDNA-encoded; an IPv6 address without brackets)."""
    port: int
    address: str
    """The IP address that was checked, the only one the connection may use."""


def refuse(field: str, problem: str) -> RequestError:
    """A 400 whose body names `field` and the problem."""
    return RequestError(
        400, f"Invalid request: {field}", [FieldError(["body", field], "invalid_value", problem)]
    )


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address] | None:
    """The IPv4 addresses an IPv6 address stands for, or None if it is a plain IPv6 address."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in NAT64:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    return None


def refusal(address: IPAddress) -> str | None:
    """Why a connection to `address` would reach our own network, or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reasons = [(ipv4, refusal(ipv4)) for ipv4 in inner]
            return next((f"{ipv4} in IPv6 form, {reason}" for ipv4, reason in reasons if reason), None)
        if address.is_site_local:
            return "a site-local address"
    # Python's `is_global` alone misses some: multicast and a few reserved IPv6 ranges count as global
    for flag, reason in (
        ("is_unspecified", "the unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(address, flag):
            return reason
    if not address.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class Allowed:
    """One entry of `WEBHOOK_ALLOWED_HOSTS`: a host, and a port or None for any."""

    host: str
    port: int | None
    default_port_only: bool


def normalise_host(host: str) -> str:
    """A host in the form `VettedURL.host` has: IP addresses canonical, names IDNA and lower case."""
    host = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return httpx.URL(f"http://{host}/").raw_host.decode("ascii").lower()


def allowed_hosts(setting: str) -> list[Allowed]:
    """Parse `WEBHOOK_ALLOWED_HOSTS`; an entry that cannot be parsed allows nothing."""
    entries = []
    for entry in filter(None, (item.strip() for item in setting.split(","))):
        host, port = entry, ""
        if entry.startswith("["):
            host, bracket, rest = entry.partition("]")
            if not bracket or (rest and not rest.startswith(":")):
                continue
            port = rest.removeprefix(":")
        elif entry.count(":") == 1:
            host, port = entry.split(":")
        elif ":" in entry:
            continue  # IPv6 without brackets: is the last part a port or not?
        if not host.strip("[] ") or entry.endswith(":"):
            continue
        try:
            name = normalise_host(host)
            if port == "*":
                entries.append(Allowed(name, None, default_port_only=False))
            elif port:
                entries.append(Allowed(name, int(port), default_port_only=False))
            else:
                entries.append(Allowed(name, None, default_port_only=True))
        except (ValueError, UnicodeError, httpx.InvalidURL):
            continue  # a typo in the setting must not widen it
    return entries


def is_allowed(scheme: str, host: str, port: int, setting: str) -> bool:
    """Whether `WEBHOOK_ALLOWED_HOSTS` (`setting`) lets the server call `host:port`."""
    try:
        host = normalise_host(host)
    except (ValueError, UnicodeError, httpx.InvalidURL):
        return False
    for entry in allowed_hosts(setting):
        if entry.host != host:
            continue
        if entry.default_port_only and port == DEFAULT_PORTS[scheme]:
            return True
        if not entry.default_port_only and entry.port in (None, port):
            return True
    return False


def ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells (an IPv6 zone, `%25eth0`, left out), or None for a name."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


def check_addresses(field: str, host: str, addresses: list[IPAddress]) -> None:
    """A 400 naming `field` if any of `host`'s addresses is inside our own network."""
    for address in addresses:
        reason = refusal(address)
        if reason:
            raise refuse(
                field, f"must not point to a private, loopback or link-local address ({host} is {reason})"
            )


async def vet_url(url: str, field: str) -> VettedURL:
    """`url` checked and pinned to one address; a 400 naming `field` if the server must not call it."""
    try:
        parsed = httpx.URL(url)
        port = parsed.port
        has_host = bool(parsed.host)  # decoding an IDNA name (`xn--...`) checks it
        host = parsed.raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise refuse(field, f"is not a valid URL: {exc}") from None
    if parsed.scheme not in DEFAULT_PORTS or not has_host:
        raise refuse(field, "must be an http:// or https:// URL with a host")
    port = DEFAULT_PORTS[parsed.scheme] if port is None else port
    if not 1 <= port <= 65535:
        raise refuse(field, f"has port {port}, outside 1-65535")
    allowed = is_allowed(parsed.scheme, host, port, os.environ.get("WEBHOOK_ALLOWED_HOSTS", ""))
    literal = ip_literal(host)
    if literal is not None and not allowed:
        check_addresses(field, host, [literal])
    try:
        answers = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(str(answer[4][0]).split("%")[0]) for answer in answers]
    except (OSError, UnicodeError, ValueError):
        raise refuse(field, f"has a host that cannot be resolved: {host!r}") from None
    if not addresses:
        raise refuse(field, f"has a host that cannot be resolved: {host!r}")
    if not allowed:
        check_addresses(field, host, addresses)
    return VettedURL(str(parsed), parsed.scheme, host, port, addresses[0].compressed)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport that sends requests for one vetted URL's origin to its checked address.

    The request's URL gets the address in place of the host; its `Host` header
    (set by httpx when the request was built) is kept, and for https httpcore's
    `sni_hostname` extension makes TLS use, and verify the certificate against,
    the original host name. A request for any other origin is refused.
    """

    def __init__(self, vetted: VettedURL, **options: Any) -> None:
        super().__init__(trust_env=False, **options)  # a proxy would resolve the host again
        self.vetted = vetted

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` to the vetted address, or raise `httpx.ConnectError` if it is for another origin."""
        url = request.url
        origin = (url.scheme, url.raw_host.decode("ascii").lower(), url.port or DEFAULT_PORTS.get(url.scheme))
        vetted = self.vetted
        if origin != (vetted.scheme, vetted.host, vetted.port):
            raise httpx.ConnectError(
                f"refused: {url.scheme}://{url.host} is not the vetted origin", request=request
            )
        request.url = url.copy_with(host=vetted.address)
        if vetted.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": vetted.host}
        return await super().handle_async_request(request)


def pinned_client(
    vetted: VettedURL, *, timeout: float = 10.0, verify: ssl.SSLContext | bool = True
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` that can only reach `vetted`'s origin, at its checked address.

    It follows no redirects (httpx's default) and ignores proxy settings; `verify`
    is the TLS certificate check, as in httpx.
    """
    transport = PinnedTransport(vetted, verify=verify)
    return httpx.AsyncClient(transport=transport, timeout=timeout, trust_env=False)
