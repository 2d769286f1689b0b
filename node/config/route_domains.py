"""Route domain 0 as a BIG-IP lists it: every VLAN that no other route domain holds (the lab's
nodes have the one routing table: docs/design.md). A view of the store, never stored, so a VLAN
made or deleted shows there at once."""
from __future__ import annotations

from typing import Callable

DEFAULT = "/Common/0"


def shown(of_type: Callable[[str], dict], path: str, values: dict) -> dict:
    """A route domain's values as listed: /Common/0 with its VLANs."""
    if path != DEFAULT:
        return values
    taken = {v for p, rd in of_type("net route-domain").items() if p != path for v in rd.get("vlans") or ()}
    vlans = set(values.get("vlans") or ()) | {p for p in of_type("net vlan") if p not in taken}
    return {**values, "vlans": sorted(vlans)}
