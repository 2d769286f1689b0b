"""The AS3 core: validation (422 texts with JSON pointers), the objects a declaration means, the
plan against the store and the actions' bookkeeping."""
from __future__ import annotations


from node.as3 import validate
from node.as3.datastore import ours
from node.as3.desired import tenant_objects
from node.as3.refs import Resolver


def app(**objects) -> dict:
    return {"class": "Application", **objects}


def web(addr="10.1.10.100", servers=("10.1.20.21", "10.1.20.22"), **svc) -> dict:
    return app(template="http",
               serviceMain={"class": "Service_HTTP", "virtualAddresses": [addr], "pool": "web_pool", **svc},
               web_pool={"class": "Pool", "monitors": ["http"],
                         "members": [{"servicePort": 80, "serverAddresses": list(servers)}]})


def adc(**tenants) -> dict:
    return {"class": "ADC", "schemaVersion": "3.50.0", "id": "lab-test", **tenants}


def config(store) -> dict:
    """The store's configuration without AS3's bookkeeping (its declarations and tasks)."""
    return {k: v for k, v in store.objects.items() if not ours(*k)}


def errors_of(decl: dict) -> list[str]:
    return validate.declaration(decl)


def test_a_declaration_of_supported_classes_is_valid():
    decl = adc(Shop={"class": "Tenant", "Web": web(),
                     "Api": app(svc={"class": "Service_TCP", "virtualAddresses": ["10.1.10.101"], "virtualPort": 8443,
                                     "pool": {"use": "/Shop/Web/web_pool"}, "profileTCP": {"use": "tcp1"}},
                                tcp1={"class": "TCP_Profile"},
                                mon={"class": "Monitor", "monitorType": "tcp", "interval": 3}),
                     })
    assert errors_of(decl) == []


def test_unknown_property_is_refused_at_its_pointer():
    decl = adc(Shop={"class": "Tenant", "Web": web()})
    decl["Shop"]["Web"]["web_pool"]["members"][0]["colour"] = "blue"
    assert errors_of(decl) == ["/Shop/Web/web_pool/members/0: should NOT have additional properties"]


def test_missing_class_and_wrong_types_have_ajv_texts():
    decl = adc(Shop={"class": "Tenant", "Web": app(p={"members": []}, q={"class": "Pool", "slowRampTime": "x"})})
    assert errors_of(decl) == ["/Shop/Web/p: should have required property 'class'",
                               "/Shop/Web/q/slowRampTime: should be integer"]


def test_unsupported_class_is_refused_by_name():
    decl = adc(Shop={"class": "Tenant", "Web": app(r={"class": "WAF_Policy", "url": "https://example.com/p"})})
    (err,) = errors_of(decl)
    assert err.startswith('/Shop/Web/r/class: class "WAF_Policy" is not supported by this lab')


def test_a_pool_pointing_at_a_missing_monitor_is_refused():
    decl = adc(Shop={"class": "Tenant", "Web": app(p={"class": "Pool", "monitors": [{"use": "nomon"}]})})
    assert errors_of(decl) == ["/Shop/Web/p/monitors/0: the Monitor /Shop/Web/nomon is not declared"]


def test_a_pointer_to_the_wrong_class_is_refused():
    decl = adc(Shop={"class": "Tenant", "Web": web(pool={"use": "tcp1"})})
    decl["Shop"]["Web"]["tcp1"] = {"class": "TCP_Profile"}
    decl["Shop"]["Web"]["serviceMain"]["pool"] = {"use": "tcp1"}
    assert errors_of(decl) == ["/Shop/Web/serviceMain/pool: /Shop/Web/tcp1 is a TCP_Profile, not a Pool"]


def test_duplicate_address_and_port_is_refused_across_tenants():
    decl = adc(A={"class": "Tenant", "Web": web()}, B={"class": "Tenant", "Web": web()})
    assert errors_of(decl) == ["/B/Web/serviceMain/virtualAddresses: 10.1.10.100 port 80 is already the address "
                               "of /A/Web/serviceMain"]


def test_common_tenant_takes_no_services_and_only_shared():
    decl = adc(Common={"class": "Tenant", "Shared": app(template="shared", svc={
        "class": "Service_TCP", "virtualAddresses": ["10.1.10.102"], "virtualPort": 22}),
        "Other": app()})
    assert errors_of(decl) == ["/Common/Shared/svc: a Service_TCP cannot be declared in the Common tenant",
                               "/Common/Other: the Common tenant may hold only the application Shared"]


