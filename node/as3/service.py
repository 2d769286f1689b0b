"""AS3's actions and bookkeeping, sans-IO: deploy, dry-run, redeploy, retrieve, remove, patch;
results per tenant, tasks, history. The REST shell (node/rest/appsvcs.py) calls `prepare` (pure:
validation and the plan, may run in a worker thread) and then `apply` (the one commit).

Answers are (HTTP status, body) in AS3's shapes.
"""
from __future__ import annotations

import copy
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import ConfigError
from . import classes as C
from ..config.store import Op
from . import discovery, per_app, settings, validate
from .datastore import DG, FOLDER, Datastore
from .desired import tenant_objects
from .plan import Plan, plan, plan_each
from .refs import Resolver, apps_of, objects_of

MAX_TASKS = 50
BUSY = ("Error: Configuration operation in progress on device localhost, please try again in 2 minutes")


@dataclass
class Prepared:
    """A deploy ready to commit, or an answer already (invalid, retrieve, no change)."""
    answer: tuple[int, dict] | None = None
    failure: str | None = None               # the store refused the plan: why
    refused: dict[str, str] = field(default_factory=dict)   # tenant -> why the store refused it
    plan: Plan | None = None
    declaration: dict | None = None          # the whole declaration after the deploy
    tenants: list[str] = field(default_factory=list)
    dry: bool = False
    persist: bool = True
    started: float = 0.0


def invalid(errors: list[str]) -> tuple[int, dict]:
    return 422, {"code": 422, "message": "declaration is invalid", "errors": errors, "declarationFullId": ""}


def refused(tenant: str, reason: str, runtime: int) -> dict:
    """A tenant's result when the store refused it (nothing of it was applied)."""
    return {"code": 422, "message": "declaration failed", "response": reason, "host": "localhost",
            "tenant": tenant, "runTime": runtime}


def tenants_of(decl: dict) -> dict[str, dict]:
    return {k: v for k, v in decl.items() if k not in C.TOP_LEVEL_WORDS}


def bare(decl: dict | None) -> dict | None:
    """A declaration without its archive stamp, to compare two."""
    return None if decl is None else {k: v for k, v in decl.items() if k != "controls"}


def expand(decl: dict) -> dict:
    """show=full: every object with its class's defaults filled in."""
    out = copy.deepcopy(decl)
    for tenant in tenants_of(out).values():
        for app in apps_of(tenant).values():
            for item in objects_of(app).values():
                for prop, schema in C.CLASSES.get(item.get("class"), {}).get("properties", {}).items():
                    if "default" in schema:
                        item.setdefault(prop, schema["default"])
    return out


