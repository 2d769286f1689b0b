"""HTTP/2 (issue 14): ltm profile http2 in F5's shape, AS3's HTTP2_Profile and profileHTTP2
(ingress/egress) with httpMrfRoutingEnabled, and the gateway's sans-IO part (node/ltm/h2gate.py): an
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


# -- the gateway's sans-IO part (node/ltm/h2gate.py) ---------------------------------------------------
from node.ltm import h2gate, http1  # noqa: E402


def test_activation_modes_decide_which_clients_speak_h2():
    alpn, always = {"activation-modes": ["alpn"]}, {"activation-modes": ["always"]}
    assert h2gate.offers_alpn(alpn) == ("h2", "http/1.1") and h2gate.offers_alpn(always) == ()
    assert h2gate.offers_alpn(None) == ()
    assert h2gate.speaks_h2(alpn, "h2") and not h2gate.speaks_h2(alpn, "http/1.1") and not h2gate.speaks_h2(alpn, None)
    assert h2gate.speaks_h2(always, None)          # h2c from the first byte
    assert not h2gate.speaks_h2(None, "h2")        # no http2 profile: never


def test_a_stream_becomes_an_http1_request_with_host_cookies_and_length():
    first, headers = h2gate.request_head([(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"shop.test"),
                                          (b":path", b"/cart?x=1"), (b"cookie", b"a=1"), (b"cookie", b"b=2"),
                                          (b"te", b"trailers"), (b"accept", b"*/*")], 5)
    assert first == b"POST /cart?x=1 HTTP/1.1"
    assert headers == [(b"host", b"shop.test"), (b"accept", b"*/*"), (b"cookie", b"a=1; b=2"), (b"content-length", b"5")]


@pytest.mark.parametrize("headers", [
    [(b":method", b"GET"), (b":path", b"/"), (b"connection", b"keep-alive")],
    [(b":method", b"GET"), (b":path", b"/"), (b":path", b"/again")],
    [(b":method", b"GET"), (b":path", b"/"), (b":status", b"200")],
    [(b":path", b"/")]])
def test_a_stream_with_connection_headers_or_bad_pseudo_headers_is_refused(headers):
    with pytest.raises(h2gate.BadStream):
        h2gate.request_head(headers, None)


def test_a_members_response_loses_its_connection_headers_and_gains_status():
    head = http1.Head(b"", b"", 404, b"Not Found", "1.1", [(b"Content-Type", b"text/plain"), (b"Connection", b"keep-alive"),
                                                          (b"Transfer-Encoding", b"chunked")], True, True, False)
    assert h2gate.response_headers(head) == [(b":status", b"404"), (b"content-type", b"text/plain")]


# -- the gateway over real sockets: two streams side by side, a body past the first window ----------
import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.events  # noqa: E402
import trio  # noqa: E402

from node.ltm import proxy  # noqa: E402
from node.ltm.hooks import Flow  # noqa: E402
from node.ltm.service import LTM, Stats  # noqa: E402


def pair():
    a, b = trio.socket.socketpair()
    return trio.SocketStream(a), trio.SocketStream(b)


class Members:
    """What of the LTM the gateway uses: each connection to a member is a socket pair whose other
    end answers one HTTP/1.1 request with `web1 TARGET BODY-LENGTH` (and says keep-alive)."""
    _http2, _h2_stream = LTM._http2, LTM._h2_stream

    def __init__(self, nursery):
        self.nursery, self.stats, self.heads = nursery, Stats(), []

    def stat(self, *_):
        return self.stats

    def _pick(self, flow, hook):
        return proxy.Picked(None, None, "10.1.20.21", 80)

    async def _connect(self, vs, flow, picked):
        mine, theirs = pair()
        self.nursery.start_soon(self.answer, theirs)
        return mine

    async def answer(self, stream):
        side = proxy.HttpSide(stream, http1.Reader(True), [], "bytes_in")
        head, n = await side.next_head(), 0
        self.heads.append(head)
        while (data := await side.next_data()) is not http1.END:
            n += len(data)
        body = b"web1 %b %d" % (head.target, n)
        await stream.send_all(b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body))

    def _opened(self, picked, scope):
        return None

    def _closed(self, picked, entry):
        pass


async def test_two_streams_go_to_members_as_http1_and_come_back_on_their_streams():
    async with trio.open_nursery() as nursery:
        ltm = Members(nursery)
        client, virtual = pair()
        flow = Flow("/Common/vs_h2", ("10.1.10.51", 40000), ("10.1.10.100", 80), "/Common/web_pool")
        nursery.start_soon(ltm._http2, {}, virtual, flow, None, trio.CancelScope(), {"activation-modes": ["always"]})
        c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        c.initiate_connection()
        c.send_headers(1, [(":method", "GET"), (":path", "/a"), (":scheme", "http"), (":authority", "shop")],
                       end_stream=True)
        c.send_headers(3, [(":method", "POST"), (":path", "/b"), (":scheme", "http"), (":authority", "shop")])
        await client.send_all(c.data_to_send())
        for _ in range(4):    # 65000 bytes: the first window (65535) almost, in frames of 16 kB
            c.send_data(3, b"y" * 16000)
        c.send_data(3, b"y" * 1000, end_stream=True)
        got, status = {}, {}
        with trio.fail_after(5):
            await client.send_all(c.data_to_send())
            while len(status) < 2 or any(not s[1] for s in status.values()):
                for ev in c.receive_data(await client.receive_some(65536)):
                    if isinstance(ev, h2.events.ResponseReceived):
                        status[ev.stream_id] = [dict(ev.headers)[b":status"], False]
                    elif isinstance(ev, h2.events.DataReceived):
                        got[ev.stream_id] = got.get(ev.stream_id, b"") + ev.data
                        c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        status[ev.stream_id][1] = True
                await client.send_all(c.data_to_send())
        assert got == {1: b"web1 /a 0", 3: b"web1 /b 65000"} and status == {1: [b"200", True], 3: [b"200", True]}
        assert sorted((h.method, h.target, h.version, (b"host", b"shop") in h.headers) for h in ltm.heads) == [
            (b"GET", b"/a", "1.1", True), (b"POST", b"/b", "1.1", True)]
        nursery.cancel_scope.cancel()


# -- explicit proxy's objects: net dns-resolver, ltm profile http-proxy-connect (stored only) ---------
from tests.unit.test_gtm_sync import tmsh  # noqa: E402


def test_a_dns_resolver_keeps_its_forward_zones_and_an_explicit_proxy_names_it():
    store = ConfigStore(None, "b1")
    tmsh(store, "create net dns-resolver lab-dns forward-zones add { lab.test { nameservers { 10.1.30.53:53 } } }")
    tmsh(store, "create ltm profile http http_explicit proxy-type explicit explicit-proxy { dns-resolver lab-dns }")
    got = store.get("net dns-resolver", "/Common/lab-dns")
    assert got["forward-zones"] == [{"name": "lab.test", "nameservers": ["10.1.30.53:53"]}]
    assert (got["cache-size"], got["use-udp"], got["route-domain"]) == (5767168, "yes", "0")
    assert store.get("ltm profile http", "/Common/http_explicit")["explicit-proxy"]["dns-resolver"] == "lab-dns"
    assert store.get("ltm profile http-proxy-connect", "/Common/http-proxy-connect")["default-state"] == "disabled"
    from node.config import conf
    text = conf.dump(store.objects)["bigip_base.conf"]
    assert "        lab.test {\n            nameservers {\n                10.1.30.53:53 { }\n            }\n        }" in text
    again = ConfigStore(None, "b2")
    again.commit([o for o in conf.replace_ops(again.objects, conf.parse(text)) if o.type == "net dns-resolver"])
    assert again.get("net dns-resolver", "/Common/lab-dns") == got


def test_as3_proxy_connect_and_resolver_make_their_profiles():
    svc, store = deploy(**web(profileHTTP={"use": "proxy"}),
                        proxy={"class": "HTTP_Profile", "proxyType": "explicit", "proxyConnectEnabled": True,
                               "resolver": {"bigip": "/Common/lab-dns"}})
    assert store.get("ltm profile http", "/Shop/App/proxy")["explicit-proxy"]["dns-resolver"] == "/Common/lab-dns"
    assert store.get("ltm profile http-proxy-connect", "/Shop/App/proxy-proxy-connect")["default-state"] == "enabled"
    assert "/Shop/App/proxy-proxy-connect" in store.get("ltm virtual", "/Shop/App/serviceMain")["profiles"]
    assert gone(svc, store)


# -- an explicit proxy's CONNECT: its sans-IO part (node/ltm/explicit.py) ------------------------------
from node.ltm import explicit  # noqa: E402


def test_connect_target_and_who_allows_it():
    assert explicit.target(b"web.lab.test:443") == ("web.lab.test", 443)
    assert explicit.target(b"[2001:db8::1]:8443") == ("2001:db8::1", 8443)
    for bad in (b"web.lab.test", b":443", b"web:0", b"web:http"):
        with pytest.raises(ValueError):
            explicit.target(bad)
    deny, allow = {"explicit-proxy": {"default-connect-handling": "deny"}}, {"explicit-proxy": {"default-connect-handling": "allow"}}
    assert not explicit.allowed(deny, None) and explicit.allowed(allow, None)
    assert explicit.allowed(deny, {"default-state": "enabled"}) and not explicit.allowed(allow, {"default-state": "disabled"})


def test_the_longest_forward_zone_holding_the_name_answers_it():
    resolver = {"forward-zones": [{"name": "lab.test", "nameservers": ["10.1.30.53:53"]},
                                  {"name": "shop.lab.test.", "nameservers": ["10.1.30.54:5353"]},
                                  {"name": "empty.test", "nameservers": []}]}
    assert explicit.nameserver(resolver, "www.shop.lab.test") == ("10.1.30.54", 5353)
    assert explicit.nameserver(resolver, "lab.test") == ("10.1.30.53", 53)
    assert explicit.nameserver(resolver, "notlab.test") is None and explicit.nameserver(resolver, "a.empty.test") is None


async def test_an_address_needs_no_resolver_and_a_name_outside_every_zone_is_unresolved():
    assert await explicit.resolve(None, "10.1.20.21") == "10.1.20.21"
    with pytest.raises(explicit.Unresolved):
        await explicit.resolve({"forward-zones": []}, "example.com")


def test_a_dns_resolver_in_rest_has_f5s_shape_both_ways():
    from node.rest import resources
    store = ConfigStore(None, "b1")
    body = {"name": "lab-dns", "forwardZones": [{"name": "lab.test", "nameservers": [{"name": "10.1.30.53:53"}]}]}
    store.commit([Op("create", "net dns-resolver", "/Common/lab-dns", resources.values_from_rest("net dns-resolver", body))])
    shown = resources.to_rest("net dns-resolver", "/Common/lab-dns", store.get("net dns-resolver", "/Common/lab-dns"), 1)
    assert shown["kind"] == "tm:net:dns-resolver:dns-resolverstate"
    assert shown["forwardZones"] == body["forwardZones"] and shown["useUdp"] == "yes"
