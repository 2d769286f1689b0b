"""Content adaptation: the ICAP codec (RFC 3507), F5's icap / request-adapt / response-adapt
profiles and internal virtuals in tmsh and REST, and the proxy sending a request to an ICAP
server (REQMOD) and a response (RESPMOD), on loopback with an ICAP server of the test's own."""
from __future__ import annotations

import pytest
import trio

from node.config import tmsh
from node.errors import Invalid
from node.events import Hub
from node.log import Log
from node.ltm import icap
from node.ltm.service import LTM
from test_ssl_files import run

REQ = b"POST /up HTTP/1.1\r\nHost: web\r\nContent-Length: 5\r\n\r\n"


# -- the codec ---------------------------------------------------------------------------------
def test_reqmod_encapsulates_the_request_head_and_its_body_chunked():
    first, rest = icap.encode("REQMOD", "icap://10.0.0.1:1344/req", [("Host", "10.0.0.1:1344")], REQ, None, b"hello")
    head, _, payload = first.partition(b"\r\n\r\n")
    assert head.split(b"\r\n") == [b"REQMOD icap://10.0.0.1:1344/req ICAP/1.0", b"Host: 10.0.0.1:1344",
                                   b"Allow: 204", b"Encapsulated: req-hdr=0, req-body=%d" % len(REQ)]
    assert payload == REQ + b"5\r\nhello\r\n0\r\n\r\n" and rest is None


def test_a_request_without_body_is_null_body_and_respmod_has_both_heads():
    first, _ = icap.encode("REQMOD", "icap://h/", [], b"GET / HTTP/1.1\r\n\r\n")
    assert b"Encapsulated: req-hdr=0, null-body=18\r\n" in first
    res = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
    first, _ = icap.encode("RESPMOD", "icap://h/", [], b"GET / HTTP/1.1\r\n\r\n", res, b"ok")
    assert b"Encapsulated: req-hdr=0, res-hdr=18, res-body=%d\r\n" % (18 + len(res)) in first
    assert first.endswith(res + b"2\r\nok\r\n0\r\n\r\n")


def test_a_preview_sends_the_first_bytes_then_the_rest_after_100_continue():
    first, rest = icap.encode("REQMOD", "icap://h/", [], REQ, None, b"hello world", preview=5)
    assert b"Preview: 5\r\n" in first and first.endswith(b"5\r\nhello\r\n0\r\n\r\n")
    assert rest == b"6\r\n world\r\n0\r\n\r\n"
    first, rest = icap.encode("REQMOD", "icap://h/", [], REQ, None, b"hi", preview=5)
    assert first.endswith(b"2\r\nhi\r\n0; ieof\r\n\r\n") and rest is None   # all of it in the preview


def test_responses_parse_whole_or_not_at_all():
    adapted = b"GET /x HTTP/1.1\r\nHost: web\r\nX-Adapted: 1\r\n\r\n"
    wire = (b"ICAP/1.0 200 OK\r\nISTag: \"t1\"\r\nEncapsulated: req-hdr=0, null-body=%d\r\n\r\n" % len(adapted)) + adapted
    for cut in range(len(wire)):
        assert icap.parse(wire[:cut]) is None
    resp, used = icap.parse(wire + b"extra")
    assert (resp.status, resp.req_head, resp.body, used) == (200, adapted, None, len(wire))
    res = b"HTTP/1.1 403 Forbidden\r\n\r\n"
    wire = b"ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=%d\r\n\r\n" % len(res) + res + b"3;x\r\nno!\r\n0\r\n\r\n"
    resp, _ = icap.parse(wire)
    assert (resp.res_head, resp.body) == (res, b"no!")
    assert icap.parse(b"ICAP/1.0 204 No Content\r\nEncapsulated: null-body=0\r\n\r\n")[0].unmodified
    assert icap.parse(b"ICAP/1.0 100 Continue\r\n\r\n")[0].status == 100


@pytest.mark.parametrize("wire", [b"HTTP/1.1 200 OK\r\n\r\n", b"ICAP/1.0 200 OK\r\nEncapsulated: bogus\r\n\r\n",
                                  b"ICAP/1.0 200 OK\r\nEncapsulated: req-hdr=0, req-body=0\r\n\r\nzz\r\n"])
def test_what_is_not_icap_is_refused(wire):
    with pytest.raises(icap.Bad):
        icap.parse(wire)


