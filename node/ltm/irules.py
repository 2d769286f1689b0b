"""iRules on live traffic: each `ltm rule` loaded into its own sandboxed Tcl interpreter, its
events run by the proxy through the hook interface (hooks.py).

F5's commands are Tcl commands that call into Python and act on the current Flow. Variables a
rule sets live in a namespace per connection (so CLIENT_ACCEPTED can leave one for HTTP_REQUEST);
`static::` and `table` are shared. An error in a rule is logged with F5's `TCL error:` line and
resets the connection, as a BIG-IP does; a runaway rule is stopped by the interpreter's budget.
"""
from __future__ import annotations

import fnmatch
import functools
import ipaddress
import itertools
import re
import time
from dataclasses import dataclass, replace
from typing import Callable

from ..config.schema import ConfigError, folder_of, full_path, is_address, member_name
from ..tcl.interp import Interp, Master, Refused, TclError
from ..tcl.irule import DEFAULT_PRIORITY, Compiled, compile_rule
from . import sip
from .hooks import Flow, Outcome, Target

SUPPORT = r"""
proc ::call {name args} { uplevel 1 [list $name {*}$args] }
proc ::f5::fire {cid key} { namespace eval ::c$cid $::f5::body($key) }
proc ::f5::forget {cid} { catch {namespace delete ::c$cid} }
"""


@dataclass
class EventStats:
    priority: int = DEFAULT_PRIORITY
    executions: int = 0
    failures: int = 0
    aborts: int = 0


@dataclass
class Current:
    """What the running command acts on (one event of one rule at a time: Tcl runs on one thread)."""
    flow: Flow | None = None
    event: str = ""
    rule: str = ""


class Tables:
    """F5's session table (`table set|lookup|delete`), shared by every rule on the device, sans-IO:
    entries expire `timeout` seconds after their last touch (default 180, F5's), looked up or not:
    a rule keying entries by client (a rate limit) leaves many that nobody asks for again."""

    SWEEP = 1024   # expired entries are swept once the table doubles past what the last sweep left

    def __init__(self, now: Callable[[], float] = time.monotonic):
        self.now = now
        self.entries: dict[tuple[str, str], tuple[str, float, float]] = {}   # -> value, timeout, expiry
        self._sweep_at = self.SWEEP

    def _live(self, key):
        entry = self.entries.get(key)
        if entry and entry[2] <= self.now():
            del self.entries[key]
            return None
        return entry

    def set(self, sub: str, key: str, value: str, timeout: float = 180, touch: bool = True) -> str:
        if len(self.entries) >= self._sweep_at:
            now = self.now()
            self.entries = {k: e for k, e in self.entries.items() if e[2] > now}
            self._sweep_at = max(self.SWEEP, 2 * len(self.entries))
        self.entries[(sub, key)] = (value, timeout, self.now() + timeout if timeout > 0 else float("inf"))
        return value

    def lookup(self, sub: str, key: str, touch: bool = True) -> str:
        entry = self._live((sub, key))
        if entry is None:
            return ""
        if touch and entry[1] > 0:
            self.entries[(sub, key)] = (entry[0], entry[1], self.now() + entry[1])
        return entry[0]

    def exists(self, sub: str, key: str) -> bool:
        return self._live((sub, key)) is not None

    def delete(self, sub: str, key: str | None) -> None:
        for k in [k for k in self.entries if k[0] == sub and (key is None or k[1] == key)]:
            del self.entries[k]

    def keys(self, sub: str) -> list[str]:
        return [k for s, k in list(self.entries) if s == sub and self._live((s, k))]


class Loaded:
    """One rule in its interpreter."""

    def __init__(self, path: str, text: str, compiled: Compiled, interp: Interp):
        self.path, self.text, self.compiled, self.interp = path, text, compiled, interp
        self.keys: dict[str, list[tuple[int, str]]] = {}      # event -> (priority, body key)
        for i, h in enumerate(compiled.handlers):
            key = f"{h.event},{i}"
            interp.eval(("set", f"::f5::body({key})", h.body))
            self.keys.setdefault(h.event, []).append((h.priority, key))


