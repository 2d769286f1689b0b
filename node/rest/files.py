"""Files over iControl REST, as F5's Ansible modules and SDKs move them (bigip_ucs, bigip_ucs_fetch):

    POST /mgmt/shared/file-transfer/uploads/NAME        a chunk (Content-Range: start-end/size) of a
                                                        file, to /var/config/rest/downloads/NAME
    GET  /mgmt/shared/file-transfer/ucs-downloads/NAME  a chunk of /var/local/ucs/NAME
    POST /mgmt/tm/util/unix-mv                          `SRC DST` between those and /tmp
    POST /mgmt/tm/util/unix-rm                          `PATH` in one of them
    GET  /mgmt/tm/sys/ucs                               the archives; POST {"command": "save"|"load"}
    POST /mgmt/tm/task/sys/ucs, PUT .../ID, GET .../ID/result   `save` as an asynchronous task

The device's directories live under its state directory (node/sysconfig.py lays them out as a
BIG-IP does); nothing outside them is read or written.
"""
from __future__ import annotations

import itertools
import re
from pathlib import Path

from starlette.responses import Response

from ..errors import ConfigError
from ..sysconfig import DEVICE_DIRS, UCS, UPLOADS, ucs_item
from .errors import RestError, answer
from .resources import link
from .responses import json_response, not_registered

MAX_CHUNK = 16 * 1024 * 1024     # F5's Ansible modules send 7 MiB chunks
RANGE = re.compile(r"^(\d+)-(\d+)/(\d+)$")


