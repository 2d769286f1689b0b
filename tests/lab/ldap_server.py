"""A test's own LDAP server inside the lab (a member behind an LDAP virtual): StartTLS (TLS with
CERT and KEY), simple binds (any password), and every search answered with one entry cn=NAME whose
description says whether this connection is TLS ("tls") or not ("clear"); unbind closes.

    python ldap_server.py NAME PORT CERT KEY
"""
import socket
import ssl
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))   # the repository: node.ltm.ldap's BER

from node.ltm import ldap  # noqa: E402

UNWILLING = 53


def entry(mid: int, name: str, secure: bool) -> bytes:
    attribute = ldap.tlv(0x30, ldap.tlv(0x04, b"description") + ldap.tlv(0x31, ldap.tlv(0x04, b"tls" if secure else b"clear")))
    return ldap.message(mid, ldap.tlv(0x60 | ldap.SEARCH_ENTRY, ldap.tlv(0x04, f"cn={name}".encode()) + ldap.tlv(0x30, attribute)))


def serve(conn, name: str, ctx: ssl.SSLContext) -> None:
    buf, secure = b"", False
    with conn:
        while True:
            while (size := ldap.frame(buf)) is None:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            msg, buf = ldap.parse(buf[:size]), buf[size:]
            if msg.op == ldap.UNBIND_REQUEST:
                return
            if msg.op == ldap.EXTENDED_REQUEST and msg.oid == ldap.STARTTLS_OID and not secure:
                conn.sendall(ldap.result(msg.id, ldap.EXTENDED_RESPONSE, ldap.SUCCESS, oid=ldap.STARTTLS_OID))
                conn, secure = ctx.wrap_socket(conn, server_side=True), True
            elif msg.op == ldap.BIND_REQUEST:
                conn.sendall(ldap.result(msg.id, 1, ldap.SUCCESS))
            elif msg.op == ldap.SEARCH_REQUEST:
                conn.sendall(entry(msg.id, name, secure) + ldap.result(msg.id, ldap.SEARCH_DONE, ldap.SUCCESS))
            elif msg.op in ldap.RESPONSE_OF:
                conn.sendall(ldap.result(msg.id, ldap.RESPONSE_OF[msg.op], UNWILLING, "not in this test's server"))


def main() -> None:
    name, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("", port))
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, name, ctx), daemon=True).start()


if __name__ == "__main__":
    main()
