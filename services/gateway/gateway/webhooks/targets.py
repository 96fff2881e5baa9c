"""Where a webhook may be sent (OWASP API7, SSRF).

A target URL is resolved and every address it resolves to must be public (not private,
loopback, link-local, multicast, reserved, or the cloud metadata address) unless an operator
allow-listed its network. The request then goes to the address that was checked (the host name
travels in ``Host`` and TLS SNI), so a DNS answer that changes between check and use cannot
redirect it inside. Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from shared.errors import FieldIssue, ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Target:
    url: str  # with the checked address in place of the host name
    host: str
    sni: str | None


def refused(message: str, message_zh: str) -> ValidationFailed:
    return ValidationFailed([FieldIssue("url", "target_refused", message, message_zh)])


def _allowed(address: IPAddress, allow: Sequence[IPNetwork]) -> bool:
    if any(address in net for net in allow):
        return True
    return address.is_global and not address.is_multicast


async def resolve(url: str, *, allow: Sequence[IPNetwork], require_https: bool) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or (require_https and parts.scheme != "https"):
        raise refused("the URL must use https", "回调地址必须使用 https")
    if not parts.hostname or parts.username or parts.password:
        raise refused("the URL needs a host and no credentials", "回调地址须有主机名且不得包含用户名密码")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise refused("the host name does not resolve", "回调地址无法解析") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses or not all(_allowed(a, allow) for a in addresses):
        raise refused(
            "the URL resolves to a private, loopback or link-local address",
            "回调地址指向内网、本机或链路本地地址，不允许",
        )
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return Target(url=pinned, host=host_header, sni=parts.hostname if parts.scheme == "https" else None)


def networks(cidrs: Sequence[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(c, strict=False) for c in cidrs]
