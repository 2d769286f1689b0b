"""SSL forward proxy, the deciding part (sans-IO): the client's ClientHello read for its server
name, whether the connection bypasses (passes through untouched) or is intercepted, and the
certificate forged for an intercepted server: the server's subject and subject alternative
names, signed by the client-ssl profile's CA, one per server certificate (cached).

The IO is node/ltm/service.py's: it reads the ClientHello, decides, connects to the server over
server-ssl, reads its certificate, and completes the client's handshake with the forged one.
"""
from __future__ import annotations

import datetime
import hashlib
import ipaddress
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519

HANDSHAKE, CLIENT_HELLO, SNI = 22, 1, 0
MAX_HELLO = 16384 + 5          # one TLS record: a ClientHello larger than that is not read further
CACHE_SIZE = 1024              # forged certificates kept (F5's cert cache holds many more)


class NotTls(Exception):
    """The client's first bytes are not a TLS ClientHello."""


@dataclass(frozen=True)
class Hello:
    server_name: str | None     # SNI, lower case; None when the client sent none


def client_hello(data: bytes) -> Hello | None:
    """The ClientHello at the start of `data`; None while more bytes are needed."""
    if len(data) < 5:
        return None
    if data[0] != HANDSHAKE or data[1] != 3:
        raise NotTls("not a TLS handshake record")
    length = int.from_bytes(data[3:5], "big")
    if len(data) < 5 + length:
        if len(data) >= MAX_HELLO:
            raise NotTls("ClientHello record too long")
        return None
    body = data[5:5 + length]
    if len(body) < 4 or body[0] != CLIENT_HELLO:
        raise NotTls("not a ClientHello")
    return Hello(_server_name(body[4:4 + int.from_bytes(body[1:4], "big")]))


def _server_name(hello: bytes) -> str | None:
    """The host_name of the server_name extension (RFC 6066), if any."""
    try:
        i = 2 + 32                                   # version, random
        i += 1 + hello[i]                            # session id
        i += 2 + int.from_bytes(hello[i:i + 2], "big")   # cipher suites
        i += 1 + hello[i]                            # compression methods
        if i + 2 > len(hello):
            return None
        end = i + 2 + int.from_bytes(hello[i:i + 2], "big")
        i += 2
        while i + 4 <= end:
            kind, size = int.from_bytes(hello[i:i + 2], "big"), int.from_bytes(hello[i + 2:i + 4], "big")
            ext = hello[i + 4:i + 4 + size]
            i += 4 + size
            if kind != SNI or len(ext) < 5:
                continue
            j, names_end = 2, 2 + int.from_bytes(ext[0:2], "big")
            while j + 3 <= names_end:
                name_type, n = ext[j], int.from_bytes(ext[j + 1:j + 3], "big")
                if name_type == 0:
                    return ext[j + 3:j + 3 + n].decode("ascii", "replace").lower().rstrip(".")
                j += 3 + n
    except IndexError:
        raise NotTls("malformed ClientHello") from None
    return None


# -- bypass -----------------------------------------------------------------------------------------
# (list property, what it is matched against, its verdict): per kind the intercept list first, then
# the bypass list; source addresses, then destination addresses, then the host name
LISTS = (("source-ip-blacklist", "source", "intercept"), ("source-ip-whitelist", "source", "bypass"),
         ("dest-ip-blacklist", "dest", "intercept"), ("dest-ip-whitelist", "dest", "bypass"),
         ("hostname-blacklist", "host", "intercept"), ("hostname-whitelist", "host", "bypass"))


def _matches(records: list[dict], kind: str, value: str | None) -> bool:
    if value is None:
        return False
    for r in records:
        key = str(r.get("name", ""))
        if kind == "host":
            key = key.lower().rstrip(".")
            if value == key or (key.startswith(".") and value.endswith(key)) or value.endswith("." + key):
                return True
            continue
        try:
            if ipaddress.ip_address(value) in ipaddress.ip_network(key, strict=False):
                return True
        except ValueError:
            continue
    return False


def decide(profile: dict, source: str, dest: str, host: str | None,
           records: Callable[[str], list[dict] | None]) -> str:
    """"bypass" or "intercept" for one connection: with ssl-forward-proxy-bypass off, intercept;
    else the first list (LISTS' order) the connection is in decides, else the profile's
    forward-proxy-bypass-default-action. `records(path)`: a data group's records (None if missing)."""
    if profile.get("ssl-forward-proxy-bypass") != "enabled":
        return "intercept"
    values = {"source": source, "dest": dest, "host": host}
    for prop, kind, verdict in LISTS:
        group = profile.get(prop) or "none"
        if group != "none" and _matches(records(group) or [], kind, values[kind]):
            return verdict
    return profile.get("forward-proxy-bypass-default-action", "intercept")


# -- forging ----------------------------------------------------------------------------------------
def leaf_key() -> ec.EllipticCurvePrivateKey:
    """The key of every certificate one CA forges (a BIG-IP also reuses one key for them)."""
    return ec.generate_private_key(ec.SECP256R1())


def _sign_hash(key):
    return None if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)) else hashes.SHA256()


def forge(server_der: bytes, ca_pem: str, ca_key, key, lifespan_days: int,
          now: datetime.datetime) -> x509.Certificate:
    """A certificate naming what the server's does (subject, subject alternative names), for `key`,
    issued by the CA, valid from a day before `now` for the profile's cert-lifespan."""
    server = x509.load_der_x509_certificate(server_der)
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    builder = (x509.CertificateBuilder().subject_name(server.subject).issuer_name(ca.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=lifespan_days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False))
    try:
        san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        builder = builder.add_extension(san, critical=False)
    except x509.ExtensionNotFound:
        pass
    try:
        usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        builder = builder.add_extension(usage, critical=False)
    except x509.ExtensionNotFound:
        pass
    return builder.sign(ca_key, _sign_hash(ca_key))


class Forger:
    """Forged certificates by (CA certificate, server certificate), least recently used dropped
    past `size`; one leaf key per CA."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self.cache: OrderedDict[tuple[str, str], str] = OrderedDict()
        self.keys: dict[str, object] = {}
        self.forged = 0            # certificates made (not found in the cache)

    def key_pem(self, ca_pem: str) -> str:
        return self._key(ca_pem).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()).decode()

    def _key(self, ca_pem: str):
        fp = hashlib.sha256(ca_pem.encode()).hexdigest()
        if fp not in self.keys:
            self.keys[fp] = leaf_key()
        return self.keys[fp]

    def certificate(self, server_der: bytes, ca_pem: str, ca_key, lifespan_days: int,
                    now: datetime.datetime) -> str:
        """The forged certificate (PEM) for this server certificate, from the cache if made before."""
        k = (hashlib.sha256(ca_pem.encode()).hexdigest(), hashlib.sha256(server_der).hexdigest())
        pem = self.cache.get(k)
        if pem is not None:
            self.cache.move_to_end(k)
            return pem
        cert = forge(server_der, ca_pem, ca_key, self._key(ca_pem), lifespan_days, now)
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        self.forged += 1
        self.cache[k] = pem
        while len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return pem