def test_http_template_wants_service_main():
    decl = adc(Shop={"class": "Tenant", "Web": app(template="http")})
    assert errors_of(decl) == ["/Shop/Web: should have required property 'serviceMain'"]


def test_the_wrapper_and_not_an_adc():
    assert validate.split([1])[2] == ["/: should be object"]
    assert validate.split({"class": "Tenant"})[2] == ["/class: should be equal to one of the allowed values"]
    assert validate.split({"class": "AS3", "action": "fly"})[2] == ["/action: should be equal to one of the "
                                                                     "allowed values"]
    request, decl, errors = validate.split({"class": "AS3", "declaration": adc()})
    assert (request["action"], request["persist"], decl["id"], errors) == ("deploy", True, "lab-test", [])


def test_service_http_means_virtual_address_virtual_pool_and_nodes():
    tenant = {"class": "Tenant", "Web": web(servers=("10.1.20.21",), snat="none")}
    objs = {(o.type, o.path): o.values for o in tenant_objects("Shop", tenant, Resolver({"Shop": tenant}))}
    assert set(objs) == {("auth partition", "/Common/Shop"), ("sys folder", "/Shop/Web"),
                         ("ltm node", "/Shop/10.1.20.21"), ("ltm pool", "/Shop/Web/web_pool"),
                         ("ltm virtual-address", "/Shop/10.1.10.100"), ("ltm virtual", "/Shop/Web/serviceMain")}
    vs = objs[("ltm virtual", "/Shop/Web/serviceMain")]
    assert (vs["destination"], vs["pool"], vs["profiles"], vs["source-address-translation"]) == (
        "/Shop/10.1.10.100:80", "/Shop/Web/web_pool", ["/Common/http", "/Common/tcp"], {"type": "none"})
    pool = objs[("ltm pool", "/Shop/Web/web_pool")]
    assert (pool["monitor"], pool["min-active-members"], list(pool["members"])) == (
        "/Common/http", 1, ["/Shop/10.1.20.21:80"])


def test_several_addresses_name_the_virtuals_as_as3_does():
    tenant = {"class": "Tenant", "Web": web()}
    tenant["Web"]["serviceMain"]["virtualAddresses"] = ["10.1.10.100", ["10.1.10.101", "10.0.0.0/8"]]
    objs = {(o.type, o.path): o.values for o in tenant_objects("Shop", tenant, Resolver({"Shop": tenant}))}
    second = objs[("ltm virtual", "/Shop/Web/serviceMain-1-")]
    assert (second["destination"], second["source"]) == ("/Shop/10.1.10.101:80", "10.0.0.0/8")


def test_shared_nodes_live_in_common():
    tenant = {"class": "Tenant", "Web": web()}
    tenant["Web"]["web_pool"]["members"][0]["shareNodes"] = True
    objs = {(o.type, o.path): o.values for o in tenant_objects("Shop", tenant, Resolver({"Shop": tenant}))}
    assert not [k for k in objs if k[0] == "ltm node"]     # the members make them in /Common if missing
    assert list(objs[("ltm pool", "/Shop/Web/web_pool")]["members"]) == ["/Common/10.1.20.21:80",
                                                                       "/Common/10.1.20.22:80"]


# -- the REST door (/mgmt/shared/appsvcs) -------------------------------------------------------------
def as3_client(tmp_path):
    from tests.unit.test_rest_commands import Shell, client, rest_app
    rest = rest_app(tmp_path, Shell())
    return rest, client(rest)


async def test_info_and_nothing_deployed(tmp_path):
    _, c = as3_client(tmp_path)
    async with c:
        info = (await c.get("/mgmt/shared/appsvcs/info")).json()
        assert set(info) == {"version", "release", "schemaCurrent", "schemaMinimum"}
        assert (await c.get("/mgmt/shared/appsvcs/declare")).status_code == 204
        assert (await c.get("/mgmt/shared/appsvcs/task")).json() == {"items": []}


async def test_invalid_declaration_is_422_and_changes_nothing(tmp_path):
    rest, c = as3_client(tmp_path)
    before = config(rest.store)
    async with c:
        decl = adc(Shop={"class": "Tenant", "Web": app(p={"class": "Pool", "colour": 1})})
        r = await c.post("/mgmt/shared/appsvcs/declare", json=decl)
        assert r.status_code == 422 and r.json() == {
            "code": 422, "message": "declaration is invalid", "declarationFullId": "",
            "errors": ["/Shop/Web/p: should NOT have additional properties"]}
        r = await c.post("/mgmt/shared/appsvcs/declare", content=b"{not json")
        assert r.status_code == 422 and r.json()["errors"][0].startswith("/: the body is not JSON")
    assert config(rest.store) == before


