"""Bring labs up and down, and read their state. The CLI is a thin layer over this."""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import sys
import time
from pathlib import Path

from pyroute2 import IPRoute, netns

from node.settings import NodeConfig

from . import firewall, state, wiring
from .backends import BackendError, get_backend
from .control import ControlError, call
from .plan import PREFIX, Plan, ha_commands, make_plan, node_ha_settings, node_ntp_settings, prefix
from .topology import load as load_topology

CERTS = Path(__file__).resolve().parent.parent / "certs"


class LabError(Exception):
    """An operation on a lab failed; the message says why and what to do."""


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("biglab needs root (network namespaces, bridges and veth pairs)")


def get_plan(lab: str) -> Plan:
    plan = state.load_plan(lab)
    if plan is None:
        known = ", ".join(state.labs()) or "none"
        raise LabError(f"no lab named {lab!r} is up (labs up: {known})")
    return plan


def resolve(plan: Plan, node: str, vlan: str | None = None):
    try:
        n = plan.node(node)
    except KeyError:
        raise LabError(f"lab {plan.lab} has no node {node!r} (nodes: "
                       f"{', '.join(x.name for x in plan.nodes)})") from None
    if vlan is None:
        return n
    try:
        return n, n.interface(vlan)
    except KeyError:
        raise LabError(f"node {node} has no interface on VLAN {vlan!r} (its VLANs: "
                       f"{', '.join(i.vlan for i in n.interfaces)})") from None


# -- up ---------------------------------------------------------------------------------------
def _check_host(plan: Plan) -> None:
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


def up(path, name: str | None = None, backend: str | None = None, progress=None,
       timeout: float = 30.0, mgmt_subnet: str | None = None) -> Plan:
    """Make the lab; returns when every node is ready and trust is formed (if asked)."""
    say = progress or (lambda msg: None)
    require_root()
    topo = load_topology(path, name, mgmt_subnet)
    plan = make_plan(topo, str(Path(path).resolve()), backend or topo.backend)
    _check_host(plan)
    be = get_backend(plan.backend)
    try:
        be.preflight(plan.nodes)
    except BackendError as exc:
        raise LabError(str(exc)) from None
    state.save_plan(plan)
    try:
        firewall.allow_bridged_lab_traffic()
    except firewall.FirewallError as exc:
        say(f"warning: {exc}: the host may drop frames between nodes (see lab/firewall.py)")
    try:
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
        from . import chaos
        chaos.apply_topology_netem(plan)
        chaos.start_ntpd(plan)
        for node in plan.nodes:
            if node.runs_daemon:
                start_daemon(plan, node.name)
            elif node.kind == "server":
                start_server(plan, node.name)
    except BackendError as exc:
        teardown(plan)
        raise LabError(str(exc)) from None
    except Exception:
        teardown(plan)
        raise
    deadline = time.monotonic() + timeout
    daemons = [n.name for n in plan.nodes if n.runs_daemon]
    say(f"starting {len(daemons)} BIG-IP daemons")
    def ready() -> bool:
        for n in daemons:
            if not _daemon_alive(plan.lab, n):
                out = (state.node_dir(plan.lab, n) / "daemon.out").read_text(errors="replace").strip()
                raise LabError(f"the {n} daemon exited at start-up:\n{out[-2000:]}\n"
                               f"(the lab is left for inspection; remove it with: biglab down {plan.lab})")
        return all(_answers(plan.lab, n) for n in daemons)

    _wait(ready, deadline, lambda: "daemons not ready: " + ", ".join(n for n in daemons if not _answers(plan.lab, n)))
    if plan.trust and len(daemons) > 1:
        form_trust(plan, deadline, say)
        if plan.ha:
            setup_ha(plan, deadline, say)
    if plan.config and not plan.ha:
        for line in plan.config:
            try:
                tmsh(plan.lab, daemons[0], line)
            except ControlError as exc:
                raise LabError(f"config on {daemons[0]}: `{line}`: {exc}") from None
    for node in plan.nodes:
        for line in node.config:
            try:
                tmsh(plan.lab, node.name, line)
            except ControlError as exc:
                raise LabError(f"config on {node.name}: `{line}`: {exc}") from None
    gtms = [n.name for n in plan.nodes if "gtm" in n.modules]
    if gtms:
        say("waiting for the GTMs to hear every server's LTM over iQuery")
        _wait(lambda: not gtm_pending(plan.lab, gtms, daemons), deadline, lambda: "GTM not settled: "
              + "; ".join(gtm_pending(plan.lab, gtms, daemons)))
    return plan


