"""An MQTT broker small enough to read (3.1.1 and 5.0: CONNACK, SUBACK, PUBACK, PINGRESP; each
PUBLISH sent on at QoS 0 to every connection subscribed to its topic) and a real client (paho-mqtt)
that subscribes and publishes through a virtual. Run in a lab namespace; they print JSON lines.

    python -m tests.lab.mqtt_peer broker ADDRESS PORT
    python -m tests.lab.mqtt_peer client VIP PORT       # MQTT 3.1.1, then 5.0
"""
from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import time


def varint(n: int) -> bytes:
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def packet(first: int, body: bytes) -> bytes:
    """One MQTT packet: its first byte (type and flags), the length, the body."""
    return bytes([first]) + varint(len(body)) + body


def _read(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = conn.recv(n - len(data))
        if not more:
            raise EOFError
        data += more
    return data


def _next(conn: socket.socket) -> tuple[int, bytes]:
    first = _read(conn, 1)[0]
    length, shift = 0, 0
    while True:
        b = _read(conn, 1)[0]
        length |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return first, _read(conn, length)


class Broker:
    def __init__(self):
        self.lock = threading.Lock()
        self.subscribers: list[tuple[socket.socket, str, int]] = []   # (connection, filter prefix, level)

    def serve(self, conn: socket.socket) -> None:
        level = 4
        try:
            while True:
                first, body = _next(conn)
                kind = first >> 4
                if kind == 1:    # CONNECT: its level is after the protocol name
                    level = body[2 + struct.unpack("!H", body[:2])[0]]
                    conn.sendall(packet(0x20, b"\x00\x00" + (b"\x00" if level == 5 else b"")))
                elif kind == 8:  # SUBSCRIBE
                    pid, at = body[:2], 2
                    if level == 5:
                        at += 1 + body[2]   # properties (short here)
                    granted = b""
                    while at < len(body):
                        n = struct.unpack("!H", body[at:at + 2])[0]
                        topic = body[at + 2:at + 2 + n].decode()
                        granted += bytes([body[at + 2 + n] & 3])
                        at += 3 + n
                        with self.lock:
                            self.subscribers.append((conn, topic.rstrip("#"), level))
                    conn.sendall(packet(0x90, pid + (b"\x00" if level == 5 else b"") + granted))
                elif kind == 3:  # PUBLISH
                    qos = (first >> 1) & 3
                    n = struct.unpack("!H", body[:2])[0]
                    topic, at = body[2:2 + n].decode(), 2 + n
                    if qos:
                        conn.sendall(packet(0x40, body[at:at + 2]))
                        at += 2
                    if level == 5:
                        at += 1 + body[at]
                    payload = body[at:]
                    print(json.dumps({"published": topic, "payload": payload.decode(errors="replace"),
                                      "level": level}), flush=True)
                    with self.lock:
                        targets = [(c, lv) for c, prefix, lv in self.subscribers if topic.startswith(prefix)]
                    for c, lv in targets:
                        c.sendall(packet(0x30, struct.pack("!H", len(topic.encode())) + topic.encode()
                                          + (b"\x00" if lv == 5 else b"") + payload))
                elif kind == 12:  # PINGREQ
                    conn.sendall(b"\xd0\x00")
                elif kind == 14:  # DISCONNECT
                    break
        except (EOFError, OSError):
            pass
        finally:
            with self.lock:
                self.subscribers = [s for s in self.subscribers if s[0] is not conn]
            conn.close()


def broker(address: str, port: int) -> None:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(8)
    listener.settimeout(30)   # ends when nobody has connected for 30 s
    b = Broker()
    print(json.dumps({"listening": port}), flush=True)
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            break
        threading.Thread(target=b.serve, args=(conn,), daemon=True).start()


def client(vip: str, port: int) -> None:
    import paho.mqtt.client as paho
    for version, name in ((paho.MQTTv311, "3.1.1"), (paho.MQTTv5, "5.0")):
        got: list = []
        c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"lab-{name}", protocol=version)
        c.username_pw_set("alice", "secret")
        subscribed = threading.Event()
        c.on_message = lambda _c, _u, msg: got.append([msg.topic, msg.payload.decode()])
        c.on_subscribe = lambda *_a: subscribed.set()
        c.connect(vip, port, keepalive=30)
        c.loop_start()
        try:
            c.subscribe("lab/#", qos=1)
            if not subscribed.wait(10):
                raise SystemExit("no SUBACK")
            c.publish("secret/key", b"hidden", qos=0)          # the iRule drops it
            c.publish("lab/t", f"hello {name}".encode(), qos=1).wait_for_publish(10)
            deadline = time.monotonic() + 10
            while not got and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            c.disconnect()
            c.loop_stop()
        print(json.dumps({"version": name, "got": got}), flush=True)


if __name__ == "__main__":
    {"broker": broker, "client": client}[sys.argv[1]](sys.argv[2], int(sys.argv[3]))
