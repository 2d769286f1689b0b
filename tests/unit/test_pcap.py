"""pcap reading, writing and merging, and what the summary calls each frame."""
import struct

import pytest

from lab.observe.pcap import PcapError, Record, classify, merge, read, summarise, write

MAC1, MAC2, BCAST = bytes.fromhex("020000000001"), bytes.fromhex("020000000002"), b"\xff" * 6


def ip(a: str) -> bytes:
    return bytes(int(x) for x in a.split("."))


def arp(op: int, spa: str, tpa: str, sha=MAC1) -> bytes:
    return (BCAST + sha + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + ip(spa)
            + b"\0" * 6 + ip(tpa))


def ipv4(proto: int, src: str, dst: str, l4: bytes) -> bytes:
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0, ip(src), ip(dst))
    return MAC2 + MAC1 + b"\x08\x00" + hdr + l4


def udp(src, dst, sport, dport, payload=b"x") -> bytes:
    return ipv4(17, src, dst, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def tcp(src, dst, sport, dport, flags, payload=b"") -> bytes:
    return ipv4(6, src, dst, struct.pack("!HHIIBBHHH", sport, dport, 0, 0, 5 << 4, flags, 0, 0, 0) + payload)


def test_frames_are_named_for_what_the_lab_watches():
    assert classify(arp(1, "10.1.10.100", "10.1.10.100")).kind == "garp"
    assert classify(arp(1, "10.1.10.51", "10.1.10.100")).detail == "who-has 10.1.10.100"
    assert classify(udp("10.1.30.11", "10.1.30.12", 40000, 1026)).kind == "heartbeat"
    assert classify(udp("10.1.1.11", "10.1.1.1", 40000, 123)).detail == "request"
    assert classify(tcp("10.1.1.11", "10.1.1.12", 5000, 4353, 0x02)).kind == "4353-syn"
    assert classify(tcp("10.1.1.12", "10.1.1.11", 4353, 5000, 0x12)).kind == "4353-synack"
    assert classify(tcp("10.1.1.12", "10.1.1.11", 4353, 5000, 0x14)).kind == "4353-rst"
    hello = b"\x16\x03\x01\x00\x10\x01" + b"\0" * 16
    assert classify(tcp("10.1.1.11", "10.1.1.12", 5000, 4353, 0x18, hello)).kind == "4353-hello"
    assert classify(b"\0" * 5).kind == "runt"


def test_a_capture_round_trips_and_merges_in_time_order():
    a = [Record(10.0, arp(1, "10.1.10.10", "10.1.10.10"), 42), Record(10.2, udp("1.1.1.1", "1.1.1.2", 1, 1026), 43)]
    b = [Record(10.1, udp("1.1.1.2", "1.1.1.1", 1, 1026), 43)]
    merged = merge(read(write(a)), read(write(b)))
    assert [r.ts for r in merged] == pytest.approx([10.0, 10.1, 10.2])
    assert merged[0].data == a[0].data


def test_not_a_pcap_is_refused():
    with pytest.raises(PcapError):
        read(b"hello")
    with pytest.raises(PcapError, match="magic"):
        read(b"\0" * 24)


def test_the_summary_counts_heartbeats_and_lists_garps_and_handshakes():
    records = [Record(1.0 + 0.2 * i, udp("10.1.30.11", "10.1.30.12", 1026, 1026), 43) for i in range(6)]
    records += [Record(2.0, arp(1, "10.1.10.100", "10.1.10.100"), 42),
                Record(2.5, tcp("10.1.1.11", "10.1.1.12", 5000, 4353, 0x02), 54)]
    s = summarise(sorted(records, key=lambda r: r.ts))
    assert s["heartbeats"] == [{"src": "10.1.30.11", "dst": "10.1.30.12", "count": 6, "mean_interval_ms": 200.0}]
    assert [g["address"] for g in s["garps"]] == ["10.1.10.100"]
    assert s["handshakes"][0]["step"] == "4353-syn"
    assert "10.1.10.100 is-at 02:00:00:00:00:01" in s["text"]


def test_the_summary_shows_connection_mirroring_a_channel_a_traffic_group():
    frames = [tcp("10.1.30.11", "10.1.30.12", 40000, 1029, 0x18, b"m" * 100),
              tcp("10.1.30.12", "10.1.30.11", 1029, 40000, 0x10),
              tcp("10.1.30.12", "10.1.30.11", 40001, 1030, 0x18, b"m" * 60)]   # traffic-group-2's, the other way
    assert classify(frames[0]).kind == "mirror"
    s = summarise([Record(1.0 + i, f, len(f)) for i, f in enumerate(frames)])
    assert s["mirroring"] == [{"src": "10.1.30.11", "dst": "10.1.30.12", "channel": 1029, "bytes": 100},
                              {"src": "10.1.30.12", "dst": "10.1.30.11", "channel": 1029, "bytes": 0},
                              {"src": "10.1.30.12", "dst": "10.1.30.11", "channel": 1030, "bytes": 60}]
    assert "10.1.30.11 -> 10.1.30.12 (channel 1029): 100 bytes" in s["text"]
