"""A user's partition-access enforced (config/access.py): a user scoped to one partition writes
only there, reads only there and in /Common, over REST, tmsh through util bash, and tmsh text."""
from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest

from node.config.access import ALL, CURRENT, Access, partition_of
from node.config.store import ConfigStore, Op, create_folder_ops
from node.config import conf
from node.config.schema import hash_secret
from node.config.tmsh import TmshSyntaxError, parse, render
from node.errors import ShellError, WriteAccessDenied
from node.rest.app import RestApp
from node.shell import Shell
from tests.unit.test_rest_shapes import client, rest_of

DENIED = ('01070824:3: Write Access Denied: user (u1) does not have update access to partition ({}), '
          'check your current "update/write" partition settings')


def test_an_object_is_in_its_paths_first_folder_and_system_objects_in_common():
    assert partition_of("ltm pool", "/P1/app/web") == "P1" and partition_of("ltm pool", "/Common/web") == "Common"
    assert partition_of("sys db", "/Common/setup.run") == "Common" and partition_of("auth partition", "/Common/P1") == "Common"
    assert partition_of("sys folder", "/P1") == "P1"


def test_a_scoped_user_writes_only_its_partition_and_reads_it_and_common():
    a = Access("u1", "P1")
    a.check([Op("create", "ltm pool", "/P1/web", {}), Op("delete", "ltm node", "/P1/app/n", {})])
    for op in (Op("create", "ltm pool", "/P2/web", {}), Op("modify", "sys db", "/Common/setup.run", {})):
        with pytest.raises(WriteAccessDenied) as e:
            a.check([Op("create", "ltm pool", "/P1/ok", {}), op])
        assert str(e.value) == DENIED.format(partition_of(op.type, op.path))
    assert a.may_read("ltm pool", "/P1/web") and a.may_read("ltm monitor http", "/Common/http")
    assert not a.may_read("ltm pool", "/P2/web")
    Access("u1", ALL).check([Op("create", "ltm pool", "/P2/web", {})])


def test_the_store_refuses_a_scoped_users_commit_outside_its_partition_and_changes_nothing():
    store = ConfigStore(None, "b1")
    store.commit(create_folder_ops("/P1") + create_folder_ops("/P2"))
    before = dict(store.objects)
    token = CURRENT.set(Access("u1", "P1"))
    try:
        with pytest.raises(WriteAccessDenied):
            store.commit([Op("create", "ltm pool", "/P1/a", {}), Op("create", "ltm pool", "/P2/b", {})])
        assert store.objects == before
        store.commit([Op("create", "ltm pool", "/P1/a", {})])
    finally:
        CURRENT.reset(token)
    store.commit([Op("create", "ltm pool", "/P2/b", {})])      # no scope: the admin's commit


def test_tmsh_takes_partition_access_as_f5_writes_it_and_lists_it_so():
    cmd = parse("create auth user u1 password pw-12345 partition-access add { P1 { role manager } }")
    assert cmd.values["partition-access"] == ("set", "P1") and cmd.values["role"] == ("set", "manager")
    text = render("auth user", "/Common/u1", {"password": "x", "role": "manager", "partition-access": "P1"})
    assert "    partition-access {\n        P1 {\n            role manager\n        }\n    }" in text
    assert parse("modify auth user u1 partition-access replace-all-with { P2 { role guest } }").values == {
        "partition-access": ("set", "P2"), "role": ("set", "guest")}


def test_a_user_lists_and_saves_its_encrypted_password_and_loads_it_back():
    hashed = hash_secret("pw-12345")
    user = {"password": hashed, "role": "operator"}
    text = render("auth user", "/Common/bob", user)
    assert f"    encrypted-password {hashed}\n" in text and "    password " not in text
    saved = conf.dump({("auth user", "/Common/bob"): user})["bigip_user.conf"]
    assert f"encrypted-password {hashed}" in saved
    [block] = conf.parse(saved)
    assert block.values["password"] == ("set", hashed)
    with pytest.raises(TmshSyntaxError):      # a crypt(3) hash the lab could not check
        parse("create auth user bob encrypted-password $6$PiA0g2.L$M02nqo3eVvj22PbEUONdzF")


def scoped_rest():
    rest, store = rest_of()
    shell = Shell("b1", store, None, set, lambda: [])
    rest = RestApp(**{**vars(rest.parts), "shell": shell})
    store.commit(create_folder_ops("/P1") + create_folder_ops("/P2") + [
        Op("create", "ltm pool", "/P2/theirs", {}), Op("create", "ltm pool", "/Common/shared", {})])
    return rest, store