async def test_a_declaration_while_another_runs_is_503(tmp_path):
    rest, c = as3_client(tmp_path)
    rest.appsvcs.service.busy = True
    async with c:
        r = await c.post("/mgmt/shared/appsvcs/declare", json=adc())
        assert r.status_code == 503 and r.json()["message"].startswith("Error: Configuration operation in progress")


# -- the actions on a real store ------------------------------------------------------------------------
def services(path=None):
    from node.as3.service import AppServices
    from node.config.store import ConfigStore, Op
    store = ConfigStore(path, "b1")
    store.commit([Op("create", "net vlan", "/Common/external", {}),
                  Op("create", "net self", "/Common/ext", {"address": ("set", "10.1.10.11/24"),
                                                           "vlan": ("set", "/Common/external")})])
    saved = []
    return AppServices(store, lambda: saved.append(1), lambda: 1000.0), store, saved


def run(svc, body, tenants=None, method="POST"):
    return svc.apply(svc.prepare(body, tenants, method))


def owned(store, t="Shop"):
    return sorted((k, v) for k, v in store.objects.items() if k[1].startswith(f"/{t}/") or k[1] in (f"/{t}",
                                                                                                   f"/Common/{t}"))


def test_deploy_redeploy_and_delete_on_the_store():
    svc, store, saved = services()
    status, out = run(svc, adc(Shop={"class": "Tenant", "Web": web()}))
    (result,) = out["results"]
    assert status == 200 and (result["code"], result["message"], result["tenant"]) == (200, "success", "Shop")
    assert store.get("ltm virtual", "/Shop/Web/serviceMain")["destination"] == "/Shop/10.1.10.100:80"
    assert [m["name"] for m in store.get("ltm pool", "/Shop/Web/web_pool")["members"]] == [
        "/Shop/10.1.20.21:80", "/Shop/10.1.20.22:80"]
    assert saved and out["declaration"]["Shop"]["Web"]["serviceMain"]["pool"] == "web_pool"
    before, configured = owned(store), config(store)
    assert run(svc, adc(Shop={"class": "Tenant", "Web": web()}))[1]["results"][0]["message"] == "no change"
    assert config(store) == configured    # only the task's record was written
    status, out = run(svc, None, ["Shop"], "DELETE")
    assert status == 200 and out["results"][0]["message"] == "success" and owned(store) == []
    assert before and svc.retrieve()[0] == 204


def test_a_hand_edit_inside_a_tenant_is_put_back():
    from node.config.store import Op
    svc, store, _ = services()
    run(svc, adc(Shop={"class": "Tenant", "Web": web()}))
    store.commit([Op("modify", "ltm pool", "/Shop/Web/web_pool", {"load-balancing-mode": ("set", "ratio-member")}),
                  Op("create", "ltm pool", "/Shop/Web/extra", {})])
    assert run(svc, adc(Shop={"class": "Tenant", "Web": web()}))[1]["results"][0]["message"] == "success"
    assert store.get("ltm pool", "/Shop/Web/web_pool")["load-balancing-mode"] == "round-robin"
    assert store.get("ltm pool", "/Shop/Web/extra") is None


def test_a_refused_declaration_changes_nothing_and_earlier_tenants_stay():
    svc, store, _ = services()
    run(svc, adc(Old={"class": "Tenant", "Web": web()}))
    before = config(store)
    status, out = run(svc, adc(New={"class": "Tenant", "Web": web(addr="10.9.9.9", servers=("10.1.20.31",))}))
    assert status == 422 and out["results"][0]["message"] == "declaration failed"
    assert "10.9.9.9" in out["results"][0]["response"] and config(store) == before
    assert "Old" in svc.retrieve()[1] and "New" not in svc.retrieve()[1]


def test_some_tenants_refused_is_207_the_others_applied_and_nothing_of_the_refused():
    svc, store, _ = services()
    run(svc, adc(Bad={"class": "Tenant", "Web": web(addr="10.1.10.130", servers=("10.1.20.40",))}))
    bad_before = owned(store, "Bad")
    status, out = run(svc, adc(Good={"class": "Tenant", "Web": web(addr="10.1.10.131", servers=("10.1.20.41",))},
                               Bad={"class": "Tenant", "Web": web(addr="10.9.9.9", servers=("10.1.20.42",))}))
    assert status == 207
    assert [(r["tenant"], r["code"], r["message"]) for r in out["results"]] == [
        ("Good", 200, "success"), ("Bad", 422, "declaration failed")]
    assert "10.9.9.9" in out["results"][1]["response"]
    assert store.get("ltm virtual", "/Good/Web/serviceMain") is not None and owned(store, "Bad") == bad_before
    kept = svc.retrieve()[1]
    assert kept["Bad"]["Web"]["serviceMain"]["virtualAddresses"] == ["10.1.10.130"] and "Good" in kept