def gtm_pending(lab: str, gtms: list[str], bigips: list[str]) -> list[str]:
    """What keeps the GTMs from answering with live health: monitors that have not decided yet,
    servers without current iQuery data, members whose state is not yet what their LTM says."""
    problems, virtuals = [], {}
    for n in bigips:
        st = call(lab, n, "status", timeout=2.0)["ltm"]
        virtuals[n] = st["virtuals"]
        problems += [f"{n}: {p}/{m} being checked" for p, info in st["pools"].items()
                     for m, mi in info["members"].items() if mi["monitor"] == "checking"]
    for n in gtms:
        gtm = call(lab, n, "status", timeout=2.0)["gtm"]
        servers = gtm["servers"]
        problems += [f"{n}: server {p} {s['state']}" for p, s in servers.items() if s["state"] != "connected"]
        for key, m in gtm["members"].items():
            server, _, vs = ("/" + key.split("//", 1)[1]).rpartition(":")   # "POOL//Common/SERVER:VS"
            said = virtuals.get(servers.get(server, {}).get("device"), {}).get(vs, {}).get("availability")
            if said is not None and (m["state"] != said or "reports no virtual server" in m["reason"]):
                problems.append(f"{n}: member {key} {m['state']}, its LTM says {said}")
    return problems


def tmsh(lab: str, node: str, line: str, timeout: float = 10.0) -> str:
    return call(lab, node, "tmsh", timeout=timeout, line=line)


def setup_ha(plan: Plan, deadline: float, say) -> None:
    """Build the device group and traffic groups on the first bigip, sync, and wait until every
    device is In Sync and each traffic group is active on exactly one device."""
    bigips = [n.name for n in plan.nodes if n.runs_daemon]
    first = bigips[0]
    say(f"{first}: creating device group {plan.ha['device_group']['name']} and traffic groups")
    lines = ha_commands(plan)
    _wait(lambda: _members_known(plan.lab, first, bigips), deadline, lambda: "device info not exchanged")
    for line in lines:
        try:
            tmsh(plan.lab, first, line)
        except ControlError as exc:
            raise LabError(f"HA set-up on {first}: `{line}`: {exc}") from None
    say("waiting for In Sync and one active device per traffic group")

    def pending() -> list[str]:
        problems, active = [], {}
        for n in bigips:
            st = call(plan.lab, n, "status", timeout=2.0)
            if st["sync"]["status"] != "In Sync":
                problems.append(f"{n}: {st['sync']['status']}")
            for tg, tg_state in st["failover"]["traffic_groups"].items():
                if tg_state == "active":
                    active.setdefault(tg, []).append(n)
        for tg in plan.ha["traffic_groups"]:
            if len(active.get(tg, [])) != 1:
                problems.append(f"{tg} active on {active.get(tg, [])}")
        if not problems:  # every enabled virtual server listens on exactly one device, monitors ran
            serving = {}
            for n in bigips:
                ltm = call(plan.lab, n, "status", timeout=2.0)["ltm"]
                for vs, v in ltm["virtuals"].items():
                    serving.setdefault(vs, 0)
                    serving[vs] += v["serving"]
                problems += [f"{n}: {p}/{m} being checked" for p, info in ltm["pools"].items()
                             for m, mi in info["members"].items() if mi["monitor"] == "checking"]
            problems += [f"virtual {vs} serving on {k} devices" for vs, k in serving.items() if k != 1]
        return problems

    _wait(lambda: not pending(), deadline, lambda: "HA not settled: " + "; ".join(pending()))


def _members_known(lab: str, node: str, bigips: list[str]) -> bool:
    members = {m["name"] for m in call(lab, node, "status")["iquery"]["trust"]["members"]}
    return set(bigips) <= members


def start_daemon(plan: Plan, name: str, iquery_version: tuple = ()) -> int:
    node = plan.node(name)
    d = state.node_dir(plan.lab, name)
    d.mkdir(parents=True, exist_ok=True)
    config = NodeConfig(name=name, lab=plan.lab, kind=node.kind, state_dir=d,
                        mgmt_address=node.mgmt_address, modules=node.modules, admin=node.admin,
                        interfaces={i.vlan: {"address": i.address} for i in node.interfaces},
                        ha=node_ha_settings(plan), ntp=node_ntp_settings(plan), iquery_version=iquery_version)
    (d / "node.json").write_text(json.dumps(config.to_dict(), indent=1))
    pid = get_backend(plan.backend).start(node, [sys.executable, "-m", "node.daemon", str(d / "node.json")],
                                         str(d / "daemon.out"))
    (d / "daemon.pid").write_text(str(pid))
    return pid


