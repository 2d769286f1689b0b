"""Certificates, CSRs, the join and the peer checks, against a node clock we set by hand."""
import datetime as dt
import json
import ssl

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from node.clock import NodeClock
from node.iquery.trust import (Member, TrustError, TrustStore, check_peer, make_ca, make_csr,
                               new_key, sign_csr)

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.timezone.utc)


def clock_at(when: dt.datetime) -> NodeClock:
    return NodeClock(wall=lambda: when.timestamp())


@pytest.fixture
def domain():
    ca_key = new_key()
    ca = make_ca("bigip1", ca_key, NOW)
    key = new_key()
    cert = sign_csr(make_csr("bigip2", key), ca, ca_key, NOW, days=30)
    return ca, ca_key, cert


def test_a_certificate_from_the_domain_ca_passes(domain):
    ca, _, cert = domain
    assert check_peer(cert, ca, NOW, "bigip2").ok


def test_a_certificate_from_another_ca_is_untrusted(domain):
    _, _, cert = domain
    other = make_ca("stranger", new_key(), NOW)
    check = check_peer(cert, other, NOW)
    assert (check.ok, check.code) == (False, "untrusted")
    assert "not issued by this trust domain's CA" in check.reason


def test_a_clock_past_the_validity_sees_an_expired_certificate_and_says_the_clock(domain):
    ca, _, cert = domain
    later = NOW + dt.timedelta(days=400)
    check = check_peer(cert, ca, later)
    assert check.code == "expired"
    assert "node clock 2027-12-26 12:00:00 UTC" in check.reason


def test_a_clock_behind_the_issue_time_sees_a_certificate_not_yet_valid(domain):
    ca, _, cert = domain
    check = check_peer(cert, ca, NOW - dt.timedelta(hours=2))
    assert check.code == "not-yet-valid"


def test_a_small_clock_difference_is_tolerated(domain):
    ca, _, cert = domain
    assert check_peer(cert, ca, NOW - dt.timedelta(minutes=2)).ok


def test_a_certificate_for_another_device_is_a_name_mismatch(domain):
    ca, _, cert = domain
    assert check_peer(cert, ca, NOW, "bigip3").code == "name-mismatch"


def test_a_new_device_is_a_trust_domain_of_one_and_its_own_authority(tmp_path):
    store = TrustStore(tmp_path, "bigip1", "10.1.1.11", clock_at(NOW))
    assert store.is_authority
    assert [m.name for m in store.members] == ["bigip1"]
    assert store.check(store.cert.public_bytes(Encoding.DER), "bigip1").ok


def test_join_puts_a_device_in_the_authoritys_domain_and_survives_a_restart(tmp_path):
    a, b = _two(tmp_path)
    b.join(a.sign(b.csr()), a.state.ca, None, MEMBERS, 1)
    assert not b.is_authority  # subordinate: no CA key
    again = TrustStore(tmp_path / "b", "bigip2", "10.1.1.12", clock_at(NOW))
    assert again.state.ca == a.state.ca and again.state.generation == 1
    assert [m.name for m in again.members] == ["bigip1", "bigip2"]
    assert a.check(again.cert.public_bytes(Encoding.DER), "bigip2").ok


