"""An explicit HTTP proxy's CONNECT (ltm profile http proxy-type explicit): the client asks for a
tunnel to host:port; a name is resolved with the profile's net dns-resolver (its forward zone's
name server, the longest zone that holds the name; lab DNS servers only, nothing outside the lab),
the tunnel opened when the virtual allows CONNECT (an http-proxy-connect profile with default-state
enabled, or explicit-proxy default-connect-handling allow), then bytes copied both ways.
"""
from __future__ import annotations

import dns.asyncquery
import dns.message
import dns.rdatatype

from ..config.schema import is_address

ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"
REFUSED = b"HTTP/1.0 403 Forbidden\r\nServer: BigIP\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
UNRESOLVED = b"HTTP/1.0 502 Bad Gateway\r\nServer: BigIP\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class Unresolved(Exception):
    """No forward zone holds the name, or its name server gave no address."""


def target(authority: bytes) -> tuple[str, int]:
    """A CONNECT's host:port ([v6]:port too); ValueError if it is not one."""
    host, sep, port = authority.decode("latin-1").rpartition(":")
    if not sep or not port.isdigit() or not host or not 0 < int(port) < 65536:
        raise ValueError(f"not host:port: {authority!r}")
    return host.strip("[]"), int(port)


def allowed(http: dict, connect: dict | None) -> bool:
    """Whether the virtual opens CONNECT tunnels: its http-proxy-connect profile decides, else the
    explicit proxy's default-connect-handling."""
    if connect is not None:
        return connect.get("default-state") == "enabled"
    return (http.get("explicit-proxy") or {}).get("default-connect-handling") == "allow"


def nameserver(resolver: dict, name: str) -> tuple[str, int] | None:
    """The first name server of the longest forward zone holding `name` (address, port)."""
    name = name.rstrip(".").lower()
    zones = [z for z in resolver.get("forward-zones") or ()
             if z.get("nameservers") and (name == z["name"].rstrip(".").lower()
                                          or name.endswith("." + z["name"].rstrip(".").lower()))]
    if not zones:
        return None
    zone = max(zones, key=lambda z: len(z["name"]))
    addr, _, port = zone["nameservers"][0].rpartition(":")
    return (addr.strip("[]"), int(port)) if port.isdigit() else (zone["nameservers"][0], 53)


async def resolve(resolver: dict | None, host: str, timeout: float = 2.0) -> str:
    """The host's IPv4 address: itself if it is one, else its A record from the resolver's zone."""
    if is_address(host):
        return host
    server = nameserver(resolver or {}, host)
    if server is None:
        raise Unresolved(host)
    answer = await dns.asyncquery.udp(dns.message.make_query(host, "A"), server[0], timeout=timeout, port=server[1])
    for rrset in answer.answer:
        if rrset.rdtype == dns.rdatatype.A:
            return rrset[0].address
    raise Unresolved(host)