def test_dry_run_changes_nothing_and_says_what_would():
    svc, store, _ = services()
    before = config(store)
    status, out = run(svc, {"class": "AS3", "action": "dry-run", "declaration": adc(Shop={"class": "Tenant",
                                                                                          "Web": web()})})
    assert status == 200 and out["results"][0]["message"] == "success" and out["results"][0]["dryRun"] is True
    assert config(store) == before and svc.retrieve()[0] == 204


def test_patch_adds_an_application_and_history_keeps_the_last():
    svc, store, _ = services()
    run(svc, adc(Shop={"class": "Tenant", "Web": web()}))
    api = web(addr="10.1.10.101", servers=("10.1.20.31",))
    status, out = run(svc, [{"op": "add", "path": "/Shop/Api", "value": api}], method="PATCH")
    assert status == 200 and store.get("ltm virtual", "/Shop/Api/serviceMain") is not None
    assert [h["tenants"] for h in svc.retrieve(age="list")[1]] == [["Shop"], ["Shop"]]
    assert "Api" not in svc.retrieve(age="1")[1]["Shop"]
    full = svc.retrieve(show="full")[1]["Shop"]["Web"]["serviceMain"]
    assert (full["virtualPort"], full["enable"]) == (80, True)


def test_update_mode_complete_removes_tenants_not_declared():
    svc, store, _ = services()
    run(svc, adc(A={"class": "Tenant", "Web": web()}))
    b = {"class": "Tenant", "Web": web(addr="10.1.10.101", servers=("10.1.20.31",))}
    run(svc, adc(B=b))
    assert store.get("ltm virtual", "/A/Web/serviceMain") is not None
    run(svc, adc(updateMode="complete", B=b))
    assert owned(store, "A") == [] and owned(store, "B")


def gslb() -> dict:
    shared = app(template="shared",
                 dc1={"class": "GSLB_Data_Center", "location": "rack 1"},
                 ltm1={"class": "GSLB_Server", "dataCenter": {"use": "dc1"}, "devices": [{"address": "10.10.1.11"}],
                       "virtualServers": [{"name": "vs_www", "address": "10.10.1.100", "port": 80},
                                          {"address": "10.10.1.101", "port": 80}]},
                 near={"class": "GSLB_Topology_Region", "regionMembers": [
                     {"matchType": "subnet", "matchValue": "10.20.1.0/24"}]},
                 topo={"class": "GSLB_Topology_Records", "records": [
                     {"source": {"matchType": "region", "matchValue": {"use": "near"}},
                      "destination": {"matchType": "datacenter", "matchValue": {"use": "dc1"}}, "weight": 100}]})
    dns = app(pool={"class": "GSLB_Pool", "resourceRecordType": "A", "members": [
                  {"server": {"use": "/Common/Shared/ltm1"}, "virtualServer": "vs_www"},
                  {"server": {"use": "/Common/Shared/ltm1"}, "virtualServer": "1", "ratio": 2}]},
              www={"class": "GSLB_Domain", "domainName": "www.as3.example", "resourceRecordType": "A",
                   "pools": [{"use": "pool"}], "poolLbMode": "topology"})
    return adc(Common={"class": "Tenant", "Shared": shared}, Dns={"class": "Tenant", "App": dns})


def test_gslb_classes_become_gtm_objects_and_go_again():
    svc, store, _ = services()
    status, out = run(svc, gslb())
    assert status == 200, out
    assert [r["message"] for r in out["results"]] == ["success", "success"]
    assert store.get("gtm datacenter", "/Common/dc1")["location"] == "rack 1"
    server = store.get("gtm server", "/Common/ltm1")
    assert sorted(v["name"] for v in server["virtual-servers"]) == ["1", "vs_www"]
    pool = store.get("gtm pool a", "/Dns/App/pool")
    assert [(m["name"], m["ratio"]) for m in pool["members"]] == [("/Common/ltm1:vs_www", 1), ("/Common/ltm1:1", 2)]
    wip = store.get("gtm wideip a", "/Dns/App/www.as3.example")
    assert [p["name"] for p in wip["pools"]] == ["/Dns/App/pool"] and wip["pool-lb-mode"] == "topology"
    assert store.get("gtm topology", "ldns: region /Common/near server: datacenter /Common/dc1")["score"] == 100
    assert [r["message"] for r in run(svc, gslb())[1]["results"]] == ["no change", "no change"]
    assert run(svc, None, ["Dns"], "DELETE")[0] == 200 and store.get("gtm wideip a", "/Dns/App/www.as3.example") is None
    assert run(svc, None, ["Common"], "DELETE")[0] == 200
    assert [k for k in store.objects if k[0] in ("gtm datacenter", "gtm server", "gtm region", "gtm topology")] == []


