"""LDAP StartTLS on a virtual (node/ltm/ldap.py, the shells in node/ltm/tls.py): the BER codec
against a real LDAP library's encoder and decoder (ldap3, pyasn1), the client-ldap and server-ldap
decisions by activation-mode, bad input, and both sides run over in-memory streams with real TLS."""
from __future__ import annotations

import ssl

import pytest
import trio
import trio.testing
from ldap3 import SIMPLE
from ldap3.operation.bind import bind_operation
from ldap3.operation.extended import extended_operation
from ldap3.protocol.rfc4511 import LDAPMessage, MessageID, ProtocolOp
from pyasn1.codec.ber import decoder, encoder

from node.ltm import ldap, proxy, tls
from tests.unit.test_ltm_tls import Store


def encoded(mid: int, name: str, op) -> bytes:
    """An LDAPMessage as ldap3 sends it."""
    msg = LDAPMessage()
    msg["messageID"] = MessageID(mid)
    msg["protocolOp"] = ProtocolOp().setComponentByName(name, op)
    return encoder.encode(msg)


STARTTLS = encoded(1, "extendedReq", extended_operation(ldap.STARTTLS_OID))
BIND = encoded(2, "bindRequest", bind_operation(3, SIMPLE, "cn=admin,dc=lab", "secret"))
UNBIND = bytes.fromhex("30050201034200")                       # messageID 3, unbindRequest NULL
ABANDON = bytes.fromhex("3006020104500102")                    # messageID 4, abandonRequest of 2


def decoded(data: bytes):
    msg, rest = decoder.decode(data, asn1Spec=LDAPMessage())
    assert rest == b""
    return msg


# -- the codec ----------------------------------------------------------------------------------------
def test_the_messages_a_real_client_sends_are_read_with_their_id_operation_and_oid():
    assert ldap.parse(STARTTLS) == ldap.Message(1, ldap.EXTENDED_REQUEST, ldap.STARTTLS_OID)
    assert ldap.parse(BIND) == ldap.Message(2, ldap.BIND_REQUEST)
    assert ldap.parse(UNBIND) == ldap.Message(3, ldap.UNBIND_REQUEST)
    big = encoded(70000, "bindRequest", bind_operation(3, SIMPLE, "cn=" + "x" * 300, "secret"))   # long form length
    assert ldap.parse(big) == ldap.Message(70000, ldap.BIND_REQUEST)


def test_a_message_is_framed_only_once_all_of_it_is_read():
    both = STARTTLS + BIND
    for cut in range(len(STARTTLS)):
        assert ldap.frame(both[:cut]) is None
    assert ldap.frame(both) == len(STARTTLS)
    assert ldap.frame(BIND[:2]) is None and ldap.frame(BIND) == len(BIND)


def test_the_answers_are_ldap_a_real_decoder_reads():
    ok = decoded(ldap.result(1, ldap.EXTENDED_RESPONSE, ldap.SUCCESS, oid=ldap.STARTTLS_OID))
    resp = ok["protocolOp"]["extendedResp"]
    assert (int(ok["messageID"]), str(resp["resultCode"]), str(resp["responseName"])) == (
        1, "success", ldap.STARTTLS_OID)
    refused = decoded(ldap.result(300, 1, ldap.CONFIDENTIALITY_REQUIRED, ldap.REQUIRED_TEXT))
    bind = refused["protocolOp"]["bindResponse"]
    assert (int(refused["messageID"]), int(bind["resultCode"]), str(bind["diagnosticMessage"])) == (
        300, 13, "STARTTLS required")
    assert decoded(ldap.starttls_request(1)) == decoder.decode(STARTTLS, asn1Spec=LDAPMessage())[0]
    # and they read back
    assert ldap.parse(ldap.result(5, ldap.EXTENDED_RESPONSE, ldap.UNAVAILABLE, "no")) == ldap.Message(
        5, ldap.EXTENDED_RESPONSE, None, ldap.UNAVAILABLE)


