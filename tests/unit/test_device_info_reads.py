"""What bigip_device_info's system-info and vlans subsets read, in F5's shapes."""
from __future__ import annotations

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
