"""`biglab capture LAB VLAN`: a pcap of everything on one VLAN.

A Linux bridge device does not see unicast frames it forwards between its ports, so one tcpdump
runs on each port of the VLAN's bridge, in the lab's fabric namespace, capturing what enters the
bridge there (`-Q in`): each node's veth end, and the host's own veth end on a VLAN the host has an
address on. Every frame on the VLAN is sent by exactly one of them, so the merged capture has each
frame once, in time order.
"""
from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from ..model.errors import LabError
from ..runtime import namespaces
from ..runtime.lab import Lab, require_root
from .pcap import merge, read, summarise, write


def capture(lab: str, vlan: str, path: str | None = None, *, duration: float | None = None,
            count: int | None = None, summary: bool = False, say=print) -> dict | None:
    require_root()
    handle = Lab.open(lab)
    plan = handle.plan
    try:
        bridge = plan.bridge(vlan)
    except KeyError:
        raise LabError(f"lab {lab} has no VLAN {vlan!r} (VLANs: {', '.join(b.vlan for b in plan.bridges)})") from None
    out = Path(path) if path else handle.dir / f"capture-{vlan}.pcap"
    ports = [i.host_end for n in plan.nodes for i in n.interfaces if i.vlan == vlan]
    if bridge.host_address:
        ports.append(bridge.host_link()[1])
    parts, procs = [], []
    try:
        for ifname in ports:
            part = out.with_name(f".{out.name}.{ifname}")
            parts.append(part)
            with namespaces.inside(plan.fabric):   # started from there, tcpdump runs there
                proc = subprocess.Popen(["tcpdump", "-i", ifname, "-Q", "in", "-U", "-n", "-s", "0",
                                         "-Z", "root", "-w", str(part)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
            procs.append(proc)
            line = proc.stderr.readline()  # "listening on ...": capturing from here on
            if "listening" not in line:
                raise LabError(f"tcpdump on {ifname}: {line.strip() or proc.stderr.read().strip()}")
        say(f"capturing VLAN {vlan} of lab {lab} on {len(ports)} ports"
            + (f" for {duration:g} s" if duration else " (Ctrl-C to stop)"))
        started = time.monotonic()
        try:
            while duration is None or time.monotonic() - started < duration:
                if count is not None and _captured(parts) >= count:
                    break
                time.sleep(0.05)
        except KeyboardInterrupt:
            pass
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stderr.close()
    records = merge(*[read(p.read_bytes()) for p in parts if p.exists() and p.stat().st_size >= 24])
    if count is not None:
        records = records[:count]
    out.write_bytes(write(records))
    for p in parts:
        p.unlink(missing_ok=True)
    say(f"{len(records)} frames written to {out}")
    return summarise(records) if summary else None


def _captured(parts: list[Path]) -> int:
    total = 0
    for p in parts:
        try:
            total += len(read(p.read_bytes()))
        except (OSError, ValueError):
            pass
    return total
