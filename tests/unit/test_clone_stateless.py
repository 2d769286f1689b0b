"""Clone pools (`ltm virtual clone-pools { P { context clientside|serverside } }`, REST clonePools,
AS3 clonePools ingress/egress: the kernel copies the virtual's packets to one member of each clone
pool, `dup to ADDR device DEV`) and stateless virtual servers (F5's Stateless type: UDP, a pool, no
connection table: the kernel untracks the packets and rewrites each one to a member, numgen per
packet, and the answers back), with F5's rules on what a stateless virtual refuses."""
from __future__ import annotations

import httpx
import pytest

from node.as3.desired import tenant_objects
from node.as3.refs import Resolver
from node.config import tmsh
from node.errors import ConfigError, Invalid, NotFound
from node.ltm import fastl4
from node.ltm.fastl4 import Clone, L4Member, L4Virtual
from node.rest.app import RestApp
from test_as3_core import adc, app, errors_of
from test_fastl4 import rules
from test_icontrol import fake_parts
from test_ssl_files import run, store  # noqa: F401  (store: a fixture)

M1, M2 = L4Member("/Common/10.1.20.21:80", "10.1.20.21", 80), L4Member("/Common/10.1.20.22:80", "10.1.20.22", 80)
CLONES = (Clone("10.1.20.23", "internal", "clientside", "/Common/ids"),
          Clone("10.1.20.24", "internal", "clientside", "/Common/ids"),
          Clone("10.1.20.25", None, "serverside", "/Common/tap"))


@pytest.fixture
def net(store):
    for line in ("create net vlan external", "create net self ext address 10.1.10.11/24 vlan external",
                 "create net vlan internal", "create net self int address 10.1.20.11/24 vlan internal",
                 "create ltm pool web members add { 10.1.20.21:80 10.1.20.22:80 }",
                 "create ltm pool ids members add { 10.1.20.23:0 }"):
        run(store, line)
    return store


def test_tmsh_keeps_clone_pools_with_their_context_and_lists_them_as_f5_does(net):
    run(net, "create ltm virtual v destination 10.1.10.100:80 pool web clone-pools add { ids { context serverside } }")
    run(net, "modify ltm virtual v clone-pools add { web }")
    vs = net.get("ltm virtual", "/Common/v")
    assert vs["clone-pools"] == [{"name": "/Common/ids", "context": "serverside"},
                                 {"name": "/Common/web", "context": "clientside"}]   # F5's default context
    assert "    clone-pools {\n        ids { context serverside }\n        web { }\n    }\n" in \
        tmsh.render("ltm virtual", "/Common/v", vs)


def test_a_missing_clone_pool_is_refused_and_nothing_changes(net):
    before = dict(net.objects)
    with pytest.raises(NotFound, match=r"The requested pool \(/Common/nosuch\) was not found"):
        run(net, "create ltm virtual v destination 10.1.10.100:80 pool web clone-pools add { nosuch }")
    with pytest.raises(Invalid):
        run(net, "create ltm virtual v destination 10.1.10.100:80 pool web clone-pools add { ids { context both } }")
    assert net.objects == before


def test_a_clone_pool_in_use_is_not_deleted(net):
    run(net, "create ltm virtual v destination 10.1.10.100:80 pool web clone-pools add { ids }")
    with pytest.raises(ConfigError, match="in use"):
        run(net, "delete ltm pool ids")
    assert net.get("ltm pool", "/Common/ids") is not None


def test_a_stateless_virtual_is_udp_with_a_pool_and_lists_as_f5_does(net):
    run(net, "create ltm virtual s destination 10.1.10.100:53 ip-protocol udp stateless pool web profiles replace-all-with { udp }")
    vs = net.get("ltm virtual", "/Common/s")
    assert vs["stateless"] is True
    assert "    source 0.0.0.0/0\n    stateless\n" in tmsh.render("ltm virtual", "/Common/s", vs)


