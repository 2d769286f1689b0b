"""AS3 targets on a real pair that is not clustered (ha-pair-onboard.yml, so nothing syncs between
them): one POST to bigip1 with two requests deploys one tenant on each BIG-IP by targetHost (the
second sent over the lab's REST with its credentials), and a target outside the lab gets AS3's
unreachable answer while the rest of the array deploys."""
from __future__ import annotations

import warnings

import pytest
import urllib3

from tests.lab.f5api import api, no_ca_bundle  # noqa: F401  (an autouse fixture)
from tests.lab.conftest import ROOT, one_lab

warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

LAB = "tat"
B1, B2 = "10.252.33.11", "10.252.33.12"
DECLARE = "/mgmt/shared/appsvcs/declare"


@pytest.fixture(scope="module")
def lab():
    with one_lab(ROOT / "topologies" / "ha-pair-onboard.yml", LAB, "10.252.33.0/24") as name:
        yield name


def request(tenant: str, vip: str, host: str, **creds) -> dict:
    """Our own: a tenant with one HTTP service on web1 and web2, for `host`."""
    return {"class": "AS3", "action": "deploy", "targetHost": host, **creds, "declaration": {
        "class": "ADC", "schemaVersion": "3.50.0", "id": f"lab-{tenant}", tenant: {"class": "Tenant", "Web": {
            "class": "Application", "template": "http",
            "serviceMain": {"class": "Service_HTTP", "virtualAddresses": [vip], "pool": "web_pool"},
            "web_pool": {"class": "Pool", "members": [{"servicePort": 80,
                                                       "serverAddresses": ["10.1.20.21", "10.1.20.22"]}]}}}}}


def virtuals(host: str) -> set[str]:
    return {v["fullPath"] for v in api(host, "GET", "/mgmt/tm/ltm/virtual").json().get("items", [])}


ADMIN = {"targetUsername": "admin", "targetPassphrase": "admin"}


def test_one_post_deploys_on_both_bigips_by_target_host(lab):
    try:
        r = api(B1, "POST", DECLARE, [request("One", "10.1.10.121", "localhost"),
                                      request("Two", "10.1.10.122", B2, **ADMIN)])
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert [(i["results"][0]["tenant"], i["results"][0]["host"], i["results"][0]["code"]) for i in items] == [
            ("One", "localhost", 200), ("Two", B2, 200)]
        assert "/One/Web/serviceMain" in virtuals(B1) and "/Two/Web/serviceMain" not in virtuals(B1)
        assert "/Two/Web/serviceMain" in virtuals(B2) and "/One/Web/serviceMain" not in virtuals(B2)
        assert "Two" in api(B2, "GET", DECLARE).json()          # bigip2's own AS3 holds its declaration
        bad = api(B1, "POST", DECLARE, request("Three", "10.1.10.123", B2, targetUsername="admin",
                                               targetPassphrase="wrong"))
        assert bad.status_code == 401 and "/Three/Web/serviceMain" not in virtuals(B2)
    finally:
        api(B1, "DELETE", DECLARE)
        api(B2, "DELETE", DECLARE)


def test_a_target_outside_the_lab_is_refused_and_the_rest_deploys(lab):
    try:
        r = api(B1, "POST", DECLARE, request("Far", "10.1.10.124", "192.0.2.212", **ADMIN))
        assert r.status_code == 500 and r.json()["message"] == (
            "GET https://192.0.2.212:443/mgmt/tm/sys/provision query target BIG-IP provisioning failed "
            "(connect ETIMEDOUT 192.0.2.212:443)")
        r = api(B1, "POST", DECLARE, [request("Near", "10.1.10.125", B1),
                                      request("Far", "10.1.10.124", "192.0.2.212", **ADMIN)])
        assert r.status_code == 207 and [i.get("code") for i in r.json()["items"]] == [None, 500]
        assert "/Near/Web/serviceMain" in virtuals(B1) and "/Far/Web/serviceMain" not in virtuals(B1)
    finally:
        api(B1, "DELETE", DECLARE)
