"""Who the client is, by address: the connection's peer, or what trusted proxies say it was.

`X-Forwarded-For` is believed only when the peer is a proxy listed in SINPLUMA_TRUSTED_PROXIES,
and then only as far as it goes through trusted hops: the client is the rightmost address that
is not a trusted proxy, since every hop appends the address it received the request from and
anything left of an untrusted hop may have been written by the client itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from quart import has_websocket_context, request, websocket

from sinpluma_async.runtime import current_runtime

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN_CLIENT = "unknown"


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as a proxy writes it (bare, bracketed IPv6, or with a port), or None."""
    candidate = text.strip()
    if candidate.startswith("["):
        candidate = candidate[1 : candidate.find("]")] if "]" in candidate else candidate
    elif candidate.count(":") == 1:
        candidate = candidate.partition(":")[0]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def client_address(peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[Network]) -> str:
    """The client's address: `peer` unless it is a trusted proxy, then the rightmost untrusted hop.

    `forwarded_for` holds the values of every `X-Forwarded-For` header, in order. A hop that is
    not an address ends the walk: what the proxy before it says cannot be checked.
    """
    address = parse_address(peer) if peer else None
    if address is None:
        return peer or UNKNOWN_CLIENT
    if not is_trusted(address, proxies):
        return str(address)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        forwarded = parse_address(hop)
        if forwarded is None:
            return str(address)
        address = forwarded
        if not is_trusted(address, proxies):
            return str(address)
    return str(address)


def current_client_address() -> str:
    """The address of the client of the request or websocket being served."""
    connection = websocket if has_websocket_context() else request
    return client_address(
        connection.remote_addr,
        connection.headers.getlist("X-Forwarded-For"),
        current_runtime().settings.trusted_proxies,
    )
