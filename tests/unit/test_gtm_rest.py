"""GTM objects in iControl REST as F5's device fixtures show them (f5-ansible's unit-test fixtures:
load_gtm_pool_a_default, load_gtm_pool_a_member_1, load_gtm_server_1, load_gtm_server_virtual_1,
load_gtm_monitor_http_1, load_gtm_global_settings_general_1), against a real ConfigStore."""
from __future__ import annotations

import httpx

from node.config.store import Op
from node.rest.app import RestApp
from test_icontrol import fake_parts

SERVER = {"name": "srv1", "datacenter": "/Common/dc1", "product": "generic-host",
          "addresses": [{"name": "10.1.10.5", "deviceName": "srv1", "translation": "none"}],
          "virtualServers": [{"name": "vs1", "destination": "4.4.4.4:0"}]}


def client(tmp_path):
    parts = fake_parts(tmp_path)
    parts["store"].commit([Op("create", "gtm datacenter", "/Common/dc1", {})])
    rest = RestApp(**parts)
    return parts["store"], httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app),
                                             base_url="https://localhost", auth=("admin", "admin"))


async def test_a_server_takes_what_bigip_gtm_server_sends_and_shows_f5_defaults(tmp_path):
    store, c = client(tmp_path)
    async with c:
        body = {**SERVER, "linkDiscovery": "disabled", "virtualServerDiscovery": "disabled", "iqAllowPath": "yes",
                "iqAllowServiceCheck": "yes", "iqAllowSnmp": "yes", "proberPreference": "inherit",
                "proberFallback": "inherit", "limitMaxBps": 0, "limitMaxBpsStatus": "disabled",
                "limitCpuUsage": 0, "limitCpuUsageStatus": "disabled", "limitMemAvail": 0,
                "limitMemAvailStatus": "disabled", "enabled": True}
        r = await c.post("/mgmt/tm/gtm/server", json=body)
        assert r.status_code == 200, r.text
        srv = r.json()
        assert (srv["linkDiscovery"], srv["exposeRouteDomains"], srv["limitMaxConnectionsStatus"]) == \
            ("disabled", "no", "disabled")
        vs = (await c.get("/mgmt/tm/gtm/server/~Common~srv1/virtual-servers/vs1")).json()
        assert (vs["kind"], vs["name"], vs["fullPath"], vs["destination"], vs["translationAddress"],
                vs["translationPort"], vs["enabled"]) == \
            ("tm:gtm:server:virtual-servers:virtual-serversstate", "vs1", "vs1", "4.4.4.4:0", "none", 0, True)


async def test_pool_members_use_member_order_and_pools_show_f5_defaults(tmp_path):
    store, c = client(tmp_path)
    async with c:
        await c.post("/mgmt/tm/gtm/server", json=SERVER)
        assert (await c.post("/mgmt/tm/gtm/pool/a", json={"name": "gp"})).status_code == 200
        member = {"name": "srv1:vs1", "partition": "Common", "memberOrder": 0, "monitor": "default",
                  "limitMaxConnections": 0, "limitMaxConnectionsStatus": "disabled", "enabled": True}
        r = await c.post("/mgmt/tm/gtm/pool/a/~Common~gp/members", json=member)
        assert r.status_code == 200, r.text
        pool = (await c.get("/mgmt/tm/gtm/pool/a/~Common~gp?expandSubcollections=true")).json()
        expected = {"alternateMode": "round-robin", "dynamicRatio": "disabled", "enabled": True, "fallbackIp": "any",
                    "fallbackMode": "return-to-dns", "limitMaxBps": 0, "limitMaxBpsStatus": "disabled",
                    "loadBalancingMode": "round-robin", "manualResume": "disabled", "maxAnswersReturned": 1,
                    "monitor": "default", "qosHitRatio": 5, "qosKilobytesSecond": 3, "qosLcs": 30, "qosRtt": 50,
                    "ttl": 30, "verifyMemberAvailability": "enabled"}
        assert {k: pool.get(k) for k in expected} == expected
        item = pool["membersReference"]["items"][0]
        assert (item["kind"], item["fullPath"], item["memberOrder"], item["ratio"], item["monitor"],
                item["limitMaxPpsStatus"]) == ("tm:gtm:pool:a:members:membersstate", "/Common/srv1:vs1", 0, 1,
                                               "default", "disabled")
        assert "order" not in item
        r = await c.patch("/mgmt/tm/gtm/pool/a/~Common~gp/members/~Common~srv1:vs1", json={"memberOrder": 3})
        assert r.json()["memberOrder"] == 3
        assert store.get("gtm pool a", "/Common/gp")["members"][0]["member-order"] == 3


