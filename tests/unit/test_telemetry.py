"""F5 Telemetry Streaming on a node: the system poller's shape and the Prometheus pull consumer by
TS's naming rules (f5_ + key, labels from the path), read back with prometheus_client's parser."""
from __future__ import annotations

import copy
from types import SimpleNamespace

import httpx
from prometheus_client.parser import text_string_to_metric_families

from node import telemetry
from node.config.store import ConfigStore
from node.rest.app import RestApp
from node.rest.parts import Device
from node.status import NodeStatus
from tests.unit.test_rest_commands import Cluster
from tests.unit.test_status import FAILOVER

STATS = {"cur_conns": 2, "tot_conns": 9, "bytes_in": 100, "bytes_out": 300, "refused": 0}
STATUS = {
    "name": "bigip1", "kind": "bigip", "pid": 1, "mgmt": "10.0.0.1", "modules": ["ltm"], "uptime": 61.5,
    "clock": {"offset": 0.25, "drift_ppm": 0.0, "now": "2026-01-01T00:00:00+00:00"},
    "ntp": {"server": "10.0.0.254", "synchronized": True, "stratum": 2, "refid": "x", "poll": 16, "reach": "377",
            "when": 1.0, "offset_ms": -1.5, "delay_ms": 0.2, "last_sync": 1.0, "error": "", "drift_ppm": 0.0,
            "clock_offset": 0.0},
    "iquery": {"port": 4353, "inbound": [], "refused": [],
               "peers": {"bigip2": {"address": "10.0.0.2", "state": "connected", "code": "", "reason": "", "since": 1.0},
                         "gtm1": {"address": "10.0.0.3", "state": "disconnected", "code": "untrusted",
                                  "reason": "certificate not signed by the domain CA", "since": 1.0}},
               "trust": {"domain_ca": "ab", "authority": True, "generation": 1, "members": [],
                         "certificate": {"fingerprint": "ab", "not_after": "2026-01-02T00:00:00+00:00",
                                         "issuer": "CN=biglab"}}},
    "sync": {"status": "In Sync", "color": "green", "in_flight": [], "peers": {}, "synced": {}, "cid": None,
             "groups": {"dg1": {"status": "In Sync", "type": "sync-failover", "details": {}, "pairs": {}}}},
    "failover": {**FAILOVER, "state": "ACTIVE",
                 "peers": {"bigip2": {"alive": True, "state": "standby", "paths": {"10.1.30.12": "up"},
                                      "ages": {"10.1.30.12": 0.4}}}},
    "ltm": {"virtuals": {"vs": {"destination": "10.1.10.100:80", "pool": "web_pool", "availability": "available",
                                "reason": "The virtual server is available", "traffic_group": "traffic-group-1",
                                "serving": True, "stats": STATS}},
            "pools": {"web_pool": {"availability": "available", "reason": "", "mode": "round-robin",
                                   "monitor": "http", "stats": STATS,
                                   "members": {"10.1.20.21:80": {"availability": "available", "reason": "",
                                                                 "session": "monitor-enabled", "state": "up",
                                                                 "monitor": "up", "stats": STATS},
                                               "10.1.20.22:80": {"availability": "offline", "reason": "down",
                                                                 "session": "monitor-enabled", "state": "down",
                                                                 "monitor": "down", "stats": STATS}}}}},
    "gtm": None}
NOW = 1767225600.0   # 2026-01-01T00:00:00Z


def test_the_record_is_a_status_the_readers_accept():
    NodeStatus.from_dict(STATUS)


def test_the_system_poller_has_ts_keys_and_full_paths():
    data = telemetry.poller(STATUS, NOW)
    assert data["system"]["failoverStatus"] == "ACTIVE" and data["system"]["syncStatus"] == "In Sync"
    vs = data["virtualServers"]["/Common/vs"]
    assert vs["availabilityState"] == "available" and vs["clientside.bitsIn"] == 800 and vs["pool"] == "/Common/web_pool"
    pool = data["pools"]["/Common/web_pool"]
    assert pool["activeMemberCnt"] == 1 and pool["members"]["/Common/10.1.20.21:80"]["port"] == 80
    assert data["deviceGroups"]["/Common/dg1"]["syncStatus"] == "In Sync"
    assert data["sslCerts"]["dtdi.crt"]["expiresIn"] == 86400