def test_gslb_pool_member_must_name_a_declared_virtual_server():
    decl = gslb()
    decl["Dns"]["App"]["pool"]["members"][0]["virtualServer"] = "nosuch"
    assert errors_of(decl) == ["/Dns/App/pool/members/0/virtualServer: /Common/Shared/ltm1 has no virtual server "
                               "nosuch"]
    decl["Dns"]["App"]["sub"] = {"class": "GSLB_Server", "dataCenter": {"use": "/Common/Shared/dc1"},
                                 "devices": [{"address": "10.10.1.12"}]}
    assert errors_of(decl) == ["/Dns/App/sub: a GSLB_Server is declared in /Common/Shared only"]


def test_gslb_virtual_server_monitors_pool_monitors_and_a_member_pointing_at_a_service():
    svc, store, _ = services()
    decl = gslb()
    ltm1 = decl["Common"]["Shared"]["ltm1"]
    ltm1["virtualServerDiscoveryMode"] = "enabled-no-delete"
    ltm1["virtualServers"][0].update(monitors=[{"bigip": "/Common/bigip"}, {"bigip": "/Common/http"}],
                                     minimumMonitors=2)
    ltm1["virtualServers"][1]["monitors"] = [{"bigip": "/Common/tcp"}]
    dns = decl["Dns"]["App"]
    dns["pool"]["monitors"] = [{"bigip": "/Common/http"}, {"bigip": "/Common/https"}]
    dns["pool"]["members"].append({"server": {"use": "/Common/Shared/ltm1"}, "virtualServer": {"use": "svc"}})
    dns["svc"] = {"class": "Service_HTTP", "virtualAddresses": ["10.1.10.100"]}
    status, out = run(svc, decl)
    assert status == 200, out
    server = store.get("gtm server", "/Common/ltm1")
    assert {v["name"]: v.get("monitor") for v in server["virtual-servers"]} == {
        "vs_www": "min 2 of { /Common/bigip /Common/http }", "1": "/Common/tcp"}
    pool = store.get("gtm pool a", "/Dns/App/pool")
    assert pool["monitor"] == "/Common/http and /Common/https"
    assert pool["members"][-1]["name"] == "/Common/ltm1:/Dns/App/svc"     # the virtual the server discovers
    assert [r["message"] for r in run(svc, decl)[1]["results"]] == ["no change", "no change"]
    dns["pool"]["members"][-1]["virtualServer"] = {"use": "pool"}
    assert errors_of(decl) == ["/Dns/App/pool/members/2/virtualServer: the Service /Dns/App/pool is not declared"]


def test_a_gslb_domain_takes_cname_pools_after_its_own_and_a_static_persistence_pool():
    svc, store, _ = services()
    decl = gslb()
    dns = decl["Dns"]["App"]
    dns["pool"]["lbModePreferred"] = "static-persistence"
    dns["away"] = {"class": "GSLB_Pool", "resourceRecordType": "CNAME",
                   "members": [{"domainName": "www.example.org", "isDomainNameStatic": True}]}
    dns["www"]["poolsCname"] = [{"use": "away"}]
    status, out = run(svc, decl)
    assert status == 200, out
    wip = store.get("gtm wideip a", "/Dns/App/www.as3.example")
    assert [(p["name"], p["order"]) for p in wip["pools-cname"]] == [("/Dns/App/away", 1)]
    assert store.get("gtm pool cname", "/Dns/App/away")["members"][0]["static-target"] == "yes"
    assert store.get("gtm pool a", "/Dns/App/pool")["load-balancing-mode"] == "static-persistence"
    dns["www"]["poolsCname"] = [{"use": "pool"}]     # an A pool is not a CNAME pool
    status, out = run(svc, decl)
    assert status == 207 and "The requested Pool (/Dns/App/pool) was not found" in out["results"][1]["response"]


