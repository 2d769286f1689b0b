"""iControl REST on a node: one ASGI app (Starlette on anyio, served by Hypercorn's trio worker).

Every write is a commit to the same ConfigStore tmsh uses, so a change made here syncs like any
other and shows in `tmsh list` at once. Generic routes come from the schema (resources.py);
what is not configuration (sync and failover status, commands, versions, tokens, transactions)
is handled here by name.
"""
from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from ..config.schema import TYPES, base_name
from ..config.store import Op
from ..errors import Busy, ConfigError, NotFound, ShellError
from . import resources as res
from . import stats
from .auth import Auth
from .query import Query
from .errors import RestError, answer
from .resources import kind, link

MAX_BODY = 4 * 1024 * 1024
DRAIN_MAX = 64 * 1024 * 1024
TRANSACTION_TIMEOUT = 30
EXTRA_CHILDREN = {("sys",): ["config", "failover", "version"], ("cm",): ["failover-status", "sync-status"],
                  ("util",): ["bash"], ("cli",): ["version"]}


@dataclass
class Transaction:
    id: int
    touched: float
    state: str = "STARTED"
    commands: list = field(default_factory=list)   # (method, uri, body, Op)
    failure: str = ""

    def to_rest(self) -> dict:
        return {"transId": self.id, "state": self.state, "timeoutSeconds": TRANSACTION_TIMEOUT,
                "asyncExecution": False, "validateOnly": False, "executionTimeout": 300, "executionTime": 0,
                "failureReason": self.failure, "kind": "tm:transactionstate",
                "selfLink": link(f"/mgmt/tm/transaction/{self.id}")}


