"""iControl REST's sans-IO parts: URLs, F5's shapes, bodies to Ops, auth and tokens, queries; and the
ASGI app's busy answer, against a real ConfigStore."""
from __future__ import annotations

import base64
from types import SimpleNamespace

import httpx
import pytest

from node.config.schema import ConfigError
from node.config.store import ConfigStore, Op
from node.rest import resources as res
from node.rest.app import RestApp
from node.rest.bash import bash_tmsh_lines
from node.rest.parts import Device
from node.rest.auth import Auth
from node.rest.query import Query
from node.rest.resources import RestError


def test_routes_from_the_schema():
    r = res.route(["ltm", "pool"])
    assert (r.type, r.path) == ("ltm pool", None)
    r = res.route(["ltm", "pool", "~Common~web", "members", "~Common~10.0.0.1:80", "stats"])
    assert (r.path, r.sub, r.member, r.stats) == ("/Common/web", "members", "/Common/10.0.0.1:80", True)
    assert res.route(["ltm", "monitor", "http", "http"]).path == "/Common/http"
    assert res.route(["ltm", "nosuch"]) is None
    assert res.route(["ltm", "pool", "~Other~app~web"]).path == "/Other/app/web"   # partition and folder
    with pytest.raises(RestError) as e:
        res.route(["ltm", "pool", "~web"])
    assert e.value.code == 404
    with pytest.raises(RestError):
        res.route(["ltm", "pool", "web", "colours"])
    assert res.organizing(["ltm"]) == sorted({"data-group", "message-routing", "monitor", "node", "persistence", "policy",
                                              "pool", "profile", "rule", "snat-translation", "snatpool", "virtual",
                                              "virtual-address"})


def test_object_shapes():
    pool = res.to_rest("ltm pool", "/Common/web", {"monitor": "http", "load-balancing-mode": "round-robin",
                                                  "members": [{"name": "/Common/10.0.0.1:80", "address": "10.0.0.1"}]},
                       7, expand=True)
    assert pool["kind"] == "tm:ltm:pool:poolstate"
    assert pool["selfLink"] == "https://localhost/mgmt/tm/ltm/pool/~Common~web?ver=17.1.0"
    assert pool["monitor"] == "/Common/http" and pool["generation"] == 7
    member = pool["membersReference"]["items"][0]
    assert member["kind"] == "tm:ltm:pool:members:membersstate" and member["session"] == "user-enabled"
    vs = res.to_rest("ltm virtual", "/Common/vs", {"destination": "/Common/10.0.0.9:80", "pool": "/Common/web",
                                                    "status": "disabled"}, 1)
    assert vs["disabled"] is True and "enabled" not in vs
    assert vs["poolReference"]["link"] == "https://localhost/mgmt/tm/ltm/pool/~Common~web?ver=17.1.0"
    user = res.to_rest("auth user", "/Common/bob", {"password": "$pbkdf2-sha256$1$00$00", "role": "operator"}, 1)
    assert user["partitionAccess"] == [{"name": "all-partitions", "role": "operator", "nameReference": {
        "link": "https://localhost/mgmt/tm/auth/partition/all-partitions?ver=17.1.0"}}]
    assert res.kind("gtm pool a", "state") == "tm:gtm:pool:a:astate"


def test_bodies_become_ops():
    op = res.op_for("POST", res.route(["ltm", "pool"]),
                    {"name": "web", "partition": "Common", "kind": "x", "membersReference": {},
                     "members": [{"name": "10.0.0.1:80", "session": "monitor-enabled", "state": "up"}]})
    assert (op.action, op.path) == ("create", "/Common/web")
    assert op.values["members"] == ("set", {"10.0.0.1:80": {"session": "user-enabled", "state": "user-up"}})
    with pytest.raises(RestError, match="Found unexpected json pair at configuration item /ltm/pool/"):
        res.op_for("POST", res.route(["ltm", "pool"]), {"name": "p", "colour": "blue"})
    with pytest.raises(RestError):
        res.op_for("POST", res.route(["ltm", "pool"]), {"name": "p", "description": ["a"]})
    put = res.op_for("PUT", res.route(["ltm", "pool", "~Common~web"]), {"description": "d"})
    assert put.values["load-balancing-mode"] == ("set", "round-robin")  # PUT resets what is not given
    patch = res.op_for("PATCH", res.route(["ltm", "pool", "~Common~web"]), {"description": "d"})
    assert set(patch.values) == {"description"}
    m = res.op_for("PATCH", res.route(["ltm", "pool", "web", "members", "~Common~10.0.0.1:80"]),
                   {"session": "user-disabled", "fqdn": {}})
    assert m.values == {"members": ("modify", {"/Common/10.0.0.1:80": {"session": "user-disabled"}})}
    m = res.op_for("PATCH", res.route(["ltm", "pool", "web", "members", "~Common~10.0.0.1:80"]),
                   {"connectionLimit": 10})      # stored
    assert m.values == {"members": ("modify", {"/Common/10.0.0.1:80": {"connection-limit": 10}})}
    with pytest.raises(RestError):
        res.op_for("PATCH", res.route(["ltm", "pool", "web", "members", "~Common~10.0.0.1:80"]),
                   {"ephemeral": "true"})
    v = res.op_for("PATCH", res.route(["ltm", "virtual", "vs"]), {"disabled": True})
    assert v.values == {"status": ("set", "disabled")}
    with pytest.raises(ConfigError):
        res.body_name("ltm pool", {"name": "a~b"})


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def auth_with(users=None):
    clock = FakeClock()
    from node.config.schema import hash_secret
    table = {name: {"password": hash_secret(pw), "role": role} for name, (pw, role) in (users or {}).items()}
    return Auth({"username": "admin", "password": "admin"}, lambda: table, clock), clock


