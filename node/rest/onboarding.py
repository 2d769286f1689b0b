"""/mgmt/shared/declarative-onboarding: DO's endpoints and the steps of a declaration (node/do/).

A declaration runs as a task: the local commit, then trust (a device that is not the remoteHost
asks the remoteHost, over its iControl REST, to add it: F5's add-to-trust, the 4353 join), then
the device group (the owner makes it once every member is in the trust domain and pushes its
configuration to the group; the others wait until they are in it). A failure rolls the local
commit back and the task ends ERROR "invalid config - rolled back", as DO reports it.
"""
from __future__ import annotations

import base64
import http.client
import json
import time
import uuid

import trio
from starlette.responses import Response

from .. import tls
from ..config.store import Op
from ..do import classes as C
from ..do.plan import Me, Steps, declaration_of, plan
from ..errors import ConfigError, F5Error
from .commands import Tasks
from .parts import Parts
from .responses import json_response

SYNC_LIMIT = 60.0          # seconds a synchronous declaration waits before answering 202
PEER_WAIT = 120.0          # seconds to wait for peers to join the trust domain or the group
BASE = "https://localhost/mgmt/shared/declarative-onboarding"


class Failed(Exception):
    """A step of the declaration failed; the local commit is rolled back."""


def result(code: int, status: str, message: str, errors: list | None = None) -> dict:
    return {"class": "Result", "code": code, "status": status, "message": message,
            **({"errors": errors} if errors is not None else {})}


