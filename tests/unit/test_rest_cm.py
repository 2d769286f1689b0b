"""cm objects over iControl REST in F5's shapes (F5's device fixtures): device groups with their
devices subcollection, traffic groups with unitId and haOrder paths, cm devices with unicast
address records, and config-sync as Ansible sends it."""
from __future__ import annotations

from types import SimpleNamespace

import httpx

from node.config.store import ConfigStore, Op
from node.rest.app import RestApp
from node.iquery.trust import TrustError
from node.rest.parts import Device

from tests.unit.test_rest_commands import Cluster, Shell

DG = "/mgmt/tm/cm/device-group"


class Peers(Cluster):
    """bigip2 last told us (cm-status) it was active; its heartbeats since say standby."""

    def peers(self):
        return {"b2": {"device": {"management-ip": "10.9.9.12", "unicast-address": ["10.1.20.12"]},
                       "failover": {"state": "active"}}}

    def connected(self, name):
        return True

    def failover_status(self):
        return {**super().failover_status(), "peers": {"b2": {"alive": True, "state": "standby"}}}


def rest_app(cluster=None, shell=None, trust=None):
    store = ConfigStore(None, "b1")
    store.commit([Op("create", "cm device", "/Common/b1", {"management-ip": ("set", "10.9.9.11"),
                                                            "unicast-address": ("set", ["10.1.20.11"])})])
    return RestApp(store=store, shell=shell, cluster=cluster or Cluster(),
                   ltm=SimpleNamespace(members=lambda pool: []), device=Device("b1", "t", "10.9.9.11"),
                   admin={"username": "admin", "password": "admin"}, now=lambda: 1000.0, save_config=lambda: "",
                   trust=trust)


def client(rest):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost",
                             auth=("admin", "admin"))


async def test_a_device_group_as_f5_shows_it_with_its_devices_subcollection():
    async with client(rest_app()) as c:
        body = {"name": "dg1", "partition": "Common", "type": "sync-only", "autoSync": "disabled",
                "fullLoadOnSync": "false", "saveOnAutoSync": "false", "asmSync": "disabled", "description": "x"}
        assert (await c.post(DG + "/", json=body)).status_code == 200
        dg = (await c.get(DG + "/dg1")).json()
        assert dg["kind"] == "tm:cm:device-group:device-groupstate"
        assert {k: dg[k] for k in ("asmSync", "autoSync", "fullLoadOnSync", "incrementalConfigSyncSizeMax",
                                   "saveOnAutoSync", "type")} == {
            "asmSync": "disabled", "autoSync": "disabled", "fullLoadOnSync": "false",
            "incrementalConfigSyncSizeMax": 1024, "saveOnAutoSync": "false", "type": "sync-only"}
        assert "devices" not in dg and dg["devicesReference"]["isSubcollection"] is True
        assert dg["devicesReference"]["link"].startswith("https://localhost/mgmt/tm/cm/device-group/~Common~dg1/devices")
        r = await c.post(DG + "/dg1/devices/", json={"name": "b1"})
        assert r.status_code == 200 and r.json()["fullPath"] == "/Common/b1"
        items = (await c.get(DG + "/~Common~dg1/devices")).json()["items"]
        assert [(i["kind"], i["name"], i["fullPath"]) for i in items] == [
            ("tm:cm:device-group:devices:devicesstate", "b1", "/Common/b1")]
        assert (await c.get(DG + "/dg1/devices/b1")).status_code == 200
        assert (await c.delete(DG + "/dg1/devices/b1")).status_code == 200
        assert (await c.get(DG + "/dg1/devices/b1")).status_code == 404
        assert (await c.get(DG + "/dg1/devices")).json()["items"] == []


