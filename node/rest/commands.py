"""iControl REST commands: what /mgmt/tm serves that is not configuration (versions, sync and
failover status, gtm global-settings, `run` and `save`).

A new command is one handler here and one row in `Commands.table`: path words -> (methods, handler).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Callable

from starlette.responses import Response

from ..config import policy
from ..config.schema import SINGLETONS, object_path, split_destination
from ..config.store import Op
from ..errors import Busy, ConfigError, F5Error, ShellError
from ..show_text import sys_failover
from ..version import SYS_VERSION, version_file
from . import bash, hardware, software
from . import resources as res
from . import stats
from .auth import Auth
from .errors import RestError, answer
from .parts import Parts, Shell
from .resources import link
from .responses import json_response

ANY = None   # a handler that answers every method itself
CLI_VERSION = {"active": res.VERSION, "latest": res.VERSION, "supported": res.VERSION}
FAILOVER_WORDS = ("standby", "offline", "online")
FILE_PATH = re.compile(r"/[A-Za-z0-9_./-]+")
TRUST_KEYS = {"command", "name", "caDevice", "device", "deviceName", "username", "password", "kind", "selfLink"}
FAILOVER_KEYS = {"command", *FAILOVER_WORDS, "trafficGroup", "traffic-group", "utilCmdArgs", "kind", "selfLink",
                 "apiRawValues"}


@dataclass(frozen=True)
class Call:
    """One request to a command: /mgmt/tm/<path>."""
    path: tuple[str, ...]
    method: str
    user: str
    body: Any
    uri: str


class Tasks:
    """The one asynchronous task (config sync, failover, util bash) a device runs at a time: a write
    that arrives meanwhile is refused with Busy (503) and changes nothing."""

    def __init__(self, shell: Shell):
        self.shell = shell
        self.running: str | None = None

    def check_idle(self) -> None:
        if self.running:
            raise answer(Busy())

    async def run(self, line: str, shell_errors: bool = False) -> str:
        """Run a tmsh line as the task. A refusal is a REST error, or with `shell_errors` the
        ShellError itself (util bash prints it)."""
        self.check_idle()
        self.running = line
        try:
            return await self.shell.run(line)
        except ShellError as exc:
            if shell_errors:
                raise
            raise answer(exc) from None
        finally:
            self.running = None


class Commands:
    def __init__(self, parts: Parts, auth: Auth, tasks: Tasks, commit: Callable):
        self.parts, self.auth, self.tasks, self.commit = parts, auth, tasks, commit
        self.table = {
            ("sys", "version"): (("GET",), self.sys_version),
            ("cli", "version"): (("GET",), self.cli_version),
            ("sys", "available"): (("GET",), self.sys_available),
            ("sys", "hardware"): (("GET",), self.sys_hardware),
            ("sys", "clock"): (("GET",), self.sys_clock),
            ("sys", "license"): (("GET",), self.sys_license),
            ("cm", "sync-status"): (("GET",), self.sync_status),
            ("cm", "failover-status"): (("GET",), self.failover_status),
            ("sys", "failover"): (ANY, self.sys_failover),
            ("ltm", "persistence", "persist-records"): (("GET",), self.persist_records),
            **{("gtm", "global-settings", group): (ANY, self.gtm_settings) for group in res.SETTINGS_GROUPS},
            **{tuple(t.split()): (ANY, self.singleton) for t in ("auth password-policy", "sys dns", "sys ntp",
                                                                   "sys syslog")},
            **{("sys", "software", which): (("GET",), self.sys_software) for which in software.KINDS},
            ("sys", "software", "volume", software.ACTIVE_VOLUME): (("GET",), self.sys_software),
            ("sys", "config"): (("POST",), self.save_config),
            ("cm",): (("POST",), self.config_sync),
            ("util", "bash"): (("POST",), self.bash),
            ("cm", "add-to-trust"): (("POST",), self.add_to_trust),
            ("cm", "remove-from-trust"): (("POST",), self.remove_from_trust),
            ("ltm", "policy"): (("POST",), self.publish_policy),
        }

    async def __call__(self, call: Call) -> Response | None:
        """The command's answer, or None if no command has this path and method (then the path
        may still name configuration)."""
        methods, handler = self.table.get(call.path, ((), None))
        if handler is None or (methods is not ANY and call.method not in methods):
            return None
        return await handler(call)

    # -- status -----------------------------------------------------------------------------------
    async def sys_version(self, call: Call) -> Response:
        return json_response(stats.version("sys", SYS_VERSION))

    async def sys_available(self, call: Call) -> Response:
        """Answered once REST serves: bigip_wait's last check that the device is up."""
        return json_response({"kind": "tm:sys:available:availablestats", "selfLink": link("/mgmt/tm/sys/available")})

    async def sys_hardware(self, call: Call) -> Response:
        d = self.parts.device
        return json_response(hardware.hardware(d.name, d.lab, d.mgmt_address))

    async def sys_clock(self, call: Call) -> Response:
        return json_response(hardware.clock(self.parts.now()))

    async def sys_software(self, call: Call) -> Response:
        if len(call.path) == 4:
            return json_response(software.volume())
        return json_response(software.collection(call.path[2]))

    async def sys_license(self, call: Call) -> Response:
        return json_response(hardware.license(self.parts.device.name, self.parts.started))

    async def cli_version(self, call: Call) -> Response:
        return json_response(stats.version("cli", CLI_VERSION))

    async def sync_status(self, call: Call) -> Response:
        return json_response(stats.sync_status(self.parts.cluster.sync_status()))

    async def failover_status(self, call: Call) -> Response:
        return json_response(stats.failover_status(self.parts.cluster.failover_status()))

    async def gtm_settings(self, call: Call) -> Response:
        group = call.path[2]
        if call.method not in ("GET", "PATCH", "PUT"):
            raise RestError(405, f"{call.method} is not allowed on gtm global-settings", 1)
        if call.method != "GET":
            op = res.settings_op(group, call.body)
            self.auth.authorize(call.user, call.method, call.uri)
            self.commit([op])
        key = ("gtm global-settings", res.GTM_SETTINGS)
        store = self.parts.store
        return json_response(res.settings_view(store.objects.get(key, {}), group, store.generations.get(key, 0)))

    async def singleton(self, call: Call) -> Response:
        """auth password-policy, sys dns, sys ntp, sys syslog: one object at the collection's URL, as a BIG-IP
        serves it."""
        type_ = " ".join(call.path)
        if call.method not in ("GET", "PATCH", "PUT"):
            raise RestError(405, f"{call.method} is not allowed on {type_}", 1)
        key = (type_, SINGLETONS[type_])
        if call.method != "GET":
            values = res.values_from_rest(type_, call.body, replace=call.method == "PUT")
            self.auth.authorize(call.user, call.method, call.uri)
            self.commit([Op("modify", type_, key[1], values)])
        store = self.parts.store
        return json_response(res.singleton_view(type_, store.objects.get(key, {}), store.generations.get(key, 0)))

    # -- ltm persistence persist-records ------------------------------------------------------------
    async def persist_records(self, call: Call) -> Response:
        """`show ltm persistence persist-records` as stats: one nested entry a record."""
        url = "/mgmt/tm/ltm/persistence/persist-records"
        records = self.parts.ltm.persist_records()
        store = self.parts.store
        entries = {}
        for i, r in enumerate(records):
            vs = store.get("ltm virtual", r.virtual) or {}
            addr, port = split_destination(vs["destination"]) if vs.get("destination") else ("any", 0)
            entries[link(f"{url}/{i}")] = stats.nested({
                "persistenceMode": r.mode, "persistenceValue": r.value, "virtualName": r.virtual,
                "virtualAddr": addr, "virtualPort": int(port), "poolName": r.pool, "nodeAddr": r.address,
                "nodePort": r.port, "memberName": r.member, "tmm": 0})
        return json_response({"kind": "tm:ltm:persistence:persist-records:persist-recordsstats",
                              "selfLink": link(url), "entries": entries})

    # -- sys failover -----------------------------------------------------------------------------
    async def sys_failover(self, call: Call) -> Response:
        fo = self.parts.cluster.failover_status()
        raw = {"apiAnonymous": sys_failover(fo["state"], fo.get("state_for", 0.0)) + "\n"}
        if call.method == "GET":
            return json_response({"kind": "tm:sys:failover:failoverstats", "selfLink": link("/mgmt/tm/sys/failover"),
                                  "apiRawValues": raw})
        if call.method != "POST":
            raise RestError(405, "sys failover takes GET or POST", 1)
        self.auth.authorize(call.user, call.method, call.uri)
        word, tg = failover_request(call.body)
        await self.tasks.run(f"run sys failover {word}" + (f" traffic-group {tg}" if tg else ""))
        return json_response({"kind": "tm:sys:failover:failoverstats", "command": "run", word: True,
                              **({"trafficGroup": tg} if tg else {}), "apiRawValues": raw})

    # -- run and save -----------------------------------------------------------------------------
    def _run_args(self, call: Call) -> str:
        """A writer's POST {"command": "run"|"save", "utilCmdArgs": ...}: the arguments."""
        self.auth.authorize(call.user, call.method, call.uri)
        body = call.body
        if not isinstance(body, dict) or body.get("command") not in ("run", "save"):
            raise RestError(400, '"command" must be "run" (or "save" for sys config)', 1)
        args = body.get("utilCmdArgs", "")
        if not isinstance(args, str):
            raise res.unexpected("/".join(call.path), "utilCmdArgs", args)
        return args

    async def save_config(self, call: Call) -> Response:
        """POST {"command": "save"} (options: partitions all), or {"command": "load", "name": "merge",
        "options": [{"file": F}, {"verify": ""}]} (`load sys config merge file F [verify]`), or a
        plain load of the saved files: run as the tmsh line, so its output and errors are tmsh's."""
        body = call.body
        if isinstance(body, dict) and body.get("command") == "load":
            self.auth.authorize(call.user, call.method, call.uri)
            await self.tasks.run(config_load_line(body))
            return json_response({**body, "kind": "tm:sys:config:loadstate"})
        self._run_args(call)
        if body["command"] != "save":
            raise RestError(400, 'sys config takes {"command": "save"} or {"command": "load"}', 1)
        self.parts.save_config()
        return json_response({"kind": "tm:sys:config:savestate", "command": "save"})

    async def publish_policy(self, call: Call) -> Response | None:
        """POST {"command": "publish", "name": "/P/Drafts/pol"}: the draft becomes the published
        policy (a body without a command creates a policy: not a command, None)."""
        body = call.body
        if not isinstance(body, dict) or "command" not in body:
            return None
        self.auth.authorize(call.user, call.method, call.uri)
        if body["command"] != "publish" or not isinstance(body.get("name"), str):
            raise RestError(400, 'ltm policy takes {"command": "publish", "name": "/P/Drafts/NAME"}', 1)
        try:
            draft = object_path(policy.POLICY, body["name"])
            steps = policy.publish_ops(self.parts.store.get, draft)
        except ConfigError as exc:
            raise answer(exc) from None
        self.commit([Op(*step) for step in steps])
        return json_response({"kind": "tm:ltm:policy:publishstate", "command": "publish", "name": body["name"]})

    async def config_sync(self, call: Call) -> Response:
        args = self._run_args(call)
        parts = args.split()
        force = "force-full-load-push" in parts     # Ansible puts it last, tmsh before to-group
        rest = [p for p in parts if p != "force-full-load-push"]
        if len(rest) != 3 or rest[0] != "config-sync" or rest[1] not in ("to-group", "from-group") \
                or (force and rest[1] != "to-group"):
            raise RestError(400, 'utilCmdArgs must be "config-sync [force-full-load-push] to-group GROUP" or '
                                 '"config-sync from-group GROUP"', 1)
        await self.tasks.run("run cm config-sync " + ("force-full-load-push " if force else "") + " ".join(rest[1:]))
        return json_response({"kind": "tm:cm:runstate", "command": "run", "utilCmdArgs": args})

    # -- device trust -------------------------------------------------------------------------------
    def _trust_call(self, call: Call, required: tuple[str, ...]) -> dict:
        """A writer's {"command": "run", ...} to add-to-trust or remove-from-trust, checked."""
        self.auth.authorize(call.user, call.method, call.uri)
        body = call.body
        if self.parts.trust is None:
            raise RestError(400, "device trust cannot be changed on this device", 1)
        if not isinstance(body, dict) or body.get("command") != "run":
            raise RestError(400, '"command" must be "run"', 1)
        for key, v in body.items():
            if key not in TRUST_KEYS or (key != "caDevice" and not isinstance(v, str)) \
                    or (key == "caDevice" and not isinstance(v, bool)):
                raise res.unexpected("/".join(call.path), key, v)
        missing = [k for k in required if not body.get(k)]
        if missing:
            raise RestError(400, f'{"/".join(call.path)} needs "{missing[0]}"', 1)
        self.tasks.check_idle()
        return body

    async def add_to_trust(self, call: Call) -> Response:
        """Add the device at `device` with its admin credentials: as peer authority (caDevice
        true, F5's default) or subordinate non-authority."""
        body = self._trust_call(call, ("device", "username", "password"))
        role = "peer" if body.get("caDevice", True) else "subordinate"
        try:
            await self.parts.trust.add_device(body["device"], body["username"], body["password"], role)
        except F5Error as exc:
            raise answer(exc) from None
        return json_response(trust_answer(call, body))

    async def remove_from_trust(self, call: Call) -> Response:
        body = self._trust_call(call, ("deviceName",))
        try:
            await self.parts.trust.remove_device(body["deviceName"])
        except F5Error as exc:
            raise answer(exc) from None
        return json_response(trust_answer(call, body))

    async def bash(self, call: Call) -> Response:
        args = self._run_args(call)
        outputs = []
        for step in bash.plan(args):
            if isinstance(step, bash.Fact):
                outputs.append(self._fact(step.name))
                continue
            try:
                outputs.append(await self.tasks.run(step.line, shell_errors=True))
            except ShellError as exc:
                outputs.append(str(exc))
                break
        out = {"kind": "tm:util:bash:runstate", "command": "run", "utilCmdArgs": args}
        result = "\n".join(o.rstrip("\n") for o in outputs if o)
        if result:   # a BIG-IP leaves commandResult out when the command printed nothing
            out["commandResult"] = result + "\n"
        return json_response(out)

    def _fact(self, name: str) -> str:
        """What the node answers for a read-only command, from its own state."""
        if name == "runlevel":
            return "N 3"       # serving: multi-user (a rebooting BIG-IP shows 6)
        if name in ("provisioning", "vcmpd"):
            return ""          # no mprov run in progress, no vCMP guests: grep prints nothing
        if name == "version":
            return version_file()
        up = max(self.parts.now() - self.parts.started, 0.0)
        cpu = sum(os.times()[:2])
        return f"{up:.2f} {max(up * 2 - cpu, 0.0):.2f}"   # /proc/uptime: seconds up, idle seconds of 2 CPUs



