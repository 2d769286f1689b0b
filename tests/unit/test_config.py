"""The one object model: commits all or nothing, F5's errors, persistence, sync application, tmsh."""
import json

from collections import deque

import pytest

from node.cm import sync
from node.config.store import Cid, ConfigError, ConfigStore, Op, SyncRefused
from node.config.tmsh import TmshSyntaxError, parse, render
from node.errors import Exists, InUse, Invalid, NotFound
from node.rest.errors import answer


def run(store, line):
    cmd = parse(line)
    from node.config.schema import full_path
    return store.commit([Op(cmd.verb, cmd.type, full_path(cmd.name), cmd.values)])


@pytest.fixture
def store(tmp_path):
    s = ConfigStore(tmp_path / "running.json", "bigip1", now=lambda: 1000.0)
    run(s, "create net vlan external")
    run(s, "create net self ext address 10.1.10.11/24 vlan external")
    run(s, "create net vlan internal")
    run(s, "create net self int address 10.1.20.11/24 vlan internal")
    return s


def test_local_objects_do_not_make_a_sync_commit_but_ltm_objects_do(store):
    assert store.cid is None
    result = run(store, "create ltm pool web members add { 10.1.20.21:80 10.1.20.22:80 } monitor http")
    assert result["synced"] and store.cid == Cid(1, "bigip1", 1000.0)
    assert store.get("ltm node", "/Common/10.1.20.21")["address"] == "10.1.20.21"  # made for the member


def test_a_floating_self_ip_is_synced_and_a_non_floating_one_is_not(store):
    assert store.scope("net self", store.get("net self", "/Common/ext")) == "local"
    run(store, "create net self ext-float address 10.1.10.10/24 vlan external traffic-group traffic-group-1")
    assert [p for t, p, _ in store.snapshot("synced") if t == "net self"] == ["/Common/ext-float"]


@pytest.mark.parametrize("line, message", [
    ("create ltm pool web monitor nosuch", "01020036:3: The requested Monitor (/Common/nosuch) was not found."),
    ("create ltm virtual vs destination 10.1.10.100:80 pool nosuch",
     "01020036:3: The requested Pool (/Common/nosuch) was not found."),
    ("create net self x address 10.1.30.11/24 vlan ha", "01020036:3: The requested VLAN (/Common/ha) was not found."),
    ("create net self ext2 address 10.1.10.11/24 vlan external", "have the same address 10.1.10.11"),
    ("create ltm pool web load-balancing-mode fastest", '"fastest" is not one of round-robin'),
    ("create cm traffic-group tg2 auto-failback-time 301", "301 is out of range (0-300)"),
    ("create ltm virtual vs destination 10.1.10.300:80", "is not a valid address:port"),
    ("modify ltm pool nosuch monitor http", "01020036:3: The requested Pool (/Common/nosuch) was not found."),
    ("create ltm pool a/b", "invalid name"),
    ("delete cm traffic-group traffic-group-1", "built-in"),
    ("create ltm virtual vs destination 10.9.9.9:80", "destination 10.9.9.9 is on no VLAN of this device"),
    ('create ltm monitor http bad recv "(unclosed"', "is not a valid regular expression"),
    ("create ltm virtual vs destination 10.1.10.100:80 profiles replace-all-with { fastL4 http }",
     "01070734:3: Configuration error: Virtual server /Common/vs has a FastL4 profile (/Common/fastL4) and a http "
     "profile (/Common/http): a FastL4 virtual server takes no other protocol or application profile"),
    ("create ltm virtual vs destination 10.1.10.100:80 profiles replace-all-with { fastL4 oneconnect }",
     "and a one-connect profile (/Common/oneconnect)"),
])
def test_a_refused_change_gets_f5s_message_and_changes_nothing(store, line, message):
    before = json.loads(store.path.read_text())
    with pytest.raises(ConfigError) as err:
        run(store, line)
    assert message in str(err.value)
    assert json.loads(store.path.read_text()) == before


