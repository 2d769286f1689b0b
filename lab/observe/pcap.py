"""pcap files and what the lab's frames are, sans-IO: read, merge, write, classify, summarise.

Classes of frame the summary knows: failover heartbeats (UDP 1026), gratuitous ARP (sender and
target address equal), other ARP, 4353 handshakes (TCP SYN, SYN-ACK, TLS ClientHello, RST),
connection mirroring (TCP 1029-1155, F5's mirroring channels), NTP (UDP 123), and everything else
by protocol.
"""
from __future__ import annotations

import ipaddress
import struct
from collections import Counter, defaultdict
from dataclasses import dataclass

MAGIC_US, MAGIC_NS = 0xA1B2C3D4, 0xA1B23C4D
LINKTYPE_ETHERNET = 1


class PcapError(ValueError):
    pass


@dataclass(frozen=True)
class Record:
    ts: float
    data: bytes
    wire_len: int


def read(data: bytes) -> list[Record]:
    if len(data) < 24:
        raise PcapError("not a pcap file (shorter than its 24-byte header)")
    for endian in ("<", ">"):
        magic = struct.unpack(endian + "I", data[:4])[0]
        if magic in (MAGIC_US, MAGIC_NS):
            break
    else:
        raise PcapError("not a pcap file (bad magic number)")
    scale = 1e-9 if magic == MAGIC_NS else 1e-6
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != LINKTYPE_ETHERNET:
        raise PcapError(f"link type {linktype} is not Ethernet")
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        if off + incl > len(data):
            break  # a record cut short by the capture's end
        out.append(Record(sec + frac * scale, data[off:off + incl], orig))
        off += incl
    return out


def write(records: list[Record], snaplen: int = 262144) -> bytes:
    parts = [struct.pack("<IHHiIII", MAGIC_US, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET)]
    for r in records:
        sec = int(r.ts)
        parts.append(struct.pack("<IIII", sec, int(round((r.ts - sec) * 1e6)), len(r.data), r.wire_len))
        parts.append(r.data)
    return b"".join(parts)


def merge(*captures: list[Record]) -> list[Record]:
    return sorted((r for c in captures for r in c), key=lambda r: r.ts)


# -- classification -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Frame:
    kind: str          # heartbeat, garp, arp, 4353-syn, 4353-synack, 4353-hello, 4353-rst, 4353, ntp, ...
    src: str
    dst: str
    detail: str = ""


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def classify(frame: bytes) -> Frame:
    if len(frame) < 14:
        return Frame("runt", "", "")
    ethertype = struct.unpack("!H", frame[12:14])[0]
    src_mac = _mac(frame[6:12])
    if ethertype == 0x0806 and len(frame) >= 42:
        op = struct.unpack("!H", frame[20:22])[0]
        sha, spa, tpa = frame[22:28], str(ipaddress.IPv4Address(frame[28:32])), \
            str(ipaddress.IPv4Address(frame[38:42]))
        if spa == tpa:
            return Frame("garp", spa, "broadcast", f"{spa} is-at {_mac(sha)}")
        what = "who-has" if op == 1 else "is-at"
        return Frame("arp", spa, tpa, f"{what} {tpa}" if op == 1 else f"{spa} is-at {_mac(sha)}")
    if ethertype != 0x0800 or len(frame) < 34:
        return Frame(f"ethertype-0x{ethertype:04x}", src_mac, _mac(frame[0:6]))
    ihl = (frame[14] & 0x0F) * 4
    proto = frame[23]
    src, dst = str(ipaddress.IPv4Address(frame[26:30])), str(ipaddress.IPv4Address(frame[30:34]))
    l4 = frame[14 + ihl:]
    if proto == 17 and len(l4) >= 8:
        sport, dport = struct.unpack("!HH", l4[:4])
        if 1026 in (sport, dport):
            return Frame("heartbeat", f"{src}:{sport}", f"{dst}:{dport}")
        if 123 in (sport, dport):
            return Frame("ntp", f"{src}:{sport}", f"{dst}:{dport}", "request" if dport == 123 else "reply")
        return Frame("udp", f"{src}:{sport}", f"{dst}:{dport}")
    if proto == 6 and len(l4) >= 20:
        sport, dport = struct.unpack("!HH", l4[:4])
        flags = l4[13]
        payload = l4[(l4[12] >> 4) * 4:]
        a, b = f"{src}:{sport}", f"{dst}:{dport}"
        if 4353 in (sport, dport):
            if flags & 0x04:
                return Frame("4353-rst", a, b)
            if flags & 0x02:
                return Frame("4353-synack" if flags & 0x10 else "4353-syn", a, b)
            if len(payload) >= 6 and payload[0] == 0x16 and payload[5] == 1:
                return Frame("4353-hello", a, b, "TLS ClientHello")
            return Frame("4353", a, b)
        if MIRRORING.start <= min(sport, dport) < MIRRORING.stop:
            return Frame("mirror", a, b, str(len(payload)))
        return Frame("tcp", a, b)
    if proto == 1:
        return Frame("icmp", src, dst)
    return Frame(f"ip-proto-{proto}", src, dst)


