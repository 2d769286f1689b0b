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


def test_every_garp_goes_out_on_one_packet_socket(monkeypatch):
    """Opening and closing a packet socket per frame waits on the kernel's RCU grace period (12 to
    25 ms, on the daemon's event loop): the frames of a burst go out on one socket. Sent for real,
    on the host's loopback."""
    import socket

    from node.cm import floating
    listen = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
    listen.bind(("lo", 0x0806))
    listen.settimeout(2)
    made, real = [], socket.socket
    monkeypatch.setattr(floating.socket, "socket", lambda *a: made.append(a) or real(*a))
    ifaces = floating.Interfaces()
    try:
        ifaces._links["lo"] = (1, "02:00:7f:00:00:01")   # lo's MAC is all zeros: one of our own
        assert all(ifaces.send_garp("lo", "127.0.0.99") for _ in range(3))
        seen = 0
        while seen < 3:
            frame = Ether(listen.recv(100))
            seen += frame.src == "02:00:7f:00:00:01" and frame[ARP].psrc == "127.0.0.99"
        assert not ifaces.send_garp("bl-no-such-link", "127.0.0.99")   # not ours: nothing sent
    finally:
        ifaces.close()
        listen.close()
    assert [a for a in made if a[0] == socket.AF_PACKET] == [(socket.AF_PACKET, socket.SOCK_RAW, 0)]
