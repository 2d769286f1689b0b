"""ltm profile sip: the parser and the Call-ID decider (node/ltm/sip.py), the profile in the object
model (tmsh, REST, AS3), the SIP iRule commands, and a UDP and a TCP SIP virtual on loopback."""
from __future__ import annotations

import pytest
import trio

from node.config import tmsh
from node.config.store import Op
from node.errors import Invalid
from node.events import Hub
from node.log import Log
from node.ltm import sip
from node.ltm.service import LTM
from test_ssl_files import run

INVITE = (b"INVITE sip:bob@example.com SIP/2.0\r\n"
          b"Via: SIP/2.0/UDP 10.1.10.51:5060;branch=z9hG4bK776asdhds\r\n"
          b"Max-Forwards: 70\r\nTo: Bob <sip:bob@example.com>\r\n"
          b"From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
          b"Call-ID: a84b4c76e66710@pc33\r\nCSeq: 314159 INVITE\r\n"
          b"Contact: <sip:alice@10.1.10.51>\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n")


def invite(call_id: str = "a84b4c76e66710@pc33", method: str = "INVITE") -> bytes:
    return INVITE.replace(b"a84b4c76e66710@pc33", call_id.encode()).replace(b"INVITE", method.encode())


# -- the parser ------------------------------------------------------------------------------------
def test_a_request_parses_with_its_headers_and_body():
    m = sip.parse(INVITE)
    assert (m.method, m.uri, m.call_id, m.body, m.is_request) == (
        "INVITE", "sip:bob@example.com", "a84b4c76e66710@pc33", b"v=0\n", True)
    assert m.header("cseq") == "314159 INVITE" and m.header("content-type") == "application/sdp"


def test_compact_names_folded_lines_and_a_response():
    m = sip.parse(b"SIP/2.0 180 Ringing\r\nv: SIP/2.0/UDP a:5060;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\n"
                  b"f: <sip:a@x>;tag=1\r\nt: <sip:b@x>\r\n ;tag=2\r\ni: c1\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n")
    assert (m.status, m.reason, m.call_id, m.is_request) == (180, "Ringing", "c1", False)
    assert m.values("Via") == ["SIP/2.0/UDP a:5060;branch=z9hG4bK1", "SIP/2.0/UDP b;branch=z9hG4bK2"]
    assert m.header("To") == "<sip:b@x> ;tag=2"


def test_a_datagram_body_past_content_length_is_discarded_and_leading_crlfs_ignored():
    m = sip.parse(b"\r\n\r\n" + INVITE + b"garbage")
    assert m.body == b"v=0\n"


@pytest.mark.parametrize("data,why", [
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "not a SIP start line"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(100), "no end of headers"),
    (INVITE.replace(b"Call-ID: a84b4c76e66710@pc33\r\n", b""), "no Call-ID header"),
    (INVITE.replace(b"Content-Length: 4", b"Content-Length: 400"), "Content-Length 400 over"),
    (INVITE.replace(b"Content-Length: 4", b"Content-Length: four"), "bad Content-Length"),
    (INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards 70"), "bad header line"),
    (INVITE.replace(b"INVITE sip:", b"invite sip:", 1), "not a SIP start line"),
    (b"\xff\xfe" + INVITE, "not UTF-8"),
])
def test_what_is_not_sip_is_refused_with_the_reason(data, why):
    with pytest.raises(sip.Bad, match=why.replace("(", r"\(")):
        sip.parse(data)


def test_max_size_refuses_a_larger_message_and_zero_is_no_limit():
    with pytest.raises(sip.Bad, match="over max-size 100"):
        sip.parse(INVITE, 100)
    assert sip.parse(INVITE, 0).call_id


def test_a_stream_is_framed_by_content_length_across_reads():
    framer = sip.Framer()
    assert framer.feed(INVITE[:50]) == []
    got = framer.feed(INVITE[50:] + invite("second")[:-2])
    assert [m.call_id for m in got] == ["a84b4c76e66710@pc33"]
    assert [m.call_id for m in framer.feed(invite("second")[-2:])] == ["second"]
    with pytest.raises(sip.Bad, match="no Content-Length"):
        sip.Framer().feed(INVITE.replace(b"Content-Length: 4\r\n", b""))
    with pytest.raises(sip.Bad, match="over max-size"):
        sip.Framer(64).feed(b"INVITE sip:x SIP/2.0\r\n" + b"X: y\r\n" * 20)


