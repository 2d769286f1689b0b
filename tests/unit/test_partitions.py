"""Partitions and folders: objects at /P/name and /P/F/name in the store, REST and tmsh."""
from __future__ import annotations

import re

import pytest

from node.config.store import ConfigStore, Op, create_folder_ops
from node.errors import ConfigError, FolderNotEmpty, NotFound, ShellError
from node.shell import Shell
from tests.unit.test_rest_shapes import client, rest_of


def store_with_partition() -> ConfigStore:
    store = ConfigStore(None, "b1")
    store.commit(create_folder_ops("/P", description="tenant") + create_folder_ops("/P/app"))
    return store


def test_a_partition_is_its_folder_and_objects_live_in_it_and_its_folders():
    store = store_with_partition()
    assert store.get("auth partition", "/Common/P")["description"] == "tenant"
    assert store.get("sys folder", "/P") is not None and store.get("sys folder", "/P/app") is not None
    store.commit([Op("create", "ltm node", "/P/app/n", {"address": ("set", "10.1.1.1")})])
    assert store.get("ltm node", "/P/app/n")["address"] == "10.1.1.1"


def test_a_partition_and_its_folder_may_also_be_created_together_as_as3_does():
    store = ConfigStore(None, "b1")
    store.commit([Op("create", "auth partition", "/Common/T", {}),
                  Op("create", "sys folder", "/T", {"description": ("set", "tenant")}),
                  Op("create", "sys folder", "/T/A", {})])
    assert store.get("sys folder", "/T")["description"] == "tenant"
    with pytest.raises(ConfigError):
        store.commit([Op("create", "sys folder", "/T", {})])
    store.commit([Op("delete", "sys folder", "/T/A", {}), Op("delete", "sys folder", "/T", {}),
                  Op("delete", "auth partition", "/Common/T", {})])
    assert store.get("auth partition", "/Common/T") is None


def test_a_top_level_folder_is_a_partition():
    store = ConfigStore(None, "b1")
    store.commit([Op("create", "sys folder", "/T", {})])
    assert store.get("auth partition", "/Common/T") is not None
    store.commit([Op("delete", "sys folder", "/T", {})])
    assert store.get("auth partition", "/Common/T") is None


def test_an_object_in_a_missing_partition_or_folder_is_refused_and_nothing_changes():
    store = store_with_partition()
    before = dict(store.objects)
    for path in ("/Q/p", "/P/nosuch/p"):
        with pytest.raises(NotFound) as e:
            store.commit([Op("create", "ltm node", "/P/n", {"address": ("set", "10.1.1.2")}),
                          Op("create", "ltm pool", path, {})])
        assert str(e.value) == f"01020036:3: The requested folder ({path.rsplit('/', 1)[0]}) was not found."
    assert store.objects == before


def test_references_resolve_in_the_objects_own_folder_first_then_common():
    store = store_with_partition()
    store.commit([Op("create", "ltm node", "/P/n", {"address": ("set", "10.1.1.1")}),
                  Op("create", "ltm node", "/Common/c", {"address": ("set", "10.1.1.3")})])
    store.commit([Op("create", "ltm pool", "/P/p", {"monitor": ("set", "http"), "members": ("set", {
        "n:80": {}, "c:80": {}, "10.9.9.9:80": {}})})])
    pool = store.get("ltm pool", "/P/p")
    assert pool["monitor"] == "/Common/http"                       # no /P/http: the one in /Common
    assert [m["name"] for m in pool["members"]] == ["/Common/c:80", "/P/10.9.9.9:80", "/P/n:80"]
    assert store.get("ltm node", "/P/10.9.9.9")["address"] == "10.9.9.9"   # made in the pool's partition
    store.commit([Op("create", "ltm monitor http", "/P/http", {})])
    store.commit([Op("modify", "ltm pool", "/P/p", {"monitor": ("set", "http")})])
    assert store.get("ltm pool", "/P/p")["monitor"] == "/P/http"   # now the partition's own


