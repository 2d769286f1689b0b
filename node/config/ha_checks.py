"""Checks of the HA objects against the whole configuration: an HA group's pools exist, and a
traffic group that follows an HA group does not also fail back (F5 refuses the two together)."""
from __future__ import annotations

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
        elif tname == "cm traffic-group" and values.get("ha-group", "none") != "none" \
                and values.get("auto-failback-enabled") == "true":
            raise Invalid(f"traffic group {path} cannot use HA group {values['ha-group']} with "
                          "auto-failback enabled; disable auto-failback first")


def user_of(work: dict, tname: str, path: str):
    """What keeps an HA group or a pool in use (a traffic group, an HA group), or None."""
    for (ot, op), ov in work.items():
        if tname == "sys ha-group" and ot == "cm traffic-group" and base_name(ov.get("ha-group") or "") == base_name(path):
            return ot, op
        if tname == "ltm pool" and ot == "sys ha-group" and any(p["name"] == path for p in ov.get("pools") or []):
            return ot, op
    return None