async def test_traffic_groups_number_their_units_and_keep_ha_order_as_device_paths():
    async with client(rest_app()) as c:
        tg1 = (await c.get("/mgmt/tm/cm/traffic-group/traffic-group-1")).json()
        assert {k: tg1[k] for k in ("autoFailbackEnabled", "autoFailbackTime", "failoverMethod", "haLoadFactor",
                                    "isFloating", "mac", "unitId")} == {
            "autoFailbackEnabled": "false", "autoFailbackTime": 60, "failoverMethod": "ha-order",
            "haLoadFactor": 1, "isFloating": "true", "mac": "none", "unitId": 1}
        assert "haOrder" not in tg1
        local = (await c.get("/mgmt/tm/cm/traffic-group/traffic-group-local-only")).json()
        assert (local["isFloating"], local["unitId"]) == ("false", 0)
        r = await c.post("/mgmt/tm/cm/traffic-group", json={"name": "tg2", "haOrder": ["/Common/b2", "b1"]})
        tg2 = r.json()
        assert tg2["unitId"] == 2 and tg2["haOrder"] == ["/Common/b2", "/Common/b1"]
        assert [x["link"] for x in tg2["haOrderReference"]] == [
            "https://localhost/mgmt/tm/cm/device/~Common~b2?ver=17.1.0",
            "https://localhost/mgmt/tm/cm/device/~Common~b1?ver=17.1.0"]


async def test_cm_devices_show_unicast_records_and_each_peers_heard_state():
    async with client(rest_app(Peers())) as c:
        items = {d["name"]: d for d in (await c.get("/mgmt/tm/cm/device")).json()["items"]}
        me, peer = items["b1"], items["b2"]
        assert me["selfDevice"] == "true" and peer["selfDevice"] == "false"
        assert me["unicastAddress"] == [{"effectiveIp": "10.1.20.11", "effectivePort": 1026, "ip": "10.1.20.11",
                                         "port": 1026}]
        assert peer["managementIp"] == "10.9.9.12" and peer["failoverState"] == "standby"
        assert me["mirrorIp"] == "any6" and me["marketingName"] == "BIG-IP Virtual Edition"
        r = await c.patch("/mgmt/tm/cm/device/b1", json={"unicastAddress": [{"ip": "10.1.20.21", "port": 1026}]})
        assert r.status_code == 200 and [u["ip"] for u in r.json()["unicastAddress"]] == ["10.1.20.21"]



async def test_a_devices_multicast_failover_path_in_f5s_names_and_bad_input_changes_nothing():
    async with client(rest_app(Peers())) as c:
        items = {d["name"]: d for d in (await c.get("/mgmt/tm/cm/device")).json()["items"]}
        assert (items["b1"]["multicastIp"], items["b1"]["multicastPort"]) == ("any6", 0)   # F5's: off
        assert "multicastInterface" not in items["b1"] and items["b2"]["multicastIp"] == "any6"
        r = await c.patch("/mgmt/tm/cm/device/b1", json={"multicastInterface": "eth0", "multicastIp": "10.1.1.1",
                                                         "multicastPort": 62960})
        assert r.status_code == 400 and "is not a multicast address" in r.json()["message"]
        r = await c.patch("/mgmt/tm/cm/device/b1", json={"multicastInterface": "eth0", "multicastIp": "224.0.0.245",
                                                         "multicastPort": 62960})
        assert r.status_code == 200
        assert (r.json()["multicastInterface"], r.json()["multicastIp"], r.json()["multicastPort"]) == \
            ("eth0", "224.0.0.245", 62960)

async def test_config_sync_takes_force_full_load_push_as_ansible_sends_it():
    shell = Shell()
    async with client(rest_app(shell=shell)) as c:
        for args in ("config-sync to-group dg-ha force-full-load-push", "config-sync to-group dg-ha "):
            r = await c.post("/mgmt/tm/cm", json={"command": "run", "utilCmdArgs": args})
            assert r.status_code == 200
        r = await c.post("/mgmt/tm/cm", json={"command": "run",
                                              "utilCmdArgs": "config-sync from-group dg-ha force-full-load-push"})
        assert r.status_code == 400
    assert shell.lines == ["run cm config-sync force-full-load-push to-group dg-ha",
                           "run cm config-sync to-group dg-ha"]