def start_server(plan: Plan, name: str, port: int = 80) -> int:
    """A `server` node's HTTP server: it answers with its own name and the path."""
    node = plan.node(name)
    d = state.node_dir(plan.lab, name)
    d.mkdir(parents=True, exist_ok=True)
    pid = get_backend(plan.backend).start(node, [sys.executable, "-m", "node.webserver", name, str(port)],
                                         str(d / "web.out"))
    (d / "web.pid").write_text(str(pid))
    return pid


def _daemon_alive(lab: str, node: str) -> bool:
    try:
        pid = int((state.node_dir(lab, node) / "daemon.pid").read_text())
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ValueError, IndexError):
        return False


def _answers(lab: str, node: str) -> bool:
    try:
        call(lab, node, "status", timeout=1.0)
        return True
    except (ControlError, OSError, ValueError):
        return False


def _wait(ready, deadline: float, why) -> None:
    while not ready():
        if time.monotonic() > deadline:
            raise LabError(f"timed out: {why()}")
        time.sleep(0.02)


def form_trust(plan: Plan, deadline: float, say) -> None:
    """The first bigip is the authority; it adds each other bigip by its management address."""
    bigips = [n for n in plan.nodes if n.runs_daemon]
    authority = bigips[0]
    members = call(plan.lab, authority.name, "status")["iquery"]["trust"]["members"]
    known = {m["name"] for m in members}
    for peer in bigips[1:]:
        if peer.name in known:
            continue
        say(f"{authority.name} adds {peer.name} ({peer.mgmt_address}) to its trust domain")
        try:
            call(plan.lab, authority.name, "add-device", timeout=15.0, address=peer.mgmt_address,
                 username=peer.admin.get("username", "admin"), password=peer.admin.get("password", "admin"))
        except ControlError as exc:
            raise LabError(f"device trust: {exc}") from None
    say("waiting for every 4353 channel to come up")
    names = {n.name for n in bigips}

    def pending() -> list[str]:
        missing = []
        for node in bigips:
            try:
                peers = call(plan.lab, node.name, "status", timeout=1.0)["iquery"]["peers"]
            except ControlError:
                missing.append(f"{node.name} (no answer)")
                continue
            for other in sorted(names - {node.name}):
                link = peers.get(other)
                if not link or link["state"] != "connected":
                    reason = f": {link['reason']}" if link and link.get("reason") else ""
                    missing.append(f"{node.name}->{other}{reason}")
        return missing

    _wait(lambda: not pending(), deadline, lambda: "trust not formed: " + "; ".join(pending()))
    certs = CERTS / plan.lab
    certs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(state.node_dir(plan.lab, authority.name) / "dtca.crt", certs / "ca.crt")


# -- down -------------------------------------------------------------------------------------
def teardown(plan: Plan) -> list[str]:
    """Remove everything of a lab, whatever state it is in; returns what was removed."""
    from .chaos import stop_ntpd
    be = get_backend(plan.backend)
    removed = []
    stop_ntpd(plan.lab)
    for node in plan.nodes:
        if be.exists(node):
            be.remove(node)
            removed.append(node.netns)
    with IPRoute() as ipr:
        removed += wiring.remove_links(ipr, prefix(plan.lab))
    state.forget(plan.lab)
    shutil.rmtree(CERTS / plan.lab, ignore_errors=True)
    return removed


def down(lab: str) -> list[str]:
    require_root()
    plan = state.load_plan(lab)
    if plan is None:
        leftovers = _sweep(prefix(lab))
        if not leftovers:
            raise LabError(f"no lab named {lab!r} is up")
        state.forget(lab)  # node directories (or links to container volumes) without a lab.json
        return leftovers
    return teardown(plan) + _sweep(prefix(lab))


def down_all() -> list[str]:
    require_root()
    removed = []
    for lab in state.labs():
        removed += teardown(get_plan(lab))
    return removed + _sweep(PREFIX)


