"""The resources a lab needs, as data: made from a topology, saved as lab.json, read by `down`.

Names carry the lab prefix `bl-<lab>-` so labs run side by side and `down` finds everything:
namespaces `bl-<lab>-<node>`, bridges `bl-<lab>-v<i>`, host veth ends `bl-<lab>-<n>v<i>`. Inside
a node each interface is named after its VLAN. Every host-side link gets an alias saying what it is.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .topology import Topology

PREFIX = "bl-"


def prefix(lab: str) -> str:
    return f"{PREFIX}{lab}-"


@dataclass(frozen=True)
class Bridge:
    name: str
    vlan: str
    subnet: str
    host_address: str | None  # "10.1.1.1/24" on the management VLAN, else None
    alias: str


@dataclass(frozen=True)
class Interface:
    vlan: str        # also its name inside the node
    host_end: str    # the veth end on the host, enslaved to the bridge
    bridge: str
    address: str     # "10.1.10.11/24"
    alias: str


@dataclass(frozen=True)
class NodePlan:
    name: str
    kind: str
    netns: str
    mgmt_address: str | None
    modules: tuple[str, ...]
    interfaces: tuple[Interface, ...]
    admin: dict = field(default_factory=dict)

    @property
    def runs_daemon(self) -> bool:
        return self.kind == "bigip"

    def interface(self, vlan: str) -> Interface:
        for iface in self.interfaces:
            if iface.vlan == vlan:
                return iface
        raise KeyError(vlan)


@dataclass(frozen=True)
class Plan:
    lab: str
    source: str
    backend: str
    trust: bool
    mgmt_vlan: str
    bridges: tuple[Bridge, ...]
    nodes: tuple[NodePlan, ...]

    def node(self, name: str) -> NodePlan:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def bridge(self, vlan: str) -> Bridge:
        for b in self.bridges:
            if b.vlan == vlan:
                return b
        raise KeyError(vlan)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Plan":
        return cls(d["lab"], d["source"], d["backend"], d["trust"], d["mgmt_vlan"],
                   tuple(Bridge(**b) for b in d["bridges"]),
                   tuple(NodePlan(n["name"], n["kind"], n["netns"], n["mgmt_address"], tuple(n["modules"]),
                                  tuple(Interface(**i) for i in n["interfaces"]), n.get("admin", {}))
                         for n in d["nodes"]))


def make_plan(topo: Topology, source: str = "", backend: str = "netns") -> Plan:
    p = prefix(topo.name)
    vlan_index = {name: i for i, name in enumerate(topo.vlans)}
    bridges = []
    for vname, vlan in topo.vlans.items():
        host = f"{vlan.host_address}/{vlan.subnet.prefixlen}" if vlan.host_address else None
        bridges.append(Bridge(f"{p}v{vlan_index[vname]}", vname, str(vlan.subnet), host,
                              f"biglab {topo.name} vlan {vname}"))
    nodes = []
    for n, (nname, node) in enumerate(topo.nodes.items(), start=1):
        ifaces = tuple(
            Interface(vname, f"{p}{n}v{vlan_index[vname]}", f"{p}v{vlan_index[vname]}",
                      str(topo.address(nname, vname)), f"biglab {topo.name} {nname}:{vname}")
            for vname in node.interfaces)
        mgmt = str(topo.address(nname, topo.mgmt_vlan).ip) if topo.mgmt_vlan in node.interfaces else None
        nodes.append(NodePlan(nname, node.kind, f"{p}{nname}", mgmt, tuple(node.modules), ifaces,
                              topo.admin_of(nname).model_dump()))
    return Plan(topo.name, source, backend, topo.trust, topo.mgmt_vlan, tuple(bridges), tuple(nodes))
