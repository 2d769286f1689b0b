"""ip-forward virtual servers (F5's "Forwarding (IP)"): the model in tmsh and REST (ipForward, a
network destination with its mask), F5's rules (no pool, nothing translated), the kernel's rules
(an allow chain with policy drop: only what a virtual takes is forwarded) and AS3's
Service_Forwarding."""
from __future__ import annotations

import httpx
import pytest

from node.as3.desired import tenant_objects
from node.as3.refs import Resolver
from node.config import tmsh
from node.errors import Invalid
from node.ltm import fastl4
from node.ltm.fastl4 import L4Member, L4Virtual
from node.rest.app import RestApp
from test_as3_core import adc, app, errors_of
from test_fastl4 import rules
from test_icontrol import fake_parts
from test_ssl_files import run, store  # noqa: F401  (store: a fixture)

FW = "create ltm virtual fw destination 10.1.20.0:0 mask 255.255.255.0 ip-forward profiles replace-all-with { fastL4 }"


def test_tmsh_takes_an_ip_forward_virtual_on_a_network_and_lists_it_as_f5_does(store):
    run(store, FW + " ip-protocol any")
    vs = store.get("ltm virtual", "/Common/fw")
    assert (vs["ip-forward"], vs["mask"], vs["ip-protocol"]) == (True, "255.255.255.0", "any")
    assert (vs["translate-address"], vs["translate-port"]) == ("disabled", "disabled")   # F5 turns them off
    assert store.get("ltm virtual-address", "/Common/10.1.20.0")["mask"] == "255.255.255.0"
    text = tmsh.render("ltm virtual", "/Common/fw", vs)
    assert "    destination 10.1.20.0:any\n    ip-forward\n    ip-protocol any\n    mask 255.255.255.0\n" in text


def test_one_destination_takes_several_sources_but_not_the_same_twice(store):
    run(store, "create ltm virtual a destination 0.0.0.0:0 mask any ip-forward source 1.2.3.4/32 profiles replace-all-with { fastL4 }")
    run(store, "create ltm virtual b destination 0.0.0.0:0 mask any ip-forward source 199.0.2.22/32 profiles replace-all-with { fastL4 }")
    with pytest.raises(Invalid, match="have the same destination"):
        run(store, "create ltm virtual c destination 0.0.0.0:0 mask any ip-forward source 1.2.3.4/32 profiles replace-all-with { fastL4 }")
    assert store.get("ltm virtual", "/Common/c") is None


def test_bad_ip_forward_virtuals_are_refused_and_nothing_changes(store):
    run(store, "create ltm pool p1")
    before = dict(store.objects)
    with pytest.raises(Invalid, match=r"^01070734:3: Configuration error: Virtual server /Common/fw is an ip-forward "
                                      r"virtual server: it forwards to no pool \(/Common/p1\)$"):
        run(store, FW + " pool p1")
    with pytest.raises(Invalid, match="the address has bits outside the mask"):
        run(store, FW.replace("10.1.20.0:0", "10.1.20.7:0"))
    with pytest.raises(Invalid, match="not a valid netmask"):
        run(store, FW.replace("255.255.255.0", "255.0.255.0"))
    with pytest.raises(Invalid, match="the lab forwards IPv4 only"):
        run(store, "create ltm virtual v6 destination 2001:db8::.0 mask any ip-forward profiles replace-all-with { fastL4 }")
    with pytest.raises(Invalid, match="ip-protocol any is served on ip-forward virtual servers only"):
        run(store, "create ltm virtual v destination 10.1.10.100:80 ip-protocol any")
    assert store.objects == before


async def test_rest_shows_ip_forward_as_f5_does_and_refuses_a_pool(tmp_path):
    parts = fake_parts(tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=RestApp(**parts).app),
                                 base_url="https://localhost", auth=("admin", "admin")) as c:
        # bigip_virtual_server type forwarding-ip
        body = {"name": "fw", "destination": "/Common/0.0.0.0:0", "mask": "any", "ipForward": True,
                "profiles": [{"name": "fastL4"}]}
        r = await c.post("/mgmt/tm/ltm/virtual", json={**body, "pool": "/Common/nosuch"})
        assert r.status_code in (400, 404) and (await c.get("/mgmt/tm/ltm/virtual/~Common~fw")).status_code == 404
        await c.post("/mgmt/tm/ltm/pool", json={"name": "p1"})
        r = await c.post("/mgmt/tm/ltm/virtual", json={**body, "pool": "/Common/p1"})
        assert r.status_code == 400 and "ip-forward virtual server" in r.json()["message"]
        r = await c.post("/mgmt/tm/ltm/virtual", json=body)
        assert r.status_code == 200, r.text
        got = r.json()
        assert (got["ipForward"], got["mask"], got["destination"]) == (True, "any", "/Common/0.0.0.0:0")
        assert (got["translateAddress"], got["translatePort"]) == ("disabled", "disabled")
        r = await c.get("/mgmt/tm/ltm/virtual/~Common~fw")
        assert r.json()["ipForward"] is True
        r = await c.patch("/mgmt/tm/ltm/virtual/~Common~fw", json={"ipForward": "yes"})
        assert r.status_code == 400


