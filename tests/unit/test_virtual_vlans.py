"""A virtual's VLANs (F5's vlans-enabled / vlans-disabled with `vlans { ... }`; REST vlansEnabled,
vlansDisabled, vlans; AS3's allowVlans / rejectVlans): each an existing VLAN, one of the two
switches at a time, shown as F5 shows them; a fastL4 virtual's kernel rules match the arrival
interface (the proxy's listeners do not: docs/design.md)."""
from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from node.config import tmsh
from node.ltm import fastl4
from node.ltm.fastl4 import L4Member, L4Virtual
from node.errors import InUse, NotFound
from node.rest.app import RestApp
from test_as3_core import adc, errors_of, owned, run as as3, services, web
from test_icontrol import fake_parts
from test_ssl_files import run, store  # noqa: F401  (store: a fixture)

VS = "create ltm virtual vs destination 10.1.10.100:80 vlans replace-all-with { internal } vlans-enabled"


@pytest.fixture
def vlans(store):  # noqa: F811
    run(store, "create net vlan internal")
    run(store, "create net vlan external")
    run(store, "create net self s1 address 10.1.10.11/24 vlan internal")
    return store


def test_tmsh_sets_the_vlans_one_switch_at_a_time_and_lists_them_as_f5_does(vlans):
    run(vlans, VS)
    vs = vlans.get("ltm virtual", "/Common/vs")
    assert (vs["vlans"], vs.get("vlans-enabled"), vs.get("vlans-disabled")) == (["/Common/internal"], True, None)
    assert "    vlans {\n        internal\n    }\n    vlans-enabled\n" in tmsh.render("ltm virtual", "/Common/vs", vs)
    run(vlans, "modify ltm virtual vs vlans-disabled vlans add { external }")
    vs = vlans.get("ltm virtual", "/Common/vs")
    assert (vs["vlans"], vs.get("vlans-enabled"), vs.get("vlans-disabled")) == (
        ["/Common/internal", "/Common/external"], None, True)


def test_a_vlan_that_does_not_exist_is_f5s_error_and_one_in_use_stays(vlans):
    before = dict(vlans.objects)
    with pytest.raises(NotFound, match=r"^01020036:3: The requested VLAN \(/Common/nosuch\) was not found\.$"):
        run(vlans, VS.replace("{ internal }", "{ nosuch }"))
    assert vlans.objects == before
    run(vlans, VS.replace("{ internal }", "{ external }"))
    with pytest.raises(InUse, match=r"VLAN \(/Common/external\) cannot be deleted because it is in use by a "
                                    r"Virtual Server \(/Common/vs\)"):
        run(vlans, "delete net vlan external")


async def test_rest_shows_vlans_enabled_and_the_vlans_as_f5_does(tmp_path):
    parts = fake_parts(tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=RestApp(**parts).app),
                                 base_url="https://localhost", auth=("admin", "admin")) as c:
        r = await c.post("/mgmt/tm/ltm/virtual", json={"name": "any", "destination": "/Common/10.0.0.101:80"})
        assert r.json()["vlansDisabled"] is True and "vlans" not in r.json()   # every VLAN, as F5 shows it
        body = {"name": "vs", "destination": "/Common/10.0.0.100:80", "vlansEnabled": True}
        r = await c.post("/mgmt/tm/ltm/virtual", json={**body, "vlans": ["/Common/nosuch"]})
        assert r.status_code == 400 and "VLAN (/Common/nosuch)" in r.json()["message"]
        r = await c.post("/mgmt/tm/ltm/virtual", json={**body, "vlans": ["/Common/internal"]})
        assert r.status_code == 200, r.text
        got = (await c.get("/mgmt/tm/ltm/virtual/~Common~vs")).json()
        assert (got["vlansEnabled"], got["vlans"], "vlansDisabled" in got) == (True, ["/Common/internal"], False)
        r = await c.patch("/mgmt/tm/ltm/virtual/~Common~vs", json={"vlansDisabled": True})
        got = r.json()
        assert (got["vlansDisabled"], "vlansEnabled" in got) == (True, False)


def test_as3_allow_and_reject_vlans_are_the_virtuals_vlans():
    svc, store, _ = services()
    status, out = as3(svc, adc(Shop={"class": "Tenant", "App": web(allowVlans=[{"bigip": "/Common/external"}])}))
    assert status == 200 and out["results"][0]["code"] == 200, out
    vs = store.get("ltm virtual", "/Shop/App/serviceMain")
    assert (vs["vlans"], vs.get("vlans-enabled"), vs.get("vlans-disabled")) == (["/Common/external"], True, None)
    again = as3(svc, adc(Shop={"class": "Tenant", "App": web(allowVlans=[{"bigip": "/Common/external"}])}))
    assert again[1]["results"][0]["message"] == "no change"
    as3(svc, adc(Shop={"class": "Tenant", "App": web(rejectVlans=[{"bigip": "/Common/external"}])}))
    vs = store.get("ltm virtual", "/Shop/App/serviceMain")
    assert (vs["vlans"], vs.get("vlans-enabled"), vs.get("vlans-disabled")) == (["/Common/external"], None, True)
    assert as3(svc, None, ["Shop"], "DELETE")[0] == 200 and owned(store) == []


