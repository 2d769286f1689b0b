"""Connection mirroring, sans-IO: which conntrack entries a device mirrors, how an entry travels to
the peer, and the ctnetlink attributes that make it again in the peer's kernel with its NAT binding.

As on a BIG-IP, the device active for a traffic group mirrors the connections of its virtual
servers that have `mirror enabled` to the group's next-active device, over that device's
mirroring address (cm device mirror-ip), one channel a traffic group, on a TCP port from 1029 by
the group's unit-id (F5's mirroring channels use 1029-1155).
An entry travels as its original tuple and its NAT: the member the virtual DNATed to and the
SNAT source, if any. The receiver creates it with the reply tuple unNATed and CTA_NAT_DST /
CTA_NAT_SRC, as conntrackd does, so the kernel sets the NAT binding up itself (an entry given an
already-NATed reply tuple would carry no NAT status and forward nothing).
"""
from __future__ import annotations

from dataclasses import dataclass

PORT = 1029               # F5: mirroring channels use TCP ports 1029-1155, one a traffic group
PROTOCOLS = {6: "tcp", 17: "udp"}

# nf_conntrack_common.h
IPS_SEEN_REPLY, IPS_ASSURED, IPS_CONFIRMED = 1 << 1, 1 << 2, 1 << 3
TCP_FLAG_BE_LIBERAL = 0x08     # IP_CT_TCP_FLAG_BE_LIBERAL: no window checks on a picked-up stream
TCP_STATES = ("NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK",
              "TIME_WAIT", "CLOSE", "SYN_SENT2")


@dataclass(frozen=True)
class Entry:
    """One connection as the active device's conntrack holds it."""
    proto: int                 # 6 tcp, 17 udp
    src: str                   # original direction: the client
    dst: str                   # ... the virtual's address
    sport: int
    dport: int
    dnat: tuple[str, int] | None    # the member (reply source), when DNATed
    snat: str | None                # the source toward the member (reply destination), when SNATed
    state: int = 0             # TCP state (TCP_STATES index)
    status: int = 0
    timeout: int = 0
    mark: int = 0              # the conntrack mark (fastl4.flow_mark: which virtual and member)

    @property
    def key(self) -> tuple:
        return (self.proto, self.src, self.sport, self.dst, self.dport)

    def to_wire(self) -> dict:
        return {"p": self.proto, "s": self.src, "d": self.dst, "sp": self.sport, "dp": self.dport,
                "n": list(self.dnat) if self.dnat else None, "sn": self.snat, "st": self.state,
                "f": self.status, "to": self.timeout, "m": self.mark}

    @classmethod
    def from_wire(cls, w: dict) -> "Entry":
        if not isinstance(w, dict) or w.get("p") not in PROTOCOLS:
            raise ValueError("not a mirrored connection")
        dnat = w.get("n")
        return cls(int(w["p"]), str(w["s"]), str(w["d"]), int(w["sp"]), int(w["dp"]),
                   (str(dnat[0]), int(dnat[1])) if dnat else None, w.get("sn") or None,
                   int(w.get("st") or 0), int(w.get("f") or 0), int(w.get("to") or 0), int(w.get("m") or 0))


def from_conntrack(orig: dict, reply: dict, proto: int, *, state: int = 0, status: int = 0,
                   timeout: int = 0, mark: int = 0) -> Entry:
    """An entry from a conntrack event's tuples: {src, dst, sport, dport} each way."""
    dnat = (reply["src"], reply["sport"]) if (reply["src"], reply["sport"]) != (orig["dst"], orig["dport"]) else None
    snat = reply["dst"] if reply["dst"] != orig["src"] else None
    return Entry(proto, orig["src"], orig["dst"], orig["sport"], orig["dport"], dnat, snat, state, status, timeout, mark)


def mirrored(entry: Entry, virtuals: set[tuple[str, int, int]]) -> bool:
    """Whether a connection belongs to a mirrored virtual: (address, port, protocol number)."""
    return (entry.dst, entry.dport, entry.proto) in virtuals and entry.dnat is not None


def _tuple(src: str, dst: str, sport: int, dport: int, proto: int) -> dict:
    return {"attrs": [["CTA_TUPLE_IP", {"attrs": [["CTA_IP_V4_SRC", src], ["CTA_IP_V4_DST", dst]]}],
                      ["CTA_TUPLE_PROTO", {"attrs": [["CTA_PROTO_NUM", proto], ["CTA_PROTO_SRC_PORT", sport],
                                                     ["CTA_PROTO_DST_PORT", dport]]}]]}


def _nat(address: str, port: int | None) -> dict:
    attrs = [["CTA_NAT_V4_MINIP", address], ["CTA_NAT_V4_MAXIP", address]]
    if port is not None:
        attrs.append(["CTA_NAT_PROTO", {"attrs": [["CTA_PROTONAT_PORT_MIN", port], ["CTA_PROTONAT_PORT_MAX", port]]}])
    return {"attrs": attrs}


def orig_attrs(entry: Entry) -> list:
    return [["CTA_TUPLE_ORIG", _tuple(entry.src, entry.dst, entry.sport, entry.dport, entry.proto)]]


