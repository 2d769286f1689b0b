"""The CLI's side of a node daemon's control socket (see node/control.py)."""
from __future__ import annotations

import json
import socket

from node.status import NodeStatus, read_part

from ..model import state


class ControlError(Exception):
    """The daemon answered with an error, or could not be reached."""


def call(lab: str, node: str, cmd: str, timeout: float = 10.0, **args):
    path = state.node_dir(lab, node) / "ctl.sock"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    raise ControlError(f"{node}: daemon closed the control socket")
                buf += chunk
    except FileNotFoundError:
        raise ControlError(f"{node}: daemon is not running (no control socket)") from None
    except ConnectionRefusedError:
        raise ControlError(f"{node}: daemon is not running (control socket refused)") from None
    except socket.timeout:
        raise ControlError(f"{node}: daemon did not answer {cmd!r} within {timeout:g} s") from None
    answer = json.loads(buf)
    if not answer.get("ok"):
        raise ControlError(f"{node}: {answer.get('error')}")
    return answer["result"]


def node_status(lab: str, node: str, timeout: float = 10.0) -> NodeStatus:
    """A BIG-IP daemon's status, typed as the daemon declares it (node/status.py)."""
    return NodeStatus.from_dict(call(lab, node, "status", timeout=timeout))


def status_part(lab: str, node: str, part: str, timeout: float = 10.0):
    """One part of a daemon's status ("sync", "failover"...), typed: cheaper than the whole."""
    return read_part(part, call(lab, node, "status", timeout=timeout, part=part))