def basic(user, pw):
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


def test_tokens_expire_extend_and_are_capped():
    auth, clock = auth_with({"bob": ("pw", "guest")})
    t = auth.login({"username": "bob", "password": "pw", "loginProviderName": "tmos"}, "10.0.0.1")
    assert auth.authenticate({"x-f5-auth-token": t.token}, "/u") == "bob"
    clock.t += 1199
    auth.authenticate({"x-f5-auth-token": t.token}, "/u")
    with pytest.raises(RestError) as e:
        auth.set_timeout("bob", t.token, {"timeout": 36001})
    assert e.value.code == 406
    auth.set_timeout("bob", t.token, {"timeout": 36000})
    clock.t += 35999
    auth.authenticate({"x-f5-auth-token": t.token}, "/u")
    clock.t += 2
    with pytest.raises(RestError, match="X-F5-Auth-Token has expired."):
        auth.authenticate({"x-f5-auth-token": t.token}, "/u")
    for _ in range(100):
        auth.login({"username": "bob", "password": "pw"}, "")
    with pytest.raises(RestError) as e:
        auth.login({"username": "bob", "password": "pw"}, "")
    assert e.value.code == 400
    clock.t += 1201       # expired tokens free their places
    auth.login({"username": "bob", "password": "pw"}, "")
    for _ in range(150):  # admin has no cap
        auth.login({"username": "admin", "password": "admin"}, "")


def test_basic_auth_and_roles():
    auth, _ = auth_with({"op": ("pw", "operator"), "gone": ("pw", "no-access")})
    assert auth.authenticate(basic("admin", "admin"), "/u") == "admin"
    assert auth.authenticate(basic("op", "pw"), "/u") == "op"
    for headers in (basic("op", "bad"), basic("gone", "pw"), {}, {"x-f5-auth-token": "NOPE"}):
        with pytest.raises(RestError) as e:
            auth.authenticate(headers, "/u")
        assert e.value.code == 401
    auth.authorize("op", "GET", "/u")
    auth.authorize_change("op", "PATCH", "/u", Op("modify", "ltm node", "/Common/n", {"session": ("set", "user-disabled")}))
    with pytest.raises(RestError, match="user=op resource=/u verb=POST"):
        auth.authorize("op", "POST", "/u")
    with pytest.raises(RestError, match="user=op resource=/u verb=POST"):
        auth.authorize_change("op", "POST", "/u", Op("create", "ltm node", "/Common/n", {}))


def test_queries_page_select_and_filter():
    data = {"selfLink": "https://localhost/mgmt/tm/ltm/node?ver=17.1.0",
            "items": [{"name": f"n{i}", "partition": "Common", "address": f"10.0.0.{i}"} for i in range(5)]}
    r = res.route(["ltm", "node"])
    page = Query.parse({"$top": "2", "$skip": "2", "$select": "name"}).apply(data, r)
    assert page["items"] == [{"name": "n2"}, {"name": "n3"}]
    assert page["nextLink"] == "https://localhost/mgmt/tm/ltm/node?$top=2&$skip=4&ver=17.1.0"
    assert page["totalPages"] == 3 and page["previousLink"].endswith("$top=2&$skip=0&ver=17.1.0")
    assert Query.parse({"$filter": "name eq n1"}).apply(data, r)["items"][0]["address"] == "10.0.0.1"
    with pytest.raises(RestError):
        Query.parse({"$top": "ten"})
    with pytest.raises(RestError):
        Query.parse({"$filter": "name gt n1"})


