"""SNTP packets, the client's offset and reachability, the lab server's answer; the node clock's
drift; and the trio client against a real UDP server on loopback."""
import socket
import threading

import pytest
import trio

from node.clock import NodeClock, PersistentClock
from node.log import Log
from node.ntp import (MODE_SERVER, NtpError, Packet, SntpClient, from_ntp, server_reply, to_ntp)
from node.ntp_service import NtpService

T = 1_795_000_000.0


def test_ntp_timestamps_round_trip_to_the_microsecond():
    assert abs(from_ntp(to_ntp(T + 0.123456)) - (T + 0.123456)) < 1e-6


def test_the_server_echoes_the_client_transmit_time_as_originate():
    client = SntpClient("10.1.1.1")
    request = client.request(T, 0.0)
    reply = Packet.decode(server_reply(request, T + 5))
    assert reply.mode == MODE_SERVER and reply.stratum == 1 and reply.refid == b"LOCL"
    assert reply.originate == Packet.decode(request).transmit
    assert abs(from_ntp(reply.transmit) - (T + 5)) < 1e-6


def test_the_server_refuses_what_is_not_a_client_request():
    with pytest.raises(NtpError, match="short"):
        server_reply(b"\x23" * 10, T)
    with pytest.raises(NtpError, match="not a client request"):
        server_reply(Packet(0, 4, MODE_SERVER, 1, 4, 0, b"LOCL", 0, 0, 0, 0).encode(), T)


def test_the_offset_is_how_far_the_server_is_ahead():
    client = SntpClient("10.1.1.1")
    sent = T
    request = client.request(sent, 0.0)
    reply = server_reply(request, T + 100.0)          # server 100 s ahead, no network delay
    sample = client.receive(reply, sent, 0.01)
    assert abs(sample.offset - 100.0) < 1e-6 and abs(sample.delay) < 1e-6
    assert client.synchronized() and client.status(0.01)["reach"] == "1"


def test_an_answer_to_another_request_is_ignored():
    client = SntpClient("10.1.1.1")
    old = client.request(T, 0.0)
    client.request(T + 2, 2.0)
    assert client.receive(server_reply(old, T), T + 2, 2.0) is None
    assert "originate" in client.error


def test_an_unsynchronised_server_is_not_a_time_source():
    client = SntpClient("10.1.1.1")
    request = client.request(T, 0.0)
    kod = Packet(0, 4, MODE_SERVER, 0, 4, 0, b"RATE", 0, Packet.decode(request).transmit, 0, 0).encode()
    assert client.receive(kod, T, 0.0) is None and "unsynchronised" in client.error


def test_sync_is_lost_after_three_unanswered_polls():
    client = SntpClient("10.1.1.1", poll=2.0)
    client.receive(server_reply(client.request(T, 0.0), T), T, 0.0)
    for i in range(1, 3):
        client.request(T + 2 * i, 2.0 * i)
        assert client.synchronized()
    client.request(T + 6, 6.0)
    assert not client.synchronized() and client.status(6.0)["reach"] == "10"


def test_a_free_running_clock_drifts_at_its_rate_and_a_step_restarts_it():
    wall = [T]
    clock = NodeClock(0.0, wall=lambda: wall[0], drift_ppm=1000)   # 1 ms a second
    wall[0] += 1000
    assert abs(clock.current_offset() - 1.0) < 1e-9
    clock.step(-1.0)
    assert abs(clock.current_offset()) < 1e-9
    wall[0] += 10
    assert abs(clock.current_offset() - 0.01) < 1e-9


def test_offset_and_drift_survive_a_restart(tmp_path):
    wall = [T]
    clock = PersistentClock(tmp_path / "clock.json", wall=lambda: wall[0])
    clock.set_drift(500)
    clock.set_offset(-7200)
    wall[0] += 100
    again = PersistentClock(tmp_path / "clock.json", wall=lambda: wall[0])
    assert again.drift_ppm == 500 and abs(again.current_offset() - (-7200 + 0.05)) < 1e-9


def test_a_step_of_microseconds_is_not_written_and_a_restart_loses_no_more(tmp_path):
    """NTP corrects a lab clock by microseconds at every poll; writing each (a file replaced on
    the daemon's event loop) bought nothing a restart would miss."""
    wall = [T]
    clock = PersistentClock(tmp_path / "clock.json", wall=lambda: wall[0])
    clock.set_offset(-30)
    written = (tmp_path / "clock.json").stat().st_mtime_ns, (tmp_path / "clock.json").read_bytes()
    for _ in range(5):
        wall[0] += 10
        clock.step(0.00005)
    assert ((tmp_path / "clock.json").stat().st_mtime_ns, (tmp_path / "clock.json").read_bytes()) == written
    assert abs(PersistentClock(tmp_path / "clock.json", wall=lambda: wall[0]).current_offset() - clock.current_offset()) < 0.001
    clock.step(0.002)   # a millisecond or more is written
    assert abs(PersistentClock(tmp_path / "clock.json", wall=lambda: wall[0]).current_offset() - clock.current_offset()) < 1e-9


def _udp_server(offset: float):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)

    def serve():
        import time
        try:
            while True:
                data, peer = sock.recvfrom(512)
                sock.sendto(server_reply(data, time.time() + offset), peer)
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    return sock


async def test_the_client_steps_the_node_clock_to_the_server(tmp_path):
    server = _udp_server(offset=-7200.0)
    clock = NodeClock(0.0)
    log = Log(tmp_path / "log.jsonl", "bigip1")
    ntp = NtpService("127.0.0.1", clock, log, poll=0.2, port=server.getsockname()[1])
    async with trio.open_nursery() as nursery:
        await nursery.start(ntp.run)
        with trio.fail_after(5):
            while not ntp.client.synchronized():
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    server.close()
    assert abs(clock.current_offset() + 7200.0) < 0.05
    text = (tmp_path / "log.jsonl").read_text()
    assert "time reset" in text and "ntp-sync" in text