class IRules:
    """Every iRule of the device, loaded from the config; `hook_for` gives a virtual's rules."""

    def __init__(self, store, log, now: Callable[[], float] = time.monotonic, budget_ms: int = 500):
        self.store, self.log, self.budget_ms = store, log, budget_ms
        self.tables = Tables(now)
        self.loaded: dict[str, Loaded] = {}
        # checked rules that no virtual has asked for yet, without RULE_INIT: their interpreter is
        # made at the first hook_for (every device has _sys_https_redirect, and few virtuals use it)
        self.waiting: dict[str, tuple[str, Compiled]] = {}
        self.stats: dict[tuple[str, str], EventStats] = {}
        self.current = Current()
        self._cids = itertools.count(1)

    @functools.cached_property
    def master(self) -> Master:
        """The Tcl interpreter, made when the first rule is loaded: a device without iRules does
        not pay for one (0.4 MB a daemon)."""
        return Master()

    # -- loading ----------------------------------------------------------------------------------
    def reconcile(self) -> None:
        rules = self.store.of_type("ltm rule")
        for path in list(self.loaded):
            if path not in rules or rules[path].get("api-anonymous", "") != self.loaded[path].text:
                self.loaded.pop(path).interp.delete()
        for path in list(self.waiting):
            if path not in rules or rules[path].get("api-anonymous", "") != self.waiting[path][0]:
                del self.waiting[path]
        for path, values in rules.items():
            if path not in self.loaded and path not in self.waiting:
                text = values.get("api-anonymous") or ""
                try:
                    compiled = compile_rule(path, text)
                    for h in compiled.handlers:
                        self.stats.setdefault((path, h.event), EventStats()).priority = h.priority
                    if "RULE_INIT" in compiled.events():
                        self._load(path, text, compiled)
                    else:
                        self.waiting[path] = (text, compiled)
                except (ConfigError, TclError) as exc:   # a rule saved by an older version: not run
                    self.log.log("err", "tmm", f"{path} not loaded: {exc}", event="irule-error", rule=path)

    def _loaded(self, path: str) -> "Loaded | None":
        """The rule in its interpreter, made now if it was waiting."""
        if path in self.waiting:
            text, compiled = self.waiting.pop(path)
            try:
                self._load(path, text, compiled)
            except TclError as exc:
                self.log.log("err", "tmm", f"{path} not loaded: {exc}", event="irule-error", rule=path)
        return self.loaded.get(path)

    def _load(self, path: str, text: str, compiled: Compiled) -> None:
        interp = self.master.child(self._commands(), budget_ms=self.budget_ms)
        interp.eval(SUPPORT)
        if compiled.procs:
            interp.eval(compiled.procs)
        loaded = Loaded(path, text, compiled, interp)
        self.loaded[path] = loaded
        for _, key in loaded.keys.get("RULE_INIT", []):
            self._run(loaded, "RULE_INIT", key, None, 0)

    def hook_for(self, virtual: str) -> "VirtualRules | None":
        vs = self.store.get("ltm virtual", virtual) or {}
        rules = [rule for r in vs.get("rules") or () if (rule := self._loaded(r)) is not None]
        return VirtualRules(self, rules) if rules else None

    # -- running ----------------------------------------------------------------------------------
    def _run(self, rule: Loaded, event: str, key: str, flow: Flow | None, cid: int) -> bool:
        """One handler; False when it failed (logged, the connection is to be reset)."""
        stats = self.stats.setdefault((rule.path, event), EventStats())
        stats.executions += 1
        self.current.flow, self.current.event, self.current.rule = flow, event, rule.path
        try:
            # RULE_INIT runs once at load, in the global namespace (it sets static:: variables)
            rule.interp.eval(("::f5::fire", cid, key) if flow else f"namespace eval :: $::f5::body({key})")
            return True
        except TclError as exc:
            if exc.aborted:
                stats.aborts += 1
            else:
                stats.failures += 1
            self.log.log("err", "tmm", f"TCL error: {rule.path} <{event}> - {exc.message}", "01220001:3",
                         event="irule-error", rule=rule.path, irule_event=event)
            return False
        finally:
            self.current.flow = None

    def show(self) -> dict:
        """Per rule, per event: priority, executions, failures, aborts (`show ltm rule`)."""
        out: dict[str, dict] = {}
        for (rule, event), s in sorted(self.stats.items()):
            if rule in self.loaded or rule in self.waiting:
                out.setdefault(rule, {})[event] = {"priority": s.priority, "executions": s.executions,
                                                   "failures": s.failures, "aborts": s.aborts}
        return out

    # -- F5's commands --------------------------------------------------------------------------------
    def _commands(self) -> dict[str, Callable]:
        c = Commands(self)
        return {name: getattr(c, attr) for name, attr in COMMANDS.items()}


