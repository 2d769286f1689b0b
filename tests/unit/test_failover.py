"""The network failover machine, fed by hand with heartbeats and times (no sockets, no clock)."""
import pytest

from node.cm.failover import ACTIVE, STANDBY, Announce, BecomeActive, BecomeStandby, Failover, Log, TrafficGroup
from node.errors import CMError, Invalid

TG = "traffic-group-1"
PATHS = {"bigip1": ["10.1.30.11", "10.1.20.11"], "bigip2": ["10.1.30.12", "10.1.20.12"]}


def device(name, now=0.0, order=("bigip1", "bigip2"), **tg):
    fo = Failover(name, now, timeout=3.0)
    peer = "bigip2" if name == "bigip1" else "bigip1"
    mine = dict(zip(PATHS[peer], PATHS[name]))     # the peer's address -> ours on its network
    fo.configure([TrafficGroup(TG, tuple(order), **tg)], {peer: PATHS[peer]}, now, mine)
    return fo


def beat(src: Failover, dst: Failover, now: float, paths=None) -> list:
    out = []
    for addr in paths or PATHS[src.device]:
        out += dst.heartbeat(src.device, addr, src.payload(), now)
    return out


def exchange(a: Failover, b: Failover, now: float) -> list:
    return beat(a, b, now) + beat(b, a, now)


