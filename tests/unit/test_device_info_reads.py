"""What bigip_device_info reads (system-info, vlans, software, the catalogue, the installed packages),
in F5's shapes."""
from __future__ import annotations

from node.as3.classes import SCHEMA_VERSION as AS3
from node.do.classes import SCHEMA_VERSION as DO
from tests.unit.test_rest_shapes import client, rest_of


def nested(stats: dict, *keys: str) -> dict:
    """Walk F5's entries/nestedStats by the last word of each entry's URL."""
    for key in keys:
        stats = next(v for k, v in stats["entries"].items() if k.rsplit("/", 1)[-1] == key)["nestedStats"]
    return stats["entries"]


async def test_sys_hardware_and_clock_read_as_a_ve_reports_them():
    rest, _ = rest_of()
    async with client(rest) as c:
        hw = (await c.get("/mgmt/tm/sys/hardware")).json()
        assert hw["kind"] == "tm:sys:hardware:hardwarestats"
        platform = nested(hw, "platform", "0")
        assert platform["marketingName"] == {"description": "BIG-IP Virtual Edition"} and "baseMac" in platform
        info = nested(hw, "system-info", "0")
        assert info["platform"] == {"description": "Z100"} and info["bigipChassisSerialNum"]["description"]
        assert nested(hw, "hardware-version", "cpus")["tmName"] == {"description": "cpus"}
        clock = (await c.get("/mgmt/tm/sys/clock")).json()
        assert nested(clock, "0")["fullDate"] == {"description": "1970-01-01T00:00:00Z"}   # the device's clock


async def test_a_vlan_shows_sflow_and_its_stats_give_tag_and_mac():
    rest, _ = rest_of()
    async with client(rest) as c:
        vlan = (await c.get("/mgmt/tm/net/vlan/~Common~internal")).json()
        assert vlan["sflow"] == {"pollInterval": 0, "pollIntervalGlobal": "yes", "samplingRate": 0,
                                 "samplingRateGlobal": "yes"}
        assert (vlan["failsafeAction"], vlan["learning"], vlan["sourceChecking"]) == (
            "failover-restart-tm", "enable-forward", "disabled")
        stats = nested((await c.get("/mgmt/tm/net/vlan/~Common~internal/stats")).json(), "stats")
        assert stats["id"] == {"value": vlan["tag"]} and "macTrue" in stats


async def test_software_is_one_active_volume_running_the_reported_version():
    rest, _ = rest_of()
    async with client(rest) as c:
        volumes = (await c.get("/mgmt/tm/sys/software/volume")).json()
        assert volumes["kind"] == "tm:sys:software:volume:volumecollectionstate"
        [hd] = volumes["items"]
        version = (await c.get("/mgmt/tm/sys/version")).json()
        reported = nested(version, "0")["Version"]["description"]
        assert (hd["name"], hd["active"], hd["status"], hd["version"]) == ("HD1.1", True, "complete", reported)
        assert hd["media"]["defaultBootLocation"] is True
        assert (await c.get("/mgmt/tm/sys/software/volume/HD1.1")).json()["fullPath"] == "HD1.1"
        for which in ("image", "hotfix"):
            assert (await c.get(f"/mgmt/tm/sys/software/{which}")).json()["items"] == []


async def test_route_domain_0_syslog_and_empty_catalogues_are_there_from_the_start():
    rest, _ = rest_of()
    async with client(rest) as c:
        rd = (await c.get("/mgmt/tm/net/route-domain/~Common~0")).json()
        assert (rd["kind"], rd["id"], rd["strict"], rd["connectionLimit"]) == (
            "tm:net:route-domain:route-domainstate", 0, "enabled", 0)
        syslog = (await c.get("/mgmt/tm/sys/syslog/")).json()
        assert syslog["kind"] == "tm:sys:syslog:syslogstate" and "remoteServers" not in syslog
        assert (syslog["messagesFrom"], syslog["messagesTo"], syslog["kernFrom"], syslog["cronFrom"]) == (
            "notice", "warning", "debug", "warning")
        servers = [{"name": "r1", "host": "10.1.1.9", "remotePort": 1514}]
        patched = (await c.patch("/mgmt/tm/sys/syslog/", json={"remoteServers": servers})).json()
        assert patched["remoteServers"] == [{"name": "/Common/r1", "host": "10.1.1.9", "localIp": "none",
                                             "remotePort": 1514}]   # F5's shape: a full name, nothing more
        for url in ("/mgmt/tm/net/trunk", "/mgmt/tm/sys/management-route", "/mgmt/tm/ltm/policy/"):
            assert (await c.get(url)).json()["items"] == []
        assert (await c.get("/mgmt/tm/ltm/persistence/msrdp/~Common~msrdp")).json()["hasSessionDir"] == "no"


async def test_a_policy_keeps_its_rules_as_a_subcollection():
    rest, _ = rest_of()
    async with client(rest) as c:
        body = {"name": "p1", "requires": ["http"], "controls": ["forwarding"], "rules": [{"name": "r1", "ordinal": 1}]}
        assert (await c.post("/mgmt/tm/ltm/policy", json=body)).status_code == 200
        got = (await c.get("/mgmt/tm/ltm/policy?expandSubcollections=true")).json()["items"][0]
        assert (got["strategy"], got["status"]) == ("/Common/first-match", "published")
        assert [(r["name"], r["ordinal"]) for r in got["rulesReference"]["items"]] == [("r1", 1)]
        assert (await c.get("/mgmt/tm/ltm/policy/~Common~p1/rules/r1")).json()["ordinal"] == 1
        r = await c.post("/mgmt/tm/ltm/policy", json={"name": "p2", "colour": "red"})
        assert r.status_code == 400 and "Found unexpected json pair" in r.json()["message"]


async def test_the_installed_packages_are_the_as3_and_do_the_node_serves():
    rest, _ = rest_of()
    async with client(rest) as c:
        listed = (await c.get("/mgmt/shared/iapp/global-installed-packages")).json()
        assert listed["kind"] == "shared:iapp:global-installed-packages:installedpackagecollectionstate"
        assert {(i["appName"], i["version"]) for i in listed["items"]} == {
            ("f5-appsvcs", AS3), ("f5-declarative-onboarding", DO)}
        one = listed["items"][0]
        assert (await c.get(f"/mgmt/shared/iapp/global-installed-packages/{one['id']}")).json() == one
        assert (await c.get("/mgmt/shared/iapp/global-installed-packages/nope")).status_code == 404
