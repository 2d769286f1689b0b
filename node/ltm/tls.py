"""client-ssl and server-ssl: TLS contexts (Python's ssl module) from a profile's certificate and
key, as the store holds them (node/config/ssl_files.py); trio's SSLStream does the TLS.

A client-ssl profile terminates TLS on the virtual with its certificate and key; a server-ssl
profile re-encrypts toward the member (peer-cert-mode ignore, a BIG-IP's default: the member's
certificate is not verified), presenting its own certificate only when it has one. Beside them a
client-ldap (server-ldap) profile starts TLS only after LDAP's StartTLS (starttls_accept, starttls_wrap).
"""
from __future__ import annotations

import datetime
import os
import ssl
import tempfile
from collections import OrderedDict

import trio

from ..config import ssl_files
from ..config.sealed import unseal
from ..config.ssl_files import pairs
from . import forge, ldap, proxy

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


# the profile settings a context is made from (the rest are stored only)
ACTING = ("ciphers", "options", "renegotiation", "sni-require")
VERSIONS = ((ssl.TLSVersion.TLSv1, "no-tlsv1"), (ssl.TLSVersion.TLSv1_1, "no-tlsv1.1"),
            (ssl.TLSVersion.TLSv1_2, "no-tlsv1.2"), (ssl.TLSVersion.TLSv1_3, "no-tlsv1.3"))


def _settings(ctx: ssl.SSLContext, profile: dict, kind: str) -> None:
    """The TLS versions `options` leaves on (OpenSSL's own floor still applies), renegotiation, and
    for a client-ssl profile with sni-require a handshake without SNI refused."""
    options = set(profile.get("options") or ())
    on = [v for v, word in VERSIONS if word not in options]
    if not on:    # every version off: no handshake succeeds
        ctx.minimum_version, ctx.maximum_version = ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2
        return
    if on[0] >= ssl.TLSVersion.TLSv1_2:   # below that, OpenSSL's floor (TLS 1.2) stands
        ctx.minimum_version = on[0]
    ctx.maximum_version = max(on[-1], ssl.TLSVersion.TLSv1_2)
    if profile.get("renegotiation") == "disabled":
        ctx.options |= ssl.OP_NO_RENEGOTIATION
    if kind == "client-ssl" and profile.get("sni-require") == "true":
        def refuse(_sock, name, _ctx):
            return None if name else ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        ctx.sni_callback = refuse


def handshake_timeout(profile: dict) -> float:
    """The profile's handshake-timeout in seconds (indefinite: none)."""
    value = str(profile.get("handshake-timeout", HANDSHAKE_TIMEOUT))
    return float("inf") if value in ("indefinite", "4294967295") else float(value)


class Contexts:
    """SSL contexts by profile, rebuilt when the profile or its files change."""

    def __init__(self, store):
        self.store = store
        self.cache: dict[tuple, ssl.SSLContext] = {}
        self.forger = forge.Forger()                      # SSL forward proxy: forged certificates
        self.forged_cache: OrderedDict[tuple, ssl.SSLContext] = OrderedDict()
        self.ca_keys: dict[tuple, object] = {}

    def _files(self, profile: dict) -> list[tuple[str, str, str | None]]:
        out = []
        for cert, key in pairs(profile):
            c = self.store.get("sys file ssl-cert", cert) or {}
            k = self.store.get("sys file ssl-key", key) or {}
            if c.get("pem") and k.get("pem"):
                out.append((c["pem"], k["pem"], unseal(k.get("passphrase"))))
        return out

    def _context(self, kind: str, path: str, alpn: tuple[str, ...] = ()) -> ssl.SSLContext | None:
        """`alpn`: the protocols the client side offers by ALPN (an http2 profile's h2), a context of its own."""
        profile = self.store.get(f"ltm profile {kind}", path)
        if profile is None:
            return None
        files = self._files(profile)
        key = (kind, path, alpn, tuple(files), *(str(profile.get(f)) for f in ACTING))
        ctx = self.cache.get(key)
        if ctx is None:
            if kind == "client-ssl" and not files:
                return None
            ctx = self._new(kind, profile)
            if kind == "server-ssl":
                ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE   # peer-cert-mode ignore
            for cert_pem, key_pem, passphrase in files:
                _load(ctx, cert_pem, key_pem, passphrase)
            _settings(ctx, profile, kind)
            if alpn:
                ctx.set_alpn_protocols(list(alpn))
            self.cache = {k: v for k, v in self.cache.items() if k[:3] != key[:3]}
            self.cache[key] = ctx
        return ctx

    def _new(self, kind: str, profile: dict) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if kind == "client-ssl" else ssl.PROTOCOL_TLS_CLIENT)
        try:
            ctx.set_ciphers(profile.get("ciphers", "DEFAULT"))
        except ssl.SSLError:
            ctx.set_ciphers("DEFAULT")   # F5 cipher strings that OpenSSL does not read
        return ctx

    def forged(self, path: str, server_der: bytes) -> ssl.SSLContext:
        """SSL forward proxy: a context presenting the certificate forged for this server's
        (node/ltm/forge.py), signed by the client-ssl profile's CA; ValueError if the CA is missing."""
        profile = self.store.get("ltm profile client-ssl", path) or {}
        ca = ssl_files.proxy_ca(profile)
        c = self.store.get(ssl_files.CERT, ca[0]) if ca else None
        k = self.store.get(ssl_files.KEY, ca[1]) if ca else None
        if not (c and k and c.get("pem") and k.get("pem")):
            raise ValueError(f"{path}: no SSL forward proxy CA")
        passphrase = unseal(k.get("passphrase")) or unseal(profile.get("proxy-ca-passphrase"))
        ca_key = self.ca_keys.get((k["pem"], passphrase))
        if ca_key is None:
            ca_key = self.ca_keys[(k["pem"], passphrase)] = ssl_files.private_key(k["pem"], passphrase)
        pem = self.forger.certificate(server_der, c["pem"], ca_key, int(profile.get("cert-lifespan", 30)),
                                      datetime.datetime.now(datetime.timezone.utc))
        key = (path, pem, *(str(profile.get(f)) for f in ACTING))
        ctx = self.forged_cache.get(key)
        if ctx is None:
            ctx = self._new("client-ssl", profile)
            _load(ctx, pem, self.forger.key_pem(c["pem"]), None)
            _settings(ctx, profile, "client-ssl")
            self.forged_cache[key] = ctx
            while len(self.forged_cache) > 256:
                self.forged_cache.popitem(last=False)
        else:
            self.forged_cache.move_to_end(key)
        return ctx

    def client_side(self, path: str, alpn: tuple[str, ...] = ()) -> ssl.SSLContext | None:
        return self._context("client-ssl", path, alpn)

    def server_side(self, path: str) -> ssl.SSLContext | None:
        return self._context("server-ssl", path)