def kinds(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def pair(now=0.0, **tg):
    a, b = device("bigip1", now, **tg), device("bigip2", now, **tg)
    exchange(a, b, now)
    exchange(a, b, now + 0.1)
    return a, b


def test_the_first_device_of_ha_order_takes_the_group_when_both_start():
    a, b = pair()
    assert (a.state[TG], b.state[TG]) == (ACTIVE, STANDBY)


def test_a_device_alone_waits_one_timeout_then_goes_active():
    a = device("bigip1")
    assert a.tick(2.9) == [] and a.state[TG] == STANDBY
    assert kinds(a.tick(3.0), BecomeActive) == [BecomeActive(TG, "no failover status from any peer")]


def test_a_device_that_hears_an_active_peer_at_start_stays_standby():
    a, b = pair()
    b2 = device("bigip2", 10.0)  # bigip2 restarts; bigip1 is active
    for t in (10.1, 11.1, 12.1, 13.1):
        assert not kinds(beat(a, b2, t) + b2.tick(t), BecomeActive)
    assert b2.state[TG] == STANDBY


def test_losing_one_path_logs_it_and_does_not_fail_over():
    a, b = pair()
    for t in (1.0, 2.0, 3.0, 4.0):
        beat(a, b, t, paths=["10.1.30.11"])   # the internal path is cut
    logs = kinds(b.tick(4.0), Log)
    assert [l.msgid for l in logs] == ["010c0083"]
    assert logs[0].text == ("No failover status messages received for 3.900 seconds, from device bigip1 "
                            "(10.1.20.11) (unicast: -> 10.1.20.12).")
    assert b.state[TG] == STANDBY and b.peers["bigip1"].alive


def test_losing_every_path_fails_over_with_f5s_log_lines():
    a, b = pair()
    actions = b.tick(3.1)
    assert [l.msgid for l in kinds(actions, Log)] == ["010c0083", "010c0083", "010c007e"]
    assert "No failover status messages received for 3.000 seconds" in kinds(actions, Log)[0].text
    assert kinds(actions, BecomeActive) == [BecomeActive(TG, "no failover status from any peer")]


def test_a_path_that_comes_back_logs_the_gap():
    a, b = pair()
    b.tick(3.1)
    logs = kinds(beat(a, b, 10.1, paths=["10.1.30.11"]), Log)
    assert logs[0].msgid == "010c0084" and "after 10.000 second gap" in logs[0].text


def test_split_brain_heals_to_one_active_and_the_winner_announces_again():
    a, b = pair()
    b.tick(3.1)  # every path cut: both active
    a.tick(3.1)
    assert (a.state[TG], b.state[TG]) == (ACTIVE, ACTIVE)
    to_b = beat(a, b, 5.0)
    assert kinds(to_b, BecomeStandby) and b.state[TG] == STANDBY
    to_a = beat(b, a, 5.0)  # bigip2 already says standby, but it announced the addresses meanwhile
    assert a.state[TG] == ACTIVE
    assert kinds(to_a, Announce) == [Announce(TG, "bigip2 is back after a gap: it may have announced "
                                                  "traffic-group-1 meanwhile")]


def test_the_split_brain_winner_announces_when_it_hears_the_other_claim():
    a, b = pair()
    b.tick(3.1)
    claim = b.payload()
    acts = []
    for addr in PATHS["bigip2"]:
        acts += a.heartbeat("bigip2", addr, claim, 5.0)
    assert [a.tg for a in kinds(acts, Announce)] == [TG]    # once, though both reasons hold
    assert any("Split brain" in l.text for l in kinds(acts, Log))
    assert a.state[TG] == ACTIVE


def test_force_to_standby_hands_the_group_to_the_peer_and_does_not_take_it_back():
    a, b = pair()
    assert kinds(a.standby(TG, 1.0), BecomeStandby)
    assert a.payload()["declined"] == [TG]
    assert kinds(beat(a, b, 1.1), BecomeActive)  # bigip2 sees bigip1 decline
    beat(b, a, 1.2)
    assert a.declined == set() and (a.state[TG], b.state[TG]) == (STANDBY, ACTIVE)
    exchange(a, b, 1.3)
    assert (a.state[TG], b.state[TG]) == (STANDBY, ACTIVE)


def test_force_to_standby_hands_the_group_back_before_the_first_requester_heard_it_taken():
    a, b = pair()
    a.standby(TG, 1.0)
    beat(a, b, 1.1)                      # bigip2 takes it; bigip1's heartbeat still says it declined
    assert kinds(b.standby(TG, 1.15), BecomeStandby) and b.state[TG] == STANDBY   # not undone at once
    exchange(a, b, 1.2)
    exchange(a, b, 1.3)
    assert (a.state[TG], b.state[TG]) == (ACTIVE, STANDBY)


def test_force_to_standby_with_no_peer_alive_is_refused():
    a = device("bigip1")
    a.tick(3.0)
    with pytest.raises(CMError, match="no other device is available"):
        a.standby(TG, 4.0)
    assert a.state[TG] == ACTIVE


def test_standby_for_an_unknown_traffic_group_is_f5s_configuration_error():
    a = device("bigip1")
    with pytest.raises(Invalid) as err:
        a.standby("tg-none", 1.0)
    assert str(err.value) == "01070734:3: Configuration error: traffic group tg-none was not found"


def test_forced_offline_gives_up_everything_and_is_never_chosen_until_online():
    a, b = pair()
    assert kinds(a.offline(1.0), BecomeStandby) and a.device_state() == "forced-offline"
    assert kinds(beat(a, b, 1.1), BecomeActive)
    assert not kinds(a.tick(10.0), BecomeActive)  # even with bigip2 gone, an offline device stays out
    assert a.state[TG] == STANDBY
    a.online(10.5)
    assert a.state[TG] == ACTIVE  # nobody else is alive


def test_auto_failback_returns_the_group_to_the_first_device_after_its_delay():
    a, b = pair(auto_failback=True, auto_failback_time=5.0)
    b.tick(3.1)                       # bigip1 dies; bigip2 takes over
    a2 = device("bigip1", 20.0, auto_failback=True, auto_failback_time=5.0)
    for t in (20.0, 22.0, 24.0):
        exchange(a2, b, t)
    assert a2.state[TG] == STANDBY    # not before the delay
    exchange(a2, b, 25.1)
    assert a2.state[TG] == ACTIVE
    assert kinds(beat(a2, b, 25.2), BecomeStandby) and b.state[TG] == STANDBY


def test_without_auto_failback_the_returning_device_stays_standby():
    a, b = pair()
    b.tick(3.1)
    a2 = device("bigip1", 20.0)
    for t in (20.0, 30.0, 100.0):
        exchange(a2, b, t)
    assert (a2.state[TG], b.state[TG]) == (STANDBY, ACTIVE)


def test_load_aware_choice_spreads_two_traffic_groups():
    groups = [TrafficGroup("tg-a"), TrafficGroup("tg-b")]
    a, b = Failover("bigip1", 0.0), Failover("bigip2", 0.0)
    a.configure(groups, {"bigip2": PATHS["bigip2"]}, 0.0)
    b.configure(groups, {"bigip1": PATHS["bigip1"]}, 0.0)
    for t in (0.0, 0.1, 0.2, 0.3):
        exchange(a, b, t)
    assert sorted([a.state["tg-a"], b.state["tg-a"]]) == [ACTIVE, STANDBY]
    assert sorted([a.state["tg-b"], b.state["tg-b"]]) == [ACTIVE, STANDBY]


def test_a_standby_request_lapses_when_the_other_device_goes_offline_before_taking_over():
    a, b = pair()
    a.standby(TG, 1.0)
    b.offline(1.05)                  # before bigip2 ever claimed the group
    assert kinds(beat(b, a, 1.1), BecomeActive) and a.state[TG] == ACTIVE


def test_a_standalone_device_has_no_deadline_once_its_start_up_timeout_has_passed():
    from node.cm.failover import Failover
    fo = Failover("bigip1", 100.0, timeout=3.0)
    assert fo.next_deadline(101.0) == 103.0
    assert fo.next_deadline(104.0) == float("inf")   # nothing left to wait for: the ticker must not spin


def test_a_path_due_after_the_tick_that_lost_another_still_has_a_deadline():
    """Two paths heard a moment apart: the tick that loses the first may come just before the second
    is due, and the ticker's next reading of the clock after it. The second path's timeout must
    still be a deadline (else the dead peer stays alive and nobody takes over)."""
    from node.cm.failover import BecomeActive, Failover, TrafficGroup
    fo = Failover("bigip1", 100.0, timeout=3.0)
    tg = TrafficGroup("traffic-group-1", ("bigip1", "bigip2"), False, 60.0, 1)
    fo.configure([tg], {"bigip2": ["10.1.30.12", "10.1.20.12"]}, 100.0)
    peer = {"device": "bigip2", "state": "active", "tgs": {"traffic-group-1": "active"}}
    fo.heartbeat("bigip2", "10.1.30.12", peer, 110.000)
    fo.heartbeat("bigip2", "10.1.20.12", peer, 110.002)   # the last heartbeats: the peer dies here
    fo.tick(113.001)                                     # loses the first path only
    assert not fo.peers["bigip2"].paths["10.1.20.12"].lost
    deadline = fo.next_deadline(113.004)                 # logging took 3 ms: the second is now due
    assert deadline <= 113.004
    assert any(isinstance(a, BecomeActive) for a in fo.tick(113.004))
    assert fo.next_deadline(113.005) == float("inf")     # all settled: nothing to spin on


def test_a_heartbeat_from_an_address_that_is_not_the_peers_failover_address_is_ignored():
    a, b = pair()
    assert beat(a, b, 5.0, paths=["10.1.10.51"]) == [] and "10.1.10.51" not in b.peers["bigip1"].paths
    b.tick(5.0)   # only the forged path was heard since 0.1: the real paths time out, bigip1 is lost
    assert not b.peers["bigip1"].alive and b.state[TG] == ACTIVE


def test_a_multicast_path_alone_keeps_the_peer_alive_and_is_logged_as_one():
    group = "224.0.0.245:62960"
    a, b = pair()
    b.configure(list(b.groups.values()), {"bigip1": PATHS["bigip1"]}, 0.2, dict(zip(PATHS["bigip1"], PATHS["bigip2"])),
                {"bigip1": ("eth0", group)})
    first = kinds(b.heartbeat("bigip1", group, a.payload(), 0.3), Log)
    assert first[0].text == "First failover status message received from device bigip1 (multicast: eth0 -> 224.0.0.245)"
    for t in (1.0, 2.0, 3.0, 4.0):                 # every unicast path cut; multicast still heard
        b.heartbeat("bigip1", group, a.payload(), t)
    actions = b.tick(4.0)
    assert [l.msgid for l in kinds(actions, Log)] == ["010c0083", "010c0083"] and not kinds(actions, BecomeActive)
    assert b.peers["bigip1"].alive and b.state[TG] == STANDBY
    actions = b.tick(7.1)                           # and then the multicast path too
    assert kinds(actions, Log)[0].text.endswith("(multicast: eth0 -> 224.0.0.245).")
    assert kinds(actions, BecomeActive) and not b.peers["bigip1"].alive