def test_the_via_inserted_on_requests_comes_off_the_responses():
    profile = {"insert-via-header": "enabled"}
    out = sip.forwarded(sip.parse(INVITE), profile, "udp", ("10.1.20.5", 40000), 7)
    assert out.headers[0] == ("Via", "SIP/2.0/UDP 10.1.20.5:40000;branch=z9hG4bKf5-7")
    answer = sip.parse(out.to_bytes().replace(b"INVITE sip:bob@example.com SIP/2.0", b"SIP/2.0 200 OK"))
    assert answer.without_own_via().values("Via") == ["SIP/2.0/UDP 10.1.10.51:5060;branch=z9hG4bK776asdhds"]
    # a response whose top Via is another's keeps it; no insert-via-header: the request goes as it came
    assert sip.parse(INVITE).without_own_via() == sip.parse(INVITE)
    assert sip.forwarded(sip.parse(INVITE), {"insert-via-header": "disabled"}, "udp", ("a", 1), 1) == sip.parse(INVITE)


def test_secure_and_user_via_headers():
    secure = sip.via({"secure-via-header": "enabled"}, "tcp", "10.1.20.5", 5060, 1)
    assert secure.startswith("SIP/2.0/TLS 10.1.20.5:5060;branch=z9hG4bK")
    user = sip.via({"user-via-header": "SIP/2.0/UDP 10.10.10.10:5060"}, "udp", "x", 1, 2)
    assert user == "SIP/2.0/UDP 10.10.10.10:5060;branch=z9hG4bKf5-2"


def test_calls_keep_a_call_id_on_its_member_until_the_session_timeout():
    calls = sip.Calls(timeout=300)
    calls.remember("/Common/vs", "c1", "/Common/10.1.20.21:5060", now=0)
    assert calls.member("/Common/vs", "c1", 299) == "/Common/10.1.20.21:5060"
    assert calls.member("/Common/other", "c1", 10) is None       # another virtual's are its own
    assert calls.member("/Common/vs", "c1", 300) is None and not calls.records
    calls.remember("/Common/vs", "c2", "m", now=0)
    calls.expire(400)
    assert not calls.records
    assert sip.scope_of("/Common/a", {"community": "grp"}) == sip.scope_of("/Common/b", {"community": "grp"})
    assert sip.scope_of("/Common/a", {"community": "none"}) == "/Common/a"


def test_a_2xx_to_bye_ends_the_dialog_with_terminate_on_bye():
    ok_bye = sip.parse(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
                       b"To: <sip:b@x>;tag=2\r\nCall-ID: c1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n")
    assert sip.ends_dialog(ok_bye, {}) and not sip.ends_dialog(ok_bye, {"terminate-on-bye": "disabled"})
    assert not sip.ends_dialog(sip.parse(INVITE), {})


# -- the object model ------------------------------------------------------------------------------
def test_a_bigip_has_f5s_sip_profile_with_its_defaults(store):
    p = store.get("ltm profile sip", "/Common/sip")
    assert (p["defaults-from"], p["insert-via-header"], p["secure-via-header"], p["max-size"], p["community"],
            p["dialog-aware"], p["terminate-on-bye"], p["sip-session-timeout"], p["rtp-proxy-style"],
            p["enable-sip-firewall"], p["user-via-header"]) == (
        "none", "disabled", "disabled", 65535, "none", "disabled", "enabled", 300, "symmetric", "no", "none")


def test_tmsh_makes_a_sip_profile_and_bad_values_change_nothing(store):
    run(store, "create ltm profile sip mysip insert-via-header enabled max-size 4096 community voice")
    p = store.get("ltm profile sip", "/Common/mysip")
    assert (p["defaults-from"], p["insert-via-header"], p["max-size"], p["community"]) == (
        "/Common/sip", "enabled", 4096, "voice")
    text = tmsh.render("ltm profile sip", "/Common/mysip", p)
    assert "    insert-via-header enabled\n" in text and "    max-size 4096\n" in text
    before = dict(store.objects)
    for line in ("create ltm profile sip bad insert-via-header maybe", "create ltm profile sip bad max-size 4294967296",
                 "modify ltm profile sip mysip dialog-aware sometimes"):
        with pytest.raises(Invalid):
            run(store, line)
    assert store.objects == before


