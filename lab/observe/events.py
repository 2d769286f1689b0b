"""`biglab events LAB`: one timeline from every node's structured log and the faults injected.

Node daemons log state changes with an `event` field (channel-up/down, trust-*, sync-status,
failover, garp, monitor, ntp-*, clock-*...); the fault verbs append faults and repairs to the lab's
`chaos.jsonl`. Both are JSON lines with `ts`, so the timeline is a merge by time.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ..runtime.lab import Lab


def _read(path: Path, everything: bool) -> list[dict]:
    entries = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut by kill -9
                if isinstance(entry, dict) and "ts" in entry and (everything or entry.get("event")):
                    entries.append(entry)
    except FileNotFoundError:
        pass
    return entries


def timeline(lab: str, everything: bool = False, since: float | None = None) -> list[dict]:
    """Every state change (or, with `everything`, every log line) of the lab, oldest first."""
    handle = Lab.open(lab)
    entries = _read(handle.dir / "chaos.jsonl", True)
    for node in handle.bigips:
        entries += _read(handle.node_dir(node) / "log.jsonl", everything)
    if since is not None:
        entries = [e for e in entries if e["ts"] >= since]
    return collapse(sorted(entries, key=lambda e: e["ts"]))


def collapse(entries: list[dict]) -> list[dict]:
    """Drop an entry that repeats its device's previous entry word for word (a channel refused
    again at every redial); the first one stays."""
    last: dict[str, tuple] = {}
    out = []
    for e in entries:
        this = (e.get("event"), e.get("msg"))
        if e.get("event") and last.get(e.get("device")) == this:
            continue
        last[e.get("device")] = this
        out.append(e)
    return out


def render(entry: dict) -> str:
    stamp = dt.datetime.fromtimestamp(entry["ts"], tz=dt.timezone.utc).strftime("%H:%M:%S.%f")[:-3]
    kind = entry.get("event") or entry.get("level", "")
    msgid = f"{entry['id']}: " if entry.get("id") else ""
    return f"{stamp}  {entry.get('device', '?'):<8} {kind:<15} {msgid}{entry.get('msg', '')}"