def trust_answer(call: Call, body: dict) -> dict:
    """F5 answers a trust command with what was asked, the password left out."""
    return {"kind": f"tm:cm:{call.path[-1]}:runstate", "selfLink": link("/mgmt/tm/" + "/".join(call.path)),
            **{k: v for k, v in body.items() if k != "password"}}


def config_load_line(body: dict) -> str:
    """A sys config load body -> its tmsh line: name "merge" (or a {"merge": ...} option) with
    {"file": F} or {"from-terminal": ...}, maybe {"verify": ...}; name "default": the defaults; no name
    and no options: the saved files."""
    options = body.get("options") or []
    if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
        raise res.unexpected("sys config", "options", options)
    words = [body["name"]] if body.get("name") else []
    for option in options:
        for key, value in option.items():
            if key not in ("merge", "file", "verify"):
                raise res.unexpected("sys config", key, value)
            if key == "file" and not (isinstance(value, str) and FILE_PATH.fullmatch(value)):
                raise res.unexpected("sys config", key, value)
            words += [key, value] if key == "file" else [key]
    if words and "merge" not in words and words != ["default"]:
        raise RestError(400, 'sys config loads merge with {"file": F} (or the saved files, with no options)', 1)
    return " ".join(["load", "sys", "config", *words])


def failover_request(body) -> tuple[str, str | None]:
    """A POST to sys failover -> (standby|offline|online, traffic group or None), given either as
    utilCmdArgs or as F5's boolean keys."""
    if not isinstance(body, dict) or body.get("command") != "run":
        raise RestError(400, 'sys failover takes {"command": "run", "standby"|"offline"|"online": true}', 1)
    args = body.get("utilCmdArgs")
    if isinstance(args, str) and args.strip():
        parts = args.split()
        if parts[0] not in FAILOVER_WORDS or (parts[1:] and (
                parts[0] != "standby" or len(parts) != 3 or parts[1] != "traffic-group")):
            raise RestError(400, 'utilCmdArgs takes "standby [traffic-group G]", "offline" or "online"', 1)
        words, tg = [parts[0]], (parts[2] if len(parts) == 3 else None)
    else:
        words = [w for w in FAILOVER_WORDS if body.get(w) is True]
        tg = body.get("trafficGroup") or body.get("traffic-group")
    extra = set(body) - FAILOVER_KEYS
    if len(words) != 1 or extra:
        raise RestError(400, "sys failover takes exactly one of standby, offline, online"
                             + (f" (unexpected {sorted(extra)})" if extra else ""), 1)
    if tg and (words[0] != "standby" or not isinstance(tg, str)):
        raise RestError(400, "traffic-group goes with standby only", 1)
    return words[0], tg