HANDSHAKE = ("4353-syn", "4353-synack", "4353-hello", "4353-rst")
MIRRORING = range(1029, 1156)   # F5's mirroring channels, one a traffic group


def summarise(records: list[Record]) -> dict:
    """Counts by kind, heartbeat flows with their mean interval, every GARP and every 4353
    handshake step (with times), and a text rendering of it all."""
    counts: Counter = Counter()
    beats: dict[tuple[str, str], list[float]] = defaultdict(list)
    garps, handshakes = [], []
    mirroring: Counter = Counter()   # (src, dst, channel port) -> payload bytes
    for r in records:
        f = classify(r.data)
        counts[f.kind] += 1
        if f.kind == "heartbeat":
            beats[(f.src.split(":")[0], f.dst.split(":")[0])].append(r.ts)
        elif f.kind == "garp":
            garps.append({"ts": r.ts, "address": f.src, "detail": f.detail})
        elif f.kind == "mirror":
            (s, sp), (d, dp) = f.src.split(":"), f.dst.split(":")
            mirroring[(s, d, min(int(sp), int(dp)))] += int(f.detail)
        elif f.kind in HANDSHAKE:
            handshakes.append({"ts": r.ts, "step": f.kind, "src": f.src, "dst": f.dst})
    flows = []
    for (s, d), ts in sorted(beats.items()):
        gap = (ts[-1] - ts[0]) / (len(ts) - 1) if len(ts) > 1 else None
        flows.append({"src": s, "dst": d, "count": len(ts), "mean_interval_ms": round(gap * 1000, 1) if gap else None})
    t0 = records[0].ts if records else 0.0
    lines = [f"{len(records)} frames: " + ", ".join(f"{k} {n}" for k, n in counts.most_common())]
    lines += ["heartbeats (UDP 1026):"] + [f"  {f['src']} -> {f['dst']}: {f['count']}"
                                          + (f", every {f['mean_interval_ms']} ms" if f["mean_interval_ms"] else "")
                                          for f in flows] if flows else ["heartbeats (UDP 1026): none"]
    lines += ["gratuitous ARP:"] + [f"  +{g['ts'] - t0:7.3f} s  {g['detail']}" for g in garps] if garps \
        else ["gratuitous ARP: none"]
    lines += ["4353 handshakes:"] + [f"  +{h['ts'] - t0:7.3f} s  {h['step']:<12} {h['src']} -> {h['dst']}"
                                     for h in handshakes] if handshakes else ["4353 handshakes: none"]
    lines += ["connection mirroring (TCP 1029-1155, a channel a traffic group):"] + [
        f"  {s} -> {d} (channel {p}): {n} bytes" for (s, d, p), n in sorted(mirroring.items())] \
        if mirroring else ["connection mirroring (TCP 1029-1155): none"]
    return {"frames": len(records), "counts": dict(counts), "heartbeats": flows, "garps": garps,
            "handshakes": handshakes, "mirroring": [{"src": s, "dst": d, "channel": p, "bytes": n}
                                                  for (s, d, p), n in sorted(mirroring.items())],
            "text": "\n".join(lines)}