class RestApp:
    def __init__(self, node):
        self.node = node
        self.store = node.store
        self.auth = Auth(node.config.admin, self._users, node.clock.time)
        self.transactions: dict[int, Transaction] = {}
        self.task: str | None = None     # an asynchronous task (config sync, bash) is running
        self.operations = 0
        self.log = getattr(node, "log", None)

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
            response = _json({"code": 500, "message": f"Internal error: {exc!r}", "errorStack": [],
                              "apiError": 1}, 500)
        await response(scope, receive, send)

    def _users(self) -> dict:
        return {base_name(p): v for p, v in self.store.of_type("auth user").items()}

    # -- the door ---------------------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        self.operations += 1
        uri = request.url.path
        try:
            if request.method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                raise RestError(405, f"Method {request.method} is not allowed.", 1)
            body = await self._body(request) if request.method in ("POST", "PUT", "PATCH") else None
            segs = [s for s in uri.split("/") if s]
            if segs == ["mgmt", "shared", "authn", "login"] and request.method == "POST":
                t = self.auth.login(body, request.client.host if request.client else "")
                return _json({"username": t.user, "loginProviderName": "tmos", "token": t.to_rest(),
                              "generation": 0, "lastUpdateMicros": 0})
            user = self.auth.authenticate(request.headers, uri)
            if segs[:2] == ["mgmt", "shared"]:
                return self.shared(segs[2:], request.method, user, body, dict(request.query_params))
            if segs[:2] != ["mgmt", "tm"] or len(segs) < 3:
                raise _not_registered(uri)
            tm = segs[2:]
            trans = request.headers.get("x-f5-rest-coordination-id")
            if trans and request.method != "GET" and tm[0] != "transaction":
                return self.queue(trans, request.method, uri, tm, body, user)
            return await self.tm(tm, request.method, user, body, Query.parse(request.query_params), uri)
        except ConfigError as exc:          # a name or value refused before it reached the store
            exc = answer(exc, about=())
            return _json(exc.body(), exc.code)
        except RestError as exc:
            out = exc.body()
            if exc.rest_kind:
                out = {"code": exc.code, "message": exc.message, "referer": request.client.host if request.client
                       else "", "restOperationId": self.operations, "kind": exc.rest_kind}
            return _json(out, exc.code)

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
            return _json({**query, "kind": "shared:echo-query:echoquerystate",
                          "selfLink": "https://localhost/mgmt/shared/echo-query"})
        if segs == ["identified-devices", "config", "device-info"]:
            return _json(self.device_info())
        if segs[:3] == ["authz", "tokens"] or segs[:2] == ["authz", "tokens"]:
            if len(segs) == 2 and method == "GET":
                self.auth.expire()
                mine = [t.to_rest() for t in self.auth.tokens.values()
                        if t.user == user or self.auth.role(user) == "admin"]
                return _json({"items": mine, "kind": "shared:authz:tokens:authtokencollectionstate",
                              "selfLink": "https://localhost/mgmt/shared/authz/tokens"})
            if len(segs) == 3:
                if method == "GET":
                    return _json(self.auth.token(user, segs[2]).to_rest())
                if method == "PATCH":
                    return _json(self.auth.set_timeout(user, segs[2], body).to_rest())
                if method == "DELETE":
                    return _json(self.auth.logout(user, segs[2]).to_rest())
        raise _not_registered("/mgmt/shared/" + "/".join(segs))

    def device_info(self) -> dict:
        c = self.node.config
        return {"baseMac": "00:00:00:00:00:00", "hostname": f"{c.name}.{c.lab}.lab", "machineId": c.name,
                "address": c.mgmt_address, "managementAddress": c.mgmt_address, "mcpDeviceName": f"/Common/{c.name}",
                "product": "BIG-IP", "platformMarketingName": "BIG-IP Virtual Edition (biglab)",
                "edition": "Final", "version": res.VERSION, "build": res.BUILD,
                "restFrameworkVersion": f"{res.VERSION}-{res.BUILD}", "isClustered": False,
                "kind": "shared:resolver:device-groups:deviceinfostate",
                "selfLink": "https://localhost/mgmt/shared/identified-devices/config/device-info"}

    # -- /mgmt/tm ---------------------------------------------------------------------------------
    async def tm(self, tm: list[str], method: str, user: str, body, q: Query, uri: str) -> Response:
        special = await self.command(tm, method, user, body, uri)
        if special is not None:
            return special
        r = res.route(tm)
        if r is None:
            children = sorted(set(res.organizing(tm)) | set(EXTRA_CHILDREN.get(tuple(tm), ())))
            if children and method == "GET":
                url = "/mgmt/tm/" + "/".join(tm)
                return _json({"kind": "tm:" + ":".join(tm) + ":" + tm[-1] + "collectionstate",
                              "selfLink": link(url), "items": [{"reference": {"link": link(f"{url}/{c}")}}
                                                              for c in children]})
            raise _not_registered(uri)
        if method == "GET":
            return _json(q.apply(self.read(r, q), r))
        op = res.op_for(method, r, body)
        self.auth.authorize(user, method, uri, operator_ok=_operator_change(op))
        self.commit([op], about=(r.path, r.member))
        if method == "DELETE":
            return Response(status_code=200)
        if r.sub:
            verb, items = op.values[r.sub]
            r = res.Route(r.type, r.path, r.sub, next(iter(items)))
        elif r.path is None:
            r = res.Route(r.type, op.path)
        return _json(self.read(r, q))

    def commit(self, ops: list[Op], about: tuple = ()) -> dict:
        """One commit; refused, it is a REST error (404 only for a missing object `about` names)."""
        if self.task:
            raise answer(Busy())
        try:
            return self.store.commit(ops)
        except ConfigError as exc:
            raise answer(exc, about=about) from None

    def read(self, r: res.Route, q: Query) -> dict:
        gen = self.store.generations
        monitors: dict[str, dict[str, str]] = {}   # per request: a pool's member statuses, built once

        def member_status(pool: str, member: str) -> str:
            if pool not in monitors:
                monitors[pool] = {m.name: m.monitor for m in self.node.ltm.members(pool)}
            return monitors[pool].get(member, "unchecked")
        if r.type == "cm device":
            return self._devices(r)
        if r.stats:
            return stats.of(self.node, r)
        if r.path is None:
            items = [res.to_rest(r.type, p, v, gen.get((r.type, p), 0), expand=q.expand,
                                 member_status=member_status)
                     for p, v in sorted(self.store.of_type(r.type).items())]
            return {"kind": kind(r.type, "collectionstate"), "selfLink": link(res.collection_url(r.type)),
                    "items": items}
        values = self.store.get(r.type, r.path)
        if values is None:
            raise answer(NotFound(TYPES[r.type].label, r.path))
        g = gen.get((r.type, r.path), 0)
        if r.sub in ("members", "virtual-servers"):
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
            item = res.find_item(r.type, r.sub, items, r.member)
            if item is None:
                raise answer(NotFound(f"{TYPES[r.type].label} {r.sub} item", r.member))
            return show(item)
        if r.sub == "profiles":
            return {"kind": "tm:ltm:virtual:profiles:profilescollectionstate",
                    "selfLink": link(f"{res.object_url(r.type, r.path)}/profiles"),
                    "items": [res.profile_to_rest(r.path, p, g) for p in values.get("profiles") or []]}
        return res.to_rest(r.type, r.path, values, g, expand=q.expand, member_status=member_status)

    def _devices(self, r: res.Route) -> dict:
        """cm device: this device from the store, its peers as they last told us."""
        cm = self.node.cm
        devices = {}
        for path, v in self.store.of_type("cm device").items():
            devices[path] = (v, cm.failover.device_state() if cm.failover else "standby", "true")
        for name, info in cm.peers.items():
            if self.node.iquery.connected(name) or f"/Common/{name}" not in devices:
                devices.setdefault(f"/Common/{name}", ({k: v for k, v in (info.get("device") or {}).items() if v},
                                                       info.get("failover", {}).get("state", "offline"), "false"))
        items = []
        for path, (values, state, me) in sorted(devices.items()):
            if r.path is not None and path != r.path:
                continue
            item = res.to_rest("cm device", path, values, self.store.generations.get(("cm device", path), 0))
            item.update({"failoverState": state, "selfDevice": me, "hostname": base_name(path),
                         "version": res.VERSION, "build": res.BUILD, "product": "BIG-IP", "edition": "Final"})
            items.append(item)
        if r.path is not None:
            if not items:
                raise answer(NotFound("Device", r.path))
            return items[0]
        return {"kind": "tm:cm:device:devicecollectionstate", "selfLink": link("/mgmt/tm/cm/device"),
                "items": items}

    # -- commands ---------------------------------------------------------------------------------
    async def command(self, tm: list[str], method: str, user: str, body, uri: str) -> Response | None:
        if tm == ["sys", "version"] and method == "GET":
            return _json(stats.version("sys", {"Build": res.BUILD, "Date": "biglab", "Edition": "Final",
                                                "Product": "BIG-IP", "Title": "Main Package",
                                                "Version": res.VERSION}))
        if tm == ["cli", "version"] and method == "GET":
            return _json(stats.version("cli", {"active": res.VERSION, "latest": res.VERSION,
                                                "supported": res.VERSION}))
        if tm == ["cm", "sync-status"] and method == "GET":
            return _json(stats.sync_status(self.node.cm.sync_status()))
        if tm == ["cm", "failover-status"] and method == "GET":
            return _json(stats.failover_status(self.node.cm.failover_status()))
        if tm == ["sys", "failover"]:
            return await self._failover(method, user, body, uri)
        if tm[:2] == ["gtm", "global-settings"] and len(tm) == 3 and tm[2] in res.SETTINGS_GROUPS:
            if method not in ("GET", "PATCH", "PUT"):
                raise RestError(405, f"{method} is not allowed on gtm global-settings", 1)
            if method != "GET":
                op = res.settings_op(tm[2], body)
                self.auth.authorize(user, method, uri)
                self.commit([op])
            key = ("gtm global-settings", res.GTM_SETTINGS)
            return _json(res.settings_view(self.store.objects.get(key, {}), tm[2],
                                           self.store.generations.get(key, 0)))
        if tm[0] == "transaction":
            return self.transaction(tm[1:], method, user, body, uri)
        if method != "POST" or tm not in (["cm"], ["sys", "config"], ["util", "bash"]):
            return None
        self.auth.authorize(user, method, uri)
        if not isinstance(body, dict) or body.get("command") not in ("run", "save"):
            raise RestError(400, '"command" must be "run" (or "save" for sys config)', 1)
        args = body.get("utilCmdArgs", "")
        if not isinstance(args, str):
            raise res.unexpected("/".join(tm), "utilCmdArgs", args)
        if tm == ["sys", "config"]:
            if body["command"] != "save":
                raise RestError(400, 'sys config takes {"command": "save"}', 1)
            self.node.save_config()
            return _json({"kind": "tm:sys:config:savestate", "command": "save"})
        if tm == ["cm"]:
            parts = args.split()
            if len(parts) != 3 or parts[0] != "config-sync" or parts[1] not in ("to-group", "from-group"):
                raise RestError(400, 'utilCmdArgs must be "config-sync to-group GROUP" or '
                                     '"config-sync from-group GROUP"', 1)
            await self._task(f"run cm {args}")
            return _json({"kind": "tm:cm:runstate", "command": "run", "utilCmdArgs": args})
        lines = bash_tmsh_lines(args)
        outputs = []
        for line in lines:
            try:
                outputs.append(await self._task(line, shell_errors=True))
            except ShellError as exc:
                outputs.append(str(exc))
                break
        out = {"kind": "tm:util:bash:runstate", "command": "run", "utilCmdArgs": args}
        result = "\n".join(o for o in outputs if o)
        if result:
            out["commandResult"] = result + "\n"
        return _json(out)

    async def _task(self, line: str, shell_errors: bool = False) -> str:
        """Run a tmsh line as an asynchronous task: writes that arrive meanwhile get 503."""
        if self.task:
            raise answer(Busy())
        self.task = line
        try:
            return await self.node.shell.run(line)
        except ShellError as exc:
            if shell_errors:
                raise
            raise answer(exc) from None
        finally:
            self.task = None

    async def _failover(self, method: str, user: str, body, uri: str) -> Response:
        fo = self.node.cm.failover_status()
        raw = {"apiAnonymous": f"Failover {fo['state']} for this device ({', '.join(f'{t} {s}' for t, s in sorted(fo['traffic_groups'].items())) or 'no traffic groups'})"}
        if method == "GET":
            return _json({"kind": "tm:sys:failover:failoverstats", "selfLink": link("/mgmt/tm/sys/failover"),
                          "apiRawValues": raw})
        if method != "POST":
            raise RestError(405, "sys failover takes GET or POST", 1)
        self.auth.authorize(user, method, uri)
        if not isinstance(body, dict) or body.get("command") != "run":
            raise RestError(400, 'sys failover takes {"command": "run", "standby"|"offline"|"online": true}', 1)
        args = body.get("utilCmdArgs")
        if isinstance(args, str) and args.strip():
            parts = args.split()
            if parts[0] not in ("standby", "offline", "online") or (parts[1:] and (
                    parts[0] != "standby" or len(parts) != 3 or parts[1] != "traffic-group")):
                raise RestError(400, 'utilCmdArgs takes "standby [traffic-group G]", "offline" or "online"', 1)
            words, tg = [parts[0]], (parts[2] if len(parts) == 3 else None)
        else:
            words = [w for w in ("standby", "offline", "online") if body.get(w) is True]
            tg = body.get("trafficGroup") or body.get("traffic-group")
        extra = set(body) - {"command", "standby", "offline", "online", "trafficGroup", "traffic-group",
                             "utilCmdArgs", "kind", "selfLink", "apiRawValues"}
        if len(words) != 1 or extra:
            raise RestError(400, "sys failover takes exactly one of standby, offline, online"
                                 + (f" (unexpected {sorted(extra)})" if extra else ""), 1)
        line = f"run sys failover {words[0]}"
        if tg:
            if words[0] != "standby" or not isinstance(tg, str):
                raise RestError(400, "traffic-group goes with standby only", 1)
            line += f" traffic-group {tg}"
        await self._task(line)
        return _json({"kind": "tm:sys:failover:failoverstats", "command": "run", words[0]: True,
                      **({"trafficGroup": tg} if tg else {}), "apiRawValues": raw})

    # -- transactions -------------------------------------------------------------------------------
    def _transaction(self, ident: str) -> Transaction:
        self._expire()
        t = self.transactions.get(int(ident)) if ident.isdigit() else None
        if t is None:
            raise RestError(404, f"Transaction {ident} was not found.", 1)
        return t

    def _expire(self) -> None:
        now = time.monotonic()
        for k, t in list(self.transactions.items()):
            if t.state == "STARTED" and now - t.touched > TRANSACTION_TIMEOUT:
                del self.transactions[k]

    def transaction(self, rest: list[str], method: str, user: str, body, uri: str) -> Response:
        if not rest:
            if method == "POST":
                self._expire()
                ident = int(time.time() * 1000)
                while ident in self.transactions:
                    ident += 1
                t = self.transactions[ident] = Transaction(ident, time.monotonic())
                return _json(t.to_rest())
            if method == "GET":
                self._expire()
                return _json({"kind": "tm:transactioncollectionstate", "selfLink": link("/mgmt/tm/transaction"),
                              "items": [t.to_rest() for t in self.transactions.values()]})
            raise RestError(405, f"{method} is not allowed on /mgmt/tm/transaction", 1)
        t = self._transaction(rest[0])
        if rest[1:] == ["commands"] and method == "GET":
            return _json({"kind": "tm:transaction:commandscollectionstate",
                          "selfLink": link(f"/mgmt/tm/transaction/{t.id}/commands"),
                          "items": [_command(t, i, c) for i, c in enumerate(t.commands, 1)]})
        if len(rest) != 1:
            raise _not_registered(uri)
        if method == "GET":
            return _json(t.to_rest())
        if method == "DELETE":
            del self.transactions[t.id]
            return Response(status_code=200)
        if method != "PATCH" or not isinstance(body, dict) or body.get("state") != "VALIDATING":
            raise RestError(400, 'commit a transaction with PATCH {"state": "VALIDATING"}', 1)
        if t.state != "STARTED":
            raise RestError(400, f"transaction {t.id} is {t.state}, not STARTED", 1)
        if not t.commands:
            raise RestError(404, "there is no command to commit in the transaction.", 1)
        ops = [c[3] for c in t.commands]
        if body.get("validateOnly") is True:
            try:
                self.store.validate(ops)
            except ConfigError as exc:
                raise RestError(400, f"transaction failed:{exc}") from None
            return _json({**t.to_rest(), "validateOnly": True})
        try:
            self.commit(ops)
        except RestError as exc:
            if exc.code == 503:
                raise
            t.state, t.failure = "FAILED", exc.message
            raise RestError(exc.code if exc.code != 409 else 400, f"transaction failed:{exc.message}") from None
        t.state = "COMPLETED"
        out = t.to_rest()
        del self.transactions[t.id]
        return _json(out)

    def queue(self, trans: str, method: str, uri: str, tm: list[str], body, user: str) -> Response:
        t = self._transaction(trans)
        if t.state != "STARTED":
            raise RestError(400, f"transaction {t.id} is {t.state}, not STARTED", 1)
        r = res.route(tm)
        if r is None:
            raise RestError(400, f"{uri} cannot be part of a transaction in the lab (configuration objects only)", 1)
        op = res.op_for(method, r, body)
        self.auth.authorize(user, method, uri, operator_ok=_operator_change(op))
        t.commands.append((method, uri, body, op))
        t.touched = time.monotonic()
        return _json(_command(t, len(t.commands), t.commands[-1]))