def test_a_member_may_be_at_any_address_as_on_a_big_ip(store):
    """Its monitor marks it down when the device cannot reach it; the node is made for it."""
    run(store, "create ltm pool web members add { 10.9.9.9:80 } monitor tcp")
    assert store.get("ltm node", "/Common/10.9.9.9")["address"] == "10.9.9.9"
    assert [m["name"] for m in store.get("ltm pool", "/Common/web")["members"]] == ["/Common/10.9.9.9:80"]


def test_an_object_in_use_cannot_be_deleted(store):
    run(store, "create ltm pool web")
    run(store, "create ltm virtual vs destination 10.1.10.100:80 pool web")
    with pytest.raises(ConfigError, match=r"01070265:3: The Pool \(/Common/web\) cannot be deleted because "
                                          r"it is in use by a Virtual Server \(/Common/vs\)"):
        run(store, "delete ltm pool web")
    assert store.get("ltm virtual-address", "/Common/10.1.10.100")["traffic-group"] == "/Common/traffic-group-1"


POOL_AND_VS = ["create ltm pool web members add { 10.1.20.21:80 }",
               "create ltm virtual vs destination 10.1.10.100:80 pool web"]


@pytest.mark.parametrize("before, line, cls, message, status", [
    ([], "modify ltm pool nosuch monitor http", NotFound,
     "01020036:3: The requested Pool (/Common/nosuch) was not found.", 404),
    (POOL_AND_VS, "modify ltm pool web members delete { 10.1.20.99:80 }", NotFound,
     "01020036:3: The requested Pool Member (/Common/10.1.20.99:80) was not found.", 404),
    (POOL_AND_VS, "create ltm pool web", Exists,
     "01020066:3: The requested Pool (/Common/web) already exists in partition Common.", 409),
    (POOL_AND_VS, "modify ltm pool web members add { 10.1.20.21:80 }", Exists,
     "01020066:3: The requested Pool Member (/Common/10.1.20.21:80) already exists.", 409),
    (POOL_AND_VS, "delete ltm pool web", InUse,
     "01070265:3: The Pool (/Common/web) cannot be deleted because it is in use by a Virtual Server (/Common/vs).",
     400),
    (POOL_AND_VS, "modify ltm pool web members modify { 10.1.20.21:80 { colour red } }", Invalid,
     '01070734:3: Configuration error: pool member has no property "colour"', 400),
])
def test_the_store_refuses_with_the_catalogue_class_f5s_line_and_its_rest_status(store, before, line, cls,
                                                                                  message, status):
    for setup in before:
        run(store, setup)
    with pytest.raises(ConfigError) as err:
        run(store, line)
    assert (type(err.value), str(err.value), answer(err.value).code) == (cls, message, status)


def test_several_operations_commit_all_or_nothing(store):
    ops = [Op("create", "ltm pool", "/Common/a", {}), Op("create", "ltm pool", "/Common/a", {})]
    with pytest.raises(ConfigError, match="already exists"):
        store.commit(ops)
    assert store.get("ltm pool", "/Common/a") is None and store.cid is None


def test_committed_config_is_on_disk_and_survives_a_restart(store, tmp_path):
    run(store, "create ltm pool web members add { 10.1.20.21:80 }")
    again = ConfigStore(tmp_path / "running.json", "bigip1")
    assert again.get("ltm pool", "/Common/web")["members"][0]["name"] == "/Common/10.1.20.21:80"
    assert again.cid == store.cid and again.get("net self", "/Common/ext") is not None


def test_member_session_and_state_change_through_members_modify(store):
    run(store, "create ltm pool web members add { 10.1.20.21:80 }")
    run(store, "modify ltm pool web members modify { 10.1.20.21:80 { session user-disabled } }")
    assert store.get("ltm pool", "/Common/web")["members"][0]["session"] == "user-disabled"
    with pytest.raises(ConfigError, match="Pool Member"):
        run(store, "modify ltm pool web members modify { 10.1.20.99:80 { state user-down } }")