def create_attrs(entry: Entry) -> list:
    """ctnetlink attributes (pyroute2's nfct_msg form) that make the entry in a peer's kernel."""
    attrs = orig_attrs(entry) + [
        ["CTA_TUPLE_REPLY", _tuple(entry.dst, entry.src, entry.dport, entry.sport, entry.proto)]]
    if entry.dnat:
        attrs.append(["CTA_NAT_DST", _nat(entry.dnat[0], entry.dnat[1])])
    if entry.snat:
        attrs.append(["CTA_NAT_SRC", _nat(entry.snat, None)])
    if entry.mark:
        attrs.append(["CTA_MARK", entry.mark])
    return attrs + update_attrs(entry)


def update_attrs(entry: Entry) -> list:
    """What may change on an existing entry: status bits, timeout, TCP state (NAT never does)."""
    attrs = [["CTA_STATUS", (entry.status & (IPS_SEEN_REPLY | IPS_ASSURED)) | IPS_CONFIRMED],
             ["CTA_TIMEOUT", max(1, entry.timeout or 120)]]
    if entry.proto == 6:
        liberal = {"value": (TCP_FLAG_BE_LIBERAL, TCP_FLAG_BE_LIBERAL)}
        attrs.append(["CTA_PROTOINFO", {"attrs": [["CTA_PROTOINFO_TCP", {"attrs": [
            ["CTA_PROTOINFO_TCP_STATE", entry.state],
            ["CTA_PROTOINFO_TCP_FLAGS_ORIGINAL", liberal], ["CTA_PROTOINFO_TCP_FLAGS_REPLY", liberal]]}]]}])
    return attrs


class Outbox:
    """The latest state of each mirrored connection not yet sent, in arrival order; a connection
    that changes again before it is sent is sent once, as it is then."""

    def __init__(self):
        self.pending: dict[tuple, tuple[str, Entry | dict]] = {}

    def put(self, op: str, entry: Entry) -> None:
        self.pending.pop(entry.key, None)
        self.pending[entry.key] = (op, entry)

    def put_persist(self, record: dict) -> None:
        key = ("persist", record.get("virtual"), record.get("value"))
        self.pending.pop(key, None)
        self.pending[key] = ("persist", record)

    def take(self) -> list[dict]:
        out = [{"t": "persist", "r": e} if op == "persist" else {"t": "ct", "op": op, "e": e.to_wire()}
               for op, e in self.pending.values()]
        self.pending.clear()
        return out


class Renewals:
    """Which records of the kernel's persistence maps go (again) to the peer: a new one, one that
    moved to another member, or one whose expiry a new connection pushed on by more than `slack`
    seconds (the kernel renews a record on each connection; the peer needs no resend per packet)."""

    def __init__(self, slack: float = 2.0):
        self.slack = slack
        self.sent: dict[tuple, tuple[str, float | None]] = {}

    def due(self, now: dict[tuple, tuple[str, float | None]]) -> list[tuple]:
        """`now`: key -> (member, absolute expiry or None) of every record in the maps; the keys to send."""
        out = []
        for key, (member, expires) in now.items():
            old = self.sent.get(key)
            if old is None or old[0] != member or (expires is None) != (old[1] is None) or \
                    (expires is not None and expires > old[1] + self.slack):
                self.sent[key] = (member, expires)
                out.append(key)
        for key in [k for k in self.sent if k not in now]:
            del self.sent[key]
        return out


class Kept:
    """The persistence records a device mirrors, kept so that a channel (re)connecting sends every
    live one again, with its time left (one taken from the outbox by a channel that was then cut,
    or given before the group had a peer, is not lost); each goes as it expires."""

    def __init__(self):
        self.records: dict[tuple, tuple[dict, float | None]] = {}   # (traffic group, virtual, value) -> (record, expiry)

    def put(self, traffic_group: str, record: dict, now: float) -> None:
        life = record.get("life")
        self.records[(traffic_group, record.get("virtual"), record.get("value"))] = \
            (record, None if life is None else now + life)

    def live(self, traffic_group: str, now: float) -> list[dict]:
        """The group's records not expired, each with the lifetime it has left (None: indefinite)."""
        return [{**r, "life": None if at is None else at - now} for (tg, *_), (r, at) in self.records.items()
                if tg == traffic_group and (at is None or at > now)]

    def expire(self, now: float) -> None:
        for key in [k for k, (_, at) in self.records.items() if at is not None and at <= now]:
            del self.records[key]

    def next_expiry(self) -> float | None:
        return min((at for _, at in self.records.values() if at is not None), default=None)


def port_of(unit_id: int) -> int:
    """A traffic group's mirroring channel port, by its unit-id (synced, so the same on every device):
    traffic-group-1 on 1029, the next on 1030, up to 1155."""
    return PORT - 1 + min(max(1, unit_id), 127)


@dataclass(frozen=True)
class Channel:
    """What the device active for a traffic group mirrors, to whom: the mirrored fastL4 virtuals
    ((address, port, protocol number)) and the next-active device's mirroring address and port."""
    peer: str | None
    port: int
    virtuals: frozenset = frozenset()


def usable(address) -> str | None:
    """A mirroring address as cm device stores it; any6 / none: not set."""
    return address if address not in (None, "", "any6", "none") else None


def peer_address(me: str, ha_order: list[str], members: list[str], devices: dict[str, dict]) -> str | None:
    """The traffic group's next-active device's mirroring address: the first other device in its
    ha-order, else the first other member of the sync-failover group, that has one (its primary
    mirror-ip, else its secondary). `devices`: name -> the device's info (mirror-ip...)."""
    for name in [*ha_order, *sorted(members)]:
        info = devices.get(name) or {}
        address = usable(info.get("mirror-ip")) or usable(info.get("mirror-secondary-ip"))
        if name != me and address:
            return address
    return None
