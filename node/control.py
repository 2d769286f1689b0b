"""The daemon's local control socket: one JSON request a line, one JSON answer a line.

The CLI (`biglab`) and, later, `tmsh` inside the node talk to the daemon through it. A unix socket
lives in the filesystem, so the host reaches it without entering the node's network namespace.
Answers are `{"ok": true, "result": ...}` or `{"ok": false, "error": "text"}`; a bad request gets
an error answer and the daemon keeps serving.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import trio

from .errors import CommandError   # what a command raises to refuse its arguments

MAX_REQUEST = 1024 * 1024


class ControlServer:
    def __init__(self, path: Path, commands: dict, log):
        self.path = Path(path)
        self.commands = commands  # name -> async fn(**args) -> JSON-able result
        self.log = log

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        if self.path.exists() or self.path.is_symlink():
            self.path.unlink()
        sock = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_STREAM)
        await sock.bind(str(self.path))
        os.chmod(self.path, 0o600)
        sock.listen(16)
        listener = trio.SocketListener(sock)
        async with trio.open_nursery() as nursery:
            task_status.started()
            await trio.serve_listeners(self._handle, [listener], handler_nursery=nursery)

    async def _handle(self, stream: trio.SocketStream) -> None:
        buf = bytearray()
        async with stream:
            try:
                while True:
                    data = await stream.receive_some(65536)
                    if not data:
                        return
                    buf += data
                    if len(buf) > MAX_REQUEST:
                        await stream.send_all(_answer(False, "request too large"))
                        return
                    while b"\n" in buf:
                        line, _, rest = bytes(buf).partition(b"\n")
                        buf = bytearray(rest)
                        await stream.send_all(await self.answer(line))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return

    async def answer(self, line: bytes) -> bytes:
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
                raise ValueError("a request is an object with a string 'cmd'")
        except ValueError as exc:
            return _answer(False, f"bad request: {exc}")
        command = self.commands.get(request["cmd"])
        if command is None:
            return _answer(False, f"unknown command {request['cmd']!r}")
        args = request.get("args") or {}
        if not isinstance(args, dict):
            return _answer(False, "'args' must be an object")
        try:
            return _answer(True, await command(**args))
        except CommandError as exc:
            return _answer(False, str(exc))
        except TypeError as exc:
            return _answer(False, f"bad arguments for {request['cmd']}: {exc}")
        except Exception as exc:  # never let one request take the daemon down
            self.log.log("err", "control", f"command {request['cmd']} failed: {type(exc).__name__}: {exc}")
            return _answer(False, f"{type(exc).__name__}: {exc}")


def _answer(ok: bool, value) -> bytes:
    body = {"ok": True, "result": value} if ok else {"ok": False, "error": value}
    return json.dumps(body, default=str).encode() + b"\n"
