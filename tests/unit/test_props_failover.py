"""The network failover decider under random event orders, property-based, on a simulated clock:
heartbeats lost or delivered in any order, devices killed and restarted, forced offline and back,
asked to stand by. Once every device hears every other for long enough (a settled exchange), each
traffic group is active on exactly one device that may hold it, and it stays there."""
import msgpack
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from node.cm.failover import ACTIVE, Failover, TrafficGroup
from node.errors import CMError
from node.cm.heartbeat import decode

TIMEOUT, BEAT = 3.0, 0.2
DEVICES = ["bigip1", "bigip2", "bigip3"]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def paths_of(name: str) -> list[str]:
    n = DEVICES.index(name) + 11
    return [f"10.1.30.{n}", f"10.1.20.{n}"]


class Cluster:
    """Devices wired to each other by heartbeat paths, driven by hand on one simulated clock."""

    def __init__(self, names, groups):
        self.names, self.groups, self.now = names, groups, 0.0
        self.devices: dict[str, Failover | None] = {}
        for n in names:
            self.start(n)

    def start(self, name: str):
        fo = Failover(name, self.now, timeout=TIMEOUT)
        fo.configure(list(self.groups), {p: paths_of(p) for p in self.names if p != name}, self.now)
        self.devices[name] = fo

    def live(self) -> dict[str, Failover]:
        return {n: d for n, d in self.devices.items() if d is not None}

    def beat(self, src: str, dst: str, path: int):
        a, b = self.devices.get(src), self.devices.get(dst)
        if a is not None and b is not None and src != dst:
            b.heartbeat(src, paths_of(src)[path], a.payload(), self.now)

    def advance(self, dt: float):
        self.now += dt
        for d in self.live().values():
            d.tick(self.now)

    def exchange(self):
        """One heartbeat interval: every live device hears every other on every path."""
        for src in self.names:
            for dst in self.names:
                for path in (0, 1):
                    self.beat(src, dst, path)
        self.advance(BEAT)

    def actives(self, tg: str) -> list[str]:
        return [n for n, d in self.live().items() if d.state.get(tg) == ACTIVE]


EVENTS = st.one_of(
    st.tuples(st.just("beat"), st.sampled_from(DEVICES), st.sampled_from(DEVICES), st.integers(0, 1)),
    st.tuples(st.just("exchange")),
    st.tuples(st.just("advance"), st.floats(0.01, 2 * TIMEOUT)),
    st.tuples(st.just("kill"), st.sampled_from(DEVICES)),
    st.tuples(st.just("restart"), st.sampled_from(DEVICES)),
    st.tuples(st.just("offline"), st.sampled_from(DEVICES)),
    st.tuples(st.just("online"), st.sampled_from(DEVICES)),
    st.tuples(st.just("standby"), st.sampled_from(DEVICES), st.sampled_from(["traffic-group-1", None])),
)


@st.composite
def clusters(draw):
    names = DEVICES[:draw(st.integers(2, 3))]
    groups = []
    for tg in ["traffic-group-1", "traffic-group-2"][:draw(st.integers(1, 2))]:
        order = tuple(draw(st.permutations(names))[:draw(st.integers(0, len(names)))])
        groups.append(TrafficGroup(tg, order, auto_failback=draw(st.booleans()),
                                   auto_failback_time=draw(st.sampled_from([0.0, 1.0, 5.0])),
                                   load_factor=draw(st.integers(1, 3))))
    return Cluster(names, groups)


def play(c: Cluster, event: tuple):
    kind, *args = event
    name = args[0] if args else None
    if name is not None and name not in c.names:
        return
    d = c.devices.get(name)
    if kind == "beat":
        c.beat(*args)
    elif kind == "exchange":
        c.exchange()
    elif kind == "advance":
        c.advance(*args)
    elif kind == "kill":
        c.devices[name] = None
    elif kind == "restart" and d is None:
        c.start(name)
    elif d is not None and kind == "offline":
        d.offline(c.now)
    elif d is not None and kind == "online":
        d.online(c.now)
    elif d is not None and kind == "standby":
        try:
            d.standby(args[1] if args[1] in d.groups else None, c.now)
        except CMError:
            pass   # refused: nobody else can take it


def settle(c: Cluster) -> None:
    """Every live device hears every other for longer than the timeout and any auto-failback."""
    wait = 2 * TIMEOUT + max(g.auto_failback_time for g in c.groups) + 1
    for _ in range(int(wait / BEAT)):
        c.exchange()


def played_and_settled(c: Cluster, events: list) -> Cluster:
    for e in events:
        play(c, e)
    settle(c)
    return c


SETTLED = st.builds(played_and_settled, clusters(), st.lists(EVENTS, max_size=40))


@SETTINGS
@given(SETTLED)
def test_after_a_settled_exchange_each_group_is_active_on_exactly_one_device(c):
    for g in c.groups:
        actives = c.actives(g.name)
        assert len(actives) <= 1, f"{g.name} active on {actives}"
        if any(not d.forced_offline for d in c.live().values()):
            assert len(actives) == 1, f"{g.name} active nowhere among {list(c.live())}"
            assert not c.devices[actives[0]].forced_offline
    before = {g.name: c.actives(g.name) for g in c.groups}
    c.exchange()
    assert {g.name: c.actives(g.name) for g in c.groups} == before, "a settled cluster does not flap"


@SETTINGS
@given(SETTLED)
def test_every_device_agrees_who_is_active_after_a_settled_exchange(c):
    for g in c.groups:
        truth = {n: d.state[g.name] for n, d in c.live().items()}
        for n, d in c.live().items():
            heard = {p: peer.payload.get("tgs", {}).get(g.name) for p, peer in d.peers.items() if p in truth}
            assert heard == {p: s for p, s in truth.items() if p != n}, f"{n} hears {heard}, truth {truth}"


# -- what arrives on UDP 1026 -------------------------------------------------------------------
FIELD_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.text(max_size=8)
                            | st.sampled_from(["bigip1", "bigip2", "active", "standby", "forced-offline",
                                               "traffic-group-1"]),
                            lambda inner: st.lists(inner, max_size=3)
                            | st.dictionaries(st.sampled_from(["traffic-group-1", "x"]), inner, max_size=2),
                            max_leaves=6)
DATAGRAMS = st.fixed_dictionaries({"t": st.just("hb"), "device": st.sampled_from(["bigip1", "bigip3"])},
                                  optional={k: FIELD_VALUES for k in ("v", "state", "tgs", "declined")})


@SETTINGS
@given(DATAGRAMS, st.sampled_from([0.5, 5.0]))
@example({"t": "hb", "device": "bigip1", "declined": 5, "tgs": {}}, 5.0)
def test_any_datagram_that_decodes_as_a_heartbeat_is_taken_without_an_exception(datagram, now):
    fo = Failover("bigip2", 0.0, timeout=TIMEOUT)
    fo.configure([TrafficGroup("traffic-group-1", ("bigip1", "bigip2"))], {"bigip1": paths_of("bigip1")}, 0.0)
    msg = decode(msgpack.packb(datagram))
    if msg is not None:
        fo.heartbeat(msg["device"], paths_of("bigip1")[0], msg, now)
        fo.tick(now + TIMEOUT)
