"""HA group scores, sans-IO (F5's `sys ha-group`, 13.x attribute names).

A pool scores its weight times the share of its members up (attribute percent-up-members):
nothing below minimum-threshold members up, its whole weight from sufficient-threshold members up
("all": every member), and in between weight * up / sufficient, rounded down. The group's score is
the sum over its pools; the device active for the traffic group adds the group's active-bonus,
so small ups and downs on both devices do not move the group back and forth.
"""
from __future__ import annotations


def pool_score(weight: int, up: int, total: int, minimum: int = 0, sufficient: str | int = "all") -> int:
    if total == 0 or up < minimum:
        return 0
    need = total if sufficient == "all" else min(int(sufficient), total)
    if need <= 0:
        return weight
    return weight * min(up, need) // need


def group_score(group: dict, counts: dict[str, tuple[int, int]]) -> tuple[int, dict[str, int]]:
    """(score, each pool's part) of an HA group's values; `counts`: pool path -> (up, total).
    A disabled group scores 0."""
    parts = {}
    for pool in group.get("pools") or []:
        up, total = counts.get(pool["name"], (0, 0))
        parts[pool["name"]] = pool_score(int(pool.get("weight", 10)), up, total,
                                         int(pool.get("minimum-threshold", 0)), pool.get("sufficient-threshold", "all"))
    if group.get("status", "enabled") != "enabled":
        return 0, parts
    return sum(parts.values()), parts