def test_the_icap_profiles_values_make_the_uri_and_headers_with_f5s_macros():
    uri, headers = icap.request_headers({"uri": "icap://${SERVER_IP}:${SERVER_PORT}/av", "header-from": "bigip",
                                         "user-agent": "none"}, ("10.0.0.9", 1344))
    assert uri == "icap://10.0.0.9:1344/av"
    assert headers == [("Host", "10.0.0.9:1344"), ("From", "bigip")]


# -- the model ---------------------------------------------------------------------------------
def test_a_bigip_has_f5s_builtin_icap_and_adapt_profiles(store):
    assert store.get("ltm profile icap", "/Common/icap")["preview-length"] == 0
    req = store.get("ltm profile request-adapt", "/Common/requestadapt")
    assert (req["internal-virtual"], req["preview-size"], req["service-down-action"], req["allow-http-10"],
            req["enabled"], req["timeout"]) == ("none", 1024, "ignore", "no", "yes", 0)
    assert store.get("ltm profile response-adapt", "/Common/responseadapt") is not None


def test_the_profiles_and_an_internal_virtual_sync_with_the_device_group():
    from node.config.schema import TYPES
    assert {TYPES[t].scope_of({"internal": True}) for t in ("ltm profile icap", "ltm profile request-adapt",
                                                            "ltm profile response-adapt", "ltm virtual")} == {"synced"}


def test_tmsh_makes_an_internal_virtual_and_adapt_profiles_pointing_at_it(store):
    run(store, "create ltm pool icap_pool members add { 127.0.0.1:1344 }")
    run(store, "create ltm profile icap av uri \"icap://${SERVER_IP}:${SERVER_PORT}/reqmod\" preview-length 10")
    run(store, "create ltm virtual icap_vs internal pool icap_pool profiles replace-all-with { tcp av }")
    vs = store.get("ltm virtual", "/Common/icap_vs")
    assert vs["internal"] is True and vs["destination"] == "/Common/0.0.0.0:0"
    run(store, "create ltm virtual icap_vs2 internal pool icap_pool profiles replace-all-with { tcp av }")  # no clash
    run(store, "create ltm profile request-adapt req internal-virtual icap_vs service-down-action reset timeout 500")
    prof = store.get("ltm profile request-adapt", "/Common/req")
    assert (prof["internal-virtual"], prof["defaults-from"], prof["timeout"]) == ("/Common/icap_vs", "/Common/requestadapt", 500)
    text = tmsh.render("ltm virtual", "/Common/icap_vs", vs)
    assert "    internal\n" in text
    assert "    internal-virtual icap_vs\n" in tmsh.render("ltm profile request-adapt", "/Common/req", prof)


def test_bad_adapt_profiles_are_refused_and_nothing_changes(store):
    before = dict(store.objects)
    with pytest.raises(Invalid):
        run(store, "create ltm profile request-adapt r service-down-action explode")
    with pytest.raises(Exception, match="nope"):
        run(store, "create ltm profile request-adapt r internal-virtual nope")
    with pytest.raises(Invalid):
        run(store, "create ltm profile icap i preview-length 4294967296")
    assert store.objects == before


async def test_rest_takes_and_shows_the_profiles_and_an_internal_virtual_in_f5s_shapes(tmp_path):
    import httpx
    from node.rest.app import RestApp
    from test_icontrol import fake_parts
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=RestApp(**fake_parts(tmp_path)).app),
                                 base_url="https://localhost", auth=("admin", "admin")) as c:
        got = (await c.get("/mgmt/tm/ltm/profile/request-adapt/~Common~requestadapt")).json()
        assert (got["kind"], got["internalVirtual"], got["previewSize"], got["serviceDownAction"], got["allowHttp10"],
                got["enabled"]) == ("tm:ltm:profile:request-adapt:request-adaptstate", "none", 1024, "ignore", "no", "yes")
        r = await c.post("/mgmt/tm/ltm/profile/icap", json={"name": "av", "uri": "icap://10.1.20.30:1344/av",
                                                             "userAgent": "BIG-IP", "previewLength": 512})
        assert r.status_code == 200 and r.json()["userAgent"] == "BIG-IP", r.text
        r = await c.post("/mgmt/tm/ltm/virtual", json={"name": "icap_vs", "internal": True,
                                                        "profiles": [{"name": "tcp"}, {"name": "av"}]})
        assert r.status_code == 200 and r.json()["internal"] is True, r.text
        r = await c.post("/mgmt/tm/ltm/profile/response-adapt", json={"name": "res", "internalVirtual": "/Common/icap_vs",
                                                                      "serviceDownAction": "drop"})
        assert r.status_code == 200 and r.json()["internalVirtual"] == "/Common/icap_vs", r.text
        r = await c.patch("/mgmt/tm/ltm/profile/response-adapt/~Common~res", json={"serviceDownAction": "explode"})
        assert r.status_code == 400


