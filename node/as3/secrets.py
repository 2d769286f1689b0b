"""AS3's secrets (a Certificate's `passphrase`): `{ciphertext, protected}`, the ciphertext base64
and `protected` a base64 JOSE header saying how it is encrypted. The lab opens the ones F5's
examples send in clear (`{"alg":"dir","enc":"none"}`, AS3's default); SecureVault ones (`enc`
f5sv) need a BIG-IP's master key, which the lab has not, and are refused by name."""
from __future__ import annotations

import base64
import binascii
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12 as p12

from ..config import ssl_files
from ..errors import ConfigError

CLEAR = base64.b64encode(b'{"alg":"dir","enc":"none"}').decode().rstrip("=")   # AS3's default `protected`


def _b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=False)


def plain(secret: dict, pointer: str) -> tuple[bytes | None, list[str]]:
    """The secret's clear bytes, or the errors (JSON-pointer texts) why not."""
    try:
        header = json.loads(_b64(secret.get("protected", CLEAR)))
        enc = header.get("enc") if isinstance(header, dict) else None
    except (ValueError, binascii.Error):
        return None, [f"{pointer}/protected: should be a base64 JOSE header"]
    if enc != "none":
        return None, [f'{pointer}/protected: secrets encrypted with "{enc}" (SecureVault) cannot be opened '
                      'by this lab; send it with {"alg":"dir","enc":"none"}']
    try:
        return base64.b64decode(secret["ciphertext"], validate=True), []
    except (ValueError, binascii.Error):
        return None, [f"{pointer}/ciphertext: should be base64"]


def pkcs12(item: dict, pointer: str) -> tuple[dict, list[str]]:
    """A Certificate's PKCS #12 (`pkcs12`, base64) as the PEM parts AS3 makes of it: certificate
    (the first), chainCA (the others, if any), privateKey (if it holds one: encrypted with the
    passphrase in the pkcs12Options' keyImportFormat, or clear without one). The passphrase opens
    the file; AS3 reads " " as none (openssl's empty password)."""
    given = item["pkcs12"]
    text = given.get("base64") if isinstance(given, dict) else given
    password = b""
    if "passphrase" in item:
        password, errors = plain(item["passphrase"], f"{pointer}/passphrase")
        if errors:
            return {}, errors
        password = b"" if password == b" " else password
    legacy = (item.get("pkcs12Options") or {}).get("keyImportFormat") == "openssl-legacy"
    made = _MADE.get((text, password, legacy))
    if made is None:
        try:
            made = _open(text, password, legacy)
        except (ValueError, binascii.Error, TypeError) as exc:
            return {}, [f"{pointer}/pkcs12: Unable to extract pkcs12 contents. Details: {exc}"]
        if len(_MADE) >= 64:
            _MADE.clear()
        _MADE[(text, password, legacy)] = made
    if "certificate" not in made:
        return {}, [f"{pointer}/pkcs12: Unable to extract pkcs12 contents. Details: it holds no certificate"]
    return dict(made), []


# what a PKCS #12 gave, by (text, password, format): the same each deploy (an encrypted key's salt
# is random), so a redeploy of the same declaration changes nothing
_MADE: dict[tuple, dict] = {}


def _open(text: str | None, password: bytes, legacy: bool) -> dict:
    key, cert, extra = p12.load_key_and_certificates(base64.b64decode(text or "", validate=False), password or None)
    pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in [cert, *extra] if c is not None]
    parts = {"certificate": pems[0]} if pems else {}
    if pems[1:]:
        parts["chainCA"] = "".join(pems[1:])
    if key is not None:
        fmt = serialization.PrivateFormat.TraditionalOpenSSL if legacy else serialization.PrivateFormat.PKCS8
        enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        parts["privateKey"] = key.private_bytes(serialization.Encoding.PEM, fmt, enc).decode()
    return parts


def parts(item: dict) -> dict:
    """A Certificate's certificate, privateKey and chainCA as declared, or made of its PKCS #12
    (validation has refused one that does not open)."""
    if "pkcs12" not in item:
        return item
    made, _ = pkcs12(item, "")
    out = {**item, **made}
    if "passphrase" in out and plain(out["passphrase"], "")[0] in (b"", b" "):
        del out["passphrase"]    # AS3 drops an empty one
    return out


def private_key(item: dict, pointer: str) -> tuple[str | None, list[str]]:
    """A Certificate's privateKey text, opened with its passphrase when it has one."""
    if "passphrase" not in item:
        return item["privateKey"], []
    passphrase, errors = plain(item["passphrase"], f"{pointer}/passphrase")
    if errors:
        return None, errors
    try:
        return ssl_files.decrypt_key(item["privateKey"], passphrase), []
    except ConfigError:
        return None, [f"{pointer}/passphrase: does not decrypt the privateKey"]
