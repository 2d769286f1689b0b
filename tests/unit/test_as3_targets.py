"""AS3 requests for targets (node/as3/targets.py): an array of requests in one POST, targetHost on
this device, on another BIG-IP of the lab (sent over its REST) or outside the lab (AS3's answer
for an unreachable target, nothing sent), request-level errors that refuse the whole body, and
per-item errors that refuse only their item."""
from __future__ import annotations

import base64

import pytest
import trio

from node.as3 import targets
from node.config.store import Op
from tests.unit.test_as3_core import adc, config, services, web

LAB = targets.Lab("b1", "10.9.9.11", (("b2", "10.9.9.12"),))


def shop(addr="10.1.10.100", t="Shop") -> dict:
    last = int(addr.rsplit(".", 1)[1])     # each tenant its own servers (a node address is one partition's)
    return adc(**{t: {"class": "Tenant", "Web": web(addr, (f"10.1.21.{last}", f"10.1.22.{last}"))}})


def request(decl: dict, host: str | None = None, **more) -> dict:
    return {"class": "AS3", "action": "deploy", "declaration": decl,
            **({"targetHost": host} if host else {}), **more}


async def in_thread(fn, *args):
    return fn(*args)


def forbidden(item, tenants):
    raise AssertionError(f"nothing may be sent to {item.host}")


def run(svc, body, forward=forbidden):
    items, errors = targets.batch(body, LAB)
    assert not errors, errors
    answers = trio.run(targets.run, svc, items, [svc.submitted()["id"] for _ in items], None, in_thread, forward)
    return targets.combined(answers) if isinstance(body, list) else answers[0]


@pytest.mark.parametrize("host, where", [
    ("localhost", ("local", None)), ("127.0.0.1", ("local", None)), ("::1", ("local", None)),
    ("10.9.9.11", ("local", None)), ("B1", ("local", None)), ("10.9.9.12", ("peer", "10.9.9.12")),
    ("b2", ("peer", "10.9.9.12")), ("10.9.9.13", ("outside", None)), ("192.0.2.212", ("outside", None)),
    ("bigip.example.com", ("outside", None))])
def test_the_lab_device_list_decides_where_a_target_is(host, where):
    assert LAB.where(host) == where


def test_an_array_deploys_each_local_item_and_answers_items():
    svc, store, _ = services()
    status, out = run(svc, [shop(), request(shop("10.1.10.101", "Shop2"), "localhost")])
    assert status == 200 and out["code"] == 200 and len(out["items"]) == 2
    assert [item["results"][0]["tenant"] for item in out["items"]] == ["Shop", "Shop2"]
    assert store.get("ltm virtual", "/Shop/Web/serviceMain") and store.get("ltm virtual", "/Shop2/Web/serviceMain")
    assert {t["id"] for t in svc.task()[1]["items"]} >= {item["id"] for item in out["items"]}   # a task each


def test_an_outside_target_is_unreachable_and_nothing_is_sent():
    svc, store, _ = services()
    before = config(store)
    status, out = run(svc, request(shop(), "192.0.2.212", targetUsername="admin", targetPassphrase="admin"))
    assert status == 500 and out == {"code": 500, "message": "GET https://192.0.2.212:443/mgmt/tm/sys/provision "
                                     "query target BIG-IP provisioning failed (connect ETIMEDOUT 192.0.2.212:443)"}
    assert config(store) == before


def test_a_peer_gets_the_request_without_its_target_words_and_its_answer_names_the_host():
    svc, store, _ = services()
    sent = []

    async def forward(item, tenants):
        sent.append(item)
        return targets.remote(item, 200, {"id": "x", "results": [{"code": 200, "message": "success", "host": "localhost",
                                                                   "tenant": "Shop"}], "declaration": {}})

    before = config(store)
    status, out = run(svc, [request(shop(), "10.9.9.12", targetUsername="admin", targetPassphrase="pw"),
                            request(shop("10.1.10.101", "Shop2"), "b2", targetTokens={"X-F5-Auth-Token": "TOK"})],
                      forward)
    assert status == 200 and [i["results"][0]["host"] for i in out["items"]] == ["10.9.9.12", "b2"]
    assert [s.address for s in sent] == ["10.9.9.12", "10.9.9.12"]
    assert sent[0].headers == {"Authorization": "Basic " + base64.b64encode(b"admin:pw").decode()}
    assert sent[1].headers == {"X-F5-Auth-Token": "TOK"}
    assert all(not any(k.startswith("target") for k in s.request) for s in sent)
    assert config(store) == before          # nothing of theirs deployed here


