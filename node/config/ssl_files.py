"""`sys file ssl-cert` and `sys file ssl-key`: a certificate or key installed from a file on the
device (`source-path file:///var/config/rest/downloads/NAME`, as F5's Ansible modules upload it),
kept in the configuration with what a BIG-IP shows of it (subject, issuer, expiry, key size,
checksum), and the default.crt/default.key pair every BIG-IP makes for itself.

The PEM text travels with the object (key `pem`, no tmsh or REST property), so config sync
carries certificates and keys to the peers as a BIG-IP's file store does.
"""
from __future__ import annotations

import datetime
import functools
import hashlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ..errors import ConfigError, Invalid
from .schema import full_path

CERT, KEY = "sys file ssl-cert", "sys file ssl-key"
DEFAULT_CERT, DEFAULT_KEY = "/Common/default.crt", "/Common/default.key"
CA_BUNDLE = "/Common/ca-bundle.crt"   # F5 ships a bundle of public CAs; the lab's is Mozilla's (certifi)
TF = {True: "true", False: "false"}
# F5's default.crt subject
DEFAULT_SUBJECT = (("emailAddress", "root@localhost.localdomain"), ("CN", "localhost.localdomain"), ("OU", "IT"),
                   ("O", "MyCompany"), ("L", "Seattle"), ("ST", "WA"), ("C", "--"))
OIDS = {"emailAddress": NameOID.EMAIL_ADDRESS, "CN": NameOID.COMMON_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "O": NameOID.ORGANIZATION_NAME, "L": NameOID.LOCALITY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME,
        "C": NameOID.COUNTRY_NAME}


def _full(c: str, k: str) -> tuple[str, str]:
    return full_path(c) if c != "none" else c, full_path(k) if k != "none" else k


def pairs(profile: dict) -> list[tuple[str, str]]:
    """An SSL profile's (certificate, key) paths it serves: its cert-key-chain (but the forward
    proxy's CA, usage CA), else its cert and key."""
    items = profile.get("cert-key-chain") or ()
    chain = [(i.get("cert", "none"), i.get("key", "none")) for i in items if i.get("usage") != "CA"]
    if items and not chain:
        return []
    return [_full(c, k) for c, k in (chain or [(profile.get("cert") or "none", profile.get("key") or "none")])]


def proxy_ca(profile: dict) -> tuple[str, str] | None:
    """The (certificate, key) paths an SSL forward proxy signs with: the cert-key-chain entry of
    usage CA, else proxy-ca-cert and proxy-ca-key (F5's names before 14.0); None if it has none."""
    for i in profile.get("cert-key-chain") or ():
        if i.get("usage") == "CA":
            return _full(i.get("cert", "none"), i.get("key", "none"))
    c, k = profile.get("proxy-ca-cert") or "none", profile.get("proxy-ca-key") or "none"
    return None if c == "none" and k == "none" else _full(c, k)


def local_file(root: Path | None, source_path: str) -> Path:
    """`file:///var/config/rest/downloads/x.crt` -> that path under the device's state directory."""
    path = source_path.removeprefix("file://")
    if root is None or not path.startswith("/") or ".." in path.split("/"):
        raise Invalid(f"source-path {source_path}: not a file on this device")
    return root / path.lstrip("/")


def filestore(root: Path | None, type_: str, path: str) -> Path | None:
    """Where the device keeps an installed file (F5's /config/filestore/files_d layout)."""
    return None if root is None else local_file(root, filestore_source(type_, path))


def filestore_source(type_: str, path: str) -> str:
    """The file store's copy of an installed file as a source-path (what an object installed from
    PEM text, as AS3 installs a Certificate, names as its source)."""
    folder = "certificate_d" if type_ == CERT else "certificate_key_d"
    partition = path.split("/")[1]
    return f"file:///config/filestore/files_d/{partition}_d/{folder}/{path.replace('/', ':')}"


def _checksum(pem: bytes) -> str:
    return f"SHA1:{len(pem)}:{hashlib.sha1(pem).hexdigest()}"


def _name(name: x509.Name) -> str:
    """F5's form: the most specific part first, `emailAddress=a,CN=b,...,C=c`."""
    short = {oid: k for k, oid in OIDS.items()}
    return ",".join(f"{short.get(a.oid, a.oid.dotted_string)}={a.value}" for a in reversed(list(name)))


def describe(type_: str, path: str, pem: bytes, passphrase: str | None = None) -> dict:
    """What a BIG-IP shows of a certificate or key file (tmsh names), with the PEM under `pem` (a key
    as given: encrypted stays encrypted). Raises ConfigError for a file that is not a PEM
    certificate / a key that is not PEM or that the passphrase (if any) does not decrypt."""
    base = {"checksum": _checksum(pem), "size": len(pem), "pem": shared_text(pem)}
    if type_ == CERT:
        try:
            cert = x509.load_pem_x509_certificate(pem)
        except ValueError:
            raise ConfigError(f"Certificate File ({path}): the file is not a PEM certificate") from None
        public = cert.public_key()
        expires = cert.not_valid_after_utc
        bundle = pem.count(b"-----BEGIN CERTIFICATE-----") > 1   # a CA bundle: what a BIG-IP shows is its first
        return {**base, "subject": _name(cert.subject), "issuer": _name(cert.issuer), "is-bundle": TF[bundle],
                "expiration-date": int(expires.timestamp()),
                "expiration-string": f"{expires:%b} {expires.day:2d} {expires:%H:%M:%S %Y} GMT",   # as openssl
                "serial-number": str(cert.serial_number), "version": 3,
                "fingerprint": "SHA256/" + cert.fingerprint(hashes.SHA256()).hex(":").upper(),
                **_key_facts(public, "public", "certificate-key-")}
    try:
        key = private_key(pem.decode(errors="replace"), passphrase)
    except TypeError:     # encrypted, and no passphrase (or one given for a clear key)
        raise ConfigError(f"Certificate Key File ({path}): " + (
            "the key is not encrypted: give no passphrase" if passphrase else
            "the key is encrypted: give its passphrase")) from None
    except ValueError:
        raise ConfigError(f"Certificate Key File ({path}): " + (
            "the passphrase does not decrypt the key" if passphrase and b"ENCRYPTED" in pem else
            "the file is not a PEM private key")) from None
    return {**base, "security-type": "password" if passphrase else "normal", **_key_facts(key, "private", "key-")}