def test_every_monitor_type_as3_names_becomes_an_ltm_monitor():
    kinds = ("http", "https", "tcp", "udp", "icmp", "gateway-icmp")
    tenant = {"class": "Tenant", "Web": app(**{f"m{i}": {"class": "Monitor", "monitorType": k, "receive": "up"}
                                               for i, k in enumerate(kinds[:4])},
                                            m4={"class": "Monitor", "monitorType": "icmp"})}
    assert errors_of(adc(Shop=tenant)) == []
    objs = {(o.type, o.path): o.values for o in tenant_objects("Shop", tenant, Resolver({"Shop": tenant}))}
    assert objs[("ltm monitor https", "/Shop/Web/m1")]["defaults-from"] == "/Common/https"
    assert objs[("ltm monitor udp", "/Shop/Web/m3")]["recv"] == "up"
    assert ("ltm monitor gateway-icmp", "/Shop/Web/m4") in objs


def test_a_monitor_type_the_lab_lacks_is_refused_by_name(monkeypatch):
    from node.config.schema import TYPES
    monkeypatch.delitem(TYPES, "ltm monitor udp")
    decl = adc(Shop={"class": "Tenant", "Web": app(m={"class": "Monitor", "monitorType": "udp"})})
    assert errors_of(decl) == ['/Shop/Web/m/monitorType: monitor type "udp" is not supported by this lab']


def test_irules_and_data_groups_are_the_tenants_and_the_virtual_runs_them():
    svc, store, _ = services()
    tenant = {"class": "Tenant", "Web": web(iRules=["paths"])}
    tenant["Web"]["paths"] = {"class": "iRule", "iRule": "when HTTP_REQUEST {\n  if { [class match [HTTP::uri] "
                                                        "starts_with dg] } { HTTP::respond 403 }\n}"}
    tenant["Web"]["dg"] = {"class": "Data_Group", "keyDataType": "string",
                           "records": [{"key": "/admin", "value": "no"}, {"key": "/private"}]}
    status, out = run(svc, adc(Shop=tenant))
    assert status == 200, out
    assert store.get("ltm virtual", "/Shop/Web/serviceMain")["rules"] == ["/Shop/Web/paths"]
    assert [r["name"] for r in store.get("ltm data-group internal", "/Shop/Web/dg")["records"]] == ["/admin",
                                                                                                   "/private"]
    tenant["Web"]["paths"]["iRule"] = "when HTTP_REQUEST { HTTP::respond 200 content [nosuchcommand }"
    status, out = run(svc, adc(Shop=tenant))
    assert status == 422 and out["results"][0]["message"] == "declaration failed"


def test_declarations_and_tasks_live_in_the_store_and_survive_a_restart(tmp_path):
    from node.as3.service import AppServices
    from node.config.store import ConfigStore
    svc, store, _ = services(tmp_path / "config.json")
    _, out = run(svc, adc(Shop={"class": "Tenant", "Web": web()}))
    names = sorted(p for t, p in store.objects if t == "ltm data-group internal")
    assert names == ["/Common/____appsvcs_declaration-1000000", f"/Common/appsvcs/task-{out['id']}"]
    meta = store.get("ltm data-group internal", names[0])["records"][0]["data"]
    assert meta == "date^1970-01-01T00:16:40.000Z|id^lab-test|tenants^Shop|blocks^1"
    synced = {(t, p) for t, p, _ in store.snapshot("synced")}
    assert ("ltm data-group internal", names[0]) in synced      # so the peer has it after config sync
    again = AppServices(ConfigStore(tmp_path / "config.json", "b1"), lambda: None, lambda: 2000.0)
    assert again.retrieve()[1]["Shop"]["Web"]["serviceMain"]["virtualAddresses"] == ["10.1.10.100"]
    assert again.task(out["id"])[1]["results"][0]["message"] == "success"
    assert [h["tenants"] for h in again.retrieve(age="list")[1]] == [["Shop"]]
    assert run(again, adc(Shop={"class": "Tenant", "Web": web()}))[1]["results"][0]["message"] == "no change"


def test_history_and_tasks_keep_their_limits():
    svc, store, _ = services()
    for i in range(6):
        run(svc, adc(Shop={"class": "Tenant", "Web": web(addr=f"10.1.10.{100 + i}")}))
    assert len(svc.history) == 4 and svc.history[0]["Shop"]["Web"]["serviceMain"]["virtualAddresses"] == [
        "10.1.10.105"]
    from node.as3 import service
    assert len(svc.task()[1]["items"]) == 6 <= service.MAX_TASKS


