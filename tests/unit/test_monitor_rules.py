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


async def test_rest_takes_bigip_pools_rules_and_shows_them_as_f5_does(tmp_path):
    parts = fake_parts(tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=RestApp(**parts).app),
                                 base_url="https://localhost", auth=("admin", "admin")) as c:
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