def _two(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    return (TrustStore(tmp_path / "a", "bigip1", "10.1.1.11", clock_at(NOW)),
            TrustStore(tmp_path / "b", "bigip2", "10.1.1.12", clock_at(NOW)))


MEMBERS = [{"name": "bigip1", "address": "10.1.1.11", "authority": True},
           {"name": "bigip2", "address": "10.1.1.12", "authority": True}]


def test_a_refused_join_changes_nothing(tmp_path):
    a, b = _two(tmp_path)
    before = (tmp_path / "b" / "trust.json").read_bytes()
    stranger = TrustStore(tmp_path / "a", "bigip9", "10.1.1.19", clock_at(NOW))
    with pytest.raises(TrustError, match="not for this device's key"):
        b.join(a.sign(stranger.csr()), a.state.ca, None, MEMBERS, 1)
    with pytest.raises(TrustError, match="CA key does not match"):
        b.join(a.sign(b.csr()), a.state.ca, b.state.ca_key, MEMBERS, 1)
    with pytest.raises(TrustError, match="malformed"):
        b.join(b"junk", a.state.ca, None, MEMBERS, 1)
    assert (tmp_path / "b" / "trust.json").read_bytes() == before


def test_a_subordinate_cannot_sign(tmp_path):
    a, b = _two(tmp_path)
    b.join(a.sign(b.csr()), a.state.ca, None, MEMBERS, 1)
    with pytest.raises(TrustError, match="not a certificate signing authority"):
        b.sign(a.csr())


def test_a_peer_authority_gets_the_ca_key_and_can_sign(tmp_path):
    a, b = _two(tmp_path)
    b.join(a.sign(b.csr()), a.state.ca, a.state.ca_key, MEMBERS, 1)
    assert b.is_authority and b.state.ca == a.state.ca


def test_only_a_newer_member_list_is_taken(tmp_path):
    a, b = _two(tmp_path)
    b.join(a.sign(b.csr()), a.state.ca, None, MEMBERS, 5)
    three = [Member(**m) for m in MEMBERS] + [Member("bigip3", "10.1.1.13")]
    assert not b.update_members(three, 5)
    assert b.update_members(three, 6)
    assert [m.name for m in b.members] == ["bigip1", "bigip2", "bigip3"]
    assert not b.update_members([Member("bigip1", "10.1.1.11")], 7)  # a list without us


def test_reset_makes_a_new_domain_of_one(tmp_path):
    a, b = _two(tmp_path)
    b.join(a.sign(b.csr()), a.state.ca, None, MEMBERS, 1)
    b.reset()
    assert b.is_authority and b.state.ca != a.state.ca and [m.name for m in b.members] == ["bigip2"]
    assert json.loads((tmp_path / "b" / "trust.json").read_text())["members"][0]["name"] == "bigip2"


def test_removing_a_member_drops_it_with_a_newer_generation(tmp_path):
    a, b = _two(tmp_path)
    a.add_member(Member("bigip2", "10.1.1.12", True))
    before = a.state.generation
    with pytest.raises(TrustError, match="reset its device trust instead"):
        a.remove_member("bigip1")
    with pytest.raises(TrustError, match="not in the trust domain"):
        a.remove_member("bigip9")
    assert a.state.generation == before
    a.remove_member("bigip2")
    assert [m.name for m in a.members] == ["bigip1"] and a.state.generation == before + 1


def test_one_client_context_serves_every_dial_until_the_certificate_changes(tmp_path):
    store = TrustStore(tmp_path, "bigip1", "10.1.1.11", clock_at(NOW))
    ctx = store.client_context()
    store.add_member(Member("bigip2", "10.1.1.12"))   # the domain grows: the same identity dials it
    assert store.client_context() is ctx
    store.renew()                                    # a new certificate is presented from now on
    renewed = store.client_context()
    assert renewed is not ctx and renewed.verify_mode == ssl.CERT_NONE
    assert store.client_context() is renewed


def test_a_rechecked_certificate_is_verified_once_and_its_times_every_time(tmp_path, monkeypatch):
    from cryptography import x509
    from node.iquery import trust
    a, b = _two(tmp_path)
    b.join(a.sign(b.csr()), a.state.ca, None, MEMBERS, 1)
    der = x509.load_pem_x509_certificate(b.state.cert).public_bytes(Encoding.DER)
    verified = []
    real = trust.issued_by
    monkeypatch.setattr(trust, "issued_by", lambda cert, ca: verified.append(1) or real(cert, ca))
    trust.verified.cache_clear()
    assert a.check(der, "bigip2").ok and a.check(der, "bigip2").ok
    assert len(verified) == 1
    a.clock = clock_at(NOW + dt.timedelta(days=400))   # the clock moved: the cached signature does not hide it
    assert a.check(der, "bigip2").code == "expired"
    (tmp_path / "c").mkdir()
    stranger = TrustStore(tmp_path / "c", "bigip9", "10.1.1.19", clock_at(NOW))
    assert stranger.check(der).code == "untrusted"   # another CA: verified again, and refused
    assert len(verified) == 2
