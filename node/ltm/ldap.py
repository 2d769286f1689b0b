"""LDAP's StartTLS on a virtual (F5's client-ldap and server-ldap profiles), sans-IO: the BER of
LDAP messages (RFC 4511) as far as STARTTLS needs it, and what each side does with a message.

client-ldap (the virtual's client-ssl profile is not active until the client asks): `allow` answers
the client's StartTLS extended request (OID 1.3.6.1.4.1.1466.20037) with success and then does the
TLS handshake, and passes a client that does not ask in clear; `require` answers any other
operation first with confidentialityRequired; `none` never activates TLS.
server-ldap: the virtual sends StartTLS to the member before TLS (server-ssl); `allow` goes on in
clear when the member refuses, `require` ends the connection.
"""
from __future__ import annotations

from dataclasses import dataclass

STARTTLS_OID = "1.3.6.1.4.1.1466.20037"
MAX_MESSAGE = 1 << 20    # a message before TLS larger than this is not LDAP the proxy reads
MODES = ("allow", "none", "require")

# protocolOp: [APPLICATION n]
BIND_REQUEST, UNBIND_REQUEST, SEARCH_REQUEST, SEARCH_ENTRY, SEARCH_DONE = 0, 2, 3, 4, 5
ABANDON_REQUEST, EXTENDED_REQUEST, EXTENDED_RESPONSE = 16, 23, 24
# a request -> its response (unbind and abandon have none)
RESPONSE_OF = {0: 1, 3: 5, 6: 7, 8: 9, 10: 11, 12: 13, 14: 15, 23: 24}
# resultCode
SUCCESS, PROTOCOL_ERROR, CONFIDENTIALITY_REQUIRED, UNAVAILABLE = 0, 2, 13, 52
REQUIRED_TEXT = "STARTTLS required"


class Bad(ValueError):
    """Bytes that are not an LDAP message."""


@dataclass(frozen=True)
class Message:
    id: int
    op: int                    # the protocolOp's application tag number
    oid: str | None = None     # an extended request's requestName, an extended response's responseName
    code: int | None = None    # a response's resultCode


# -- BER ---------------------------------------------------------------------------------------------
def _length(data: bytes, at: int) -> tuple[int, int] | None:
    """(content length, where the content starts) of the element whose length octets start at `at`;
    None if the bytes end first."""
    if at >= len(data):
        return None
    first = data[at]
    if first < 0x80:
        return first, at + 1
    n = first & 0x7F
    if n == 0 or n > 4:
        raise Bad("indefinite or oversized BER length")
    if at + 1 + n > len(data):
        return None
    return int.from_bytes(data[at + 1:at + 1 + n], "big"), at + 1 + n


def _element(data: bytes, at: int) -> tuple[int, bytes, int]:
    """(tag, content, where the next element starts) of a whole element at `at`."""
    got = _length(data, at + 1) if at < len(data) else None
    if got is None or got[1] + got[0] > len(data):
        raise Bad("truncated BER element")
    size, start = got
    return data[at], data[start:start + size], start + size


def frame(buf: bytes) -> int | None:
    """The size of the whole LDAP message at the start of `buf`, None while it is incomplete."""
    if not buf:
        return None
    if buf[0] != 0x30:
        raise Bad("not an LDAPMessage")
    got = _length(buf, 1)
    if got is None:
        return None
    size, start = got
    if start + size > MAX_MESSAGE:
        raise Bad("LDAP message too large")
    return start + size if len(buf) >= start + size else None


def parse(data: bytes) -> Message:
    """One whole LDAPMessage: its id, operation, and the OID or result code STARTTLS looks at."""
    tag, body, _ = _element(data, 0)
    if tag != 0x30:
        raise Bad("not an LDAPMessage")
    tag, mid, at = _element(body, 0)
    if tag != 0x02 or not mid:
        raise Bad("no messageID")
    if at >= len(body):
        raise Bad("no protocolOp")
    tag, op_body, _ = _element(body, at)
    if tag & 0xC0 != 0x40:
        raise Bad("protocolOp is not an application tag")
    op, oid, code = tag & 0x1F, None, None
    constructed = bool(tag & 0x20)
    if constructed and op in RESPONSE_OF.values() and op_body:    # LDAPResult's resultCode first
        t, value, at = _element(op_body, 0)
        if t != 0x0A:
            raise Bad("no resultCode")
        code = int.from_bytes(value, "big")
        if op == EXTENDED_RESPONSE:    # matchedDN, diagnosticMessage, [3] referral, then [10] responseName
            while at < len(op_body):
                t, value, at = _element(op_body, at)
                if t == 0x8A:
                    oid = value.decode("ascii", "replace")
    elif constructed and op == EXTENDED_REQUEST:
        t, value, _ = _element(op_body, 0) if op_body else (None, b"", 0)
        if t != 0x80:
            raise Bad("extended request without a requestName")
        oid = value.decode("ascii", "replace")
    return Message(int.from_bytes(mid, "big", signed=True), op, oid, code)


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def integer(tag: int, value: int) -> bytes:
    return tlv(tag, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def message(mid: int, op: bytes) -> bytes:
    return tlv(0x30, integer(0x02, mid) + op)


def result(mid: int, op: int, code: int, text: str = "", oid: str | None = None) -> bytes:
    """A response of LDAPResult's shape (an extended one with its responseName)."""
    body = integer(0x0A, code) + tlv(0x04, b"") + tlv(0x04, text.encode())
    if oid is not None:
        body += tlv(0x8A, oid.encode())
    return message(mid, tlv(0x60 | op, body))


def starttls_request(mid: int) -> bytes:
    return message(mid, tlv(0x60 | EXTENDED_REQUEST, tlv(0x80, STARTTLS_OID.encode())))


# -- what each side does -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Client:
    """What the virtual does with a client's message before TLS: `upgrade` (send `answer`, then the
    TLS handshake), `answer` (send it, read the next message), `clear` (no TLS: the message and
    all after it go to the member as they are), `close` (the client unbinds)."""
    action: str
    answer: bytes = b""


def client_decides(mode: str, msg: Message) -> Client:
    if mode == "none":
        return Client("clear")
    if msg.op == EXTENDED_REQUEST and msg.oid == STARTTLS_OID:
        return Client("upgrade", result(msg.id, EXTENDED_RESPONSE, SUCCESS, oid=STARTTLS_OID))
    if mode == "allow":
        return Client("clear")
    if msg.op == UNBIND_REQUEST:
        return Client("close")
    if msg.op not in RESPONSE_OF:     # abandon: nothing to answer
        return Client("answer")
    return Client("answer", result(msg.id, RESPONSE_OF[msg.op], CONFIDENTIALITY_REQUIRED, REQUIRED_TEXT))


def server_decides(mode: str, msg: Message, mid: int) -> str:
    """The member's answer to the virtual's StartTLS: `tls` (its success), `clear` (refused, allow),
    `refuse` (refused, require; or an answer that is not to the StartTLS)."""
    if msg.id != mid or msg.op != EXTENDED_RESPONSE:
        return "refuse"
    if msg.code == SUCCESS:
        return "tls"
    return "clear" if mode == "allow" else "refuse"