@pytest.mark.parametrize("line, why", [
    ("create ltm virtual s destination 10.1.10.100:53 ip-protocol udp stateless profiles replace-all-with { udp }",
     "it requires a default pool"),
    ("create ltm virtual s destination 10.1.10.100:53 stateless pool web", "it must be ip-protocol udp with a UDP profile"),
    ("create ltm virtual s destination 10.1.10.100:53 ip-protocol udp stateless ip-forward profiles replace-all-with { udp }",
     "it cannot be an ip-forward virtual server too"),
    ("create ltm virtual s destination 10.1.10.100:53 ip-protocol udp stateless pool web profiles replace-all-with { udp } "
     "persist replace-all-with { source_addr }", "it does not support persistence"),
    ("create ltm virtual s destination 10.1.10.100:53 ip-protocol udp stateless pool web profiles replace-all-with { udp } "
     "source-address-translation { type automap }", "it does not support SNAT automap"),
])
def test_what_a_stateless_virtual_refuses_leaves_nothing_changed(net, line, why):
    before = dict(net.objects)
    with pytest.raises(Invalid, match=r"^01070734:3: Configuration error: Virtual server /Common/s is a stateless "
                                      rf"virtual server: {why}$"):
        run(net, line)
    assert net.objects == before


async def test_rest_shows_clone_pools_and_stateless_as_f5_does(tmp_path):
    parts = fake_parts(tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=RestApp(**parts).app),
                                 base_url="https://localhost", auth=("admin", "admin")) as c:
        for body in ({"name": "vlan1"}, ):
            await c.post("/mgmt/tm/net/vlan", json=body)
        await c.post("/mgmt/tm/net/self", json={"name": "s1", "address": "10.1.10.11/24", "vlan": "vlan1"})
        await c.post("/mgmt/tm/ltm/pool", json={"name": "p1", "members": [{"name": "10.1.10.21:53"}]})
        r = await c.post("/mgmt/tm/ltm/virtual", json={
            "name": "v", "destination": "/Common/10.1.10.100:80", "pool": "p1",
            "clonePools": [{"name": "/Common/p1", "context": "serverside"}]})
        assert r.status_code == 200, r.text
        assert r.json()["clonePools"] == [{"name": "p1", "partition": "Common", "fullPath": "/Common/p1",
                                           "context": "serverside"}]
        r = await c.post("/mgmt/tm/ltm/virtual", json={
            "name": "s", "destination": "/Common/10.1.10.100:53", "ipProtocol": "udp", "stateless": True,
            "pool": "p1", "profiles": [{"name": "udp"}]})
        assert r.status_code == 200, r.text
        assert r.json()["stateless"] is True
        r = await c.post("/mgmt/tm/ltm/virtual", json={
            "name": "t", "destination": "/Common/10.1.10.100:54", "ipProtocol": "udp", "stateless": True,
            "profiles": [{"name": "udp"}]})
        assert r.status_code == 400 and "requires a default pool" in r.json()["message"]