async def test_wide_ip_pools_link_to_their_pool_and_last_resort_pool_carries_its_type(tmp_path):
    store, c = client(tmp_path)
    async with c:
        await c.post("/mgmt/tm/gtm/pool/a", json={"name": "gp"})
        r = await c.post("/mgmt/tm/gtm/wideip/a", json={"name": "www.example.com", "lastResortPool": "a /Common/gp",
                                                         "pools": [{"name": "gp", "partition": "Common",
                                                                    "order": 0, "ratio": 1}]})
        assert r.status_code == 200, r.text
        wip = r.json()
        assert wip["lastResortPool"] == "a /Common/gp"
        assert store.get("gtm wideip a", "/Common/www.example.com")["last-resort-pool"] == "/Common/gp"
        pool = wip["pools"][0]
        assert (pool["name"], pool["partition"], pool["order"]) == ("gp", "Common", 0)
        assert pool["nameReference"]["link"] == "https://localhost/mgmt/tm/gtm/pool/a/~Common~gp?ver=17.1.0"


async def test_topology_records_are_listed_in_evaluation_order(tmp_path):
    store, c = client(tmp_path)
    async with c:
        await c.post("/mgmt/tm/gtm/pool/a", json={"name": "gp"})
        wide = "ldns: subnet 10.0.0.0/8 server: pool /Common/gp"
        narrow = "ldns: subnet 10.1.0.0/16 server: pool /Common/gp"
        for name in (wide, narrow):   # created wide first
            assert (await c.post("/mgmt/tm/gtm/topology", json={"name": name, "score": 10})).status_code == 200
        names = [i["name"] for i in (await c.get("/mgmt/tm/gtm/topology")).json()["items"]]
        assert names == [narrow, wide]     # longest match first
        await c.patch("/mgmt/tm/gtm/global-settings/load-balancing", json={"topologyLongestMatch": "no"})
        names = [i["name"] for i in (await c.get("/mgmt/tm/gtm/topology")).json()["items"]]
        assert names == [wide, narrow]     # creation order


async def test_global_settings_groups_carry_f5s_keys(tmp_path):
    store, c = client(tmp_path)
    async with c:
        general = (await c.get("/mgmt/tm/gtm/global-settings/general")).json()
        assert (general["kind"], general["autoDiscovery"], general["heartbeatInterval"],
                general["synchronizationGroupName"], general["domainNameCheck"]) == \
            ("tm:gtm:global-settings:general:generalstate", "yes", 10, "default", "allow-underscore")
        lb = (await c.get("/mgmt/tm/gtm/global-settings/load-balancing")).json()
        assert (lb["topologyLongestMatch"], lb["topologyAllowZeroScores"]) == ("yes", "no")
        r = await c.patch("/mgmt/tm/gtm/global-settings/general", json={"topologyLongestMatch": "no"})
        assert r.status_code == 400          # a key of another group
        r = await c.patch("/mgmt/tm/gtm/global-settings/metrics", json={"pathTtl": 1200})
        assert r.json()["pathTtl"] == 1200


