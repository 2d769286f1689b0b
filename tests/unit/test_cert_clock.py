"""Certificates against the node clock over real loopback TLS: a skewed clock closes open 4353
channels with the reason, restoring it heals them; short-lived certificates expire; renewal
keeps trust."""
import datetime as dt

import pytest

from node.iquery.trust import DEVICE_DAYS, TrustError

from test_iquery_channel import Node, eventually, free_port


@pytest.fixture
async def pair(tmp_path, nursery):
    port = free_port()
    a = Node(tmp_path, "bigip1", "127.0.0.1", port)
    b = Node(tmp_path, "bigip2", "127.0.0.2", port)
    await nursery.start(a.iq.run)
    await nursery.start(b.iq.run)
    await a.join.add_device("127.0.0.2", "admin", "admin")
    await eventually(lambda: all(n.iq.links.get(p) and n.iq.links[p].state == "connected"
                                 for n, p in ((a, "bigip2"), (b, "bigip1"))))
    return a, b


def test_device_certificates_last_a_year_so_400_days_ahead_is_expired():
    assert DEVICE_DAYS == 365


async def test_a_clock_400_days_ahead_closes_the_channels_with_the_reason_and_heals(pair):
    a, b = pair
    b.store.clock.set_offset(400 * 86400)
    b.iq.recheck()
    await eventually(lambda: b.iq.links["bigip1"].code == "expired")
    assert "expired" in b.iq.links["bigip1"].reason and "node clock 20" in b.iq.links["bigip1"].reason
    await eventually(lambda: a.iq.links["bigip2"].state == "disconnected")
    b.store.clock.set_offset(0)
    await eventually(lambda: a.iq.links["bigip2"].state == "connected" and b.iq.links["bigip1"].state == "connected",
                     timeout=20)


async def test_a_clock_two_hours_behind_sees_certificates_not_yet_valid(pair):
    a, b = pair
    a.store.clock.set_offset(-7200)
    a.iq.recheck()
    await eventually(lambda: a.iq.links["bigip2"].code == "not-yet-valid")
    assert "not yet valid" in a.iq.links["bigip2"].reason


async def test_renewal_keeps_trust_and_a_short_lived_certificate_expires(pair):
    a, b = pair
    old = a.store.summary()["certificate"]["fingerprint"]
    a.store.renew(60)
    a.iq.restart()
    await eventually(lambda: b.iq.links["bigip1"].state == "connected"
                     and b.iq.links["bigip1"].certificate["fingerprint"] != old)
    not_after = dt.datetime.fromisoformat(a.store.summary()["certificate"]["not_after"])
    assert dt.timedelta(seconds=50) < not_after - a.store.clock.now() <= dt.timedelta(seconds=60)
    b.store.clock.set_offset(120)       # b's clock passes a's short validity
    b.iq.recheck()
    await eventually(lambda: b.iq.links["bigip1"].code == "expired")


def test_a_subordinate_cannot_renew_its_own_certificate(tmp_path):
    n = Node(tmp_path, "bigip3", "127.0.0.3", free_port())
    n.store.state.ca_key = None
    n.store._load()
    with pytest.raises(TrustError, match="no trust domain CA key"):
        n.store.renew()
