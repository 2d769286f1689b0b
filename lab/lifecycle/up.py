"""`biglab up`: make a lab from a topology and return when every node is ready, trust is formed
and HA has settled (if the topology asks for them)."""
from __future__ import annotations

import ipaddress
import shutil
import threading
import time
from pathlib import Path

from node import status
from node.netlink import IPRoute, netns

from ..model import configlines, state
from ..model.errors import LabError
from ..model.plan import Plan, builds_ha, ha_commands, lab_onboards, make_plan, prefix
from ..model.topology import load as load_topology
from ..runtime import forkserver, impair, ntpd, wiring
from ..runtime.backends import BackendError
from ..runtime.control import ControlError
from ..runtime.lab import Lab, require_root
from ..runtime.threads import each
from . import readiness
from .down import teardown


TRANSACTION_TIMEOUT = 60.0   # one commit of a large topology's lines, on a loaded machine


def up(path, name: str | None = None, backend: str | None = None, progress=None,
       timeout: float = 30.0, mgmt_subnet: str | None = None, forkserver: bool = True, counts=None) -> Plan:
    """Make the lab; returns when every node is ready and trust is formed (if asked). With the
    netns backend the daemons are forked from one warm interpreter unless `forkserver` is False.
    `progress(text)` hears each step, `counts(text)` how far a long wait has come."""
    say = progress or (lambda msg: None)
    count = counts or (lambda msg: None)
    require_root()
    threading.Thread(target=status.prepare, args=(readiness.PARTS,), daemon=True).start()
    topo = load_topology(path, name, mgmt_subnet)
    plan = make_plan(topo, str(Path(path).resolve()), backend or topo.backend, forkserver)
    check_host(plan)
    lab = Lab(plan)
    try:
        lab.backend.preflight(plan.nodes)
    except BackendError as exc:
        raise LabError(str(exc)) from None
    state.save_plan(plan)
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
    readiness.wait_daemons(lab, lab.bigips, deadline, count)
    if lab_onboards(plan) and len(lab.bigips) > 1:
        form_trust(lab, deadline, say, count)
        if builds_ha(plan):
            setup_ha(lab, deadline, say)
    configure(lab, deadline, say)
    gtms = [n.name for n in plan.nodes if "gtm" in n.modules]
    if gtms:
        say("waiting for the GTMs to hear every server's LTM over iQuery")
        readiness.wait(lambda: not counted(count, "GTM checks pending", readiness.gtm_pending(lab, gtms, lab.bigips)),
                       deadline, lambda: "GTM not settled: " + "; ".join(readiness.gtm_pending(lab, gtms, lab.bigips)))
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
    node's daemon or server started. Nodes are made and wired side by side."""
    plan, be = lab.plan, lab.backend
    if plan.forkserver:
        forkserver.launch()   # warm from an earlier lab, or its imports overlap the wiring
    say(f"wiring {len(plan.bridges)} VLAN bridges and {len(plan.nodes)} nodes")
    bridges = wiring.make_fabric(plan)
    be.create_all(plan.nodes)
    each(lambda node: wiring.wire_node(be.netns_ref(node), node, bridges), plan.nodes)
    impair.apply_topology_netem(lab)
    ntpd.start(plan)
    # each start returns at once, and several are asked for at a time: the daemons come up side by
    # side, the BIG-IPs first (theirs is the longest wait)
    each(lambda node: lab.start_daemon(node.name), [node for node in plan.nodes if node.runs_daemon])
    each(lambda node: lab.start_server(node.name), [node for node in plan.nodes if node.kind == "server"])


