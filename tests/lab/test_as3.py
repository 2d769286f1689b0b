"""AS3 on a real HA pair: a declaration POSTed to bigip1 becomes objects on both devices (REST
and tmsh), carries HTTP from the client, redeploys as "no change", and DELETE leaves nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import warnings
from collections import Counter

import pytest
import requests
import urllib3

from lab.model import state
from lab.runtime.lab import Lab
from tests.lab.f5api import api, no_ca_bundle  # noqa: F401  (an autouse fixture)
from tests.lab.conftest import HA_PAIR, biglab, one_lab, wait_for

warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

LAB = "tas3"
B1, B2 = "10.250.30.11", "10.250.30.12"
VIP = "10.1.10.120"
DECLARE = "/mgmt/shared/appsvcs/declare"


def declaration(**extra) -> dict:
    """Our own: one tenant, an HTTP service on a pool of web1 and web2, and a TCP service on the same pool."""
    return {"class": "AS3", "action": "deploy", "persist": True, "declaration": {
        "class": "ADC", "schemaVersion": "3.50.0", "id": "lab-as3", "label": "biglab AS3 test",
        "Shop": {"class": "Tenant",
                 "Web": {"class": "Application", "template": "http",
                         "serviceMain": {"class": "Service_HTTP", "virtualAddresses": [VIP], "pool": "web_pool"},
                         "web_pool": {"class": "Pool", "monitors": [{"use": "web_mon"}], "members": [
                             {"servicePort": 80, "serverAddresses": ["10.1.20.21", "10.1.20.22"],
                              "shareNodes": True}]},     # the topology's own pool has these nodes in /Common
                         "web_mon": {"class": "Monitor", "monitorType": "http", "interval": 2, "timeout": 7}},
                 "Tcp": {"class": "Application",
                         "ssh": {"class": "Service_TCP", "virtualAddresses": [VIP], "virtualPort": 8080,
                                 "pool": {"use": "/Shop/Web/web_pool"}}}},
        **extra}}


@pytest.fixture(scope="module")
def lab():
    with one_lab(HA_PAIR, LAB, "10.250.30.0/24") as name:
        yield name


def tmsh(node: str, line: str) -> str:
    return biglab("exec", LAB, node, "--", "tmsh", *line.split()).stdout


def curl(lab: str, port: int = 80, vip: str = VIP) -> str | None:
    out = Lab.open(lab).run("client", ["curl", "-s", "-m", "3", f"http://{vip}:{port}/"], capture_output=True,
                            text=True)
    return out.stdout.split()[0] if out.returncode == 0 and out.stdout else None


def shop_objects(host: str) -> list[str]:
    found = []
    for kind in ("ltm/virtual", "ltm/pool", "ltm/node", "ltm/virtual-address", "ltm/monitor/http", "sys/folder"):
        items = api(host, "GET", f"/mgmt/tm/{kind}").json().get("items", [])
        found += [i["fullPath"] for i in items if i["fullPath"].startswith("/Shop")]
    return found


def test_deploy_reaches_both_devices_and_carries_traffic(lab):
    r = api(B1, "POST", DECLARE, declaration())
    assert r.status_code == 200, r.text
    assert [(x["tenant"], x["code"], x["message"]) for x in r.json()["results"]] == [("Shop", 200, "success")]
    assert r.json()["declaration"]["id"] == "lab-as3"
    for host in (B1, B2):
        vs = wait_for(lambda: api(host, "GET", "/mgmt/tm/ltm/virtual/~Shop~Web~serviceMain").status_code == 200
                      and api(host, "GET", "/mgmt/tm/ltm/virtual/~Shop~Web~serviceMain").json(),
                      what=f"serviceMain on {host}")
        assert (vs["partition"], vs["destination"], vs["pool"]) == ("Shop", f"/Shop/{VIP}:80", "/Shop/Web/web_pool")
    for node in ("bigip1", "bigip2"):
        text = tmsh(node, "list ltm pool /Shop/Web/web_pool")
        assert "10.1.20.21:http {" in text and "/Shop/Web/web_mon" in text   # ports by name, as F5 prints
    wait_for(lambda: curl(lab), what="HTTP through serviceMain")
    served = Counter(curl(lab) for _ in range(6))
    assert set(served) == {"web1", "web2"}
    assert wait_for(lambda: curl(lab, 8080), what="TCP through Tcp/ssh") in ("web1", "web2")


def test_the_declaration_and_its_task_sync_to_the_peer_and_survive_a_restart(lab):
    """AS3 keeps them in the configuration (data groups, as F5's AS3): bigip2 answers for them, also
    after its daemon was stopped and started again."""
    r = api(B1, "POST", DECLARE, declaration(remark="synced"))
    task = r.json()["id"]
    for host in (B1, B2):
        wait_for(lambda: api(host, "GET", DECLARE).status_code == 200
                 and api(host, "GET", DECLARE).json().get("remark") == "synced", what=f"the declaration on {host}")
    settings = "/mgmt/shared/appsvcs/settings"    # kept as AS3 keeps them: a data group, synced
    assert api(B1, "POST", settings, {"burstHandlingEnabled": True}).json()["burstHandlingEnabled"] is True
    wait_for(lambda: api(B2, "GET", settings).json()["burstHandlingEnabled"], what="the settings on bigip2")
    pid = int((state.node_dir(LAB, "bigip2") / "daemon.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or
             open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", what="bigip2's daemon gone")
    Lab.open(LAB).start_daemon("bigip2")
    got = wait_for(lambda: _answer(B2, DECLARE), timeout=30, what="bigip2's AS3 back")
    assert got["remark"] == "synced" and got["Shop"]["Web"]["serviceMain"]["virtualAddresses"] == [VIP]
    assert [x["message"] for x in api(B2, "GET", f"/mgmt/shared/appsvcs/task/{task}").json()["results"]] == [
        "no change"]     # the tenant's objects are as deployed; only the declaration's remark is new
    assert [h["age"] for h in api(B2, "GET", DECLARE + "?age=list").json()][:2] == [0, 1]
    assert api(B2, "GET", settings).json()["burstHandlingEnabled"] is True
    api(B1, "POST", settings, {})     # every setting back to its default, on both
    wait_for(lambda: api(B2, "GET", settings).json()["burstHandlingEnabled"] is False, what="the defaults on bigip2")


def _answer(host: str, path: str):
    try:
        r = api(host, "GET", path)
    except requests.RequestException:
        return None
    return r.status_code == 200 and r.json()


def test_redeploy_is_no_change_and_a_hand_edit_is_put_back(lab):
    r = api(B1, "POST", DECLARE, declaration())
    assert [x["message"] for x in r.json()["results"]] == ["no change"]
    tmsh("bigip1", "modify ltm pool /Shop/Web/web_pool load-balancing-mode ratio-member")
    assert [x["message"] for x in api(B1, "POST", DECLARE, declaration()).json()["results"]] == ["success"]
    assert api(B1, "GET", "/mgmt/tm/ltm/pool/~Shop~Web~web_pool").json()["loadBalancingMode"] == "round-robin"
    got = api(B1, "GET", DECLARE)
    assert got.status_code == 200 and got.json()["Shop"]["Web"]["serviceMain"]["virtualAddresses"] == [VIP]
    assert api(B1, "GET", "/mgmt/shared/appsvcs/info").json()["schemaCurrent"]


@pytest.mark.parametrize("change, error", [
    (lambda d: d["Shop"]["Web"]["web_pool"].update(colour="blue"), "/Shop/Web/web_pool: should NOT have additional"),
    (lambda d: d["Shop"]["Web"]["web_pool"].update(monitors=[{"use": "nomon"}]),
     "/Shop/Web/web_pool/monitors/0: the Monitor /Shop/Web/nomon is not declared"),
    (lambda d: d["Shop"]["Tcp"]["ssh"].update(virtualPort=80), "/Shop/Tcp/ssh/virtualAddresses: 10.1.10.120 port 80 is "
     "already the address of /Shop/Web/serviceMain"),
    (lambda d: d["Shop"]["Web"].update(rule={"class": "Firewall_Policy"}), 'class "Firewall_Policy" is not supported'),
    (lambda d: d.update(Common={"class": "Tenant", "Shared": {"class": "Application", "template": "shared", "vs": {
        "class": "Service_TCP", "virtualAddresses": ["10.1.10.121"], "virtualPort": 1}}}), "cannot be declared in the "
     "Common tenant"),
])
def test_bad_declarations_are_422_and_change_nothing(lab, change, error):
    before = shop_objects(B1)
    body = declaration()
    change(body["declaration"])
    r = api(B1, "POST", DECLARE, body)
    assert r.status_code == 422 and r.json()["message"] == "declaration is invalid"
    assert any(e.startswith(error) or error in e for e in r.json()["errors"]), r.json()["errors"]
    assert shop_objects(B1) == before


def test_a_tenant_the_device_refuses_is_207_and_the_others_stand(lab):
    body = declaration()
    body["declaration"]["Away"] = {"class": "Tenant", "Web": {"class": "Application", "svc": {
        "class": "Service_TCP", "virtualAddresses": ["10.9.9.9"], "virtualPort": 80}}}   # on no VLAN of the pair
    r = api(B1, "POST", DECLARE, body)
    assert r.status_code == 207, r.text
    assert [(x["tenant"], x["code"]) for x in r.json()["results"]] == [("Shop", 200), ("Away", 422)]
    assert "10.9.9.9" in r.json()["results"][1]["response"]
    assert api(B1, "GET", "/mgmt/tm/sys/folder/~Away").status_code == 404
    assert "Away" not in api(B1, "GET", DECLARE).json()


def test_not_json_is_422(lab):
    r = requests.post(f"https://{B1}{DECLARE}", data=b"{nope", auth=("admin", "admin"), verify=False, timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0].startswith("/: the body is not JSON")


def test_async_deploy_is_a_task_and_a_second_one_meanwhile_gets_503(lab):
    big = declaration()
    for i in range(1000):    # big enough that its check and plan outlast the second request (~0.2 s for 300 on a calm machine)
        big["declaration"]["Shop"][f"App{i}"] = {"class": "Application", "svc": {
            "class": "Service_HTTP", "virtualAddresses": ["10.1.10.121"], "virtualPort": 10000 + i, "pool": "p"},
            "p": {"class": "Pool", "members": [{"servicePort": 80, "serverAddresses": [f"10.1.20.{100 + i % 100}"]}]}}
    r = api(B1, "POST", DECLARE + "?async=true", big)
    assert r.status_code == 202 and r.json()["results"][0]["message"] == "Declaration successfully submitted"
    task = r.json()["id"]
    second = api(B1, "POST", DECLARE, declaration())
    done = wait_for(lambda: (t := api(B1, "GET", f"/mgmt/shared/appsvcs/task/{task}").json())["results"][0]
                    ["message"] != "in progress" and t, what="the async task")
    assert [x["message"] for x in done["results"]] == ["success"]
    assert task in [t["id"] for t in api(B1, "GET", "/mgmt/shared/appsvcs/task").json()["items"]]
    print("runTime", done["results"][0]["runTime"], "second", second.status_code)
    # the second declaration was refused while the first ran, so taking the tenant back to it is a change
    assert second.status_code == 503
    assert api(B1, "POST", DECLARE, declaration()).json()["results"][0]["message"] == "success"


def test_an_irule_with_its_data_group_runs_on_the_service(lab):
    body = declaration()
    body["declaration"]["Shop"]["Guard"] = {
        "class": "Application",
        "guarded": {"class": "Service_HTTP", "virtualAddresses": [VIP], "virtualPort": 8090,
                    "pool": {"use": "/Shop/Web/web_pool"}, "iRules": ["guard"]},
        "guard": {"class": "iRule", "iRule": "when HTTP_REQUEST {\n  if { [class match [HTTP::uri] starts_with "
                                              "/Shop/Guard/blocked] } { HTTP::respond 403 content denied }\n}"},
        "blocked": {"class": "Data_Group", "keyDataType": "string", "records": [{"key": "/admin"}]}}
    r = api(B1, "POST", DECLARE, body)
    assert r.status_code == 200 and [x["message"] for x in r.json()["results"]] == ["success"], r.text
    assert wait_for(lambda: curl(lab, 8090), what="HTTP through the guarded service") in ("web1", "web2")
    out = Lab.open(lab).run("client", ["curl", "-s", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}",
                                       f"http://{VIP}:8090/admin/x"], capture_output=True, text=True)
    assert out.stdout == "403"
    wait_for(lambda: "/Shop/Guard/guard" in biglab("exec", LAB, "bigip2", "--", "tmsh", "list", "ltm", "virtual",
                                                   "/Shop/Guard/guarded", check=False).stdout,
             timeout=60, what="the guarded virtual and its iRule on bigip2")   # the peer may still be
    #                                                   taking down the async test's 1000 applications


def test_https_through_a_service_with_its_own_certificate(lab, tmp_path):
    """A Certificate of the declaration's own (PEM inline) serves HTTPS through a TLS_Server."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=shop.lab.example", "-keyout", tmp_path / "k.pem",
                    "-out", tmp_path / "c.pem"], check=True, capture_output=True)
    body = declaration()
    body["declaration"]["Shop"]["Secure"] = {
        "class": "Application",
        "secure": {"class": "Service_HTTPS", "virtualAddresses": [VIP], "virtualPort": 8443, "redirect80": False,
                   "pool": {"use": "/Shop/Web/web_pool"}, "serverTLS": "tls"},
        "tls": {"class": "TLS_Server", "certificates": [{"certificate": "cert"}]},
        "cert": {"class": "Certificate", "certificate": (tmp_path / "c.pem").read_text(),
                 "privateKey": (tmp_path / "k.pem").read_text()}}
    r = api(B1, "POST", DECLARE, body)
    assert r.status_code == 200 and [x["message"] for x in r.json()["results"]] == ["success"], r.text

    def https():
        out = Lab.open(lab).run("client", ["curl", "-sk", "-v", "-m", "3", f"https://{VIP}:8443/"],
                                capture_output=True, text=True)
        return out.returncode == 0 and out.stdout and (out.stdout.split()[0], out.stderr)
    served, trace = wait_for(https, what="HTTPS through the Secure service")
    assert served in ("web1", "web2") and "subject: CN=shop.lab.example" in trace