class Onboarding:
    def __init__(self, parts: Parts, tasks: Tasks):
        self.parts, self.tasks = parts, tasks
        self.records: dict[str, dict] = {}
        self.last: str | None = None
        self.busy = False

    async def handle(self, segs: list[str], method: str, body, query: dict) -> Response:
        if method == "GET":
            return self.read(segs)
        if method != "POST" or segs:
            return json_response({"code": 405, "message": f"Method {method} is not allowed."}, 405)
        if self.busy or self.tasks.running:
            return json_response({"code": 503, "status": "ERROR", "message": "Configuration operation in progress"
                                  " on device, please try again later"}, 503)
        decl, errors = declaration_of(body)
        steps = None
        if not errors:
            steps, errors = plan(decl, self.me(), self.parts.store.objects)
        id_ = str(uuid.uuid4())
        if errors:
            self.records[id_] = self._record(id_, result(400, "ERROR", "bad declaration", errors), decl or {})
            return json_response(self.records[id_], 400)
        self.records[id_] = self._record(id_, result(202, "RUNNING", "processing"), decl)
        self.last, self.busy = id_, True
        done = trio.Event()
        trio.lowlevel.spawn_system_task(self._run, id_, steps, done)
        if not decl.get("async"):
            with trio.move_on_after(SYNC_LIMIT):
                await done.wait()
        record = self.records[id_]
        return json_response(record, record["result"]["code"] if done.is_set() else 202)

    def read(self, segs: list[str]) -> Response:
        if segs == ["info"]:
            return json_response([{"id": 0, "selfLink": f"{BASE}/info", "result": result(200, "OK", "", []),
                                   "version": C.SCHEMA_VERSION, "release": "1", "schemaCurrent": C.SCHEMA_VERSION,
                                   "schemaMinimum": C.SCHEMA_MINIMUM}])
        if segs == ["task"]:
            return json_response(list(self.records.values()))
        if len(segs) == 2 and segs[0] == "task":
            if segs[1] not in self.records:
                return json_response({"code": 404, "message": f"task {segs[1]} not found"}, 404)
            return json_response(self.records[segs[1]])
        if not segs:
            if self.last is None:
                return json_response({"result": result(200, "OK", "no declaration has been applied", []),
                                      "declaration": {}})
            return json_response(self.records[self.last])
        return json_response({"code": 404, "message": "not found"}, 404)

    def _record(self, id_: str, res: dict, decl: dict) -> dict:
        return {"id": id_, "selfLink": f"{BASE}/task/{id_}", "result": res, "declaration": decl}

    def me(self) -> Me:
        store, d = self.parts.store, self.parts.device
        own = store.get("cm device", f"/Common/{d.name}") or {}
        selfs = [v["address"].split("/")[0] for v in store.of_type("net self").values()]
        return Me(d.name, frozenset({d.mgmt_address, own.get("configsync-ip", ""), *selfs}))

    # -- the steps --------------------------------------------------------------------------------------
    async def _run(self, id_: str, steps: Steps, done: trio.Event) -> None:
        store = self.parts.store
        keys = {(op.type, op.path) for op in steps.ops}
        before = {k: store.get(*k) for k in keys}
        try:
            try:
                if steps.ops:
                    store.commit(steps.ops)
                if steps.trust:
                    await self._ask_trust(steps.trust)
                if steps.group:
                    await (self._make_group(steps.group) if steps.owner else self._await_group(steps.group))
            except (ConfigError, F5Error, OSError, ValueError) as exc:
                raise Failed(str(exc)) from None
            res = result(200, "OK", "success")
        except Failed as exc:
            self._roll_back(before)
            res = result(422, "ERROR", "invalid config - rolled back", [str(exc)])
        except Exception as exc:   # a bug must not kill the daemon: the task says what failed
            self._roll_back(before)
            res = result(500, "ERROR", "invalid config - rolled back", [repr(exc)])
        finally:
            self.busy = False
        self.records[id_]["result"] = res
        done.set()

    def _roll_back(self, before: dict) -> None:
        store, ops = self.parts.store, []
        for (t, p), old in before.items():
            now = store.get(t, p)
            if now == old:
                continue
            if now is not None:
                ops.append(Op("delete", t, p, {}))
            if old is not None:
                ops.append(Op("create", t, p, {k: ("set", v) for k, v in old.items()}))
        if ops:
            try:
                store.commit(ops)
            except ConfigError as exc:
                if self.parts.log:
                    self.parts.log.log("err", "restnoded", f"declarative onboarding rollback failed: {exc}")

    async def _ask_trust(self, trust: dict) -> None:
        """Ask the remoteHost to add this device to its trust domain (its add-to-trust)."""
        d = self.parts.device
        body = {"command": "run", "name": "Root", "caDevice": True, "device": d.mgmt_address, "deviceName": d.name,
                "username": trust["localUsername"], "password": trust["localPassword"]}
        status, text = await trio.to_thread.run_sync(
            post, trust["remoteHost"], "/mgmt/tm/cm/add-to-trust", body, trust["remoteUsername"],
            trust["remotePassword"])
        if status != 200:
            raise Failed(f"{trust['remoteHost']} refused to add this device to its trust domain: {status} {text}")

    def _member_names(self, words: list[str]) -> list[str] | None:
        """The device names the group's members mean, once each is in the trust domain."""
        me = self.me()
        trusted = self.parts.trust.member_names() if self.parts.trust else set()
        peers = self.parts.cluster.peers()
        names = []
        for w in words:
            if me.named(w):
                names.append(me.name)
                continue
            name = next((n for n in trusted if w in (n, n.split(".")[0]) or w.split(".")[0] == n
                         or w in _addresses((peers.get(n) or {}).get("device") or {})), None)
            if name is None:
                return None
            names.append(name)
        return names

    async def _make_group(self, group: dict) -> None:
        deadline = time.monotonic() + PEER_WAIT
        while (names := self._member_names(group["members"])) is None:
            if time.monotonic() > deadline:
                raise Failed(f"device group {group['name']}: members {group['members']} are not all in the trust "
                             f"domain after {PEER_WAIT:g} s")
            await trio.sleep(0.5)
        store, path = self.parts.store, f"/Common/{group['name']}"
        action = "modify" if store.get("cm device-group", path) else "create"
        store.commit([Op(action, "cm device-group", path,
                         {**{k: ("set", v) for k, v in group["values"].items()}, "devices": ("set", names)})])
        await self.tasks.run(f"run cm config-sync to-group {group['name']}")

    async def _await_group(self, group: dict) -> None:
        deadline = time.monotonic() + PEER_WAIT
        path = f"/Common/{group['name']}"
        while self.parts.device.name not in ((self.parts.store.get("cm device-group", path) or {}).get("devices")
                                             or []):
            if time.monotonic() > deadline:
                raise Failed(f"device group {group['name']} from {group['owner']} did not arrive within "
                             f"{PEER_WAIT:g} s")
            await trio.sleep(0.5)


def _addresses(info: dict) -> set[str]:
    """A peer's addresses as its cm-status tells them (its own cm device's)."""
    return {info.get("management-ip"), info.get("configsync-ip"), *(info.get("unicast-address") or [])} - {None}


def post(host: str, path: str, body: dict, user: str, password: str) -> tuple[int, str]:
    """One HTTPS POST to a peer's iControl REST (its certificate is not one we can check before
    trust, as DO does not either). Runs in a worker thread."""
    conn = http.client.HTTPSConnection(host, 443, timeout=60, context=tls.unverified_client())
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json",
                                                      "Authorization": f"Basic {auth}"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")[:500]
    finally:
        conn.close()
