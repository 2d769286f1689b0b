"""What the declarative (AS3, DO) lab tests share: plain HTTPS to a node's iControl REST."""
from __future__ import annotations

import pytest
import requests


@pytest.fixture(autouse=True)
def no_ca_bundle(monkeypatch):
    """requests lets REQUESTS_CA_BUNDLE override verify=False (requests issue 3829); lab
    certificates are not for public CAs."""
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)


def api(host: str, method: str, path: str, body=None, **kw) -> requests.Response:
    return requests.request(method, f"https://{host}{path}", json=body, auth=("admin", "admin"), verify=False,
                            timeout=90, **kw)
