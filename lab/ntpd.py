"""The lab's NTP server: SNTP answers on UDP 123 of the host's management-VLAN address, from the
host clock (stratum 1, refid LOCL). Started by `biglab up` when the topology has `ntp:`, stopped
and started by `biglab chaos LAB ntp stop|start`, removed by `biglab down`.

    python -m lab.ntpd ADDRESS [PORT]
"""
from __future__ import annotations

import signal
import socket
import sys
import time

from node.ntp import NtpError, server_reply


def serve(address: str, port: int = 123) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((address, port))
        print(f"ntpd: serving on {address}:{port}", flush=True)
        while True:
            data, peer = sock.recvfrom(512)
            now = time.time()
            try:
                sock.sendto(server_reply(data, now), peer)
            except NtpError as exc:
                print(f"ntpd: ignored a packet from {peer[0]}: {exc}", flush=True)
            except OSError:
                pass


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (1, 2):
        print("usage: python -m lab.ntpd ADDRESS [PORT]", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(argv[0], int(argv[1]) if len(argv) == 2 else 123)
    return 0


if __name__ == "__main__":
    sys.exit(main())