class Trust:
    """The trust domain as the join protocol would leave it (the protocol itself: tests/lab)."""

    def __init__(self):
        self.members = {"b1": "10.9.9.11"}
        self.calls = []

    def member_names(self):
        return set(self.members)

    async def add_device(self, address, username, password, role="peer"):
        self.calls.append(("add", address, username, password, role))
        if password != "admin":
            raise TrustError(f"{address}: authentication failed")
        self.members["b2"] = address
        return {"name": "b2", "address": address, "authority": role == "peer"}

    async def remove_device(self, device):
        self.calls.append(("remove", device))
        name = next((n for n, a in self.members.items() if device in (n, a)), None)
        if name is None:
            raise TrustError(f"device {device} is not in the trust domain")
        del self.members[name]
        return {"name": name}


async def test_add_to_and_remove_from_trust_as_bigip_device_trust_sends_them():
    trust = Trust()
    async with client(rest_app(trust=trust)) as c:
        r = await c.post(DG, json={"name": "dg", "devices": ["b1", "b2"]})
        assert r.status_code == 400 and "device b2 is not in the trust domain" in r.json()["message"]
        body = {"command": "run", "name": "Root", "caDevice": True, "device": "10.9.9.12", "deviceName": "b2",
                "username": "admin", "password": "nope"}
        r = await c.post("/mgmt/tm/cm/add-to-trust/", json=body)
        assert r.status_code == 400 and r.json()["message"] == "10.9.9.12: authentication failed"
        r = await c.post("/mgmt/tm/cm/add-to-trust/", json={**body, "password": "admin"})
        assert r.status_code == 200 and "password" not in r.json() and r.json()["deviceName"] == "b2"
        assert (await c.post(DG, json={"name": "dg", "devices": ["b1", "b2"]})).status_code == 200
        r = await c.post("/mgmt/tm/cm/add-to-trust/", json={**body, "caDevice": "yes"})
        assert r.status_code == 400 and "caDevice" in r.json()["message"]
        r = await c.post("/mgmt/tm/cm/remove-from-trust/", json={"command": "run", "name": "x",
                                                                 "deviceName": "10.9.9.12"})
        assert r.status_code == 200 and trust.member_names() == {"b1"}
        r = await c.post("/mgmt/tm/cm/remove-from-trust/", json={"command": "run", "deviceName": "b2"})
        assert r.status_code == 400
    assert trust.calls[1] == ("add", "10.9.9.12", "admin", "admin", "peer")


async def test_failover_status_details_read_as_a_bigip_prints_them():
    async with client(rest_app()) as c:
        body = (await c.get("/mgmt/tm/cm/failover-status")).json()
    entry = next(iter(body["entries"].values()))["nestedStats"]["entries"]
    details = next(v for k, v in entry.items() if k.endswith("/details"))["nestedStats"]["entries"]
    texts = [d["nestedStats"]["entries"]["details"]["description"] for d in details.values()]
    assert texts == ["active for /Common/traffic-group-1"]
    assert entry["summary"]["description"] == "1/1 active" and entry["status"]["description"] == "ACTIVE"


async def test_the_hidden_device_trust_group_lists_every_device_of_the_trust_domain():
    trust = Trust()
    trust.members["b2"] = "10.9.9.12"
    async with client(rest_app(trust=trust)) as c:
        names = [g["name"] for g in (await c.get(DG)).json()["items"]]
        assert names == ["device_trust_group"]
        g = (await c.get(DG + "/device_trust_group")).json()
        assert (g["type"], g["autoSync"], g["networkFailover"], g["fullLoadOnSync"]) == (
            "sync-only", "enabled", "disabled", "false")
        devices = (await c.get(DG + "/~Common~device_trust_group/devices")).json()["items"]
        assert [d["name"] for d in devices] == ["b1", "b2"]


async def test_every_traffic_group_has_stats_and_local_only_is_active_on_its_device():
    async with client(rest_app()) as c:
        body = (await c.get("/mgmt/tm/cm/traffic-group/~Common~traffic-group-local-only/stats")).json()
        rows = [e["nestedStats"]["entries"] for e in body["entries"].values()]
        assert [(r["deviceName"]["description"], r["failoverState"]["description"]) for r in rows] == [
            ("/Common/b1", "active")]
        all_ = (await c.get("/mgmt/tm/cm/traffic-group/stats")).json()["entries"]
        assert {e["nestedStats"]["entries"]["trafficGroup"]["description"] for e in all_.values()} == {
            "/Common/traffic-group-1", "/Common/traffic-group-local-only"}
