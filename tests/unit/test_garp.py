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
