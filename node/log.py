"""Structured log lines, one JSON object a line, with F5 message ids where F5 has them.

`biglab logs` renders them the way /var/log/ltm reads on a BIG-IP:
`Nov 21 10:00:01 bigip1 notice iquery[812]: 01071038:5: text`.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

# syslog severities, as in the digit after an F5 message id ("010c0083:4:" is warning)
SEVERITY = {"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}


class Log:
    def __init__(self, path: Path | None, device: str, *, echo: bool = False):
        self.device = device
        self.echo = echo
        self._file = open(path, "a", buffering=1) if path else None

    def log(self, level: str, proc: str, text: str, msgid: str = "", **fields) -> dict:
        if level not in SEVERITY:
            raise ValueError(f"unknown log level {level!r}")
        entry = {"ts": round(time.time(), 3), "device": self.device, "level": level,
                 "proc": proc, "pid": os.getpid(), "id": msgid, "msg": text}
        entry.update(fields)
        line = json.dumps(entry, default=str)
        if self._file:
            self._file.write(line + "\n")
        if self.echo:
            print(render(entry), file=sys.stderr)
        return entry

    def close(self) -> None:
        if self._file:
            self._file.close()


def render(entry: dict) -> str:
    """One F5-style line for a structured entry."""
    stamp = dt.datetime.fromtimestamp(entry["ts"]).strftime("%b %d %H:%M:%S")
    msgid = f"{entry['id']}:{SEVERITY[entry['level']]}: " if entry.get("id") else ""
    return f"{stamp} {entry['device']} {entry['level']} {entry['proc']}[{entry['pid']}]: {msgid}{entry['msg']}"