def test_a_service_address_pointer_deploys_and_carries_its_properties():
    svc, store, _ = services()
    shop = app(va={"class": "Service_Address", "virtualAddress": "10.1.10.120", "arpEnabled": False},
               svc={"class": "Service_TCP", "virtualAddresses": [{"use": "va"}], "virtualPort": 8080},
               other={"class": "Service_TCP", "virtualAddresses": [{"use": "/Common/Shared/shared_va"}],
                      "virtualPort": 8081})
    common = {"class": "Tenant", "Shared": app(template="shared", shared_va={
        "class": "Service_Address", "virtualAddress": "10.1.10.121", "icmpEcho": "disable"})}
    status, out = run(svc, adc(Common=common, Shop={"class": "Tenant", "App": shop}))
    assert status == 200, out
    assert store.get("ltm virtual", "/Shop/App/svc")["destination"] == "/Shop/10.1.10.120:8080"
    assert store.get("ltm virtual-address", "/Shop/10.1.10.120")["arp"] == "disabled"
    assert store.get("ltm virtual", "/Shop/App/other")["destination"] == "/Common/10.1.10.121:8081"
    assert store.get("ltm virtual-address", "/Common/10.1.10.121")["icmp-echo"] == "disabled"
    assert run(svc, None, ["Shop"], "DELETE")[0] == 200 and run(svc, None, ["Common"], "DELETE")[0] == 200
    assert store.get("ltm virtual-address", "/Common/10.1.10.121") is None


def test_persist_and_persistence_methods_become_profiles_on_the_virtual():
    svc, store, _ = services()
    shop = web(persistenceMethods=[{"use": "sticky"}], fallbackPersistenceMethod="source-address")
    shop["sticky"] = {"class": "Persist", "persistenceMethod": "cookie", "cookieName": "lab", "duration": 60}
    tcp = app(svc={"class": "Service_TCP", "virtualAddresses": ["10.1.10.101"], "virtualPort": 22,
                   "pool": "/Shop/Web/web_pool"})
    status, out = run(svc, adc(Shop={"class": "Tenant", "Web": shop, "Tcp": tcp}))
    assert status == 200, out
    vs = store.get("ltm virtual", "/Shop/Web/serviceMain")
    assert vs["persist"] == [{"name": "/Shop/Web/sticky", "default": "yes"}]
    assert vs["fallback-persistence"] == "/Common/source_addr"
    sticky = store.get("ltm persistence cookie", "/Shop/Web/sticky")
    assert (sticky["cookie-name"], sticky["timeout"], sticky["method"]) == ("lab", "60", "insert")
    # AS3's defaults: an HTTP service persists by cookie, the others by source address
    assert store.get("ltm virtual", "/Shop/Tcp/svc")["persist"] == [{"name": "/Common/source_addr",
                                                                      "default": "yes"}]
    bad = adc(Shop={"class": "Tenant", "Web": web(persistenceMethods=["msrdp"])})
    assert errors_of(bad) == ['/Shop/Web/serviceMain/persistenceMethods/0: persistence method "msrdp" is not '
                              'supported by this lab']


def test_an_mx_gslb_pool_names_its_domains():
    svc, store, _ = services()
    dns = app(mail={"class": "GSLB_Domain", "domainName": "mail.as3.example", "resourceRecordType": "A"},
              mx={"class": "GSLB_Pool", "resourceRecordType": "MX", "members": [
                  {"domainName": "mail.as3.example", "priority": 5}]},
              top={"class": "GSLB_Domain", "domainName": "as3.example", "resourceRecordType": "MX",
                   "pools": [{"use": "mx"}]})
    status, out = run(svc, adc(Dns={"class": "Tenant", "App": dns}))
    assert status == 200, out
    (member,) = store.get("gtm pool mx", "/Dns/App/mx")["members"]
    assert (member["name"], member["priority"]) == ("mail.as3.example", 5)
    assert [p["name"] for p in store.get("gtm wideip mx", "/Dns/App/as3.example")["pools"]] == ["/Dns/App/mx"]


def test_service_https_has_its_tls_profile_and_a_redirect_virtual_on_port_80():
    svc, store, _ = services()
    shop = web()
    shop["serviceMain"].update({"class": "Service_HTTPS", "serverTLS": {"bigip": "/Common/clientssl"}})
    shop["template"] = "https"
    status, out = run(svc, adc(Shop={"class": "Tenant", "Web": shop}))
    assert status == 200, out
    main = store.get("ltm virtual", "/Shop/Web/serviceMain")
    assert main["destination"] == "/Shop/10.1.10.100:443" and "/Common/clientssl" in main["profiles"]
    redirect = store.get("ltm virtual", "/Shop/Web/serviceMain-Redirect-")
    assert redirect["destination"] == "/Shop/10.1.10.100:80" and redirect["rules"] == ["/Common/_sys_https_redirect"]
    assert redirect.get("pool") in (None, "none")
    bad = web()
    bad["serviceMain"].update({"class": "Service_HTTPS", "serverTLS": {"use": "tls"}})
    bad["template"] = "https"
    assert errors_of(adc(Shop={"class": "Tenant", "Web": bad})) == [
        "/Shop/Web/serviceMain/serverTLS: the TLS_Server /Shop/Web/tls is not declared"]