class VirtualRules:
    """The rules of one virtual server, run in order of priority then of the `rules` list."""

    def __init__(self, irules: IRules, rules: list[Loaded]):
        self.irules = irules
        self.by_event: dict[str, list[tuple[Loaded, str]]] = {}
        for event in {e for r in rules for e in r.keys}:
            handlers = [(prio, n, rule, key) for n, rule in enumerate(rules) for prio, key in rule.keys.get(event, [])]
            self.by_event[event] = [(rule, key) for _, _, rule, key in sorted(handlers, key=lambda h: h[:2])]

    def wants(self, event: str) -> bool:
        return event in self.by_event

    def fire(self, event: str, flow: Flow) -> None:
        cid = flow.data.setdefault("cid", next(self.irules._cids))   # noqa: SLF001 - one counter per device
        disabled = flow.data.setdefault("disabled", set())
        used = flow.data.setdefault("rules", set())
        for rule, key in self.by_event.get(event, []):
            if (rule.path, event) in disabled or (rule.path, "all") in disabled:
                continue
            used.add(rule)
            if not self.irules._run(rule, event, key, flow, cid):    # noqa: SLF001
                flow.outcome = Outcome("reset")
                break
        if event == "CLIENT_CLOSED":
            for rule in used:
                rule.interp.eval(("::f5::forget", cid))


def _arity(args, lo: int, hi: int, usage: str) -> None:
    if not lo <= len(args) <= hi:
        raise Refused(f'wrong # args: should be "{usage}"')