def test_f5s_python_sdk_as3_client(lab):
    """F5's own client (f5-sdk-python's AS3Client), unmodified: info, a deploy, the declaration back."""
    from f5sdk.bigip import ManagementClient
    from f5sdk.bigip.extension import AS3Client
    as3 = AS3Client(ManagementClient(B1, user="admin", password="admin"))
    assert as3.service.show_info()["schemaCurrent"]
    body = declaration()
    body["declaration"]["Shop"]["Web"]["serviceMain"]["virtualPort"] = 8081
    out = as3.service.create(config=body)
    assert [x["message"] for x in out["results"]] == ["success"]
    assert as3.service.show()["Shop"]["Web"]["serviceMain"]["virtualPort"] == 8081
    assert wait_for(lambda: curl(lab, 8081), what="HTTP on the SDK's port") in ("web1", "web2")


def test_event_driven_discovery_nodes_posted_become_members_on_both_devices(lab):
    """A pool with an event member starts empty; the node list POSTed to its task becomes its
    members (on the peer too, by sync) and carries traffic; the tenant's DELETE takes them away."""
    vip = "10.1.10.121"
    decl = {"class": "ADC", "schemaVersion": "3.50.0", "Events": {"class": "Tenant", "App": {
        "class": "Application", "template": "http",
        "serviceMain": {"class": "Service_HTTP", "virtualAddresses": [vip], "pool": "pool"},
        "pool": {"class": "Pool", "members": [{"servicePort": 80, "addressDiscovery": "event",
                                              "shareNodes": True}]}}}}   # web2's node is the topology's, in /Common
    assert api(B1, "POST", DECLARE, decl).status_code == 200
    task = "/mgmt/shared/service-discovery/task/~Events~App~pool"
    try:
        assert api(B1, "GET", task).json()["provider"] == "event"
        r = api(B1, "POST", f"{task}/nodes", [{"id": "10.1.20.22", "ip": "10.1.20.22"}])
        assert r.status_code == 200, r.text
        assert wait_for(lambda: curl(lab, vip=vip), what="HTTP to the posted node") == "web2"
        wait_for(lambda: "10.1.20.22:http {" in tmsh("bigip2", "list ltm pool /Events/App/pool"),
                 what="the posted member on bigip2")
        assert [x["message"] for x in api(B1, "POST", DECLARE, decl).json()["results"]] == ["no change"]
    finally:
        assert api(B1, "DELETE", DECLARE + "/Events").status_code == 200
    assert api(B1, "GET", "/mgmt/tm/ltm/pool/~Events~App~pool").status_code == 404
    assert api(B1, "GET", "/mgmt/shared/service-discovery/task").json() == {"items": []}