def test_a_partition_holding_objects_cannot_be_deleted_and_common_never():
    store = store_with_partition()
    store.commit([Op("create", "ltm node", "/P/app/n", {"address": ("set", "10.1.1.1")})])
    with pytest.raises(FolderNotEmpty) as e:
        store.commit([Op("delete", "auth partition", "/Common/P", {})])
    assert str(e.value) == ("010713f9:3: The folder /P cannot be deleted because it contains configuration item "
                            "(folder /P/app).")
    with pytest.raises(ConfigError):
        store.commit([Op("delete", "auth partition", "/Common/Common", {})])
    assert store.get("auth partition", "/Common/P") is not None


def test_a_folder_and_everything_in_it_go_in_one_commit():
    store = store_with_partition()
    store.commit([Op("create", "ltm pool", "/P/app/p", {"members": ("set", {"10.9.9.9:80": {}})})])
    store.commit(store.delete_folder_ops("/P"))
    assert not [k for k in store.objects if k[1].startswith("/P")] and store.get("auth partition", "/Common/P") is None


def test_the_owner_field_is_kept_on_every_type():
    store = store_with_partition()
    store.commit([Op("create", "ltm node", "/P/app/n", {"address": ("set", "10.1.1.1"),
                                                        "app-service": ("set", "/P/app/app")})])
    assert store.get("ltm node", "/P/app/n")["app-service"] == "/P/app/app"


async def test_rest_places_objects_by_partition_and_subpath_and_filters_by_partition():
    rest, store = rest_of()
    async with client(rest) as c:
        r = await c.post("/mgmt/tm/auth/partition", json={"name": "P", "description": "tenant"})
        assert r.status_code == 200
        assert {k: r.json()[k] for k in ("name", "fullPath", "defaultRouteDomain", "description")} == {
            "name": "P", "fullPath": "P", "defaultRouteDomain": 0, "description": "tenant"}
        f = (await c.get("/mgmt/tm/sys/folder/~P")).json()
        assert (f["name"], f["subPath"], f["fullPath"], f["inheritedDevicegroup"], f["deviceGroup"]) == (
            "P", "/", "/P", "true", "none")
        r = await c.post("/mgmt/tm/sys/folder", json={"name": "app", "partition": "P"})
        assert (r.json()["partition"], r.json()["fullPath"]) == ("P", "/P/app")
        r = await c.post("/mgmt/tm/sys/folder", json={"name": "app2", "subPath": "/P"})   # as f5-sdk gives it
        assert r.json()["fullPath"] == "/P/app2"
        r = await c.post("/mgmt/tm/ltm/pool", json={"name": "web", "partition": "P", "subPath": "app",
                                                    "monitor": "/Common/http"})
        assert r.status_code == 200
        p = (await c.get("/mgmt/tm/ltm/pool/~P~app~web")).json()
        assert (p["name"], p["partition"], p["subPath"], p["fullPath"]) == ("web", "P", "app", "/P/app/web")
        assert p["selfLink"].startswith("https://localhost/mgmt/tm/ltm/pool/~P~app~web?")
        r = await c.post("/mgmt/tm/ltm/pool/~P~app~web/members", json={"name": "10.9.9.1:80", "partition": "P"})
        assert (r.status_code, r.json()["fullPath"], r.json()["partition"]) == (200, "/P/10.9.9.1:80", "P")
        assert (await c.get("/mgmt/tm/ltm/node/~P~10.9.9.1")).json()["address"] == "10.9.9.1"
        await c.post("/mgmt/tm/ltm/pool", json={"name": "other"})
        items = (await c.get("/mgmt/tm/ltm/pool", params={"$filter": "partition eq P"})).json()["items"]
        assert [i["fullPath"] for i in items] == ["/P/app/web"]
        r = await c.post("/mgmt/tm/ltm/pool", json={"name": "x", "partition": "Nope"})
        assert r.status_code == 400 and r.json()["message"] == "01020036:3: The requested folder (/Nope) was not found."
        r = await c.delete("/mgmt/tm/auth/partition/P")
        assert r.status_code == 400 and r.json()["message"].startswith("010713f9:3: The folder /P cannot be deleted")
    assert store.get("ltm pool", "/P/app/web") is not None