def peer(tmp_path, name="bigip2"):
    (tmp_path / name).mkdir()
    s = ConfigStore(tmp_path / name / "running.json", name, now=lambda: 2000.0)
    run(s, "create net vlan external")
    run(s, "create net vlan internal")
    run(s, "create net self int address 10.1.20.12/24 vlan internal")
    return s


def test_an_incremental_sync_applies_the_commits_a_peer_lacks(store, tmp_path):
    p = peer(tmp_path)
    run(store, "create ltm pool web")
    p.apply_full(store.snapshot(), store.cid, "bigip1")
    run(store, "create ltm pool api")
    run(store, "modify ltm pool web load-balancing-mode ratio-member")
    commits = store.commits_since(p.cid)
    assert len(commits) == 2
    p.apply_incremental(commits, "bigip1")
    assert p.cid == store.cid and p.snapshot() == store.snapshot()


def test_an_incremental_sync_from_another_base_is_refused_so_the_sender_sends_all(store, tmp_path):
    p = peer(tmp_path)
    run(store, "create ltm pool web")
    run(store, "create ltm pool api")
    with pytest.raises(SyncRefused):
        p.apply_incremental(store.commits_since(store.commit_cache[0]["cid"] and Cid.of(store.commit_cache[0]["cid"])), "bigip1")


def test_the_commits_our_configuration_went_through_survive_a_restart_and_a_full_load_forgets_them(store, tmp_path):
    p = peer(tmp_path)
    run(store, "create ltm pool web")
    first = store.cid
    run(store, "create ltm pool api")
    p.apply_incremental(store.commits_since(None), "bigip1")   # two of bigip1's commits replayed at once
    assert {None, first} <= p.past()
    store.reload()                                    # kill -9 and start: the commit cache is gone
    assert store.commit_cache == deque() and {None, first} <= store.past()
    assert ConfigStore(store.path, "bigip1").past() == store.past()
    p.apply_full(store.snapshot(), store.cid, "bigip1")
    assert p.past() == frozenset()                    # the old configuration was replaced, not stepped from
    assert ConfigStore(p.path, "bigip2").past() == frozenset()


def test_a_peer_too_far_behind_for_the_cache_gets_a_full_sync(tmp_path):
    s = ConfigStore(None, "bigip1", cache_kb=1)
    for i in range(30):
        run(s, f"create ltm pool p{i} description {'x' * 60}")
    assert s.commits_since(None) is None        # the oldest commits fell out of the 1 KB cache
    assert s.commits_since(Cid.of(s.commit_cache[0]["base"])) is not None


def test_a_sync_the_peer_cannot_apply_is_refused_with_the_reason_and_changes_nothing(store, tmp_path):
    p = ConfigStore(None, "bigip2")  # it has no VLAN external: VLANs are not synced
    run(store, "create net self float address 10.1.10.10/24 vlan external traffic-group traffic-group-1")
    with pytest.raises(ConfigError, match=r"The requested VLAN \(/Common/external\) was not found"):
        p.apply_full(store.snapshot(), store.cid, "bigip1")
    assert p.cid is None and p.get("net self", "/Common/float") is None


def test_a_full_sync_keeps_the_peers_local_objects(store, tmp_path):
    p = peer(tmp_path)
    run(p, "create net self mine address 10.1.10.12/24 vlan external")
    run(store, "create ltm pool web")
    p.apply_full(store.snapshot(), store.cid, "bigip1")
    assert p.get("net self", "/Common/mine") is not None and p.get("ltm pool", "/Common/web") is not None


def test_a_full_sync_from_a_device_that_made_no_commit_leaves_the_peer_without_one(tmp_path):
    fresh, p = ConfigStore(None, "bigip1"), peer(tmp_path)
    p.apply_full(fresh.snapshot(), fresh.cid, "bigip1", "/Common/dg")   # only the built-in objects
    assert fresh.cid is None and p.cid is None and p.synced == {"/Common/dg": None}