def _command(t: Transaction, order: int, c) -> dict:
    method, uri, body, _ = c
    return {"transId": t.id, "evalOrder": order, "commandId": order, "method": method,
            "uri": f"https://localhost{uri}", "body": body, "kind": "tm:transaction:commandsstate",
            "selfLink": link(f"/mgmt/tm/transaction/{t.id}/commands/{order}")}


def _operator_change(op: Op) -> bool:
    """An operator may enable/disable (and force down/up) pool members and nodes, nothing else."""
    allowed = {"session", "state"}
    if op.type == "ltm pool" and op.action == "modify" and set(op.values) == {"members"}:
        verb, members = op.values["members"]
        return verb == "modify" and all(set(p) <= allowed for p in members.values())
    return op.type == "ltm node" and op.action == "modify" and set(op.values) <= allowed


def bash_tmsh_lines(args: str) -> list[str]:
    """`-c "tmsh create ...; tmsh modify ..."` -> tmsh lines; anything but tmsh is refused."""
    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise RestError(400, f"utilCmdArgs: {exc}", 1) from None
    if len(words) != 2 or words[0] != "-c":
        raise RestError(400, 'utilCmdArgs must be -c "tmsh ..." (the lab runs tmsh commands only)', 1)
    lines = []
    for part in _split_commands(words[1]):
        part = part.strip()
        if not part:
            continue
        head = part.split(None, 1)[0]
        if head not in ("tmsh", "/usr/bin/tmsh"):
            raise RestError(400, f"the lab runs only tmsh through util bash, not {head!r}", 1)
        lines.append(part.split(None, 1)[1] if " " in part else "")
    if not lines:
        raise RestError(400, "utilCmdArgs holds no tmsh command", 1)
    return lines


def _split_commands(text: str) -> list[str]:
    """Split on ; and && outside quotes."""
    out, cur, quote, i = [], [], None, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and i + 1 < len(text):
                cur.append(text[i:i + 2])
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == ";" or text.startswith("&&", i):
            out.append("".join(cur))
            cur = []
            i += 2 if ch == "&" else 1
            continue
        cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _not_registered(uri: str) -> RestError:
    return RestError(404, f"URI path {uri} not registered.  Please try again.", 1)


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data, separators=(",", ":")), status_code=status, media_type="application/json")
