"""Route domain 0 lists every VLAN no other route domain holds, in REST and tmsh, as on a BIG-IP."""
from __future__ import annotations

from node.shell import Shell
from tests.unit.test_rest_shapes import client, rest_of

RD0 = "/mgmt/tm/net/route-domain/~Common~0"


async def test_route_domain_0_lists_the_vlans_no_other_route_domain_holds():
    rest, store = rest_of()
    async with client(rest) as c:
        rd0 = (await c.get(RD0)).json()
        assert rd0["vlans"] == ["/Common/internal"]
        assert rd0["vlansReference"][0]["link"].startswith("https://localhost/mgmt/tm/net/vlan/~Common~internal?ver=")
        assert (await c.post("/mgmt/tm/net/vlan", json={"name": "v2", "interfaces": [{"name": "1.2"}]})).status_code == 200
        assert (await c.get(RD0)).json()["vlans"] == ["/Common/internal", "/Common/v2"]
        made = await c.post("/mgmt/tm/net/route-domain", json={"name": "rd2", "id": 2, "vlans": ["v2"]})
        assert made.status_code == 200 and made.json()["vlans"] == ["/Common/v2"]
        assert (await c.get(RD0)).json()["vlans"] == ["/Common/internal"]
    assert store.get("net route-domain", "/Common/0").get("vlans") == []    # a view: nothing stored
    shell = Shell("b1", store, None, set, lambda: [])
    assert "vlans { internal }" in await shell.run("list net route-domain 0")


# -- route domains other than 0 -------------------------------------------------------------------
import pytest  # noqa: E402

from node.config.store import ConfigStore, Op  # noqa: E402
from node.errors import ConfigError, InUse, NotFound  # noqa: E402


def rd_store() -> ConfigStore:
    """VLAN v0 in route domain 0 and v2 in route domain 2, both with a self IP on 10.1.1.0/24."""
    store = ConfigStore(None, "b1")
    store.commit([Op("create", "net vlan", "/Common/v0", {}), Op("create", "net vlan", "/Common/v2", {}),
                  Op("create", "net route-domain", "/Common/rd2", {"id": ("set", 2), "vlans": ("set", ["v2"])}),
                  Op("create", "net self", "/Common/s0", {"address": ("set", "10.1.1.1/24"), "vlan": ("set", "v0")}),
                  Op("create", "net self", "/Common/s2", {"address": ("set", "10.1.1.1%2/24"), "vlan": ("set", "v2")})])
    return store


def virtual(path: str, dest: str) -> Op:
    return Op("create", "ltm virtual", path, {"destination": ("set", dest)})


def test_overlapping_addresses_live_in_two_route_domains_each_with_its_suffix():
    store = rd_store()
    assert store.get("net self", "/Common/s2")["address"] == "10.1.1.1%2/24"
    store.commit([virtual("/Common/a", "10.1.1.100:80"), virtual("/Common/b", "10.1.1.100%2:80"),
                  Op("create", "ltm pool", "/Common/p", {"members": ("set", {"10.1.1.50%2:80": {}})})])
    assert store.get("ltm virtual", "/Common/b")["destination"] == "/Common/10.1.1.100%2:80"
    assert store.get("ltm virtual-address", "/Common/10.1.1.100%2")["address"] == "10.1.1.100%2"
    assert store.get("ltm node", "/Common/10.1.1.50%2")["address"] == "10.1.1.50%2"
    assert store.get("ltm pool", "/Common/p")["members"][0]["name"] == "/Common/10.1.1.50%2:80"


def test_an_unknown_route_domain_is_f5s_not_found_and_nothing_changes():
    store = rd_store()
    before = dict(store.objects)
    for op in (virtual("/Common/c", "10.1.1.100%7:80"),
               Op("create", "ltm node", "/Common/n", {"address": ("set", "10.1.1.9%7")}),
               Op("create", "net route", "/Common/r", {"network": ("set", "10.9.0.0%7/16"), "gw": ("set", "10.1.1.254%7")})):
        with pytest.raises(NotFound) as e:
            store.commit([op])
        assert str(e.value) == "01020036:3: The requested route domain (/Common/7) was not found."
    assert store.objects == before


def test_a_virtual_must_be_on_a_vlan_of_its_own_route_domain():
    store = rd_store()
    with pytest.raises(ConfigError, match="on no VLAN of this device"):
        store.commit([virtual("/Common/c", "10.2.2.2%2:80"),
                      Op("create", "net self", "/Common/s3", {"address": ("set", "10.2.2.1/24"), "vlan": ("set", "v0")})])
    store.commit([Op("create", "net route", "/Common/r", {"network": ("set", "10.9.0.0%2/16"), "gw": ("set", "10.1.1.254%2")})])
    assert store.get("net route", "/Common/r")["network"] == "10.9.0.0%2/16"


