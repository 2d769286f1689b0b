"""Metrics of a real ha-pair, read with prometheus_client's parser and checked against tmsh show:
each node's TS pull consumer over HTTPS, and `biglab metrics`' one endpoint for the lab."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import urllib.request

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from lab.runtime.lab import Lab

from tests.lab.conftest import HA_PAIR, ROOT, module_lab, wait_for

LAB = "twm"
lab = module_lab(HA_PAIR, LAB, "10.250.71.0/24")
GTM_LAB = "twmg"
gtm_lab = module_lab(ROOT / "topologies" / "gtm-3dc.yml", GTM_LAB, "10.250.90.0/24")


def parse(text: str) -> dict:
    """(name, labels without empty ones) -> value."""
    return {(s.name, tuple(sorted((k, v) for k, v in s.labels.items() if v))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def tmsh(node: str, line: str) -> str:
    return tmsh_in(LAB, node, line)


def settled() -> bool:
    h = Lab.open(LAB)
    states = sorted(h.status(n).failover.state for n in ("bigip1", "bigip2"))
    return states == ["active", "standby"] and all(h.status(n).sync.status == "In Sync" for n in ("bigip1", "bigip2"))


@pytest.mark.lab
def test_each_node_serves_the_ts_pull_consumer_as_tmsh_shows_it(lab):
    wait_for(settled, 30, what="one active, one standby, In Sync")
    for node in ("bigip1", "bigip2"):
        mgmt = Lab.open(LAB).node(node).mgmt_address
        r = httpx.get(f"https://{mgmt}/mgmt/shared/telemetry/pullconsumer/Pull_Consumer", verify=False,
                      auth=("admin", "admin"), timeout=5)
        assert r.status_code == 200, r.text
        m = parse(r.text)
        failover = tmsh(node, "show cm failover-status")
        active = bool(re.search(r"Status\s+ACTIVE", failover))
        assert m[("f5_system_failoverActive", ())] == int(active), failover
        assert m[("f5_system_syncInSync", ())] == int("In Sync" in tmsh(node, "show cm sync-status"))
        pool = tmsh(node, "show ltm pool web_pool")
        for member in ("10.1.20.21:80", "10.1.20.22:80"):
            labels = (("members", f"/Common/{member}"), ("pools", "/Common/web_pool"))
            shown = bool(re.search(rf"Member {re.escape(member)}\s+available", pool))
            assert m[("f5_available", labels)] == int(shown) == 1
        peer = "bigip2" if node == "bigip1" else "bigip1"
        assert m[("f5_open", (("iQueryChannels", peer),))] == 1
        assert m[("f5_expiresIn", (("sslCerts", "dtdi.crt"),))] > 360 * 86400


@pytest.mark.lab
def test_the_lab_endpoint_labels_every_series_by_device_and_follows_a_failover(lab):
    wait_for(settled, 30, what="one active, one standby, In Sync")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "lab.cli", "metrics", LAB, "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def scrape():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return parse(r.read().decode())
        m = wait_for(lambda: _try(scrape), 10, what="the metrics endpoint")
        assert m[("f5_up", (("device", "bigip1"),))] == 1 and m[("f5_up", (("device", "bigip2"),))] == 1
        active = next(n for n in ("bigip1", "bigip2") if m[("f5_system_failoverActive", (("device", n),))] == 1)
        standby = "bigip2" if active == "bigip1" else "bigip1"
        subprocess.run([sys.executable, "-m", "lab.cli", "chaos", LAB, "kill", active], cwd=ROOT, check=True,
                       capture_output=True)
        m = wait_for(lambda: (lambda m: m if m[("f5_up", (("device", active),))] == 0
                              and m.get(("f5_system_failoverActive", (("device", standby),))) == 1 else None)(scrape()),
                     15, what="the killed device down and the standby active in the metrics")
        assert "ACTIVE" in tmsh(standby, "show cm failover-status")
    finally:
        proc.terminate()
        proc.wait(5)
        subprocess.run([sys.executable, "-m", "lab.cli", "chaos", LAB, "reset"], cwd=ROOT, capture_output=True)


@pytest.mark.lab
def test_dns_requests_and_answers_per_wide_ip_count_what_dig_got(gtm_lab):
    h = Lab.open(GTM_LAB)

    def dig() -> list[str]:
        return h.run("client-nyc", ["dig", "+short", "+time=2", "+tries=1", "@10.30.0.53", "www.example.com"],
                     capture_output=True, text=True, timeout=20).stdout.split()

    wait_for(lambda: dig() == ["10.10.1.100"], 60, what="gtm1 answering www.example.com for nyc")
    mgmt = h.node("gtm1").mgmt_address
    labels = (("aWideIps", "/Common/www.example.com"),)

    def pulled() -> dict:
        r = httpx.get(f"https://{mgmt}/mgmt/shared/telemetry/pullconsumer/Pull_Consumer", verify=False,
                      auth=("admin", "admin"), timeout=5)
        return parse(r.text)
    before = pulled()
    answers = [dig() for _ in range(5)]
    assert answers == [["10.10.1.100"]] * 5
    after = pulled()
    assert after[("f5_requests", labels)] - before[("f5_requests", labels)] == 5
    assert after[("f5_resolutions", labels)] - before[("f5_resolutions", labels)] == 5
    shown = tmsh_in(GTM_LAB, "gtm1", "show gtm wideip a www.example.com")
    assert re.search(rf"Requests\s+{int(after[('f5_requests', labels)])}\b", shown), shown


def tmsh_in(lab: str, node: str, line: str) -> str:
    return Lab.open(lab).tmsh(node, line)


def _try(f):
    try:
        return f()
    except OSError:
        return None