def test_the_kernel_copies_a_flow_to_one_member_of_each_clone_pool():
    b = fastl4.batch([L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", (M1, M2), clones=CLONES)],
                     set(), set())
    chains = {c["add"]["chain"]["name"]: c["add"]["chain"] for c in b["nftables"] if "chain" in c.get("add", {})}
    assert (chains["clone_in"]["hook"], chains["clone_in"]["prio"]) == ("prerouting", -310)   # before the DNAT
    ingress = rules(b, "clone_in")
    assert [r[-1] for r in ingress] == [{"dup": {"addr": "10.1.20.23", "dev": "internal"}},
                                        {"dup": {"addr": "10.1.20.24", "dev": "internal"}}]
    assert [r[-2]["match"]["right"] for r in ingress] == [0, 1]   # a hash of the client's address and port
    assert ingress[0][-2]["match"]["left"]["jhash"]["mod"] == 2
    (egress,) = rules(b, "clone_out")   # one member: no hash; the connections the virtual DNATed
    assert egress[-1] == {"dup": {"addr": "10.1.20.25"}}
    assert {"match": {"op": "==", "left": {"ct": {"key": "ip daddr", "dir": "original"}}, "right": "10.1.10.100"}} in egress


def test_a_proxied_virtuals_serverside_clone_takes_the_packets_to_its_members():
    b = fastl4.batch([L4Virtual("/Common/vs", "10.1.10.100", 85, "tcp", "round-robin", (M1, M2), proxied=True,
                                clones=CLONES[2:])], set(), set())
    (egress,) = rules(b, "clone_out")
    assert egress[0]["match"]["right"] == {"set": [{"concat": ["10.1.20.21", 80]}, {"concat": ["10.1.20.22", 80]}]}
    assert not rules(b, "prerouting") and not rules(b, "forward")   # the proxy serves it


def test_a_stateless_virtual_is_untracked_and_rewritten_per_packet_both_ways():
    b = fastl4.batch([L4Virtual("/Common/s", "10.1.10.100", 53, "udp", "round-robin", (M1, M2), stateless=True)],
                     set(), set())
    first, *back = rules(b, "stateless")
    assert {"notrack": None} in first
    assert next(e["vmap"] for e in first if "vmap" in e)["key"] == {"numgen": {"mode": "inc", "mod": 2, "offset": 0}}
    assert all({"notrack": None} in r for r in back)   # the members' answers: untracked too
    assert rules(b, "/Common/s /Common/10.1.20.21:80")[0][-2:] == [
        {"mangle": {"key": {"payload": {"protocol": "ip", "field": "daddr"}}, "value": "10.1.20.21"}},
        {"mangle": {"key": {"payload": {"protocol": "udp", "field": "dport"}}, "value": 80}}]
    assert rules(b, "stateless_out")[0][-2:] == [
        {"mangle": {"key": {"payload": {"protocol": "ip", "field": "saddr"}}, "value": "10.1.10.100"}},
        {"mangle": {"key": {"payload": {"protocol": "udp", "field": "sport"}}, "value": 53}}]
    assert not rules(b, "prerouting")   # no DNAT: no connection
    untracked = {"match": {"op": "==", "left": {"ct": {"key": "state"}}, "right": "untracked"}}
    assert sum(untracked in r for r in rules(b, "allow")) == 4   # each member's way there and back


def test_translate_port_disabled_keeps_the_virtuals_port():
    b = fastl4.batch([L4Virtual("/Common/s", "10.1.10.100", 53, "udp", "round-robin", (M1,), stateless=True,
                                translate=(True, False))], set(), set())
    assert rules(b, "/Common/s /Common/10.1.20.21:80")[0][-1] == {
        "mangle": {"key": {"payload": {"protocol": "ip", "field": "daddr"}}, "value": "10.1.20.21"}}
    assert rules(b, "stateless_out")[0][-1]["mangle"]["value"] == "10.1.10.100"


def udp_app(**svc) -> dict:
    return adc(T={"class": "Tenant", "A": app(
        svc={"class": "Service_UDP", "virtualAddresses": ["10.1.10.100"], "virtualPort": 53, "pool": "p", **svc},
        p={"class": "Pool", "members": [{"servicePort": 53, "serverAddresses": ["10.1.20.21", "10.1.20.22"]}]},
        ids={"class": "Pool", "members": [{"servicePort": 0, "serverAddresses": ["10.1.20.23"]}]})})


def objects(decl: dict) -> dict:
    return {(o.type, o.path): o.values for o in tenant_objects("T", decl["T"], Resolver({"T": decl["T"]}))}


def test_as3_clone_pools_ingress_and_egress_are_client_and_server_side():
    decl = udp_app(clonePools={"ingress": {"use": "ids"}, "egress": {"use": "p"}})
    assert errors_of(decl) == []
    assert objects(decl)[("ltm virtual", "/T/A/svc")]["clone-pools"] == {
        "/T/A/ids": {"context": "clientside"}, "/T/A/p": {"context": "serverside"}}
    assert errors_of(udp_app(clonePools={"both": {"use": "ids"}})) == ["/T/A/svc/clonePools: should NOT have additional properties"]


def test_as3_stateless_service_udp_has_no_persistence_and_no_snat():
    decl = udp_app(virtualType="stateless", translateServerPort=False)
    assert errors_of(decl) == []
    vs = objects(decl)[("ltm virtual", "/T/A/svc")]
    assert (vs["stateless"], vs["persist"], vs["source-address-translation"], vs["translate-port"]) == (
        True, {}, {"type": "none"}, "disabled")
    internal = udp_app(virtualType="internal")   # F5's other type: an internal virtual (content adaptation)
    assert errors_of(internal) == [] and objects(internal)[("ltm virtual", "/T/A/svc")]["internal"] is True