def test_a_route_domain_in_use_cannot_go_and_ids_and_vlans_are_its_own():
    store = rd_store()
    with pytest.raises(InUse):
        store.commit([Op("delete", "net route-domain", "/Common/rd2", {})])
    with pytest.raises(ConfigError, match="same id 2"):
        store.commit([Op("create", "net route-domain", "/Common/again", {"id": ("set", 2)})])
    with pytest.raises(ConfigError, match="one route domain"):
        store.commit([Op("create", "net route-domain", "/Common/rd3", {"id": ("set", 3), "vlans": ("set", ["v2"])})])


def test_a_partitions_default_route_domain_is_the_one_of_addresses_given_without_suffix():
    store = rd_store()
    store.commit([Op("create", "auth partition", "/Common/P", {"default-route-domain": ("set", 2)})])
    store.commit([virtual("/P/vs", "10.1.1.100:80"), Op("create", "ltm node", "/P/n", {"address": ("set", "10.1.1.7")}),
                  Op("create", "ltm pool", "/P/p", {"members": ("set", {"10.1.1.8:80": {}})}),
                  virtual("/P/vs0", "10.1.1.100%0:81")])
    assert store.get("ltm virtual", "/P/vs")["destination"] == "/P/10.1.1.100%2:80"
    assert store.get("ltm node", "/P/n")["address"] == "10.1.1.7%2"
    assert store.get("ltm pool", "/P/p")["members"][0]["name"] == "/P/10.1.1.8%2:80"
    assert store.get("ltm virtual", "/P/vs0")["destination"] == "/P/10.1.1.100%0:81"   # route domain 0, said so


async def test_rest_and_tmsh_take_and_show_route_domains():
    rest, store = rest_of()
    shell = Shell("b1", store, None, set, lambda: [])
    async with client(rest) as c:
        assert (await c.post("/mgmt/tm/net/vlan", json={"name": "v2"})).status_code == 200
        made = await c.post("/mgmt/tm/net/route-domain", json={"name": "rd2", "id": 2, "vlans": ["v2"], "strict": "enabled"})
        assert made.status_code == 200 and made.json()["kind"] == "tm:net:route-domain:route-domainstate"
        r = await c.post("/mgmt/tm/net/self", json={"name": "s2", "address": "10.0.0.11%2/24", "vlan": "v2"})
        assert r.status_code == 200 and r.json()["address"] == "10.0.0.11%2/24"
        r = await c.post("/mgmt/tm/ltm/node", json={"name": "10.0.0.50%2", "address": "10.0.0.50%2"})
        assert r.status_code == 200
        r = await c.get("/mgmt/tm/ltm/node/~Common~10.0.0.50%252")    # F5's URL: % as %25
        assert r.status_code == 200 and r.json()["address"] == "10.0.0.50%2"
    await shell.run("create ltm virtual vs2 destination 10.0.0.100%2:80")
    listed = await shell.run("list ltm virtual vs2")
    assert "destination 10.0.0.100%2:http" in listed and "source 0.0.0.0%2/0" in listed
    assert "id 2" in await shell.run("list net route-domain rd2")


def test_the_node_gives_each_route_domain_its_table_and_binds_its_sockets_to_its_vlan():
    import ipaddress
    import socket
    from node.config import route_domains
    from node.ltm.proxy import in_route_domain
    from node.routes import rd_rules, wanted
    store = rd_store()
    assert route_domains.vrfs(store.of_type) == {2: ("v2",)}
    assert rd_rules({2: ("v2",)}) == {("iif", "v2", 2), ("oif", "v2", 2)}
    routes = {"/Common/r": {"network": "10.9.0.0%2/16", "gw": "10.1.1.254%2"}}
    assert wanted(routes, ipaddress.ip_network("192.168.0.0/24")) == {("10.9.0.0/16", "10.1.1.254", 2): 0}
    route_domains.set_interfaces({2: [(ipaddress.ip_network("10.1.1.0/24"), "v2")], 3: [(None, "v3")]})
    try:
        assert route_domains.interface_for(2, "10.1.1.9") == "v2" and route_domains.interface_for(3, "10.7.7.7") == "v3"
        assert route_domains.interface_for(4, "10.1.1.9") is None
        with socket.socket() as sock:
            assert in_route_domain(sock, "10.1.1.9") == "10.1.1.9"      # route domain 0: as it is
            with pytest.raises(OSError, match="route domain 4 has no VLAN"):
                in_route_domain(sock, "10.1.1.9%4")
    finally:
        route_domains.set_interfaces({})


