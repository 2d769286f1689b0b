"""The node's own network interfaces, read in its namespace (pyroute2): their MACs, as a BIG-IP
shows them (a VLAN's macTrue, the platform's baseMac)."""
from __future__ import annotations

import functools

from ..netlink import IPRoute


@functools.cache
def mac_of(address: str | None = None, ifname: str | None = None) -> str:
    """The MAC of the interface that holds `address` (or is named `ifname`) in this namespace."""
    try:
        with IPRoute() as ipr:
            if address:
                idx = next((a["index"] for a in ipr.get_addr(address=address)), None)
            else:
                idx = next(iter(ipr.link_lookup(ifname=ifname)), None)
            return ipr.get_links(idx)[0].get("IFLA_ADDRESS") if idx is not None else "none"
    except OSError:
        return "none"
