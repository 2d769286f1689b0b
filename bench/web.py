"""Figures of the web view and the metrics (issue: see the lab), printed as JSON.

- fault to page: a fault injected from the Faults page's endpoint (a link pulled on the standby
  of an ha-pair) until the page's live part shows it, through the same server-sent events a
  browser listens to; median of 20 (and the repair back, the same way);
- idle CPU of the web server on gtm-3dc with one page open, over 30 s (aim < 2 % of a core);
- a metrics scrape of gtm-3dc: `biglab metrics`' /metrics for the whole lab, and one node's TS
  pull consumer (aim < 200 ms), median of 20.

    sudo .venv/bin/python bench/web.py [--only fault|idle|scrape]
"""
from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time

import httpx

from common import ROOT, lab, wait

GTM_3DC = ROOT / "topologies" / "gtm-3dc.yml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, *argv):
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "lab.cli", *argv, "--port", str(self.port)], cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def cpu_seconds(self) -> float:
        fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / 100.0   # utime + stime, in clock ticks


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code in (200, 307)
    except httpx.HTTPError:
        return False


class Page:
    """What a browser does: listen to the SSE stream and re-fetch the live part on each change."""

    def __init__(self, base: str, lab_name: str):
        self.base, self.lab = base, lab_name
        self.changes = threading.Condition()
        self.seq = 0
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        try:
            with httpx.stream("GET", f"{self.base}/lab/{self.lab}/events", timeout=None) as r:
                for line in r.iter_lines():
                    if line.startswith("event: change"):
                        with self.changes:
                            self.seq += 1
                            self.changes.notify_all()
        except httpx.HTTPError:
            pass   # the server stopped at the end of the run

    def wait_for(self, text: str, present: bool, timeout: float = 10.0) -> float:
        """Re-fetch the nodes fragment at each change until `text` is (or is not) in it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.changes:
                seen = self.seq
            html = httpx.get(f"{self.base}/lab/{self.lab}/fragment/nodes", timeout=5).text
            if (text in html) == present:
                return time.monotonic()
            with self.changes:
                self.changes.wait_for(lambda: self.seq != seen, timeout=deadline - time.monotonic())
        raise SystemExit(f"the page did not show {text!r} {'present' if present else 'gone'} in {timeout} s")


def fault_to_page(runs: int = 20) -> dict:
    with lab("bweb", "10.250.72.0/24") as name, Server("web", name) as web:
        wait(lambda: _up(f"{web.url}/lab/{name}/"), 20)
        page = Page(web.url, name)
        time.sleep(1)
        down, up = [], []
        marker = "bigip2:external"
        for _ in range(runs):
            t0 = time.monotonic()
            r = httpx.post(f"{web.url}/lab/{name}/fault", data={"verb": "link", "args": "bigip2:external down"})
            assert r.status_code == 200, r.text
            down.append(page.wait_for(marker, True) - t0)
            t0 = time.monotonic()
            r = httpx.post(f"{web.url}/lab/{name}/fault", data={"verb": "link", "args": "bigip2:external up"})
            assert r.status_code == 200, r.text
            up.append(page.wait_for(marker, False) - t0)
        return {"fault_to_page_median_ms": round(statistics.median(down) * 1000, 1),
                "fault_to_page_max_ms": round(max(down) * 1000, 1),
                "repair_to_page_median_ms": round(statistics.median(up) * 1000, 1), "runs": runs}


def idle_and_scrape(only: str | None) -> dict:
    out = {}
    with lab("bwg", "10.250.73.0/24", topology=GTM_3DC) as name:
        if only in (None, "idle"):
            with Server("web", name) as web:
                wait(lambda: _up(f"{web.url}/lab/{name}/"), 20)
                Page(web.url, name)             # one page open, listening
                time.sleep(5)                   # settled: bring-up's events are behind us
                cpu0, t0 = web.cpu_seconds(), time.monotonic()
                time.sleep(30)
                share = (web.cpu_seconds() - cpu0) / (time.monotonic() - t0)
                out["web_idle_cpu_percent_gtm_3dc"] = round(share * 100, 2)
        if only in (None, "scrape"):
            with Server("metrics", name) as metrics:
                wait(lambda: _up(f"{metrics.url}/metrics"), 20)
                times = []
                for _ in range(20):
                    t0 = time.monotonic()
                    body = httpx.get(f"{metrics.url}/metrics", timeout=10).text
                    times.append(time.monotonic() - t0)
                out["lab_metrics_scrape_median_ms_gtm_3dc"] = round(statistics.median(times) * 1000, 1)
                out["lab_metrics_series"] = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
            from lab.runtime.lab import Lab
            mgmt = Lab.open(name).node("gtm1").mgmt_address
            times = []
            for _ in range(20):
                t0 = time.monotonic()
                r = httpx.get(f"https://{mgmt}/mgmt/shared/telemetry/pullconsumer/Pull", verify=False,
                              auth=("admin", "admin"), timeout=10)
                times.append(time.monotonic() - t0)
                assert r.status_code == 200
            out["node_pullconsumer_scrape_median_ms_gtm1"] = round(statistics.median(times) * 1000, 1)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--only", choices=["fault", "idle", "scrape"])
    args = p.parse_args()
    figures = {}
    if args.only in (None, "fault"):
        figures.update(fault_to_page())
    if args.only in (None, "idle", "scrape"):
        figures.update(idle_and_scrape(args.only))
    figures["aims"] = {"web_idle_cpu_percent": 2.0, "scrape_ms": 200.0, "fault_to_page_ms": 1000.0}
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