async def test_rest_shows_and_takes_the_profile_in_f5s_shape(tmp_path):
    import httpx
    from node.rest.app import RestApp
    from test_icontrol import fake_parts
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=RestApp(**fake_parts(tmp_path)).app),
                                 base_url="https://localhost", auth=("admin", "admin")) as c:
        got = (await c.get("/mgmt/tm/ltm/profile/sip/~Common~sip")).json()
        assert (got["kind"], got["insertViaHeader"], got["maxSize"], got["dialogEstablishmentTimeout"],
                got["enableSipFirewall"]) == ("tm:ltm:profile:sip:sipstate", "disabled", 65535, 10, "no")
        r = await c.post("/mgmt/tm/ltm/profile/sip", json={"name": "voice", "insertViaHeader": "enabled",
                                                           "secureViaHeader": "enabled", "maxSize": 2048})
        assert r.status_code == 200 and r.json()["defaultsFrom"] == "/Common/sip", r.text
        r = await c.patch("/mgmt/tm/ltm/profile/sip/~Common~voice", json={"maxSize": -1})
        assert r.status_code == 400
        assert (await c.get("/mgmt/tm/ltm/profile/sip/~Common~voice")).json()["maxSize"] == 2048


def test_the_profile_syncs_with_the_device_group():
    from node.config.schema import TYPES
    assert TYPES["ltm profile sip"].scope_of({}) == "synced"


# -- AS3 ---------------------------------------------------------------------------------------------
def sip_decl(**svc) -> dict:
    from test_as3_core import adc, app
    return adc(Voice={"class": "Tenant", "Phones": app(
        svc={"class": "Service_UDP", "virtualAddresses": ["10.1.10.100"], "virtualPort": 5060, "pool": "pbx",
             "profileSIP": {"use": "sipProf"}, **svc},
        tcp={"class": "Service_TCP", "virtualAddresses": ["10.1.10.100"], "virtualPort": 5060, "pool": "pbx",
             "profileSIP": {"bigip": "/Common/sip"}},
        sipProf={"class": "SIP_Profile", "remark": "phones"},
        pbx={"class": "Pool", "members": [{"servicePort": 5060, "serverAddresses": ["10.1.20.21", "10.1.20.22"]}]})})


def test_as3_sip_profile_and_profile_sip_deploy_as_objects():
    from test_as3_core import run as as3_run, services
    svc, store, _ = services()
    status, out = as3_run(svc, sip_decl())
    assert status == 200, out
    prof = store.get("ltm profile sip", "/Voice/Phones/sipProf")
    assert (prof["defaults-from"], prof["description"]) == ("/Common/sip", "phones")
    udp = store.get("ltm virtual", "/Voice/Phones/svc")
    assert udp["ip-protocol"] == "udp" and "/Voice/Phones/sipProf" in udp["profiles"]
    assert "/Common/sip" in store.get("ltm virtual", "/Voice/Phones/tcp")["profiles"]
    assert as3_run(svc, sip_decl())[1]["results"][0]["message"] == "no change"
    status, _ = as3_run(svc, None, ["Voice"], "DELETE")
    assert status == 200 and not [k for k in store.objects if k[1].startswith("/Voice/")]


def test_as3_refuses_a_sip_pointer_at_the_wrong_class_and_properties_sip_profile_has_not():
    from test_as3_core import errors_of
    assert "/Voice/Phones/svc/profileSIP: /Voice/Phones/pbx is a Pool, not a SIP_Profile" in \
        errors_of(sip_decl(profileSIP={"use": "pbx"}))
    decl = sip_decl()
    decl["Voice"]["Phones"]["sipProf"]["insertViaHeader"] = True   # AS3's SIP_Profile has no settings
    assert errors_of(decl) == ["/Voice/Phones/sipProf: should NOT have additional properties"]


