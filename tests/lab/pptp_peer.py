"""The two ends of a PPTP call (RFC 2637) with no PPP behind them: the control messages the
kernel's pptp conntrack helper reads (Start-Control-Connection, Outgoing-Call) over TCP, then one
enhanced GRE packet each way carrying the call IDs. Run in a lab namespace; prints JSON lines.

    python -m tests.lab.pptp_peer pac ADDRESS PORT     # the server (PPTP access concentrator)
    python -m tests.lab.pptp_peer pns VIP PORT         # the client: after the call is set up it
                                                       # prints {"called": ...} and waits for a line
                                                       # on stdin before it sends its GRE
"""
from __future__ import annotations

import json
import socket
import struct
import sys

MAGIC = 0x1A2B3C4D
SCCRQ, SCCRP, OCRQ, OCRP = 1, 2, 7, 8
GRE_PPP, GRE_KEY_V1 = 0x880B, 0x2001   # enhanced GRE: key present, version 1


def control(kind: int, body: bytes) -> bytes:
    return struct.pack("!HHIHH", 12 + len(body), 1, MAGIC, kind, 0) + body


def exactly(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = s.recv(n - len(data))
        if not more:
            raise SystemExit("the control connection closed")
        data += more
    return data


def message(s: socket.socket, size: int, kind: int) -> bytes:
    data = exactly(s, size)
    length, _, magic, got = struct.unpack("!HHIH", data[:10])
    if (length, magic, got) != (size, MAGIC, kind):
        raise SystemExit(f"not the PPTP message {kind}: {data[:12].hex()}")
    return data


def gre(call_id: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", GRE_KEY_V1, GRE_PPP, len(payload), call_id) + payload


def receive_gre(g: socket.socket) -> tuple[str, int, bytes]:
    """(source, call ID in the key, payload) of the next PPTP GRE packet."""
    while True:
        data, addr = g.recvfrom(4096)
        packet = data[(data[0] & 15) * 4:]
        if len(packet) >= 8 and struct.unpack("!H", packet[2:4])[0] == GRE_PPP:
            return addr[0], struct.unpack("!H", packet[6:8])[0], packet[8:]


def pac(address: str, port: int) -> None:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(1)
    listener.settimeout(30)
    g = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_GRE)
    g.settimeout(20)
    print(json.dumps({"listening": port}), flush=True)
    c, peer = listener.accept()
    c.settimeout(20)
    message(c, 156, SCCRQ)
    c.sendall(control(SCCRP, struct.pack("!HBBIIHH64s64s", 0x100, 1, 0, 1, 1, 1, 1, b"pac", b"biglab")))
    request = message(c, 168, OCRQ)
    pns_call = struct.unpack("!H", request[12:14])[0]
    c.sendall(control(OCRP, struct.pack("!HHBBHIHHI", 0x4242, pns_call, 1, 0, 0, 100000000, 64, 0, 0)))
    source, key, payload = receive_gre(g)
    g.sendto(gre(pns_call, b"from-pac"), (source, 0))
    print(json.dumps({"control_from": peer[0], "pns_call": pns_call, "gre": [source, key, payload.decode()]}), flush=True)
    c.settimeout(10)
    try:
        c.recv(1)   # until the client hangs up
    except OSError:
        pass


def pns(vip: str, port: int) -> None:
    s = socket.create_connection((vip, port), timeout=10)
    s.sendall(control(SCCRQ, struct.pack("!HHIIHH64s64s", 0x100, 0, 1, 1, 0, 1, b"pns", b"biglab")))
    message(s, 156, SCCRP)
    s.sendall(control(OCRQ, struct.pack("!HHIIIIHHHH64s64s", 0x1111, 1, 300, 100000000, 3, 3, 64, 0, 0, 0, b"", b"")))
    reply = message(s, 32, OCRP)
    call, peer, result = struct.unpack("!HHB", reply[12:17])
    print(json.dumps({"called": [call, peer, result]}), flush=True)
    sys.stdin.readline()
    g = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_GRE)
    g.settimeout(10)
    g.sendto(gre(call, b"from-pns"), (vip, 0))
    source, key, payload = receive_gre(g)
    print(json.dumps({"gre": [source, key, payload.decode()]}), flush=True)
    s.close()


if __name__ == "__main__":
    {"pac": pac, "pns": pns}[sys.argv[1]](sys.argv[2], int(sys.argv[3]))
