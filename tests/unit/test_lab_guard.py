"""Lab addresses never leave the host: the host sends to an address only through a lab's own link
or the loopback; anything else (the default route, no route) is refused, naming the address."""
import socket

import pytest

from lab.runtime import guard

OFF_HOST = "203.0.113.9"   # TEST-NET-3: the default route (or no route), never a lab's link


@pytest.mark.parametrize("ifname", ["bl-tha-v0", "bl-tha-1a2b3c", "lo"])
def test_a_lab_link_or_the_loopback_passes(ifname):
    assert guard.refusal("10.252.80.11", ifname) is None


@pytest.mark.parametrize("ifname", ["eth0", "docker0", "wlan0", "", None])
def test_any_other_way_out_is_refused_naming_the_address(ifname):
    error = guard.refusal("10.252.80.11", ifname)
    assert isinstance(error, guard.NotInLab) and isinstance(error, OSError)
    assert str(error).startswith("10.252.80.11: no lab is up on this address")
    assert (ifname or "no route") in str(error)


def test_the_kernel_is_asked_for_the_way_out():
    assert guard.lab_route("127.0.0.1") == "127.0.0.1"
    with pytest.raises(guard.NotInLab, match=OFF_HOST):
        guard.lab_route(OFF_HOST)


def test_a_guarded_process_refuses_a_socket_before_sending():
    with guard.guard_sockets():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, pytest.raises(guard.NotInLab):
            s.sendto(b"x", (OFF_HOST, 53))
        with socket.socket() as s, pytest.raises(guard.NotInLab):
            s.connect((OFF_HOST, 443))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"x", ("127.0.0.1", 9))   # the loopback stays allowed
