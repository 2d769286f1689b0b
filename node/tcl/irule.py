"""An iRule's text, checked and compiled as a BIG-IP does when the rule is created.

    when HTTP_REQUEST priority 100 {
        if { [HTTP::uri] starts_with "/api" } { pool api_pool }
    }

The rule is a list of `when EVENT ?priority N? { body }` (and `proc` definitions). Loading checks
Tcl syntax, events and that every command named exists (F5's `undefined procedure`), and rewrites
F5's expression operators into plain Tcl (script.py). Errors are F5's 01070151 text.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..errors import RuleError
from .interp import HIDDEN, Master
from .script import TclSyntax, commands_in, parse, rewrite

# the events the lab's proxy fires (node/ltm/hooks.py), and RULE_INIT, run once at load
FIRED = ("RULE_INIT", "CLIENT_ACCEPTED", "HTTP_REQUEST", "HTTP_RESPONSE", "LB_SELECTED", "LB_FAILED",
         "SERVER_CONNECTED", "CLIENT_CLOSED", "SIP_REQUEST", "SIP_RESPONSE",
         "MQTT_CLIENT_INGRESS", "MQTT_SERVER_INGRESS", "MQTT_CLIENT_DATA", "MQTT_SERVER_DATA")
HTTP_EVENTS = ("HTTP_REQUEST", "HTTP_RESPONSE")
DEFAULT_PRIORITY = 500

# F5's commands the lab implements (node/ltm/irules.py registers exactly these)
F5_COMMANDS = (
    "HTTP::uri", "HTTP::path", "HTTP::query", "HTTP::host", "HTTP::method", "HTTP::version", "HTTP::header",
    "HTTP::cookie", "HTTP::redirect", "HTTP::respond", "HTTP::status",
    "IP::client_addr", "IP::local_addr", "IP::remote_addr", "IP::server_addr",
    "TCP::client_port", "TCP::local_port", "TCP::remote_port", "TCP::server_port",
    "LB::server", "pool", "node", "snat", "reject", "drop", "discard", "persist",
    "class", "log", "table", "event", "call", "virtual",
    "SIP::method", "SIP::uri", "SIP::call_id", "SIP::header", "SIP::respond", "SIP::response",
    "MQTT::type", "MQTT::client_id", "MQTT::username", "MQTT::topic", "MQTT::drop", "MQTT::qos", "MQTT::packet_id",
    "MQTT::protocol_version", "MQTT::protocol_name", "MQTT::collect", "MQTT::payload", "MQTT::retain", "MQTT::dup")


@dataclass(frozen=True)
class Handler:
    event: str
    priority: int
    body: str          # plain Tcl (F5's operators rewritten)
    line: int


@dataclass(frozen=True)
class Compiled:
    handlers: tuple[Handler, ...]
    procs: str         # the rule's `proc` definitions, plain Tcl

    def events(self) -> set[str]:
        return {h.event for h in self.handlers}


@lru_cache(maxsize=1)
def tcl_commands() -> frozenset[str]:
    """What a safe child interpreter offers (real Tcl's list, less what the sandbox hides)."""
    m = Master()
    child = m.child({})
    names = set(child.eval("info commands").split()) | set(child.eval("info commands ::f5::*").split())
    child.delete()
    return frozenset(names - set(HIDDEN))


@lru_cache(maxsize=512)
def compile_rule(path: str, text: str) -> Compiled:
    """The rule's handlers, or RuleError with F5's text."""
    def fail(line: int, what: str, snippet: str):
        raise RuleError(path, f"{path}:{line}: error: [{what}][{snippet.strip()}]")

    try:
        cmds = parse(text)
    except TclSyntax as exc:
        fail(exc.line, f"parse error: {exc.message}", exc.snippet)
    handlers, procs, defined = [], [], set()
    for cmd in cmds:
        words = cmd.words
        first = words[0].text
        if first == "proc" and len(words) == 4:
            defined.add(words[1].value)
            procs.append((text[words[0].start:words[-1].end], cmd.line))
            continue
        if first != "when":
            fail(cmd.line, "command is not valid in the current scope", text[words[0].start:words[-1].end][:60])
        event, opts = (words[1].text if len(words) > 1 else ""), [w.text for w in words[2:-1]]
        if event not in FIRED and event not in OTHER_EVENTS:
            fail(cmd.line, f"unknown event ({event})", f"when {event} {{")
        priority = DEFAULT_PRIORITY
        while opts:
            key = opts.pop(0)
            if key == "priority" and opts and opts[0].isdigit() and 0 <= int(opts[0]) <= 1000:
                priority = int(opts.pop(0))
            elif key == "timing" and opts and opts[0] in ("on", "off"):
                opts.pop(0)
            else:
                fail(cmd.line, f"invalid argument ({key})", f"when {event} {key}")
        if len(words) < 3 or words[-1].kind != "brace":
            fail(cmd.line, "missing event body", f"when {event}")
        body = words[-1]
        handlers.append(Handler(event, priority, body.value, cmd.line))
    known = tcl_commands() | set(F5_COMMANDS) | defined
    for src, line0 in [*((h.body, h.line - 1) for h in handlers), *((p, line - 1) for p, line in procs)]:
        try:
            found = commands_in(src)
        except TclSyntax as exc:
            fail(line0 + exc.line, f"parse error: {exc.message}", exc.snippet)
        for c, line in found:
            name = c.words[0].text
            if c.words[0].kind == "bare" and not any(ch in name for ch in "[$\\") and name not in known \
                    and name.lstrip(":") not in known:
                fail(line0 + line, f"undefined procedure: {name}", src[c.words[0].start:c.words[-1].end][:60])
    try:
        return Compiled(tuple(Handler(h.event, h.priority, rewrite(h.body), h.line) for h in handlers),
                        rewrite("\n".join(p for p, _ in procs)))
    except TclSyntax as exc:
        fail(exc.line, f"parse error: {exc.message}", exc.snippet)


# events a BIG-IP accepts that the lab's proxy never fires (a rule using them loads, they never run)
OTHER_EVENTS = ("SERVER_CLOSED", "HTTP_REQUEST_DATA", "HTTP_RESPONSE_DATA",
                "HTTP_REQUEST_SEND", "HTTP_REQUEST_RELEASE", "HTTP_RESPONSE_RELEASE", "CLIENT_DATA",
                "SERVER_DATA", "CLIENTSSL_HANDSHAKE", "CLIENTSSL_CLIENTHELLO", "SERVERSSL_HANDSHAKE",
                "PERSIST_DOWN", "DNS_REQUEST", "DNS_RESPONSE",
                # MQTT's egress events and, of message routing's MQTT sessions only, MQTT_CLIENT_SHUTDOWN
                "MQTT_CLIENT_EGRESS", "MQTT_SERVER_EGRESS", "MQTT_CLIENT_SHUTDOWN")