def test_mixed_outcomes_answer_207_each_item_its_own():
    svc, store, _ = services()
    status, out = run(svc, [shop(), request(shop("10.1.10.101", "Shop2"), "10.9.9.99")])
    assert status == 207 and [i.get("code") for i in out["items"]] == [None, 500]
    assert store.get("ltm virtual", "/Shop/Web/serviceMain") and not store.get("ltm virtual", "/Shop2/Web/serviceMain")


def test_every_item_is_checked_before_any_is_applied():
    """An invalid declaration gets its 422 without any item having run first (the peer one after
    it is checked too, and nothing goes to the peer for an invalid one)."""
    svc, store, _ = services()
    bad = adc(Bad={"class": "Tenant", "Web": {"class": "Application", "p": {"class": "Pool", "colour": 1}}})
    status, out = run(svc, [shop(), request(bad, "localhost"), request(bad, "10.9.9.12")])
    assert status == 207
    assert [i.get("code") for i in out["items"]] == [None, 422, 422]
    assert out["items"][1]["errors"] == ["/Bad/Web/p: should NOT have additional properties"]
    assert store.get("ltm virtual", "/Shop/Web/serviceMain")


def test_a_request_level_error_refuses_the_whole_body():
    svc, store, _ = services()
    items, errors = targets.batch([shop(), request(shop("10.1.10.101", "Shop2"), action="land"),
                                   {"class": "Tenant"}, request(shop(), "not a host!")], LAB)
    assert errors == ["/1/action: should be equal to one of the allowed values",
                      "/2/class: should be equal to one of the allowed values",
                      "/3/targetHost: should match some schema in anyOf"]
    assert targets.batch([], LAB)[1] == ["/: should NOT have fewer than 1 items"]


def test_two_items_for_one_tenant_of_one_host_are_both_refused():
    svc, store, _ = services()
    before = config(store)
    status, out = run(svc, [shop(), request(shop("10.1.10.101"), "10.9.9.11"), shop("10.1.10.102", "Other")])
    assert status == 207 and [i.get("message") for i in out["items"]][:2] == [targets.DUPLICATE] * 2
    assert not store.get("ltm virtual", "/Shop/Web/serviceMain") and store.get("ltm virtual", "/Other/Web/serviceMain")
    assert config(store) != before


def test_a_bigiq_target_in_a_declaration_is_kept_and_deploys_here():
    svc, store, _ = services()
    status, out = run(svc, [{**shop(), "target": {"address": "10.10.10.13"}},
                            {**shop("10.1.10.101", "Shop2"), "target": {"address": "10.10.10.14"}}])
    assert status == 200 and out["items"][0]["declaration"]["target"] == {"address": "10.10.10.13"}
    assert store.get("ltm virtual", "/Shop2/Web/serviceMain")
    status, out = run(svc, [shop("10.1.10.103", "A"), {**shop("10.1.10.104", "B"), "target": {"address": "10.10.10.14"}},
                            {**shop("10.1.10.105", "C"), "target": {"address": "10.10.10.14"}}])
    assert [i.get("message") for i in out["items"]] == [None, targets.DUPLICATE, targets.DUPLICATE]


def test_a_patch_body_is_not_an_array_of_requests():
    assert not targets.is_array([{"op": "add", "path": "/Shop/Web", "value": {}}])
    assert targets.is_array([shop()]) and targets.is_targeted(request(shop(), "localhost"))


# -- over REST --------------------------------------------------------------------------------------------
def as3_rest(tmp_path, monkeypatch, sent):
    from node.rest import appsvcs
    from tests.unit.test_as3_core import as3_client
    rest, c = as3_client(tmp_path)
    rest.store.commit([Op("create", "net vlan", "/Common/external", {}),
                       Op("create", "net self", "/Common/ext", {"address": ("set", "10.1.10.11/24"),
                                                                "vlan": ("set", "/Common/external")})])
    rest.appsvcs.lab = LAB

    def forward(item, tenants):
        sent.append((item.address, item.request))
        return targets.remote(item, 200, {"results": [{"code": 200, "message": "success", "host": "localhost",
                                                        "tenant": "Remote"}], "declaration": {}})
    monkeypatch.setattr(appsvcs, "_forward", forward)
    return rest, c


