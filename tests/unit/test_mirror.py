"""Connection mirroring, sans-IO: what is mirrored, how an entry travels and is made again with its NAT
binding, which device is the mirroring peer; and mirroring refused on a virtual with no peer."""
import pytest

from node.errors import Invalid
from node.ltm import mirror
from tests.unit.test_config import run, store  # noqa: F401 - the configuration store with VLANs

ORIG = {"src": "10.1.10.51", "dst": "10.1.10.100", "sport": 40000, "dport": 91}
REPLY = {"src": "10.1.20.21", "dst": "10.1.10.51", "sport": 9000, "dport": 40000}


def test_an_entry_carries_the_member_the_virtual_dnated_to_and_travels_whole():
    e = mirror.from_conntrack(ORIG, REPLY, 6, state=3, status=0x1AE, timeout=431999, mark=0x1235)
    assert e.dnat == ("10.1.20.21", 9000) and e.snat is None
    assert mirror.Entry.from_wire(e.to_wire()) == e
    assert ["CTA_MARK", 0x1235] in mirror.create_attrs(e)   # the peer's byte counters find the connection
    snat = mirror.from_conntrack(ORIG, {**REPLY, "dst": "10.1.20.10"}, 6)
    assert snat.snat == "10.1.20.10"
    with pytest.raises(ValueError):
        mirror.Entry.from_wire({"p": 1})


def test_only_connections_to_a_mirrored_virtual_are_mirrored():
    e = mirror.from_conntrack(ORIG, REPLY, 6)
    assert mirror.mirrored(e, {("10.1.10.100", 91, 6)})
    assert not mirror.mirrored(e, {("10.1.10.100", 92, 6)})
    assert not mirror.mirrored(mirror.from_conntrack(ORIG, {**REPLY, "src": "10.1.10.100", "sport": 91}, 6),
                               {("10.1.10.100", 91, 6)})      # not NATed: not a virtual's flow


def test_the_peer_gets_the_unnated_reply_and_the_nat_to_set_up_as_conntrackd_does():
    e = mirror.from_conntrack(ORIG, REPLY, 6, state=3, status=0x1AE, timeout=100)
    attrs = dict((k, v) for k, v in mirror.create_attrs(e))
    reply = attrs["CTA_TUPLE_REPLY"]["attrs"][0][1]["attrs"]
    assert reply == [["CTA_IP_V4_SRC", "10.1.10.100"], ["CTA_IP_V4_DST", "10.1.10.51"]]
    assert attrs["CTA_NAT_DST"]["attrs"][0] == ["CTA_NAT_V4_MINIP", "10.1.20.21"]
    assert "CTA_NAT_SRC" not in attrs
    # the kernel refuses NAT and status bits it owns; CONFIRMED must be passed or creation fails
    assert attrs["CTA_STATUS"] == mirror.IPS_SEEN_REPLY | mirror.IPS_ASSURED | mirror.IPS_CONFIRMED
    assert not any(k.startswith("CTA_NAT") for k, _ in mirror.update_attrs(e))


def test_the_outbox_sends_a_connection_once_as_it_is_last():
    box = mirror.Outbox()
    e = mirror.from_conntrack(ORIG, REPLY, 6, state=1)
    box.put("update", e)
    box.put("update", mirror.from_conntrack(ORIG, REPLY, 6, state=3))
    box.put_persist({"virtual": "/Common/vs", "value": "10.1.10.51"})
    frames = box.take()
    assert [f["t"] for f in frames] == ["ct", "persist"] and frames[0]["e"]["st"] == 3
    assert box.take() == []


def test_the_mirroring_peer_is_the_next_device_in_ha_order_with_a_mirroring_address():
    devices = {"bigip1": {"mirror-ip": "10.1.30.11"}, "bigip2": {"mirror-ip": "any6"},
               "bigip3": {"mirror-ip": "any6", "mirror-secondary-ip": "10.1.40.13"}}
    assert mirror.peer_address("bigip1", ["bigip1", "bigip2", "bigip3"], [], devices) == "10.1.40.13"
    assert mirror.peer_address("bigip3", ["bigip1"], [], devices) == "10.1.30.11"
    assert mirror.peer_address("bigip1", [], ["bigip1", "bigip2"], devices) is None


def test_mirroring_a_virtual_with_no_peer_is_refused_and_changes_nothing(store):  # noqa: F811
    run(store, "create ltm pool web members add { 10.1.20.21:80 }")
    with pytest.raises(Invalid, match="01070734:3: .*connection mirroring enabled, but its traffic group "
                                      "\\(/Common/traffic-group-1\\) has no peer device"):
        run(store, "create ltm virtual vs destination 10.1.10.100:80 pool web profiles replace-all-with "
                   "{ fastL4 } mirror enabled")
    assert store.get("ltm virtual", "/Common/vs") is None


def test_a_kernel_persistence_record_is_sent_when_new_moved_or_renewed_not_on_every_read():
    r = mirror.Renewals(slack=2)
    key = ("/Common/vs", "10.1.10.51")
    assert r.due({key: ("m1", 100.0)}) == [key]
    assert r.due({key: ("m1", 101.0)}) == []          # the kernel's whole seconds jitter
    assert r.due({key: ("m1", 130.0)}) == [key]       # a new connection renewed it
    assert r.due({key: ("m2", 130.0)}) == [key]       # another member now
    assert r.due({}) == [] and r.due({key: ("m2", 130.0)}) == [key]   # expired, then made again