def test_delete_leaves_nothing_on_either_device(lab):
    r = api(B1, "DELETE", DECLARE + "/Shop")
    assert r.status_code == 200 and [x["message"] for x in r.json()["results"]] == ["success"]
    for host in (B1, B2):
        wait_for(lambda: shop_objects(host) == [], what=f"nothing of Shop on {host}")
        assert "Shop" not in [p["name"] for p in api(host, "GET", "/mgmt/tm/auth/partition").json()["items"]]
    assert api(B1, "GET", DECLARE).status_code == 204
    assert curl(lab) is None


# -- GSLB: a declaration on a GTM answers DNS --------------------------------------------------------
GSLB_LAB, GTM = "tas3g", "10.250.32.11"
GSLB_TOPOLOGY = HA_PAIR.parents[1] / "tests" / "lab" / "topologies" / "as3-gslb.yml"


def gslb_declaration() -> dict:
    return {"class": "ADC", "schemaVersion": "3.50.0", "id": "lab-gslb",
            "Common": {"class": "Tenant", "Shared": {
                "class": "Application", "template": "shared",
                "dc1": {"class": "GSLB_Data_Center"},
                "ltm1": {"class": "GSLB_Server", "dataCenter": {"use": "dc1"}, "devices": [{"address": "10.10.1.11"}],
                         "virtualServers": [{"name": "vs_www", "address": "10.10.1.100", "port": 80}]}}},
            "Dns": {"class": "Tenant", "Shop": {
                "class": "Application",
                "www_pool": {"class": "GSLB_Pool", "resourceRecordType": "A", "members": [
                    {"server": {"use": "/Common/Shared/ltm1"}, "virtualServer": "vs_www"}]},
                "www": {"class": "GSLB_Domain", "domainName": "shop.as3.example", "resourceRecordType": "A",
                        "pools": [{"use": "www_pool"}]}}}}