NET = L4Virtual("/Common/fw", "10.1.20.0", 0, "any", "round-robin", (), forward=True, prefix=24)


def test_the_kernel_forwards_only_what_a_virtual_takes():
    dnat = L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", (L4Member("/Common/10.1.20.21:80", "10.1.20.21", 80),))
    b = fastl4.batch([dnat, NET], set(), set())
    allow = next(c["add"]["chain"] for c in b["nftables"] if c.get("add", {}).get("chain", {}).get("name") == "allow")
    assert (allow["hook"], allow["policy"]) == ("forward", "drop")
    assert rules(b, "allow") == [   # the DNATed connections (marked by their member's chain), the network
        [{"match": {"op": "!=", "left": {"ct": {"key": "mark"}}, "right": 0}}, {"accept": None}],
        [{"match": {"op": "==", "left": {"ct": {"key": "ip daddr", "dir": "original"}},
                    "right": {"prefix": {"addr": "10.1.20.0", "len": 24}}}}, {"accept": None}]]
    assert not rules(b, "prerouting")[1:]   # the forwarder translates nothing
    assert {"counter": "/Common/fw conns"} in rules(b, "forward")[-3]


def test_a_port_of_protocol_any_is_tcps_and_udps_and_snat_automap_leaves_from_the_interface():
    b = fastl4.batch([L4Virtual("/Common/fw", "0.0.0.0", 53, "any", "round-robin", (), forward=True, prefix=0,
                                source="1.2.3.4/32", snat=())], set(), set())
    allow = rules(b, "allow")
    assert [r[1]["match"]["right"] for r in allow] == ["tcp", "udp"]
    assert allow[0][0] == {"match": {"op": "==", "left": {"ct": {"key": "ip saddr", "dir": "original"}},
                                     "right": "1.2.3.4"}}
    assert all({"masquerade": None} in r for r in rules(b, "postrouting"))


def forwarder(**svc) -> dict:
    return adc(T={"class": "Tenant", "A": app(fw={"class": "Service_Forwarding", "forwardingType": "ip",
                                                  "virtualAddresses": [["10.1.20.0/24", "10.1.10.0/24"]], **svc})})


def test_as3_service_forwarding_is_an_ip_forward_virtual_on_its_network():
    decl = forwarder(virtualPort="any", snat="none")
    assert errors_of(decl) == []
    objs = {(o.type, o.path): o.values for o in tenant_objects("T", decl["T"], Resolver({"T": decl["T"]}))}
    vs = objs[("ltm virtual", "/T/A/fw")]
    assert (vs["ip-forward"], vs["destination"], vs["mask"], vs["source"], vs["ip-protocol"]) == (
        True, "/T/10.1.20.0:0", "255.255.255.0", "10.1.10.0/24", "any")
    assert (vs["translate-address"], vs["translate-port"], vs["profiles"]) == ("disabled", "disabled", ["/Common/fastL4"])
    assert "pool" not in vs
    assert objs[("ltm virtual-address", "/T/10.1.20.0")] == {"address": "10.1.20.0", "arp": "disabled",
                                                             "icmp-echo": "disabled", "mask": "255.255.255.0"}


def test_as3_service_forwarding_refuses_a_pool_translation_and_l2():
    assert errors_of(forwarder(pool="p")) == ["/T/A/fw: should NOT have additional properties"]
    assert errors_of(forwarder(translateServerAddress=True)) == ["/T/A/fw/translateServerAddress: should be equal to constant"]
    assert errors_of(forwarder(forwardingType="l2")) == [
        '/T/A/fw/forwardingType: forwarding type "l2" is not supported by this lab']


def test_a_standard_virtual_takes_one_destination_whatever_its_source(store):
    run(store, "create net vlan external")
    run(store, "create net self ext address 10.1.10.11/24 vlan external")
    run(store, "create ltm virtual a destination 10.1.10.100:80 source 1.2.3.4/32")
    with pytest.raises(Invalid, match="have the same destination"):   # the proxy listens on the address and port
        run(store, "create ltm virtual b destination 10.1.10.100:80 source 5.6.7.8/32")
