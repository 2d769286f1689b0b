"""Config sync decisions (node/cm/sync.py ConfigSync), without sockets or clocks: what a device
pushes on a commit, on a peer's status and on a push's result."""
from node.cm.sync import (CHANGES_PENDING, FAILURE, IN_SYNC, ConfigSync, Group, Local, MarkSynced, Push,
                          Refused, SendStatus)
from node.cm import sync
from node.config.store import Cid
from node.iquery.messages import CmStatus, SyncResult

DG = "/Common/dg-ha"
C1, C2, C3 = Cid(1, "bigip1", 1.0), Cid(2, "bigip1", 2.0), Cid(3, "bigip2", 3.0)
C3b = Cid(3, "bigip1", 3.0)   # our own commit after C2


def up(_peer):
    return True


def local(cid, synced=C1, auto=True, full=False) -> Local:
    return Local("bigip1", cid, {DG: synced}, {DG: Group(DG, ("bigip1", "bigip2"), "sync-failover", auto, full)})


def status(cid, synced=C1, boot="b1", seq=1) -> CmStatus:
    return CmStatus(boot, seq, cid.to_list(), {DG: synced.to_list()})


def synced_pair(**kw) -> ConfigSync:
    """bigip1 and bigip2 both at C1, agreed; bigip2's status known."""
    d = ConfigSync("bigip1")
    assert d.status(local(C1, **kw), "bigip2", status(C1), up, 0.0) == [SendStatus("bigip2")]
    return d


def test_a_commit_is_pushed_incrementally_once_with_auto_sync():
    d = synced_pair()
    assert d.committed(local(C2), up) == [Push(DG, "bigip2", full=False, auto=True)]
    assert d.committed(local(C2), up) == []          # in flight: no second push of the same base


def test_a_full_sync_group_pushes_everything():
    d = synced_pair(full=True)
    assert d.committed(local(C2, full=True), up) == [Push(DG, "bigip2", full=True, auto=True)]


def test_without_auto_sync_a_commit_stays_pending():
    d = synced_pair(auto=False)
    assert d.committed(local(C2, auto=False), up) == []
    assert d.pairs(local(C2, auto=False), DG, up)["bigip2"].status == CHANGES_PENDING


def test_a_result_marks_the_group_synced_and_pushes_commits_made_meanwhile():
    d = synced_pair()
    d.committed(local(C2), up)
    ok = SyncResult(DG, C2.to_list(), ok=True, seq=2)
    assert d.result(local(C3), "bigip2", ok, up) == [MarkSynced(DG, C2), Push(DG, "bigip2", False, True)]
    assert d.peers["bigip2"]["cid"] == C2.to_list()


def test_a_status_older_than_the_result_is_ignored():
    d = synced_pair()
    d.committed(local(C2), up)
    d.result(local(C2), "bigip2", SyncResult(DG, C2.to_list(), ok=True, seq=3), up)
    # sent before the peer applied C2, arriving after its result: no push from the stale base
    assert d.status(local(C2, synced=C2), "bigip2", status(C1, seq=2), up, 1.0) == []
    assert d.peers["bigip2"]["cid"] == C2.to_list()
    assert d.pairs(local(C2, synced=C2), DG, up)["bigip2"].status == IN_SYNC


def test_a_refused_incremental_base_is_answered_with_a_push_from_the_peers_new_status():
    d = synced_pair()
    d.committed(local(C2), up)
    assert d.result(local(C2), "bigip2", SyncResult(DG, need_full=True, seq=2), up) == []
    # the peer lacks commits our cache no longer reaches: still nothing of its own, so it is pushed
    assert d.status(local(C3b, synced=C1), "bigip2", status(C1, seq=3), up, 1.0) == [Push(DG, "bigip2", False, True)]


def test_a_refusal_is_a_sync_failure_until_a_sync_to_the_group():
    d = synced_pair()
    d.committed(local(C2), up)
    err = "01070734:3: Configuration error: no"
    assert d.result(local(C2), "bigip2", SyncResult(DG, error=err), up) == \
        [Refused(DG, "bigip2", err)]
    assert d.pairs(local(C2), DG, up)["bigip2"].status == FAILURE
    assert d.to_group(DG, ["bigip2"]) == [Push(DG, "bigip2", full=True, auto=False)]
    assert d.pairs(local(C2), DG, up)["bigip2"].status != FAILURE


