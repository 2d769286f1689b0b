"""iApps on a pair (ha-pair): a service deployed from the lab's HTTP template serves real HTTP,
syncs to the peer, refuses hand edits, is reconfigured and deleted in one commit each, and a
second one is orphaned with strict updates off."""
from pathlib import Path

import pytest

from lab.runtime.control import ControlError, call
from lab.runtime.lab import Lab
from tests.lab.conftest import HA_PAIR, wait_for

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SHOP = ("create sys application service shop template lab.http variables add { pool__addr { value %s } } "
        "tables add { pool__members { column-names { addr port } rows { { row { 10.1.20.21 80 } } { row { 10.1.20.22 80 } } } } }")


def tmsh(lab, line, node="bigip1"):
    return call(lab, node, "tmsh", line=line)


def curl(lab, vip, path="/"):
    return Lab.open(lab).run("client", ["curl", "-s", "-m", "3", f"http://{vip}{path}"], capture_output=True, text=True)


def on_peer(lab, line):
    try:
        return tmsh(lab, line, node="bigip2")
    except ControlError:
        return None


@pytest.fixture(scope="module")
def lab():
    from tests.lab.conftest import Labs
    labs = Labs()
    try:
        lab = labs(HA_PAIR, "tiapp", "10.250.45.0/24")
        tmsh(lab, f"load sys application template {TEMPLATES / 'lab.http.tmpl'}")
        tmsh(lab, f"load sys application template {TEMPLATES / 'lab.tcp.tmpl'}")
        tmsh(lab, SHOP % "10.1.10.110")
        yield lab
    finally:
        labs.close()


def test_the_deployed_virtual_serves_http_and_the_service_syncs_to_the_peer(lab):
    wait_for(lambda: curl(lab, "10.1.10.110", "/hello").stdout.split()[:1] in (["web1"], ["web2"]),
             what="the iApp's virtual serves")
    assert {curl(lab, "10.1.10.110").stdout.split()[0] for _ in range(4)} == {"web1", "web2"}
    listed = wait_for(lambda: on_peer(lab, "list ltm virtual /Common/shop.app/shop_vs"), what="the peer has it")
    assert "app-service" in listed and "shop.app/shop" in listed
    assert "template /Common/lab.http" in tmsh(lab, "list sys application service shop.app/shop", node="bigip2")


def test_a_hand_edit_of_an_owned_object_is_refused(lab):
    with pytest.raises(ControlError, match=r"01070621:3: The application service \(/Common/shop.app/shop\) must be "
                                           r"updated using an application management interface"):
        tmsh(lab, "modify ltm pool /Common/shop.app/shop_pool description by-hand")


def test_reconfigure_moves_the_virtual_and_delete_removes_everything(lab):
    tmsh(lab, "modify sys application service shop.app/shop variables modify { pool__addr { value 10.1.10.111 } }")
    wait_for(lambda: curl(lab, "10.1.10.111").stdout.split()[:1] in (["web1"], ["web2"]), what="the new address serves")
    assert "10.1.10.111" in wait_for(lambda: on_peer(lab, "list ltm virtual /Common/shop.app/shop_vs"), what="peer")
    tmsh(lab, "delete sys application service shop.app/shop")
    assert tmsh(lab, "list ltm virtual recursive").find("shop.app") < 0
    wait_for(lambda: (on_peer(lab, "list ltm pool recursive") or "shop.app").find("shop.app") < 0, what="gone on the peer")


def test_strict_updates_disabled_lets_the_deployment_be_orphaned(lab):
    tmsh(lab, "create sys application service db template lab.tcp variables add { basic__addr { value 10.1.10.112 } "
              "basic__port { value 80 } } tables add { basic__servers { column-names { addr port } rows { { row { 10.1.20.21 80 } } } } }")
    tmsh(lab, "modify sys application service db.app/db strict-updates disabled")
    for obj in ("ltm virtual /Common/db.app/db_vs", "ltm pool /Common/db.app/db_pool",
                "ltm virtual-address /Common/db.app/10.1.10.112"):   # (its member is /Common/10.1.20.21: web_pool's node)
        tmsh(lab, f"modify {obj} app-service none")   # what an engineer does to keep a deployment
    tmsh(lab, "delete sys application service db.app/db")
    assert "db.app/db_vs" in tmsh(lab, "list ltm virtual recursive")
    wait_for(lambda: curl(lab, "10.1.10.112").stdout.split()[:1] == ["web1"], what="the orphan still serves")
