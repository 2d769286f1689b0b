"""A long-lived TCP stream for failover lessons: the client sends a counted byte pattern at a steady
rate, the server checks every byte and keeps the longest silence; each writes its counts to a JSON
status file (the server's has one entry a client, by its address and port), so a test or a
scenario compares them: bytes lost = sent - received, a reset ends the stream.

    python -m lab.runtime.stream server PORT STATUS [--background]     (on a server node)
    python -m lab.runtime.stream client HOST:PORT STATUS [--rate BYTES_PER_S] [--background]
    (--background: runs detached and prints its pid)
    python -m lab.runtime.stream stop STATUS                   (the client closes cleanly)
    python -m lab.runtime.stream show STATUS                   (prints the status)
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

CHUNK = 1024


def pattern(offset: int, n: int) -> bytes:
    return bytes((offset + i) % 251 for i in range(n))


def _write(path: str, status: dict) -> None:
    tmp = f"{path}.tmp"
    Path(tmp).write_text(json.dumps(status))
    os.replace(tmp, path)


def server(port: int, status_path: str) -> None:
    lst = socket.create_server(("0.0.0.0", port))
    streams: dict[str, dict] = {"pid": os.getpid()}
    lock = threading.Lock()

    def save():
        with lock:
            _write(status_path, streams)

    save()
    while True:
        conn, peer = lst.accept()
        st = streams[f"{peer[0]}:{peer[1]}"] = {"received": 0, "corrupt": 0, "max_gap_s": 0.0, "state": "open"}
        threading.Thread(target=_serve, args=(conn, st, save), daemon=True).start()


def _serve(conn: socket.socket, st: dict, save) -> None:
    last = time.monotonic()
    written = 0.0
    try:
        while True:
            data = conn.recv(65536)
            now = time.monotonic()
            if not data:
                st["state"] = "closed"
                break
            st["max_gap_s"] = round(max(st["max_gap_s"], now - last), 3)
            last = now
            if data != pattern(st["received"], len(data)):
                st["corrupt"] += 1
            st["received"] += len(data)
            if now - written > 0.1:
                save()
                written = now
    except OSError as exc:
        st["state"] = f"reset ({exc.strerror or exc})"
    save()
    conn.close()


def client(target: str, status_path: str, rate: int) -> None:
    host, port = target.rsplit(":", 1)
    st = {"pid": os.getpid(), "target": target, "sent": 0, "state": "connecting"}
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    _write(status_path, st)
    try:
        sock = socket.create_connection((host, int(port)), timeout=5)
        sock.settimeout(None)
        st["local"] = "%s:%d" % sock.getsockname()[:2]
        st["state"] = "open"
        _write(status_path, st)
        started = time.monotonic()
        while not stop.is_set():
            due = int((time.monotonic() - started) * rate)
            if st["sent"] < due:
                n = min(CHUNK, due - st["sent"])
                sock.sendall(pattern(st["sent"], n))
                st["sent"] += n
                _write(status_path, st)
            else:
                time.sleep(0.01)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(10)
        while sock.recv(4096):      # the server closes after it has read everything
            pass
        st["state"] = "closed"
    except OSError as exc:
        st["state"] = f"reset ({exc.strerror or exc})"
    _write(status_path, st)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m lab.runtime.stream")
    sub = p.add_subparsers(dest="verb", required=True)
    s = sub.add_parser("server")
    s.add_argument("port", type=int)
    s.add_argument("status")
    s.add_argument("--background", action="store_true")
    c = sub.add_parser("client")
    c.add_argument("target")
    c.add_argument("status")
    c.add_argument("--rate", type=int, default=20000)
    c.add_argument("--background", action="store_true")
    for verb in ("stop", "show"):
        sub.add_parser(verb).add_argument("status")
    a = p.parse_args(argv)
    if a.verb in ("server", "client") and a.background:
        child = os.fork()
        if child:
            print(child, flush=True)
            return 0
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
    if a.verb == "server":
        server(a.port, a.status)
    elif a.verb == "client":
        client(a.target, a.status, a.rate)
    elif a.verb == "stop":
        os.kill(json.loads(Path(a.status).read_text())["pid"], signal.SIGTERM)
    else:
        print(Path(a.status).read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