def test_as3_refuses_a_missing_vlan_and_both_lists_changing_nothing():
    svc, store, _ = services()
    before = dict(store.objects)
    status, out = as3(svc, adc(Shop={"class": "Tenant", "App": web(allowVlans=[{"bigip": "/Common/nosuch"}])}))
    assert out["results"][0]["code"] != 200 and "The requested VLAN (/Common/nosuch) was not found." in \
        out["results"][0]["response"]
    assert owned(store) == [] and {k: v for k, v in store.objects.items() if k in before} == before
    both = adc(Shop={"class": "Tenant", "App": web(allowVlans=[{"bigip": "/Common/external"}],
                                                    rejectVlans=[{"bigip": "/Common/external"}])})
    assert errors_of(both)


def prerouting(vs) -> list[dict]:
    return [c["add"]["rule"] for c in fastl4.batch([vs], set(), set())["nftables"]
            if c.get("add", {}).get("rule", {}).get("chain") == "prerouting"]


def test_a_fastl4_virtual_takes_connections_on_its_vlans_only_or_on_all_but_them():
    vs = L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", (L4Member("/Common/10.1.20.21:80", "10.1.20.21", 80),))
    iif = {"meta": {"key": "iifname"}}
    assert not any(e.get("match", {}).get("left") == iif for r in prerouting(vs) for e in r["expr"])
    for enabled, op in ((True, "=="), (False, "!=")):
        (rule,) = prerouting(replace(vs, vlans=("internal", "external"), vlans_enabled=enabled))
        assert {"match": {"op": op, "left": iif, "right": {"set": ["internal", "external"]}}} in rule["expr"]
    assert prerouting(replace(vs, vlans_enabled=True)) == []   # enabled on no VLAN: it takes nothing


def chain(vs, name) -> list[dict]:
    return [c["add"]["rule"]["expr"] for c in fastl4.batch([vs], set(), set())["nftables"]
            if c.get("add", {}).get("rule", {}).get("chain") == name]


def test_the_kernel_resets_a_proxied_virtuals_connections_off_its_vlans():
    iif = {"meta": {"key": "iifname"}}
    vs = L4Virtual("/Common/vs", "10.1.10.100", 85, "tcp", "round-robin", (), proxied=True)
    assert chain(vs, "input") == []    # on every VLAN: nothing to guard
    (rule,) = chain(replace(vs, vlans=("internal",), vlans_enabled=True), "input")
    assert {"match": {"op": "!=", "left": iif, "right": {"set": ["internal"]}}} in rule
    assert rule[-1] == {"reject": {"type": "tcp reset"}}
    (rule,) = chain(replace(vs, vlans=("internal",)), "input")    # vlans-disabled: all but internal
    assert {"match": {"op": "==", "left": iif, "right": {"set": ["internal"]}}} in rule
    (rule,) = chain(replace(vs, vlans_enabled=True), "input")     # enabled on none: every connection
    assert not any(e.get("match", {}).get("left") == iif for e in rule) and rule[-1]["reject"]
    (rule,) = chain(replace(vs, protocol="udp", vlans=("internal",), vlans_enabled=True), "input")
    assert rule[-1] == {"reject": None}   # ICMP port unreachable
    assert chain(replace(vs, vlans_enabled=True), "prerouting") == []   # no DNAT: the proxy serves it
    assert fastl4.wanted([replace(vs, vlans_enabled=True)]) == ([], [])   # nor counters: the proxy counts


def test_an_ip_forward_virtual_forwards_from_its_vlans_only():
    iif = {"meta": {"key": "iifname"}}
    vs = L4Virtual("/Common/fwd", "10.1.20.0", 0, "any", "round-robin", (), forward=True, prefix=24)
    assert [r[-1] for r in chain(vs, "allow")] == [{"accept": None}]
    rules = chain(replace(vs, vlans=("external",), vlans_enabled=True), "allow")
    assert [r[-1] for r in rules] == [{"drop": None}, {"accept": None}]   # the drop first
    assert {"match": {"op": "!=", "left": iif, "right": {"set": ["external"]}}} in rules[0]
    counted = chain(replace(vs, vlans=("external",), vlans_enabled=True), "forward")
    assert {"match": {"op": "==", "left": iif, "right": {"set": ["external"]}}} in counted[0]   # only what it takes counts
    assert chain(replace(vs, vlans_enabled=True), "allow") == []   # enabled on none: it forwards nothing


def test_a_virtuals_irules_are_listed_one_a_line_as_f5_lists_them(vlans):
    run(vlans, "create ltm rule r1 { when CLIENT_ACCEPTED { } }")
    run(vlans, VS + " rules { r1 }")
    text = tmsh.render("ltm virtual", "/Common/vs", vlans.get("ltm virtual", "/Common/vs"))
    assert "    rules {\n        r1\n    }\n" in text