class Commands:
    """F5's iRule commands, acting on irules.current."""

    def __init__(self, irules: IRules):
        self.irules = irules

    def _path(self, name: str) -> str:
        """An object a rule names, relative to the rule's own folder (as /P/app.app/ for an iApp)."""
        return full_path(name, folder=folder_of(self.irules.current.rule or "/Common/x"))

    @property
    def flow(self) -> Flow:
        flow = self.irules.current.flow
        if flow is None:
            raise Refused(f"command is not valid in current event context ({self.irules.current.event})")
        return flow

    def _message(self, response_ok: bool = True):
        """The request, or in HTTP_RESPONSE the response (HTTP::header acts on either)."""
        flow = self.flow
        if response_ok and self.irules.current.event == "HTTP_RESPONSE" and flow.response is not None:
            return flow.response
        if flow.request is None:
            raise Refused(f"command is not valid in current event context ({self.irules.current.event})")
        return flow.request

    # -- HTTP --------------------------------------------------------------------------------------
    def uri(self, *args):
        _arity(args, 0, 1, "HTTP::uri ?uri?")
        req = self._message(False)
        if args:
            req.uri = args[0]
        return req.uri

    def path(self, *args):
        _arity(args, 0, 1, "HTTP::path ?path?")
        req = self._message(False)
        if args:
            req.uri = args[0] + (("?" + req.query) if req.query else "")
        return req.path

    def query(self, *args):
        _arity(args, 0, 0, "HTTP::query")
        return self._message(False).query

    def host(self, *args):
        _arity(args, 0, 0, "HTTP::host")
        return self._message(False).host

    def method(self, *args):
        _arity(args, 0, 0, "HTTP::method")
        return self._message(False).method

    def version(self, *args):
        _arity(args, 0, 1, "HTTP::version ?version?")
        msg = self._message()
        if args:
            msg.version = args[0]
        return msg.version

    def status(self, *args):
        _arity(args, 0, 0, "HTTP::status")
        if self.flow.response is None:
            raise Refused(f"command is not valid in current event context ({self.irules.current.event})")
        return str(self.flow.response.status)

    def header(self, *args):
        usage = "HTTP::header value|values|names|count|exists|insert|replace|remove ?name? ?value?"
        if not args:
            raise Refused(f'wrong # args: should be "{usage}"')
        h = self._message().headers
        sub, rest = args[0], list(args[1:])
        if sub == "insert":
            if rest and rest[0] == "lws":
                rest.pop(0)
            if not rest or len(rest) % 2:
                raise Refused('wrong # args: should be "HTTP::header insert name value ?name value ...?"')
            for name, value in zip(rest[0::2], rest[1::2]):
                h.insert(name, value)
            return ""
        if sub == "names":
            return _list(h.names())
        if sub in ("value", "values", "count", "exists", "remove") or (sub == "replace" and len(rest) == 2):
            _arity(rest, 1, 2 if sub == "replace" else 1, f"HTTP::header {sub} name")
            name = rest[0]
            if sub == "value":
                return h.value(name) or ""
            if sub == "values":
                return _list(h.values(name))
            if sub == "count":
                return str(len(h.values(name)))
            if sub == "exists":
                return "1" if h.exists(name) else "0"
            if sub == "remove":
                h.remove(name)
                return ""
            h.replace(name, rest[1])
            return ""
        _arity(args, 1, 1, usage)
        return h.value(sub) or ""     # HTTP::header NAME

    def cookie(self, *args):
        _arity(args, 1, 2, "HTTP::cookie ?value|exists|names? ?name?")
        cookies = {}
        for line in self._message(False).headers.values("Cookie"):
            for part in line.split(";"):
                k, _, v = part.strip().partition("=")
                if k:
                    cookies[k] = v
        sub, name = (args[0], args[1]) if len(args) == 2 else ("value", args[0])
        if sub == "names" and len(args) == 1:
            return _list(cookies)
        if sub == "exists":
            return "1" if name in cookies else "0"
        if sub == "value":
            return cookies.get(name, "")
        raise Refused(f'bad option "{sub}": must be value, exists or names')

    def _answer(self, outcome: Outcome) -> None:
        flow = self.flow
        if self.irules.current.event not in ("HTTP_REQUEST", "HTTP_RESPONSE", "LB_FAILED", "LB_SELECTED"):
            raise Refused(f"command is not valid in current event context ({self.irules.current.event})")
        if flow.outcome is not None and flow.outcome.kind in ("redirect", "respond"):
            raise Refused("Multiple redirect/respond invocations not allowed")
        flow.outcome = outcome

    def redirect(self, *args):
        _arity(args, 1, 1, "HTTP::redirect url")
        self._answer(Outcome("redirect", 302, location=args[0]))

    def respond(self, *args):
        if not args or not args[0].isdigit():
            raise Refused('wrong # args: should be "HTTP::respond status ?content body? ?noserver? ?name value ...?"')
        rest, body, headers = list(args[1:]), b"", []
        while rest:
            word = rest.pop(0)
            if word == "content" and rest:
                body = rest.pop(0).encode()
            elif word == "noserver":
                continue
            elif word == "-version" and rest:
                rest.pop(0)
            elif rest:
                headers.append((word, rest.pop(0)))
            else:
                raise Refused(f'header "{word}" has no value')
        self._answer(Outcome("respond", int(args[0]), body, tuple(headers)))

    # -- SIP (a virtual with a SIP profile: node/ltm/sip_driver.py) -------------------------------------
    def _sip(self):
        msg = self.flow.data.get("sip")
        if msg is None or self.irules.current.event not in ("SIP_REQUEST", "SIP_RESPONSE"):
            raise Refused(f"command is not valid in current event context ({self.irules.current.event})")
        return msg

    def sip_method(self, *args):
        _arity(args, 0, 0, "SIP::method")
        return self._sip().method or ""

    def sip_uri(self, *args):
        _arity(args, 0, 0, "SIP::uri")
        return self._sip().uri

    def sip_call_id(self, *args):
        _arity(args, 0, 0, "SIP::call_id")
        return self._sip().call_id

    def sip_response(self, *args):
        _arity(args, 1, 1, "SIP::response code|text")
        msg = self._sip()
        if args[0] not in ("code", "text"):
            raise Refused(f'bad option "{args[0]}": must be code or text')
        if msg.is_request:
            return ""
        return str(msg.status) if args[0] == "code" else msg.reason

    def sip_header(self, *args):
        """F5's SIP::header [value] NAME [INDEX] | names | count NAME | insert NAME VALUE | remove NAME [INDEX]."""
        usage = "SIP::header ?value? name ?index? | names | count name | insert name value | remove name ?index?"
        msg = self._sip()
        if not args:
            raise Refused(f'wrong # args: should be "{usage}"')
        if args[0] == "names":
            return _list(n for n, _ in msg.headers)
        if args[0] == "count":
            _arity(args, 2, 2, usage)
            return str(len(msg.values(args[1])))
        if args[0] == "insert":
            _arity(args, 3, 3, usage)
            self.flow.data["sip"] = replace(msg, headers=(*msg.headers, (args[1], args[2])))
            return ""
        if args[0] == "remove":
            _arity(args, 2, 2, usage)
            want = sip.canonical(args[1])
            self.flow.data["sip"] = replace(msg, headers=tuple(h for h in msg.headers if sip.canonical(h[0]) != want))
            return ""
        rest = args[1:] if args[0] == "value" else args
        _arity(rest, 1, 2, usage)
        values = msg.values(rest[0]) if sip.canonical(rest[0]) in ("via", "contact", "route", "record-route") else \
            [v for n, v in msg.headers if sip.canonical(n) == sip.canonical(rest[0])]
        index = int(rest[1]) if len(rest) == 2 and rest[1].isdigit() else 0
        return values[index] if index < len(values) else ""

    def sip_respond(self, *args):
        if not args or not args[0].isdigit():
            raise Refused('wrong # args: should be "SIP::respond code ?reason? ?name value ...?"')
        if self.irules.current.event != "SIP_REQUEST":
            raise Refused(f"command is not valid in current event context ({self.irules.current.event})")
        self._sip()
        reason, rest = (args[1], list(args[2:])) if len(args) > 1 else ("", [])
        if len(rest) % 2:
            raise Refused(f'header "{rest[-1]}" has no value')
        self.flow.outcome = Outcome("respond", int(args[0]), reason.encode(),
                                    tuple(zip(rest[::2], rest[1::2])))

    # -- addresses ---------------------------------------------------------------------------------
    def client_addr(self, *args):
        _arity(args, 0, 0, "IP::client_addr")
        return self.flow.client[0]

    def local_addr(self, *args):
        _arity(args, 0, 0, "IP::local_addr")
        return self.flow.local[0]

    def server_addr(self, *args):
        _arity(args, 0, 0, "IP::server_addr")
        return self.flow.server.address if self.flow.server else ""

    def client_port(self, *args):
        _arity(args, 0, 0, "TCP::client_port")
        return str(self.flow.client[1])

    def local_port(self, *args):
        _arity(args, 0, 0, "TCP::local_port")
        return str(self.flow.local[1])

    def server_port(self, *args):
        _arity(args, 0, 0, "TCP::server_port")
        return str(self.flow.server.port) if self.flow.server else ""

    def lb_server(self, *args):
        _arity(args, 0, 1, "LB::server ?pool|addr|port|name?")
        s = self.flow.server
        if s is None:
            return ""
        parts = {"pool": s.pool or "", "addr": s.address, "port": str(s.port), "name": s.member or ""}
        if args:
            if args[0] not in parts:
                raise Refused(f'bad option "{args[0]}": must be pool, addr, port or name')
            return parts[args[0]]
        return _list([s.pool or "", s.address, str(s.port)])

    def virtual(self, *args):
        _arity(args, 0, 1, "virtual ?name?")
        return self.flow.virtual

    # -- load balancing ----------------------------------------------------------------------------
    def pool(self, *args):
        usage = "pool name ?member addr ?port??"
        _arity(args, 1, 4, usage)
        path = self._path(args[0])
        if self.irules.store.get("ltm pool", path) is None:
            raise Refused(f"no such pool: {args[0]}")
        address = port = None
        if len(args) > 1:
            if args[1] != "member" or len(args) < 3:
                raise Refused(f'wrong # args: should be "{usage}"')
            if len(args) == 4:
                address, port = args[2], int(args[3])
            else:
                name, address = member_name(args[2])
                port = int(name.rsplit(":", 1)[1])
        self.flow.pool = path
        self.flow.target = Target(path, address, port)
        return ""

    def node(self, *args):
        _arity(args, 1, 2, "node addr ?port?")
        addr, _, port = args[0].partition(":") if len(args) == 1 and args[0].count(":") == 1 else (args[0], "", "")
        port = args[1] if len(args) == 2 else port
        try:
            ipaddress.ip_address(addr)
        except ValueError:
            raise Refused(f'invalid IP address "{addr}"') from None
        self.flow.target = Target(None, addr, int(port) if port else self.flow.local[1])
        return ""

    def snat(self, *args):
        _arity(args, 1, 2, "snat automap|none|addr ?port?")
        if args[0] not in ("automap", "none") and not is_address(args[0]):
            raise Refused(f'invalid IP address "{args[0]}"')
        self.flow.snat_rule = args[0]

    def persist(self, *args):
        """`persist source_addr ?mask? ?timeout?`, `persist cookie ?insert ?name??`, `persist none`:
        the load-balancing decision that follows uses (or skips) that persistence."""
        if not args or args[0] not in ("source_addr", "cookie", "none"):
            raise Refused('wrong # args: should be "persist source_addr|cookie|none ?options?"')
        options = {}
        if args[0] == "source_addr":
            for a in args[1:]:
                if a.isdigit() or a == "indefinite":
                    options["timeout"] = a
                elif is_address(a):
                    options["mask"] = a
                else:
                    raise Refused(f'persist source_addr: "{a}" is neither a mask nor a timeout')
        elif args[0] == "cookie" and len(args) > 1:
            if args[1] != "insert" or len(args) > 4:
                raise Refused('wrong # args: should be "persist cookie ?insert ?name? ?expiration??"')
            if len(args) > 2:
                options["cookie-name"] = args[2]
        self.flow.persist, self.flow.persist_options = args[0], options

    def reject(self, *args):
        _arity(args, 0, 0, "reject")
        self.flow.outcome = Outcome("reset")

    def drop(self, *args):
        _arity(args, 0, 0, "drop")
        self.flow.outcome = Outcome("drop")

    # -- MQTT (an MQTT virtual's packets: node/ltm/mqtt.py) ---------------------------------------
    def _mqtt(self, *types: str):
        """(packet, session) of the MQTT event running; `types`: the packet types the command takes."""
        current = self.flow.mqtt
        if current is None:
            raise Refused(f"command is not valid in current event context ({self.irules.current.event})")
        if types and current[0].type not in types:
            raise Refused(f"command is not valid for MQTT message type {current[0].type}")
        return current

    def mqtt_type(self, *args):
        _arity(args, 0, 0, "MQTT::type")
        return self._mqtt()[0].type

    def mqtt_client_id(self, *args):
        _arity(args, 0, 0, "MQTT::client_id")
        return self._mqtt()[1].client_id

    def mqtt_username(self, *args):
        _arity(args, 0, 0, "MQTT::username")
        return self._mqtt()[1].username

    def mqtt_protocol_name(self, *args):
        _arity(args, 0, 0, "MQTT::protocol_name")
        return self._mqtt()[1].protocol_name

    def mqtt_protocol_version(self, *args):
        _arity(args, 0, 0, "MQTT::protocol_version")
        return str(self._mqtt()[1].level)

    def mqtt_topic(self, *args):
        _arity(args, 0, 1, "MQTT::topic ?list?")
        packet = self._mqtt("PUBLISH", "SUBSCRIBE", "UNSUBSCRIBE")[0]
        if packet.type == "PUBLISH" and not args:
            return packet.topic
        if args and args[0] != "list":
            raise Refused(f'bad option "{args[0]}": must be list')
        return _list(t for t, _ in packet.topics) if packet.type != "PUBLISH" else _list([packet.topic])

    def mqtt_qos(self, *args):
        _arity(args, 0, 0, "MQTT::qos")
        return str(self._mqtt("PUBLISH")[0].qos)

    def mqtt_retain(self, *args):
        _arity(args, 0, 0, "MQTT::retain")
        return "1" if self._mqtt("PUBLISH")[0].retain else "0"

    def mqtt_dup(self, *args):
        _arity(args, 0, 0, "MQTT::dup")
        return "1" if self._mqtt("PUBLISH")[0].dup else "0"

    def mqtt_packet_id(self, *args):
        _arity(args, 0, 0, "MQTT::packet_id")
        packet = self._mqtt()[0]
        if packet.packet_id is None:
            raise Refused(f"command is not valid for MQTT message type {packet.type}")
        return str(packet.packet_id)

    def mqtt_drop(self, *args):
        _arity(args, 0, 0, "MQTT::drop")
        self._mqtt()[0].dropped = True

    def mqtt_collect(self, *args):
        _arity(args, 0, 1, "MQTT::collect ?length?")
        self._mqtt("PUBLISH")[0].collected = True   # the lab holds each packet whole: all of it is collected

    def mqtt_payload(self, *args):
        _arity(args, 0, 1, "MQTT::payload ?length?")
        packet = self._mqtt("PUBLISH")[0]
        if args == ("length",):
            return str(len(packet.payload))
        if args:
            raise Refused(f'bad option "{args[0]}": must be length')
        return packet.payload.decode("utf-8", "replace") if packet.collected else ""

    # -- data, logging, control ----------------------------------------------------------------------
    def log(self, *args):
        args = [a for a in args if a != "-noname"]
        _arity(args, 1, 2, "log ?facility.level? message")
        facility, message = (args[0], args[1]) if len(args) == 2 else ("local0.", args[0])
        level = facility.partition(".")[2] or "info"
        level = {"warn": "warning", "error": "err", "emergency": "emerg", "critical": "crit"}.get(level, level)
        cur = self.irules.current
        self.irules.log.log(level if level in LEVELS else "info", "tmm", f"Rule {cur.rule} <{cur.event}>: {message}",
                            event="irule-log", rule=cur.rule)

    def klass(self, *args):
        usage = "class match|lookup|search|exists|size|names ..."
        if not args:
            raise Refused(f'wrong # args: should be "{usage}"')
        sub, rest = args[0], [a for a in args[1:] if a not in ("--",)]
        opts = [a for a in rest if a in ("-value", "-name", "-index", "-all", "-element")]
        rest = [a for a in rest if a not in opts]
        if sub in ("exists", "size", "names"):
            _arity(rest, 1, 1, f"class {sub} class")
            dg = self._datagroup(rest[0], must=sub != "exists")
            if sub == "exists":
                return "1" if dg is not None else "0"
            return str(len(dg[1])) if sub == "size" else _list([n for n, _ in dg[1]])
        if sub == "lookup":
            _arity(rest, 2, 2, "class lookup item class")
            rest = [rest[0], "equals", rest[1]]
            sub, opts = "match", ["-value"]
        if sub not in ("match", "search"):
            raise Refused(f'bad option "{sub}": must be match, lookup, search, exists, size or names')
        _arity(rest, 3, 3, f"class {sub} ?-value|-name? " + ("item operator class" if sub == "match"
                                                            else "class operator item"))
        item, op, dgname = rest if sub == "match" else (rest[2], rest[1], rest[0])
        kind, records = self._datagroup(dgname, must=True)
        hits = [(n, v) for n, v in records if _matches(kind, item, op, n, sub == "search")]
        if "-value" in opts:
            return hits[0][1] if hits else ""
        if "-name" in opts:
            return hits[0][0] if hits else ""
        return "1" if hits else "0"

    def _datagroup(self, name: str, must: bool):
        dg = self.irules.store.get("ltm data-group internal", self._path(name))
        if dg is None:
            if must:
                raise Refused(f"class {name} not found")
            return None
        return dg.get("type", "string"), [(r["name"], r.get("data") or "") for r in dg.get("records") or []]

    def table(self, *args):
        usage = "table set|add|lookup|delete|incr|keys ?-subtable name? ?-notouch? key ?value? ?timeout?"
        if not args:
            raise Refused(f'wrong # args: should be "{usage}"')
        sub, rest, sub_table, touch = args[0], list(args[1:]), "", True
        while rest and rest[0].startswith("-") and rest[0] != "-all":
            opt = rest.pop(0)
            if opt == "-subtable" and rest:
                sub_table = rest.pop(0)
            elif opt == "-notouch":
                touch = False
            elif opt in ("-mustexist", "-excl", "-count"):
                pass
            else:
                raise Refused(f'bad option "{opt}"')
        t = self.irules.tables
        if sub in ("set", "add"):
            _arity(rest, 2, 4, f"table {sub} key value ?timeout? ?lifetime?")
            timeout = float(rest[2]) if len(rest) > 2 and rest[2] != "indef" else (0 if len(rest) > 2 else 180)
            if sub == "add" and t.exists(sub_table, rest[0]):
                return t.lookup(sub_table, rest[0], touch)
            return t.set(sub_table, rest[0], rest[1], timeout)
        if sub == "lookup":
            _arity(rest, 1, 1, "table lookup key")
            return t.lookup(sub_table, rest[0], touch)
        if sub == "delete":
            _arity(rest, 1, 1, "table delete key|-all")
            t.delete(sub_table, None if rest[0] == "-all" else rest[0])
            return ""
        if sub == "incr":
            _arity(rest, 1, 2, "table incr key ?delta?")
            try:
                n = int(t.lookup(sub_table, rest[0]) or 0) + int(rest[1] if len(rest) > 1 else 1)
            except ValueError:
                raise Refused("expected integer") from None
            entry = t.entries.get((sub_table, rest[0]))
            return t.set(sub_table, rest[0], str(n), entry[1] if entry else 180)
        if sub == "keys":
            return _list(t.keys(sub_table))
        raise Refused(f'bad option "{sub}": must be set, add, lookup, delete, incr or keys')

    def event(self, *args):
        cur = self.irules.current
        if not args or args == ("name",) or args == ("info",):
            return cur.event
        disabled = self.flow.data.setdefault("disabled", set())
        if args == ("disable",):
            disabled.add((cur.rule, cur.event))
        elif args == ("disable", "all"):
            disabled.add((cur.rule, "all"))
        elif len(args) == 2 and args[1] in ("enable", "disable"):
            (disabled.discard if args[1] == "enable" else disabled.add)((cur.rule, args[0]))
        else:
            raise Refused('wrong # args: should be "event ?name? disable|enable" or "event disable all"')
        return ""


LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
COMMANDS = {   # F5's name -> the Commands method ("call" is Tcl, in SUPPORT)
    "HTTP::uri": "uri", "HTTP::path": "path", "HTTP::query": "query", "HTTP::host": "host",
    "HTTP::method": "method", "HTTP::version": "version", "HTTP::header": "header", "HTTP::cookie": "cookie",
    "HTTP::redirect": "redirect", "HTTP::respond": "respond", "HTTP::status": "status",
    "IP::client_addr": "client_addr", "IP::remote_addr": "client_addr", "IP::local_addr": "local_addr",
    "IP::server_addr": "server_addr", "TCP::client_port": "client_port", "TCP::remote_port": "client_port",
    "TCP::local_port": "local_port", "TCP::server_port": "server_port", "LB::server": "lb_server",
    "pool": "pool", "node": "node", "snat": "snat", "reject": "reject", "drop": "drop", "discard": "drop",
    "persist": "persist", "class": "klass", "log": "log", "table": "table", "event": "event",
    "virtual": "virtual", "SIP::method": "sip_method", "SIP::uri": "sip_uri", "SIP::call_id": "sip_call_id",
    "SIP::header": "sip_header", "SIP::respond": "sip_respond", "SIP::response": "sip_response",
    **{f"MQTT::{n}": f"mqtt_{n}" for n in ("type", "client_id", "username", "protocol_name", "protocol_version",
                                           "topic", "qos", "retain", "dup", "packet_id", "drop", "collect", "payload")}}


