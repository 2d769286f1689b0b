"""What the web view shows of a lab, sans-IO: `lab_view(plan, statuses, links, faults)` is the
picture's model (nodes with role, state, sync and floating addresses; VLANs and links down or
impaired; the 4353 channels); `dot(view)` is its Graphviz source (rendered to SVG by `dot`).

A node's state reads as F5 prints it: ACTIVE, STANDBY, OFFLINE, FORCED OFFLINE; a daemon that does
not answer is DOWN (the box is gone as far as anyone can tell).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from node.status import LinkState

STATE_COLOURS = {"ACTIVE": "#2e8b57", "STANDBY": "#4169a8", "OFFLINE": "#808080", "FORCED OFFLINE": "#d07a00",
                 "DOWN": "#c0392b", "READY": "#6c757d"}
SYNC_COLOURS = {"In Sync": "#2e8b57", "Standalone": "#6c757d", "Disconnected": "#c0392b"}   # else amber


@dataclass(frozen=True)
class NodeView:
    name: str
    kind: str                    # bigip | host | server
    state: str                   # ACTIVE, STANDBY, ... DOWN; READY for a host or server
    sync: str = ""
    floating: tuple[str, ...] = ()          # "10.1.10.100/32 on external (traffic-group-1)"
    groups: tuple[str, ...] = ()            # traffic groups active here
    error: str = ""


@dataclass(frozen=True)
class LinkView:
    node: str
    vlan: str
    address: str
    state: str                   # up | down | impaired
    why: str = ""


@dataclass(frozen=True)
class ChannelView:
    source: str
    target: str
    state: str                   # connected | ... (the 4353 channel's state as the source sees it)
    reason: str = ""

    @property
    def trusted(self) -> bool:
        return self.state == LinkState.CONNECTED


@dataclass(frozen=True)
class LabView:
    name: str
    nodes: tuple[NodeView, ...]
    vlans: tuple[tuple[str, str], ...]      # (vlan, subnet)
    links: tuple[LinkView, ...]
    channels: tuple[ChannelView, ...]
    faults: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, compare=False)

    def node(self, name: str) -> NodeView | None:
        return next((n for n in self.nodes if n.name == name), None)


def node_view(plan_node, status) -> NodeView:
    """One node: `status` is its NodeStatus, an exception text (the daemon did not answer), or None
    (a node that runs no daemon)."""
    if status is None:
        return NodeView(plan_node.name, plan_node.kind, "READY")
    if isinstance(status, str):
        return NodeView(plan_node.name, plan_node.kind, "DOWN", error=status)
    fo = status.failover
    return NodeView(plan_node.name, plan_node.kind, fo.state.upper(), status.sync.status,
                    tuple(fo.floating), tuple(fo.active_groups()))


def lab_view(plan, statuses: dict, link_states: dict[str, str], faults: dict, fault_lines=()) -> LabView:
    """`statuses`: node -> NodeStatus | error text | None; `link_states`: host end -> up | down;
    `faults`: the lab's fault record (links pulled, netem, partition)."""
    nodes = tuple(node_view(n, statuses.get(n.name)) for n in plan.nodes)
    netem, pulled = faults.get("netem", {}), faults.get("links", {})
    links = []
    for n in plan.nodes:
        for i in n.interfaces:
            key = f"{n.name}:{i.vlan}"
            if key in pulled or link_states.get(i.host_end) in ("down", "missing"):
                state, why = "down", "link down" if link_states.get(i.host_end) != "missing" else "no such link"
            elif key in netem:
                state = "impaired"
                why = "netem " + " ".join(f"{o} {v}" for o, v in netem[key].items() if not o.startswith("_"))
            else:
                state, why = "up", ""
            links.append(LinkView(n.name, i.vlan, i.address, state, why))
    channels = []
    for name, st in statuses.items():
        if st is None or isinstance(st, str):
            continue
        for peer, link in sorted(st.iquery.peers.items()):
            channels.append(ChannelView(name, peer, link.state, link.reason or link.code))
    return LabView(plan.lab, nodes, tuple((b.vlan, b.subnet) for b in plan.bridges), tuple(links),
                   tuple(channels), tuple(fault_lines))


# -- the picture ----------------------------------------------------------------------------------
def dot(view: LabView):
    """The topology as a graphviz.Graph: VLANs as ellipses, nodes as boxes coloured by state with
    their sync badge and floating addresses, links down red, impaired amber, 4353 channels dashed
    between BIG-IPs (red with the reason on hover when broken)."""
    import graphviz
    g = graphviz.Graph(view.name, engine="dot", format="svg",
                       graph_attr={"rankdir": "TB", "bgcolor": "transparent", "fontname": "Helvetica",
                                   "nodesep": "0.5", "ranksep": "0.9", "tooltip": f"lab {view.name}"},
                       node_attr={"fontname": "Helvetica", "fontsize": "11"},
                       edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    for vlan, subnet in view.vlans:
        g.node(f"vlan_{vlan}", f"{vlan}\n{subnet}", shape="ellipse", style="filled", fillcolor="#eef2f7",
               color="#8899aa", id=f"vlan-{vlan}", tooltip=f"VLAN {vlan} {subnet}")
    for n in view.nodes:
        g.node(f"node_{n.name}", _label(n), shape="box" if n.kind == "bigip" else "component",
               style="filled,rounded", fillcolor=STATE_COLOURS.get(n.state, "#808080") if n.kind == "bigip" else "#f4f4f4",
               fontcolor="white" if n.kind == "bigip" else "black", id=f"node-{n.name}",
               tooltip=n.error or f"{n.name}: {n.state}" + (f", {n.sync}" if n.sync else ""))
    for link in view.links:
        attrs = {"up": {}, "down": {"color": "#c0392b", "style": "dashed", "penwidth": "2"},
                 "impaired": {"color": "#d07a00", "style": "dashed", "penwidth": "2"}}[link.state]
        g.edge(f"node_{link.node}", f"vlan_{link.vlan}", label=link.address.split("/")[0],
               tooltip=f"{link.node}:{link.vlan} {link.state}" + (f" ({link.why})" if link.why else ""),
               id=f"link-{link.node}-{link.vlan}", **attrs)
    seen = set()
    for c in view.channels:
        pair = tuple(sorted((c.source, c.target)))
        back = next((o for o in view.channels if (o.source, o.target) == (c.target, c.source)), None)
        if pair in seen:
            continue
        seen.add(pair)
        broken = [x for x in (c, back) if x is not None and not x.trusted]
        why = "; ".join(f"{x.source} -> {x.target}: {x.state}" + (f" ({x.reason})" if x.reason else "") for x in broken)
        g.edge(f"node_{pair[0]}", f"node_{pair[1]}", constraint="false", style="dashed",
               color="#c0392b" if broken else "#2e8b57", label="4353" + (" ✗" if broken else ""),
               tooltip=why or "4353: trusted, connected both ways", id=f"channel-{pair[0]}-{pair[1]}")
    return g


def _label(n: NodeView) -> str:
    lines = [n.name]
    if n.kind == "bigip":
        lines.append(n.state.title() if n.state != "FORCED OFFLINE" else "Forced Offline")
        if n.sync:
            lines.append(f"[{n.sync}]")
        lines += [f"⚑ {f.split(' on ')[0]}" for f in n.floating]
    else:
        lines.append(n.kind)
    return "\n".join(lines)
