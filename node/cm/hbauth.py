"""Heartbeats that cannot be forged or replayed.

Each heartbeat is signed (ECDSA P-256, SHA-256) with the sending device's trust key and carries
its device certificate; a receiver takes it only if the certificate is issued by its own trust
domain's CA, names a device of the trust domain that is the heartbeat's sender, and the signature
holds. So a device outside the trust domain cannot make one. Replay: a heartbeat carries the
sender's boot id (random per start) and a sequence number; per sender and path a receiver takes
only a higher sequence of the current boot, or a boot it has never seen (a restart), never an
older boot again.

Certificate validity times are not checked here (the 4353 channels do that): a skewed clock must
not look like a dead peer.
"""
from __future__ import annotations

import functools

import msgpack
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..iquery.trust import common_name

KIND = "hbs"


class HeartbeatAuth:
    def __init__(self, trust):
        """`trust`: the device's TrustStore (key, cert, ca, members)."""
        self.trust = trust
        self._checked: dict[tuple, tuple | None] = {}   # (cert DER, CA) -> (device, public key)

    @staticmethod
    @functools.lru_cache(maxsize=4)
    def _der(cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.DER)

    def seal(self, body: bytes) -> bytes:
        sig = self.trust.key.sign(body, ec.ECDSA(hashes.SHA256()))
        der = self._der(self.trust.cert)
        return msgpack.packb({"t": KIND, "body": body, "cert": der, "sig": sig}, use_bin_type=True)

    def open(self, data: bytes) -> tuple[str, bytes] | None:
        """(device, body) of a heartbeat signed by a device of our trust domain, else None."""
        try:
            env = msgpack.unpackb(data, raw=False)
        except Exception:
            return None
        if not isinstance(env, dict) or env.get("t") != KIND:
            return None
        body, der, sig = env.get("body"), env.get("cert"), env.get("sig")
        if not all(isinstance(v, bytes) for v in (body, der, sig)):
            return None
        signer = self._signer(der)
        if signer is None:
            return None
        device, public_key = signer
        try:
            public_key.verify(sig, body, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError, TypeError):
            return None
        return device, body

    def _signer(self, der: bytes):
        """(device, public key) of a certificate our CA issued to a device of the trust domain, else
        None. Cached per certificate and CA: five heartbeats a second per peer and path come with
        the same certificate."""
        key = (der, self.trust.ca)
        if key not in self._checked:
            if len(self._checked) > 64:
                self._checked.clear()
            try:
                cert = x509.load_der_x509_certificate(der)
                cert.verify_directly_issued_by(self.trust.ca)
                self._checked[key] = (common_name(cert), cert.public_key())
            except (ValueError, TypeError, InvalidSignature):
                self._checked[key] = None
        signer = self._checked[key]
        return signer if signer is not None and signer[0] in {m.name for m in self.trust.members} else None


class ReplayGuard:
    """Per sender and path: the current boot id and highest sequence, and the boots seen before."""

    def __init__(self):
        self.current: dict[tuple[str, str], tuple[str, int]] = {}
        self.old: dict[tuple[str, str], set[str]] = {}

    def accept(self, device: str, path: str, boot: str, seq: int) -> bool:
        key = (device, path)
        cur = self.current.get(key)
        if cur is not None and boot == cur[0]:
            if seq <= cur[1]:
                return False
        elif boot in self.old.get(key, ()):
            return False
        elif cur is not None:
            self.old.setdefault(key, set()).add(cur[0])
        self.current[key] = (boot, seq)
        return True
