"""Device trust: keys, the trust domain CA, CSRs, and the checks a 4353 peer must pass.

Like a BIG-IP, every device makes its own key, CA (`dtca`) and identity (`dtdi`) at first start,
so a fresh device is a trust domain of one. Adding a device to a domain means an authority signs
the new device's CSR with the domain CA and hands it the CA certificate (and the CA key too when
the new device is a *peer authority*; a *subordinate non-authority* gets only its certificate).

Certificate times are checked against the node clock (which chaos can skew), not the host's:
OpenSSL checks signatures with time checks disabled, and `check_peer` does the time checks.
The emulation uses ECDSA P-256 keys (F5 uses RSA 2048) because they are made in microseconds.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..clock import write_atomically
from .. import tls
from ..errors import F5Error

X509_V_FLAG_NO_CHECK_TIME = 0x200000  # OpenSSL: verify signatures, leave validity times to us
DEVICE_DAYS = 365   # so that a clock 400 days ahead sees the device certificates expired
CA_DAYS = 3650
BACKDATE = dt.timedelta(minutes=5)  # small clock differences must not make a fresh cert "not yet valid"


class TrustError(F5Error):
    """A trust operation was refused; the message is the reason shown to the user."""


# -- pure crypto --------------------------------------------------------------------------------
def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":")


def common_name(cert_or_csr) -> str:
    attrs = cert_or_csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return attrs[0].value if attrs else ""


def make_ca(device: str, key, now: dt.datetime, days: int = CA_DAYS) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "biglab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"trust domain CA of {device}")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .sign(key, hashes.SHA256()))


def make_csr(device: str, key) -> x509.CertificateSigningRequest:
    return (x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device)]))
            .sign(key, hashes.SHA256()))


def sign_csr(csr: x509.CertificateSigningRequest, ca: x509.Certificate, ca_key, now: dt.datetime,
             days: float = DEVICE_DAYS) -> x509.Certificate:
    if not csr.is_signature_valid:
        raise TrustError("certificate signing request has a bad signature")
    device = common_name(csr)
    if not device:
        raise TrustError("certificate signing request names no device")
    return (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca.subject)
            .public_key(csr.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(device)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))


@dataclass(frozen=True)
class PeerCheck:
    ok: bool
    code: str = ""     # untrusted, expired, not-yet-valid, name-mismatch
    reason: str = ""


PASSED = PeerCheck(True)


def issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True)
class Verified:
    """A peer certificate as checked once against a CA: the signature's verdict cannot change, so
    what is left to check each time is the clock against the window both certificates are valid in."""
    cert: x509.Certificate
    issued: bool
    name: str
    valid_from: dt.datetime
    valid_until: dt.datetime


@functools.lru_cache(maxsize=512)
def verified(der: bytes, ca: x509.Certificate) -> Verified:
    cert = x509.load_der_x509_certificate(der)
    return Verified(cert, issued_by(cert, ca), common_name(cert),
                    max(cert.not_valid_before_utc, ca.not_valid_before_utc),
                    min(cert.not_valid_after_utc, ca.not_valid_after_utc))


def check_peer(cert: x509.Certificate, ca: x509.Certificate, now: dt.datetime,
               expected_device: str | None = None, issued: bool | None = None) -> PeerCheck:
    """Is `cert` a valid identity in the domain of `ca`, as seen at `now` (the node clock)?
    `issued`: the signature's verdict if already known (it cannot change; the times can)."""
    if not (issued_by(cert, ca) if issued is None else issued):
        return PeerCheck(False, "untrusted",
                         f"certificate of {common_name(cert) or '?'} is not issued by this trust domain's CA")
    clock = now.strftime("%Y-%m-%d %H:%M:%S UTC")
    for what, c in (("certificate", cert), ("trust domain CA certificate", ca)):
        if now < c.not_valid_before_utc:
            return PeerCheck(False, "not-yet-valid",
                             f"{what} of {common_name(cert)} not yet valid (valid from "
                             f"{c.not_valid_before_utc:%Y-%m-%d %H:%M:%S} UTC, node clock {clock})")
        if now > c.not_valid_after_utc:
            return PeerCheck(False, "expired",
                             f"{what} of {common_name(cert)} expired (valid until "
                             f"{c.not_valid_after_utc:%Y-%m-%d %H:%M:%S} UTC, node clock {clock})")
    if expected_device is not None and common_name(cert) != expected_device:
        return PeerCheck(False, "name-mismatch",
                         f"certificate names device {common_name(cert)!r}, expected {expected_device!r}")
    return PeerCheck(True)


# -- the device's persistent trust state ------------------------------------------------------
@dataclass
class Member:
    name: str
    address: str
    authority: bool = False

    def to_dict(self) -> dict:
        return {"name": self.name, "address": self.address, "authority": self.authority}


