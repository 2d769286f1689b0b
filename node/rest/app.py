"""iControl REST on a node: one ASGI app (Starlette on anyio, served by Hypercorn's trio worker).

Every write is a commit to the same ConfigStore tmsh uses, so a change made here syncs like any
other and shows in `tmsh list` at once. This module is the door (authentication, the body,
errors to answers); behind it:
  routes.py        configuration objects, generated from the schema (resources.py)
  commands.py      what is not configuration: versions, sync and failover status, run and save
  transactions.py  /mgmt/tm/transaction and the writes queued in one
  appsvcs.py       /mgmt/shared/appsvcs: AS3 declarations (node/as3/), and the event-driven
                   service discovery tasks they make (/mgmt/shared/service-discovery/task)
  onboarding.py    /mgmt/shared/declarative-onboarding: DO declarations (node/do/)
"""
from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from ..config.access import CURRENT
from ..config.schema import base_name, check_trusted
from ..config.store import Op
from ..errors import ConfigError
from .. import telemetry
from ..as3 import targets
from ..as3.service import AppServices
from ..as3.validate import NotJson
from . import resources as res
from .appsvcs import Appsvcs
from .onboarding import Onboarding
from . import packages
from .packages import PackageTasks
from .auth import Auth
from . import files
from .commands import Call, Commands, Tasks
from .errors import RestError, answer
from .parts import Parts
from .query import Query
from .responses import json_response, not_registered
from .routes import Routes
from .transactions import Transactions

MAX_BODY = 4 * 1024 * 1024
DRAIN_MAX = 64 * 1024 * 1024