class Files:
    def __init__(self, sysconfig):
        self.sysconfig = sysconfig
        self.root = Path(sysconfig.dir)
        self.tasks: dict[str, dict] = {}
        self.ids = itertools.count(1)

    def local(self, path: str) -> Path:
        """A device path in one of the device's directories -> where it is on this host."""
        local = self.sysconfig.local(path)
        if local is None:
            raise RestError(400, f"{path}: the lab moves files only between {', '.join(DEVICE_DIRS)}", 1)
        return local

    # -- /mgmt/shared/file-transfer ----------------------------------------------------------------
    def upload(self, name: str, headers, data: bytes) -> Response:
        target = self.local(f"{UPLOADS}/{name}")
        m = RANGE.match(headers.get("content-range", f"0-{max(len(data) - 1, 0)}/{len(data)}"))
        if not m:
            raise RestError(400, "Content-Range must be START-END/SIZE", 1)
        start, end, size = (int(x) for x in m.groups())
        if end - start + 1 != len(data) and not (size == 0 and not data):
            raise RestError(400, f"Content-Range {start}-{end} does not match the {len(data)} bytes sent", 1)
        target.parent.mkdir(parents=True, exist_ok=True)
        if start == 0:
            target.write_bytes(b"")
        with open(target, "r+b") as f:
            f.seek(start)
            f.write(data)
        got = target.stat().st_size
        return json_response({"remainingByteCount": max(size - got, 0), "usedChunks": {"0": got},
                              "totalByteCount": size, "localFilePath": f"{UPLOADS}/{name}",
                              "temporaryFilePath": f"{UPLOADS}/tmp.{name}", "generation": 0,
                              "lastUpdateMicros": 0})

    def download(self, name: str, headers) -> Response:
        source = self.local(f"{UCS}/{name}")
        if not source.exists():
            raise RestError(404, f"{UCS}/{name} was not found", 1)
        data = source.read_bytes()
        m = RANGE.match(headers.get("content-range", "")) or RANGE.match(f"0-{max(len(data) - 1, 0)}/0")
        start, end = int(m.group(1)), min(int(m.group(2)), max(len(data) - 1, 0))
        response = Response(data[start:end + 1], media_type="application/octet-stream")
        # spelt as a BIG-IP sends it: Ansible's F5 client reads headers from a case-sensitive dict
        response.raw_headers.append((b"Content-Range", f"{start}-{end}/{len(data)}".encode()))
        return response

    # -- /mgmt/tm ---------------------------------------------------------------------------------
    def unix_mv(self, body: dict) -> Response:
        words = str(body.get("utilCmdArgs", "")).split()
        if body.get("command") != "run" or len(words) != 2:
            raise RestError(400, 'unix-mv takes {"command": "run", "utilCmdArgs": "SRC DST"}', 1)
        src, dst = (self.local(w) for w in words)
        if not src.exists():
            raise RestError(400, f"mv: cannot stat '{words[0]}': No such file or directory", 1)
        dst.parent.mkdir(parents=True, exist_ok=True)
        src.replace(dst)
        return json_response({"kind": "tm:util:unix-mv:runstate", "command": "run", "utilCmdArgs": body["utilCmdArgs"]})

    def unix_rm(self, body: dict) -> Response:
        path = str(body.get("utilCmdArgs", "")).strip()
        if body.get("command") != "run" or not path or " " in path:
            raise RestError(400, 'unix-rm takes {"command": "run", "utilCmdArgs": "PATH"}', 1)
        local = self.local(path)
        if not local.exists():
            raise RestError(400, f"rm: cannot remove '{path}': No such file or directory", 1)
        local.unlink()
        return json_response({"kind": "tm:util:unix-rm:runstate", "command": "run", "utilCmdArgs": path})

    def ucs(self, method: str, body) -> Response:
        if method == "GET":
            return json_response({"kind": "tm:sys:ucs:ucscollectionstate", "selfLink": link("/mgmt/tm/sys/ucs"),
                                  "items": [ucs_item(p) for p in self.sysconfig.ucs_list()]})
        if method != "POST" or not isinstance(body, dict) or body.get("command") not in ("save", "load"):
            raise RestError(400, 'sys ucs takes GET, or POST {"command": "save"|"load", "name": NAME}', 1)
        self._run(body)
        return json_response({"kind": "tm:sys:ucs:runstate", "command": body["command"], "name": body.get("name")})

    def _run(self, body: dict) -> None:
        name = str(body.get("name") or "")
        try:
            if body["command"] == "save":
                self.sysconfig.ucs_save(name)
            else:
                options = {k for o in body.get("options") or [] if isinstance(o, dict) for k in o}
                self.sysconfig.ucs_load(name, reset_trust="reset-trust" in options)
        except ConfigError as exc:
            raise answer(exc) from None

    def task(self, rest: list[str], method: str, body) -> Response:
        """bigip_ucs_fetch's `save` task: created, started with _taskState VALIDATING, then read."""
        if not rest and method == "POST":
            if not isinstance(body, dict) or body.get("command") != "save" or not body.get("name"):
                raise RestError(400, 'a sys ucs task is {"command": "save", "name": NAME}', 1)
            tid = str(next(self.ids))
            self.tasks[tid] = {**body, "_taskId": tid, "_taskState": "CREATED"}
            return json_response(self._task_view(tid))
        tid = rest[0] if rest else ""
        if tid not in self.tasks:
            raise RestError(404, f"Task not found - ID: {tid}", 1)
        if len(rest) == 1 and method == "PUT":
            if not isinstance(body, dict) or body.get("_taskState") != "VALIDATING":
                raise RestError(400, 'a task starts with {"_taskState": "VALIDATING"}', 1)
            try:
                self._run(self.tasks[tid])
                self.tasks[tid]["_taskState"] = "COMPLETED"
            except RestError as exc:
                self.tasks[tid].update(_taskState="FAILED", _taskResultMessage=exc.message)
            return json_response(self._task_view(tid), 202)
        if method == "GET" and rest[1:] in ([], ["result"]):
            return json_response(self._task_view(tid))
        if method == "DELETE" and len(rest) == 1:
            return json_response(self.tasks.pop(tid))
        raise not_registered(f"/mgmt/tm/task/sys/ucs/{'/'.join(rest)}")

    def _task_view(self, tid: str) -> dict:
        t = self.tasks[tid]
        return {**t, "kind": "tm:task:sys:ucs:ucstaskstate", "selfLink": link(f"/mgmt/tm/task/sys/ucs/{tid}")}
