"""The client side of a daemon's control socket for the tools inside a node (tmsh, iqdump): one
JSON request a line, one JSON answer a line (node/control.py). Standard library only, so a tool
starts without the daemon's imports."""
from __future__ import annotations

import json
import socket


def call(path: str, cmd: str, **args) -> dict:
    """The daemon's answer: {"ok": true, "result": ...} or {"ok": false, "error": "text"}."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)