async def test_tmsh_cd_lists_the_current_folder_and_names_others_in_full():
    store = store_with_partition()
    store.commit([Op("create", "ltm pool", "/P/p", {"monitor": ("set", "/Common/http")}),
                  Op("create", "ltm pool", "/P/app/q", {}), Op("create", "ltm pool", "/Common/c", {})])
    sh = Shell("b1", store, None, set, None)
    assert await sh.run("list ltm pool") == "ltm pool c { }"
    out = await sh.run("cd /P; list ltm pool")
    assert out.startswith("ltm pool p {") and "monitor /Common/http" in out and "/P/app/q" not in out
    deep = await sh.run("list ltm pool recursive", "/P")
    assert "ltm pool p {" in deep and "ltm pool app/q { }" in deep     # below the folder: relative to it
    assert (await sh.run("list ltm pool /P/*")).count("ltm pool /P/") == 1
    await sh.run("cd /P/app; create ltm pool r")
    assert store.get("ltm pool", "/P/app/r") is not None
    with pytest.raises(ShellError) as e:
        await sh.run("cd /Nope")
    assert "(/Nope) was not found" in str(e.value)
    assert sh.cd("/P/app", [".."]) == "/P"


def two_webs():
    """A pool and a virtual named `web` in /P1 and in /P2, with the real LTM's reports over them."""
    from node.events import Hub
    from node.ltm.service import LTM
    rest, store = rest_of()     # a device with a VLAN on 10.0.0.0/24
    store.commit(create_folder_ops("/P1") + create_folder_ops("/P2"))
    for p, n in (("/P1", 1), ("/P2", 2)):
        store.commit([Op("create", "ltm pool", f"{p}/web", {"members": ("set", {f"10.1.20.2{n}:80": {}})}),
                      Op("create", "ltm virtual", f"{p}/web", {"destination": ("set", f"10.0.0.10{n}:80"),
                                                                "pool": ("set", "web")})])
    ltm = LTM("b1", store, lambda: set(), None, Hub())
    ltm.stat("pool", "/P1/web").total = 7
    ltm.stat("virtual", "/P2/web").total = 3
    vars(rest.parts.ltm).update(pool_report=ltm.pool_report, virtual_health=ltm.virtual_health)
    return rest, store, ltm


def test_ltm_reports_key_objects_of_the_same_name_in_two_partitions_apart():
    _, _, ltm = two_webs()
    pools = ltm.pool_report()
    assert set(pools) == {"/P1/web", "/P2/web"} and pools["/P1/web"]["stats"]["tot_conns"] == 7
    assert pools["/P2/web"]["stats"]["tot_conns"] == 0 and set(pools["/P2/web"]["members"]) == {"/P2/10.1.20.22:80"}
    virtuals = ltm.virtual_health()
    assert virtuals["/P2/web"]["stats"]["tot_conns"] == 3 and virtuals["/P1/web"]["pool"] == "/P1/web"


async def test_show_ltm_reads_the_current_folder_and_its_own_objects_stats():
    _, store, ltm = two_webs()
    sh = Shell("b1", store, None, set, None, ltm)
    p1 = await sh.run("cd /P1; show ltm pool")
    assert "Ltm::Pool: web" in p1 and re.search(r"Total Connections\s+7", p1) and "10.1.20.22" not in p1
    p2 = await sh.run("show ltm pool web", "/P2")
    assert "Member 10.1.20.22:80" in p2 and not re.search(r"Total Connections\s+[1-9]", p2)
    assert "Ltm::Pool: /P1/web" in await sh.run("show ltm pool /P1/web", "/P2")   # another folder's, in full
    assert await sh.run("show ltm pool") == ""                               # /Common has none
    v2 = await sh.run("show ltm virtual web", "/P2")
    assert re.search(r"Destination\s+10.0.0.102:80", v2) and re.search(r"Total Connections\s+3", v2)
    assert "Ltm::Pool Member: 10.1.20.21:http" in await sh.run("show ltm pool web members", "/P1")
    with pytest.raises(ShellError, match=r"\(/P2/nosuch\) was not found"):
        await sh.run("show ltm virtual nosuch", "/P2")


async def test_rest_stats_of_two_pools_of_one_name_are_each_their_own():
    rest, _, _ = two_webs()
    async with client(rest) as c:
        for p, total in (("P1", 7), ("P2", 0)):
            (entry,) = (await c.get(f"/mgmt/tm/ltm/pool/~{p}~web/stats")).json()["entries"].values()
            assert entry["nestedStats"]["entries"]["serverside.totConns"] == {"value": total}
            assert entry["nestedStats"]["entries"]["tmName"] == {"description": f"/{p}/web"}