async def test_rest_an_array_for_here_a_peer_and_outside(tmp_path, monkeypatch):
    sent = []
    rest, c = as3_rest(tmp_path, monkeypatch, sent)
    async with c:
        r = await c.post("/mgmt/shared/appsvcs/declare", json=[
            shop(), request(shop("10.1.10.101", "Remote"), "10.9.9.12", targetUsername="admin", targetPassphrase="a"),
            request(shop("10.1.10.102", "Far"), "203.0.113.9", targetUsername="admin", targetPassphrase="a")])
        assert r.status_code == 207
        items = r.json()["items"]
        assert items[0]["results"][0]["code"] == 200 and items[1]["results"][0]["host"] == "10.9.9.12"
        assert items[2]["code"] == 500 and "ETIMEDOUT 203.0.113.9:443" in items[2]["message"]
        assert [a for a, _ in sent] == ["10.9.9.12"]
        assert rest.store.get("ltm virtual", "/Shop/Web/serviceMain")
        assert not rest.store.get("ltm virtual", "/Remote/Web/serviceMain")
        r = await c.post("/mgmt/shared/appsvcs/declare", json=request(shop("10.1.10.110", "Here"), "10.9.9.11"))
        assert r.status_code == 200 and r.json()["results"][0]["tenant"] == "Here"
        r = await c.post("/mgmt/shared/appsvcs/declare", json=request(shop(), "192.0.2.212"))
        assert r.status_code == 500 and r.json()["message"].startswith("GET https://192.0.2.212:443/")


async def test_rest_a_request_level_error_in_one_item_changes_nothing(tmp_path, monkeypatch):
    sent = []
    rest, c = as3_rest(tmp_path, monkeypatch, sent)
    before = config(rest.store)
    async with c:
        r = await c.post("/mgmt/shared/appsvcs/declare", json=[
            shop(), request(shop("10.1.10.101", "Remote"), "10.9.9.12", targetPort=70000)])
        assert r.status_code == 422 and r.json()["errors"] == ["/1/targetPort: should be <= 65535"]
    assert config(rest.store) == before and sent == []


# -- what F5's published examples met as schema noise: now each gets its one clear answer ---------------
def test_f5s_request_properties_and_pointers_get_their_answer_not_schema_noise():
    from node.as3 import validate
    from node.as3.desired import tenant_objects
    from node.as3.refs import Resolver
    from tests.unit.test_as3_core import app
    _, _, errors = validate.split(request(shop(), id="x", targetTimeout=30))   # AS3 lets other properties through
    assert errors == []
    dg = {"class": "Data_Group", "keyDataType": "string", "storageType": "external", "externalFilePath": {
        "url": "https://example.net/dg.txt", "authentication": {"method": "bearer-token", "token": "t"}}}
    tls = {"class": "TLS_Server", "certificates": [{"certificate": "/Common/default"}],
           "cipherGroup": {"use": "cg"}, "c3dOCSP": {"use": "ocsp"}}
    decl = adc(T={"class": "Tenant", "A": app(dg=dg, tls=tls, cg={"class": "Cipher_Group"})})
    assert validate.declaration(decl) == [
        "/T/A/dg/storageType: an external data group is not supported by this lab (it reaches no internet)",
        "/T/A/cg/class: " + validate.declaration(adc(T={"class": "Tenant", "A": app(cg={"class": "Cipher_Group"})}))[0]
        .split(": ", 1)[1]]
    http = {"class": "HTTP_Profile", "proxyType": "explicit", "resolver": {"bigip": "/Common/r"}, "routeDomain": "rdA"}
    tenant = {"class": "Tenant", "A": app(http=http)}
    assert validate.declaration(adc(T=tenant)) == []
    objs = {(o.type, o.path): o.values for o in tenant_objects("T", tenant, Resolver({"T": tenant}))}
    proxy = objs[("ltm profile http", "/T/A/http")]["explicit-proxy"]
    assert (proxy["dns-resolver"], proxy["route-domain"]) == ("/Common/r", "rdA")


async def test_rest_an_async_array_answers_202_with_a_task_per_item(tmp_path, monkeypatch):
    sent = []
    rest, c = as3_rest(tmp_path, monkeypatch, sent)
    async with c:
        r = await c.post("/mgmt/shared/appsvcs/declare?async=true", json=[
            shop(), request(shop("10.1.10.101", "Remote"), "b2", targetUsername="admin", targetPassphrase="a")])
        assert r.status_code == 202 and r.json()["code"] == 202
        ids = [i["id"] for i in r.json()["items"]]
        for _ in range(200):
            tasks = [(await c.get(f"/mgmt/shared/appsvcs/task/{id_}")).json() for id_ in ids]
            if all(t["results"][0]["code"] for t in tasks):
                break
            await trio.sleep(0.01)
        assert [(t["results"][0]["tenant"], t["results"][0]["host"]) for t in tasks] == [("Shop", "localhost"),
                                                                                          ("Remote", "b2")]
        assert sent and rest.store.get("ltm virtual", "/Shop/Web/serviceMain")
