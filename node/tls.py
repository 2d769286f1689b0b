"""TLS contexts without the host's CA store.

`ssl.create_default_context` loads every public CA of the host: about 90 ms of CPU and 1 MB per
context. No BIG-IP connection here trusts a public CA (4353 trusts the device trust domain's CA,
monitors and onboarding check no certificate), so contexts start empty.
"""
from __future__ import annotations

import functools
import ssl

# The TLS 1.2 suites a node offers on 443: ECDHE key exchange with an AEAD cipher only. TLS 1.3's
# three suites are OpenSSL's, always on (4353 is TLS 1.3 only). docs/design.md "TLS on 443 and 4353"
# lists what these give, and a test holds the list to what the contexts offer.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


def context(server: bool) -> ssl.SSLContext:
    """A TLS server or client context with the library's secure defaults and no CA loaded."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)


@functools.cache
def unverified_client() -> ssl.SSLContext:
    """One client context, shared, that checks no certificate (a BIG-IP's https monitor, or a
    device reaching a peer before trust)."""
    ctx = context(server=False)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx
