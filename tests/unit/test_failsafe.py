"""Failsafes (no sockets, no clock): VLAN, gateway and system failsafe trip with F5's log lines,
and a tripped device gives up its traffic groups and takes none until it recovers; the heartbeat
timeout set with sys db failover.nettimeoutsec."""
import trio

from node.cm.failover import ACTIVE, BecomeStandby, TrafficGroup
from node.cm.failover_driver import FailoverDriver
from node.cm.failsafe import Failsafes
from node.config.store import ConfigStore, Op
from node.events import Hub
from node.subsystems import RESTART_DELAY, Subsystems
from tests.unit.test_failover_cluster import Cluster

VLAN = "/Common/internal"


def test_vlan_failsafe_trips_when_no_packet_arrives_within_the_timeout_and_recovers_on_traffic():
    fs = Failsafes()
    watch = {VLAN: (3.0, "failover")}
    assert fs.update(0.0, watch, {VLAN: 10}, {}, {}) == []
    assert fs.update(2.9, watch, {VLAN: 10}, {}, {}) == []
    logs = fs.update(3.0, watch, {VLAN: 10}, {}, {})
    assert [(l.msgid, l.text) for l in logs] == [("01140029", "HA vlan_fs /Common/internal fails action is failover.")]
    assert fs.failing_over() == ["vlan_fs /Common/internal"]
    logs = fs.update(3.5, watch, {VLAN: 11}, {}, {})
    assert [(l.msgid, l.text) for l in logs] == [("01140030", "HA vlan_fs /Common/internal is now responding.")]
    assert fs.failing_over() == []


def test_a_moving_counter_never_trips_and_a_disabled_vlan_is_forgotten():
    fs = Failsafes()
    for t in range(10):
        assert fs.update(float(t), {VLAN: (3.0, "failover")}, {VLAN: t}, {}, {}) == []
    assert fs.update(20.0, {}, {}, {}, {}) == [] and fs.heard == {}


def test_gateway_failsafe_trips_below_min_up_members_and_system_failsafe_on_a_dead_subsystem():
    fs = Failsafes()
    assert fs.update(0.0, {}, {}, {"/Common/gw": (1, 1, "failover")}, {}) == []
    logs = fs.update(1.0, {}, {}, {"/Common/gw": (1, 0, "failover")}, {"tmm": "failover"})
    assert [l.text for l in logs] == ["HA daemon_heartbeat tmm fails action is failover.",
                                      "HA pool_memb_down /Common/gw fails action is failover."]


def test_a_tripped_device_stands_down_for_every_group_and_the_peer_takes_them():
    groups = [TrafficGroup("traffic-group-1", ("bigip1", "bigip2")), TrafficGroup("traffic-group-2", ("bigip1", "bigip2"))]
    c = Cluster(groups, names=("bigip1", "bigip2"))
    c.run(4)
    assert c.actives("traffic-group-1") == c.actives("traffic-group-2") == ["bigip1"]
    actions = c.devices["bigip1"].set_failsafe(["vlan_fs /Common/internal"], c.now)
    assert actions == [BecomeStandby(tg, "failsafe vlan_fs /Common/internal") for tg in ("traffic-group-1", "traffic-group-2")]
    c.run(1)
    assert c.actives("traffic-group-1") == c.actives("traffic-group-2") == ["bigip2"]
    assert c.devices["bigip2"].next_active("traffic-group-1") is None     # bigip1 is out of service
    c.devices["bigip1"].set_failsafe([], c.now)
    c.run(1)
    assert c.devices["bigip2"].state["traffic-group-1"] == ACTIVE         # no failback: it stays
    assert c.devices["bigip2"].next_active("traffic-group-1") == "bigip1"


def test_restart_all_restarts_services_and_is_no_failover_as_on_a_bigip():
    fs = Failsafes()
    watch = {VLAN: (3.0, "restart-all")}
    fs.update(0.0, watch, {VLAN: 10}, {}, {})
    logs = fs.update(3.0, watch, {VLAN: 10}, {}, {"bigd": "restart"})
    assert [l.text for l in logs] == ["HA daemon_heartbeat bigd fails action is restart.",
                                      "HA vlan_fs /Common/internal fails action is restart-all."]
    assert fs.failing_over() == [] and fs.restarting_all() == ["vlan_fs /Common/internal"]


class _Parts:
    """The subsystems' collaborators, recording what is stopped and started."""

    def __init__(self):
        self.running = {"tmm", "bigd"}
        self.lines = []

    def get(self, _type, _path):
        return None

    def start(self, name):
        self.running.add(name)

    def stop(self, name):
        self.running.discard(name)

    def log(self, level, proc, text, *a, **kw):
        self.lines.append(text)


