"""/mgmt/shared/appsvcs: AS3's endpoints over the sans-IO core (node/as3/service.py).

A declaration runs as a task of its own: the check and the plan in a worker thread (a big
declaration does not stall the API), then the one commit on the trio thread. A synchronous POST
waits for it up to 45 s and then answers 202 with the task id, as AS3 does; `?async=true`
answers 202 at once. While one runs, another write gets AS3's 503; with burst handling on
(/settings, node/as3/settings.py) it waits its turn instead, in order, up to AS3's 10 waiting.
"""
from __future__ import annotations

import http.client
import json

import trio
from starlette.responses import Response

from .. import tls
from ..as3 import per_app, settings, targets
from ..as3.service import BUSY, AppServices, invalid
from . import resources as res
from .commands import Tasks
from .errors import RestError
from .responses import json_response

SYNC_LIMIT = 45.0     # seconds a synchronous declaration may run before it answers 202


class Appsvcs:
    def __init__(self, service: AppServices, tasks: Tasks, lab: targets.Lab | None = None):
        self.service, self.tasks = service, tasks
        self.lab = lab or targets.Lab("localhost", "127.0.0.1")
        self.answers: dict[str, tuple[int, dict]] = {}     # a synchronous call's answer, by task id
        self.waiting: set[str] = set()                      # the ids a synchronous call waits on
        self.turn = trio.StrictFIFOLock()                   # one declaration at a time, queued in order
        self.pending = 0                                    # declarations running or waiting their turn

    async def handle(self, segs: list[str], method: str, body, query: dict) -> Response:
        head = segs[0] if segs else ""
        if head == "info" and method == "GET":
            return json_response(self.service.info(res.VERSION))
        if head == "task" and method == "GET" and len(segs) <= 2:
            return json_response(*_swap(self.service.task(segs[1] if len(segs) == 2 else None)))
        if head == "settings" and len(segs) == 1:
            return await self._settings(method, body)
        apps = segs[3:4] if len(segs) in (3, 4) and segs[2] == "applications" and "," not in segs[1] else None
        if head != "declare" or (len(segs) > 2 and apps is None) or (apps and "," in apps[0]):
            raise RestError(404, f"URI path /mgmt/shared/appsvcs/{'/'.join(segs)} not registered."
                                 "  Please verify URI is supported and wait for /available suffix to be "
                                 "responsive.", 1)
        tenants = segs[1].split(",") if len(segs) >= 2 else None
        if apps is not None:
            return await self._per_app(segs[1], apps, method, body)
        if method == "GET":
            status, out = self.service.retrieve(tenants, query.get("show", "base"), query.get("age"))
            return Response(status_code=204) if status == 204 else json_response(out, status)
        if method not in ("POST", "PATCH", "DELETE"):
            raise RestError(405, f"Method {method} is not allowed.", 1)
        if method == "POST" and (targets.is_array(body) or targets.is_targeted(body)):
            return await self._batch(body, tenants, query)
        return await self._submit(body, tenants, method, query)

    async def _per_app(self, tenant: str, apps: list[str], method: str, body) -> Response:
        """/declare/TENANT/applications[/APP]: the tenant's applications, each deploy shown per application."""
        if method == "GET":
            status, out = self.service.retrieve([tenant])
            if status == 204 or (apps and apps[0] not in (out.get(tenant) or {})):
                return json_response({"code": 404, "message": f"specified application {'/'.join([tenant, *apps])} "
                                                              "not found"}, 404)
            return json_response(per_app.view(out, tenant, apps))
        if method not in ("POST", "DELETE") or (method == "POST" and apps) or (method == "DELETE" and not apps):
            raise RestError(405, f"Method {method} is not allowed.", 1)
        response = await self._submit(body, [tenant], method, {}, apps)
        out = json.loads(response.body)
        if isinstance(out, dict) and isinstance(out.get("declaration"), dict) and out["declaration"]:
            out["declaration"] = per_app.view(out["declaration"], tenant, apps or per_app.app_names(body))
        return json_response(out, response.status_code)

    def _busy(self) -> Response | None:
        """AS3's 503 while another declaration runs (unless burst handling queues this one)."""
        if self.pending or self.service.busy or self.tasks.running:
            if not settings.burst(self.service.store):
                return json_response({"code": 503, "message": BUSY}, 503)
            if self.pending > settings.QUEUE_LIMIT:     # the one running and 10 waiting
                return json_response({"code": 503, "message": settings.TOO_MANY}, 503)
        return None

    async def _submit(self, body, tenants, method: str, query: dict, apps: list[str] | None = None) -> Response:
        """Run one declaration as a task (queued behind a running one with burst handling)."""
        refusal = self._busy()
        if refusal:
            return refusal
        record = self.service.submitted()
        done = trio.Event()
        self.pending += 1
        trio.lowlevel.spawn_system_task(self._run, record["id"], body, tenants, method, done, apps)
        if query.get("async") != "true":
            self.waiting.add(record["id"])
            with trio.move_on_after(SYNC_LIMIT):
                await done.wait()
            self.waiting.discard(record["id"])
        if done.is_set():
            status, out = self.answers.pop(record["id"])
            return json_response(out, status)
        return json_response(self.service.task(record["id"])[1], 202)

    async def _batch(self, body, tenants, query: dict) -> Response:
        """An array of requests, or one with a targetHost: each to its target (node/as3/targets.py),
        each a task of its own; the answer is AS3's `{"code", "items"}` for an array."""
        items, errors = targets.batch(body, self.lab)
        if errors:
            return json_response(invalid(errors)[1], 422)
        array = isinstance(body, list)
        if not array and items[0].where == "local":
            return await self._submit(items[0].request, tenants, "POST", query)
        refusal = self._busy()
        if refusal:
            return refusal
        ids = [self.service.submitted()["id"] for _ in items]
        done = trio.Event()
        self.pending += 1
        trio.lowlevel.spawn_system_task(self._run_batch, items, ids, tenants, done)
        if query.get("async") != "true":
            self.waiting.add(ids[0])
            with trio.move_on_after(SYNC_LIMIT):
                await done.wait()
            self.waiting.discard(ids[0])
        if done.is_set():
            answers = self.answers.pop(ids[0])
        else:
            answers = [(202, self.service.task(id_)[1]) for id_ in ids]
        status, out = targets.combined(answers) if array else answers[0]
        return json_response(out, status)

    async def _run_batch(self, items: list[targets.Item], ids: list[str], tenants, done: trio.Event) -> None:
        async with self.turn:
            self.service.busy = True
            try:
                answers = await targets.run(self.service, items, ids, tenants, _in_thread, _forward_async)
            except Exception as exc:   # a bug must not kill the daemon: each task says what failed
                answers = [(500, {"code": 500, "message": "declaration failed", "response": repr(exc)})] * len(ids)
                for id_ in ids:
                    if id_ in self.service.running:    # not finished when it failed
                        self.service.finish(id_, answers[0])
            finally:
                self.service.busy = False
                self.pending -= 1
        if ids[0] in self.waiting:
            self.answers[ids[0]] = answers
        done.set()

    def discovery(self, segs: list[str], method: str, body) -> Response:
        """/mgmt/shared/service-discovery/task[/ID[/nodes]]: GET the tasks, POST a task's node list."""
        if segs[:1] != ["task"] or len(segs) > 3 or (len(segs) == 3 and segs[2] != "nodes"):
            raise RestError(404, f"URI path /mgmt/shared/service-discovery/{'/'.join(segs)} not registered.", 1)
        if method == "GET":
            status, out = self.service.discovery_tasks(segs[1] if len(segs) > 1 else None)
            return json_response({"result": out} if len(segs) == 3 and status == 200 else out, status)
        if method != "POST" or len(segs) != 3:
            raise RestError(405, f"Method {method} is not allowed.", 1)
        if self.service.busy or self.tasks.running:
            return json_response({"code": 503, "message": BUSY}, 503)
        return json_response(*_swap(self.service.post_nodes(segs[1], body)))

    async def _run(self, id_: str, body, tenants, method: str, done: trio.Event, apps=None) -> None:
        async with self.turn:
            self.service.busy = True
            try:
                self.service.in_progress(id_)
                prep = await trio.to_thread.run_sync(self.service.prepare, body, tenants, method, apps)
                answer = self.service.apply(prep, id_)
            except Exception as exc:   # a bug must not kill the daemon: the task says what failed
                answer = 500, {"results": [{"code": 500, "message": "declaration failed", "response": repr(exc),
                                            "host": "localhost", "tenant": "", "runTime": 0}], "declaration": {}}
                self.service.finish(id_, answer)
            finally:
                self.service.busy = False
                self.pending -= 1
        if id_ in self.waiting:
            self.answers[id_] = answer
        done.set()


    async def _settings(self, method: str, body) -> Response:
        """GET: every setting; POST: all of them overwritten (left out: back to the default)."""
        store = self.service.store
        if method == "GET":
            return json_response(settings.current(store))
        if method != "POST":
            return json_response({"code": 405, "message": "/mgmt/shared/appsvcs/settings: Only acceptable methods "
                                                          "are Post and Get"}, 405)
        status, out = settings.post(store, body)
        if status == 200:
            self.service.save()
        return json_response(out, status)


async def _in_thread(fn, *args):
    return await trio.to_thread.run_sync(fn, *args)


async def _forward_async(item: targets.Item, tenants) -> tuple[int, dict]:
    return await trio.to_thread.run_sync(_forward, item, tenants)


def _forward(item: targets.Item, tenants) -> tuple[int, dict]:
    """The request to a peer BIG-IP of the lab (only ever one: targets.Lab decides), over its
    iControl REST with the request's credentials; its certificate is not checked, as AS3 does not.
    Runs in a worker thread."""
    path = "/mgmt/shared/appsvcs/declare" + (f"/{','.join(tenants)}" if tenants else "")
    conn = http.client.HTTPSConnection(item.address, item.port, timeout=item.timeout, context=tls.unverified_client())
    try:
        conn.request("POST", path, json.dumps(item.request), {"Content-Type": "application/json", **item.headers})
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
    except OSError as exc:
        return 500, {"code": 500, "message": f"POST https://{item.host}:{item.port}{path} failed ({exc})"}
    finally:
        conn.close()
    try:
        body = json.loads(text) if text else {}
    except ValueError:
        body = text
    return targets.remote(item, resp.status, body)


def _swap(answer: tuple[int, dict]) -> tuple[dict, int]:
    return answer[1], answer[0]
