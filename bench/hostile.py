"""Heartbeats under hostile traffic: the largest heartbeat gap on the wire, idle, while a lab
node floods bigip1 with garbage on UDP 1026 (on a heartbeat path), while the host floods
bigip1's 4353 (management address) with malformed and truncated frames over TLS, from an untrusted
(self-signed) certificate and from a trusted one (bigip2's own), and while the host holds 1,000
idle TLS sessions to REST (443) and to 4353 (twice each, the second once bigip1 has closed the
first's sessions: memory the first round took and the allocator kept is reused by the second, so
a leak shows as growth in the second), with bigip1's memory
(growth at the peak and after), the heartbeat paths its peer lost (F5's 010c0083) and the 4353
channels that dropped.

    python bench/hostile.py [--seconds 10] [--count 100000] [--connections 300] [--idle 1000]
                            [--idle-seconds 60]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, lab, lab_route, wait

from lab.model import state
from lab.model.plan import prefix
from lab.observe.capture import capture
from lab.observe.pcap import classify, read
from lab.runtime.control import node_status
from lab.runtime.lab import Lab

PATHS = {"ha": ("10.1.30.11", "10.1.30.12"), "internal": ("10.1.20.11", "10.1.20.12")}


def rss_kb(name: str, node: str) -> int:
    pid = (state.node_dir(name, node) / "daemon.pid").read_text().strip()
    return int(next(l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:")).split()[1])


def lost_paths(name: str) -> int:
    return sum((state.node_dir(name, n) / "log.jsonl").read_text().count('"010c0083"') for n in ("bigip1", "bigip2"))


def largest_gaps(pcaps: dict[str, Path]) -> dict[str, float]:
    """The largest interval between heartbeats of each flow (bigip1 -> bigip2 and back, per VLAN), ms."""
    out = {}
    for vlan, path in pcaps.items():
        b1, b2 = PATHS[vlan]
        for src, dst, label in ((b1, b2, "bigip1->bigip2"), (b2, b1, "bigip2->bigip1")):
            ts = [r.ts for r in read(path.read_bytes()) if (f := classify(r.data)).kind == "heartbeat"
                  and f.src.startswith(src + ":") and f.dst.startswith(dst + ":")]
            gaps = [b - a for a, b in zip(ts, ts[1:])]
            out[f"{vlan} {label}"] = round(max(gaps) * 1000, 1) if gaps else None
    return out


def sessions(name: str, port: int) -> int:
    """TCP connections bigip1 still holds on `port` (a session its client closed stays in
    CLOSE-WAIT until the server's own idle timeout)."""
    out = Lab.open(name).run("bigip1", ["ss", "-Htn", f"( sport = :{port} )"], capture_output=True, text=True)
    return len(out.stdout.splitlines())


def channel_drops(name: str) -> int:
    """4353 channels between the bigips that went down (not the flood's own, which end inbound-closed)."""
    logs = (state.node_dir(name, n) / "log.jsonl" for n in ("bigip1", "bigip2"))
    return sum(log.read_text().count('"channel-down"') for log in logs)


def flood(name: str, netns: str | None, *args: str) -> dict:
    """One bounded run of tests/lab/flood.py, in a lab node (or on the host, for management)."""
    argv = [sys.executable, "-m", "tests.lab.flood", *args]
    proc = subprocess.run((["ip", "netns", "exec", prefix(name) + netns] if netns else []) + argv, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def run(name: str, seconds: float, flood_args: list[str] | None, tmp: Path, netns: str | None = "web1",
        repeat: bool = True) -> dict:
    """`seconds` of capture while the flood runs again and again (once, unless `repeat`)."""
    label = "-".join(flood_args).replace("/", "_") if flood_args else "idle"
    pcaps = {vlan: tmp / f"{vlan}-{label}.pcap" for vlan in PATHS}
    threads = [threading.Thread(target=capture, args=(name, vlan, str(p)), kwargs={"duration": seconds,
                                                                                "say": lambda m: None})
               for vlan, p in pcaps.items()]
    rss, lost, bad = rss_kb(name, "bigip1"), lost_paths(name), node_status(name, "bigip1").failover.bad_heartbeats
    drops = channel_drops(name)
    peak, sampling = [rss], threading.Event()

    def sample() -> None:
        while not sampling.wait(0.5):
            peak.append(rss_kb(name, "bigip1"))
    threads.append(threading.Thread(target=sample))
    for t in threads:
        t.start()
    time.sleep(1)
    totals: dict[str, int] = {}
    started = time.monotonic()
    while flood_args and time.monotonic() - started < seconds - 2:
        for key, n in flood(name, netns, *flood_args).items():
            totals[key] = totals.get(key, 0) + n
        if not repeat:
            break
    flood_s = time.monotonic() - started
    for t in threads[:-1]:
        t.join()
    sampling.set()
    threads[-1].join()
    sent = totals.get("sent") or totals.get("connections") or 0
    return {"flood": totals, "flood_s": round(flood_s, 1), "per_s": round(sent / flood_s) if sent else 0,
            "counted_bad_by_bigip1": node_status(name, "bigip1").failover.bad_heartbeats - bad,
            "largest_heartbeat_gap_ms": largest_gaps(pcaps), "paths_lost_010c0083": lost_paths(name) - lost,
            "channel_drops_4353": channel_drops(name) - drops,
            "bigip1_rss_growth_kb": rss_kb(name, "bigip1") - rss, "bigip1_rss_peak_growth_kb": max(peak) - rss,
            "roles": {n: node_status(name, n).failover.traffic_groups["traffic-group-1"] for n in ("bigip1", "bigip2")}}


def floods(name: str, args, report: dict, mgmt: str, trusted: str, tmp: Path) -> None:
    """Garbage heartbeats on a heartbeat path; malformed 4353 frames, untrusted and trusted."""
    report["garbage_flood"] = run(name, args.seconds, ["hb-garbage", PATHS["internal"][0], str(args.count)], tmp)
    for label, certdir in (("iquery_frames_untrusted_cert", "-"), ("iquery_frames_trusted_cert", trusted)):
        report[label] = run(name, args.seconds, ["iq-frames", mgmt, str(args.connections), certdir], tmp, netns=None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--count", type=int, default=100_000, help="garbage datagrams per flood run")
    ap.add_argument("--connections", type=int, default=300, help="4353 connections per flood run")
    ap.add_argument("--idle", type=int, default=1000, help="idle TLS sessions held to 443 and to 4353")
    ap.add_argument("--idle-seconds", type=float, default=60.0,
                    help="capture of each idle-session round (opening them one by one, then holding a third)")
    ap.add_argument("--only", choices=["idle-tls"], help="only the idle TLS sessions to 443 and 4353 (and idle)")
    ap.add_argument("--name", default="bhost")
    ap.add_argument("--mgmt-subnet", default="10.252.67.0/24")
    args = ap.parse_args()
    with lab(args.name, args.mgmt_subnet) as name, tempfile.TemporaryDirectory() as tmp:
        wait(lambda: node_status(name, "bigip1").failover.traffic_groups.get("traffic-group-1") == "active", 30, 0.2)
        time.sleep(2)
        report = {"timeout_ms": node_status(name, "bigip1").failover.timeout * 1000,
                  "interval_ms": node_status(name, "bigip1").failover.interval * 1000,
                  "idle": run(name, args.seconds, None, Path(tmp))}
        mgmt, trusted = lab_route(Lab.open(name).node("bigip1").mgmt_address), str(state.node_dir(name, "bigip2"))
        if args.only != "idle-tls":
            floods(name, args, report, mgmt, trusted, Path(tmp))
        for port in (443, 4353):   # from the host, on the management network, as an admin's tools would
            for again in ("", "_again"):
                if again:
                    started = time.monotonic()
                    wait(lambda: sessions(name, port) <= 2, 120, 1.0)   # 4353: the peer's channels
                    report[f"tls_idle_{args.idle}_to_{port}_closed_by_bigip1_after_s"] = round(
                        time.monotonic() - started, 1)
                report[f"tls_idle_{args.idle}_to_{port}{again}"] = run(
                    name, args.idle_seconds, ["tls-idle", mgmt, str(port), str(args.idle), str(args.idle_seconds / 3)],
                    Path(tmp), netns=None, repeat=False)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