def test_a_service_address_pointer_with_a_source_and_several_tls_profiles():
    svc, store, _ = services()
    shop = app(va={"class": "Service_Address", "virtualAddress": "10.1.10.120"},
               svc={"class": "Service_HTTPS", "virtualAddresses": [[{"use": "va"}, "10.20.0.0/16"]],
                    "redirect80": False, "serverTLS": [{"bigip": "/Common/clientssl"}],
                    "clientTLS": {"bigip": "/Common/serverssl"}})
    status, out = run(svc, adc(Shop={"class": "Tenant", "App": shop}))
    assert status == 200, out
    vs = store.get("ltm virtual", "/Shop/App/svc")
    assert (vs["destination"], vs["source"]) == ("/Shop/10.1.10.120:443", "10.20.0.0/16")
    assert {"/Common/clientssl", "/Common/serverssl"} <= set(vs["profiles"])
    assert store.get("ltm virtual", "/Shop/App/svc-Redirect-") is None
    shop["svc"]["virtualAddresses"] = [[{"use": "nova"}, "10.20.0.0/16"]]
    assert errors_of(adc(Shop={"class": "Tenant", "App": shop})) == [
        "/Shop/App/svc/virtualAddresses/0: the Service_Address /Shop/App/nova is not declared"]


def test_an_irule_expands_backquotes_as_as3_does():
    svc, store, _ = services()
    shop = web()
    shop["other"] = {"class": "Pool", "members": [{"servicePort": 80, "serverAddresses": ["10.1.20.23"]}]}
    shop["pick"] = {"class": "iRule", "iRule": "when HTTP_REQUEST { pool `*other` ; log local0. \"`T`/`A` `x y`\" }"}
    shop["raw"] = {"class": "iRule", "expand": False, "iRule": "when HTTP_REQUEST { log local0. `T` }"}
    assert run(svc, adc(Shop={"class": "Tenant", "Web": shop}))[0] == 200
    assert store.get("ltm rule", "/Shop/Web/pick")["api-anonymous"] == (
        'when HTTP_REQUEST { pool /Shop/Web/other ; log local0. "Shop/Web `x y`" }')
    assert store.get("ltm rule", "/Shop/Web/raw")["api-anonymous"] == "when HTTP_REQUEST { log local0. `T` }"


def test_named_servers_make_named_nodes_their_members_name_and_a_redeploy_is_no_change():
    tenant = {"class": "Tenant", "Web": web(servers=("10.1.20.21",))}
    tenant["Web"]["web_pool"]["members"][0]["servers"] = [{"name": "node1.example.com", "address": "10.1.20.31"}]
    svc, store, _ = services()
    assert run(svc, adc(Shop=tenant))[0] == 200
    assert store.get("ltm node", "/Shop/node1.example.com")["address"] == "10.1.20.31"
    assert {m["name"]: m["address"] for m in store.get("ltm pool", "/Shop/Web/web_pool")["members"]} == {
        "/Shop/10.1.20.21:80": "10.1.20.21", "/Shop/node1.example.com:80": "10.1.20.31"}
    assert run(svc, adc(Shop=tenant))[1]["results"][0]["message"] == "no change"
    tenant["Web"]["web_pool"]["members"][0]["servers"] = [{"name": "1node", "address": "10.1.20.31"}]
    assert errors_of(adc(Shop=tenant)) == [
        '/Shop/Web/web_pool/members/0/servers/0/name: should match pattern "^[A-Za-z][0-9A-Za-z_.-]*$"']
    assert run(svc, None, ["Shop"], "DELETE")[0] == 200 and owned(store) == []


def test_member_limits_are_the_members_settings():
    tenant = {"class": "Tenant", "Web": web(servers=("10.1.20.21",))}
    tenant["Web"]["web_pool"]["members"][0].update(connectionLimit=1000, rateLimit=100, dynamicRatio=50)
    svc, store, _ = services()
    assert run(svc, adc(Shop=tenant))[0] == 200
    (m,) = store.get("ltm pool", "/Shop/Web/web_pool")["members"]
    assert (m["connection-limit"], m["rate-limit"], m["dynamic-ratio"]) == (1000, "100", 50)
    assert run(svc, adc(Shop=tenant))[1]["results"][0]["message"] == "no change"
