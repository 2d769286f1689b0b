"""DNS: queries per second and p99 latency of a topology wide IP on the GTM listener, measured
with dnsperf beside BIND 9 (one worker thread, a static A record) on the same lab; and how long a
data center's loss takes to change the answer. Prints JSON.

Both servers are reached from client-nyc across the same lab bridge: the GTM listener 10.30.0.53
(gtm1, through the client's route) and named on gtm2's address 10.20.1.12 in gtm2's namespace.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, dnsperf_figures, lab, percentile, wait

from lab.model import state
from lab.runtime.backends.netns import enter_netns
from lab.runtime.lab import Lab

GTM_3DC = ROOT / "topologies" / "gtm-3dc.yml"
SECONDS = float(os.environ.get("DNS_BENCH_SECONDS", "8"))
NAMED_CONF = """options {{ directory "{d}"; pid-file "{d}/named.pid"; listen-on port 53 {{ {addr}; }};
  listen-on-v6 {{ none; }}; recursion no; notify no; }};
zone "static.test" {{ type primary; file "{d}/static.db"; }};
"""
ZONE = """$TTL 30
@ IN SOA ns1 hostmaster 1 3600 600 86400 60
@ IN NS ns1
ns1 IN A 10.20.1.12
www IN A 10.10.9.9
"""


def netns_path(name: str, node: str) -> str:
    return f"/run/netns/{Lab.open(name).plan.node(node).netns}"


def dnsperf(name: str, server: str, qname: str, seconds: float, verbose: bool = False) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".q", delete=False) as f:
        f.write(f"{qname} A\n")
    args = ["dnsperf", "-s", server, "-d", f.name, "-l", str(seconds), "-c", "4", "-q", "200"]
    if verbose:
        args.append("-v")
    out = subprocess.run(args, preexec_fn=lambda: enter_netns(netns_path(name, "client-nyc")),
                         capture_output=True, text=True)
    os.unlink(f.name)
    result = dnsperf_figures(out.stdout + out.stderr)
    if verbose:
        lat = [float(l.split()[-1]) for l in out.stdout.splitlines() if l.startswith("> NOERROR")]
        result["p99_ms"] = round(percentile(lat, 99) * 1000, 3) if lat else None
        result["answered"] = len(lat)
    return result


def measure(name: str, server: str, qname: str) -> dict:
    figures = dnsperf(name, server, qname, SECONDS)
    figures.update({k: v for k, v in dnsperf(name, server, qname, 3, verbose=True).items()
                    if k in ("p99_ms", "answered")})
    return figures


def dig(name: str, client: str) -> str:
    out = Lab.open(name).run(client, ["dig", "+short", "+time=1", "+tries=1", "@10.30.0.53", "www.example.com"],
                        capture_output=True, text=True)
    return out.stdout.strip()


def main() -> None:
    with lab("gbench", "10.252.3.0/24", topology=GTM_3DC) as name:
        wait(lambda: dig(name, "client-nyc") == "10.10.1.100", timeout=30)
        gtm = measure(name, "10.30.0.53", "www.example.com")
        d = Path(tempfile.mkdtemp(prefix="gbench-named-"))
        (d / "named.conf").write_text(NAMED_CONF.format(d=d, addr="10.20.1.12"))
        (d / "static.db").write_text(ZONE)
        named = subprocess.Popen(["named", "-g", "-n", "1", "-u", "root", "-c", str(d / "named.conf")],
                                 preexec_fn=lambda: enter_netns(netns_path(name, "gtm2")),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait(lambda: subprocess.run(["dig", "+short", "+time=1", "+tries=1", "@10.20.1.12", "www.static.test"],
                                        preexec_fn=lambda: enter_netns(netns_path(name, "client-nyc")),
                                        capture_output=True, text=True).stdout.strip() == "10.10.9.9", timeout=20)
            bind = measure(name, "10.20.1.12", "www.static.test")
        finally:
            named.send_signal(signal.SIGTERM)
            named.wait(timeout=10)
            shutil.rmtree(d, ignore_errors=True)
        # a data center lost: both nyc web servers killed, until nyc's client is sent to lon
        started = time.monotonic()
        for web in ("web-nyc1", "web-nyc2"):
            os.kill(int((state.node_dir(name, web) / "web.pid").read_text()), signal.SIGKILL)
        wait(lambda: dig(name, "client-nyc") == "10.10.2.100", timeout=60, interval=0.05)
        loss = time.monotonic() - started
        started = time.monotonic()
        for web in ("web-nyc1", "web-nyc2"):
            Lab.open(name).start_server(web)
        wait(lambda: dig(name, "client-nyc") == "10.10.1.100", timeout=60, interval=0.05)
        back = time.monotonic() - started
    print(json.dumps({"gtm_topology_wideip": gtm, "bind9_static_a_one_thread": bind,
                      "gtm_to_bind_qps_ratio": round(gtm["qps"] / bind["qps"], 3),
                      "dc_loss_to_answer_change_s": round(loss, 2), "dc_return_to_answer_back_s": round(back, 2),
                      "monitor": "http interval 1 s timeout 3 s", "seconds": SECONDS}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
