"""What F5's Ansible modules send and a BIG-IP takes: route-domain suffixes, ..."""
from __future__ import annotations

from node.config.store import ConfigStore, Op
from tests.unit.test_rest_shapes import client, rest_of


async def test_a_self_ip_in_route_domain_0_is_taken_and_shown_without_the_suffix():
    rest, store = rest_of()
    async with client(rest) as c:
        r = await c.post("/mgmt/tm/net/self", json={"name": "s1", "address": "10.0.0.40%0/24",
                                                    "vlan": "/Common/internal"})
        assert r.status_code == 200 and r.json()["address"] == "10.0.0.40/24"
        r = await c.post("/mgmt/tm/net/self", json={"name": "s2", "address": "10.0.0.41%7/24",
                                                    "vlan": "/Common/internal"})
        assert r.status_code == 400 and r.json()["message"] == \
            "01020036:3: The requested route domain (/Common/7) was not found."
    assert store.get("net self", "/Common/s2") is None


def test_an_ha_order_naming_a_device_outside_the_trust_is_refused():
    import pytest
    from node.config.schema import check_trusted
    from node.errors import NotFound
    members = lambda: {"bigip1", "bigip2"}  # noqa: E731
    check_trusted("cm traffic-group", {"ha-order": ("set", ["/Common/bigip2", "bigip1"])}, members)
    with pytest.raises(NotFound) as e:
        check_trusted("cm traffic-group", {"ha-order": ("set", ["/Common/bigip2", "/Common/bigip9"])}, members)
    assert str(e.value) == "01020036:3: The requested Device (/Common/bigip9) was not found."


async def test_a_gtm_monitor_password_is_kept_hashed_and_never_shown_in_clear():
    rest, store = rest_of(modules=("gtm",))
    async with client(rest) as c:
        r = await c.post("/mgmt/tm/gtm/monitor/http", json={"name": "gm", "username": "u", "password": "s3cret"})
        assert r.status_code == 200 and r.json()["password"] != "s3cret" and "s3cret" not in r.text
        shown = (await c.get("/mgmt/tm/gtm/monitor/http/~Common~gm")).json()
        await c.put("/mgmt/tm/gtm/monitor/http/~Common~gm", json=shown)     # f5-sdk's update sends it back
    assert store.get("gtm monitor http", "/Common/gm")["password"] == shown["password"]


def test_a_gtm_pool_member_must_name_a_virtual_its_bigip_server_declares_unless_it_discovers():
    import pytest
    from node.errors import NotFound
    store = ConfigStore(None, "g1")
    store.commit([Op("create", "gtm datacenter", "/Common/dc", {}),
                  Op("create", "gtm server", "/Common/s", {"datacenter": ("set", "dc"),
                                                          "addresses": ("set", {"10.3.1.21": {}})})])
    with pytest.raises(NotFound) as e:
        store.commit([Op("create", "gtm pool a", "/Common/p", {"members": ("set", {"s:vs_nosuch": {}})})])
    assert "(/Common/s:vs_nosuch) was not found" in str(e.value)
    store.commit([Op("modify", "gtm server", "/Common/s", {"virtual-server-discovery": ("set", "enabled")}),
                  Op("create", "gtm pool a", "/Common/p", {"members": ("set", {"s:vs_learned": {}})})])


async def test_mx_srv_and_naptr_pools_and_wide_ips_are_kept_with_their_members_fields():
    rest, store = rest_of(modules=("gtm",))
    async with client(rest) as c:
        for rtype, member in (("mx", {"priority": 20}), ("srv", {"port": 5060, "weight": 5}),
                              ("naptr", {"flags": "s", "service": "SIP+D2U"})):
            r = await c.post(f"/mgmt/tm/gtm/pool/{rtype}", json={"name": "p", "members": [
                {"name": "mail.example.com", **member}]})
            assert r.status_code == 200, r.text
            r = await c.post(f"/mgmt/tm/gtm/wideip/{rtype}", json={"name": "example.com", "pools": [{"name": "p"}]})
            assert r.json()["pools"][0]["nameReference"]["link"].startswith(
                f"https://localhost/mgmt/tm/gtm/pool/{rtype}/~Common~p")
            got = (await c.get(f"/mgmt/tm/gtm/pool/{rtype}/~Common~p/members/mail.example.com")).json()
            assert {k: got[k] for k in member} == member
        assert (await c.get("/mgmt/tm/gtm/pool/mx")).json()["items"][0]["name"] == "p"


async def test_a_users_partition_access_names_a_partition_and_links_it():
    rest, store = rest_of()
    async with client(rest) as c:
        await c.post("/mgmt/tm/auth/partition", json={"name": "P"})
        r = await c.post("/mgmt/tm/auth/user", json={"name": "u1", "password": "pw-12345",
                                                     "partitionAccess": [{"name": "P", "role": "operator"}]})
        assert r.json()["partitionAccess"] == [{"name": "P", "role": "operator", "nameReference": {
            "link": "https://localhost/mgmt/tm/auth/partition/P?ver=17.1.0"}}]
        r = await c.post("/mgmt/tm/auth/user", json={"name": "u2", "password": "pw-12345",
                                                     "partitionAccess": [{"name": "Nope", "role": "guest"}]})
        assert r.status_code == 400 and "Partition (Nope) was not found" in r.json()["message"]