class AppServices:
    """AS3 on one device. Its declarations and finished tasks live in the store (datastore.py);
    only the tasks still running are in memory."""

    def __init__(self, store, save: Callable[[], Any], now: Callable[[], float] = time.time):
        self.store, self.save, self.now = store, save, now
        self.data = Datastore(store)
        self.history_limit = 4
        self.running: OrderedDict[str, dict] = OrderedDict()   # tasks submitted and not finished
        self.busy = False

    @property
    def history(self) -> list[dict]:
        """The deployed declarations (ADC), newest first."""
        return self.data.declarations()

    @property
    def current(self) -> dict | None:
        """The deployed declaration; None when nothing was ever deployed."""
        return self.data.current()

    # -- reading ----------------------------------------------------------------------------------
    def retrieve(self, tenants: list[str] | None = None, show: str = "base", age: str | None = None
                 ) -> tuple[int, Any]:
        if age == "list":
            return 200, [{"id": d.get("id"), "age": i, "date": d["controls"]["archiveTimestamp"],
                          "tenants": list(tenants_of(d))} for i, d in enumerate(self.history)]
        history, age = self.history, age or "0"
        decl = history[int(age)] if age.isdigit() and int(age) < len(history) else None
        if decl is None or not tenants_of(decl):
            return 204, None
        if tenants:
            decl = {k: v for k, v in decl.items() if k in C.TOP_LEVEL_WORDS or k in tenants}
            if not tenants_of(decl):
                return 204, None
        return 200, expand(decl) if show in ("full", "expanded") else decl

    def task(self, id_: str | None = None) -> tuple[int, dict]:
        if id_ is None:
            return 200, {"items": self.data.tasks() + list(self.running.values())}
        record = self.running.get(id_) or self.data.task(id_)
        if record is None:
            return 404, {"code": 404, "message": f"task ID {id_} not found"}
        return 200, record

    def info(self, version: str) -> dict:
        return {"version": version, "release": "1", "schemaCurrent": C.SCHEMA_VERSION,
                "schemaMinimum": C.SCHEMA_MINIMUM}

    # -- changing: prepare (pure) then apply (the commit) --------------------------------------------
    def prepare(self, body, url_tenants: list[str] | None = None, method: str = "POST",
                apps: list[str] | None = None) -> Prepared:
        """`apps` (not None): a per-application request on /declare/TENANT/applications[/APP]."""
        started = self.now()
        if apps is not None:
            return self._per_app(body, url_tenants[0], apps, method, started)
        if method == "DELETE":
            return self._removal(url_tenants, started)
        if method == "PATCH":
            body = {"class": "AS3", "action": "patch", "patchBody": body}
        request, decl, errors = validate.split(body)
        if errors:
            return Prepared(invalid(errors))
        action = request["action"]
        if action == "retrieve":
            return Prepared(self.retrieve(url_tenants))
        if action == "remove":
            return self._removal(url_tenants or list(tenants_of(decl or {})) or None, started)
        if action == "redeploy":
            age = request.get("redeployAge", 0)
            if age >= len(self.history):
                return Prepared(invalid([f"/redeployAge: no declaration of age {age} in the history"]))
            decl = copy.deepcopy(self.history[age])
        if action == "patch":
            decl, errors = self._patched(request.get("patchBody") or [])
            if errors:
                return Prepared(invalid(errors))
        self.history_limit = request.get("historyLimit", self.history_limit)
        dry = action == "dry-run" or bool((decl.get("controls") or {}).get("dryRun"))
        return self._deploy(decl, url_tenants, dry, request.get("persist", True), started)

    def _per_app(self, body, tenant: str, apps: list[str], method: str, started: float) -> Prepared:
        if not settings.current(self.store)["perAppDeploymentAllowed"]:
            return Prepared((422, {"code": 422, "message": per_app.DISABLED}))
        if method == "DELETE":
            decl = per_app.without(tenant, apps[0], self.current) if apps else None
            if decl is None:
                return Prepared((404, {"code": 404, "message": f"specified application {'/'.join([tenant, *apps])} "
                                                              "not found"}))
        else:
            decl = per_app.merged(body, tenant, self.current)
            if isinstance(decl, str):
                return Prepared(invalid([decl]))
        dry = bool((decl.get("controls") or {}).get("dryRun"))
        return self._deploy(decl, [tenant], dry, True, started)

    def _patched(self, ops: list) -> tuple[dict | None, list[str]]:
        import jsonpatch    # only when a PATCH arrives
        if any(isinstance(op, dict) and op.get("op") == "test" for op in ops):
            return None, ["/patchBody: the test operation is not supported by AS3"]
        try:
            return jsonpatch.apply_patch(self.current or {"class": "ADC", "schemaVersion": C.SCHEMA_VERSION},
                                         ops), []
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as exc:
            return None, [f"/patchBody: {exc}"]

    def _deploy(self, decl: dict, url_tenants, dry: bool, persist: bool, started: float) -> Prepared:
        declared = tenants_of(decl)
        if url_tenants:
            declared = {t: v for t, v in declared.items() if t in url_tenants}
        deployed = tenants_of(self.current or {})
        others = {t: v for t, v in deployed.items() if t not in declared}
        errors = validate.declaration({**{k: v for k, v in decl.items() if k in C.TOP_LEVEL_WORDS}, **declared},
                                      others)
        if not errors and not settings.current(self.store)["serviceDiscoveryEnabled"]:
            errors = [f"{path}/members/{i}/addressDiscovery: requires Service Discovery to be enabled"
                      for path, _, i in discovery.event_members(declared).values()]
        if errors:
            return Prepared(invalid(errors))
        complete = decl.get("updateMode") == "complete" and not url_tenants
        resolver = Resolver({**others, **declared})
        wanted = {t: (tenant_objects(t, v, resolver, self._discovered) if apps_of(v) else None)
                  for t, v in declared.items()}
        if complete:
            wanted.update({t: None for t in others})
        p, refused = plan_each(self.store.objects, self.store.validate, wanted, lambda t: self._owned([t]))
        if refused and len(refused) == len(wanted):
            return Prepared(failure="; ".join(refused.values()), refused=refused, tenants=list(wanted),
                            declaration=decl, started=started)
        after = {**({} if complete else others), **{t: v for t, v in declared.items() if apps_of(v)}}
        for t in refused:    # a refused tenant stays as it was deployed
            after.pop(t, None)
            if t in deployed:
                after[t] = deployed[t]
        head = {k: v for k, v in decl.items() if k in C.TOP_LEVEL_WORDS}
        head.setdefault("id", (self.current or {}).get("id") or f"autogen_{uuid.uuid4()}")
        head["updateMode"] = decl.get("updateMode", "selective")
        return Prepared(plan=p, declaration={**head, **after} if after else None, tenants=list(wanted), dry=dry,
                        persist=persist, started=started, refused=refused)

    def _owned(self, tenants: list[str]) -> set:
        """The objects the deployed declaration made for these tenants (AS3 owns them)."""
        deployed = tenants_of(self.current or {})
        resolver = Resolver(deployed)
        return {(o.type, o.path) for t in tenants if t in deployed
                for o in tenant_objects(t, deployed[t], resolver, self._discovered)}

    def _discovered(self, pool_path: str) -> list[dict]:
        return discovery.nodes_of(self.store, pool_path)

    def _removal(self, tenants: list[str] | None, started: float) -> Prepared:
        deployed = tenants_of(self.current or {})
        gone = [t for t in (tenants or list(deployed))]
        if not gone:
            return Prepared((200, {"results": [{"code": 200, "message": "no change", "host": "localhost",
                                                "tenant": "", "runTime": 0, "lineCount": 0}],
                                   "declaration": {}}))
        try:
            p = plan(self.store.objects, self.store.validate, {t: None for t in gone}, self._owned(gone))
        except ConfigError as exc:
            return Prepared(failure=str(exc), tenants=gone, declaration=self.current or {}, started=started)
        rest = {t: v for t, v in deployed.items() if t not in gone}
        head = {k: v for k, v in (self.current or {}).items() if k in C.TOP_LEVEL_WORDS}
        return Prepared(plan=p, declaration={**head, **rest} if rest else None, tenants=gone, started=started)

    def apply(self, prep: Prepared, id_: str | None = None) -> tuple[int, dict]:
        """Commit a prepared deploy (unless dry or answered) with its history and its task record,
        in one commit; answers (status, body) with the body under the task's id."""
        id_ = id_ or str(uuid.uuid4())
        if prep.answer is not None:
            self.finish(id_, prep.answer)
            return prep.answer
        if prep.failure is not None:
            return self._failed(prep.tenants, prep.failure, prep.started, prep.declaration or {}, id_, prep.refused)
        p = prep.plan
        runtime = int((self.now() - prep.started) * 1000)
        results = [refused(t, prep.refused[t], runtime) if t in prep.refused else {
            "code": 200, "message": "success" if p.changed.get(t) else "no change", "lineCount": p.objects[t],
            "host": "localhost", "tenant": t, "runTime": runtime, **({"dryRun": True} if prep.dry else {})}
            for t in prep.tenants]
        ops = [] if prep.dry else list(p.ops)
        echo = prep.declaration or {}
        if not prep.dry:
            if any(p.changed.values()) or bare(self.current) != bare(prep.declaration):
                echo = self._archived(prep.declaration)
                ops += self.data.keep_declaration(echo, self._stamp(), self.history_limit)
                ops += [Op("delete", DG, path, {}) for path in discovery.stale(self.store, echo)]
            else:
                echo = self.current or {}
        record = self._record(id_, {"results": results, "declaration": echo})
        try:
            self.store.commit(ops + self._keep(record))
        except ConfigError as exc:
            return self._failed(prep.tenants, str(exc), prep.started, echo, id_)
        if p.ops and not prep.dry and prep.persist:
            self.save()
        return (207 if prep.refused else 200), record     # 207: some tenants refused, the others done

    def _stamp(self) -> int:
        return self.data.next_stamp(int(self.now() * 1000))

    def _archived(self, decl: dict | None) -> dict:
        """The declaration as the history keeps it (nothing deployed: an ADC without tenants)."""
        decl = copy.deepcopy(decl) if decl is not None else {
            k: v for k, v in (self.current or {"class": "ADC", "schemaVersion": C.SCHEMA_VERSION}).items()
            if k in C.TOP_LEVEL_WORDS}
        decl["controls"] = {**(decl.get("controls") or {}),
                            "archiveTimestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(self.now()))}
        decl["controls"].pop("dryRun", None)
        return decl

    def _failed(self, tenants: list[str], reason: str, started: float, decl: dict, id_: str,
                reasons: dict | None = None) -> tuple[int, dict]:
        reasons = reasons or {}
        runtime = int((self.now() - started) * 1000)
        results = [refused(t, reasons.get(t, reason), runtime) for t in tenants]
        record = self._record(id_, {"results": results, "declaration": decl})
        self.store.commit(self._keep(record))
        return 422, record

    # -- event-driven service discovery (/mgmt/shared/service-discovery/task) ------------------------
    def discovery_tasks(self, id_: str | None = None) -> tuple[int, dict]:
        """The service discovery tasks of the deployed declaration's event members (one, by id)."""
        tasks = discovery.event_members(self.current)
        views = {i: discovery.view(path, m, self._discovered(path)) for i, (path, m, _) in tasks.items()}
        if id_ is None:
            return 200, {"items": list(views.values())}
        if id_ not in views:
            return 404, {"code": 404, "message": f"task {id_} not found"}
        return 200, views[id_]

    def post_nodes(self, id_: str, body) -> tuple[int, dict]:
        """A task's new node list: kept, and the pool's members follow it in the same commit."""
        tasks = discovery.event_members(self.current)
        if id_ not in tasks:
            return 404, {"code": 404, "message": f"task {id_} not found"}
        nodes, why = discovery.check(body)
        if why:
            return 400, {"code": 400, "message": f"invalid node list: {why}"}
        path, member, _ = tasks[id_]
        t = path.split("/")[1]
        deployed = tenants_of(self.current)
        posted = {path: nodes}
        wanted = {t: tenant_objects(t, deployed[t], Resolver(deployed),
                                    lambda pool: posted.get(pool, self._discovered(pool)))}
        try:
            p = plan(self.store.objects, self.store.validate, wanted, self._owned([t]))
            folder = [] if self.store.get("sys folder", FOLDER) else [Op("create", "sys folder", FOLDER, {})]
            self.store.commit(p.ops + folder + discovery.keep(self.store, path, nodes))
        except ConfigError as exc:
            return 400, {"code": 400, "message": str(exc)}
        if p.ops:
            self.save()
        return 200, {"code": 200, "message": "success", "result": discovery.view(path, member, nodes)}

    # -- tasks ----------------------------------------------------------------------------------------
    @staticmethod
    def _record(id_: str, record: dict) -> dict:
        return {"id": id_, **record, "selfLink": f"https://localhost/mgmt/shared/appsvcs/task/{id_}"}

    def _keep(self, record: dict) -> list:
        """The ops that store a finished task (it leaves the running ones)."""
        self.running.pop(record["id"], None)
        return self.data.keep_task(record, self._stamp(), MAX_TASKS)

    def submitted(self) -> dict:
        """An asynchronous declaration's task, before it runs: AS3's 202 answer."""
        record = self._record(str(uuid.uuid4()), {"results": [{
            "message": "Declaration successfully submitted", "tenant": "", "host": "", "runTime": 0, "code": 0}],
            "declaration": {}})
        self.running[record["id"]] = record
        return record

    def in_progress(self, id_: str) -> None:
        self.running[id_]["results"] = [{"message": "in progress", "code": 0, "tenant": "", "host": "localhost",
                                         "runTime": 0}]

    def finish(self, id_: str, answer: tuple[int, dict]) -> None:
        """A task that ended without a deploy (invalid, a retrieve, a failure) is stored with its answer."""
        status, body = answer
        if isinstance(body, dict) and "results" in body:
            record = {k: v for k, v in body.items() if k not in ("id", "selfLink")}
        else:   # invalid, or a retrieve: the task shows the code and message
            body = body if isinstance(body, dict) else {}
            record = {"results": [{"code": status, "message": body.get("message", "success"),
                                   **({"errors": body["errors"]} if "errors" in body else {})}],
                      "declaration": {} if "errors" in body else body}
        self.store.commit(self._keep(self._record(id_, record)))
