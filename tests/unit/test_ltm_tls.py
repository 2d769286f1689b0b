"""The client-ssl settings that act on the handshake (node/ltm/tls.py): the TLS versions
`options` leaves on, sni-require, handshake-timeout; handshakes run in memory."""
from __future__ import annotations

import ssl

import pytest

from node.ltm import tls
from tests.unit.test_as3_tls import CERT, KEY


class Store:
    def __init__(self, **profile):
        self.objects = {("ltm profile client-ssl", "/Common/p"): {"cert": "/Common/c.crt", "key": "/Common/c.key",
                                                                  **profile},
                        ("sys file ssl-cert", "/Common/c.crt"): {"pem": CERT},
                        ("sys file ssl-key", "/Common/c.key"): {"pem": KEY}}

    def get(self, type_, path):
        return self.objects.get((type_, path))


def handshake(server: ssl.SSLContext, sni: str | None = None, version=None, client=None) -> str:
    """The version both sides agree on, or raises ssl.SSLError; `client`: a context of the test's
    (one that verifies), else one that takes any certificate."""
    if client is None:
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    if version:
        client.minimum_version = client.maximum_version = version
    bios = [ssl.MemoryBIO() for _ in range(4)]
    c = client.wrap_bio(bios[0], bios[1], server_hostname=sni)
    s = server.wrap_bio(bios[2], bios[3], server_side=True)
    for _ in range(10):
        done = 0
        for side, out, into in ((c, bios[1], bios[2]), (s, bios[3], bios[0])):
            try:
                side.do_handshake()
                done += 1
            except ssl.SSLWantReadError:
                pass
            into.write(out.read())
        if done == 2:
            return c.version()
    raise AssertionError("no handshake")


def test_the_tls_versions_options_leave_on_are_the_ones_a_client_gets():
    ctx = tls.Contexts(Store(options=["no-tlsv1.3"])).client_side("/Common/p")
    assert handshake(ctx) == "TLSv1.2"
    with pytest.raises(ssl.SSLError):
        handshake(ctx, version=ssl.TLSVersion.TLSv1_3)
    assert handshake(tls.Contexts(Store(options=[])).client_side("/Common/p")) == "TLSv1.3"


def test_sni_require_refuses_a_client_that_names_no_server():
    ctx = tls.Contexts(Store(**{"sni-require": "true"})).client_side("/Common/p")
    assert handshake(ctx, sni="shop.example")
    with pytest.raises(ssl.SSLError):
        handshake(ctx)


def test_handshake_timeout_in_seconds_or_indefinite():
    assert tls.handshake_timeout({"handshake-timeout": "5"}) == 5
    assert tls.handshake_timeout({"handshake-timeout": "indefinite"}) == float("inf")
    assert tls.handshake_timeout({}) == tls.HANDSHAKE_TIMEOUT
