"""client-ssl and server-ssl: TLS contexts (Python's ssl module) from a profile's certificate and
key, as the store holds them (node/config/ssl_files.py); trio's SSLStream does the TLS.

A client-ssl profile terminates TLS on the virtual with its certificate and key; a server-ssl
profile re-encrypts toward the member (peer-cert-mode ignore, a BIG-IP's default: the member's
certificate is not verified), presenting its own certificate only when it has one.
"""
from __future__ import annotations

import os
import ssl
import tempfile

import trio

from ..config.sealed import unseal
from ..config.ssl_files import pairs

HANDSHAKE_TIMEOUT = 10


def _load(ctx: ssl.SSLContext, cert_pem: str, key_pem: str, passphrase: str | None) -> None:
    """load_cert_chain reads files only: the PEMs (the key as stored, encrypted if it has a
    passphrase: OpenSSL decrypts it in memory) go through a private temporary directory."""
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
        for path, pem in ((cert, cert_pem), (key, key_pem)):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(pem)
        ctx.load_cert_chain(cert, key, password=passphrase)


class Contexts:
    """SSL contexts by profile, rebuilt when the profile or its files change."""

    def __init__(self, store):
        self.store = store
        self.cache: dict[tuple, ssl.SSLContext] = {}

    def _files(self, profile: dict) -> list[tuple[str, str, str | None]]:
        out = []
        for cert, key in pairs(profile):
            c = self.store.get("sys file ssl-cert", cert) or {}
            k = self.store.get("sys file ssl-key", key) or {}
            if c.get("pem") and k.get("pem"):
                out.append((c["pem"], k["pem"], unseal(k.get("passphrase"))))
        return out

    def _context(self, kind: str, path: str) -> ssl.SSLContext | None:
        profile = self.store.get(f"ltm profile {kind}", path)
        if profile is None:
            return None
        files = self._files(profile)
        key = (kind, path, tuple(files), profile.get("ciphers", "DEFAULT"))
        ctx = self.cache.get(key)
        if ctx is None:
            if kind == "client-ssl":
                if not files:
                    return None
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            else:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE   # peer-cert-mode ignore
            ciphers = profile.get("ciphers", "DEFAULT")
            try:
                ctx.set_ciphers(ciphers)
            except ssl.SSLError:
                ctx.set_ciphers("DEFAULT")   # F5 cipher strings that OpenSSL does not read
            for cert_pem, key_pem, passphrase in files:
                _load(ctx, cert_pem, key_pem, passphrase)
            self.cache = {k: v for k, v in self.cache.items() if k[:2] != key[:2]}
            self.cache[key] = ctx
        return ctx

    def client_side(self, path: str) -> ssl.SSLContext | None:
        return self._context("client-ssl", path)

    def server_side(self, path: str) -> ssl.SSLContext | None:
        return self._context("server-ssl", path)


async def accept(stream, ctx: ssl.SSLContext) -> trio.SSLStream:
    """The client's TLS handshake on the virtual."""
    tls = trio.SSLStream(stream, ctx, server_side=True, https_compatible=True)
    with trio.fail_after(HANDSHAKE_TIMEOUT):
        await tls.do_handshake()
    return tls


async def wrap(stream, ctx: ssl.SSLContext, server_name: str | None = None) -> trio.SSLStream:
    """TLS toward a member (server-ssl)."""
    name = server_name if server_name not in (None, "none") else None
    tls = trio.SSLStream(stream, ctx, server_hostname=name, https_compatible=True)
    with trio.fail_after(HANDSHAKE_TIMEOUT):
        await tls.do_handshake()
    return tls

