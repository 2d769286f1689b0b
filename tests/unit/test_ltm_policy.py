"""LTM policies as F5's modules drive them: a draft under Drafts, rules with conditions and actions
(F5's REST words), published to act; tmsh lists them as a BIG-IP does; bad input changes nothing."""
from __future__ import annotations

import pytest

from node.config.store import ConfigStore, Op
from node.config.tmsh import parse, render
from node.errors import ShellError
from node.ltm import policies
from node.ltm.hooks import Flow, Headers, Outcome, Request, Target
from node.shell import Shell
from tests.unit.test_rest_shapes import client, rest_of

POL = "/mgmt/tm/ltm/policy"
DRAFT = f"{POL}/~Common~Drafts~pol"
RULE = {"conditions": [{"name": "0", "httpUri": True, "path": True, "startsWith": True, "values": ["/api"]}],
        "actions": [{"name": "0", "forward": True, "pool": "/Common/api_pool"}]}


async def test_a_draft_gets_rules_is_published_and_reads_as_f5_shows_it():
    rest, store = rest_of()
    async with client(rest) as c:
        assert (await c.post("/mgmt/tm/ltm/pool", json={"name": "api_pool"})).status_code == 200
        made = await c.post(POL, json={"name": "pol", "partition": "Common", "subPath": "Drafts",
                                       "strategy": "/Common/first-match"})
        assert made.status_code == 200 and made.json()["status"] == "draft", made.text
        assert (await c.post(f"{DRAFT}/rules", json={"name": "api", "ordinal": 0})).status_code == 200
        assert (await c.patch(f"{DRAFT}/rules/api", json=RULE)).status_code == 200
        rule = (await c.get(f"{DRAFT}/rules/api?expandSubcollections=true")).json()
        cond, = rule["conditionsReference"]["items"]
        act, = rule["actionsReference"]["items"]
        assert cond["kind"] == "tm:ltm:policy:rules:conditions:conditionsstate"
        assert {k: cond[k] for k in ("name", "httpUri", "path", "startsWith", "values", "request",
                                     "caseInsensitive", "index")} == {
            "name": "0", "httpUri": True, "path": True, "startsWith": True, "values": ["/api"], "request": True,
            "caseInsensitive": True, "index": 0}
        assert {k: act[k] for k in ("forward", "select", "pool", "request", "code", "port")} == {
            "forward": True, "select": True, "pool": "/Common/api_pool", "request": True, "code": 0, "port": 0}
        published = await c.post(POL, json={"name": "/Common/Drafts/pol", "command": "publish"})
        assert published.status_code == 200, published.text
        assert (await c.get(DRAFT)).status_code == 404
        pol = (await c.get(f"{POL}/~Common~pol?expandSubcollections=true")).json()
        assert pol["status"] == "published" and pol["rulesReference"]["items"][0]["name"] == "api"
        again = await c.patch(f"{POL}/~Common~pol", json={"createDraft": True})
        assert again.status_code == 200 and again.json()["fullPath"] == "/Common/Drafts/pol"
        empty = (await c.get(f"{DRAFT}/rules/api?expandSubcollections=true")).json()
        assert empty["conditionsReference"]["items"][0]["values"] == ["/api"]
    text = render("ltm policy", "/Common/pol", store.get("ltm policy", "/Common/pol"))
    assert "0 { http-uri path starts-with values { /api } }" in text
    assert "0 { forward select pool /Common/api_pool }" in text


async def test_a_rule_without_conditions_or_actions_lists_no_items():
    rest, _ = rest_of()
    async with client(rest) as c:
        await c.post(POL, json={"name": "pol", "subPath": "Drafts"})
        await c.post(f"{DRAFT}/rules", json={"name": "r", "ordinal": 0, "conditions": [], "actions": []})
        rule = (await c.get(f"{DRAFT}/rules/r?expandSubcollections=true")).json()
        assert "items" not in rule["conditionsReference"] and "items" not in rule["actionsReference"]


async def test_bad_rules_get_f5_errors_and_change_nothing():
    rest, store = rest_of()
    async with client(rest) as c:
        await c.post(POL, json={"name": "pol", "subPath": "Drafts", "rules": [{"name": "r"}]})
        before = store.get("ltm policy", "/Common/Drafts/pol")
        missing = await c.patch(f"{DRAFT}/rules/r", json=RULE)
        assert missing.status_code == 400 and "The requested Pool (/Common/api_pool) was not found." \
            in missing.json()["message"]
        unknown = await c.patch(f"{DRAFT}/rules/r", json={"conditions": [{"name": "0", "httpUri": True,
                                                                           "sideways": True}]})
        assert unknown.status_code == 400 and '"sideways" unknown property' in unknown.json()["message"]
        no_operand = await c.patch(f"{DRAFT}/rules/r", json={"conditions": [{"name": "0", "startsWith": True}]})
        assert no_operand.status_code == 400 and "needs exactly one operand" in no_operand.json()["message"]
        assert store.get("ltm policy", "/Common/Drafts/pol") == before