def _sweep(p: str) -> list[str]:
    """Namespaces and links with the prefix that no lab.json knows of (after a crash)."""
    from .backends.netns import NETNS_DIR, processes_in, stop_processes
    removed = []
    for name in netns.listnetns():
        if name.startswith(p):
            stop_processes(processes_in(NETNS_DIR / name))
            netns.remove(name)
            removed.append(name)
    with IPRoute() as ipr:
        removed += wiring.remove_links(ipr, p)
    from .backends.docker import sweep as sweep_containers
    return removed + sweep_containers(p)


# -- reading ----------------------------------------------------------------------------------
def status(lab: str) -> dict:
    plan = get_plan(lab)
    be = get_backend(plan.backend)
    nodes = {}
    with IPRoute() as ipr:
        for node in plan.nodes:
            entry = {"kind": node.kind, "mgmt": node.mgmt_address, "modules": list(node.modules),
                     "netns": _netns_ref(be, node),
                     "interfaces": {i.vlan: {"address": i.address, "host_end": i.host_end,
                                             "link": wiring.link_state(ipr, i.host_end)}
                                    for i in node.interfaces}}
            if not be.exists(node):
                entry["state"] = "missing"
            elif plan.backend == "docker" and be.container_state(node) != "running":
                entry["state"] = be.container_state(node)  # exited (killed, stopped), paused...
            elif node.runs_daemon:
                try:
                    daemon = call(plan.lab, node.name, "status", timeout=2.0)
                    entry.update(state="ready", pid=daemon["pid"], clock=daemon["clock"],
                                 trust=_trust_view(daemon["iquery"]),
                                 failover=daemon["failover"]["state"], sync=daemon["sync"]["status"],
                                 ntp=daemon.get("ntp"))
                except ControlError as exc:
                    entry.update(state="down", error=str(exc))
            else:
                entry["state"] = "ready"
            nodes[node.name] = entry
    return {"name": plan.lab, "backend": plan.backend, "source": plan.source, "trust": plan.trust,
            "bridges": {b.vlan: {"bridge": b.name, "subnet": b.subnet, "host_address": b.host_address}
                        for b in plan.bridges},
            "nodes": nodes}


def _netns_ref(be, node) -> str | None:
    try:
        return be.netns_ref(node)
    except BackendError:  # a stopped container has no network namespace
        return None


def _trust_view(iq: dict) -> dict:
    t = iq["trust"]
    return {"domain_ca": t["domain_ca"], "authority": t["authority"],
            "members": [m["name"] for m in t["members"]],
            "peers": {name: {k: link[k] for k in ("state", "code", "reason", "address")}
                      for name, link in iq["peers"].items()},
            "refused": iq["refused"][-5:]}


def set_link(lab: str, node: str, vlan: str, up: bool) -> None:
    require_root()
    plan = get_plan(lab)
    _, iface = resolve(plan, node, vlan)
    with IPRoute() as ipr:
        wiring.set_link(ipr, iface, up)


def exec_in(lab: str, node: str, argv: list[str]):
    require_root()
    plan = get_plan(lab)
    n = resolve(plan, node)
    if not argv:
        raise LabError("nothing to run: biglab exec LAB NODE -- CMD [ARGS...]")
    return get_backend(plan.backend).exec(n, node_command(plan, n, argv))


def node_command(plan: Plan, node, argv: list[str]) -> list[str]:
    """`tmsh` inside a BIG-IP node is our client for its daemon."""
    tools = {"tmsh": "node.tmsh_cli", "iqdump": "node.gtm.iqdump"}
    if argv[0] in tools:
        if not node.runs_daemon:
            raise LabError(f"{node.name} is a {node.kind} node: {argv[0]} runs on bigip nodes")
        os.environ["BIGLAB_CTL"] = str(state.node_dir(plan.lab, node.name) / "ctl.sock")
        return [sys.executable, "-m", tools[argv[0]], *argv[1:]]
    return argv


def run_in(lab: str, node: str, argv: list[str], **kwargs):
    """Run a command in a node and wait for it (tests and benches use this)."""
    plan = get_plan(lab)
    n = resolve(plan, node)
    return get_backend(plan.backend).run(n, node_command(plan, n, argv), **kwargs)


def log_path(lab: str, node: str) -> Path:
    plan = get_plan(lab)
    n = resolve(plan, node)
    if not n.runs_daemon:
        raise LabError(f"{node} is a {n.kind} node: it runs no daemon and keeps no log")
    return state.node_dir(lab, node) / "log.jsonl"
