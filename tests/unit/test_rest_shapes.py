"""F5's REST shapes for what automation reads first (F5's device fixtures, keys and defaults)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from node.config.store import ConfigStore
from node.daemon import base_config
from node.rest.app import RestApp
from node.rest.parts import Device
from node.rest.errors import RestError
from node.settings import NodeConfig


def rest_of(modules=()) -> tuple[RestApp, ConfigStore]:
    config = NodeConfig("b1", "t", "bigip", Path("/nonexistent"), "10.9.9.11",
                        interfaces={"internal": {"address": "10.0.0.11/24"}}, modules=modules)
    store = ConfigStore(None, "b1")
    store.commit(base_config(config))
    rest = RestApp(store=store, shell=None, cluster=None, ltm=SimpleNamespace(members=lambda pool: []),
                   device=Device("b1", "t", "10.9.9.11"), admin={"username": "admin", "password": "admin"},
                   now=lambda: 0.0, save_config=lambda: None)
    return rest, store


def client(rest: RestApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost",
                             auth=("admin", "admin"))


async def test_sys_provision_lists_every_module_with_the_nodes_modules_nominal():
    rest, _ = rest_of(modules=("gtm",))
    async with client(rest) as c:
        r = await c.get("/mgmt/tm/sys/provision")
        assert r.status_code == 200 and r.json()["kind"] == "tm:sys:provision:provisioncollectionstate"
        levels = {i["name"]: i["level"] for i in r.json()["items"]}
        assert levels["ltm"] == levels["gtm"] == "nominal"
        assert levels["asm"] == levels["apm"] == levels["afm"] == "none" and len(levels) == 16
        ltm = (await c.get("/mgmt/tm/sys/provision/ltm")).json()
        assert {k: ltm[k] for k in ("kind", "name", "fullPath", "level", "cpuRatio", "diskRatio", "memoryRatio")} == {
            "kind": "tm:sys:provision:provisionstate", "name": "ltm", "fullPath": "ltm", "level": "nominal",
            "cpuRatio": 0, "diskRatio": 0, "memoryRatio": 0}
        assert "partition" not in ltm and ltm["selfLink"].startswith("https://localhost/mgmt/tm/sys/provision/ltm?")
    rest, _ = rest_of()
    async with client(rest) as c:
        assert (await c.get("/mgmt/tm/sys/provision/gtm")).json()["level"] == "none"


async def test_ltm_objects_take_and_echo_f5s_full_property_sets():
    rest, store = rest_of()
    async with client(rest) as c:
        r = await c.post("/mgmt/tm/ltm/node", json={"name": "n1", "address": "10.0.0.31", "ratio": 1,
                                                    "session": "user-enabled", "state": "user-up"})
        assert r.status_code == 200, r.text
        node = (await c.get("/mgmt/tm/ltm/node/~Common~n1")).json()
        assert {k: node[k] for k in ("ratio", "connectionLimit", "dynamicRatio", "logging", "rateLimit")} == {
            "ratio": 1, "connectionLimit": 0, "dynamicRatio": 1, "logging": "disabled", "rateLimit": "disabled"}
        r = await c.post("/mgmt/tm/ltm/pool", json={"name": "p1", "monitor": "/Common/http", "minActiveMembers": 0,
                                                    "minUpMembers": 0, "minUpMembersAction": "failover",
                                                    "minUpMembersChecking": "disabled"})
        pool = r.json()
        assert r.status_code == 200 and (pool["slowRampTime"], pool["serviceDownAction"], pool["allowSnat"]) == (
            10, "none", "yes")
        r = await c.post("/mgmt/tm/ltm/monitor/http", json={"name": "m1", "defaultsFrom": "/Common/http",
                                                            "interval": 5, "timeout": 16})
        assert r.status_code == 200 and r.json()["destination"] == "*:*" and r.json()["timeUntilUp"] == 0
        r = await c.post("/mgmt/tm/ltm/virtual-address", json={"name": "10.0.0.101", "address": "10.0.0.101",
                                                               "mask": "255.255.255.255", "enabled": "yes"})
        assert r.status_code == 200 and r.json()["mask"] == "255.255.255.255" and r.json()["autoDelete"] == "true"
        body = {"name": "v1", "destination": "/Common/10.0.0.102:80", "pool": "/Common/p1", "ipProtocol": 6,
                "sourceAddressTranslation": {"type": "automap"}, "rateLimitMode": "object",
                "metadata": [{"name": "f5-ansible.version", "value": "2.19.14", "persist": "true"}]}
        r = await c.post("/mgmt/tm/ltm/virtual", json=body)
        assert r.status_code == 200, r.text
        v = (await c.get("/mgmt/tm/ltm/virtual/~Common~v1")).json()
        assert (v["ipProtocol"], v["sourceAddressTranslation"], v["rateLimitMode"]) == ("tcp", {"type": "automap"},
                                                                                      "object")
        assert v["metadata"] == [{"name": "f5-ansible.version", "value": "2.19.14", "persist": "true"}]
        r = await c.patch("/mgmt/tm/ltm/virtual/~Common~v1", json={"sourceAddressTranslation": {"colour": "red"}})
        assert r.status_code == 400 and "unexpected json pair" in r.json()["message"]
        assert store.get("ltm virtual", "/Common/v1")["source-address-translation"] == {"type": "automap"}


def test_tmsh_record_property_parses_and_prints_as_a_block():
    from node.config.tmsh import parse, render
    cmd = parse("modify ltm virtual v1 source-address-translation { type automap }")
    assert cmd.values["source-address-translation"] == ("set", {"type": "automap"})
    text = render("ltm virtual", "/Common/v1", {"destination": "/Common/10.0.0.1:80",
                                                "source-address-translation": {"type": "automap"}})
    assert "    source-address-translation {\n        type automap\n    }" in text


def test_util_bash_answers_tmsh_in_both_forms_and_the_read_only_commands_modules_send():
    from node.rest.bash import Fact, Tmsh, plan
    assert plan('-c "tmsh -c \\"cd /Common; show sys version; list ltm pool\\""') == [
        Tmsh("cd /Common; show sys version; list ltm pool")]     # tmsh runs the script, its cd included
    assert plan('-c "tmsh list ltm node; tmsh list ltm pool"') == [Tmsh("list ltm node"), Tmsh("list ltm pool")]
    assert plan('-c "runlevel"') == [Fact("runlevel")]
    assert plan('-c "ps aux | grep \'[m]prov\'"') == [Fact("provisioning")]
    assert plan('-c "cat /VERSION"') == [Fact("version")]
    with pytest.raises(RestError):
        plan('-c "ps aux | grep sshd"')


async def test_util_bash_facts_come_from_the_node():
    rest, _ = rest_of()
    async with client(rest) as c:
        def run(cmd):
            return c.post("/mgmt/tm/util/bash", json={"command": "run", "utilCmdArgs": f'-c "{cmd}"'})
        assert (await run("runlevel")).json()["commandResult"] == "N 3\n"
        assert "commandResult" not in (await run("ps aux | grep '[m]prov'")).json()   # nothing printed
        version = (await run("cat /VERSION")).json()["commandResult"]
        assert "Product: BIG-IP\n" in version and "Version: 17.1.0\n" in version and "Build: 0.0.6\n" in version
        assert (await c.get("/mgmt/tm/sys/available")).status_code == 200


async def test_built_in_profiles_tunnels_and_the_common_partition_are_there():
    rest, store = rest_of()
    async with client(rest) as c:
        for kind_, name in (("client-ssl", "clientssl"), ("server-ssl", "serverssl"), ("fastl4", "fastL4"),
                            ("fasthttp", "fasthttp"), ("http", "http"), ("one-connect", "oneconnect")):
            items = (await c.get(f"/mgmt/tm/ltm/profile/{kind_}/")).json()["items"]
            assert f"/Common/{name}" in [i["fullPath"] for i in items]
        assert [i["fullPath"] for i in (await c.get("/mgmt/tm/net/tunnels/gre")).json()["items"]] == ["/Common/gre"]
        common = (await c.get("/mgmt/tm/auth/partition/Common")).json()
        assert (common["name"], common["fullPath"], common["defaultRouteDomain"]) == ("Common", "Common", 0)
        r = await c.post("/mgmt/tm/ltm/profile/http/", json={"name": "h1", "defaultsFrom": "/Common/http",
                                                             "insertXforwardedFor": "enabled"})
        assert r.status_code == 200 and r.json()["hsts"]["maximumAge"] == 16070400
        assert r.json()["serverAgentName"] == "BigIP" and r.json()["insertXforwardedFor"] == "enabled"
        assert (await c.get("/mgmt/tm/ltm/profile/http/~Common~http")).json()["defaultsFrom"] == "none"


async def test_a_snatpool_lists_full_paths_and_makes_a_snat_translation_per_address():
    rest, store = rest_of()
    async with client(rest) as c:
        r = await c.post("/mgmt/tm/ltm/snatpool/", json={"name": "sp", "members": ["/Common/10.0.0.51", "10.0.0.50"]})
        assert r.status_code == 200, r.text
        assert r.json()["members"] == ["/Common/10.0.0.51", "/Common/10.0.0.50"]
        assert [m["link"].split("?")[0] for m in r.json()["membersReference"]] == [
            "https://localhost/mgmt/tm/ltm/snat-translation/~Common~10.0.0.51",
            "https://localhost/mgmt/tm/ltm/snat-translation/~Common~10.0.0.50"]
        assert store.get("ltm snat-translation", "/Common/10.0.0.50")["address"] == "10.0.0.50"
        r = await c.post("/mgmt/tm/ltm/snatpool/", json={"name": "sp2", "members": ["/Common/nosuch"]})
        assert r.status_code == 400 and "The requested SNAT Translation (/Common/nosuch) was not found" in r.text
        assert store.get("ltm snatpool", "/Common/sp2") is None


async def test_sys_db_variables_are_named_without_a_folder_and_take_a_value():
    rest, store = rest_of()
    async with client(rest) as c:
        db = (await c.get("/mgmt/tm/sys/db/setup.run")).json()
        assert (db["kind"], db["name"], db["fullPath"], db["value"], db["defaultValue"]) == (
            "tm:sys:db:dbstate", "setup.run", "setup.run", "false", "true")
        r = await c.patch("/mgmt/tm/sys/db/ui.advisory.enabled", json={"value": "true"})
        assert r.status_code == 200 and r.json()["value"] == "true"


def test_net_routes_go_through_data_vlan_gateways_only():
    import ipaddress
    from node.routes import wanted
    mgmt = ipaddress.ip_network("10.1.1.0/24")
    routes = {"/Common/r1": {"network": "10.9.9.0/24", "gw": "10.0.0.1", "mtu": 0},
              "/Common/r2": {"network": "default", "gw": "10.0.0.254", "mtu": 1400},
              "/Common/viamgmt": {"network": "10.8.0.0/16", "gw": "10.1.1.1", "mtu": 0}}
    assert wanted(routes, mgmt) == {("10.9.9.0/24", "10.0.0.1", 0): 0, ("0.0.0.0/0", "10.0.0.254", 0): 1400}


async def test_a_route_needs_a_gateway_on_a_vlan_of_the_device():
    rest, store = rest_of()
    async with client(rest) as c:
        r = await c.post("/mgmt/tm/net/route/", json={"name": "rt", "network": "10.9.9.0/24", "gw": "10.0.0.1"})
        assert r.status_code == 200 and (r.json()["gw"], r.json()["mtu"]) == ("10.0.0.1", 0)
        r = await c.post("/mgmt/tm/net/route/", json={"name": "rt2", "network": "10.9.8.0/24", "gw": "10.7.7.7"})
        assert r.status_code == 400 and "is on no VLAN of this device" in r.json()["message"]
        r = await c.post("/mgmt/tm/net/route/", json={"name": "rt3", "network": "10.9.8.1/24", "gw": "10.0.0.1"})
        assert r.status_code == 400 and store.get("net route", "/Common/rt3") is None


async def test_device_info_reads_known_methods_and_a_nodes_monitor_rule():
    rest, _ = rest_of()
    rest.parts.ltm.pool_report = lambda: {}
    async with client(rest) as c:
        http = (await c.get("/mgmt/tm/ltm/profile/http/~Common~http")).json()
        assert "GET" in http["enforcement"]["knownMethods"] and http["enforcement"]["maxHeaderCount"] == 64
        await c.post("/mgmt/tm/ltm/node", json={"name": "n1", "address": "10.0.0.31"})
        stats = (await c.get("/mgmt/tm/ltm/node/~Common~n1/stats")).json()
        (entry,) = stats["entries"].values()
        assert entry["nestedStats"]["entries"]["monitorRule"] == {"description": "none"}


async def test_a_package_query_task_finishes_listing_the_as3_and_do_the_node_serves():
    rest, _ = rest_of()
    async with client(rest) as c:
        r = await c.post("/mgmt/shared/iapp/package-management-tasks", json={"operation": "QUERY"})
        assert r.status_code == 202 and r.json()["status"] == "FINISHED"
        task = (await c.get(f"/mgmt/shared/iapp/package-management-tasks/{r.json()['id']}")).json()
        assert [p["name"] for p in task["queryResponse"]] == ["f5-appsvcs", "f5-declarative-onboarding"]
        assert task["queryResponse"][0]["packageName"].endswith("-1.noarch")
        assert (await c.get("/mgmt/shared/iapp/package-management-tasks/nope")).status_code == 404


async def test_ltm_monitor_external_is_stored_with_f5s_defaults():
    rest, _ = rest_of()
    async with client(rest) as c:
        r = await c.post("/mgmt/tm/ltm/monitor/external", json={"name": "ext", "run": "/Common/arg_example"})
        assert r.status_code == 200, r.text
        got = (await c.get("/mgmt/tm/ltm/monitor/external/~Common~ext")).json()
        assert {k: got[k] for k in ("kind", "defaultsFrom", "interval", "timeout", "run", "destination")} == {
            "kind": "tm:ltm:monitor:external:externalstate", "defaultsFrom": "/Common/external", "interval": 5,
            "timeout": 16, "run": "/Common/arg_example", "destination": "*:*"}


async def test_sys_license_is_for_the_devices_version_from_the_day_it_started():
    rest, _ = rest_of()
    async with client(rest) as c:
        got = (await c.get("/mgmt/tm/sys/license/")).json()
        lic = got["entries"]["https://localhost/mgmt/tm/sys/license/0"]["nestedStats"]["entries"]
        assert got["kind"] == "tm:sys:license:licensestats"
        assert lic["licensedVersion"] == {"description": "17.1.0"} and lic["platformId"] == {"description": "Z100"}
        assert lic["licenseStartDate"] == {"description": "1970/01/01"} and "licenseEndDate" not in lic