def test_a_conflict_is_never_pushed_automatically():
    d = synced_pair()
    d.status(local(C2), "bigip2", status(C3, seq=2), up, 1.0)    # both changed since C1
    assert d.committed(local(C2), up) == []
    assert "possible change conflict" in d.pairs(local(C2), DG, up)["bigip2"].detail


def test_a_push_that_found_no_channel_is_not_in_flight():
    d = synced_pair()
    [push] = d.committed(local(C2), up)
    d.sent(push, ok=False)
    assert d.in_flight == set()


def test_nothing_is_pushed_to_a_disconnected_peer():
    d = synced_pair()
    assert d.committed(local(C2), lambda _p: False) == []


def test_a_reconnect_forgets_the_push_in_flight_and_the_peers_status_pushes_again():
    d = synced_pair()
    d.committed(local(C2), up)
    d.opened("bigip2")             # the channel dropped and came back: that result will not come
    assert d.in_flight == set()
    assert d.status(local(C2), "bigip2", status(C1, seq=2), up, 1.0) == [Push(DG, "bigip2", False, True)]


def test_a_peer_restart_gets_our_status_and_resets_its_numbering():
    d = synced_pair()
    d.committed(local(C2), up)
    actions = d.status(local(C2), "bigip2", status(C1, boot="b2", seq=1), up, 1.0)
    assert actions == [SendStatus("bigip2"), Push(DG, "bigip2", False, True)]


def test_sync_status_in_f5s_words_and_colours():
    pending = sync.PairStatus(sync.CHANGES_PENDING, "bigip1 has changes pending: sync bigip1 to the group", "bigip1")
    summary, lines = sync.describe(sync.CHANGES_PENDING, {"dg-ha": (sync.CHANGES_PENDING, {"bigip2": pending})},
                                   {"bigip2": 1234.6})
    assert summary == "bigip1 has changes pending" and sync.COLOR[sync.CHANGES_PENDING] == "yellow"
    assert lines == ["bigip2: connected (for 1234s)", "dg-ha (Changes Pending): bigip1 has changes pending",
                     "Recommended action: Synchronize bigip1 to group dg-ha"]
    ok = sync.PairStatus(sync.IN_SYNC, "bigip2: connected, in sync")
    assert sync.describe(sync.IN_SYNC, {"dg-ha": (sync.IN_SYNC, {"bigip2": ok})}, {}) == (
        "All devices in the device group are in sync",
        ["bigip2: disconnected", "dg-ha (In Sync): All devices in the device group are in sync"])
    assert sync.describe(sync.STANDALONE, {}, {}) == (" ", ["Optional action: Add a device to the trust domain"])
    assert sync.COLOR[sync.STANDALONE] == "green"
    assert {sync.COLOR[s] for s in (sync.AWAITING, sync.DISCONNECTED, sync.FAILURE)} == {"red"}


def test_sync_status_of_three_devices_and_two_groups_names_each_peer_once_then_each_group():
    ok, pending = sync.PairStatus(sync.IN_SYNC, ""), sync.PairStatus(
        sync.CHANGES_PENDING, "bigip1 has changes pending: sync bigip1 to the group", "bigip1")
    groups = {"dg-ha": (sync.NOT_ALL, {"bigip2": ok, "bigip3": pending}),
              "dg-web": (sync.IN_SYNC, {"bigip2": ok})}
    summary, lines = sync.describe(sync.NOT_ALL, groups, {"bigip2": 60.2, "bigip3": 5.0})
    assert lines == ["bigip2: connected (for 60s)", "bigip3: connected (for 5s)",
                     "dg-ha (Not All Devices Synced): bigip1 has changes pending", "bigip3: Changes Pending",
                     "Recommended action: Synchronize bigip1 to group dg-ha",
                     "dg-web (In Sync): All devices in the device group are in sync"]
    assert summary == "bigip1 has changes pending"


def test_a_peer_behind_us_is_no_conflict_when_its_sync_result_never_came_back():
    """Killed after bigip2 applied our C2 but before its result came: bigip2 recorded C2 as synced,
    we still record C1. bigip2 has nothing of its own (C2 is ours, in our past): push, no conflict."""
    d = ConfigSync("bigip1")
    me = Local("bigip1", C3b, {DG: C1}, {DG: Group(DG, ("bigip1", "bigip2"), "sync-failover", True, False)},
               frozenset({C1, C2}))
    assert d.status(me, "bigip2", status(C2, synced=C2), up, 0.0) == [SendStatus("bigip2"),
                                                                       Push(DG, "bigip2", full=False, auto=True)]
    pair = d.pairs(me, DG, up)["bigip2"]
    assert pair.status == CHANGES_PENDING and "conflict" not in pair.detail and pair.newer == "bigip1"


