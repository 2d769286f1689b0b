"""AS3's event-driven service discovery (`addressDiscovery: event`), sans-IO.

A pool member declared with it makes a task of the service discovery worker, named for its pool
(`~T~A~P`); a POST of `[{"id", "ip", "port"?}]` to /mgmt/shared/service-discovery/task/~T~A~P/nodes
replaces the task's node list, and the pool's members follow: a node `/T/<id>` at `ip`, its member
on `port` (else the declared servicePort). Nothing is discovered from outside: the list is what
was posted. The lists live in the configuration (one data group a task, in AS3's folder), so a
redeploy keeps the members and the peer gets them with config sync.
"""
from __future__ import annotations

import ipaddress
import re

from ..config.store import Op
from .datastore import DG, SD_NODES, decode, write
from .refs import apps_of, objects_of

PREFIX = SD_NODES
NODE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")   # a node name the store takes (and F5's names allow)


def task_id(pool_path: str) -> str:
    return pool_path.replace("/", "~")


def event_members(decl: dict | None) -> dict[str, tuple[str, dict, int]]:
    """A declaration's event tasks: task id -> (pool path, the member declaring it, its index)."""
    out = {}
    for t, tenant in (decl or {}).items():
        if not isinstance(tenant, dict) or tenant.get("class") != "Tenant":
            continue
        for a, app in apps_of(tenant).items():
            for n, item in objects_of(app).items():
                for i, m in enumerate(item.get("members") or [] if item.get("class") == "Pool" else []):
                    if isinstance(m, dict) and m.get("addressDiscovery") == "event":
                        out.setdefault(task_id(f"/{t}/{a}/{n}"), (f"/{t}/{a}/{n}", m, i))
    return out


def nodes_of(store, pool_path: str) -> list[dict]:
    """The node list last posted for a pool's task ([] before any)."""
    values = store.get(DG, f"{PREFIX}{task_id(pool_path)}")
    doc = decode(values.get("records") or {}) if values else None
    return doc if isinstance(doc, list) else []


def check(body) -> tuple[list[dict] | None, str | None]:
    """A posted node list: each {"id", "ip"} with an optional "port"; (the nodes, None) or (None, why)."""
    if not isinstance(body, list):
        return None, "the body should be an array of nodes"
    nodes = []
    for i, node in enumerate(body):
        if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not isinstance(node.get("ip"), str):
            return None, f"node {i}: should have required properties 'id' and 'ip'"
        extra = sorted(set(node) - {"id", "ip", "port"})
        if extra:
            return None, f"node {i}: should NOT have additional property '{extra[0]}'"
        if not NODE_ID.match(node["id"]):
            return None, f"node {i}: id {node['id']!r} is not a valid node name"
        try:
            ip = str(ipaddress.ip_address(node["ip"]))
        except ValueError:
            return None, f"node {i}: ip {node['ip']!r} is not an IP address"
        port = node.get("port")
        if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535):
            return None, f"node {i}: port should be an integer from 0 to 65535"
        nodes.append({"id": node["id"], "ip": ip, **({"port": port} if port is not None else {})})
    return nodes, None


def keep(store, pool_path: str, nodes: list[dict]) -> list[Op]:
    """The ops that keep a task's node list (in place of the last)."""
    path = f"{PREFIX}{task_id(pool_path)}"
    old = [Op("delete", DG, path, {})] if store.get(DG, path) is not None else []
    return old + [write(path, nodes, {"task": task_id(pool_path)}, "f5 service discovery task nodes")]


def stale(store, decl: dict | None) -> list[str]:
    """The kept node lists whose task the declaration no longer has (to drop)."""
    live = {f"{PREFIX}{i}" for i in event_members(decl)}
    return [p for (t, p) in list(store.objects) if t == DG and p.startswith(PREFIX) and p not in live]


def view(pool_path: str, member: dict, nodes: list[dict]) -> dict:
    """A task as the service discovery worker shows it."""
    tenant = pool_path.split("/")[1]
    return {"id": task_id(pool_path), "schemaVersion": "1.0.0", "updateInterval": 0,
            "resources": [{"type": "pool", "path": pool_path, "options": {
                "servicePort": member.get("servicePort"), "connectionLimit": member.get("connectionLimit", 0),
                "ratio": member.get("ratio", 1), "priorityGroup": member.get("priorityGroup", 0),
                "monitor": "default"}}],
            "nodePrefix": f"/{'Common' if member.get('shareNodes') else tenant}/", "provider": "event",
            "providerOptions": {"nodeList": nodes}, "metadata": {"configuredBy": "AS3"}, "routeDomain": 0,
            "lastDiscoveryResult": {"status": "Success"}}
