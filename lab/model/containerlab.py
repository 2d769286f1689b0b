"""A lab as a containerlab topology (`biglab export containerlab LAB_OR_FILE`), for the node image,
so an engine that spans machines (containerlab, clabernetes) can deploy it. Sans-IO: plan in,
a dict out (the CLI writes it as YAML).

- Each VLAN is a `bridge` node: the host's Linux bridge of the plan's name, which containerlab
  expects to exist (docs/scale.md says how to make them, or to stretch them across hosts).
- Each lab node is a `linux` node from the image. Its command waits for containerlab to attach
  its links (named after their VLANs, as in biglab), addresses them, adds the node's routes and
  runs what biglab would start there: a BIG-IP's daemon with its node.json (carried in the
  environment), a server's web server, or the image's idle init for a host.
- Trust, HA and the topology's tmsh lines are not applied at deploy: that is onboarding after
  deploy, through each device's REST API (docs/scale.md).
"""
from __future__ import annotations

import json
import shlex

from .plan import NodePlan, Plan, node_config

INIT = "/usr/local/bin/biglab-node-init"   # the image's PID 1 (image/node-init.sh)


def export(plan: Plan, image: str, python: str) -> dict:
    nodes: dict = {b.name: {"kind": "bridge", "labels": {"biglab.vlan": b.vlan}} for b in plan.bridges}
    links = []
    for node in plan.nodes:
        entry = {"kind": "linux", "image": image, "group": node.kind,
                 "labels": {"biglab.lab": plan.lab, "biglab.kind": node.kind},
                 "cmd": "sh -c " + shlex.quote(script(plan, node, python))}
        if node.runs_daemon:
            config = node_config(plan, node, node_dir(plan, node)).to_dict()
            entry["env"] = {"BIGLAB_NODE_JSON": json.dumps(config, separators=(",", ":"))}
        nodes[node.name] = entry
        links += [{"endpoints": [f"{node.name}:{i.vlan}", f"{i.bridge}:{i.host_end}"]} for i in node.interfaces]
    return {"name": plan.lab, "topology": {"nodes": nodes, "links": links}}


def node_dir(plan: Plan, node: NodePlan) -> str:
    return f"/run/biglab/{plan.lab}/{node.name}"


def script(plan: Plan, node: NodePlan, python: str) -> str:
    """The node's start: links attached and addressed, routes, then its process."""
    q = shlex.quote
    lines = [f"until ip link show {q(i.vlan)} >/dev/null 2>&1; do sleep 0.1; done" for i in node.interfaces]
    lines.append("ip link set lo up")
    for i in node.interfaces:
        lines += [f"ip addr add {i.address} dev {q(i.vlan)}", f"ip link set {q(i.vlan)} up"]
    lines += [f"ip route add {to} via {via}" for to, via in node.routes]
    d = q(node_dir(plan, node))
    if node.runs_daemon:
        lines += [f"mkdir -p {d}", f"cd {d}", 'printf %s "$BIGLAB_NODE_JSON" > node.json',
                  f"exec {python} -m node.daemon node.json"]
    elif node.kind == "server":
        lines += [f"mkdir -p {d}", f"cd {d}", f"exec {python} -m node.webserver {q(node.name)} 80"]
    else:
        lines.append(f"exec {INIT}")
    return "; ".join(lines[:len(node.interfaces)]) + "; set -e; " + "; ".join(lines[len(node.interfaces):])
