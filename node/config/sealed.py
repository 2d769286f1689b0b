"""Values a device must read back in clear, kept encrypted in the configuration: an ssl-key's
passphrase, which the data plane needs to decrypt the key. A BIG-IP encrypts them with the device
group's master key and shows `$M$...`; the lab has no master key to keep in step across a trust
domain, so every device seals with one key of the lab's own (docs/design.md says so)."""
from __future__ import annotations

import base64
import hashlib
from functools import cache

PREFIX = "$M$"


@cache
def _fernet():
    # imported at the first secret: the schema imports this module, and the CLI reads the schema
    # but seals nothing (cryptography costs it 30 ms)
    from cryptography.fernet import Fernet
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"biglab master key").digest()))


def seal(value: str) -> str:
    return value if value.startswith(PREFIX) else PREFIX + _fernet().encrypt(value.encode()).decode()


def unseal(value: str | None) -> str | None:
    """The clear value (None for none); a value not sealed by the lab reads as None."""
    from cryptography.fernet import InvalidToken
    if not value or not value.startswith(PREFIX):
        return None
    try:
        return _fernet().decrypt(value.removeprefix(PREFIX).encode()).decode()
    except InvalidToken:
        return None