async def test_restart_all_stops_every_subsystem_and_brings_it_back_without_tripping_the_system_failsafe(autojump_clock):
    parts = _Parts()
    subs = Subsystems(parts, parts, parts)
    async with trio.open_nursery() as nursery:
        await nursery.start(subs.run)
        subs.restart_all()
        assert parts.running == set() and subs.dead_actions() == {}    # stopped on purpose, not dead
        await trio.sleep(RESTART_DELAY + 0.1)
        assert parts.running == {"tmm", "bigd"} and subs.restarting == set()
        assert "Re-starting tmm" in parts.lines
        nursery.cancel_scope.cancel()


def test_the_heartbeat_timeout_is_sys_db_failover_nettimeoutsec_which_shows_the_one_in_effect(tmp_path):
    store = ConfigStore(tmp_path / "config.json", "bigip1")
    driver = FailoverDriver("bigip1", store, None, {"timeout": 1.5}, None, Hub(), dict, lambda _p: True)
    db = store.get("sys db", "/Common/failover.nettimeoutsec")
    assert (db["default-value"], db["value"]) == ("3", "3")
    cid = store.cid
    driver.show_timeout()      # at start: the lab's timeout, shown where one looks for it
    db = store.get("sys db", "/Common/failover.nettimeoutsec")
    assert (db["default-value"], db["value"]) == ("3", "1.5") and driver.net_timeout() == 1.5
    assert store.cid == cid    # a local variable: no commit for the peers to sync
    store.commit([Op("modify", "sys db", "/Common/failover.nettimeoutsec", {"value": ("set", "10")})])
    assert driver.net_timeout() == 10.0
    store.commit([Op("modify", "sys db", "/Common/failover.nettimeoutsec", {"value": ("set", "3")})])
    driver.show_timeout()      # the next start: a 3 set by hand is the default, the lab's again
    assert driver.net_timeout() == 1.5


def test_ha_status_lists_every_failsafe_the_device_has_and_marks_the_tripped_ones():
    from node.cm.failsafe import ha_status_rows
    f = Failsafes()
    f.update(0.0, {}, {}, {"/Common/gw": (2, 1, "failover")}, {"tmm": "go-offline-downlinks-restart"})
    rows = ha_status_rows({"tmm": (True, "go-offline-downlinks-restart"), "bigd": (False, "restart")},
                          {"/Common/internal": "failover"}, {"/Common/gw": "failover"}, f.tripped, {"dg-ha": False})
    assert rows == [
        ("cluster_time_sync", "dg-ha", "none", "fail", "yes", "yes"),
        ("daemon_heartbeat", "bigd", "restart", "none", "no", "no"),
        ("daemon_heartbeat", "tmm", "go-offline-downlinks-restart", "fail", "yes", "yes"),
        ("pool_memb_down", "/Common/gw", "failover", "fail", "yes", "yes"),
        ("vlan_fs", "/Common/internal", "failover", "none", "yes", "no")]
    assert ha_status_rows({}, {}, {}, {}, {"dg-ha": None}) == [
        ("cluster_time_sync", "dg-ha", "none", "none", "no", "no")]   # no time source: not watched


class _Wire:
    """The heartbeat socket: records what is sent, hears nothing."""
    mgroup = None

    def __init__(self):
        self.sent = []

    async def bind(self):
        pass

    async def send(self, payload, addresses, group=None):
        self.sent.append((trio.current_time(), payload["state"]))

    async def receive(self):
        await trio.sleep_forever()
        yield


class _Floating:
    def reconcile(self):
        pass


async def test_a_changed_heartbeat_goes_out_at_once_not_at_the_next_interval(tmp_path, autojump_clock):
    store = ConfigStore(tmp_path / "config.json", "bigip1")
    driver = FailoverDriver("bigip1", store, _Parts(), {"heartbeat_interval": 1.0}, _Floating(), Hub(), dict,
                            lambda _p: True)
    driver.heartbeats = wire = _Wire()
    async with trio.open_nursery() as nursery:
        await nursery.start(driver.run)
        driver.failover.configure([], {"bigip2": ["10.0.0.2"]}, trio.current_time())
        await trio.sleep(1.5)
        sent = len(wire.sent)
        driver.offline()                      # what our heartbeats say changed
        await trio.sleep(0.01)
        assert [state for _, state in wire.sent[sent:]] == ["forced-offline"]   # the next interval is 0.5 s on
        nursery.cancel_scope.cancel()
