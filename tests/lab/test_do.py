"""Declarative Onboarding on a pair that starts untrusted and unclustered (ha-pair-onboard.yml):
one DO declaration to each device, in the shape of F5's clustering example, makes an In Sync
sync-failover pair with one active device."""
from __future__ import annotations

import warnings

import pytest
import urllib3

from tests.lab.f5api import api, no_ca_bundle  # noqa: F401  (an autouse fixture)
from tests.lab.conftest import ROOT, one_lab, wait_for

warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

LAB = "tdo"
B1, B2 = "10.250.33.11", "10.250.33.12"
DO = "/mgmt/shared/declarative-onboarding"


@pytest.fixture(scope="module")
def lab():
    with one_lab(ROOT / "topologies" / "ha-pair-onboard.yml", LAB, "10.250.33.0/24") as name:
        yield name


def declaration(ha_address: str) -> dict:
    """Our own, shaped as F5's cluster example: members and remoteHost by management address."""
    return {"class": "Device", "schemaVersion": "1.45.0", "async": True, "label": "biglab pair", "Common": {
        "class": "Tenant",
        "configSync": {"class": "ConfigSync", "configsyncIp": ha_address},
        "failoverAddress": {"class": "FailoverUnicast", "address": ha_address},
        "failoverGroup": {"class": "DeviceGroup", "type": "sync-failover", "members": [B1, B2],
                          "owner": "/Common/failoverGroup/members/0", "autoSync": True, "saveOnAutoSync": False,
                          "networkFailover": True, "fullLoadOnSync": False, "asmSync": False},
        "trust": {"class": "DeviceTrust", "localUsername": "admin", "localPassword": "admin",
                  "remoteHost": "/Common/failoverGroup/members/0", "remoteUsername": "admin",
                  "remotePassword": "admin"}}}


def test_one_declaration_each_makes_an_in_sync_pair_with_one_active(lab):
    assert api(B1, "GET", "/mgmt/tm/cm/sync-status").json()["entries"]
    tasks = {}
    for host, ha in ((B1, "10.1.30.11"), (B2, "10.1.30.12")):
        r = api(host, "POST", DO, declaration(ha))
        assert r.status_code == 202 and r.json()["result"]["status"] == "RUNNING", r.text
        tasks[host] = r.json()["id"]
    for host, task in tasks.items():
        done = wait_for(lambda: (t := api(host, "GET", f"{DO}/task/{task}").json())["result"]["status"] != "RUNNING"
                        and t, timeout=150, what=f"DO on {host}")
        assert (done["result"]["status"], done["result"]["message"]) == ("OK", "success"), done
    for host in (B1, B2):
        status = wait_for(lambda: (s := api(host, "GET", "/mgmt/tm/cm/sync-status").json()) and
                          "In Sync" in str(s) and s, timeout=60, what=f"In Sync on {host}")
        assert "failoverGroup" in str(status)
    states = wait_for(lambda: (s := sorted(str(api(h, "GET", "/mgmt/tm/cm/failover-status").json()).count("ACTIVE")
                                            > 0 for h in (B1, B2))) == [False, True] and s, timeout=30,
                      what="one active device")
    assert states == [False, True]
    assert api(B1, "GET", DO).json()["result"]["status"] == "OK"


def test_a_failing_declaration_rolls_back(lab):
    before = api(B1, "GET", "/mgmt/tm/cm/device/~Common~bigip1").json()
    decl = declaration("10.1.30.11")
    decl["Common"]["configSync"]["configsyncIp"] = "10.1.10.11"
    decl["Common"]["trust"]["remoteHost"] = "10.250.33.99"       # nobody there: the trust step fails
    decl["Common"]["failoverGroup"]["owner"] = B2
    r = api(B1, "POST", DO, {**decl, "async": False})
    assert r.json()["result"]["status"] == "ERROR" and r.json()["result"]["message"] == \
        "invalid config - rolled back"
    assert api(B1, "GET", "/mgmt/tm/cm/device/~Common~bigip1").json()["configsyncIp"] == before["configsyncIp"]


def test_dos_own_python_client_reads_the_result(lab):
    """F5's f5-sdk-python DOClient, unmodified."""
    from f5sdk.bigip import ManagementClient
    from f5sdk.bigip.extension import DOClient
    do = DOClient(ManagementClient(B2, user="admin", password="admin"))
    assert do.service.show_info()[0]["result"]["status"] == "OK"
    assert do.service.show()["result"]["status"] == "OK"
