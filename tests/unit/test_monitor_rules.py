"""Pools with several monitors: `a and b` (all must find a member up) and `min N of { a b }` (at
least N), in tmsh, REST (as bigip_pool sends and F5's fixtures show them) and AS3, and the rule
that combines each monitor's verdict."""
from __future__ import annotations

import httpx
import pytest

from node.as3.desired import tenant_objects
from node.as3.refs import Resolver
from node.config import tmsh
from node.errors import InUse, Invalid, NotFound
from node.ltm.monitors import combined
from node.rest.app import RestApp
from test_as3_core import adc, app, errors_of
from test_icontrol import fake_parts
from test_ssl_files import run, store  # noqa: F401  (store: a fixture)


def test_and_needs_every_monitor_up_and_min_n_at_least_n():
    assert combined(["up", "up"], 2) == "up"
    assert combined(["up", "down"], 2) == "down"
    assert combined(["up", "checking"], 2) == "checking"
    assert combined(["down", "up"], 1) == "up"
    assert combined(["down", "checking", "up"], 2) == "checking"
    assert combined(["down", "down", "up"], 2) == "down"


def test_tmsh_takes_and_lists_both_rules_with_full_paths_stored(store):
    run(store, "create ltm pool p1 monitor http and tcp")
    run(store, "create ltm pool p2 monitor min 1 of { http tcp gateway_icmp }")
    assert store.get("ltm pool", "/Common/p1")["monitor"] == "/Common/http and /Common/tcp"
    assert store.get("ltm pool", "/Common/p2")["monitor"] == "min 1 of { /Common/http /Common/tcp /Common/gateway_icmp }"
    assert "    monitor http and tcp\n" in tmsh.render("ltm pool", "/Common/p1", store.get("ltm pool", "/Common/p1"))
    assert "    monitor min 1 of { http tcp gateway_icmp }\n" in tmsh.render("ltm pool", "/Common/p2",
                                                                           store.get("ltm pool", "/Common/p2"))


def test_a_bad_rule_is_refused_and_nothing_changes(store):
    run(store, "create ltm pool p1 monitor http")
    before = dict(store.get("ltm pool", "/Common/p1"))
    with pytest.raises(NotFound, match=r"^01020036:3: The requested Monitor \(/Common/nosuch\) was not found\.$"):
        run(store, "modify ltm pool p1 monitor http and nosuch")
    with pytest.raises(Invalid, match="min 3 of 2 monitors"):
        run(store, "modify ltm pool p1 monitor min 3 of { http tcp }")
    assert store.get("ltm pool", "/Common/p1") == before


def test_a_monitor_in_a_rule_is_in_use(store):
    run(store, "create ltm monitor tcp t1")
    run(store, "create ltm pool p1 monitor http and t1")
    with pytest.raises(InUse, match=r"The Monitor \(/Common/t1\) cannot be deleted because it is in use by a Pool"):
        run(store, "delete ltm monitor tcp t1")


def rest_client(tmp_path) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=RestApp(**fake_parts(tmp_path)).app),
                             base_url="https://localhost", auth=("admin", "admin"))


async def test_rest_takes_bigip_pools_rules_and_shows_them_as_f5_does(tmp_path):
    async with rest_client(tmp_path) as c:
        # bigip_pool sends m_of_n without the braces, and_list joined by " and "
        r = await c.post("/mgmt/tm/ltm/pool", json={"name": "p1", "monitor": "min 1 of /Common/http /Common/tcp"})
        assert r.status_code == 200, r.text
        assert r.json()["monitor"] == "min 1 of { /Common/http /Common/tcp }"
        r = await c.patch("/mgmt/tm/ltm/pool/~Common~p1", json={"monitor": "/Common/http and /Common/tcp"})
        assert r.json()["monitor"] == "/Common/http and /Common/tcp"
        r = await c.patch("/mgmt/tm/ltm/pool/~Common~p1", json={"monitor": "min 2 of { /Common/http }"})
        assert r.status_code == 400 and "min 2 of 1 monitors" in r.json()["message"]
        assert (await c.get("/mgmt/tm/ltm/pool/~Common~p1")).json()["monitor"] == "/Common/http and /Common/tcp"