@pytest.mark.parametrize("data, why", [
    (b"\x16\x03\x01\x02\x00", "not an LDAPMessage"),                # a TLS ClientHello: ldaps on a StartTLS port
    (b"GET / HTTP/1.1\r\n", "not an LDAPMessage"),
    (b"\x30\x80\x02\x01\x01", "indefinite"),
    (b"\x30\x84\x7f\xff\xff\xff", "too large"),
])
def test_bytes_that_are_not_ldap_are_refused_as_they_arrive(data, why):
    with pytest.raises(ldap.Bad, match=why):
        ldap.frame(data)


@pytest.mark.parametrize("data", [
    bytes.fromhex("3003020101"),                   # no protocolOp
    bytes.fromhex("30050400420100"),               # no messageID
    bytes.fromhex("30060201017701ff"),             # an extended request without its name
    bytes.fromhex("300702010178020401"),           # an extended response without its resultCode
    bytes.fromhex("3005020101a000"),               # a context tag where the operation is
    bytes.fromhex("3008020101770380"),             # truncated inside
])
def test_malformed_messages_are_refused(data):
    with pytest.raises(ldap.Bad):
        ldap.parse(data)


# -- the decisions ------------------------------------------------------------------------------------
def test_client_ldap_allow_upgrades_on_starttls_and_passes_anything_else_in_clear():
    up = ldap.client_decides("allow", ldap.parse(STARTTLS))
    assert up.action == "upgrade" and ldap.parse(up.answer) == ldap.Message(
        1, ldap.EXTENDED_RESPONSE, ldap.STARTTLS_OID, ldap.SUCCESS)
    assert ldap.client_decides("allow", ldap.parse(BIND)) == ldap.Client("clear")


def test_client_ldap_require_refuses_other_operations_until_starttls():
    refused = ldap.client_decides("require", ldap.parse(BIND))
    assert refused.action == "answer"
    assert ldap.parse(refused.answer) == ldap.Message(2, 1, None, ldap.CONFIDENTIALITY_REQUIRED)
    other = ldap.parse(encoded(9, "extendedReq", extended_operation("1.3.6.1.4.1.4203.1.11.3")))   # whoami
    assert ldap.parse(ldap.client_decides("require", other).answer).code == ldap.CONFIDENTIALITY_REQUIRED
    assert ldap.client_decides("require", ldap.parse(ABANDON)) == ldap.Client("answer")   # nothing to answer
    assert ldap.client_decides("require", ldap.parse(UNBIND)) == ldap.Client("close")
    assert ldap.client_decides("require", ldap.parse(STARTTLS)).action == "upgrade"


def test_client_ldap_none_never_starts_tls():
    assert ldap.client_decides("none", ldap.parse(STARTTLS)) == ldap.Client("clear")


def test_server_ldap_goes_on_by_the_members_answer_and_its_mode():
    ok = ldap.parse(ldap.result(1, ldap.EXTENDED_RESPONSE, ldap.SUCCESS, oid=ldap.STARTTLS_OID))
    no = ldap.parse(ldap.result(1, ldap.EXTENDED_RESPONSE, ldap.PROTOCOL_ERROR))
    assert [ldap.server_decides(m, ok, 1) for m in ("allow", "require")] == ["tls", "tls"]
    assert [ldap.server_decides(m, no, 1) for m in ("allow", "require")] == ["clear", "refuse"]
    assert ldap.server_decides("allow", ldap.parse(ldap.result(2, ldap.EXTENDED_RESPONSE, 0)), 1) == "refuse"
    assert ldap.server_decides("allow", ldap.parse(ldap.result(1, 1, 0)), 1) == "refuse"   # not an extended response


# -- both sides over in-memory streams, real TLS ---------------------------------------------------------
def any_cert() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx


async def read_message(stream, buf=b""):
    while (size := ldap.frame(buf)) is None:
        buf += await stream.receive_some(65536)
    return ldap.parse(buf[:size]), buf[size:]


SERVER_CTX = tls.Contexts(Store()).client_side("/Common/p")


