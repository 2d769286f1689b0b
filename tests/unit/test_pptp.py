"""PPTP: F5's ltm profile pptp in tmsh, REST and AS3, and what a virtual with one tells the
kernel (its control connections get the pptp conntrack helper, so their GRE calls follow them to
the member). On the wire: tests/lab/test_ltm_dataplane.py."""
from __future__ import annotations

import pytest

from node.config import profiles, tmsh
from node.config.store import ConfigStore, Op
from node.errors import Invalid
from node.ltm import fastl4
from test_ssl_files import run


@pytest.fixture
def store():
    s = ConfigStore(None, "bigip1")
    s.commit([Op("create", "net vlan", "/Common/external", {}),
              Op("create", "net self", "/Common/ext", {"address": ("set", "10.1.10.11/24"),
                                                       "vlan": ("set", "/Common/external")}),
              Op("create", "ltm pool", "/Common/pac", {})])
    return s


def test_a_bigip_has_f5s_builtin_pptp_profile(store):
    prof = store.get("ltm profile pptp", "/Common/pptp")
    assert (prof["defaults-from"], prof["csv-format"], prof["include-destination-ip"], prof["publisher-name"]) == (
        "none", "disabled", "disabled", "none")


def test_tmsh_makes_a_pptp_profile_and_a_virtual_with_it_goes_to_the_kernel_with_the_helper(store):
    run(store, "create ltm profile pptp vpn csv-format enabled publisher-name /Common/local-db-publisher")
    prof = store.get("ltm profile pptp", "/Common/vpn")
    assert (prof["defaults-from"], prof["csv-format"], prof["include-destination-ip"]) == ("/Common/pptp", "enabled", "disabled")
    assert "    csv-format enabled\n" in tmsh.render("ltm profile pptp", "/Common/vpn", prof)
    run(store, "create ltm virtual vs_pptp destination 10.1.10.100:1723 pool pac profiles replace-all-with { tcp vpn }")
    vs = store.get("ltm virtual", "/Common/vs_pptp")
    assert profiles.data_path(store.get, vs) == "fastl4" and profiles.helper(store.get, vs) == "pptp"
    run(store, "create ltm virtual vs_tcp destination 10.1.10.100:22 pool pac profiles replace-all-with { tcp }")
    vs = store.get("ltm virtual", "/Common/vs_tcp")
    assert profiles.data_path(store.get, vs) == "tcp" and profiles.helper(store.get, vs) is None
    from node.config.schema import TYPES
    assert TYPES["ltm profile pptp"].scope_of({}) == "synced"


@pytest.mark.parametrize("line, message", [
    ("create ltm profile pptp bad csv-format maybe", None),
    ("create ltm virtual v destination 10.1.10.100:1723 ip-protocol udp profiles replace-all-with { udp pptp }",
     "ip-protocol tcp with a TCP profile"),
    ("create ltm virtual v destination 10.1.10.100:1723 profiles replace-all-with { tcp http pptp }",
     "nothing parses or terminates"),
    ("create ltm virtual v destination 10.1.10.100:1723 profiles replace-all-with { fastL4 pptp }",
     "ip-protocol tcp with a TCP profile")])
def test_bad_pptp_profiles_and_virtuals_are_refused_and_nothing_changes(store, line, message):
    before = dict(store.objects)
    with pytest.raises(Invalid, match=message):
        run(store, line)
    assert store.objects == before