def configure(lab: Lab, deadline: float, say) -> None:
    """The topology's tmsh lines: the lab's `config:` (on the first bigip, unless HA syncs it)
    and each node's own, nodes side by side, in transactions; device and traffic groups first, on
    the trust authority, and a GTM sync group's members join it before its shared configuration
    goes on (lab/model/configlines.py says why)."""
    lines = {node.name: list(node.config) for node in lab.plan.nodes if node.config}
    if not builds_ha(lab.plan) and lab.plan.config:
        lines[lab.bigips[0]] = [*lab.plan.config, *lines.get(lab.bigips[0], [])]
    if lab_onboards(lab.plan) and len(lab.bigips) > 1:   # one trust domain: its groups made on one device
        trust, lines = configlines.hoist_trust(lines)
        if trust:
            apply_lines(lab, lab.bigips[0], trust)
            made = configlines.device_groups_made(trust)
            readiness.wait(lambda: not readiness.device_groups_pending(lab, made), deadline,
                           lambda: "device groups not shared: " + "; ".join(readiness.device_groups_pending(lab, made)))
    first, then, groups = configlines.phases(lines)
    each(lambda node: apply_lines(lab, node, first[node]), list(first))
    if then:
        say(f"waiting for {len(groups)} GTMs to hear each other in their sync group")
        readiness.wait(lambda: not readiness.sync_groups_pending(lab, groups), deadline,
                       lambda: "GTM sync group not formed: " + "; ".join(readiness.sync_groups_pending(lab, groups)))
        each(lambda node: apply_lines(lab, node, then[node]), list(then))


def apply_lines(lab: Lab, node: str, lines: list[str], what: str = "config") -> None:
    """One node's lines in order, consecutive changes as one transaction (all or nothing: a
    refused one names its line, `line N: ...`, counted within the batch shown)."""
    for batch in configlines.batches(lines):
        try:
            if len(batch) == 1:
                lab.tmsh(node, batch[0], timeout=TRANSACTION_TIMEOUT)
            else:
                lab.call(node, "transaction", timeout=TRANSACTION_TIMEOUT, lines=batch)
        except ControlError as exc:
            shown = f"`{batch[0]}`" if len(batch) == 1 else f"the transaction of {len(batch)} lines from `{batch[0]}`"
            raise LabError(f"{what} on {node}: {shown}: {exc}") from None


def counted(count, what: str, pending: list) -> list:
    """`pending` as it is, its length told to `count` (a long wait's progress)."""
    count(f"{len(pending)} {what}")
    return pending


def form_trust(lab: Lab, deadline: float, say, count=lambda msg: None) -> None:
    """The first bigip is the authority; it adds each other bigip by its management address, several
    at once (each add-device is a channel of its own; the authority signs each CSR as it comes)."""
    bigips = [n for n in lab.plan.nodes if n.runs_daemon]
    authority = bigips[0]
    known = {m["name"] for m in lab.call(authority.name, "status")["iquery"]["trust"]["members"]}
    joining = [peer for peer in bigips[1:] if peer.name not in known]
    say(f"{authority.name} adds {len(joining)} devices to its trust domain: "
        + ", ".join(f"{p.name} ({p.mgmt_address})" for p in joining))

    def add(peer) -> None:
        try:
            lab.call(authority.name, "add-device", timeout=15.0, address=peer.mgmt_address,
                     username=peer.admin.get("username", "admin"), password=peer.admin.get("password", "admin"))
        except ControlError as exc:
            raise LabError(f"device trust: {peer.name}: {exc}") from None

    each(add, joining)
    say("waiting for every 4353 channel to come up")
    readiness.wait(lambda: not counted(count, "4353 channels not up yet", readiness.channels_pending(lab, lab.bigips)),
                   deadline, lambda: "trust not formed: " + "; ".join(readiness.channels_pending(lab, lab.bigips)))
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
    apply_lines(lab, first, ha_commands(plan), what="HA set-up")
    say("waiting for In Sync and one active device per traffic group")
    groups = plan.ha["traffic_groups"]
    readiness.wait(lambda: not readiness.ha_pending(lab, groups), deadline,
                   lambda: "HA not settled: " + "; ".join(readiness.ha_pending(lab, groups)))
