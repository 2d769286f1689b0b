"""`biglab up`: make a lab from a topology and return when every node is ready, trust is formed
and HA has settled (if the topology asks for them)."""
from __future__ import annotations

import ipaddress
import shutil
import time
from pathlib import Path

from pyroute2 import IPRoute, netns

from ..model import state
from ..model.errors import LabError
from ..model.plan import Plan, ha_commands, lab_onboards, make_plan, prefix
from ..model.topology import load as load_topology
from ..runtime import firewall, impair, ntpd, wiring
from ..runtime.backends import BackendError
from ..runtime.control import ControlError
from ..runtime.lab import Lab, require_root
from . import readiness
from .down import teardown


def up(path, name: str | None = None, backend: str | None = None, progress=None,
       timeout: float = 30.0, mgmt_subnet: str | None = None) -> Plan:
    """Make the lab; returns when every node is ready and trust is formed (if asked)."""
    say = progress or (lambda msg: None)
    require_root()
    topo = load_topology(path, name, mgmt_subnet)
    plan = make_plan(topo, str(Path(path).resolve()), backend or topo.backend)
    check_host(plan)
    lab = Lab(plan)
    try:
        lab.backend.preflight(plan.nodes)
    except BackendError as exc:
        raise LabError(str(exc)) from None
    state.save_plan(plan)
    try:
        firewall.allow_bridged_lab_traffic()
    except firewall.FirewallError as exc:
        say(f"warning: {exc}: the host may drop frames between nodes (see lab/runtime/firewall.py)")
    try:
        make(lab, say)
    except BackendError as exc:
        teardown(plan)
        raise LabError(str(exc)) from None
    except Exception:
        teardown(plan)
        raise
    deadline = time.monotonic() + timeout
    say(f"starting {len(lab.bigips)} BIG-IP daemons")
    readiness.wait_daemons(lab, lab.bigips, deadline)
    if lab_onboards(plan) and len(lab.bigips) > 1:
        form_trust(lab, deadline, say)
        if plan.ha:
            setup_ha(lab, deadline, say)
    configure(lab)
    gtms = [n.name for n in plan.nodes if "gtm" in n.modules]
    if gtms:
        say("waiting for the GTMs to hear every server's LTM over iQuery")
        readiness.wait(lambda: not readiness.gtm_pending(lab, gtms, lab.bigips), deadline,
                       lambda: "GTM not settled: " + "; ".join(readiness.gtm_pending(lab, gtms, lab.bigips)))
    return plan


def check_host(plan: Plan) -> None:
    """Refuse before making anything if the lab would clash with the host or another lab."""
    if state.load_plan(plan.lab) is not None:
        raise LabError(f"lab {plan.lab!r} is already up; remove it with: biglab down {plan.lab}")
    p = prefix(plan.lab)
    clash = [n for n in netns.listnetns() if n.startswith(p)]
    with IPRoute() as ipr:
        clash += [name for _, name, _ in wiring.lab_links(ipr, p)]
        if clash:
            raise LabError(f"leftovers of a lab {plan.lab!r} exist ({', '.join(clash[:4])}); "
                           f"remove them with: biglab down {plan.lab}")
        for bridge in plan.bridges:
            if not bridge.host_address:
                continue
            net = ipaddress.IPv4Network(bridge.subnet)
            for route in ipr.get_routes(family=2):
                dst = route.get("RTA_DST")
                if dst is None or route.get("table") != 254:
                    continue
                other = ipaddress.IPv4Network(f"{dst}/{route['dst_len']}", strict=False)
                if other.prefixlen and net.overlaps(other):
                    dev = ipr.get_links(route.get("RTA_OIF"))[0].get("ifname") if route.get("RTA_OIF") else "?"
                    raise LabError(f"VLAN {bridge.vlan} subnet {net} overlaps the host route {other} "
                                   f"on {dev}; give the lab another {bridge.vlan} subnet")


def make(lab: Lab, say) -> None:
    """Bridges, nodes and their wiring, the topology's impairments, the NTP server, and each
    node's daemon or server started."""
    plan, be = lab.plan, lab.backend
    say(f"wiring {len(plan.bridges)} VLAN bridges and {len(plan.nodes)} nodes")
    with IPRoute() as ipr:
        for bridge in plan.bridges:
            wiring.create_bridge(ipr, bridge)
        be.create_all(plan.nodes)
        for node in plan.nodes:
            wiring.loopback_up(be.netns_ref(node))
            for iface in node.interfaces:
                wiring.connect(ipr, be.netns_ref(node), iface)
            if node.routes:
                wiring.add_routes(be.netns_ref(node), node.routes)
    impair.apply_topology_netem(lab)
    ntpd.start(plan)
    for node in plan.nodes:
        if node.runs_daemon:
            lab.start_daemon(node.name)
        elif node.kind == "server":
            lab.start_server(node.name)


def configure(lab: Lab) -> None:
    """The topology's tmsh lines: the lab's `config:` (on the first bigip, unless HA syncs it)
    and each node's own."""
    lines = [(lab.bigips[0], line) for line in lab.plan.config] if lab.plan.config and not lab.plan.ha else []
    lines += [(node.name, line) for node in lab.plan.nodes for line in node.config]
    for node, line in lines:
        try:
            lab.tmsh(node, line)
        except ControlError as exc:
            raise LabError(f"config on {node}: `{line}`: {exc}") from None


def form_trust(lab: Lab, deadline: float, say) -> None:
    """The first bigip is the authority; it adds each other bigip by its management address."""
    bigips = [n for n in lab.plan.nodes if n.runs_daemon]
    authority = bigips[0]
    known = {m["name"] for m in lab.call(authority.name, "status")["iquery"]["trust"]["members"]}
    for peer in bigips[1:]:
        if peer.name in known:
            continue
        say(f"{authority.name} adds {peer.name} ({peer.mgmt_address}) to its trust domain")
        try:
            lab.call(authority.name, "add-device", timeout=15.0, address=peer.mgmt_address,
                     username=peer.admin.get("username", "admin"), password=peer.admin.get("password", "admin"))
        except ControlError as exc:
            raise LabError(f"device trust: {exc}") from None
    say("waiting for every 4353 channel to come up")
    readiness.wait(lambda: not readiness.channels_pending(lab, lab.bigips), deadline,
                   lambda: "trust not formed: " + "; ".join(readiness.channels_pending(lab, lab.bigips)))
    certs = state.CERTS / lab.name
    certs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(lab.node_dir(authority.name) / "dtca.crt", certs / "ca.crt")


def setup_ha(lab: Lab, deadline: float, say) -> None:
    """Build the device group and traffic groups on the first bigip, sync, and wait until every
    device is In Sync and each traffic group is active on exactly one device."""
    plan, first = lab.plan, lab.bigips[0]
    say(f"{first}: creating device group {plan.ha['device_group']['name']} and traffic groups")
    readiness.wait(lambda: readiness.members_known(lab, first, lab.bigips), deadline,
                   lambda: "device info not exchanged")
    for line in ha_commands(plan):
        try:
            lab.tmsh(first, line)
        except ControlError as exc:
            raise LabError(f"HA set-up on {first}: `{line}`: {exc}") from None
    say("waiting for In Sync and one active device per traffic group")
    groups = plan.ha["traffic_groups"]
    readiness.wait(lambda: not readiness.ha_pending(lab, groups), deadline,
                   lambda: "HA not settled: " + "; ".join(readiness.ha_pending(lab, groups)))