def test_each_traffic_group_has_its_own_channel_port_from_1029_by_its_unit_id():
    assert [mirror.port_of(n) for n in (1, 2, 127)] == [1029, 1030, 1155]


async def test_a_connection_and_a_persistence_record_go_on_their_traffic_groups_channel_only():
    from node.ltm.mirror_driver import Mirror
    m = Mirror(log=None)
    m.configure({"/Common/traffic-group-1": mirror.Channel("10.1.30.12", 1029, frozenset({("10.1.10.100", 91, 6)})),
                 "/Common/traffic-group-2": mirror.Channel("10.1.30.13", 1030, frozenset({("10.1.10.200", 91, 6)}))},
                {"/Common/traffic-group-1": 1029, "/Common/traffic-group-2": 1030}, "10.1.30.11")
    m.note("update", mirror.from_conntrack({**ORIG, "dst": "10.1.10.200"}, REPLY, 6))
    m.persist({"virtual": "/Common/vs_one", "value": "10.1.10.51"}, "/Common/traffic-group-1")
    assert [f["t"] for f in m.outboxes["/Common/traffic-group-2"].take()] == ["ct"]
    assert [f["t"] for f in m.outboxes["/Common/traffic-group-1"].take()] == ["persist"]
    assert m.status("/Common/traffic-group-2")["mirrored"] == 1 and m.status("/Common/traffic-group-1")["mirrored"] == 0
    assert (m.status("/Common/traffic-group-2")["peer"], m.status("/Common/traffic-group-2")["port"]) == ("10.1.30.13", 1030)


async def test_a_channel_that_connects_again_sends_every_live_persistence_record_with_its_time_left(tmp_path, autojump_clock):
    import trio
    from node.ltm.mirror_driver import Mirror
    from node.log import Log
    m = Mirror(Log(tmp_path / "l.jsonl", "bigip1"))
    rec = {"mode": "source-address", "value": "10.1.10.50", "virtual": "/Common/vs", "pool": "/Common/p",
           "member": "/Common/10.1.20.22:80", "address": "10.1.20.22", "port": 80}
    m.persist({**rec, "life": 30.0}, "traffic-group-1")     # given before the group had a peer: not queued
    m.persist({**rec, "value": "10.1.10.51", "life": 5.0}, "traffic-group-1")
    await trio.sleep(10)
    assert m.kept.live("traffic-group-1", trio.current_time()) == [{**rec, "life": 20.0}]   # the other one expired


REC = {"mode": "source-address", "value": "10.1.10.50", "virtual": "/Common/vs", "pool": "/Common/p",
       "member": "/Common/10.1.20.22:80", "address": "10.1.20.22", "port": 80}


def test_kept_persistence_records_carry_their_time_left_and_go_when_they_expire():
    kept = mirror.Kept()
    kept.put("tg1", {**REC, "life": 5.0}, now=100.0)
    kept.put("tg1", {**REC, "value": "10.1.10.51", "life": 30.0}, now=100.0)
    kept.put("tg1", {**REC, "value": "10.1.10.52", "life": None}, now=100.0)   # indefinite
    kept.put("tg2", {**REC, "life": 5.0}, now=100.0)
    assert [r["life"] for r in kept.live("tg1", 103.0)] == [2.0, 27.0, None]
    assert kept.next_expiry() == 105.0
    kept.expire(105.0)
    assert [r["value"] for r in kept.live("tg1", 105.0)] == ["10.1.10.51", "10.1.10.52"] and kept.live("tg2", 105.0) == []
    assert len(kept.records) == 2 and kept.next_expiry() == 130.0
    kept.put("tg1", {**REC, "value": "10.1.10.51", "life": 30.0}, now=120.0)   # renewed
    kept.expire(131.0)
    assert kept.next_expiry() == 150.0 and len(kept.records) == 2


async def test_kept_persistence_records_are_pruned_as_they_expire_with_no_channel_connecting(tmp_path, autojump_clock):
    import trio
    from node.ltm.mirror_driver import Mirror
    from node.log import Log
    m = Mirror(Log(tmp_path / "l.jsonl", "bigip1"))
    async with trio.open_nursery() as nursery:
        await nursery.start(m.run)      # no channel, no peer: nothing ever connects
        m.persist({**REC, "life": 5.0}, "traffic-group-1")
        await trio.sleep(1)
        m.persist({**REC, "value": "10.1.10.51", "life": 30.0}, "traffic-group-1")
        m.persist({**REC, "value": "10.1.10.52", "life": None}, "traffic-group-1")
        await trio.sleep(5)
        assert sorted(v for _, _, v in m.kept.records) == ["10.1.10.51", "10.1.10.52"]
        await trio.sleep(30)
        assert sorted(v for _, _, v in m.kept.records) == ["10.1.10.52"]
        nursery.cancel_scope.cancel()


async def test_a_channel_that_connects_after_its_group_left_this_device_ends_without_taking_ltm_down(tmp_path):
    import trio
    from node.ltm.mirror_driver import Mirror
    from node.log import Log
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    m = Mirror(Log(tmp_path / "l.jsonl", "bigip1"))   # configured with no channel: the group went standby
    with trio.fail_after(5):
        await m._send_to("/Common/traffic-group-1", "127.0.0.1", port)   # a KeyError here crashed the daemon
    assert "/Common/traffic-group-1" not in m.connected
    for listener in listeners:
        await listener.aclose()