def test_as3_tenant_default_route_domain_and_member_route_domains():
    from tests.unit.test_as3_core import adc, run, services, web
    svc, store, _ = services()
    store.commit([Op("create", "net vlan", "/Common/v2", {}),
                  Op("create", "net route-domain", "/Common/rd2", {"id": ("set", 2), "vlans": ("set", ["v2"])}),
                  Op("create", "net route-domain", "/Common/rd100", {"id": ("set", 100)}),
                  Op("create", "net self", "/Common/s2", {"address": ("set", "10.1.10.11%2/24"), "vlan": ("set", "v2")})])
    app = web()
    app["web_pool"]["members"].append({"servicePort": 8080, "serverAddresses": ["10.1.20.30"], "routeDomain": 100})
    app["zero"] = {"class": "Service_TCP", "virtualAddresses": ["10.1.10.100%0"], "virtualPort": 81, "pool": "web_pool"}
    decl = adc(Shop={"class": "Tenant", "defaultRouteDomain": 2, "Web": app})
    status, out = run(svc, decl)
    assert status == 200, out
    assert store.get("auth partition", "/Common/Shop")["default-route-domain"] == 2
    vs = store.get("ltm virtual", "/Shop/Web/serviceMain")
    assert (vs["destination"], vs["source"]) == ("/Shop/10.1.10.100%2:80", "0.0.0.0%2/0")
    assert store.get("ltm virtual", "/Shop/Web/zero")["destination"] == "/Shop/10.1.10.100%0:81"
    assert [m["name"] for m in store.get("ltm pool", "/Shop/Web/web_pool")["members"]] == [
        "/Shop/10.1.20.21%2:80", "/Shop/10.1.20.22%2:80", "/Shop/10.1.20.30%100:8080"]
    assert run(svc, decl)[1]["results"][0]["message"] == "no change"
    assert run(svc, None, ["Shop"], "DELETE")[0] == 200
    assert store.get("net route-domain", "/Common/rd2")   # AS3 uses route domains, never removes them


def test_as3_refuses_a_route_domain_the_device_lacks():
    from tests.unit.test_as3_core import adc, run, services, web
    svc, store, _ = services()
    status, out = run(svc, adc(Shop={"class": "Tenant", "defaultRouteDomain": 9, "Web": web()}))
    assert status == 422 and "The requested route domain (/Common/9) was not found." in out["results"][0]["response"]
    assert store.get("auth partition", "/Common/Shop") is None


def test_do_route_domain_class():
    from node.do.plan import plan
    from tests.unit.test_do_core import BIGIP1
    decl = {"class": "Device", "schemaVersion": "1.45.0", "Common": {
        "class": "Tenant", "v2": {"class": "VLAN", "interfaces": [{"name": "1.2"}]},
        "rd2": {"class": "RouteDomain", "id": 2, "vlans": ["v2"], "strict": False, "connectionLimit": 10},
        "s2": {"class": "SelfIp", "address": "10.1.2.11%2/24", "vlan": "v2"}}}
    steps, errors = plan(decl, BIGIP1, {})
    assert errors == []
    store = ConfigStore(None, "bigip1")
    store.commit(steps.ops)
    rd = store.get("net route-domain", "/Common/rd2")
    assert (rd["id"], rd["vlans"], rd["strict"], rd["connection-limit"]) == (2, ["/Common/v2"], "disabled", 10)
    assert store.get("net self", "/Common/s2")["address"] == "10.1.2.11%2/24"
    bad = {**decl, "Common": {"class": "Tenant", "rd": {"class": "RouteDomain", "id": 70000}}}
    assert plan(bad, BIGIP1, {})[1]


def test_snat_translations_in_a_route_domain():
    from node.ltm import snat
    store = rd_store()
    store.commit([Op("create", "ltm snatpool", "/Common/sp", {"members": ("set", ["10.1.1.30%2", "10.1.1.31%2"])})])
    assert store.get("ltm snat-translation", "/Common/10.1.1.30%2")["address"] == "10.1.1.30%2"
    assert snat.pick(["10.1.1.31%2", "10.1.1.30%2"], "10.1.1.99") in ("10.1.1.30%2", "10.1.1.31%2")


def test_a_self_ip_is_in_its_vlans_route_domain():
    store = rd_store()
    with pytest.raises(ConfigError, match="is in route domain 2, its VLAN /Common/v0 in route domain 0"):
        store.commit([Op("create", "net self", "/Common/x", {"address": ("set", "10.5.5.1%2/24"), "vlan": ("set", "v0")})])
    store.commit([Op("create", "net route-domain", "/Common/rd3", {"id": ("set", 3), "vlans": ("set", ["v0"])})])
    with pytest.raises(ConfigError, match="is in route domain 0, its VLAN /Common/v0 in route domain 3"):
        store.commit([Op("create", "net self", "/Common/y", {"address": ("set", "10.6.6.1/24"), "vlan": ("set", "v0")})])
