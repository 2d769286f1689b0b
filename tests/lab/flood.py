"""Hostile traffic for the real-lab tests, run inside a lab node (`python -m tests.lab.flood KIND ...`):
bounded loops, to the lab address given, and a one-line JSON summary on stdout.

    hb-garbage ADDRESS COUNT                  datagrams to UDP 1026 that are no heartbeat
    hb-forge ADDRESS SECONDS DEVICE [JSON]    heartbeats claiming to be DEVICE (payload JSON), every 0.1 s
    dns-udp ADDRESS COUNT                     malformed DNS over UDP 53
    dns-tcp ADDRESS COUNT                     malformed DNS over TCP 53 (bad lengths, junk, early close)
    dns-slowloris ADDRESS CONNECTIONS SECONDS connections that send a byte now and then and never a query
    iq-frames ADDRESS COUNT CERTDIR           TLS connections to 4353, each sending malformed or truncated
                                              frames, with the certificate in CERTDIR (dtdi.crt/.key, a
                                              trusted device's) or, for CERTDIR "-", a self-signed one
    tls-idle ADDRESS PORT CONNECTIONS SECONDS TLS sessions opened one after another (handshake done,
                                              no certificate) and held idle for SECONDS
"""
from __future__ import annotations

import json
import random
import socket
import ssl
import struct
import sys
import tempfile
import time
from pathlib import Path

import dns.message
import msgpack

from lab.runtime.guard import guard_process, in_lab_node, lab_route

HB_PORT, DNS_PORT, IQ_PORT = 1026, 53, 4353


def garbage_heartbeats(rnd: random.Random):
    """Every shape of datagram that is not a heartbeat, and heartbeats whose fields are wrong."""
    shapes = [
        lambda: rnd.randbytes(rnd.randint(0, 1400)),
        lambda: msgpack.packb({"t": "hb", "v": 1, "device": "bigip2", "tgs": {}})[:rnd.randint(0, 20)],
        lambda: msgpack.packb([1, 2, 3]),
        lambda: msgpack.packb({"t": "hb"}),
        lambda: msgpack.packb({"t": "hb", "device": 7}),
        lambda: msgpack.packb({"t": "hb", "device": "nosuch", "tgs": {"traffic-group-1": "active"}}),
        lambda: msgpack.packb({"t": "hb", "device": "bigip2", "tgs": ["traffic-group-1"]}),
        lambda: b"\x91" * 4000,                       # arrays nested 4000 deep
        lambda: b"\xdd\xff\xff\xff\xff",              # an array that claims 4 billion items
        lambda: msgpack.packb({"t": "hb", "device": "x" * 4000}),
    ]
    while True:
        yield rnd.choice(shapes)()


def udp_flood(address: str, port: int, datagrams, count: int) -> dict:
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for data, _ in zip(datagrams, range(count)):
            try:
                s.sendto(data, (address, port))
                sent += 1
            except OSError:   # EMSGSIZE, ENOBUFS under load: the next one
                time.sleep(0.001)
    return {"sent": sent}


def hb_garbage(address: str, count: int) -> dict:
    return udp_flood(address, HB_PORT, garbage_heartbeats(random.Random(1026)), count)


def hb_forge(address: str, seconds: float, device: str, payload: str = "{}") -> dict:
    body = {"t": "hb", "v": 1, "device": device, "state": "active", "tgs": {"traffic-group-1": "active"},
            **json.loads(payload)}
    sent, end = 0, time.monotonic() + seconds
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        while time.monotonic() < end:
            s.sendto(msgpack.packb(body), (address, HB_PORT))
            sent += 1
            time.sleep(0.1)
    return {"sent": sent}


def bad_queries(rnd: random.Random):
    good = dns.message.make_query("www.example.com", "A", use_edns=0).to_wire()
    shapes = [
        lambda: rnd.randbytes(rnd.randint(0, 600)),
        lambda: good[:rnd.randint(0, len(good))],
        lambda: good[:2] + bytes([good[2] | 0x80]) + good[3:],               # a response
        lambda: good[:4] + b"\xff\xff" * 4 + good[12:],                     # counts that lie
        lambda: good[:12] + b"\xc0\x0c" + good[14:],                         # a compression loop
        lambda: good + rnd.randbytes(rnd.randint(1, 100)),
        lambda: bytes([good[0], good[1], good[2] | 0x78]) + good[3:],        # an unknown opcode
    ]
    while True:
        yield rnd.choice(shapes)()


def dns_udp(address: str, count: int) -> dict:
    return udp_flood(address, DNS_PORT, bad_queries(random.Random(53)), count)


