"""Who is asking: the client's IP address, read through the proxies we trust.

Behind a reverse proxy every request comes from the proxy's address; the proxy says whom it
serves in `X-Forwarded-For`. That header is believed only from a proxy listed in
`TRUSTED_PROXIES` (loopback by default): anyone else could write any address in it and
escape every per-client limit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from conseils.settings import get_settings


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in get_settings().limits.trusted_proxies)


def client_ip(scope: Mapping[str, Any]) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the last
    address of `X-Forwarded-For` that is not a trusted proxy itself (the rightmost entries
    are written by our own proxies; the leftmost ones by whoever connected first)."""
    client = scope.get("client")
    peer = client[0] if client else "inconnu"
    if not _trusted(peer):
        return peer
    forwarded = [
        value.decode("latin-1")
        for name, value in scope.get("headers", ())
        if name == b"x-forwarded-for"
    ]
    hops = [hop.strip() for line in forwarded for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a garbled header: the peer is all we know
        if not _trusted(hop):
            return hop
    return hops[0] if hops else peer