async def test_tmsh_publishes_drafts_and_a_virtual_takes_published_policies_only():
    shell = Shell("bigip1", ConfigStore(None, "bigip1"), None, set, lambda: [])
    for line in ("create net vlan v interfaces add { 1.1 }", "create net self s address 10.1.10.5/24 vlan v",
                 "create ltm pool api_pool",
                 "create ltm policy Drafts/pol rules { r { conditions { 0 { http-uri path starts-with values "
                 "{ /api } } } actions { 0 { forward select pool api_pool } } } }"):
        await shell.run(line)
    with pytest.raises(ShellError, match="draft policy /Common/Drafts/pol"):
        await shell.run("create ltm virtual vs destination 10.1.10.100:80 policies { /Common/Drafts/pol }")
    assert shell.store.get("ltm virtual", "/Common/vs") is None
    await shell.run("publish ltm policy Drafts/pol")
    listed = await shell.run("list ltm policy pol")
    assert "0 { http-uri path starts-with values { /api } }" in listed and "status" not in listed
    await shell.run("create ltm virtual vs destination 10.1.10.100:80 policies { pol }")
    assert shell.store.get("ltm virtual", "/Common/vs")["policies"] == ["/Common/pol"]
    for used in ("ltm policy pol", "ltm pool api_pool"):
        with pytest.raises(ShellError, match="01070265:3"):
            await shell.run(f"delete {used}")
    await shell.run("modify ltm policy pol create-draft")
    assert shell.store.get("ltm policy", "/Common/Drafts/pol")["status"] == "draft"
    with pytest.raises(ShellError, match="already exists"):
        await shell.run("modify ltm policy pol create-draft")


def _flow(uri: str, host: str = "www.example.com", **headers) -> Flow:
    req = Request("GET", uri, headers=Headers([("Host", host), *headers.items()]))
    return Flow("/Common/vs", ("10.1.10.9", 40000), ("10.1.10.100", 80), "/Common/web", request=req)


def test_a_published_policy_forwards_redirects_and_resets_by_its_strategy():
    store = ConfigStore(None, "bigip1")
    parsed = parse("create ltm policy pol rules { api { ordinal 0 conditions { 0 { http-uri path starts-with "
                   "values { /API } } } actions { 0 { forward select pool /Common/api } } } "
                   "old { ordinal 1 conditions { 0 { http-host host ends-with values { old.example.com } } "
                   "1 { http-header name X-Test equals values { yes } } } actions { 0 { http-reply redirect location "
                   "tcl:https://new.example.com[HTTP::uri] } } } "
                   "bad { ordinal 2 conditions { 0 { http-uri path not starts-with values { /ok } } } "
                   "actions { 0 { shutdown connection } } } }")
    store.commit([Op("create", "ltm pool", "/Common/api", {}), Op("create", "ltm policy", "/Common/pol", parsed.values)])
    store.objects[("ltm virtual", "/Common/vs")] = {"policies": ["/Common/pol"]}
    hook = policies.hook_for(store.get, "/Common/vs", None)
    api = _flow("/api/v1")
    hook.fire("HTTP_REQUEST", api)
    assert api.target == Target(pool="/Common/api") and api.outcome is None     # case-insensitive, first match
    old = _flow("/a?b=1", host="www.old.example.com:80", **{"x-test": "yes"})
    hook.fire("HTTP_REQUEST", old)
    assert old.outcome == Outcome("redirect", location="https://new.example.com/a?b=1")
    other = _flow("/else")
    hook.fire("HTTP_REQUEST", other)
    assert other.outcome == Outcome("reset")
    fine = _flow("/ok/x")
    hook.fire("HTTP_REQUEST", fine)
    assert fine.outcome is None and fine.target is None
    assert policies.hook_for(store.get, "/Common/other", None) is None


async def test_a_virtual_lists_its_policies_as_bigip_virtual_server_reads_them():
    rest, _ = rest_of()
    async with client(rest) as c:
        await c.post(POL, json={"name": "pol"})
        vs = {"name": "vs", "destination": "10.0.0.100:80", "policies": [{"name": "pol", "partition": "Common"}]}
        assert (await c.post("/mgmt/tm/ltm/virtual", json=vs)).status_code == 200
        got = (await c.get("/mgmt/tm/ltm/virtual/~Common~vs?expandSubcollections=true")).json()
        assert [(p["name"], p["partition"], p["fullPath"]) for p in got["policiesReference"]["items"]] == [
            ("pol", "Common", "/Common/pol")]
        bare = (await c.get("/mgmt/tm/ltm/virtual/~Common~vs")).json()["policiesReference"]
        assert bare["isSubcollection"] and "items" not in bare
        assert (await c.delete(f"{POL}/~Common~pol")).status_code == 400     # in use by the virtual


async def test_a_rules_conditions_and_actions_read_as_their_own_subcollections():
    rest, _ = rest_of()
    async with client(rest) as c:
        await c.post("/mgmt/tm/ltm/pool", json={"name": "api_pool"})
        await c.post(POL, json={"name": "pol", "subPath": "Drafts", "rules": [{"name": "api", **RULE}]})
        conditions = (await c.get(f"{DRAFT}/rules/api/conditions")).json()
        assert conditions["kind"] == "tm:ltm:policy:rules:conditions:conditionscollectionstate"
        assert [i["values"] for i in conditions["items"]] == [["/api"]]
        action = (await c.get(f"{DRAFT}/rules/api/actions/0")).json()
        assert (action["pool"], action["selfLink"].split("?")[0]) == (
            "/Common/api_pool", "https://localhost/mgmt/tm/ltm/policy/~Common~Drafts~pol/rules/api/actions/0")
        assert (await c.get(f"{DRAFT}/rules/api/actions/7")).status_code == 404
        assert (await c.post(f"{DRAFT}/rules/api/actions", json={"name": "1", "drop": True})).status_code == 405