async def test_over_rest_a_manager_of_p1_writes_there_only_and_sees_p1_and_common():
    rest, store = scoped_rest()
    async with client(rest) as admin:
        r = await admin.post("/mgmt/tm/auth/user", json={"name": "u1", "password": "pw-12345",
                                                         "partitionAccess": [{"name": "P1", "role": "manager"}]})
        assert r.status_code == 200
    u1 = httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost",
                           auth=("u1", "pw-12345"))
    async with u1:
        r = await u1.post("/mgmt/tm/ltm/pool", json={"name": "web", "partition": "P1", "monitor": "/Common/http"})
        assert r.status_code == 200 and store.get("ltm pool", "/P1/web") is not None
        for body in ({"name": "web", "partition": "P2"}, {"name": "web2"}):
            r = await u1.post("/mgmt/tm/ltm/pool", json=body)
            assert (r.status_code, r.json()["message"]) == (400, DENIED.format(body.get("partition", "Common")))
        r = await u1.delete("/mgmt/tm/ltm/pool/~P2~theirs")
        assert r.status_code == 400 and store.get("ltm pool", "/P2/theirs") is not None
        names = {i["fullPath"] for i in (await u1.get("/mgmt/tm/ltm/pool")).json()["items"]}
        assert names == {"/P1/web", "/Common/shared"}
        r = await u1.get("/mgmt/tm/ltm/pool/~P2~theirs")
        assert r.status_code == 404 and r.json()["message"] == "01020036:3: The requested Pool (/P2/theirs) was not found."
        r = await u1.post("/mgmt/tm/util/bash", json={"command": "run",
                                                      "utilCmdArgs": '-c "tmsh create ltm pool /P2/sneak"'})
        assert DENIED.format("P2") in r.json()["commandResult"] and store.get("ltm pool", "/P2/sneak") is None
        r = await u1.post("/mgmt/tm/util/bash", json={"command": "run", "utilCmdArgs": '-c "tmsh list ltm pool /P2/theirs"'})
        assert "was not found" in r.text
    async with client(rest) as admin:     # the admin still reaches every partition
        assert {i["fullPath"] for i in (await admin.get("/mgmt/tm/ltm/pool")).json()["items"]} >= {"/P2/theirs"}


def _report(paths):
    stats = {"cur_conns": 0, "tot_conns": 0, "bytes_in": 0, "bytes_out": 0, "refused": 0}
    return {p: {"members": {}, "stats": stats, "availability": "unknown", "reason": "-", "mode": "round-robin",
                "monitor": "none"} for p in paths}


async def test_a_scoped_user_sees_no_other_partitions_stats_show_or_transactions():
    rest, store = scoped_rest()
    report = _report(store.of_type("ltm pool"))
    rest = RestApp(**{**vars(rest.parts), "ltm": SimpleNamespace(members=lambda pool: [], pool_report=lambda: report,
                                                                 irules=None)})
    rest.parts.shell.ltm = rest.parts.ltm
    store.commit([Op("create", "auth user", "/Common/u1", {"password": ("set", "pw-12345"),
                                                           "partition-access": ("set", "P1"),
                                                           "role": ("set", "manager")})])
    async with client(rest) as admin:
        assert "https://localhost/mgmt/tm/ltm/pool/~P2~theirs/stats" in (
            await admin.get("/mgmt/tm/ltm/pool/stats")).json()["entries"]
        theirs = (await admin.post("/mgmt/tm/transaction", json={})).json()["transId"]
    u1 = httpx.AsyncClient(transport=httpx.ASGITransport(app=rest.app), base_url="https://localhost",
                           auth=("u1", "pw-12345"))
    async with u1:
        seen = (await u1.get("/mgmt/tm/ltm/pool/stats")).json()["entries"]
        assert [k.split("/")[-2] for k in seen] == ["~Common~shared"]
        for uri in ("/mgmt/tm/ltm/pool/~P2~theirs/stats", "/mgmt/tm/ltm/pool/~P2~theirs/members/stats",
                    f"/mgmt/tm/transaction/{theirs}"):
            assert (await u1.get(uri)).status_code == 404, uri
        assert (await u1.get("/mgmt/tm/transaction")).json()["items"] == []
        assert (await u1.get("/mgmt/tm/ltm/pool/~Common~shared/stats")).status_code == 200
    token = CURRENT.set(Access("u1", "P1"))
    try:
        assert "theirs" not in await rest.parts.shell.run("show ltm pool", folder="/P2")
        with pytest.raises(ShellError, match="was not found"):
            await rest.parts.shell.run("show ltm pool /P2/theirs members")
    finally:
        CURRENT.reset(token)
    assert "Ltm::Pool: theirs" in await rest.parts.shell.run("show ltm pool", folder="/P2")


async def test_one_object_is_read_without_reading_its_whole_type():
    rest, store = scoped_rest()
    scans = []
    of_type = store.of_type
    store.of_type = lambda t: scans.append(t) or of_type(t)
    async with client(rest) as admin:
        r = await admin.get("/mgmt/tm/ltm/pool/~P2~theirs?expandSubcollections=true")
        assert r.status_code == 200 and r.json()["fullPath"] == "/P2/theirs"
    assert "ltm pool" not in scans
