"""Forged failover heartbeats, sent from inside a lab node's namespace (run by the `forge` chaos
verb): for `seconds`, every 100 ms, to `dst`:1026 from the impersonated device's own address
`src` (bound with IP_TRANSPARENT, as a spoofing host would), claiming `device` is alive and active
for every traffic group named. Two kinds each round: an unsigned heartbeat (the old format) and
one signed by a stranger's trust domain under the same device name. Prints the count sent (JSON)."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import socket
import sys
import time
from types import SimpleNamespace

from node.cm.hbauth import HeartbeatAuth
from node.cm.heartbeat import PORT, encode
from node.iquery.trust import Member, make_ca, make_csr, new_key, sign_csr

IP_TRANSPARENT = 19   # bind and send from an address that is not ours (root in the namespace)


def stranger(device: str):
    """A trust store of a domain of its own, with a certificate that names `device`."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key, key = new_key(), new_key()
    ca = make_ca(device, ca_key, now)
    return SimpleNamespace(key=key, cert=sign_csr(make_csr(device, key), ca, ca_key, now), ca=ca,
                           members=[Member(device, "")])


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(prog="forger")
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--device", required=True)
    p.add_argument("--tgs", default="traffic-group-1")
    p.add_argument("--seconds", type=float, default=5.0)
    a = p.parse_args(argv)
    payload = {"device": a.device, "state": "active", "tgs": {tg: "active" for tg in a.tgs.split(",")},
               "declined": [], "boot": "f0f0f0f0f0f0f0f0"}
    signer = HeartbeatAuth(stranger(a.device))
    sent, seq = 0, 10**9
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
        s.bind((a.src, PORT))
        deadline = time.monotonic() + a.seconds
        while time.monotonic() < deadline:
            seq += 1
            body = encode({**payload, "seq": seq})
            for data in (body, signer.seal(body)):
                try:
                    s.sendto(data, (a.dst, PORT))
                    sent += 1
                except OSError:
                    pass
            time.sleep(0.1)
    print(json.dumps({"sent": sent}))


if __name__ == "__main__":
    main(sys.argv[1:])
