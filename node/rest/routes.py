"""iControl REST's configuration routes, generated from the schema (resources.py): every object
type's collection and objects at /mgmt/tm/<type words>, read from the store, written as commits."""
from __future__ import annotations

from typing import Callable

from starlette.responses import Response

from ..config import policy, route_domains
from ..config.access import may_read
from ..config.fqdn_checks import is_template
from ..config.schema import GTM_SETTINGS, TYPES, base_name, folder_of
from ..config.store import Op
from ..errors import ConfigError, NotFound
from ..gtm.topology import Record, evaluation_order
from . import resources as res
from . import stats
from .auth import Auth
from .errors import answer
from .parts import Parts
from .query import Query
from .resources import kind, link
from .responses import json_response, not_registered

TRUST_GROUP = "/Common/device_trust_group"
# organizing paths that also lead to commands (commands.py), listed with the types under them
EXTRA_CHILDREN = {("sys",): ["available", "clock", "config", "failover", "hardware", "software", "version"],
                  ("sys", "software"): ["hotfix", "image", "volume"],
                  ("cm",): ["add-to-trust", "failover-status", "remove-from-trust", "sync-status"],
                  ("util",): ["bash", "unix-mv", "unix-rm"], ("cli",): ["version"]}


class Routes:
    def __init__(self, parts: Parts, auth: Auth, commit: Callable):
        self.parts, self.store, self.auth, self.commit = parts, parts.store, auth, commit

    def serve(self, tm: list[str], method: str, user: str, body, q: Query, uri: str) -> Response:
        r = res.route(tm)
        if r is None:
            return self._organizing(tm, method, uri)
        if method == "GET":
            return json_response(q.apply(self.read(r, q), r))
        if r.type == policy.POLICY and r.path and not r.sub and method == "PATCH" and isinstance(body, dict) \
                and body.get("createDraft") is True:   # a draft copy of the published policy (bigip_policy's way)
            self.auth.authorize(user, method, uri)
            try:
                ops = [Op(*step) for step in policy.draft_ops(self.store.get, r.path)]
            except ConfigError as exc:
                raise answer(exc) from None
            self.commit(ops, about=(r.path,))
            return json_response(self.read(res.Route(r.type, ops[0].path), q))
        op = res.op_for(method, r, body)
        self.auth.authorize_change(user, method, uri, op)
        self.commit([op], about=(r.path, r.member))
        if method == "DELETE":
            return Response(status_code=200)
        if r.sub and r.sub != res.ACTIONS:
            verb, items = op.values[r.sub]
            r = res.Route(r.type, r.path, r.sub, next(iter(items)))
        elif r.path is None:
            r = res.Route(r.type, op.path)
        return json_response(self.read(r, q))

    def _organizing(self, tm: list[str], method: str, uri: str) -> Response:
        """/mgmt/tm/ltm and the like: links to what is under it."""
        children = sorted(set(res.organizing(tm)) | set(EXTRA_CHILDREN.get(tuple(tm), ())))
        if not children or method != "GET":
            raise not_registered(uri)
        url = "/mgmt/tm/" + "/".join(tm)
        return json_response({"kind": "tm:" + ":".join(tm) + ":" + tm[-1] + "collectionstate",
                              "selfLink": link(url), "items": [{"reference": {"link": link(f"{url}/{c}")}}
                                                              for c in children]})

    def read(self, r: res.Route, q: Query) -> dict:
        if r.type == "cm device":
            return self._devices(r)
        if r.stats:
            return stats.of(self.parts, r)
        member_status = self._member_status()
        gen = self.store.generations
        if r.path is None:
            items = [self._node_state(r.type, p, v, res.to_rest(r.type, p, v, gen.get((r.type, p), 0), expand=q.expand,
                                                               member_status=member_status))
                     for p, v in self._listed(r.type)]
            return {"kind": kind(r.type, "collectionstate"), "selfLink": link(res.collection_url(r.type)),
                    "items": items}
        values = self._objects(r.type, r.path).get(r.path)
        if values is None:
            raise answer(NotFound(TYPES[r.type].label, r.path))
        g = gen.get((r.type, r.path), 0)
        if r.sub in res.SUBCOLLECTIONS:
            return self._items(r, values, g, member_status)
        if r.sub == res.ACTIONS:
            return self._actions(r, values, g)
        if r.sub == "profiles":
            return {"kind": "tm:ltm:virtual:profiles:profilescollectionstate",
                    "selfLink": link(f"{res.object_url(r.type, r.path)}/profiles"),
                    "items": [res.profile_to_rest(r.path, p, g) for p in values.get("profiles") or []]}
        return self._node_state(r.type, r.path, values,
                                res.to_rest(r.type, r.path, values, g, expand=q.expand, member_status=member_status))

    def _node_state(self, type_: str, path: str, values: dict, out: dict) -> dict:
        """An FQDN node shows its resolution's state; an ephemeral node says it is one."""
        if type_ == "ltm node" and is_template(values):
            out["state"] = self.parts.ltm.fqdn_state(path)
        if type_ == "ltm node" and values.get("ephemeral"):
            out["ephemeral"] = "true"
        return out

    def _objects(self, type_: str, only: str | None = None) -> dict[str, dict]:
        """The objects of a type (or the one at `only`, without reading the others), with F5's hidden
        device_trust_group among the device groups: a sync-only group of every device of the trust
        domain, kept by the trust, not the store."""
        if only is None:
            found = self.store.of_type(type_).items()
        else:
            found = [(only, v)] if (v := self.store.get(type_, only)) is not None else []
        objects = {p: v for p, v in found if may_read(type_, p)}
        if type_ == "net route-domain":
            objects = {p: route_domains.shown(self.store.of_type, p, v) for p, v in objects.items()}
        if type_ == "cm device-group" and self.parts.trust is not None and only in (None, TRUST_GROUP):
            objects = {**objects, TRUST_GROUP: {**TYPES[type_].defaults(), "auto-sync": "enabled",
                                                "network-failover": "disabled",
                                                "devices": sorted(self.parts.trust.member_names())}}
        return objects

    def _listed(self, type_: str) -> list[tuple[str, dict]]:
        """A collection's objects by name; topology records in the order they are evaluated."""
        objects = self._objects(type_)
        if type_ != "gtm topology":
            return sorted(objects.items())
        settings = self.store.get("gtm global-settings", GTM_SETTINGS) or {}
        paths = {Record.parse(p, v.get("score", 1), v.get("order") or 0): p for p, v in objects.items()}
        longest = settings.get("topology-longest-match", "yes") == "yes"
        return [(paths[r], objects[paths[r]]) for r in evaluation_order(list(paths), longest)]

    def _member_status(self) -> Callable[[str, str], str]:
        """A pool member's monitor status, read once a pool per request."""
        monitors: dict[str, dict[str, str]] = {}

        def member_status(pool: str, member: str) -> str:
            if pool not in monitors:
                monitors[pool] = {m.name: m.monitor for m in self.parts.ltm.members(pool)}
            node = member.rsplit(":", 1)[0]
            if member not in monitors[pool] and is_template(self.store.get("ltm node", node) or {}):
                return self.parts.ltm.fqdn_state(node)   # an FQDN template member shows its node's state
            return monitors[pool].get(member, "unchecked")
        return member_status

    def _items(self, r: res.Route, values: dict, g: int, member_status) -> dict:
        """A subcollection (pool members, a GTM server's virtual servers), or one item of it."""
        f = TYPES[r.type].field(r.sub)
        items = values.get(r.sub) or []
        if f.kind == "members":
            show = lambda m: res.member_to_rest(r.path, m, g, member_status)  # noqa: E731
        else:
            show = lambda i: res.item_to_rest(r.type, r.path, f, i, g)  # noqa: E731
        if r.member is None:
            return {"kind": kind(f"{r.type} {r.sub}", "collectionstate"),
                    "selfLink": link(f"{res.object_url(r.type, r.path)}/{r.sub}"),
                    "items": [show(i) for i in items]}
        item = res.find_item(r.type, r.sub, items, r.member, folder_of(r.path))
        if item is None:
            raise answer(NotFound(f"{TYPES[r.type].label} {r.sub} item", r.member))
        return self._clauses(r, item, g) if r.clauses else show(item)

    @staticmethod
    def _clauses(r: res.Route, rule: dict, g: int) -> dict:
        """A policy rule's conditions or actions, or one of them."""
        url = res.rule_url(r.type, r.path, rule["name"])
        shown = [res.clause_to_rest(r.type, url, r.clauses, c, g) for c in rule.get(r.clauses) or ()]
        if r.clause is None:
            return {"kind": kind(f"{r.type} rules {r.clauses}", "collectionstate"),
                    "selfLink": link(f"{url}/{r.clauses}"), "items": shown}
        one = next((c for c in shown if c["name"] == r.clause), None)
        if one is None:
            raise answer(NotFound(f"Policy rule {r.clauses[:-1]}", r.clause))
        return one

    def _actions(self, r: res.Route, values: dict, g: int) -> dict:
        """A template's actions: the one `definition`."""
        item = res.action_to_rest(r.type, r.path, values, g)
        if r.member is None:
            return {"kind": kind(f"{r.type} {r.sub}", "collectionstate"),
                    "selfLink": link(f"{res.object_url(r.type, r.path)}/{r.sub}"), "items": [item]}
        if r.member != res.DEFINITION:
            raise answer(NotFound(f"{TYPES[r.type].label} action", r.member))
        return item

    def _devices(self, r: res.Route) -> dict:
        """cm device: this device from the store, its peers as they last told us (their failover
        state as their heartbeats say it, fresher than their last cm-status)."""
        cluster = self.parts.cluster
        heard = {n: p.get("state") for n, p in (cluster.failover_status().get("peers") or {}).items()
                 if p.get("alive")}
        devices = {}
        for path, v in self.store.of_type("cm device").items():
            devices[path] = (v, cluster.device_state(), "true")
        trusted = self.parts.trust.member_names() if self.parts.trust else None
        for name, info in cluster.peers().items():
            if trusted is not None and name not in trusted:
                continue          # removed from the trust domain
            if cluster.connected(name) or f"/Common/{name}" not in devices:
                state = heard.get(name) or info.get("failover", {}).get("state", "offline")
                devices.setdefault(f"/Common/{name}", ({k: v for k, v in (info.get("device") or {}).items() if v},
                                                       state, "false"))
        items = []
        for path, (values, state, me) in sorted(devices.items()):
            if r.path is not None and path != r.path:
                continue
            item = res.to_rest("cm device", path, values, self.store.generations.get(("cm device", path), 0))
            item.update(res.DEVICE_EXTRAS, failoverState=state, selfDevice=me, hostname=base_name(path),
                        version=res.VERSION, build=res.BUILD)
            for key, off in res.MULTICAST_OFF.items():   # a peer's, as its cm-status gave them
                item.setdefault(key, off)
            items.append(item)
        if r.path is not None:
            if not items:
                raise answer(NotFound("Device", r.path))
            return items[0]
        return {"kind": "tm:cm:device:devicecollectionstate", "selfLink": link("/mgmt/tm/cm/device"),
                "items": items}