@dataclass
class TrustState:
    """All of a device's trust in one record, written atomically as one file."""
    key: bytes
    cert: bytes
    ca: bytes
    ca_key: bytes | None
    members: list[Member] = field(default_factory=list)
    generation: int = 0

    def to_json(self) -> bytes:
        return json.dumps({"key": self.key.decode(), "cert": self.cert.decode(), "ca": self.ca.decode(),
                           "ca_key": self.ca_key.decode() if self.ca_key else None,
                           "members": [m.to_dict() for m in self.members],
                           "generation": self.generation}, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "TrustState":
        d = json.loads(data)
        return cls(d["key"].encode(), d["cert"].encode(), d["ca"].encode(),
                   d["ca_key"].encode() if d.get("ca_key") else None,
                   [Member(**m) for m in d.get("members", [])], int(d.get("generation", 0)))


def new_domain(device: str, address: str, now: dt.datetime) -> TrustState:
    """A fresh trust domain of one: the device is its own authority."""
    key, ca_key = new_key(), new_key()
    ca = make_ca(device, ca_key, now)
    cert = sign_csr(make_csr(device, key), ca, ca_key, now)
    return TrustState(key_pem(key), cert_pem(cert), cert_pem(ca), key_pem(ca_key),
                      [Member(device, address, True)], 0)


class TrustStore:
    """The device's trust state on disk (`trust.json`) plus the TLS contexts made from it."""

    def __init__(self, state_dir: Path, device: str, address: str, clock):
        self.dir = Path(state_dir)
        self.device = device
        self.address = address
        self.clock = clock
        self.path = self.dir / "trust.json"
        self._client: tuple[tuple, ssl.SSLContext] | None = None   # (what it was made from, the context)
        if self.path.exists():
            self.state = TrustState.from_json(self.path.read_bytes())
        else:
            self._save(new_domain(device, address, clock.now()))
        self._load()

    def _save(self, state: TrustState) -> None:
        write_atomically(self.path, state.to_json())
        self.state = state

    def _load(self) -> None:
        s = self.state
        self.key = serialization.load_pem_private_key(s.key, None)
        self.cert = x509.load_pem_x509_certificate(s.cert)
        self.ca = x509.load_pem_x509_certificate(s.ca)
        self.ca_key = serialization.load_pem_private_key(s.ca_key, None) if s.ca_key else None
        # ssl wants files: keep derived copies beside trust.json (named as on a BIG-IP)
        for name, data in (("dtdi.key", s.key), ("dtdi.crt", s.cert), ("dtca.crt", s.ca)):
            write_atomically(self.dir / name, data)

    def restore(self, data: bytes) -> None:
        """Take a saved trust state (trust.json's bytes, from a UCS): identity, CA and members."""
        self._save(TrustState.from_json(data))
        self._load()

    # -- views ------------------------------------------------------------------------------------
    @property
    def is_authority(self) -> bool:
        return self.ca_key is not None

    @property
    def members(self) -> list[Member]:
        return list(self.state.members)

    def peers(self) -> list[Member]:
        return [m for m in self.state.members if m.name != self.device]

    def summary(self) -> dict:
        return {"domain_ca": fingerprint(self.ca), "authority": self.is_authority,
                "certificate": {"fingerprint": fingerprint(self.cert),
                                "not_after": self.cert.not_valid_after_utc.isoformat(),
                                "issuer": self.cert.issuer.rfc4514_string()},
                "generation": self.state.generation,
                "members": [m.to_dict() for m in self.state.members]}

    # -- TLS ------------------------------------------------------------------------------------
    def _context(self, purpose) -> ssl.SSLContext:
        ctx = tls.context(server=purpose is ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False
        ctx.load_verify_locations(cadata=self.state.ca.decode())
        ctx.verify_flags |= X509_V_FLAG_NO_CHECK_TIME
        ctx.load_cert_chain(self.dir / "dtdi.crt", self.dir / "dtdi.key")
        return ctx

    def server_context(self) -> ssl.SSLContext:
        """Asks every client for a certificate; one from another domain fails the handshake, none
        at all makes an unauthenticated session that may only ask to join."""
        ctx = self._context(ssl.Purpose.CLIENT_AUTH)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """Presents our identity; the server's certificate is checked after the handshake by
        `check` (issuer, node-clock validity, device name), so that a refusal has a reason on
        both sides (an OpenSSL verify failure would just drop the connection). TLS 1.3 itself
        proves the server holds the certificate's key. One context while the identity and the CA
        stay (25 KB each: a device dials every member of its domain, and gtm-10dc has 24)."""
        made = (self.state.key, self.state.cert, self.state.ca)
        if self._client is None or self._client[0] != made:
            ctx = self._context(ssl.Purpose.SERVER_AUTH)
            ctx.verify_mode = ssl.CERT_NONE
            self._client = (made, ctx)
        return self._client[1]

    @staticmethod
    def join_context() -> ssl.SSLContext:
        """For an authority reaching a device that is not yet in its domain: no client certificate,
        and the device's certificate cannot be verified yet (its fingerprint is logged, as the
        F5 GUI shows it for confirmation); the admin credentials are what authenticate."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def check(self, der: bytes, expected_device: str | None = None) -> PeerCheck:
        # every channel's certificate is checked again each second (recheck): the signature is
        # verified once per certificate and CA, the times against the node clock every time
        v, now = verified(der, self.ca), self.clock.now()
        if v.issued and v.valid_from <= now <= v.valid_until and expected_device in (None, v.name):
            return PASSED
        return check_peer(v.cert, self.ca, now, expected_device, v.issued)

    # -- changes --------------------------------------------------------------------------------
    def csr(self) -> bytes:
        return make_csr(self.device, self.key).public_bytes(serialization.Encoding.PEM)

    def sign(self, csr_pem: bytes) -> bytes:
        if not self.is_authority:
            raise TrustError("this device is not a certificate signing authority in its trust domain")
        try:
            csr = x509.load_pem_x509_csr(csr_pem)
        except ValueError:
            raise TrustError("malformed certificate signing request") from None
        return cert_pem(sign_csr(csr, self.ca, self.ca_key, self.clock.now()))

    def join(self, cert: bytes, ca: bytes, ca_key: bytes | None, members: list[dict], generation: int) -> None:
        """Adopt a domain an authority put us in; everything is checked before anything changes."""
        try:
            new_cert = x509.load_pem_x509_certificate(cert)
            new_ca = x509.load_pem_x509_certificate(ca)
            if ca_key is not None:
                k = serialization.load_pem_private_key(ca_key, None)
                if k.public_key() != new_ca.public_key():
                    raise TrustError("the CA key does not match the CA certificate")
            members_ = [Member(str(m["name"]), str(m["address"]), bool(m.get("authority")))
                        for m in members]
        except (ValueError, KeyError, TypeError) as exc:
            raise TrustError(f"malformed join: {exc}") from None
        if new_cert.public_key() != self.key.public_key():
            raise TrustError("the signed certificate is not for this device's key")
        check = check_peer(new_cert, new_ca, self.clock.now(), self.device)
        if not check.ok:
            raise TrustError(check.reason)
        if self.device not in {m.name for m in members_}:
            raise TrustError("the member list does not include this device")
        self._save(TrustState(self.state.key, cert, ca, ca_key, members_, generation))
        self._load()

    def renew(self, valid_seconds: float | None = None) -> None:
        """Rotate this device's certificate: same key and domain, a fresh validity (the default
        length, or `valid_seconds` for a short-lived one). Needs the domain CA key."""
        if not self.is_authority:
            raise TrustError("this device holds no trust domain CA key: renew its certificate on an "
                             "authority (or reset trust and add it again)")
        days = DEVICE_DAYS if valid_seconds is None else valid_seconds / 86400
        cert = sign_csr(make_csr(self.device, self.key), self.ca, self.ca_key, self.clock.now(), days)
        s = self.state
        self._save(TrustState(s.key, cert_pem(cert), s.ca, s.ca_key, s.members, s.generation))
        self._load()

    def add_member(self, member: Member) -> None:
        others = [m for m in self.state.members if m.name != member.name]
        self._save(TrustState(self.state.key, self.state.cert, self.state.ca, self.state.ca_key,
                              others + [member], self.state.generation + 1))

    def remove_member(self, name: str) -> None:
        if name == self.device:
            raise TrustError(f"{name} is this device: reset its device trust instead")
        if name not in {m.name for m in self.state.members}:
            raise TrustError(f"device {name} is not in the trust domain")
        self._save(TrustState(self.state.key, self.state.cert, self.state.ca, self.state.ca_key,
                              [m for m in self.state.members if m.name != name], self.state.generation + 1))

    def update_members(self, members: list[Member], generation: int) -> bool:
        """Take a newer member list from an authority; returns whether anything changed."""
        if generation <= self.state.generation or self.device not in {m.name for m in members}:
            return False
        self._save(TrustState(self.state.key, self.state.cert, self.state.ca, self.state.ca_key,
                              list(members), generation))
        return True

    def reset(self) -> None:
        """F5's "reset device trust": back to a domain of one with a new CA."""
        self._save(new_domain(self.device, self.address, self.clock.now()))
        self._load()
