"""The resources a lab needs, as data: made from a topology, saved as lab.json, read by `down`.

Names carry the lab prefix `bl-<lab>-` so labs run side by side and `down` finds everything:
namespaces `bl-<lab>-<node>`, bridges `bl-<lab>-v<i>`, the bridge ends of node veths `bl-<lab>-<n>v<i>`.
The bridges and those veth ends live in the lab's own namespace `bl-<lab>-fabric`, not the host's; the
host reaches a VLAN it has an address on (management) through a veth of its own, `bl-<lab>-h<i>` on
the host and `bl-<lab>-hv<i>` on the bridge. Inside a node each interface is named after its VLAN.
Every link on the lab's side gets an alias saying what it is.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from node.settings import NodeConfig

from .names import FABRIC

if TYPE_CHECKING:   # the plan's readers (`down`, the fork server) never load the topology model
    from .topology import Topology

PREFIX = "bl-"


def prefix(lab: str) -> str:
    return f"{PREFIX}{lab}-"


def fabric(lab: str) -> str:
    """The network namespace holding a lab's bridges and the bridge ends of its veths."""
    return prefix(lab) + FABRIC


@dataclass(frozen=True)
class Bridge:
    name: str
    vlan: str
    subnet: str
    host_address: str | None  # "10.1.1.1/24" on the management VLAN, else None
    alias: str

    def host_link(self) -> tuple[str, str]:
        """The host's veth into this VLAN (when it has an address on it): (its end on the host,
        its end on the bridge)."""
        stem, _, index = self.name.rpartition("-v")
        return f"{stem}-h{index}", f"{stem}-hv{index}"


@dataclass(frozen=True)
class Interface:
    vlan: str        # also its name inside the node
    host_end: str    # the veth end on the lab's side (in its fabric namespace), enslaved to the bridge
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
    routes: tuple[tuple[str, str], ...] = ()   # (to, via) inside the node
    config: tuple[str, ...] = ()               # tmsh lines for this bigip after trust

    @property
    def runs_daemon(self) -> bool:
        return self.kind == "bigip"

    @property
    def fabric(self) -> str:
        """Its lab's fabric namespace (the node's own is `bl-<lab>-<node>`)."""
        return self.netns[:-len(self.name)] + FABRIC

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
    ha: dict | None = None       # the topology's ha section (JSON form), or None
    config: tuple[str, ...] = ()  # tmsh lines for the first bigip
    ntp: dict | None = None       # the topology's ntp section, or None (no NTP server)
    netem: dict = field(default_factory=dict)  # "node:vlan" -> netem spec, applied at up
    forkserver: bool = False      # daemons forked from the lab's warm interpreter (netns backend)

    @property
    def fabric(self) -> str:
        return fabric(self.lab)

    def node(self, name: str) -> NodePlan:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def hosts_on(self, vlan: str) -> list[NodePlan]:
        """The host and server nodes with an interface on `vlan` (what the lab has for clients there)."""
        return [n for n in self.nodes if not n.runs_daemon and any(i.vlan == vlan for i in n.interfaces)]

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
                                  tuple(Interface(**i) for i in n["interfaces"]), n.get("admin", {}),
                                  tuple(tuple(r) for r in n.get("routes", ())), tuple(n.get("config", ())))
                         for n in d["nodes"]), d.get("ha"), tuple(d.get("config", ())), d.get("ntp"),
                   d.get("netem") or {}, d.get("forkserver", False))


def make_plan(topo: Topology, source: str = "", backend: str = "netns", forkserver: bool = False) -> Plan:
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
                              topo.admin_of(nname).model_dump(),
                              tuple((str(r.to), str(r.via)) for r in node.routes), tuple(node.config)))
    ha = topo.ha.model_dump(mode="json") if topo.ha else None
    return Plan(topo.name, source, backend, topo.trust, topo.mgmt_vlan, tuple(bridges), tuple(nodes), ha,
                tuple(topo.config), topo.ntp.model_dump() if topo.ntp else None,
                {k: dict(v) for k, v in topo.netem.items()}, forkserver and backend == "netns")

    