def pool_of(**pool) -> dict:
    decl = adc(T={"class": "Tenant", "A": app(p={"class": "Pool", "members": [
        {"servicePort": 80, "serverAddresses": ["10.1.20.21"]}], **pool})})
    return decl


def as3_monitor(**pool) -> str:
    decl = pool_of(**pool)
    assert errors_of(decl) == []
    objs = tenant_objects("T", decl["T"], Resolver({"T": decl["T"]}))
    return next(o.values["monitor"] for o in objs if o.type == "ltm pool")


def test_as3_pool_monitors_become_a_rule_as_as3_writes_it():
    assert as3_monitor(monitors=["http"]) == "/Common/http"
    assert as3_monitor(monitors=["http", "tcp"]) == "min 1 of { /Common/http /Common/tcp }"
    assert as3_monitor(monitors=["http", {"bigip": "/Common/tcp"}], minimumMonitors=2) == \
        "min 2 of { /Common/http /Common/tcp }"
    assert as3_monitor(monitors=["http", "icmp"], minimumMonitors="all") == "/Common/http and /Common/gateway_icmp"


def test_as3_minimum_monitors_above_the_monitors_is_refused():
    assert errors_of(pool_of(monitors=["http", "tcp"], minimumMonitors=3)) == [
        "/T/A/p/minimumMonitors: should be <= the number of monitors (2)"]


# -- a pool member's own monitor rule (tmsh `members add { A:80 { monitor http } }`, REST member `monitor`)
def test_tmsh_takes_a_members_own_rule_stores_full_paths_and_lists_it(store):
    run(store, "create ltm pool p1 monitor http members add { 10.1.20.21:80 { monitor min 1 of { tcp gateway_icmp } } "
               "10.1.20.22:80 { monitor tcp and http ratio 2 } 10.1.20.23:80 }")
    members = {m["name"]: m for m in store.get("ltm pool", "/Common/p1")["members"]}
    assert members["/Common/10.1.20.21:80"]["monitor"] == "min 1 of { /Common/tcp /Common/gateway_icmp }"
    assert members["/Common/10.1.20.22:80"]["monitor"] == "/Common/tcp and /Common/http"
    assert members["/Common/10.1.20.22:80"]["ratio"] == 2
    assert "monitor" not in members["/Common/10.1.20.23:80"]    # default: the pool's rule
    text = tmsh.render("ltm pool", "/Common/p1", store.get("ltm pool", "/Common/p1"))
    assert "            monitor min 1 of { tcp gateway_icmp }\n" in text
    assert "            monitor tcp and http\n" in text
    run(store, "modify ltm pool p1 members modify { 10.1.20.21:80 { monitor default } 10.1.20.23:80 { monitor none } }")
    members = {m["name"]: m for m in store.get("ltm pool", "/Common/p1")["members"]}
    assert "monitor" not in members["/Common/10.1.20.21:80"] and members["/Common/10.1.20.23:80"]["monitor"] == "none"


def test_a_members_missing_monitor_is_refused_and_its_monitor_is_in_use(store):
    with pytest.raises(NotFound, match=r"The requested Monitor \(/Common/nosuch\) was not found"):
        run(store, "create ltm pool p1 members add { 10.1.20.21:80 { monitor nosuch } }")
    assert store.get("ltm pool", "/Common/p1") is None
    run(store, "create ltm monitor tcp t1")
    run(store, "create ltm pool p1 members add { 10.1.20.21:80 { monitor t1 } }")
    with pytest.raises(InUse, match=r"The Monitor \(/Common/t1\) cannot be deleted because it is in use by a Pool"):
        run(store, "delete ltm monitor tcp t1")


