"""FQDN nodes, sans-IO: when each device asks DNS for a node's name, what the answers make.

A BIG-IP resolves each FQDN node itself, with its own `sys dns name-servers`: at once, then every
`interval` seconds (or, with `interval ttl`, when the answer's TTL runs out); a query no server
answers is retried every `down-interval` seconds and leaves what the last answer made in place.
Each address answered becomes an ephemeral node `_auto_ADDRESS` (only the first one when
autopopulate is disabled) and, in each pool with a template member on the node, an ephemeral
member `_auto_ADDRESS:PORT` (all of them when the member's autopopulate is enabled, else the
first). An answer without addresses (NXDOMAIN, no records) removes them. Node states, as F5
shows them: fqdn-checking (not answered yet), fqdn-up, fqdn-up-no-addr, fqdn-down.

`Resolver` is fed the nodes (`configure`), the time, and answers; it says which queries are due
and when to wake next. `ephemera` turns the addresses into the nodes and members a device shows.
The IO shell is node/ltm/fqdn_driver.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..config.fqdn_checks import Ephemera, ephemeral_member, ephemeral_node, interval_seconds, is_template

CHECKING, UP, NO_ADDR, DOWN = "fqdn-checking", "fqdn-up", "fqdn-up-no-addr", "fqdn-down"


@dataclass(frozen=True)
class Spec:
    """What a node asks: its name, the record type, how often."""
    name: str
    rdtype: str                 # "A" (address-family ipv4) or "AAAA"
    interval: int | None        # seconds; None: the answer's TTL
    down_interval: int

    @classmethod
    def of(cls, fqdn: dict) -> "Spec":
        return cls(fqdn["name"].rstrip("."), "AAAA" if fqdn.get("address-family") == "ipv6" else "A",
                   interval_seconds(fqdn.get("interval", "3600")), int(fqdn.get("down-interval", 5)))


@dataclass(frozen=True)
class Query:
    node: str
    name: str
    rdtype: str


@dataclass(frozen=True)
class Answer:
    """A server answered: `addresses` (none: NXDOMAIN or no records), the smallest TTL."""
    node: str
    addresses: tuple[str, ...]
    ttl: int = 0


@dataclass(frozen=True)
class Failure:
    """No name server answered (or each refused): `reason` for the log."""
    node: str
    reason: str


@dataclass
class _State:
    spec: Spec
    due: float
    addresses: tuple[str, ...] = ()
    state: str = CHECKING
    asking: bool = False


@dataclass
class Resolver:
    nodes: dict[str, _State] = field(default_factory=dict)

    def configure(self, specs: dict[str, Spec], now: float) -> bool:
        """The FQDN nodes now configured: a new (or renamed) one is asked at once, a removed one
        forgotten. True when that changes any node's addresses."""
        changed = False
        for path in [p for p in self.nodes if p not in specs]:
            changed |= bool(self.nodes.pop(path).addresses)
        for path, spec in specs.items():
            old = self.nodes.get(path)
            if old is None or (old.spec.name, old.spec.rdtype) != (spec.name, spec.rdtype):
                changed |= bool(old and old.addresses)
                self.nodes[path] = _State(spec, now)
            elif old.spec != spec:        # a new interval counts from now
                old.spec = spec
                old.due = min(old.due, now + (spec.interval or spec.down_interval if old.state != DOWN
                                              else spec.down_interval))
        return changed

    def due(self, now: float) -> list[Query]:
        """The queries to send now (each node has at most one under way)."""
        out = []
        for path, st in sorted(self.nodes.items()):
            if not st.asking and st.due <= now:
                st.asking = True
                out.append(Query(path, st.spec.name, st.spec.rdtype))
        return out

    def answered(self, answer: Answer, now: float) -> bool:
        """A server's answer; True when the node's addresses changed."""
        st = self.nodes.get(answer.node)
        if st is None:
            return False
        st.asking = False
        addresses = tuple(dict.fromkeys(answer.addresses))
        changed = addresses != st.addresses
        st.addresses, st.state = addresses, UP if addresses else NO_ADDR
        wait = st.spec.interval if st.spec.interval is not None else (answer.ttl if addresses else st.spec.down_interval)
        st.due = now + max(1, wait)
        return changed

    def failed(self, failure: Failure, now: float) -> bool:
        """No server answered: the addresses stay, asked again after down-interval."""
        st = self.nodes.get(failure.node)
        if st is None:
            return False
        st.asking = False
        st.state = DOWN
        st.due = now + st.spec.down_interval
        return False

    def wakeup(self) -> float | None:
        """When the next query is due (None: no node to ask, or each is being asked)."""
        return min((st.due for st in self.nodes.values() if not st.asking), default=None)

    def addresses(self, path: str) -> tuple[str, ...]:
        st = self.nodes.get(path)
        return st.addresses if st else ()

    def state(self, path: str) -> str:
        st = self.nodes.get(path)
        return st.state if st else CHECKING


def specs_of(objects: dict) -> dict[str, Spec]:
    """The FQDN nodes of a configuration (the store's objects): path -> what to ask."""
    return {p: Spec.of(v["fqdn"]) for (t, p), v in objects.items()
            if t == "ltm node" and is_template(v) and (v.get("fqdn") or {}).get("name")}


def _pick(addresses: tuple[str, ...], autopopulate: str) -> tuple[str, ...]:
    return addresses if autopopulate == "enabled" else addresses[:1]


def ephemera(objects: dict, resolved: dict[str, tuple[str, ...]]) -> Ephemera:
    """The ephemeral nodes and members the resolved addresses make (`resolved`: FQDN node path
    -> its addresses)."""
    out = Ephemera()
    for (t, path), values in objects.items():
        if t == "ltm node" and path in resolved:
            for addr in _pick(resolved[path], values["fqdn"].get("autopopulate", "disabled")):
                name, node = ephemeral_node(path, values, addr)
                out.nodes.setdefault(name, node)
        if t != "ltm pool":
            continue
        for m in values.get("members") or []:
            node_path = m["name"].rsplit(":", 1)[0]
            if not is_template(m) or node_path not in resolved:
                continue
            for addr in _pick(resolved[node_path], (m.get("fqdn") or {}).get("autopopulate", "disabled")):
                name, _ = ephemeral_node(node_path, objects[("ltm node", node_path)], addr)
                if name not in out.nodes:   # the node's own autopopulate took only the first
                    out.nodes[name] = ephemeral_node(node_path, objects[("ltm node", node_path)], addr)[1]
                out.members.setdefault(path, []).append(ephemeral_member(m, name, addr))
    return out
