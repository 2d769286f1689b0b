"""AS3's event-driven service discovery: a pool member with `addressDiscovery: event` makes a task
at /mgmt/shared/service-discovery/task/~T~A~P; the node list POSTed to its /nodes becomes the
pool's members (replacing the last list), kept across redeploys, gone with the tenant."""
from __future__ import annotations

from test_as3_core import adc, app, as3_client, config

TASK = "/mgmt/shared/service-discovery/task/~Shop~Web~pool"


def shop() -> dict:
    return adc(Shop={"class": "Tenant", "Web": app(pool={"class": "Pool", "members": [
        {"servicePort": 8080, "addressDiscovery": "static", "serverAddresses": ["10.1.20.21"]},
        {"servicePort": 8080, "addressDiscovery": "event"}]})})


def members(rest) -> dict:
    return {m["name"]: m["address"] for m in rest.store.get("ltm pool", "/Shop/Web/pool")["members"]}


async def test_posted_nodes_become_members_and_a_redeploy_keeps_them(tmp_path):
    rest, c = as3_client(tmp_path)
    async with c:
        assert (await c.post("/mgmt/shared/appsvcs/declare", json=shop())).status_code == 200
        assert members(rest) == {"/Shop/10.1.20.21:8080": "10.1.20.21"}
        task = (await c.get(TASK)).json()
        assert (task["id"], task["provider"], task["nodePrefix"], task["resources"][0]["path"]) == (
            "~Shop~Web~pool", "event", "/Shop/", "/Shop/Web/pool")
        r = await c.post(f"{TASK}/nodes", json=[{"id": "newNode1", "ip": "10.1.20.31", "port": 8081},
                                                 {"id": "newNode2", "ip": "10.1.20.32"}])
        assert r.status_code == 200, r.text
        assert members(rest) == {"/Shop/10.1.20.21:8080": "10.1.20.21", "/Shop/newNode1:8081": "10.1.20.31",
                                 "/Shop/newNode2:8080": "10.1.20.32"}
        assert rest.store.get("ltm node", "/Shop/newNode1")["address"] == "10.1.20.31"
        got = (await c.get(f"{TASK}/nodes")).json()["result"]["providerOptions"]["nodeList"]
        assert [n["id"] for n in got] == ["newNode1", "newNode2"]
        r = await c.post("/mgmt/shared/appsvcs/declare", json=shop())
        assert r.json()["results"][0]["message"] == "no change" and len(members(rest)) == 3
        # the list replaces the last one
        r = await c.post(f"{TASK}/nodes", json=[{"id": "newNode2", "ip": "10.1.20.32"}])
        assert r.status_code == 200, r.text
        assert members(rest) == {"/Shop/10.1.20.21:8080": "10.1.20.21", "/Shop/newNode2:8080": "10.1.20.32"}
        assert rest.store.get("ltm node", "/Shop/newNode1") is None
        assert (await c.get("/mgmt/shared/service-discovery/task")).json()["items"][0]["id"] == "~Shop~Web~pool"
        # the tenant goes, and its task and node list with it
        assert (await c.delete("/mgmt/shared/appsvcs/declare/Shop")).status_code == 200
        assert (await c.get(TASK)).status_code == 404
        assert not [k for k in rest.store.objects if k[1].startswith(("/Shop", "/Common/appsvcs/sd-"))]


async def test_a_bad_node_list_or_unknown_task_is_refused_and_changes_nothing(tmp_path):
    rest, c = as3_client(tmp_path)
    async with c:
        await c.post("/mgmt/shared/appsvcs/declare", json=shop())
        before = config(rest.store)
        for body, why in (({"id": "a", "ip": "10.1.20.31"}, "the body should be an array of nodes"),
                          ([{"id": "a"}], "node 0: should have required properties 'id' and 'ip'"),
                          ([{"id": "a", "ip": "not-an-ip"}], "node 0: ip 'not-an-ip' is not an IP address"),
                          ([{"id": "a", "ip": "10.1.20.31", "port": 70000}],
                           "node 0: port should be an integer from 0 to 65535"),
                          ([{"id": "a", "ip": "10.1.20.31", "colour": 1}],
                           "node 0: should NOT have additional property 'colour'")):
            r = await c.post(f"{TASK}/nodes", json=body)
            assert (r.status_code, r.json()["message"]) == (400, f"invalid node list: {why}")
        r = await c.post("/mgmt/shared/service-discovery/task/~Shop~Web~nosuch/nodes", json=[])
        assert (r.status_code, r.json()["message"]) == (404, "task ~Shop~Web~nosuch not found")
        assert config(rest.store) == before


async def test_service_discovery_disabled_refuses_event_members_and_tasks_keep_it_enabled(tmp_path):
    rest, c = as3_client(tmp_path)
    settings = "/mgmt/shared/appsvcs/settings"
    async with c:
        assert (await c.post(settings, json={"serviceDiscoveryEnabled": False})).status_code == 200
        r = await c.post("/mgmt/shared/appsvcs/declare", json=shop())
        assert (r.status_code, r.json()["errors"]) == (
            422, ["/Shop/Web/pool/members/1/addressDiscovery: requires Service Discovery to be enabled"])
        assert (await c.post(settings, json={})).json()["serviceDiscoveryEnabled"] is True
        assert (await c.post("/mgmt/shared/appsvcs/declare", json=shop())).status_code == 200
        r = await c.post(settings, json={"serviceDiscoveryEnabled": False})
        assert (r.status_code, r.json()["message"]) == (
            422, "Service Discovery cannot be disabled while there are existing tasks")
        assert (await c.get(settings)).json()["serviceDiscoveryEnabled"] is True
