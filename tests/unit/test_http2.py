"""HTTP/2 (issue 14): ltm profile http2 in F5's shape, AS3's HTTP2_Profile and profileHTTP2
(ingress/egress) with httpMrfRoutingEnabled, and the gateway's sans-IO part (node/ltm/h2.py): an
HTTP/2 request as the HTTP/1.1 head a member gets, the member's response as HTTP/2 headers."""
from __future__ import annotations

import pytest

from node.config.schema import Invalid
from node.config.store import ConfigStore, Op
from tests.unit.test_as3_core import adc, run
from tests.unit.test_as3_stored import deploy, gone, web


def test_http2_profile_builtin_has_f5_defaults_and_refuses_an_unknown_activation_mode():
    store = ConfigStore(None, "b1")
    store.commit([Op("create", "ltm profile http2", "/Common/h2", {"defaults-from": ("set", "/Common/http2")})])
    got = store.get("ltm profile http2", "/Common/h2")
    assert {k: got[k] for k in ("activation-modes", "concurrent-streams-per-connection", "frame-size",
                                "insert-header-name", "enforce-tls-requirements")} == {
        "activation-modes": ["alpn"], "concurrent-streams-per-connection": 10, "frame-size": 2048,
        "insert-header-name": "X-HTTP2", "enforce-tls-requirements": "enabled"}
    assert store.get("ltm profile httprouter", "/Common/httprouter") is not None
    with pytest.raises(Invalid, match='"h3" is not one of alpn, always, npn'):
        store.commit([Op("modify", "ltm profile http2", "/Common/h2", {"activation-modes": ("set", ["h3"])})])
    assert store.get("ltm profile http2", "/Common/h2")["activation-modes"] == ["alpn"]


def test_as3_http2_profile_and_ingress_egress_with_mrf_routing():
    svc, store = deploy(**web(profileHTTP2={"ingress": {"use": "h2in"}, "egress": {"use": "h2out"}},
                              httpMrfRoutingEnabled=True),
                        h2in={"class": "HTTP2_Profile", "activationMode": "always", "concurrentStreamsPerConnection": 20},
                        h2out={"class": "HTTP2_Profile", "enforceTlsRequirements": False})
    got = store.get("ltm profile http2", "/Shop/App/h2in")
    assert (got["activation-modes"], got["concurrent-streams-per-connection"], got["defaults-from"]) == \
        (["always"], 20, "/Common/http2")
    assert store.get("ltm profile http2", "/Shop/App/h2out")["enforce-tls-requirements"] == "disabled"
    profiles = store.get("ltm virtual", "/Shop/App/serviceMain")["profiles"]
    assert {"/Shop/App/h2in", "/Shop/App/h2out", "/Common/httprouter"} <= set(profiles)
    assert gone(svc, store)


def test_as3_profile_http2_must_point_at_an_http2_profile():
    from tests.unit.test_as3_core import services
    svc, store, _ = services()
    status, out = run(svc, adc(Shop={"class": "Tenant", "App": web(profileHTTP2={"ingress": {"use": "web_pool"}})}))
    assert status == 422
    assert any("/Shop/App/serviceMain/profileHTTP2/ingress: /Shop/App/web_pool is a Pool, not a HTTP2_Profile" in e
               for e in out["errors"]), out
    assert store.get("ltm virtual", "/Shop/App/serviceMain") is None
