"""Gratuitous ARP as keepalived sends it: an ARP request, broadcast, whose sender and target are
the floating address, from the interface's own MAC."""
from scapy.layers.l2 import ARP, Ether

from node.cm.floating import garp_frame


def test_a_garp_is_a_broadcast_arp_request_for_the_address_itself():
    frame = Ether(bytes(garp_frame("02:00:0a:01:0a:0b", "10.1.10.100")))
    assert (frame.dst, frame.src, frame.type) == ("ff:ff:ff:ff:ff:ff", "02:00:0a:01:0a:0b", 0x0806)
    arp = frame[ARP]
    assert (arp.op, arp.hwsrc, arp.psrc, arp.pdst, arp.hwdst) == \
        (1, "02:00:0a:01:0a:0b", "10.1.10.100", "10.1.10.100", "00:00:00:00:00:00")
    assert len(bytes(frame)) == 42


def test_floating_plan_removes_what_is_not_wanted_and_adds_only_what_is_new():
    from node.cm.floating import plan
    held = {("external", "10.1.10.100", 32): "traffic-group-1", ("internal", "10.1.20.10", 24): "traffic-group-1"}
    want = {("external", "10.1.10.100", 32): "traffic-group-1", ("external", "10.1.10.101", 32): "traffic-group-2"}
    gone, new = plan(held, want)
    assert gone == [("internal", "10.1.20.10", 24)]
    assert new == {("external", "10.1.10.101", 32): "traffic-group-2"}   # the held one is not touched again


def test_floating_plan_moves_an_address_to_its_new_traffic_group():
    from node.cm.floating import plan
    key = ("external", "10.1.10.100", 32)
    assert plan({key: "traffic-group-1"}, {key: "traffic-group-2"}) == ([], {key: "traffic-group-2"})
    assert plan({key: "traffic-group-1"}, {key: "traffic-group-1"}) == ([], {})