# -- iRules ------------------------------------------------------------------------------------------
def test_sip_irule_commands_read_the_message_and_respond():
    from node.ltm.hooks import Flow
    from test_irules_tcl import IRules, Log, rule, store_with
    text = """when SIP_REQUEST {
        log local0. "[SIP::method] [SIP::uri] [SIP::call_id] [SIP::header From] [SIP::header count via]"
        if { [SIP::method] eq "REGISTER" } { SIP::respond 403 Forbidden }
        SIP::header insert X-Seen yes
    }"""
    store = store_with(rule("r", text), Op("create", "ltm virtual", "/Common/vs", {
        "destination": ("set", "10.1.10.100:5060"), "ip-protocol": ("set", "udp"), "pool": ("set", "web_pool"),
        "profiles": ("set", ["udp", "sip"]), "rules": ("set", ["r"])}))
    log = Log()
    rules = IRules(store, log)
    rules.reconcile()
    hook = rules.hook_for("/Common/vs")
    flow = Flow("/Common/vs", ("10.1.10.51", 5060), ("10.1.10.100", 5060), "/Common/web_pool")
    flow.data["sip"] = sip.parse(INVITE)
    hook.fire("SIP_REQUEST", flow)
    assert flow.outcome is None and flow.data["sip"].header("X-Seen") == "yes"
    assert "INVITE sip:bob@example.com a84b4c76e66710@pc33 Alice <sip:alice@example.com>;tag=1928301774 1" in \
        log.lines[-1][1]
    flow.data["sip"] = sip.parse(invite(method="REGISTER"))
    hook.fire("SIP_REQUEST", flow)
    assert (flow.outcome.kind, flow.outcome.status, flow.outcome.body) == ("respond", 403, b"Forbidden")


# -- the data plane, on loopback ----------------------------------------------------------------------
async def uas(sock, name: str, seen: list):
    """A SIP UAS: answers each request 200 OK with its own name in a header, its Via kept."""
    while True:
        data, addr = await sock.recvfrom(65536)
        seen.append((name, data))
        req = sip.parse(data)
        keep = tuple(h for h in req.headers if sip.canonical(h[0]) in ("via", "from", "to", "call-id", "cseq"))
        await sock.sendto(sip.Message(None, "", 200, "OK", keep + (("X-Member", name),)).to_bytes(), addr)


async def ask(port: int, data: bytes) -> sip.Message | None:
    client = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_DGRAM)
    with client:
        await client.bind(("127.0.0.1", 0))
        await client.sendto(data, ("127.0.0.100", port))
        with trio.move_on_after(2):
            return sip.parse((await client.recvfrom(65536))[0])
    return None


async def test_a_udp_sip_virtual_keeps_a_call_on_one_member_inserts_via_and_drops_garbage(store, autojump_clock):
    seen: list = []
    async with trio.open_nursery() as nursery:
        ports = []
        for name in ("uas1", "uas2"):
            s = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_DGRAM)
            await s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
            nursery.start_soon(uas, s, name, seen)
        run(store, f"create ltm pool pbx members add {{ 127.0.0.1:{ports[0]} 127.0.0.1:{ports[1]} }}")
        run(store, "create ltm profile sip via insert-via-header enabled")
        run(store, "create ltm virtual vs destination 127.0.0.100:15060 ip-protocol udp pool pbx "
                   "profiles replace-all-with { udp via }")
        ltm = LTM("bigip1", store, lambda: ["traffic-group-1"], Log(None, "bigip1"), Hub())
        nursery.start_soon(ltm.sip.listen_udp, "/Common/vs", ("127.0.0.100", 15060, "udp"), trio.CancelScope())
        await trio.sleep(0.1)
        first = await ask(15060, invite("call-1"))
        again = [await ask(15060, invite("call-1", m)) for m in ("ACK", "BYE")]
        other = await ask(15060, invite("call-2"))
        assert first.header("X-Member") == again[0].header("X-Member") == again[1].header("X-Member")
        assert other.header("X-Member") != first.header("X-Member")    # a new call: the pool's next member
        # the member saw the BIG-IP's Via on top; the client gets the response without it
        member_saw = sip.parse(seen[0][1])
        assert member_saw.values("Via")[0].startswith("SIP/2.0/UDP 127.0.0.1:") and len(member_saw.values("Via")) == 2
        assert first.values("Via") == ["SIP/2.0/UDP 10.1.10.51:5060;branch=z9hG4bK776asdhds"]
        # garbage is dropped (no answer) and counted; the virtual goes on
        assert await ask(15060, b"GET / HTTP/1.1\r\n\r\n") is None
        assert ltm.sip.count("/Common/vs").malformed == 1 and ltm.stat("virtual", "/Common/vs").refused == 1
        assert (await ask(15060, invite("call-1", "OPTIONS"))).header("X-Member") == first.header("X-Member")
        nursery.cancel_scope.cancel()
    assert ltm.sip.count("/Common/vs").via_inserted == 5