async def test_a_client_asking_starttls_gets_success_then_tls_on_the_same_connection():
    virtual, client = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as n:
        got = {}

        async def serve():
            got["stream"] = await tls.starttls_accept(virtual, SERVER_CTX, "require")
            got["data"] = await got["stream"].receive_some(100)
        n.start_soon(serve)
        await client.send_all(BIND)                  # before StartTLS: refused, the connection stays
        msg, _ = await read_message(client)
        assert (msg.id, msg.code) == (2, ldap.CONFIDENTIALITY_REQUIRED)
        await client.send_all(STARTTLS)
        msg, _ = await read_message(client)
        assert (msg.op, msg.code, msg.oid) == (ldap.EXTENDED_RESPONSE, ldap.SUCCESS, ldap.STARTTLS_OID)
        secure = trio.SSLStream(client, any_cert())
        await secure.do_handshake()
        await secure.send_all(BIND)
    assert isinstance(got["stream"], trio.SSLStream) and got["data"] == BIND


async def test_allow_passes_a_client_that_does_not_ask_in_clear_with_its_first_bytes():
    virtual, client = trio.testing.memory_stream_pair()
    await client.send_all(BIND + UNBIND)
    stream = await tls.starttls_accept(virtual, SERVER_CTX, "allow")
    assert isinstance(stream, proxy.Prefixed) and await stream.receive_some(1000) == BIND + UNBIND


async def test_require_closes_on_an_unbind_and_resets_on_bytes_that_are_not_ldap():
    virtual, client = trio.testing.memory_stream_pair()
    await client.send_all(UNBIND)
    with pytest.raises(proxy.Answered):
        await tls.starttls_accept(virtual, SERVER_CTX, "require")
    virtual, client = trio.testing.memory_stream_pair()
    await client.send_all(b"\x16\x03\x01\x02\x00")    # TLS from the first byte: not what the port speaks
    with pytest.raises(ldap.Bad):
        await tls.starttls_accept(virtual, SERVER_CTX, "require")


async def member(stream, answer: int, got: dict) -> None:
    """An LDAP server: answers StartTLS with `answer`, then TLS on success, and records what follows."""
    msg, _ = await read_message(stream)
    got["asked"] = msg
    await stream.send_all(ldap.result(msg.id, ldap.EXTENDED_RESPONSE, answer, oid=ldap.STARTTLS_OID))
    if answer == ldap.SUCCESS:
        stream = trio.SSLStream(stream, SERVER_CTX, server_side=True)
        await stream.do_handshake()
    got["data"] = await stream.receive_some(100)


@pytest.mark.parametrize("mode, answer, secure", [("allow", ldap.SUCCESS, True), ("require", ldap.SUCCESS, True),
                                                  ("allow", ldap.UNAVAILABLE, False)])
async def test_the_virtual_sends_starttls_to_the_member_before_tls(mode, answer, secure):
    virtual, server = trio.testing.memory_stream_pair()
    got = {}
    async with trio.open_nursery() as n:
        n.start_soon(member, server, answer, got)
        stream = await tls.starttls_wrap(virtual, any_cert(), mode)
        await stream.send_all(BIND)
    assert got["asked"] == ldap.Message(tls.STARTTLS_ID, ldap.EXTENDED_REQUEST, ldap.STARTTLS_OID)
    assert isinstance(stream, trio.SSLStream) is secure and got["data"] == BIND


async def test_require_ends_the_connection_when_the_member_refuses_starttls():
    virtual, server = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as n:
        n.start_soon(member, server, ldap.UNAVAILABLE, {})
        with pytest.raises(trio.BrokenResourceError, match="refused StartTLS"):
            await tls.starttls_wrap(virtual, any_cert(), "require")
        n.cancel_scope.cancel()


async def test_a_member_answering_garbage_or_nothing_in_time_ends_the_connection(autojump_clock):
    virtual, server = trio.testing.memory_stream_pair()
    await server.send_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    with pytest.raises(trio.BrokenResourceError, match="not an LDAPMessage"):
        await tls.starttls_wrap(virtual, any_cert(), "allow")
    virtual, server = trio.testing.memory_stream_pair()
    with pytest.raises(trio.TooSlowError):
        await tls.starttls_wrap(virtual, any_cert(), "allow", timeout=10)