def _list(items) -> str:
    """A Tcl list of the items."""
    return " ".join(_word(str(i)) for i in items)


def _word(s: str) -> str:
    if s and not re.search(r'[\s{}\[\]$"\\;]', s):
        return s
    if "\\" not in s and s.count("{") == s.count("}") and not re.search(r"\}[^{]*\{", s.replace("{}", "")):
        return "{" + s + "}"
    return re.sub(r'([\s{}\[\]$"\\;])', r"\\\1", s)


def _matches(kind: str, item: str, op: str, name: str, search: bool) -> bool:
    """A data group record against an item: `class match ITEM OP DG` compares item OP name;
    `class search DG OP ITEM` compares name OP item. ip groups match an address in a network."""
    left, right = (name, item) if search else (item, name)
    if kind == "ip" and op == "equals":
        try:
            return ipaddress.ip_address(item) in ipaddress.ip_network(name, strict=False)
        except ValueError:
            return False
    if kind == "integer" and op == "equals":
        return item.strip() == name.strip()
    ops = {"equals": lambda a, b: a == b, "starts_with": lambda a, b: a.startswith(b),
           "ends_with": lambda a, b: a.endswith(b), "contains": lambda a, b: b in a,
           "matches_glob": lambda a, b: fnmatch.fnmatchcase(a, b)}
    if op not in ops:
        raise Refused(f'bad operator "{op}": must be equals, starts_with, ends_with, contains or matches_glob')
    return ops[op](left, right)
