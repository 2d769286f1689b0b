"""The per-connection, per-request hook the proxy calls at each iRule event, sans-IO.

The proxy owns the sockets and the HTTP parsing; a Hook (the iRules of one virtual server)
only reads and changes a Flow. At each event the proxy calls `hook.fire(EVENT, flow)` (plain,
synchronous, bounded by the hook's own budget) and then acts on what the flow says:

    CLIENT_ACCEPTED  after accept, before any byte is read
    HTTP_REQUEST     a request head is parsed; `flow.request` can be changed (uri, headers)
    LB_SELECTED      a member is chosen (`flow.server`); a rule may still change the pool
    LB_FAILED        no member is available, or connecting to it failed
    SERVER_CONNECTED the connection to the member is open (before any byte is relayed)
    HTTP_RESPONSE    a response head is parsed; `flow.response` can be changed
    CLIENT_CLOSED    the client side is done (no action is taken after it)
    MQTT_CLIENT_INGRESS / MQTT_SERVER_INGRESS   an MQTT virtual read a whole packet from that side
                     (`flow.mqtt`); MQTT::drop keeps it from going on. MQTT_CLIENT_DATA /
                     MQTT_SERVER_DATA follow when the rule called MQTT::collect (node/ltm/mqtt.py)

After each event the proxy reads, in this order: `flow.outcome` (reset, drop, redirect, respond:
answer the client and send nothing to a server), then `flow.target` (a pool, pool member or node
the rules chose, used at the next load-balancing decision). An error inside a hook is the hook's
to log; it sets `flow.outcome = Outcome("reset")`, as a BIG-IP resets the connection.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

EVENTS = ("CLIENT_ACCEPTED", "HTTP_REQUEST", "HTTP_RESPONSE", "LB_SELECTED", "LB_FAILED", "SERVER_CONNECTED",
          "CLIENT_CLOSED")


class Headers:
    """An HTTP header list: order and repeats kept, names matched without case."""

    def __init__(self, items=()):
        self.items: list[tuple[str, str]] = [(str(k), str(v)) for k, v in items]

    def values(self, name: str) -> list[str]:
        low = name.lower()
        return [v for k, v in self.items if k.lower() == low]

    def value(self, name: str) -> str | None:
        """The last value, as HTTP::header value returns it."""
        found = self.values(name)
        return found[-1] if found else None

    def exists(self, name: str) -> bool:
        return bool(self.values(name))

    def insert(self, name: str, value: str) -> None:
        self.items.append((name, value))

    def remove(self, name: str) -> None:
        low = name.lower()
        self.items = [(k, v) for k, v in self.items if k.lower() != low]

    def replace(self, name: str, value: str) -> None:
        """Replace the last occurrence, or insert it (HTTP::header replace)."""
        low = name.lower()
        for i in range(len(self.items) - 1, -1, -1):
            if self.items[i][0].lower() == low:
                self.items[i] = (self.items[i][0], value)
                return
        self.insert(name, value)

    def names(self) -> list[str]:
        return [k for k, _ in self.items]


@dataclass
class Request:
    method: str
    uri: str
    version: str = "1.1"
    headers: Headers = field(default_factory=Headers)

    @property
    def path(self) -> str:
        return self.uri.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.uri.split("?", 1)[1] if "?" in self.uri else ""

    @property
    def host(self) -> str:
        return self.headers.value("Host") or ""


@dataclass
class Response:
    status: int
    reason: str = ""
    version: str = "1.1"
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True)
class Outcome:
    """What to do instead of proxying: reset | drop | redirect (location) | respond (status, body, headers)."""
    kind: str
    status: int = 0
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    location: str = ""


@dataclass(frozen=True)
class Target:
    """Where the rules send the flow: a pool (optionally one member of it), or a node."""
    pool: str | None = None            # /Common/api_pool
    address: str | None = None         # a member's or node's address
    port: int | None = None


@dataclass
class Server:
    pool: str | None
    member: str | None                 # /Common/10.1.20.21:80
    address: str
    port: int


@dataclass
class Flow:
    virtual: str                       # /Common/vs_web
    client: tuple[str, int]            # the client's address and port
    local: tuple[str, int]             # the virtual's address and port
    pool: str | None                   # the virtual's default pool, or the last `pool` a rule chose
    target: Target | None = None
    server: Server | None = None
    request: Request | None = None
    response: Response | None = None
    outcome: Outcome | None = None
    snat: str | None = None            # the virtual's source-address-translation type
    snat_rule: str | None = None       # an iRule's `snat`: automap | an address | none (the server connection's source)
    persist: str | None = None         # source_addr | cookie | none
    persist_options: dict = field(default_factory=dict)   # the persist command's: timeout, mask, cookie-name
    data: dict = field(default_factory=dict)   # per-connection variables a hook keeps between events
    mqtt: Any = None                   # an MQTT virtual's current packet (node/ltm/mqtt.py Packet) and its session


class Hook(Protocol):
    def fire(self, event: str, flow: Flow) -> None:
        """Run this event's handlers; changes `flow` in place; never raises."""

    def wants(self, event: str) -> bool:
        """Whether any handler listens for the event (the proxy skips HTTP parsing if none does)."""
