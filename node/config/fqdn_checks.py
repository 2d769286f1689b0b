"""FQDN nodes and pool members in the configuration, as a BIG-IP keeps them.

An FQDN node is `ltm node www.example.com { address any6 fqdn { name www.example.com ... } }`;
a pool member on it (`www.example.com:80 { fqdn { autopopulate enabled } }`) is a template. Neither
carries traffic: each device resolves the name itself (node/ltm/fqdn.py) and adds ephemeral
nodes `_auto_ADDRESS` and members `_auto_ADDRESS:PORT`, which are that device's own, never
saved nor synced. This module normalises and checks what is stored; `Ephemera` is the overlay a
device shows on top of it.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..errors import Invalid
from .schema import ANY6, EPHEMERAL_PREFIX, FQDN_FIELDS, TYPES, base_name

FQDN_DEFAULTS = {f.name: f.default for f in FQDN_FIELDS if f.default is not None}


def is_template(values: dict) -> bool:
    """A node or member that stands for a name, not an address (it carries no traffic itself)."""
    return values.get("address") == ANY6


def node(values: dict, path: str) -> dict:
    """A node after its op: an FQDN node gets F5's defaults and the address any6; checked."""
    fq = values.get("fqdn")
    if not fq or not fq.get("name"):
        if fq and any(fq.get(k, d) != d for k, d in FQDN_DEFAULTS.items()):
            raise Invalid(f"node {path}: fqdn needs a name")
        values.pop("fqdn", None)
        if values.get("address") in (None, ANY6):
            raise Invalid(f"Node {path} requires address")
        return values
    if values.get("address") not in (None, ANY6):
        raise Invalid(f"node {path}: give either an address or an fqdn name, not both")
    fq = {**FQDN_DEFAULTS, **fq}
    name = fq["name"]
    if not hostname(name):
        raise Invalid(f'node {path}: fqdn name "{name}" is not a valid DNS name')
    interval = str(fq["interval"])
    if interval != "ttl" and not (interval.isdigit() and int(interval) >= 1):
        raise Invalid(f'node {path}: fqdn interval "{interval}" is not a number of seconds or "ttl"')
    fq["interval"] = interval
    return {**values, "address": ANY6, "fqdn": fq}


def hostname(name: str) -> bool:
    """A DNS name a device may resolve: letters, digits, hyphens, underscores; dots between labels."""
    labels = name.rstrip(".").split(".")
    if not name or len(name) > 253 or any(not 0 < len(x) <= 63 for x in labels):
        return False
    try:
        ipaddress.ip_address(name)
        return False
    except ValueError:
        pass
    return all(c.isalnum() or c in "-_" for x in labels for c in x)


def member(m: dict, node_values: dict | None, node_path: str, given: dict | None) -> dict | None:
    """A member on an FQDN node becomes its template (address any6, fqdn name and autopopulate,
    the member's own or else its node's); returns the node to make when it is missing (one named
    by its host name, as `members add { www.example.com:80 { fqdn { ... } } }` makes it)."""
    given = given or {}
    if node_values is not None and not is_template(node_values):
        if given.get("name") or given.get("autopopulate", "disabled") != "disabled":
            raise Invalid(f"member {m['name']}: node {node_path} has an address, not an fqdn")
        m.pop("fqdn", None)
        return None
    made = None
    if node_values is None:
        host = given.get("name") or base_name(node_path)
        made = node({**TYPES["ltm node"].defaults(),
                     "fqdn": {"name": host, "autopopulate": given.get("autopopulate", "disabled")}}, node_path)
        node_values = made
    fq = node_values["fqdn"]
    if given.get("name") not in (None, fq["name"]):
        raise Invalid(f"member {m['name']}: fqdn name {given['name']} differs from node {node_path} ({fq['name']})")
    m["address"] = ANY6
    m["fqdn"] = {"autopopulate": given.get("autopopulate", (m.get("fqdn") or {}).get("autopopulate",
                                                                                      fq["autopopulate"])),
                 "name": fq["name"]}
    return made


@dataclass
class Ephemera:
    """What a device's resolver made: its ephemeral nodes and each pool's ephemeral members.
    Shown with the configuration (REST, tmsh, the data plane), never saved nor synced."""
    nodes: dict[str, dict] = field(default_factory=dict)          # /P/_auto_10.1.1.1 -> node values
    members: dict[str, list[dict]] = field(default_factory=dict)  # pool path -> its ephemeral members

    def node(self, path: str) -> dict | None:
        return self.nodes.get(path)

    def pool(self, path: str, values: dict | None) -> dict | None:
        extra = self.members.get(path)
        if values is None or not extra:
            return values
        return {**values, "members": sorted([*(values.get("members") or []), *extra], key=lambda m: m["name"])}


def ephemeral_node(parent_path: str, parent: dict, address: str) -> tuple[str, dict]:
    """`/P/_auto_10.1.1.1`: an ephemeral node of an FQDN node, as F5 names and shows it."""
    folder = parent_path.rsplit("/", 1)[0]
    values = {**TYPES["ltm node"].defaults(), "address": address, "ephemeral": "true",
              "fqdn": dict(parent["fqdn"]), "monitor": parent.get("monitor", "none"),
              "session": parent.get("session", "user-enabled"), "state": parent.get("state", "user-up"),
              "ratio": parent.get("ratio", 1)}
    return f"{folder}/{EPHEMERAL_PREFIX}{address}", values


def ephemeral_member(template: dict, node_path: str, address: str) -> dict:
    """`/P/_auto_10.1.1.1:80`: a template's ephemeral member, with the template's settings."""
    port = template["name"].rsplit(":", 1)[1]
    name = f"{node_path}:{port}"
    return {**{k: v for k, v in template.items() if k not in ("name", "address")},
            "name": name, "address": address, "ephemeral": "true"}


def interval_seconds(value) -> int | None:
    """An fqdn interval in seconds, None for "ttl"."""
    return None if str(value) == "ttl" else int(value)


__all__ = ["ANY6", "Ephemera", "ephemeral_member", "ephemeral_node", "hostname", "interval_seconds",
           "is_template", "member", "node"]