async def test_rest_takes_bigip_pool_members_monitors_and_shows_them(tmp_path):
    async with rest_client(tmp_path) as c:
        await c.post("/mgmt/tm/ltm/pool", json={"name": "p1", "monitor": "/Common/http"})
        url = "/mgmt/tm/ltm/pool/~Common~p1/members"
        # bigip_pool_member sends at_least without the braces, none as /Common/none
        r = await c.post(url, json={"name": "10.1.20.21:80", "address": "10.1.20.21",
                                    "monitor": "min 1 of /Common/http /Common/tcp"})
        assert r.status_code == 200, r.text
        assert r.json()["monitor"] == "min 1 of { /Common/http /Common/tcp }"
        r = await c.patch(f"{url}/~Common~10.1.20.21:80", json={"monitor": "/Common/none"})
        assert r.json()["monitor"] == "/Common/none"
        r = await c.patch(f"{url}/~Common~10.1.20.21:80", json={"monitor": "default"})
        assert r.json()["monitor"] == "default"
        r = await c.patch(f"{url}/~Common~10.1.20.21:80", json={"monitor": "/Common/nosuch"})
        assert r.status_code == 400 and "01020036:3: The requested Monitor (/Common/nosuch) was not found." in r.json()["message"]


async def test_each_member_is_probed_by_its_own_rule_else_its_pools(store):
    from node.events import Hub
    from node.ltm.service import LTM
    from node.log import Log
    run(store, "create ltm pool p1 monitor http members add { 10.1.20.21:80 { monitor tcp and gateway_icmp } "
               "10.1.20.22:80 10.1.20.23:80 { monitor none } }")
    ltm = LTM("bigip1", store, lambda: ["traffic-group-1"], Log(None, "bigip1"), Hub())
    started = []
    ltm._nursery = type("Nursery", (), {"start_soon": lambda self, *args: started.append(args[1])})()
    ltm._reconcile_monitors()
    assert sorted(ltm.monitors) == [("/Common/p1", "/Common/10.1.20.21:80", "/Common/gateway_icmp"),
                                    ("/Common/p1", "/Common/10.1.20.21:80", "/Common/tcp"),
                                    ("/Common/p1", "/Common/10.1.20.22:80", "/Common/http")]
    views = {m.name: m.monitor for m in ltm.members("/Common/p1")}
    assert views == {"/Common/10.1.20.21:80": "checking", "/Common/10.1.20.22:80": "checking",
                     "/Common/10.1.20.23:80": "unchecked"}


def test_as3_member_monitors_become_the_members_own_rule():
    decl = adc(T={"class": "Tenant", "A": app(
        m={"class": "Monitor", "monitorType": "tcp"},
        p={"class": "Pool", "monitors": ["http"], "members": [
            {"servicePort": 80, "serverAddresses": ["10.1.20.21"], "monitors": [{"use": "m"}, "icmp"],
             "minimumMonitors": 1},
            {"servicePort": 80, "serverAddresses": ["10.1.20.22"], "monitors": ["tcp", "http"], "minimumMonitors": "all"},
            {"servicePort": 80, "serverAddresses": ["10.1.20.23"]}]})})
    assert errors_of(decl) == []
    pool = next(o for o in tenant_objects("T", decl["T"], Resolver({"T": decl["T"]})) if o.type == "ltm pool")
    assert {k: v.get("monitor") for k, v in pool.values["members"].items()} == {
        "/T/10.1.20.21:80": "min 1 of { /T/A/m /Common/gateway_icmp }",
        "/T/10.1.20.22:80": "/Common/tcp and /Common/http", "/T/10.1.20.23:80": None}


def test_as3_a_members_missing_monitor_or_too_high_minimum_is_refused():
    decl = adc(T={"class": "Tenant", "A": app(p={"class": "Pool", "members": [
        {"servicePort": 80, "serverAddresses": ["10.1.20.21"], "monitors": [{"use": "nosuch"}]},
        {"servicePort": 80, "serverAddresses": ["10.1.20.22"], "monitors": ["tcp"], "minimumMonitors": 2}]})})
    assert errors_of(decl) == ["/T/A/p/members/0/monitors/0: the Monitor /T/A/nosuch is not declared",
                               "/T/A/p/members/1/minimumMonitors: should be <= the number of monitors (1)"]
