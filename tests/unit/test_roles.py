"""F5's user roles as one table (config/roles.py), enforced by the store for every way in:
what each role may create, modify and delete, and the 01070822 refusal that changes nothing."""
from __future__ import annotations

import httpx
import pytest

from node.config.access import CURRENT, Access
from node.config.roles import ROLES, may_touch, refused
from node.config.store import ConfigStore, Op
from node.errors import RoleAccessDenied, WriteAccessDenied
from tests.unit.test_partition_access import scoped_rest
from tests.unit.test_rest_shapes import client

VLAN = Op("create", "net vlan", "/Common/v9", {})
POOL = Op("create", "ltm pool", "/Common/p9", {})
DISABLE = Op("modify", "ltm pool", "/Common/web", {"members": ("modify", {"/Common/10.1.1.1:80": {
    "session": ("set", "user-disabled")}})})
DROP = Op("modify", "ltm pool", "/Common/web", {"members": ("delete", {"/Common/10.1.1.1:80": {}})})
RATIO = Op("modify", "ltm pool", "/Common/web", {"members": ("modify", {"/Common/10.1.1.1:80": {"ratio": ("set", 2)}})})
NODE_OFF = Op("modify", "ltm node", "/Common/n1", {"session": ("set", "user-disabled")})
NODE_GONE = Op("delete", "ltm node", "/Common/n1", {})
RULE = Op("create", "ltm rule", "/Common/r9", {})
CERT = Op("create", "sys file ssl-cert", "/Common/c9.crt", {})
USER = Op("create", "auth user", "/Common/bob", {})
MONITOR = Op("modify", "ltm monitor http", "/Common/m", {"interval": ("set", 9)})


OPS = {"vlan": VLAN, "pool": POOL, "disable": DISABLE, "drop": DROP, "ratio": RATIO, "node_off": NODE_OFF,
       "node_gone": NODE_GONE, "rule": RULE, "cert": CERT, "user": USER, "monitor": MONITOR}


@pytest.mark.parametrize("role, allowed", [
    ("admin", set(OPS)),
    ("resource-admin", set(OPS) - {"user"}),
    ("user-manager", {"user"}),
    ("manager", set(OPS) - {"vlan", "cert", "user"}),
    ("certificate-manager", {"cert"}),
    ("irule-manager", {"rule"}),
    ("application-editor", {"disable", "drop", "ratio", "node_off", "monitor"}),
    ("operator", {"disable", "node_off"}),
    ("auditor", set()), ("guest", set()), ("no-access", set()),
])
def test_each_role_changes_what_f5_gives_it_and_nothing_else(role, allowed):
    assert {name for name, op in OPS.items() if not refused(role, "u1", op)} == allowed
    assert role in ROLES


def test_every_role_changes_its_own_password_only():
    own = Op("modify", "auth user", "/Common/u1", {"password": ("set", "x")})
    assert not refused("guest", "u1", own) and refused("guest", "u2", own)
    assert refused("guest", "u1", Op("modify", "auth user", "/Common/u1", {"role": ("set", "admin")}))
    Access("u1", "P1", "guest").check([own])      # an account is in /Common, yet its own


def test_rest_refuses_first_only_the_kinds_a_role_never_makes():
    assert may_touch("operator", "ltm pool", "modify") and not may_touch("operator", "ltm pool", "delete")
    assert not may_touch("manager", "net vlan", "create") and may_touch("manager", "ltm virtual", "delete")


def test_the_store_refuses_a_role_with_f5s_text_and_changes_nothing():
    store = ConfigStore(None, "b1")
    before = dict(store.objects)
    token = CURRENT.set(Access("m1", "all-partitions", "manager"))
    try:
        with pytest.raises(RoleAccessDenied) as e:
            store.commit([POOL, VLAN])
        assert str(e.value) == "01070822:3: Access Denied: user (m1) does not have create access to VLAN (/Common/v9)"
        assert store.objects == before
        store.commit([POOL])
    finally:
        CURRENT.reset(token)
    with pytest.raises(WriteAccessDenied):      # the partition is checked as before
        Access("m1", "P1", "manager").check([POOL])


