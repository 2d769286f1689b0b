"""`biglab metrics LAB`: one Prometheus endpoint (/metrics, loopback) for the whole lab.

Each scrape asks every BIG-IP daemon for its status (the control socket, as `biglab status` does),
in parallel, and writes it by Telemetry Streaming's rules (node/telemetry.py) with a `device`
label on every series; `f5_up{device}` says whether the daemon answered.
"""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily

from node import telemetry

from ..runtime.control import ControlError
from ..runtime.lab import Lab


def _device_clock(status: dict) -> float:
    return dt.datetime.fromisoformat(status["clock"]["now"]).timestamp()


class LabCollector:
    def __init__(self, lab: Lab, timeout: float = 2.0):
        self.lab, self.timeout = lab, timeout
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="metrics")

    def _read(self, node: str) -> dict | None:
        try:
            return self.lab.status(node, timeout=self.timeout).to_dict()
        except (ControlError, OSError, ValueError):
            return None

    def collect(self):
        nodes = self.lab.bigips
        statuses = dict(zip(nodes, self.pool.map(self._read, nodes)))
        up = GaugeMetricFamily("f5_up", "the device's daemon answered", labels=["device"])
        merged: dict[str, list] = {}
        for node, status in statuses.items():
            up.add_metric([node], float(status is not None))
            if status is None:
                continue
            for name, samples in telemetry.families(telemetry.poller(status, _device_clock(status))).items():
                merged.setdefault(name, []).extend(({**labels, "device": node}, value) for labels, value in samples)
        yield up
        yield from telemetry.collect(merged)


def registry(lab: Lab) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(LabCollector(lab))
    return reg


def scrape(lab: Lab) -> bytes:
    return generate_latest(registry(lab))


def serve(lab: Lab, port: int, address: str = "127.0.0.1"):
    """Serve /metrics on the loopback (prometheus_client's own server, in a thread)."""
    return start_http_server(port, addr=address, registry=registry(lab))
