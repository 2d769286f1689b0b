"""AS3's secrets (a Certificate's `passphrase`): `{ciphertext, protected}`, the ciphertext base64
and `protected` a base64 JOSE header saying how it is encrypted. The lab opens the ones F5's
examples send in clear (`{"alg":"dir","enc":"none"}`, AS3's default); SecureVault ones (`enc`
f5sv) need a BIG-IP's master key, which the lab has not, and are refused by name."""
from __future__ import annotations

import base64
import binascii
import json

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