async def accept(stream, ctx: ssl.SSLContext, timeout: float = HANDSHAKE_TIMEOUT) -> trio.SSLStream:
    """The client's TLS handshake on the virtual, within the profile's handshake-timeout."""
    tls = trio.SSLStream(stream, ctx, server_side=True, https_compatible=True)
    with trio.fail_after(timeout):
        await tls.do_handshake()
    return tls


async def wrap(stream, ctx: ssl.SSLContext, server_name: str | None = None,
               timeout: float = HANDSHAKE_TIMEOUT) -> trio.SSLStream:
    """TLS toward a member (server-ssl), within the profile's handshake-timeout."""
    name = server_name if server_name not in (None, "none") else None
    tls = trio.SSLStream(stream, ctx, server_hostname=name, https_compatible=True)
    with trio.fail_after(timeout):
        await tls.do_handshake()
    return tls



# -- LDAP StartTLS (client-ldap, server-ldap: node/ltm/ldap.py decides) ----------------------------------
STARTTLS_ID = 1   # the messageID of the StartTLS the virtual sends a member


async def _ldap_message(stream, buf: bytes) -> tuple[ldap.Message, bytes, bytes]:
    """The next LDAP message from `stream` after the `buf` already read: (message, its bytes, what follows)."""
    while (size := ldap.frame(buf)) is None:
        chunk = await stream.receive_some(proxy.CHUNK)
        if not chunk:
            raise trio.BrokenResourceError("closed before StartTLS")
        buf += chunk
    return ldap.parse(buf[:size]), buf[:size], buf[size:]


def _with(stream, first: bytes):
    return proxy.Prefixed(stream, first) if first else stream


async def starttls_accept(stream, ctx: ssl.SSLContext, mode: str, timeout: float = HANDSHAKE_TIMEOUT):
    """client-ldap: the client's messages until it asks for StartTLS (answered, then its TLS
    handshake) or, allow, sends another (then it goes on in clear: those bytes first); require
    answers the others confidentialityRequired. -> the client's stream, TLS or clear."""
    buf = b""
    while True:
        msg, raw, buf = await _ldap_message(stream, buf)
        decided = ldap.client_decides(mode, msg)
        if decided.action == "clear":
            return proxy.Prefixed(stream, raw + buf)
        if decided.action == "close":
            raise proxy.Answered
        if decided.answer:
            await stream.send_all(decided.answer)
        if decided.action == "upgrade":
            return await accept(_with(stream, buf), ctx, timeout)


async def starttls_wrap(stream, ctx: ssl.SSLContext, mode: str, server_name: str | None = None,
                        timeout: float = HANDSHAKE_TIMEOUT):
    """server-ldap: StartTLS to the member, then TLS (server-ssl) on its success; a refusal goes on
    in clear (allow) or ends the connection (require)."""
    await stream.send_all(ldap.starttls_request(STARTTLS_ID))
    try:
        with trio.fail_after(timeout):
            msg, _, rest = await _ldap_message(stream, b"")
    except ldap.Bad as exc:
        raise trio.BrokenResourceError(f"member's answer to StartTLS: {exc}") from exc
    verdict = ldap.server_decides(mode, msg, STARTTLS_ID)
    if verdict == "refuse":
        raise trio.BrokenResourceError(f"member refused StartTLS (resultCode {msg.code})")
    if verdict == "clear":
        return _with(stream, rest)
    return await wrap(_with(stream, rest), ctx, server_name, timeout)
