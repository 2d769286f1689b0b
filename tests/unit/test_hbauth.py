"""Signed heartbeats: a device of the trust domain is heard; one outside it, a tampered or a
replayed datagram is not."""
import datetime as dt
from types import SimpleNamespace

import msgpack

from node.cm.hbauth import HeartbeatAuth, ReplayGuard
from node.cm.heartbeat import decode, encode
from node.iquery.trust import Member, make_ca, make_csr, new_key, sign_csr

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def domain(names, ca_key=None):
    """Fake trust stores (key, cert, ca, members) of devices in one trust domain."""
    ca_key = ca_key or new_key()
    ca = make_ca(names[0], ca_key, NOW)
    stores = {}
    for n in names:
        key = new_key()
        stores[n] = SimpleNamespace(key=key, cert=sign_csr(make_csr(n, key), ca, ca_key, NOW), ca=ca,
                                    members=[Member(x, "") for x in names])
    return stores


def test_a_heartbeat_signed_in_the_domain_is_taken_with_its_signer():
    d = domain(["bigip1", "bigip2"])
    body = encode({"device": "bigip1", "tgs": {}})
    opened = HeartbeatAuth(d["bigip2"]).open(HeartbeatAuth(d["bigip1"]).seal(body))
    assert opened == ("bigip1", body) and decode(opened[1])["device"] == "bigip1"


def test_a_device_outside_the_trust_domain_a_stranger_and_a_tampered_body_are_refused():
    d = domain(["bigip1", "bigip2"])
    outsider = domain(["bigip1"])["bigip1"]          # same name, its own CA
    receiver = HeartbeatAuth(d["bigip2"])
    body = encode({"device": "bigip1", "tgs": {"traffic-group-1": "active"}})
    assert receiver.open(HeartbeatAuth(outsider).seal(body)) is None
    sealed = msgpack.unpackb(HeartbeatAuth(d["bigip1"]).seal(body))
    sealed["body"] = encode({"device": "bigip1", "tgs": {"traffic-group-1": "standby"}})
    assert receiver.open(msgpack.packb(sealed)) is None
    assert receiver.open(encode({"device": "bigip1", "tgs": {}})) is None      # unsigned
    # a device of the domain's CA that is no member any more
    d3 = domain(["bigip1", "bigip2", "bigip3"])
    d3["bigip2"].members = [Member("bigip2", "")]
    assert HeartbeatAuth(d3["bigip2"]).open(HeartbeatAuth(d3["bigip1"]).seal(body)) is None


def test_replays_are_refused_per_path_and_an_old_boot_never_comes_back():
    g = ReplayGuard()
    assert g.accept("bigip1", "10.1.30.11", "a", 1) and g.accept("bigip1", "10.1.20.11", "a", 1)
    assert not g.accept("bigip1", "10.1.30.11", "a", 1)
    assert g.accept("bigip1", "10.1.30.11", "a", 2)
    assert g.accept("bigip1", "10.1.30.11", "b", 1)        # a restart
    assert not g.accept("bigip1", "10.1.30.11", "a", 99)   # the old boot replayed


def test_a_peers_certificate_is_checked_once_and_every_signature_each_time(monkeypatch):
    from node.cm import hbauth
    d = domain(["bigip1", "bigip2"])
    sender, receiver = HeartbeatAuth(d["bigip1"]), HeartbeatAuth(d["bigip2"])
    loads = []
    real = hbauth.x509.load_der_x509_certificate
    monkeypatch.setattr(hbauth.x509, "load_der_x509_certificate", lambda der: loads.append(1) or real(der))
    bodies = [encode({"device": "bigip1", "seq": i}) for i in range(3)]
    assert [receiver.open(sender.seal(b)) for b in bodies] == [("bigip1", b) for b in bodies]
    assert len(loads) == 1
    sealed = msgpack.unpackb(sender.seal(bodies[0]))
    sealed["body"] = bodies[1]                          # the cached certificate does not skip the signature
    assert receiver.open(msgpack.packb(sealed)) is None