def test_the_peer_of_a_sender_killed_before_our_result_came_sees_its_changes_pending_not_a_conflict():
    """bigip2's side of the same kill: it applied bigip1's C2 (recorded as synced) and made nothing
    since; bigip1, at C3b, still records C1. bigip1's changes are pending, nothing of ours is at stake."""
    d = ConfigSync("bigip2")
    me = Local("bigip2", C2, {DG: C2}, {DG: Group(DG, ("bigip1", "bigip2"), "sync-failover", True, False)},
               frozenset({C1}))
    assert d.status(me, "bigip1", status(C3b, synced=C1), up, 0.0) == [SendStatus("bigip1")]
    pair = d.pairs(me, DG, up)["bigip1"]
    assert pair.status == CHANGES_PENDING and "conflict" not in pair.detail and pair.newer == "bigip1"
    # a configuration bigip2 got from a third device is not bigip1's to overwrite: still a conflict
    third = Cid(2, "bigip3", 2.0)
    me = Local("bigip2", third, {DG: third}, me.groups, frozenset({C1}))
    assert "conflict" in sync.pair_status(me.side(DG), d.peer_side(DG, "bigip1"), True).detail


def test_a_peer_with_a_commit_of_its_own_is_still_a_conflict():
    d = ConfigSync("bigip1")
    me = Local("bigip1", C3b, {DG: C1}, {DG: Group(DG, ("bigip1", "bigip2"), "sync-failover", True, False)},
               frozenset({C1, C2}))
    assert d.status(me, "bigip2", status(C3, synced=C2), up, 0.0) == [SendStatus("bigip2")]
    assert "conflict" in d.pairs(me, DG, up)["bigip2"].detail


def test_a_push_on_a_channel_that_closed_does_not_block_the_next():
    # ha-pair soak, seed 1: a write on bigip2 during a partition, pushed on a channel that then
    # closed; after the heal the peer's status must start the push again
    d = synced_pair()
    d.committed(local(C2), up)
    d.closed("bigip2")
    assert d.in_flight == set()
    assert d.status(local(C2), "bigip2", status(C1, seq=2), up, 1.0) == [Push(DG, "bigip2", False, True)]


def test_a_refused_incremental_base_waits_for_the_peers_status_and_never_overwrites_its_commits():
    d = synced_pair()
    d.committed(local(C2), up)                   # pushed from C1; the peer committed C3 meanwhile
    assert d.result(local(C2), "bigip2", SyncResult(DG, need_full=True, seq=2), up) == []
    assert d.in_flight == set()
    assert d.status(local(C2), "bigip2", status(C3, seq=3), up, 1.0) == []   # no full push over C3
    pair = d.pairs(local(C2), DG, up)["bigip2"]
    assert pair.status == CHANGES_PENDING and "possible change conflict between bigip1 and bigip2" in pair.detail


def test_a_refused_incremental_base_pushes_again_when_the_peers_status_came_first():
    d = synced_pair()
    d.committed(local(C2), up)
    d.status(local(C2), "bigip2", status(C1, seq=3), up, 1.0)   # in flight: nothing yet
    assert d.result(local(C2), "bigip2", SyncResult(DG, need_full=True, seq=2), up) == \
        [Push(DG, "bigip2", False, True)]


def test_a_generation_group_is_in_sync_where_generations_match_and_pending_on_the_newer_side():
    mine = [5, "gtm1"]
    pairs = sync.generation_pairs(mine, {"gtm2": [5, "gtm1"], "gtm3": [7, "gtm3"], "gtm4": [4, "gtm4"],
                                         "gtm5": [5, "gtm1"]}, lambda peer: peer != "gtm5")
    assert {p: s.status for p, s in pairs.items()} == {"gtm2": IN_SYNC, "gtm3": CHANGES_PENDING,
                                                       "gtm4": CHANGES_PENDING, "gtm5": sync.DISCONNECTED}
    assert pairs["gtm3"].newer == "gtm3" and pairs["gtm4"].newer == "gtm1"
    assert sync.group_status({"gtm2": pairs["gtm2"]}) == IN_SYNC