def node_ha_settings(plan: Plan) -> dict:
    """What a bigip daemon needs to know of HA from the start (node.json's `ha`)."""
    ha = plan.ha
    if not ha:
        return {}
    g = ha["garp"]
    return {"configsync_vlan": ha["configsync_vlan"], "failover_vlans": ha["failover_vlans"],
            "heartbeat_interval": ha["heartbeat_ms"] / 1000, "timeout": ha["timeout_ms"] / 1000,
            "garp": {"repeat": g["repeat"], "interval": g["interval_ms"] / 1000, "delay": g["delay_s"],
                     "refresh": g["refresh_s"]}}


def node_config(plan: Plan, node: NodePlan, state_dir, iquery_version: tuple = ()) -> NodeConfig:
    """A bigip's node.json: what its daemon is told at start."""
    return NodeConfig(name=node.name, lab=plan.lab, kind=node.kind, state_dir=state_dir,
                      mgmt_address=node.mgmt_address, modules=node.modules, admin=node.admin,
                      interfaces={i.vlan: {"address": i.address} for i in node.interfaces},
                      ha=node_ha_settings(plan), ntp=node_ntp_settings(plan), iquery_version=iquery_version,
                      peers={n.name: n.mgmt_address for n in plan.nodes
                             if n.runs_daemon and n.mgmt_address and n.name != node.name})


def node_ntp_settings(plan: Plan) -> dict:
    """node.json's `ntp`: the lab's server (the host's mgmt address), poll and drift."""
    if not plan.ntp:
        return {}
    host = plan.bridge(plan.mgmt_vlan).host_address
    return {"server": host.split("/")[0], "poll": plan.ntp["poll_s"], "drift_ppm": plan.ntp["drift_ppm"]}


def builds_ha(plan: Plan) -> bool:
    """`up` builds the lab's device group (rather than the nodes' own config lines)."""
    return bool(plan.ha and plan.ha["device_group"])


def lab_onboards(plan: Plan) -> bool:
    """Whether `biglab up` forms trust (and builds the HA set-up), or leaves the devices untrusted
    and unclustered for automation (`trust: false`, or `ha: {onboard: manual}`)."""
    return plan.trust and not (plan.ha and plan.ha.get("onboard") == "manual")


def ha_commands(plan: Plan) -> list[str]:
    """The tmsh lines an engineer would type on the first device to build the HA pair."""
    ha = plan.ha
    if not builds_ha(plan):
        return []
    dg = ha["device_group"]
    bigips = [n.name for n in plan.nodes if n.runs_daemon]
    ed = lambda b: "enabled" if b else "disabled"
    lines = [f"create cm device-group {dg['name']} devices add {{ {' '.join(bigips)} }} type {dg['type']} "
             f"auto-sync {ed(dg['auto_sync'])} full-load-on-sync {'true' if dg['full_sync'] else 'false'} "
             f"save-on-auto-sync {'true' if dg['save_on_auto_sync'] else 'false'} "
             f"network-failover {ed(dg['network_failover'])}"]
    for name, tg in ha["traffic_groups"].items():
        if name != "traffic-group-1":
            lines.append(f"create cm traffic-group {name}")
        order = f"ha-order {{ {' '.join(tg['ha_order'])} }} " if tg["ha_order"] else ""
        lines.append(f"modify cm traffic-group {name} {order}auto-failback-enabled "
                     f"{'true' if tg['auto_failback'] else 'false'} auto-failback-time {tg['auto_failback_time']} "
                     f"failover-method {tg['failover_method']} ha-load-factor {tg['ha_load_factor']}")
        for vlan, addr in tg["floating"].items():
            plen = plan.bridge(vlan).subnet.split("/")[1]
            self_name = f"{vlan}-floating" if name == "traffic-group-1" else f"{vlan}-floating-{name}"
            lines.append(f"create net self {self_name} address {addr}/{plen} vlan {vlan} "
                         f"traffic-group {name} allow-service default")
        for addr in tg["virtual_addresses"]:
            lines.append(f"create ltm virtual-address {addr} address {addr} traffic-group {name}")
    lines += list(plan.config)
    lines.append(f"run cm config-sync to-group {dg['name']}")
    return lines

