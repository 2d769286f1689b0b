"""The failover machine in groups of more than two devices and with several traffic groups:
active-active, ha-order cascades, load-aware with ha-capacity and ha-load-factor (no sockets)."""
from node.cm.failover import ACTIVE, STANDBY, Failover, TrafficGroup

NAMES = ("bigip1", "bigip2", "bigip3", "bigip4")


def addr(name):
    return f"10.1.30.1{name[-1]}"


class Cluster:
    """N machines that hear each other on one path; `down` ones neither send nor receive."""

    def __init__(self, groups, names=NAMES, capacity=None):
        self.now = 0.0
        self.down: set[str] = set()
        self.devices = {n: Failover(n, 0.0, timeout=3.0, capacity=(capacity or {}).get(n, 0)) for n in names}
        for n, fo in self.devices.items():
            fo.configure(list(groups), {p: [addr(p)] for p in names if p != n}, 0.0)

    def run(self, seconds, step=0.2):
        end = self.now + seconds
        while self.now < end:
            self.now = round(self.now + step, 6)
            up = [fo for n, fo in self.devices.items() if n not in self.down]
            for src in up:
                for dst in up:
                    if dst is not src:
                        dst.heartbeat(src.device, addr(src.device), src.payload(), self.now)
            for fo in up:
                fo.tick(self.now)

    def actives(self, tg):
        return sorted(n for n, fo in self.devices.items() if n not in self.down and fo.state.get(tg) == ACTIVE)

    def kill(self, name):
        self.down.add(name)

    def restart(self, name, groups):
        names = list(self.devices)
        fo = Failover(name, self.now, timeout=3.0, capacity=self.devices[name].capacity)
        fo.configure(list(groups), {p: [addr(p)] for p in names if p != name}, self.now)
        self.devices[name] = fo
        self.down.discard(name)


def active_active(**tg):
    return [TrafficGroup("traffic-group-1", ("bigip1", "bigip2"), **tg),
            TrafficGroup("traffic-group-2", ("bigip2", "bigip1"), **tg)]


def test_active_active_each_group_on_the_first_device_of_its_ha_order():
    c = Cluster(active_active(), names=NAMES[:2])
    c.run(4)
    assert c.actives("traffic-group-1") == ["bigip1"] and c.actives("traffic-group-2") == ["bigip2"]


def test_active_active_the_survivor_carries_both_and_without_auto_failback_keeps_them():
    groups = active_active()
    c = Cluster(groups, names=NAMES[:2])
    c.run(4)
    c.kill("bigip1")
    c.run(4)
    assert c.actives("traffic-group-1") == ["bigip2"] and c.actives("traffic-group-2") == ["bigip2"]
    c.restart("bigip1", groups)
    c.run(10)
    assert c.actives("traffic-group-1") == ["bigip2"]


def test_active_active_auto_failback_takes_the_group_back_after_auto_failback_time():
    groups = active_active(auto_failback=True, auto_failback_time=5)
    c = Cluster(groups, names=NAMES[:2])
    c.run(4)
    c.kill("bigip1")
    c.run(4)
    c.restart("bigip1", groups)
    c.run(4.4)
    assert c.actives("traffic-group-1") == ["bigip2"]      # not before auto-failback-time
    c.run(2)
    assert c.actives("traffic-group-1") == ["bigip1"] and c.actives("traffic-group-2") == ["bigip2"]


def cluster4_groups():
    return [TrafficGroup("traffic-group-1", ("bigip1", "bigip2", "bigip3", "bigip4")),
            TrafficGroup("traffic-group-2", ("bigip2", "bigip3", "bigip4", "bigip1")),
            TrafficGroup("traffic-group-3", ("bigip3",))]


def test_four_devices_three_groups_n_plus_one_and_the_cascade_follows_ha_order_then_load():
    c = Cluster(cluster4_groups())
    c.run(4)
    assert [c.actives(f"traffic-group-{i}") for i in (1, 2, 3)] == [["bigip1"], ["bigip2"], ["bigip3"]]
    assert c.devices["bigip1"].next_active("traffic-group-1") == "bigip2"
    # traffic-group-3 lists bigip3 only: then load-aware, and bigip4 carries nothing
    assert c.devices["bigip1"].next_active("traffic-group-3") == "bigip4"
    c.kill("bigip3")
    c.run(4)
    assert c.actives("traffic-group-3") == ["bigip4"]
    c.kill("bigip1")
    c.run(4)
    assert c.actives("traffic-group-1") == ["bigip2"]
    c.kill("bigip2")
    c.run(4)
    assert [c.actives(f"traffic-group-{i}") for i in (1, 2, 3)] == [["bigip4"]] * 3


def test_load_aware_divides_the_load_by_ha_capacity():
    # bigip3 has twice the capacity: it carries two groups before the others carry a second
    groups = [TrafficGroup(f"tg{i}", method="load-aware") for i in range(4)]
    c = Cluster(groups, names=NAMES[:3], capacity={"bigip1": 10, "bigip2": 10, "bigip3": 20})
    c.run(4)
    carried = {n: sum(fo.state[g.name] == ACTIVE for g in groups) for n, fo in c.devices.items()}
    assert carried == {"bigip1": 1, "bigip2": 1, "bigip3": 2}
    assert all(len(c.actives(g.name)) == 1 for g in groups)


def test_ha_load_factor_weighs_a_group():
    heavy = TrafficGroup("heavy", ("bigip1",), load_factor=5)
    light = [TrafficGroup(f"light{i}", method="load-aware") for i in range(2)]
    c = Cluster([heavy, *light], names=NAMES[:2])
    c.run(4)
    assert c.actives("heavy") == ["bigip1"]
    assert c.actives("light0") == c.actives("light1") == ["bigip2"]
    fo = c.devices["bigip2"]
    assert fo.utilization("bigip1", "light0") == 6.0 and fo.utilization("bigip2", "light0") == 2.0


def test_load_aware_method_ignores_ha_order():
    tg = TrafficGroup("tg", ("bigip1", "bigip2"), method="load-aware")
    other = TrafficGroup("busy", ("bigip1",))
    c = Cluster([other, tg], names=NAMES[:2])
    c.run(4)
    assert c.actives("tg") == ["bigip2"] and c.devices["bigip2"].state["busy"] == STANDBY


def test_show_cm_traffic_group_rows_name_the_next_active_and_the_loads():
    c = Cluster(cluster4_groups(), capacity={"bigip1": 10, "bigip2": 10, "bigip3": 10, "bigip4": 20})
    c.run(4)
    rows = {(r["tg"], r["device"]): r for r in c.devices["bigip1"].group_rows()}
    assert rows[("traffic-group-1", "bigip1")] == {"tg": "traffic-group-1", "device": "bigip1", "state": ACTIVE,
                                                   "next_active": False, "load": 1, "next_active_load": None,
                                                   "ha_score": None}
    assert rows[("traffic-group-1", "bigip2")]["next_active"] and rows[("traffic-group-1", "bigip2")]["next_active_load"] == 2
    assert rows[("traffic-group-3", "bigip4")]["next_active"]
    c.kill("bigip4")
    c.run(4)
    rows = {(r["tg"], r["device"]): r for r in c.devices["bigip1"].group_rows()}
    assert rows[("traffic-group-3", "bigip4")]["state"] == "offline"
    assert rows[("traffic-group-1", "bigip4")]["next_active"] is False


def test_a_traffic_group_with_no_floating_objects_still_goes_active_and_fails_over():
    # F5 does not refuse a traffic group that floats nothing (no self IP, virtual address or SNAT
    # in it): it still has an active device, shows "active" there, and moves on failover. The
    # decider never looks at the objects, so an empty group is decided like any other.
    groups = [TrafficGroup("traffic-group-1", ("bigip1", "bigip2")), TrafficGroup("tg-empty", ("bigip2", "bigip1"))]
    c = Cluster(groups, names=("bigip1", "bigip2"))
    c.run(5)
    assert c.actives("tg-empty") == ["bigip2"] and c.actives("traffic-group-1") == ["bigip1"]
    rows = {(r["tg"], r["device"]): r["state"] for r in c.devices["bigip1"].group_rows()}
    assert rows[("tg-empty", "bigip2")] == ACTIVE and rows[("tg-empty", "bigip1")] == STANDBY
    c.kill("bigip2")
    c.run(4)
    assert c.actives("tg-empty") == ["bigip1"]
    assert [r["state"] for r in c.devices["bigip1"].group_rows() if r["tg"] == "tg-empty"] == [ACTIVE, "offline"]
