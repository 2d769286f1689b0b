"""SNAT on the full proxy, sans-IO: which address of a snatpool a client's connections leave from.

A BIG-IP spreads a snatpool's connections over its translation addresses; here a client address
always maps to the same one (a stable hash), so a server sees each client as one source.
"""
from __future__ import annotations

import ipaddress
import zlib


def pick(addresses: list[str], client: str) -> str:
    ordered = sorted(addresses, key=lambda a: ipaddress.ip_address(a.split("%")[0]))   # %ID: a route domain's
    return ordered[zlib.crc32(client.encode()) % len(ordered)]


def address(value: str) -> str | None:
    """An iRule's `snat ADDRESS`: the address; `none` or anything else: None."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None
