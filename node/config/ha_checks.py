"""Checks of the HA objects against the whole configuration: an HA group's pools exist, a
traffic group that follows an HA group does not also fail back (F5 refuses the two together), and
a device's multicast failover path names a multicast group and an interface the device has."""
from __future__ import annotations

import ipaddress

from ..errors import Invalid, NotFound
from .schema import base_name


def check(work: dict, touched: dict) -> None:
    for (tname, path), verb in touched.items():
        if verb == "del":
            continue
        values = work[(tname, path)]
        if tname == "sys ha-group":
            for pool in values.get("pools") or []:
                if ("ltm pool", pool["name"]) not in work:
                    raise NotFound("Pool", pool["name"])
                st = pool.get("sufficient-threshold", "all")
                if st != "all" and not str(st).isdigit():
                    raise Invalid(f'HA group {path}: sufficient-threshold "{st}" is not "all" or a number')
        elif tname == "cm device":
            check_multicast(work, path, values)
        elif tname == "cm traffic-group" and values.get("ha-group", "none") != "none" \
                and values.get("auto-failback-enabled") == "true":
            raise Invalid(f"traffic group {path} cannot use HA group {values['ha-group']} with "
                          "auto-failback enabled; disable auto-failback first")


MGMT_INTERFACE = "eth0"   # a BIG-IP's management interface, as its Linux (and so cm device) names it
MULTICAST_OFF = ("any", "any6")


def check_multicast(work: dict, path: str, values: dict) -> None:
    ip, iface = values.get("multicast-ip", "any6"), values.get("multicast-interface")
    if ip not in MULTICAST_OFF:
        try:
            group = ipaddress.ip_address(ip)
        except ValueError:
            group = None
        if group is None or not group.is_multicast:
            raise Invalid(f"device {path}: multicast-ip {ip} is not a multicast address")
    if iface not in (None, "none", MGMT_INTERFACE) and ("net interface", f"/Common/{iface}") not in work:
        raise NotFound("Interface", iface)


def multicast_path(values: dict) -> tuple[str, str, int] | None:
    """A device's multicast failover path (interface, group, port), or None while it is off."""
    ip, port, iface = values.get("multicast-ip", "any6"), int(values.get("multicast-port") or 0), \
        values.get("multicast-interface")
    if ip in MULTICAST_OFF or not port or iface in (None, "none"):
        return None
    return iface, ip, port


def user_of(work: dict, tname: str, path: str):
    """What keeps an HA group or a pool in use (a traffic group, an HA group), or None."""
    for (ot, op), ov in work.items():
        if tname == "sys ha-group" and ot == "cm traffic-group" and base_name(ov.get("ha-group") or "") == base_name(path):
            return ot, op
        if tname == "ltm pool" and ot == "sys ha-group" and any(p["name"] == path for p in ov.get("pools") or []):
            return ot, op
    return None