async def test_over_rest_tmsh_and_transactions_a_manager_may_not_touch_net_and_an_operator_only_enables():
    rest, store = scoped_rest()
    store.commit([Op("create", "ltm pool", "/Common/web", {"members": ("set", {"/Common/10.1.1.1:80": {}})})])
    async with client(rest) as admin:
        for name, role in (("m1", "manager"), ("op1", "operator")):
            r = await admin.post("/mgmt/tm/auth/user", json={"name": name, "password": "pw-12345",
                                                             "partitionAccess": [{"name": "all-partitions", "role": role}]})
            assert r.status_code == 200, r.text

    def as_(user):
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost",
                                 auth=(user, "pw-12345"))
    async with as_("m1") as m1:
        r = await m1.post("/mgmt/tm/net/vlan", json={"name": "v9"})
        assert r.status_code == 401 and r.json()["message"].startswith("Authorization failed: user=m1")
        r = await m1.post("/mgmt/tm/util/bash", json={"command": "run", "utilCmdArgs": '-c "tmsh create net vlan v9"'})
        assert "01070822:3: Access Denied: user (m1) does not have create access to VLAN (/Common/v9)" \
            in r.json()["commandResult"]
        tid = (await m1.post("/mgmt/tm/transaction", json={})).json()["transId"]
        r = await m1.post("/mgmt/tm/ltm/pool", json={"name": "t1"}, headers={"X-F5-REST-Coordination-Id": str(tid)})
        assert r.status_code == 200
        assert (await m1.post("/mgmt/tm/net/vlan", json={"name": "v9"},
                              headers={"X-F5-REST-Coordination-Id": str(tid)})).status_code == 401
        assert (await m1.post("/mgmt/tm/ltm/pool", json={"name": "p9"})).status_code == 200
    assert store.get("net vlan", "/Common/v9") is None
    member = "/mgmt/tm/ltm/pool/~Common~web/members/~Common~10.1.1.1:80"
    async with as_("op1") as op1:
        r = await op1.patch(member, json={"session": "user-disabled"})
        assert r.status_code == 200 and r.json()["session"] == "user-disabled"
        for r in (await op1.patch(member, json={"ratio": 3}), await op1.delete(member)):
            assert r.status_code == 400 and r.json()["message"].startswith(
                "01070822:3: Access Denied: user (op1) does not have modify access to Pool (/Common/web)")
        assert (await op1.post("/mgmt/tm/ltm/pool", json={"name": "p8"})).status_code == 401
        r = await op1.patch("/mgmt/tm/auth/user/op1", json={"password": "pw-23456"})
        assert r.status_code == 200
    assert [m for m in store.get("ltm pool", "/Common/web")["members"]][0]["ratio"] == 1


async def test_tmsh_over_the_control_socket_runs_as_the_user_given_and_as_root_without_one():
    from types import MethodType, SimpleNamespace
    from node.control import CommandError
    from node.daemon import Daemon
    rest, store = scoped_rest()
    store.commit([Op("create", "auth user", "/Common/m1", {"password": ("set", "pw-12345"),
                                                           "role": ("set", "manager")})])
    d = SimpleNamespace(rest=rest, shell=rest.parts.shell)
    d.shell.cm = SimpleNamespace(failover=SimpleNamespace(device_state=lambda: "active"),
                                 sync_status=lambda: {"status": "Standalone"})
    d._as = MethodType(Daemon._as, d)
    with pytest.raises(CommandError, match=r"01070822:3: Access Denied: user \(m1\)"):
        await Daemon.cmd_tmsh(d, "create net vlan v9", user="m1")
    with pytest.raises(CommandError, match="does not exist"):
        await Daemon.cmd_tmsh(d, "list net vlan", user="nobody")
    assert (await Daemon.cmd_prompt(d, "tmsh", user="m1")).startswith("m1@(b1)")
    await Daemon.cmd_tmsh(d, "create ltm pool p9", user="m1")
    await Daemon.cmd_tmsh(d, "create net vlan v9")        # root: the lab's own CLI
    assert store.get("net vlan", "/Common/v9") is not None and store.get("ltm pool", "/Common/p9") is not None


async def test_a_certificate_manager_uploads_and_installs_a_certificate_and_an_operator_may_not(tmp_path):
    from node.config import ssl_files
    from tests.unit.test_tmsh_text import rest_with_shell
    store = ConfigStore(tmp_path / "running.json", "bigip1")
    rest, _ = rest_with_shell(store, tmp_path)
    store.commit([Op("create", "auth user", f"/Common/{n}", {"password": ("set", "pw-12345"), "role": ("set", r)})
                  for n, r in (("cm1", "certificate-manager"), ("op1", "operator"))])
    pem, _ = ssl_files.self_signed()
    headers = {"Content-Range": f"0-{len(pem) - 1}/{len(pem)}", "Content-Type": "application/octet-stream"}
    for user, code in (("op1", 401), ("cm1", 200)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost",
                                     auth=(user, "pw-12345")) as c:
            r = await c.post("/mgmt/shared/file-transfer/uploads/site.crt", content=pem, headers=headers)
            assert r.status_code == code, (user, r.text)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost",
                                 auth=("cm1", "pw-12345")) as c:
        r = await c.post("/mgmt/tm/sys/file/ssl-cert", json={
            "name": "site.crt", "sourcePath": "file:///var/config/rest/downloads/site.crt"})
        assert r.status_code == 200 and (r.json()["createdBy"], r.json()["revision"]) == ("cm1", 1)
