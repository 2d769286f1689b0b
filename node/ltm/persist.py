"""Persistence, sans-IO: source-address affinity records (timeout, mask) and F5's cookie insert
encoding (`BIGipServer<pool>=<address>.<port>.0000`: the IPv4 address as a little-endian integer,
the port with its two bytes swapped)."""
from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    mode: str          # source-address
    value: str         # the (masked) client address
    virtual: str       # /Common/vs
    pool: str
    member: str        # /Common/10.1.20.21:80
    address: str       # the member's, for `show ltm persistence persist-records`
    port: int
    expires: float | None   # None: indefinite


def to_wire(r: Record, life: float | None) -> dict:
    """A record as the mirroring channel carries it: its remaining lifetime, not a clock reading."""
    return {"mode": r.mode, "value": r.value, "virtual": r.virtual, "pool": r.pool, "member": r.member,
            "address": r.address, "port": r.port, "life": life}


def from_wire(w: dict, now: float) -> Record:
    life = w.get("life")
    return Record(str(w["mode"]), str(w["value"]), str(w["virtual"]), str(w["pool"]), str(w["member"]),
                  str(w["address"]), int(w["port"]), None if life is None else now + float(life))


def source_key(client: str, mask: str) -> str:
    """The client address under the profile's mask ("none": the whole address)."""
    if mask in (None, "", "none"):
        return client
    return str(ipaddress.ip_network(f"{client}/{mask}", strict=False).network_address)


def lifetime(timeout: str) -> float | None:
    return None if timeout == "indefinite" else float(timeout)


class Table:
    """Persistence records by (virtual, pool, value); a lookup of an expired record drops it."""

    def __init__(self):
        self.records: dict[tuple[str, str, str], Record] = {}

    def find(self, virtual: str, pool: str, value: str, now: float) -> Record | None:
        r = self.records.get((virtual, pool, value))
        if r is not None and r.expires is not None and r.expires <= now:
            del self.records[(virtual, pool, value)]
            return None
        return r

    def put(self, record: Record) -> None:
        self.records[(record.virtual, record.pool, record.value)] = record

    def drop(self, records: list[Record]) -> None:
        for r in records:
            self.records.pop((r.virtual, r.pool, r.value), None)

    def live(self, now: float) -> list[Record]:
        for key in [k for k, r in self.records.items() if r.expires is not None and r.expires <= now]:
            del self.records[key]
        return sorted(self.records.values(), key=lambda r: (r.virtual, r.value))


def cookie_name(pool: str, configured: str = "none") -> str:
    """F5's default name: BIGipServer and the pool's name (its folder path with ~ outside /Common)."""
    if configured not in (None, "", "none"):
        return configured
    name = pool.removeprefix("/Common/") if pool.count("/") == 2 and pool.startswith("/Common/") else pool
    return "BIGipServer" + name.replace("/", "~")


def encode(address: str, port: int) -> str:
    a = struct.unpack("<I", ipaddress.IPv4Address(address).packed)[0]
    p = struct.unpack("<H", struct.pack(">H", port))[0]
    return f"{a}.{p}.0000"


def decode(value: str) -> tuple[str, int] | None:
    """A cookie's member address and port, or None for anything that is not F5's encoding."""
    parts = value.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    a, p = int(parts[0]), int(parts[1])
    if a > 0xFFFFFFFF or p > 0xFFFF:
        return None
    address = str(ipaddress.IPv4Address(struct.pack("<I", a)))
    return address, struct.unpack(">H", struct.pack("<H", p))[0]


def request_cookie(cookie_header: str | None, name: str) -> str | None:
    for part in (cookie_header or "").split(";"):
        k, sep, v = part.strip().partition("=")
        if sep and k == name:
            return v
    return None