async def test_gtm_monitors_are_objects_with_f5s_properties(tmp_path):
    store, c = client(tmp_path)
    async with c:
        builtin = (await c.get("/mgmt/tm/gtm/monitor/http/~Common~http")).json()
        assert (builtin["kind"], builtin["defaultsFrom"], builtin["interval"], builtin["timeout"]) == \
            ("tm:gtm:monitor:http:httpstate", "none", 30, 120)
        body = {"defaultsFrom": "/Common/http", "interval": 30, "timeout": 120, "destination": "*:*",
                "transparent": "disabled", "probeTimeout": 5, "ignoreDownResponse": "disabled",
                "send": "GET /\\r\\n", "name": "gmon", "partition": "Common"}
        r = await c.post("/mgmt/tm/gtm/monitor/http", json=body)
        assert r.status_code == 200, r.text
        mon = r.json()
        assert {k: mon[k] for k in body if k not in ("name", "partition")} == \
            {k: v for k, v in body.items() if k not in ("name", "partition")}
        assert mon["reverse"] == "disabled"
        tcp = (await c.get("/mgmt/tm/gtm/monitor/tcp")).json()["items"]
        assert [m["fullPath"] for m in tcp] == ["/Common/tcp"]
        r = await c.post("/mgmt/tm/gtm/monitor/http", json={"name": "bad", "colour": "red"})
        assert r.status_code == 400 and "unexpected json pair" in r.json()["message"]
        assert store.get("gtm monitor http", "/Common/bad") is None


async def test_gtm_monitors_are_checked_where_pools_and_servers_name_them(tmp_path):
    store, c = client(tmp_path)
    async with c:
        r = await c.post("/mgmt/tm/gtm/pool/a", json={"name": "gp", "monitor": "/Common/gmon"})
        assert r.status_code == 400 and r.json()["message"] == \
            "01020036:3: The requested Monitor (/Common/gmon) was not found."
        r = await c.post("/mgmt/tm/gtm/monitor/tcp", json={"name": "gmon", "defaultsFrom": "/Common/nosuch"})
        assert r.status_code == 400 and "(/Common/nosuch)" in r.json()["message"]
        assert (await c.post("/mgmt/tm/gtm/monitor/tcp", json={"name": "gmon"})).status_code == 200
        r = await c.post("/mgmt/tm/gtm/pool/a", json={"name": "gp", "monitor": "min 1 of { /Common/gmon /Common/http }"})
        assert r.status_code == 200, r.text
        r = await c.delete("/mgmt/tm/gtm/monitor/tcp/~Common~gmon")
        assert r.status_code == 400 and r.json()["message"] == ("01070265:3: The Monitor (/Common/gmon) cannot be "
                                                                "deleted because it is in use by a Pool (/Common/gp).")
        assert store.get("gtm monitor tcp", "/Common/gmon") is not None


async def test_a_monitor_rule_is_shown_back_as_a_bigip_keeps_it(tmp_path):
    store, c = client(tmp_path)
    async with c:
        # bigip_gtm_pool strips the braces before it sends the rule; a BIG-IP shows them back
        r = await c.post("/mgmt/tm/gtm/pool/a", json={"name": "gp", "monitor": "min 1 of  /Common/http /Common/tcp"})
        assert r.json()["monitor"] == "min 1 of { /Common/http /Common/tcp }"
        r = await c.patch("/mgmt/tm/gtm/pool/a/~Common~gp", json={"monitor": "http and tcp"})
        assert r.json()["monitor"] == "/Common/http and /Common/tcp"


async def test_a_gtm_virtual_server_has_stats_with_its_status(tmp_path):
    from types import SimpleNamespace
    from node.gtm.view import MemberStatus
    parts = fake_parts(tmp_path)
    parts["store"].commit([Op("create", "gtm datacenter", "/Common/dc1", {})])
    seen = {("/Common/srv1", "vs1"): MemberStatus("available", "No monitor: checking disabled", True)}
    parts["gtm"] = SimpleNamespace(virtual_status=lambda server, vs: seen.get((server, vs)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=RestApp(**parts).app),
                                 base_url="https://localhost", auth=("admin", "admin")) as c:
        await c.post("/mgmt/tm/gtm/server", json=SERVER)
        r = await c.get("/mgmt/tm/gtm/server/~Common~srv1/virtual-servers/vs1/stats")
        assert r.status_code == 200, r.text
        (entry,) = r.json()["entries"].values()
        e = entry["nestedStats"]["entries"]
        assert (e["status.availabilityState"], e["status.enabledState"], e["metrics.vsScore"], e["picks"]) == \
            ({"description": "available"}, {"description": "enabled"}, {"value": 0}, {"value": 0})
        assert (await c.get("/mgmt/tm/gtm/server/~Common~srv1/virtual-servers/nosuch/stats")).status_code == 404