def metrics(text: bytes) -> dict:
    """(name, labels) -> value; an empty label is no label, as Prometheus reads it."""
    return {(s.name, tuple(sorted((k, v) for k, v in s.labels.items() if v))): s.value
            for fam in text_string_to_metric_families(text.decode()) for s in fam.samples}


def test_prometheus_names_and_labels_follow_ts():
    m = metrics(telemetry.prometheus_text(telemetry.poller(STATUS, NOW)))
    assert m[("f5_clientside_curConns", (("virtualServers", "/Common/vs"),))] == 2
    member = (("members", "/Common/10.1.20.22:80"), ("pools", "/Common/web_pool"))
    assert m[("f5_available", member)] == 0
    assert m[("f5_activeMemberCnt", (("pools", "/Common/web_pool"),))] == 1
    assert m[("f5_system_failoverActive", ())] == 1 and m[("f5_system_syncInSync", ())] == 1
    assert m[("f5_system_ntpOffsetMs", ())] == -1.5
    assert m[("f5_open", (("iQueryChannels", "gtm1"),))] == 0
    assert m[("f5_open", (("iQueryChannels", "bigip2"),))] == 1
    assert m[("f5_heartbeatAge", (("heartbeatPaths", "bigip2 10.1.30.12"),))] == 0.4
    assert m[("f5_heartbeatUp", (("heartbeatPaths", "bigip2 10.1.30.12"),))] == 1
    assert m[("f5_expiresIn", (("sslCerts", "dtdi.crt"),))] == 86400
    assert not any(name == "f5_system_failoverStatus" for name, _ in m)   # strings are dropped, as TS does


def test_help_is_ts_original_key():
    docs = {fam.name: fam.documentation
            for fam in text_string_to_metric_families(telemetry.prometheus_text(telemetry.poller(STATUS, NOW)).decode())}
    assert docs["f5_clientside_curConns"] == "clientside.curConns"
    assert docs["f5_system_failoverActive"] == "system_failoverActive"


def test_a_standby_out_of_sync_reads_zero():
    st = copy.deepcopy(STATUS)
    st["failover"]["state"], st["sync"]["status"] = "standby", "Changes Pending"
    m = metrics(telemetry.prometheus_text(telemetry.poller(st, NOW)))
    assert m[("f5_system_failoverActive", ())] == 0 and m[("f5_system_failoverStandby", ())] == 1
    assert m[("f5_system_syncInSync", ())] == 0


def test_extra_labels_go_on_every_sample():
    m = metrics(telemetry.prometheus_text(telemetry.poller(STATUS, NOW), {"device": "bigip1"}))
    assert all(dict(labels).get("device") == "bigip1" for _, labels in m)


async def test_the_node_serves_the_pull_consumer_and_the_system_poller_over_rest():
    rest = RestApp(store=ConfigStore(None, "bigip1"), shell=None, cluster=Cluster(),
                   ltm=SimpleNamespace(members=lambda pool: []), device=Device("bigip1", "t", "10.0.0.1"),
                   admin={"username": "admin", "password": "admin"}, now=lambda: NOW, save_config=lambda: "",
                   status=lambda: STATUS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost",
                                 auth=("admin", "admin")) as c:
        r = await c.get("/mgmt/shared/telemetry/pullconsumer/My_Pull_Consumer")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        assert metrics(r.content)[("f5_system_failoverActive", ())] == 1
        r = await c.get("/mgmt/shared/telemetry/systempoller/My_Poller")
        assert r.json()[0]["system"]["failoverStatus"] == "ACTIVE"
        assert (await c.get("/mgmt/shared/telemetry/nothing/x")).status_code == 404
        r = await httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost").get(
            "/mgmt/shared/telemetry/pullconsumer/My_Pull_Consumer")
        assert r.status_code == 401


def test_dns_requests_and_answers_per_wide_ip_in_ts_shape():
    st = copy.deepcopy(STATUS)
    st["gtm"] = {"servers": {}, "listeners": {}, "answerer": {"queries": 5, "misses": 1, "cached": 1},
                 "wideips": {"a www.example.com": {"requests": 5, "resolutions": 4, "dropped": 1, "returnToDns": 0}}}
    data = telemetry.poller(st, NOW)
    assert data["aWideIps"]["/Common/www.example.com"]["requests"] == 5
    m = metrics(telemetry.prometheus_text(data))
    assert m[("f5_resolutions", (("aWideIps", "/Common/www.example.com"),))] == 4
    assert m[("f5_dropped", (("aWideIps", "/Common/www.example.com"),))] == 1