def test_bash_runs_only_tmsh():
    assert bash_tmsh_lines('-c "tmsh create ltm node a address 10.0.0.1; tmsh list ltm node a"') == [
        "create ltm node a address 10.0.0.1", "list ltm node a"]
    assert bash_tmsh_lines("-c 'tmsh create gtm region r region-members add { subnet 10.0.0.0/8 }'") == [
        "create gtm region r region-members add { subnet 10.0.0.0/8 }"]
    for bad in ('-c "rm -rf /"', '-c "tmsh list; cat /etc/shadow"', "tmsh list", '-c "unterminated'):
        with pytest.raises(RestError):
            bash_tmsh_lines(bad)


def fake_parts(tmp_path):
    store = ConfigStore(None, "b1")
    store.commit([Op("create", "net vlan", "/Common/internal", {}),
                  Op("create", "net self", "/Common/internal-self", {"address": ("set", "10.0.0.11/24"),
                                                                      "vlan": ("set", "internal")})])
    return dict(store=store, shell=None, cluster=None, ltm=SimpleNamespace(members=lambda pool: []),
                device=Device("b1", "t", "10.9.9.11"), admin={"username": "admin", "password": "admin"},
                now=FakeClock(), save_config=lambda: str(tmp_path))


async def test_writes_while_a_task_runs_get_503_and_change_nothing(tmp_path):
    parts = fake_parts(tmp_path)
    rest = RestApp(**parts)
    store = parts["store"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost",
                                 auth=("admin", "admin")) as c:
        body = {"name": "n1", "address": "10.0.0.21"}
        rest.tasks.running = "run cm config-sync to-group dg"
        r = await c.post("/mgmt/tm/ltm/node", json=body)
        assert r.status_code == 503 and r.json()["message"] == "There is an active asynchronous task executing."
        assert store.get("ltm node", "/Common/n1") is None
        assert (await c.get("/mgmt/tm/ltm/node")).status_code == 200   # reads go on
        rest.tasks.running = None
        assert (await c.post("/mgmt/tm/ltm/node", json=body)).status_code == 200
        # a transaction is one commit: a failing command leaves nothing behind
        tid = (await c.post("/mgmt/tm/transaction", json={})).json()["transId"]
        h = {"X-F5-REST-Coordination-Id": str(tid)}
        assert (await c.post("/mgmt/tm/ltm/node", json={"name": "n2", "address": "10.0.0.22"},
                             headers=h)).status_code == 200
        assert (await c.post("/mgmt/tm/ltm/node", json=body, headers=h)).status_code == 200  # exists: fails at commit
        assert store.get("ltm node", "/Common/n2") is None    # queued, not applied
        r = await c.patch(f"/mgmt/tm/transaction/{tid}", json={"state": "VALIDATING"})
        assert r.status_code == 400 and "already exists" in r.json()["message"]
        assert store.get("ltm node", "/Common/n2") is None


def test_gtm_items_terms_and_topology_names():
    op = res.op_for("POST", res.route(["gtm", "pool", "a"]),
                    {"name": "p1", "members": [{"name": "s1:vs1", "ratio": 2, "disabled": True}, "s2:vs2"]})
    assert op.values["members"] == ("set", {"s1:vs1": {"ratio": 2, "status": "disabled"}, "s2:vs2": {}})
    region = res.op_for("POST", res.route(["gtm", "region"]), {"name": "r", "regionMembers": [{"name": "subnet 10.0.0.0/8"}]})
    assert region.values["region-members"] == ("set", ["subnet 10.0.0.0/8"])
    r = res.route(["gtm", "topology", "ldns: subnet 10.0.0.0~8 server: pool ~Common~p1"])
    assert r.path == "ldns: subnet 10.0.0.0/8 server: pool /Common/p1"
    topo = res.to_rest("gtm topology", r.path, {"score": 5}, 1)
    assert topo["name"] == r.path and "%20" in topo["selfLink"]
    pool = res.to_rest("gtm pool a", "/Common/p1", {"members": [{"name": "/Common/s1:vs1", "ratio": 2, "member-order": 0,
                                                                 "status": "enabled"}]}, 1, expand=True)
    item = pool["membersReference"]["items"][0]
    assert (item["name"], item["fullPath"], item["enabled"]) == ("s1:vs1", "/Common/s1:vs1", True)
    with pytest.raises(RestError, match="unexpected json pair"):
        res.op_for("POST", res.route(["gtm", "pool", "a"]), {"name": "p", "members": [{"name": "s:v", "colour": 1}]})