class RestApp:
    """RestApp(store=..., shell=..., cluster=..., ltm=..., device=..., admin=..., now=...,
    save_config=..., log=...): the narrow interfaces of rest/parts.py, never the daemon."""

    def __init__(self, **parts):
        self.parts = p = Parts(**parts)
        self.store, self.log = p.store, p.log
        self.auth = Auth(p.admin, self._users, p.now, p.logins)
        self.tasks = Tasks(p.shell)
        self.routes = Routes(p, self.auth, self.commit)
        self.commands = Commands(p, self.auth, self.tasks, self.commit)
        self.transactions = Transactions(p.store, self.auth, self.commit)
        self.files = files.Files(p.sysconfig) if p.sysconfig is not None else None
        self.appsvcs = Appsvcs(AppServices(p.store, p.save_config, p.now), self.tasks,
                               targets.Lab(p.device.name, p.device.mgmt_address, p.device.peers))
        self.onboarding = Onboarding(p, self.tasks)
        self.packages = PackageTasks()
        self.operations = 0

    async def app(self, scope, receive, send) -> None:
        """The ASGI entry: one handler for every URI (the routes are data, not decorators), no
        middleware stack on the hot path."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            response = await self.handle(request)
        except Exception as exc:  # a bug must not take the API down: answer 500 and log it
            if self.log:
                self.log.log("err", "restjavad", f"{request.method} {request.url.path} failed: {exc!r}")
            response = json_response({"code": 500, "message": f"Internal error: {exc!r}", "errorStack": [],
                                      "apiError": 1}, 500)
        await response(scope, receive, send)

    def _users(self) -> dict:
        return {base_name(p): v for p, v in self.store.of_type("auth user").items()}

    def commit(self, ops: list[Op], about: tuple = ()) -> dict:
        """One commit; refused, it is a REST error (404 only for a missing object `about` names)."""
        self.tasks.check_idle()
        try:
            self._check_trusted(ops)
            return self.store.commit(ops)
        except ConfigError as exc:
            raise answer(exc, about=about) from None

    def _check_trusted(self, ops: list[Op]) -> None:
        if self.parts.trust is not None:
            for op in ops:
                check_trusted(op.type, op.values, self.parts.trust.member_names)

    # -- the door ---------------------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        self.operations += 1
        try:
            return await self._dispatch(request)
        except ConfigError as exc:          # a name or value refused before it reached the store
            exc = answer(exc, about=())
            return json_response(exc.body(), exc.code)
        except RestError as exc:
            out = exc.body()
            if exc.rest_kind:
                out = {"code": exc.code, "message": exc.message, "referer": request.client.host if request.client
                       else "", "restOperationId": self.operations, "kind": exc.rest_kind}
            return json_response(out, exc.code)

    async def _dispatch(self, request: Request) -> Response:
        scope = CURRENT.set(None)
        try:
            return await self._serve(request)
        finally:
            CURRENT.reset(scope)

    async def _serve(self, request: Request) -> Response:
        uri = request.url.path
        method = request.method
        if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise RestError(405, f"Method {method} is not allowed.", 1)
        segs = [s for s in uri.split("/") if s]
        if segs[:3] == ["mgmt", "shared", "file-transfer"] and self.files is not None:
            return await self._file_transfer(request, segs[3:], method)
        try:
            body = await self._body(request) if method in ("POST", "PUT", "PATCH") else None
        except RestError as exc:
            if exc.code != 400 or segs[:3] != ["mgmt", "shared", "appsvcs"]:
                raise
            body = NotJson(exc.message)     # AS3 answers it as an invalid declaration
        if segs == ["mgmt", "shared", "authn", "login"] and method == "POST":
            t = self.auth.login(body, request.client.host if request.client else "")
            return json_response({"username": t.user, "loginProviderName": "tmos", "token": t.to_rest(),
                                  "generation": 0, "lastUpdateMicros": 0})
        user = self.auth.authenticate(request.headers, uri)
        CURRENT.set(self.auth.access(user))   # what this user may write and see, for every commit and read
        if segs[:3] == ["mgmt", "shared", "appsvcs"]:
            self.auth.authorize(user, method, uri)
            return await self.appsvcs.handle(segs[3:], method, body, dict(request.query_params))
        if segs[:3] == ["mgmt", "shared", "service-discovery"]:
            self.auth.authorize(user, method, uri)
            return self.appsvcs.discovery(segs[3:], method, body)
        if segs[:3] == ["mgmt", "shared", "declarative-onboarding"]:
            self.auth.authorize(user, method, uri)
            return await self.onboarding.handle(segs[3:], method, body, dict(request.query_params))
        if segs[:2] == ["mgmt", "shared"]:
            return self.shared(segs[2:], method, user, body, dict(request.query_params))
        if segs[:2] != ["mgmt", "tm"] or len(segs) < 3:
            raise not_registered(uri)
        tm = segs[2:]
        trans = request.headers.get("x-f5-rest-coordination-id")
        if trans and method != "GET" and tm[0] != "transaction":
            return self.transactions.queue(trans, method, uri, tm, body, user)
        q = Query.parse(request.query_params)
        if tm[0] == "transaction":
            return self.transactions.handle(tm[1:], method, user, body, uri)
        if self.files is not None and (tm in (["util", "unix-mv"], ["util", "unix-rm"], ["sys", "ucs"])
                                       or tm[:3] == ["task", "sys", "ucs"]):
            if method != "GET":
                self.auth.authorize(user, method, uri)
                self.tasks.check_idle()
            if tm[0] == "util":
                return (self.files.unix_mv if tm[1] == "unix-mv" else self.files.unix_rm)(body or {})
            return self.files.ucs(method, body) if tm[0] == "sys" else self.files.task(tm[3:], method, body)
        answered = await self.commands(Call(tuple(tm), method, user, body, uri))
        if answered is not None:
            return answered
        return self.routes.serve(tm, method, user, body, q, uri)

    async def _file_transfer(self, request: Request, segs: list[str], method: str) -> Response:
        """F5's file-transfer workers: a chunk up (octet-stream, not JSON) or a chunk down."""
        uri = request.url.path
        user = self.auth.authenticate(request.headers, uri)
        if segs[:1] == ["uploads"] and len(segs) == 2 and method == "POST":
            self.auth.authorize(user, method, uri, for_type="sys file ssl-cert")   # how certificates arrive
            data = await self._raw(request, files.MAX_CHUNK)
            return self.files.upload(segs[1], request.headers, data)
        if segs[:1] == ["ucs-downloads"] and len(segs) == 2 and method == "GET":
            return self.files.download(segs[1], request.headers)
        raise not_registered(uri)

    async def _raw(self, request: Request, limit: int) -> bytes:
        chunks, got = [], 0
        async for chunk in request.stream():
            got += len(chunk)
            if got > limit:
                raise RestError(413, f"The request body is larger than the limit of {limit} bytes.", 1)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _body(self, request: Request):
        """The JSON body, or 413 past MAX_BODY. An oversized body is still read (and dropped, up to
        DRAIN_MAX) so the client, still sending, gets the error rather than a broken connection."""
        chunks, got = [], 0
        async for chunk in request.stream():
            got += len(chunk)
            if got <= MAX_BODY:
                chunks.append(chunk)
            elif got > DRAIN_MAX:
                break
        if got > MAX_BODY:
            raise RestError(413, f"The request body is larger than the limit of {MAX_BODY} bytes.", 1)
        raw = b"".join(chunks)
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RestError(400, f"Unexpected character in the JSON body: {exc}", 1) from None

    # -- /mgmt/shared -----------------------------------------------------------------------------
    def shared(self, segs: list[str], method: str, user: str, body, query: dict) -> Response:
        if segs == ["echo-query"]:
            return json_response({**query, "kind": "shared:echo-query:echoquerystate",
                                  "selfLink": "https://localhost/mgmt/shared/echo-query"})
        if segs == ["identified-devices", "config", "device-info"]:
            return json_response(self.device_info())
        if segs[:2] == ["iapp", "package-management-tasks"]:
            if len(segs) == 2 and method == "POST" and isinstance(body, dict) and body.get("operation") == "QUERY":
                return json_response(self.packages.query(), 202)
            if len(segs) == 3 and method == "GET" and (task := self.packages.get(segs[2])) is not None:
                return json_response(task)
        if segs[:2] == ["iapp", "global-installed-packages"] and len(segs) <= 3 and method == "GET":
            if (found := packages.global_installed(*segs[2:])) is not None:
                return json_response(found)
        if segs[:1] == ["telemetry"] and len(segs) == 3 and method == "GET" and self.parts.status is not None:
            return self.telemetry(segs[1], segs[2])
        if segs[:3] == ["authz", "tokens"] or segs[:2] == ["authz", "tokens"]:
            if len(segs) == 2 and method == "GET":
                self.auth.expire()
                mine = [t.to_rest() for t in self.auth.tokens.values()
                        if t.user == user or self.auth.role(user) == "admin"]
                return json_response({"items": mine, "kind": "shared:authz:tokens:authtokencollectionstate",
                                      "selfLink": "https://localhost/mgmt/shared/authz/tokens"})
            if len(segs) == 3:
                if method == "GET":
                    return json_response(self.auth.token(user, segs[2]).to_rest())
                if method == "PATCH":
                    return json_response(self.auth.set_timeout(user, segs[2], body).to_rest())
                if method == "DELETE":
                    return json_response(self.auth.logout(user, segs[2]).to_rest())
        raise not_registered("/mgmt/shared/" + "/".join(segs))

    def telemetry(self, kind: str, name: str) -> Response:
        """F5 Telemetry Streaming: /telemetry/pullconsumer/<name> (Prometheus text) and
        /telemetry/systempoller/<name> (the system poller's JSON); see node/telemetry.py."""
        if kind not in ("pullconsumer", "systempoller"):
            raise not_registered(f"/mgmt/shared/telemetry/{kind}/{name}")
        data = telemetry.poller(self.parts.status(), self.parts.now())
        if kind == "systempoller":
            return json_response([data])
        return Response(telemetry.prometheus_text(data), media_type="text/plain; version=0.0.4; charset=utf-8")

    def device_info(self) -> dict:
        d = self.parts.device
        return {"baseMac": "00:00:00:00:00:00", "hostname": f"{d.name}.{d.lab}.lab", "machineId": d.name,
                "address": d.mgmt_address, "managementAddress": d.mgmt_address, "mcpDeviceName": f"/Common/{d.name}",
                "product": "BIG-IP", "platformMarketingName": "BIG-IP Virtual Edition (biglab)",
                "edition": "Final", "version": res.VERSION, "build": res.BUILD,
                "restFrameworkVersion": f"{res.VERSION}-{res.BUILD}", "isClustered": False,
                "kind": "shared:resolver:device-groups:deviceinfostate",
                "selfLink": "https://localhost/mgmt/shared/identified-devices/config/device-info"}