def private_key(pem: str, passphrase: str | None = None):
    """A PEM private key, decrypted with its passphrase when it is encrypted (cryptography). An
    RSA key's primes are not checked, as openssl's PEM reading (a BIG-IP's) does not: the check
    costs 25 to 70 ms a key, a daemon's first start once for its own default.key."""
    return serialization.load_pem_private_key(pem.encode(), password=passphrase.encode() if passphrase else None,
                                              unsafe_skip_rsa_key_validation=True)


def _key_facts(key, kind: str, prefix: str) -> dict:
    """Key type, size and curve; `prefix` names the fields (`certificate-key-` on a certificate)."""
    curve = prefix.removeprefix("key-") + "curve-name"
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return {f"{prefix}size": key.key_size, "key-type": f"rsa-{kind}", curve: "none"}
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return {f"{prefix}size": key.key_size, "key-type": f"ec-{kind}", curve: key.curve.name}
    raise ConfigError(f"unsupported key type {type(key).__name__}")


def decrypt_key(pem: str, passphrase: bytes) -> str:
    """An encrypted PEM private key as unencrypted PKCS#8 PEM; raises ConfigError when the
    passphrase does not open it."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=passphrase)
    except (ValueError, TypeError):
        raise ConfigError("the passphrase does not decrypt the private key") from None
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


STAMP = ("create-time", "created-by", "last-update-time", "updated-by", "revision")   # the install's record, not the file
MODES = {CERT: 0o100644, KEY: 0o100640}    # a regular file, rw-r--r-- / rw-r----- (33188 / 33184)


def stamp(type_: str, old: dict, user: str, now: float) -> dict:
    """The file record of an install by `user` at `now`: created once, then each new install is
    one more revision."""
    when = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"create-time": old.get("create-time") or when, "created-by": old.get("created-by") or user,
            "last-update-time": when, "updated-by": user, "mode": MODES[type_],
            "revision": (old.get("revision") or 0) + 1}


def matches(cert_pem: str, key_pem: str, passphrase: str | None = None) -> bool:
    """Whether the key is the certificate's."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    key = private_key(key_pem, passphrase)
    return cert.public_key().public_numbers() == key.public_key().public_numbers()


# RSA keys made ahead of need, each for one device: the process a daemon is forked from makes them
# while idle, keeps only the last one in each child and drops it itself (lab/runtime/forkserver.py)
SPARE_KEYS: list[rsa.RSAPrivateKey] = []


def make_rsa_key() -> rsa.RSAPrivateKey:
    """A new RSA 2048 key (30 to 100 ms to make)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def new_rsa_key() -> rsa.RSAPrivateKey:
    """A key made ahead for this process, or a new one."""
    return SPARE_KEYS.pop() if SPARE_KEYS else make_rsa_key()


def self_signed(days: int = 3650) -> tuple[bytes, bytes]:
    """A new key and a self-signed certificate with F5's default.crt subject: (cert PEM, key PEM)."""
    key = new_rsa_key()
    name = x509.Name([x509.NameAttribute(OIDS[k], v) for k, v in reversed(DEFAULT_SUBJECT)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption()))


@functools.cache
def ca_bundle() -> tuple[bytes, str]:
    """The CA bundle every device installs (Mozilla's, from certifi), as bytes and as text. Read
    once per process: the daemons forked from one warm process share these very objects' pages."""
    import certifi
    pem = Path(certifi.where()).read_bytes()
    return pem, pem.decode()


def shared_text(pem: bytes | str) -> str:
    """A PEM as the text the configuration keeps: the CA bundle's one shared copy where it is that
    bundle (234 KB a device otherwise holds on its own), else the text itself."""
    raw, text = ca_bundle()
    if len(pem) == len(raw) and pem in (raw, text):
        return text
    return pem if isinstance(pem, str) else pem.decode()


def share_pem(values: dict) -> None:
    """A stored certificate's `pem` replaced by the shared copy where it is the CA bundle (a
    configuration read back from disk or sent by a peer holds its own)."""
    if isinstance(values.get("pem"), str):
        values["pem"] = shared_text(values["pem"])


def write_own_pair(root: Path) -> list[tuple[str, str, str]]:
    """A device's default.crt and default.key, made now under its /config/ssl/, and its
    ca-bundle.crt: (type, path, source-path)."""
    cert, key = self_signed()
    out = []
    for type_, path, rel, pem in ((CERT, DEFAULT_CERT, "ssl.crt/default.crt", cert),
                                  (KEY, DEFAULT_KEY, "ssl.key/default.key", key),
                                  (CERT, CA_BUNDLE, "ssl.crt/ca-bundle.crt", ca_bundle()[0])):
        target = root / "config" / "ssl" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pem)
        if type_ == KEY:
            target.chmod(0o600)
        out.append((type_, path, f"file:///config/ssl/{rel}"))
    return out