def dns_tcp(address: str, count: int) -> dict:
    rnd, done = random.Random(5353), 0
    queries = bad_queries(rnd)
    for _ in range(count):
        with socket.create_connection((address, DNS_PORT), timeout=2) as s:
            q = next(queries)
            kind = rnd.randrange(5)
            try:
                if kind == 0:
                    s.sendall(struct.pack("!H", len(q)) + q)             # a bad query, framed right
                elif kind == 1:
                    s.sendall(struct.pack("!H", 65535) + q)              # a length that lies, then close
                elif kind == 2:
                    s.sendall(struct.pack("!H", 0) * 50)                 # empty messages
                elif kind == 3:
                    s.sendall(rnd.randbytes(rnd.randint(1, 3000)))       # no framing at all
                else:
                    s.sendall(b"\x00")                                   # half a length, then close
                s.settimeout(0.2)
                s.recv(65536)
            except OSError:
                pass
        done += 1
    return {"connections": done}


def dns_slowloris(address: str, connections: int, seconds: float) -> dict:
    held = []
    for _ in range(connections):
        try:
            held.append(socket.create_connection((address, DNS_PORT), timeout=2))
        except OSError:
            break
    end, dropped = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        for s in list(held):
            try:
                s.send(b"\x01")   # a length that never completes: one byte at a time
            except OSError:
                held.remove(s)
                dropped += 1
        time.sleep(1.0)
    for s in held:
        s.close()
    return {"connections": connections, "dropped_by_server": dropped}


def bad_frames(rnd: random.Random):
    """Frames that break the framing, the msgpack or the message, and messages that lie."""
    def frame(body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + body
    shapes = [
        lambda: rnd.randbytes(rnd.randint(1, 3000)),
        lambda: struct.pack(">I", 0xFFFFFFFF) + rnd.randbytes(100),              # over the frame limit
        lambda: struct.pack(">I", 100_000) + rnd.randbytes(rnd.randint(0, 1000)),  # truncated, then close
        lambda: frame(rnd.randbytes(rnd.randint(0, 500))),                      # not msgpack
        lambda: frame(msgpack.packb([1, 2, 3])),                                # not a map
        lambda: frame(msgpack.packb({"x": 1})),                                 # no "t"
        lambda: frame(msgpack.packb({"t": "nosuch"})),
        lambda: frame(msgpack.packb({"t": "cm-status", "seq": "x", "failover": 7})),
        lambda: frame(msgpack.packb({"t": "sync-push", "group": 5, "objects": "x"})),
        lambda: frame(b"\x91" * 4000),                                          # nested 4000 deep
        lambda: frame(msgpack.packb({"t": "ping"}))[:3],                        # half a header
    ]
    while True:
        yield rnd.choice(shapes)()


def self_signed(directory: Path) -> None:
    """A certificate from no trust domain: its own issuer."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "bigip2")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (directory / "dtdi.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "dtdi.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))


def iq_frames(address: str, count: int, certdir: str) -> dict:
    frames = bad_frames(random.Random(4353))
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) if certdir == "-" else Path(certdir)
        if certdir == "-":
            self_signed(directory)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        ctx.load_cert_chain(directory / "dtdi.crt", directory / "dtdi.key")
        done = refused = 0
        for _ in range(count):
            try:
                with socket.create_connection((address, IQ_PORT), timeout=2) as raw, \
                        ctx.wrap_socket(raw) as s:
                    s.sendall(next(frames))
                    s.settimeout(0.2)
                    s.recv(65536)
            except (OSError, ssl.SSLError):   # refused handshake, reset, timeout: the next one
                refused += 1
            done += 1
    return {"connections": done, "ended_in_error": refused}


def tls_idle(address: str, port: int, connections: int, seconds: float) -> dict:
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, connections + 256)), hard))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    held, failed = [], 0
    started = time.monotonic()
    for _ in range(connections):
        try:
            held.append(ctx.wrap_socket(socket.create_connection((address, port), timeout=5)))
        except (OSError, ssl.SSLError):
            failed += 1
    opened_s = time.monotonic() - started
    time.sleep(seconds)
    dropped = 0
    for s in held:
        try:
            s.setblocking(False)
            if s.recv(1) == b"":
                dropped += 1
        except (ssl.SSLWantReadError, BlockingIOError):
            pass
        except OSError:
            dropped += 1
        s.close()
    return {"opened": len(held), "failed": failed, "open_s": round(opened_s, 1), "closed_by_server": dropped}


KINDS = {"hb-garbage": (hb_garbage, str, int), "hb-forge": (hb_forge, str, float, str, str),
         "iq-frames": (iq_frames, str, int, str), "dns-udp": (dns_udp, str, int), "dns-tcp": (dns_tcp, str, int),
         "dns-slowloris": (dns_slowloris, str, int, float), "tls-idle": (tls_idle, str, int, int, float)}


def main(argv: list[str]) -> None:
    if not in_lab_node():   # from the host, on the management network: only to a lab that is up
        lab_route(argv[1])
        guard_process()
    fn, *types = KINDS[argv[0]]
    print(json.dumps(fn(*(t(a) for t, a in zip(types, argv[1:])))))


if __name__ == "__main__":
    main(sys.argv[1:])