async def test_a_tcp_sip_virtual_frames_the_stream_and_resets_on_garbage(store):
    seen: list = []

    async def tcp_uas(stream):
        framer = sip.Framer()
        while data := await stream.receive_some(65536):
            for req in framer.feed(data):
                seen.append(req)
                keep = tuple(h for h in req.headers if sip.canonical(h[0]) in ("via", "from", "to", "call-id", "cseq"))
                await stream.send_all(sip.Message(None, "", 200, "OK", keep).to_bytes())

    async with trio.open_nursery() as nursery:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        nursery.start_soon(trio.serve_listeners, tcp_uas, listeners)
        run(store, f"create ltm pool pbx members add {{ 127.0.0.1:{listeners[0].socket.getsockname()[1]} }}")
        run(store, "create ltm profile sip via insert-via-header enabled")
        run(store, "create ltm virtual vs destination 127.0.0.100:5060 pool pbx profiles replace-all-with { tcp via }")
        ltm = LTM("bigip1", store, lambda: ["traffic-group-1"], Log(None, "bigip1"), Hub())
        front = await trio.open_tcp_listeners(0, host="127.0.0.1")
        nursery.start_soon(trio.serve_listeners, lambda s: ltm._connection("/Common/vs", s), front)
        client = await trio.open_tcp_stream("127.0.0.1", front[0].socket.getsockname()[1])
        await client.send_all(invite("t1")[:30])
        await client.send_all(invite("t1")[30:] + invite("t1", "ACK"))
        framer, got = sip.Framer(), []
        with trio.fail_after(5):
            while len(got) < 2:
                got += framer.feed(await client.receive_some(65536))
        assert [m.status for m in got] == [200, 200] and got[0].values("Via") == [
            "SIP/2.0/UDP 10.1.10.51:5060;branch=z9hG4bK776asdhds"]
        assert seen[0].values("Via")[0].startswith("SIP/2.0/TCP 127.0.0.1:")
        await client.send_all(b"NOT SIP AT ALL\r\n\r\n")
        with trio.fail_after(5):
            try:
                rest = await client.receive_some(65536)
            except trio.BrokenResourceError:
                rest = b""
        assert rest == b"" and ltm.sip.count("/Common/vs").malformed == 1
        nursery.cancel_scope.cancel()


async def test_a_member_whose_port_is_closed_loses_its_datagrams_and_the_virtual_goes_on(store, autojump_clock):
    seen: list = []
    async with trio.open_nursery() as nursery:
        live = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_DGRAM)
        await live.bind(("127.0.0.1", 0))
        nursery.start_soon(uas, live, "live", seen)
        dead = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_DGRAM)
        await dead.bind(("127.0.0.1", 0))
        dead_port = dead.getsockname()[1]
        dead.close()   # nothing listens there: the kernel answers port unreachable
        run(store, f"create ltm pool pbx members add {{ 127.0.0.1:{dead_port} 127.0.0.1:{live.getsockname()[1]} }}")
        run(store, "create ltm virtual vs destination 127.0.0.100:15061 ip-protocol udp pool pbx "
                   "profiles replace-all-with { udp sip }")
        ltm = LTM("bigip1", store, lambda: ["traffic-group-1"], Log(None, "bigip1"), Hub())
        nursery.start_soon(ltm.sip.listen_udp, "/Common/vs", ("127.0.0.100", 15061, "udp"), trio.CancelScope())
        await trio.sleep(0.1)
        answers = [await ask(15061, invite(f"c{i}")) for i in range(4)]
        again = [await ask(15061, invite(f"c{i}", "BYE")) for i in range(4)]
        nursery.cancel_scope.cancel()
    assert [a is not None for a in answers] == [a is not None for a in again]   # each call stays where it went
    assert sum(a is not None for a in answers) == 2 and all(a.header("X-Member") == "live" for a in answers if a)