# -- the proxy, on loopback --------------------------------------------------------------------
async def web_server(listeners, seen: list, body: bytes = b"hello"):
    async def handle(stream):
        data = b""
        while b"\r\n\r\n" not in data:
            data += await stream.receive_some(65536)
        seen.append(data)
        await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%b" % (len(body), body))
        await stream.aclose()
    await trio.serve_listeners(handle, listeners)


async def icap_server(listeners, asked: list, mode: str):
    """An ICAP responder: REQMOD adds X-Adapted to the request (or answers 403 itself: mode
    "block"), RESPMOD replaces the body; "204": no modification."""
    async def handle(stream):
        data = b""
        while not data.endswith(b"0\r\n\r\n") and not (b"null-body" in data and data.endswith(b"\r\n\r\n")):
            data += await stream.receive_some(65536)
        asked.append(data)
        head, _, payload = data.partition(b"\r\n\r\n")
        if mode == "204":
            out = b"ICAP/1.0 204 No Content\r\nEncapsulated: null-body=0\r\n\r\n"
        elif head.startswith(b"REQMOD") and mode == "block":
            res = b"HTTP/1.1 403 Forbidden\r\n\r\n"
            out = b"ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=%d\r\n\r\n" % len(res) + res + \
                b"7\r\nblocked\r\n0\r\n\r\n"
        elif head.startswith(b"REQMOD"):
            req_head = payload.split(b"\r\n\r\n")[0] + b"\r\nX-Adapted: yes\r\n\r\n"
            out = b"ICAP/1.0 200 OK\r\nEncapsulated: req-hdr=0, null-body=%d\r\n\r\n" % len(req_head) + req_head
        else:
            enc = dict(p.strip().split("=") for p in head.split(b"Encapsulated: ")[1].split(b"\r\n")[0].decode().split(","))
            res = payload[int(enc["res-hdr"]):int(enc["res-body"])]
            out = b"ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=%d\r\n\r\n" % len(res) + res + \
                b"7\r\nadapted\r\n0\r\n\r\n"
        await stream.send_all(out)
        await stream.aclose()
    await trio.serve_listeners(handle, listeners)


async def through(store, nursery, request: bytes) -> bytes:
    ltm = LTM("bigip1", store, lambda: ["traffic-group-1"], Log(None, "bigip1"), Hub())
    proxy_listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    nursery.start_soon(trio.serve_listeners, lambda s: ltm._connection("/Common/vs", s), proxy_listeners)
    client = await trio.open_tcp_stream("127.0.0.1", proxy_listeners[0].socket.getsockname()[1])
    await client.send_all(request)
    got = b""
    with trio.fail_after(10):
        while data := await client.receive_some(65536):
            got += data
    return got


async def setup(store, nursery, mode: str, kinds=("request-adapt",), action: str = "ignore"):
    seen, asked = [], []
    web = await trio.open_tcp_listeners(0, host="127.0.0.1")
    nursery.start_soon(web_server, web, seen)
    icap_port = 1
    if mode != "down":
        ic = await trio.open_tcp_listeners(0, host="127.0.0.1")
        nursery.start_soon(icap_server, ic, asked, mode)
        icap_port = ic[0].socket.getsockname()[1]
    run(store, f"create ltm pool web members add {{ 127.0.0.1:{web[0].socket.getsockname()[1]} }}")
    run(store, f"create ltm pool icap_pool members add {{ 127.0.0.1:{icap_port} }}")
    run(store, "create ltm profile icap av uri \"icap://${SERVER_IP}:${SERVER_PORT}/av\" header-from bigip")
    run(store, "create ltm virtual icap_vs internal pool icap_pool profiles replace-all-with { tcp av }")
    names = []
    for kind in kinds:
        run(store, f"create ltm profile {kind} {kind}1 internal-virtual icap_vs service-down-action {action}")
        names.append(f"{kind}1")
    run(store, f"create ltm virtual vs destination 127.0.0.100:80 pool web profiles replace-all-with {{ tcp http {' '.join(names)} }}")
    return seen, asked