def test_the_kernel_batch_gives_a_pptp_virtuals_connections_the_helper_as_it_dnats_them():
    member = fastl4.L4Member("/Common/10.1.20.21:1723", "10.1.20.21", 1723)
    vs = fastl4.L4Virtual("/Common/vs_pptp", "10.1.10.100", 8181, "tcp", "round-robin", (member,), helper="pptp")
    cmds = fastl4.batch([vs], set(), set())["nftables"]
    helpers = [c["add"]["ct helper"] for c in cmds if "ct helper" in c.get("add", {})]
    assert helpers == [{"family": "ip", "table": "biglab_ltm", "name": "pptp", "type": "pptp", "protocol": "tcp",
                        "l3proto": "ip"}]
    chain = fastl4.counter(vs.path, member.name)
    expr = next(c["add"]["rule"]["expr"] for c in cmds if c.get("add", {}).get("rule", {}).get("chain") == chain)
    assert expr.index({"ct helper": "pptp"}) == len(expr) - 2 and "dnat" in expr[-1]   # set before the DNAT
    plain = fastl4.batch([fastl4.L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", (member,))],
                         set(), set())["nftables"]
    assert "ct helper" not in str(plain)   # only a PPTP virtual needs the helper (and the table its object)


# -- REST ----------------------------------------------------------------------------------------
async def test_rest_takes_and_shows_pptp_profiles_in_f5s_shape(tmp_path):
    import httpx
    from node.rest.app import RestApp
    from test_icontrol import fake_parts
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=RestApp(**fake_parts(tmp_path)).app),
                                 base_url="https://localhost", auth=("admin", "admin")) as c:
        got = (await c.get("/mgmt/tm/ltm/profile/pptp/~Common~pptp")).json()
        assert (got["kind"], got["csvFormat"], got["includeDestinationIp"], got["publisherName"], got["defaultsFrom"]) == (
            "tm:ltm:profile:pptp:pptpstate", "disabled", "disabled", "none", "none")
        r = await c.post("/mgmt/tm/ltm/profile/pptp", json={"name": "vpn", "includeDestinationIp": "enabled"})
        assert r.status_code == 200 and r.json()["includeDestinationIp"] == "enabled", r.text
        assert r.json()["defaultsFrom"] == "/Common/pptp"
        r = await c.patch("/mgmt/tm/ltm/profile/pptp/~Common~vpn", json={"csvFormat": "sometimes"})
        assert r.status_code == 400
        assert (await c.get("/mgmt/tm/ltm/profile/pptp/~Common~vpn")).json()["csvFormat"] == "disabled"


# -- AS3 -----------------------------------------------------------------------------------------
def pptp_decl(**svc) -> dict:
    from test_as3_core import adc, app
    return adc(Vpn={"class": "Tenant", "App": app(
        svc={"class": "Service_TCP", "virtualAddresses": ["10.1.10.107"], "virtualPort": 1723, "pool": "pac",
             "snat": "auto", "profilePPTP": {"use": "calls"}, **svc},
        pac={"class": "Pool", "members": [{"servicePort": 1723, "serverAddresses": ["10.1.20.21"]}]},
        calls={"class": "PPTP_Profile", "csvFormat": True, "publisherName": {"bigip": "/Common/local-db-publisher"}})})


def test_as3_pptp_profile_and_a_service_with_it_deploy_as_objects():
    from test_as3_core import run as as3_run, services
    svc, store, _ = services()
    status, out = as3_run(svc, pptp_decl())
    assert status == 200, out
    vs = store.get("ltm virtual", "/Vpn/App/svc")
    assert {"/Vpn/App/calls", "/Common/tcp"} <= set(vs["profiles"]) and profiles.helper(store.get, vs) == "pptp"
    prof = store.get("ltm profile pptp", "/Vpn/App/calls")
    assert (prof["defaults-from"], prof["csv-format"], prof["include-destination-ip"], prof["publisher-name"]) == (
        "/Common/pptp", "enabled", "disabled", "/Common/local-db-publisher")
    assert as3_run(svc, pptp_decl())[1]["results"][0]["message"] == "no change"
    status, out = as3_run(svc, pptp_decl(profilePPTP={"bigip": "/Common/pptp"}))   # F5's example's way
    assert status == 200 and "/Common/pptp" in store.get("ltm virtual", "/Vpn/App/svc")["profiles"], out
    status, out = as3_run(svc, None, ["Vpn"], "DELETE")
    assert status == 200 and not [k for k in store.objects if k[1].startswith("/Vpn/")]


def test_as3_refuses_a_pptp_pointer_at_the_wrong_class_and_bad_values():
    from test_as3_core import errors_of
    assert "/Vpn/App/svc/profilePPTP: /Vpn/App/pac is a Pool, not a PPTP_Profile" in errors_of(
        pptp_decl(profilePPTP={"use": "pac"}))
    decl = pptp_decl()
    decl["Vpn"]["App"]["calls"]["csvFormat"] = "yes"
    assert errors_of(decl) == ["/Vpn/App/calls/csvFormat: should be boolean"]