@pytest.fixture(scope="module")
def gslb_lab():
    with one_lab(GSLB_TOPOLOGY, GSLB_LAB, "10.250.32.0/24") as name:
        yield name


def dig(lab: str, name: str) -> list[str]:
    out = Lab.open(lab).run("client", ["dig", "+short", "+time=2", "+tries=2", "@10.30.0.53", name],
                            capture_output=True, text=True)
    return out.stdout.split()


def test_gslb_domain_answers_on_the_dns_listener(gslb_lab):
    r = api(GTM, "POST", DECLARE, gslb_declaration())
    assert r.status_code == 200, r.text
    assert [(x["tenant"], x["message"]) for x in r.json()["results"]] == [("Common", "success"), ("Dns", "success")]
    wip = api(GTM, "GET", "/mgmt/tm/gtm/wideip/a/~Dns~Shop~shop.as3.example").json()
    assert len(wip["pools"]) == 1 and wip["pools"][0]["name"].endswith("www_pool")
    assert "10.10.1.100:http" in biglab("exec", GSLB_LAB, "gtm1", "--", "tmsh", "list", "gtm", "server",
                                      "ltm1").stdout
    assert wait_for(lambda: dig(gslb_lab, "shop.as3.example") == ["10.10.1.100"], timeout=30,
                    what="the wide IP's answer")
    assert [x["message"] for x in api(GTM, "POST", DECLARE, gslb_declaration()).json()["results"]] == [
        "no change", "no change"]
    assert api(GTM, "DELETE", DECLARE + "/Dns").status_code == 200
    assert api(GTM, "DELETE", DECLARE + "/Common").status_code == 200
    assert api(GTM, "GET", "/mgmt/tm/gtm/server").json().get("items", []) == []
    wait_for(lambda: dig(gslb_lab, "shop.as3.example") == [], what="no answer once deleted")