async def test_reqmod_adds_a_header_the_server_sees(store):
    async with trio.open_nursery() as nursery:
        seen, asked = await setup(store, nursery, "add")
        got = await through(store, nursery, b"GET /a HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
        nursery.cancel_scope.cancel()
    assert got.startswith(b"HTTP/1.1 200 OK") and got.endswith(b"hello")
    assert b"X-Adapted: yes" in seen[0]
    assert asked[0].startswith(b"REQMOD icap://127.0.0.1:") and b"From: bigip\r\n" in asked[0]


async def test_the_icap_server_may_answer_the_client_itself(store):
    async with trio.open_nursery() as nursery:
        seen, _ = await setup(store, nursery, "block")
        got = await through(store, nursery, b"GET /a HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
        nursery.cancel_scope.cancel()
    assert got.startswith(b"HTTP/1.1 403 Forbidden") and got.endswith(b"blocked") and seen == []


async def test_respmod_replaces_the_response_and_204_leaves_it(store):
    async with trio.open_nursery() as nursery:
        await setup(store, nursery, "add", kinds=("response-adapt",))
        got = await through(store, nursery, b"GET /a HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
        nursery.cancel_scope.cancel()
    assert got.startswith(b"HTTP/1.1 200 OK") and got.endswith(b"\r\n\r\nadapted")


async def test_no_modification_passes_the_request_on_unchanged(store):
    async with trio.open_nursery() as nursery:
        seen, asked = await setup(store, nursery, "204", kinds=("request-adapt", "response-adapt"))
        got = await through(store, nursery, b"POST /a HTTP/1.1\r\nHost: web\r\nContent-Length: 3\r\n"
                                            b"Connection: close\r\n\r\nabc")
        nursery.cancel_scope.cancel()
    assert got.endswith(b"hello") and b"X-Adapted" not in seen[0] and len(asked) == 2
    assert asked[0].endswith(b"3\r\nabc\r\n0\r\n\r\n")


@pytest.mark.parametrize("action", ["ignore", "reset"])
async def test_service_down_action_when_the_icap_server_is_down(store, action):
    async with trio.open_nursery() as nursery:
        seen, _ = await setup(store, nursery, "down", action=action)
        try:
            got = await through(store, nursery, b"GET /a HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
        except trio.BrokenResourceError:
            got = b"reset"
        nursery.cancel_scope.cancel()
    if action == "ignore":
        assert got.endswith(b"hello") and b"X-Adapted" not in seen[0]
    else:
        assert got == b"reset" and seen == []


# -- AS3 ---------------------------------------------------------------------------------------
def adapt_decl(**svc) -> dict:
    from test_as3_core import adc, app
    return adc(Shop={"class": "Tenant", "Web": app(
        svc={"class": "Service_HTTP", "virtualAddresses": ["10.1.10.100"], "pool": "web",
             "profileRequestAdapt": {"use": "req"}, "profileResponseAdapt": {"bigip": "/Common/responseadapt"}, **svc},
        web={"class": "Pool", "members": [{"servicePort": 80, "serverAddresses": ["10.1.20.21"]}]},
        icap_pool={"class": "Pool", "members": [{"servicePort": 1344, "serverAddresses": ["10.1.20.30"]}]},
        av={"class": "ICAP_Profile", "uri": "icap://${SERVER_IP}:${SERVER_PORT}/reqmod", "fromHeader": "bigip",
            "previewLength": 100},
        icap_vs={"class": "Service_TCP", "virtualType": "internal", "pool": "icap_pool", "profileICAP": {"use": "av"}},
        req={"class": "Adapt_Profile", "messageType": "request", "internalService": {"use": "icap_vs"},
             "serviceDownAction": "reset", "timeout": 2000})})


def test_as3_adapt_and_icap_profiles_and_an_internal_service_deploy_as_objects():
    from test_as3_core import run as as3_run, services
    svc, store, _ = services()
    status, out = as3_run(svc, adapt_decl())
    assert status == 200, out
    vs = store.get("ltm virtual", "/Shop/Web/svc")
    assert {"/Shop/Web/req", "/Common/responseadapt"} <= set(vs["profiles"])
    internal = store.get("ltm virtual", "/Shop/Web/icap_vs")
    assert internal["internal"] is True and internal["destination"] == "/Shop/0.0.0.0:0"
    assert "/Shop/Web/av" in internal["profiles"] and internal["pool"] == "/Shop/Web/icap_pool"
    req = store.get("ltm profile request-adapt", "/Shop/Web/req")
    assert (req["internal-virtual"], req["service-down-action"], req["timeout"], req["preview-size"], req["enabled"]) == (
        "/Shop/Web/icap_vs", "reset", 2000, 1024, "yes")
    av = store.get("ltm profile icap", "/Shop/Web/av")
    assert (av["uri"], av["header-from"], av["preview-length"]) == ("icap://${SERVER_IP}:${SERVER_PORT}/reqmod", "bigip", 100)
    assert as3_run(svc, adapt_decl())[1]["results"][0]["message"] == "no change"
    status, out = as3_run(svc, None, ["Shop"], "DELETE")
    assert status == 200 and not [k for k in store.objects if k[1].startswith("/Shop/")]


def test_as3_request_and_response_makes_both_profiles_and_an_internal_service_ignores_its_address():
    from test_as3_core import run as as3_run, services
    svc, store, _ = services()
    decl = adapt_decl(profileRequestAdapt={"use": "both"}, profileResponseAdapt={"use": "both"})
    decl["Shop"]["Web"]["both"] = {"class": "Adapt_Profile", "messageType": "request-and-response",
                                   "internalService": {"use": "icap_vs"}, "allowHTTP10": True}
    decl["Shop"]["Web"]["icap_vs"].update(virtualAddresses=["10.1.10.200"], virtualPort=8181, sourceAddress="10.1.10.0/24")
    decl["Shop"]["Web"]["plain"] = {"class": "Service_TCP", "virtualAddresses": ["10.1.10.100"], "virtualPort": 9000,
                                    "profileICAP": {"use": "av"}}    # not internal: AS3 leaves the ICAP profile off
    status, out = as3_run(svc, decl)
    assert status == 200, out
    assert store.get("ltm profile request-adapt", "/Shop/Web/both_request")["allow-http-10"] == "yes"
    assert store.get("ltm profile response-adapt", "/Shop/Web/both_response")["internal-virtual"] == "/Shop/Web/icap_vs"
    assert {"/Shop/Web/both_request", "/Shop/Web/both_response"} <= set(store.get("ltm virtual", "/Shop/Web/svc")["profiles"])
    internal = store.get("ltm virtual", "/Shop/Web/icap_vs")
    assert (internal["destination"], internal["source"]) == ("/Shop/0.0.0.0:0", "10.1.10.0/24")
    assert "/Shop/Web/av" not in store.get("ltm virtual", "/Shop/Web/plain")["profiles"]
    assert as3_run(svc, decl)[1]["results"][0]["message"] == "no change"


def test_as3_refuses_an_adapt_profile_pointing_at_the_wrong_class_and_bad_values():
    from test_as3_core import errors_of
    decl = adapt_decl(profileRequestAdapt={"use": "web"})
    assert "/Shop/Web/svc/profileRequestAdapt: /Shop/Web/web is a Pool, not a Adapt_Profile" in errors_of(decl)
    decl = adapt_decl()
    decl["Shop"]["Web"]["req"]["serviceDownAction"] = "explode"
    assert errors_of(decl) == ["/Shop/Web/req/serviceDownAction: should be equal to one of the allowed values"]
    decl = adapt_decl()
    decl["Shop"]["Web"]["req"]["internalService"] = {"use": "web"}
    assert errors_of(decl) == ["/Shop/Web/req/internalService: /Shop/Web/web is a Pool, not a Service"]
    decl = adapt_decl()
    del decl["Shop"]["Web"]["req"]["messageType"]
    assert errors_of(decl) == ["/Shop/Web/req: should have required property 'messageType'"]
    decl = adapt_decl()
    del decl["Shop"]["Web"]["svc"]["virtualAddresses"]      # only an internal service goes without
    assert errors_of(decl) == ["/Shop/Web/svc: should have required property 'virtualAddresses'"]


def test_a_lab_is_ready_without_its_internal_virtuals_serving():
    """`up` waits for every virtual to serve on one device: an internal one serves on none."""
    from types import SimpleNamespace as NS
    from lab.lifecycle.readiness import ha_pending

    def device(active: bool):
        vs = lambda serving, internal: NS(serving=serving, internal=internal)   # noqa: E731
        return NS(sync=NS(status="In Sync"), failover=NS(traffic_groups={"traffic-group-1": "active" if active else "standby"}),
                  ltm=NS(virtuals={"/Common/vs": vs(active, False), "/Common/icap_vs": vs(False, True)}, pools={}))
    lab = NS(bigips=["b1", "b2"], status=lambda n: device(n == "b1"))
    assert ha_pending(lab, ["traffic-group-1"]) == []
    lab.status = lambda n: device(False)
    assert ha_pending(lab, ["traffic-group-1"]) == ["traffic-group-1 active on []"]
