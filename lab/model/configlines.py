"""How `up` applies a topology's tmsh lines (sans-IO: the order, no IO).

Each node's lines run in their order, nodes side by side; consecutive create/modify/delete lines
go as one transaction (one commit, as tmsh's `create cli transaction`); any other verb (`run cm
config-sync`, `save`...) runs alone, in its place.

Device and traffic groups belong to the whole trust domain (each device shares them, the newest
set winning, as a GTM sync group shares its configuration): made on several devices at once, all
but the newest would be lost. Each node's leading lines that change them therefore run first, all
on one device, the trust authority, as one transaction; every member hears of its groups before
the nodes' other lines run (a BIG-IP makes a device group from any device of the trust domain).

A GTM sync group is built as an engineer builds one: every member joins the group first (its lines
up to the one turning on synchronization), and only once each member hears every other does the
rest run, on the member whose lines carry the group's configuration; sync carries it to the others.
GTM sync gives the group its newest configuration, so a member joining after the configuration was
made would be the newest, and would empty it.
"""
from __future__ import annotations

from node.config.schema import TYPES
from node.config.tmsh import TmshSyntaxError, parse

TRANSACTION_VERBS = ("create", "modify", "delete")


def _command(line: str):
    """The line's one tmsh command, None for a script of several (`cd /P; create ...`) or a line
    tmsh cannot parse (sent as it is, alone: the device says what is wrong with it)."""
    if ";" in line or "&&" in line:
        return None
    try:
        return parse(line)
    except TmshSyntaxError:
        return None


def batches(lines: list[str]) -> list[list[str]]:
    """The lines in order, consecutive create/modify/delete lines together (one transaction)."""
    out: list[list[str]] = []
    joinable = False
    for line in lines:
        cmd = _command(line)
        ok = cmd is not None and cmd.verb in TRANSACTION_VERBS
        if ok and joinable:
            out[-1].append(line)
        else:
            out.append([line])
        joinable = ok
    return out


def trust_scoped(line: str) -> bool:
    """The line changes the trust domain's shared objects (device groups, traffic groups)."""
    cmd = _command(line)
    return (cmd is not None and cmd.verb in TRANSACTION_VERBS and cmd.type in TYPES
            and TYPES[cmd.type].scope_of({}) == "trust")


def hoist_trust(lines: dict[str, list[str]]) -> tuple[list[str], dict[str, list[str]]]:
    """(trust lines, the rest): each node's leading trust-domain lines, node after node, to run on
    the authority, and every node's lines without them."""
    trust, rest = [], {}
    for node, node_lines in lines.items():
        lead = next((i for i, line in enumerate(node_lines) if not trust_scoped(line)), len(node_lines))
        trust += node_lines[:lead]
        if node_lines[lead:]:
            rest[node] = node_lines[lead:]
    return trust, rest


def device_groups_made(lines: list[str]) -> dict[str, list[str]]:
    """The device groups the lines create: name -> its devices."""
    made = {}
    for line in lines:
        cmd = _command(line)
        if cmd is not None and cmd.verb == "create" and cmd.type == "cm device-group":
            made[cmd.name.rsplit("/", 1)[-1]] = list(cmd.values.get("devices", ("add", []))[1])
    return made


def groups_unknown(made: dict[str, list[str]], known: dict[str, set[str]]) -> list[str]:
    """The members that do not know their new device group yet (`known`: device -> the groups
    its sync status lists)."""
    return [f"{device} does not know device group {group} yet" for group, devices in made.items()
            for device in devices if group not in known.get(device, set())]


def sync_group_joined(line: str) -> str | None:
    """The GTM sync group a line turns synchronization on for, else None."""
    cmd = _command(line)
    if cmd is None or cmd.type != "gtm global-settings" or cmd.verb != "modify":
        return None
    if cmd.values.get("synchronization") != ("set", "yes"):
        return None
    name = cmd.values.get("synchronization-group-name")
    return name[1] if name else "default"


def phases(lines: dict[str, list[str]]) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, str]]:
    """(first, then, groups): every node's lines up to and including the last one that joins it to a
    GTM sync group (all of them for a node that joins none), the lines after it, and each joining
    node's group. `then` runs once every member of each group hears the others."""
    first, then, groups = {}, {}, {}
    for node, node_lines in lines.items():
        joins = [(i, g) for i, line in enumerate(node_lines) if (g := sync_group_joined(line))]
        if not joins:
            first[node] = node_lines
            continue
        at, groups[node] = joins[-1]
        first[node], rest = node_lines[:at + 1], node_lines[at + 1:]
        if rest:
            then[node] = rest
    return first, then, groups


def groups_pending(groups: dict[str, str], hears: dict[str, set[str]]) -> list[str]:
    """What keeps the sync groups from being formed: each member's fellow members it does not hear
    yet (`hears`: member -> the group peers its GTM lists)."""
    return [f"{node} does not hear {', '.join(sorted(missing))} in sync group {group}"
            for node, group in sorted(groups.items())
            if (missing := {n for n, g in groups.items() if g == group and n != node} - hears.get(node, set()))]