def test_trust_scope_objects_go_by_generation(store, tmp_path):
    p = peer(tmp_path)
    run(store, "create cm device-group dg devices add { bigip1 bigip2 } type sync-failover")
    assert p.apply_trust(store.snapshot("trust"), store.trust_gen)
    assert not p.apply_trust(store.snapshot("trust"), store.trust_gen)  # not newer
    assert p.get("cm device-group", "/Common/dg")["type"] == "sync-failover"


# -- sync status ------------------------------------------------------------------------------
C = {n: Cid(n, "bigip1", 0.0) for n in range(1, 6)}
D = Cid(4, "bigip2", 0.0)


@pytest.mark.parametrize("me, them, connected, failure, status, detail", [
    ((C[3], C[3]), (C[3], C[3]), True, None, sync.IN_SYNC, "in sync"),
    ((C[4], C[3]), (C[3], C[3]), True, None, sync.CHANGES_PENDING, "bigip1 has changes pending"),
    ((C[3], C[3]), (D, C[3]), True, None, sync.CHANGES_PENDING, "bigip2 has changes pending"),
    ((C[4], C[3]), (D, C[3]), True, None, sync.CHANGES_PENDING, "possible change conflict between bigip1 and bigip2"),
    ((C[3], C[3]), (C[3], C[3]), False, None, sync.DISCONNECTED, "disconnected"),
    ((C[4], C[3]), (C[3], C[3]), True, "01020036:3: nope", sync.FAILURE, "01020036:3: nope"),
])
def test_pair_status_in_f5s_words(me, them, connected, failure, status, detail):
    result = sync.pair_status(sync.Side("bigip1", *me), sync.Side("bigip2", *them), connected, failure)
    assert result.status == status and detail in result.detail


def test_a_group_never_synced_is_awaiting_initial_sync():
    me, them = sync.Side("bigip1", C[1], None, False), sync.Side("bigip2", None, None, False)
    assert sync.pair_status(me, them, True).status == sync.AWAITING


def test_group_status_of_three_devices_partly_synced_is_not_all_devices_synced():
    pairs = {"b2": sync.PairStatus(sync.IN_SYNC, ""), "b3": sync.PairStatus(sync.CHANGES_PENDING, "")}
    assert sync.group_status(pairs) == sync.NOT_ALL


def test_auto_sync_pushes_only_when_the_peer_has_nothing_of_its_own():
    base = C[3]
    assert sync.should_push(sync.Side("bigip1", C[4], base), sync.Side("bigip2", base, base), True)
    assert not sync.should_push(sync.Side("bigip1", C[4], base), sync.Side("bigip2", base, base), False)
    assert not sync.should_push(sync.Side("bigip1", C[4], base), sync.Side("bigip2", D, base), True)  # conflict


# -- tmsh -------------------------------------------------------------------------------------
@pytest.mark.parametrize("line, message", [
    ("create ltm pool web colour red", '"colour" unknown property'),
    ("create ltm pol web", 'is not a configurable object'),
    ("frobnicate ltm pool web", '"frobnicate" unknown command'),
    ("create ltm pool web members add { 10.1.20.21:80", 'missing "}"'),
    ("create ltm pool web monitor", '"monitor" requires a value'),
    ('create ltm pool web description "unterminated', "unterminated quoted string"),
    ("create ltm pool", "needs a name"),
    ("delete ltm pool web extra", '"extra" unexpected argument'),
])
def test_a_bad_tmsh_line_is_a_syntax_error(line, message):
    with pytest.raises(TmshSyntaxError, match=message):
        parse(line)


def test_list_prints_what_differs_from_the_defaults_in_f5s_order_with_port_names(store):
    run(store, 'create ltm pool web members add { 10.1.20.21:80 } monitor http description "my pool"')
    text = render("ltm pool", "/Common/web", store.get("ltm pool", "/Common/web"))
    assert text == ('ltm pool web {\n    description "my pool"\n    members {\n        10.1.20.21:http {\n'
                    '            address 10.1.20.21\n        }\n    }\n    monitor http\n}')
