"""The LTM data plane on the wire: each profile's behaviour seen from the client, the servers and
the BIG-IP's own kernel (conntrack, nftables), on the pair test_ltm.py uses too (`ltm_lab`,
conftest.py: topologies/ltm-dataplane.yml)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from lab.model import state
from lab.model.plan import prefix
from lab.runtime.control import ControlError, node_status
from lab.runtime.lab import Lab
from tests.lab.conftest import wait_for
from tests.lab.f5api import no_ca_bundle  # noqa: F401  (autouse)
from tests.lab.test_dsc import mac, neigh
from tests.lab.test_ltm import member, tmsh

VIP = "10.1.10.100"
MEMBERS = ("10.1.20.21:80", "10.1.20.22:80")
def rest(lab, method, path, **kw):
    """iControl REST on bigip1's management address."""
    host = Lab.open(lab).plan.node("bigip1").mgmt_address
    return requests.request(method, f"https://{host}{path}", auth=("admin", "admin"), verify=False, timeout=30, **kw)


def run(lab, node, *argv):
    return Lab.open(lab).run(node, list(argv), capture_output=True, text=True)


def get(lab, port, path="/"):
    """(body's first word, the headers) of one request from the client, or (None, {})."""
    out = run(lab, "client", "curl", "-s", "-m", "3", "-D", "-", f"http://{VIP}:{port}{path}")
    if out.returncode != 0:
        return None, {}
    head, _, body = out.stdout.partition("\n\n")   # text mode: CRLF reads as LF
    headers = dict(line.split(": ", 1) for line in head.split("\n")[1:] if ": " in line)
    return body.split()[0] if body else None, headers


def served(lab, port, n):
    return Counter(get(lab, port)[0] for _ in range(n))


# -- fastL4 -----------------------------------------------------------------------------------------
def test_fastl4_forwards_in_the_kernel_with_conntrack_and_no_proxy(ltm_lab):
    answers = [get(ltm_lab, 81) for _ in range(4)]
    assert Counter(a[0] for a in answers) == {"web1": 2, "web2": 2}
    # no SNAT: the servers see the client itself, and route back through the floating self IP
    assert {a[1]["X-Client-Address"].split(":")[0] for a in answers} == {"10.1.10.51"}
    table = run(ltm_lab, "bigip1", "conntrack", "-L", "-p", "tcp", "--orig-dst", VIP, "--orig-port-dst", "81").stdout
    assert "src=10.1.10.51" in table and ("src=10.1.20.21" in table or "src=10.1.20.22" in table)
    listening = run(ltm_lab, "bigip1", "ss", "-Hltn", "sport", "= :81").stdout
    assert listening.strip() == ""   # nothing in user space holds the port: the kernel forwards
    stats = wait_for(lambda: (s := node_status(ltm_lab, "bigip1").ltm.virtuals["/Common/vs_l4"].stats).tot_conns >= 4 and s,
                     what="the kernel's counters read back")
    assert stats.bytes_in > 0 and stats.bytes_out > 0


def test_fastl4_ratio_is_weighted_in_the_kernel(ltm_lab):
    tmsh(ltm_lab, "bigip1", "modify ltm pool web_pool load-balancing-mode ratio-member members modify "
                           "{ 10.1.20.21:80 { ratio 3 } }")
    try:
        wait_for(lambda: "mod 4" in run(ltm_lab, "bigip1", "nft", "list", "chain", "ip", "biglab_ltm",
                                        "prerouting").stdout, what="the ratio map")
        assert served(ltm_lab, 81, 8) == {"web1": 6, "web2": 2}
    finally:
        tmsh(ltm_lab, "bigip1", "modify ltm pool web_pool load-balancing-mode round-robin members modify "
                               "{ 10.1.20.21:80 { ratio 1 } }")


def test_fastl4_member_marked_down_leaves_the_map(ltm_lab):
    pid = int((state.node_dir(ltm_lab, "web1") / "web.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    try:
        wait_for(lambda: member(ltm_lab, "bigip1", "10.1.20.21:80").availability == "offline", what="web1 down")
        wait_for(lambda: "10.1.20.21" not in run(ltm_lab, "bigip1", "nft", "list", "chain", "ip", "biglab_ltm",
                                                 "prerouting").stdout, what="web1 out of the map")
        assert served(ltm_lab, 81, 4) == {"web2": 4}
    finally:
        Lab.open(ltm_lab).start_server("web1")
    wait_for(lambda: member(ltm_lab, "bigip1", "10.1.20.21:80").availability == "available", what="web1 up")


def test_fastl4_only_the_active_device_forwards(ltm_lab):
    standby = node_status(ltm_lab, "bigip2").ltm.virtuals["/Common/vs_l4"]
    assert not standby.serving
    assert VIP not in run(ltm_lab, "bigip2", "nft", "list", "ruleset").stdout


def test_fastl4_takes_connections_on_its_enabled_vlans_only(ltm_lab):
    """vlans-enabled: the kernel matches the arrival interface (the client is on external)."""
    def rules():
        return run(ltm_lab, "bigip1", "nft", "list", "chain", "ip", "biglab_ltm", "prerouting").stdout
    try:
        tmsh(ltm_lab, "bigip1", "modify ltm virtual vs_l4 vlans-enabled vlans replace-all-with { internal }")
        wait_for(lambda: 'iifname "internal"' in rules(), what="the VLAN match")
        assert get(ltm_lab, 81)[0] is None
        tmsh(ltm_lab, "bigip1", "modify ltm virtual vs_l4 vlans-disabled")
        wait_for(lambda: 'iifname != "internal"' in rules(), what="the VLAN excluded")
        assert served(ltm_lab, 81, 2) == {"web1": 1, "web2": 1}
    finally:
        tmsh(ltm_lab, "bigip1", "modify ltm virtual vs_l4 vlans-disabled vlans none")
    wait_for(lambda: "iifname" not in rules(), what="every VLAN again")


def test_a_proxied_virtual_takes_connections_on_its_enabled_vlans_only(ltm_lab):
    """The full proxy's socket cannot see a connection's VLAN: the kernel resets one arriving on a
    VLAN the virtual is not enabled on (the client is on external)."""
    def rules():
        return run(ltm_lab, "bigip1", "nft", "list", "chain", "ip", "biglab_ltm", "input").stdout
    try:
        tmsh(ltm_lab, "bigip1", "modify ltm virtual vs_tcp vlans-enabled vlans replace-all-with { internal }")
        wait_for(lambda: 'iifname != "internal"' in rules(), what="the VLAN guard")
        assert get(ltm_lab, 85)[0] is None
        tmsh(ltm_lab, "bigip1", "modify ltm virtual vs_tcp vlans replace-all-with { external }")
        wait_for(lambda: 'iifname != "external"' in rules(), what="the VLAN guard moved")
        assert get(ltm_lab, 85)[0] in ("web1", "web2")
    finally:
        tmsh(ltm_lab, "bigip1", "modify ltm virtual vs_tcp vlans-disabled vlans none")
    wait_for(lambda: "iifname" not in rules(), what="every VLAN again")


def test_fastl4_snat_automap_uses_the_floating_self_ip(ltm_lab):
    answers = [get(ltm_lab, 82) for _ in range(2)]
    assert {a[0] for a in answers} == {"web1", "web2"}
    assert {a[1]["X-Client-Address"].split(":")[0] for a in answers} == {"10.1.20.10"}


def test_ip_forward_routes_the_servers_network_through_the_active_device_only(ltm_lab):
    """A client routing the servers' network through a BIG-IP reaches them through the active
    device's ip-forward virtual, untranslated and counted; not before the virtual exists, not
    through the standby, not once it is deleted (a BIG-IP forwards nothing no virtual takes)."""
    def reach(gateway):
        run(ltm_lab, "client", "ip", "route", "replace", "10.1.20.0/24", "via", gateway)
        out = run(ltm_lab, "client", "curl", "-s", "-m", "1", "-D", "-", "http://10.1.20.21/")
        return out.stdout.replace("\r", "") if out.returncode == 0 else None

    assert _tg1(ltm_lab, "bigip1") == "active"
    try:
        assert reach("10.1.10.10") is None      # the active's floating self IP: no virtual takes it yet
        tmsh(ltm_lab, "bigip1", "create ltm virtual vs_fwd destination 10.1.20.0:0 mask 255.255.255.0 ip-forward "
                               "ip-protocol any profiles replace-all-with { fastL4 }")
        answer = wait_for(lambda: reach("10.1.10.10"), timeout=10, what="the client through vs_fwd")
        assert "X-Client-Address: 10.1.10.51:" in answer and "web1" in answer   # routed as it was sent
        stats = wait_for(lambda: (s := node_status(ltm_lab, "bigip1").ltm.virtuals["/Common/vs_fwd"].stats)
                         .tot_conns >= 1 and s, what="vs_fwd's counters")
        assert stats.bytes_in > 0 and stats.bytes_out > 0
        assert reach("10.1.10.12") is None      # the standby forwards nothing
        tmsh(ltm_lab, "bigip1", "delete ltm virtual vs_fwd")
        wait_for(lambda: reach("10.1.10.10") is None, timeout=10, what="nothing forwarded without the virtual")
    finally:
        run(ltm_lab, "client", "ip", "route", "del", "10.1.20.0/24")
        if "vs_fwd" in tmsh(ltm_lab, "bigip1", "list ltm virtual"):
            tmsh(ltm_lab, "bigip1", "delete ltm virtual vs_fwd")


# -- the full proxy: tcp and http ------------------------------------------------------------------
def bodies(lab, port, *paths):
    """The first word of each response, all requests on one keep-alive connection (curl reuses it)."""
    out = run(lab, "client", "curl", "-s", "-m", "3", *(f"http://{VIP}:{port}{p}" for p in paths))
    return [line.split()[0] for line in out.stdout.splitlines() if line.startswith("web")]


def test_tcp_virtual_without_snat_keeps_the_clients_address_toward_the_server(ltm_lab):
    answers = [get(ltm_lab, 85) for _ in range(2)]
    assert {a[0] for a in answers} == {"web1", "web2"}
    # a full proxy, yet the server sees the client (not bigip1's self IP) and answers through the floating self IP
    assert {a[1]["X-Client-Address"].split(":")[0] for a in answers} == {"10.1.10.51"}
    assert "socket transparent" in run(ltm_lab, "bigip1", "nft", "list", "table", "ip", "biglab_transparent").stdout


def test_full_proxy_snat_automap_takes_the_floating_self_ip_and_a_snatpool_its_addresses(ltm_lab):
    """...and a fastL4 virtual's snatpool too, in the kernel."""
    tmsh(ltm_lab, "bigip1", "create ltm snatpool sp members add { 10.1.20.50 10.1.20.51 }")
    for port, snat, profile in ((92, "type automap", "tcp"), (93, "type snat pool sp", "tcp"),
                                (95, "type snat pool sp", "fastL4")):
        tmsh(ltm_lab, "bigip1", f"create ltm virtual vs_snat{port} destination 10.1.10.100:{port} pool web_pool "
                                f"profiles replace-all-with {{ {profile} }} source-address-translation {{ {snat} }}")
    try:
        seen = lambda port: {get(ltm_lab, port)[1].get("X-Client-Address", ":").split(":")[0] for _ in range(3)}
        assert wait_for(lambda: seen(92) == {"10.1.20.10"} and seen(92))   # the traffic group's floating self IP
        for port in (93, 95):   # one client, one address of the pool
            assert wait_for(lambda: (s := seen(port)) <= {"10.1.20.50", "10.1.20.51"} and len(s) == 1 and s)
        assert "snat to jhash ip saddr mod 2" in run(ltm_lab, "bigip1", "nft", "list", "chain", "ip", "biglab_ltm",
                                                     "postrouting").stdout
        with pytest.raises(ControlError, match="10.9.9.9 is on no VLAN of this device"):
            tmsh(ltm_lab, "bigip1", "create ltm snatpool bad members add { 10.9.9.9 }")
        assert "10.9.9.9" not in tmsh(ltm_lab, "bigip1", "list ltm snat-translation")
    finally:
        for line in ("delete ltm virtual vs_snat92", "delete ltm virtual vs_snat93", "delete ltm virtual vs_snat95",
                     "delete ltm snatpool sp",
                     "delete ltm snat-translation 10.1.20.50", "delete ltm snat-translation 10.1.20.51"):
            tmsh(ltm_lab, "bigip1", line)


def test_http_inserts_x_forwarded_for(ltm_lab):
    out = run(ltm_lab, "client", "curl", "-s", "-m", "3", f"http://{VIP}:86/headers").stdout
    assert "X-Forwarded-For: 10.1.10.51" in out.splitlines()


def test_http_without_oneconnect_keeps_a_client_connection_on_one_member(ltm_lab):
    assert len(set(bodies(ltm_lab, 80, "/a", "/b", "/c", "/d"))) == 1


def test_http_with_oneconnect_balances_each_request(ltm_lab):
    assert sorted(bodies(ltm_lab, 87, "/a", "/b", "/c", "/d")) == ["web1", "web1", "web2", "web2"]


def test_oneconnect_sends_a_request_on_a_fresh_connection_when_the_pooled_one_was_closed(ltm_lab):
    assert sorted(bodies(ltm_lab, 87, "/a", "/b")) == ["web1", "web2"]   # a pooled connection to each
    lab = Lab.open(ltm_lab)
    for web, other in (("web1", "web2"), ("web2", "web1")):   # each server closes its idle connections
        os.kill(int((state.node_dir(ltm_lab, web) / "web.pid").read_text()), signal.SIGKILL)
        lab.start_server(web)
        address = WEB[web][0]
        wait_for(lambda: run(ltm_lab, other, "curl", "-s", "-m", "1", f"http://{address}/").stdout, what=f"{web} back")
    assert sorted(bodies(ltm_lab, 87, "/c", "/d")) == ["web1", "web2"]


def test_a_published_policy_forwards_api_requests_to_its_pool_and_redirects_an_old_host(ltm_lab):
    """A draft with two rules, published and attached to the oneconnect virtual (each request
    balanced): /api goes to the policy's pool (web2 alone), the rest to the virtual's pool."""
    tmsh(ltm_lab, "bigip1", "create ltm pool api_pool members add { 10.1.20.22:80 }")
    try:
        tmsh(ltm_lab, "bigip1", "create ltm policy Drafts/pol_api rules { api { conditions { 0 { http-uri path "
                               "starts-with values { /api } } } actions { 0 { forward select pool api_pool } } } "
                               "old { ordinal 1 conditions { 0 { http-host host equals values { old.example.com } } } "
                               "actions { 0 { http-reply redirect location https://new.example.com/ } } } }")
        tmsh(ltm_lab, "bigip1", "publish ltm policy Drafts/pol_api")
        tmsh(ltm_lab, "bigip1", "modify ltm virtual vs_oneconnect policies replace-all-with { pol_api }")
        assert bodies(ltm_lab, 87, "/api/a", "/api/b", "/api/c", "/api/d") == ["web2"] * 4
        assert sorted(bodies(ltm_lab, 87, "/a", "/b")) == ["web1", "web2"]
        out = run(ltm_lab, "client", "curl", "-s", "-m", "3", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                  "-H", "Host: old.example.com", f"http://{VIP}:87/x").stdout
        assert out == "302 https://new.example.com/"
    finally:
        for line in ("modify ltm virtual vs_oneconnect policies none", "delete ltm policy Drafts/pol_api",
                     "delete ltm policy pol_api", "delete ltm pool api_pool"):
            try:
                tmsh(ltm_lab, "bigip1", line)
            except ControlError:
                pass    # not made: the test failed before it


def test_http_with_no_member_redirects_to_the_fallback_host(ltm_lab):
    out = run(ltm_lab, "client", "curl", "-s", "-m", "3", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
              f"http://{VIP}:88/").stdout
    assert out == "302 http://sorry.example.com/"


def test_http_with_no_member_and_no_fallback_resets(ltm_lab):
    tmsh(ltm_lab, "bigip1", "modify ltm virtual vs_fallback profiles replace-all-with { tcp http }")
    try:
        out = run(ltm_lab, "client", "curl", "-s", "-m", "3", f"http://{VIP}:88/")
        assert out.returncode == 56   # curl: failure receiving (connection reset by peer)
    finally:
        tmsh(ltm_lab, "bigip1", "modify ltm virtual vs_fallback profiles replace-all-with { tcp http_fallback }")


GARBAGE = r'''
import os, socket, sys
for port in sys.argv[1:]:
    for payload in (os.urandom(4096), b"GET / HTTP/1.1\r\n" + b"X: " + b"a" * 70000 + b"\r\n\r\n",
                    b"\x16\x03\x01\x00\xff" + os.urandom(300), b"GET /" + b"\x00" * 100 + b" HTTP/1.1\r\n\r\n"):
        s = socket.create_connection(("10.1.10.100", int(port)), timeout=3)
        try:
            s.sendall(payload)
            s.recv(100)
        except OSError:
            pass
        s.close()
'''


def test_garbage_on_a_virtuals_port_never_takes_the_proxy_down(ltm_lab):
    run(ltm_lab, "client", "python3", "-c", GARBAGE, "80", "85", "86", "87")
    assert get(ltm_lab, 80)[0] in ("web1", "web2") and get(ltm_lab, 85)[0] in ("web1", "web2")
    assert get(ltm_lab, 87)[0] in ("web1", "web2")


@pytest.mark.parametrize("profiles, message", [
    ("fastL4 http", r"01070734:3: Configuration error: Virtual server /Common/vs_l4 has a FastL4 profile "
                    r"\(/Common/fastL4\) and a http profile"),
    ("fastL4 tcp", r"01070097:3: Virtual server /Common/vs_l4 lists incompatible profiles\.")])
def test_a_fastl4_virtual_with_an_http_or_a_tcp_profile_is_refused_and_nothing_changes(ltm_lab, profiles, message):
    before = tmsh(ltm_lab, "bigip1", "list ltm virtual vs_l4")
    with pytest.raises(ControlError, match=message):
        tmsh(ltm_lab, "bigip1", f"modify ltm virtual vs_l4 profiles replace-all-with {{ {profiles} }}")
    assert get(ltm_lab, 81)[0] in ("web1", "web2")
    assert tmsh(ltm_lab, "bigip1", "list ltm virtual vs_l4") == before


# -- persistence ------------------------------------------------------------------------------------
WEB = {"web1": ("10.1.20.21", 80), "web2": ("10.1.20.22", 80)}


def test_source_address_persistence_sticks_and_shows_its_record(ltm_lab):
    tmsh(ltm_lab, "bigip1", "create ltm persistence source-addr sa_test timeout 60")
    tmsh(ltm_lab, "bigip1", "create ltm virtual vs_sa destination 10.1.10.100:89 pool web_pool profiles "
                           "replace-all-with { tcp } persist replace-all-with { sa_test { default yes } }")
    try:
        first = wait_for(lambda: get(ltm_lab, 89)[0], what="vs_sa serving")
        assert served(ltm_lab, 89, 4) == {first: 4}     # round robin would alternate
        records = tmsh(ltm_lab, "bigip1", "show ltm persistence persist-records")
        address, port = WEB[first]
        assert f"source-address  10.1.10.51  {VIP}:89  {address}:{port}  (tmm: 0)" in records.splitlines()
    finally:
        tmsh(ltm_lab, "bigip1", "delete ltm virtual vs_sa")
        tmsh(ltm_lab, "bigip1", "delete ltm persistence source-addr sa_test")


def test_fastl4_source_address_persistence_is_kept_in_the_kernel_and_shown(ltm_lab):
    tmsh(ltm_lab, "bigip1", "create ltm persistence source-addr sa_l4 timeout 60 mask 255.255.255.0")
    tmsh(ltm_lab, "bigip1", "create ltm virtual vs_l4sa destination 10.1.10.100:97 pool web_pool profiles "
                            "replace-all-with { fastL4 } persist replace-all-with { sa_l4 { default yes } }")
    try:
        # no wait for the recording rule: it is in the kernel before any rule that forwards to the virtual
        first = wait_for(lambda: get(ltm_lab, 97)[0], what="vs_l4sa in the kernel")
        assert served(ltm_lab, 97, 4) == {first: 4}     # round robin would alternate
        assert "10.1.10.0 expires" in run(ltm_lab, "bigip1", "nft", "list", "table", "ip",
                                                         "biglab_ltm").stdout   # the masked client, in a map
        address, port = WEB[first]
        line = f"source-address  10.1.10.0  {VIP}:97  {address}:{port}  (tmm: 0)"
        wait_for(lambda: line in tmsh(ltm_lab, "bigip1", "show ltm persistence persist-records").splitlines(),
                 what="the kernel's record shown")
        stats = rest(ltm_lab, "GET", "/mgmt/tm/ltm/persistence/persist-records").json()
        assert stats["kind"] == "tm:ltm:persistence:persist-records:persist-recordsstats"
        mine = [e["nestedStats"]["entries"] for e in stats["entries"].values()
                if e["nestedStats"]["entries"]["virtualName"]["description"] == "/Common/vs_l4sa"]
        assert [(e["persistenceValue"]["description"], e["nodeAddr"]["description"], e["nodePort"]["value"])
                for e in mine] == [("10.1.10.0", address, port)]
    finally:
        tmsh(ltm_lab, "bigip1", "delete ltm virtual vs_l4sa")
        tmsh(ltm_lab, "bigip1", "delete ltm persistence source-addr sa_l4")


def test_cookie_insert_encodes_the_member_and_a_client_sticks_to_it(ltm_lab):
    tmsh(ltm_lab, "bigip1", "create ltm virtual vs_cookie destination 10.1.10.100:90 pool web_pool profiles "
                           "replace-all-with { tcp http } persist replace-all-with { cookie { default yes } }")
    try:
        body, headers = wait_for(lambda: (a := get(ltm_lab, 90))[0] and a, what="vs_cookie serving")
        name, _, rest = headers["Set-Cookie"].partition("=")
        value = rest.split(";")[0]
        assert name == "BIGipServerweb_pool"
        # F5's encoding, decoded here by hand: the address as a little-endian integer, the port byte-swapped
        a, p, tail = value.split(".")
        address = ".".join(str(int(a) >> s & 0xFF) for s in (0, 8, 16, 24))
        assert (address, int.from_bytes(int(p).to_bytes(2, "little"), "big"), tail) == (*WEB[body], "0000")
        other = "web2" if body == "web1" else "web1"
        oa, op = WEB[other]
        cookie = (f"{name}={int.from_bytes(bytes(map(int, oa.split('.'))), 'little')}."
                  f"{int.from_bytes(op.to_bytes(2, 'big'), 'little')}.0000")
        sticky = [run(ltm_lab, "client", "curl", "-s", "-m", "3", "-b", cookie, f"http://{VIP}:90/").stdout.split()[0]
                  for _ in range(4)]
        assert sticky == [other] * 4
    finally:
        tmsh(ltm_lab, "bigip1", "delete ltm virtual vs_cookie")


def test_a_persistence_profile_on_a_virtual_without_a_pool_is_refused(ltm_lab):
    with pytest.raises(Exception, match=r"01070734:3: Configuration error: Virtual server /Common/vs_nopool has a "
                                        r"persistence profile \(/Common/source_addr\) but no default pool"):
        tmsh(ltm_lab, "bigip1", "create ltm virtual vs_nopool destination 10.1.10.100:91 "
                               "persist replace-all-with { source_addr { default yes } }")
    assert "vs_nopool" not in tmsh(ltm_lab, "bigip1", "list ltm virtual")


# -- TLS: client-ssl terminates, server-ssl re-encrypts -----------------------------------------------
def presented(lab, port):
    """The subject and SHA-256 fingerprint of the certificate the virtual presents (openssl s_client)."""
    out = run(lab, "client", "sh", "-c", f"openssl s_client -connect {VIP}:{port} </dev/null 2>/dev/null | "
                                         "openssl x509 -noout -subject -fingerprint -sha256").stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def install(lab, tmp_path, *names):
    """Certificates and keys from tmp_path, as F5's Ansible modules install them: upload, then sourcePath."""
    for name in names:
        data = (tmp_path / name).read_bytes()
        assert rest(lab, "POST", f"/mgmt/shared/file-transfer/uploads/{name}", data=data, headers={
            "Content-Type": "application/octet-stream", "Content-Range": f"0-{len(data) - 1}/{len(data)}"}).ok
        kind = "ssl-cert" if name.endswith(".crt") else "ssl-key"
        r = rest(lab, "POST", f"/mgmt/tm/sys/file/{kind}", json={
            "name": name, "partition": "Common", "sourcePath": f"file:///var/config/rest/downloads/{name}"})
        assert r.status_code == 200, r.text


def test_client_ssl_terminates_tls_with_the_profiles_certificate_and_server_ssl_re_encrypts(ltm_lab, tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
                    "/CN=shop.example.com", "-keyout", str(tmp_path / "shop.key"), "-out", str(tmp_path / "shop.crt")],
                   check=True, capture_output=True)
    install(ltm_lab, tmp_path, "shop.crt", "shop.key")
    cert = rest(ltm_lab, "GET", "/mgmt/tm/sys/file/ssl-cert/~Common~shop.crt").json()
    assert cert["kind"] == "tm:sys:file:ssl-cert:ssl-certstate" and cert["subject"] == "CN=shop.example.com"
    assert (cert["keyType"], cert["certificateKeySize"], cert["isBundle"]) == ("rsa-public", 2048, "false")
    assert cert["checksum"].startswith("SHA1:") and cert["expirationString"].endswith(" GMT") and "pem" not in cert
    tls_server = None
    try:
        tmsh(ltm_lab, "bigip1", "create ltm profile client-ssl shop_ssl cert shop.crt key shop.key")
        tmsh(ltm_lab, "bigip1", "create ltm virtual vs_tls destination 10.1.10.100:443 pool web_pool "
                                "profiles replace-all-with { tcp http shop_ssl }")
        tmsh(ltm_lab, "bigip1", "create ltm virtual vs_tls_default destination 10.1.10.100:444 pool web_pool "
                                "profiles replace-all-with { tcp clientssl }")
        body = wait_for(lambda: run(ltm_lab, "client", "curl", "-sk", "-m", "3", f"https://{VIP}/").stdout,
                        what="vs_tls serving")
        assert body.split()[0] in ("web1", "web2")
        assert presented(ltm_lab, 443)["subject"].strip() == "CN = shop.example.com"
        # the built-in clientssl presents this device's own default.crt
        default = rest(ltm_lab, "GET", "/mgmt/tm/sys/file/ssl-cert/~Common~default.crt").json()
        shown = presented(ltm_lab, 444)
        assert "CN = localhost.localdomain" in shown["subject"]
        assert shown["sha256 Fingerprint"].strip() == default["fingerprint"].removeprefix("SHA256/")
        # server-ssl: the member speaks only TLS on 8443
        web1 = Lab.open(ltm_lab)
        tls_server = web1.backend.start(web1.node("web1"), [sys.executable, "-m", "node.webserver", "web1", "8443",
                                                            str(tmp_path / "shop.crt"), str(tmp_path / "shop.key")],
                                        str(tmp_path / "web1-tls.out"))
        tmsh(ltm_lab, "bigip1", "create ltm pool tls_pool members add { 10.1.20.21:8443 }")
        tmsh(ltm_lab, "bigip1", "create ltm virtual vs_reencrypt destination 10.1.10.100:445 pool tls_pool "
                                "profiles replace-all-with { tcp http clientssl serverssl }")
        body = wait_for(lambda: run(ltm_lab, "client", "curl", "-sk", "-m", "3", f"https://{VIP}:445/tls").stdout,
                        what="vs_reencrypt serving")
        assert body.split()[:2] == ["web1", "/tls"]
        # a client-ssl profile whose key is missing: F5's error, nothing changed
        before = tmsh(ltm_lab, "bigip1", "list ltm profile client-ssl shop_ssl")
        with pytest.raises(ControlError, match=r"01020036:3: The requested Certificate Key File "
                                               r"\(/Common/gone.key\) was not found"):
            tmsh(ltm_lab, "bigip1", "modify ltm profile client-ssl shop_ssl key gone.key")
        assert tmsh(ltm_lab, "bigip1", "list ltm profile client-ssl shop_ssl") == before
    finally:
        if tls_server:
            os.kill(tls_server, signal.SIGKILL)
        for line in ("delete ltm virtual vs_tls", "delete ltm virtual vs_tls_default", "delete ltm virtual vs_reencrypt",
                     "delete ltm pool tls_pool",
                     "delete ltm profile client-ssl shop_ssl",
                     "delete sys file ssl-cert shop.crt", "delete sys file ssl-key shop.key"):
            try:
                tmsh(ltm_lab, "bigip1", line)
            except ControlError:   # not made: the test failed before
                pass


def test_ssl_forward_proxy_forges_the_servers_certificate_and_bypass_passes_it_through(ltm_lab, tmp_path):
    """A client trusting the profile's CA reaches a TLS web server through the virtual and sees a
    certificate naming the server, issued by that CA; on the bypass list it sees the server's own."""
    def openssl(*argv):
        subprocess.run(["openssl", *argv], check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=Lab Forward Proxy CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", str(tmp_path / "fwdca.key"), "-out", str(tmp_path / "fwdca.crt"))
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/O=Shop/CN=shop.example.com",
            "-addext", "subjectAltName=DNS:shop.example.com,DNS:www.shop.example.com",
            "-keyout", str(tmp_path / "origin.key"), "-out", str(tmp_path / "origin.crt"))
    install(ltm_lab, tmp_path, "fwdca.crt", "fwdca.key")
    url = "https://www.shop.example.com:446/fwd"
    curl = ("curl", "-s", "-m", "5", "--cacert", str(tmp_path / "fwdca.crt"), "--resolve",
            f"www.shop.example.com:446:{VIP}", url)

    def shown() -> dict:
        out = run(ltm_lab, "client", "sh", "-c", f"openssl s_client -connect {VIP}:446 -servername "
                  "www.shop.example.com </dev/null 2>/dev/null | openssl x509 -noout -subject -issuer -ext "
                  "subjectAltName").stdout
        return {"subject": next((x for x in out.splitlines() if x.startswith("subject")), ""),
                "issuer": next((x for x in out.splitlines() if x.startswith("issuer")), ""), "san": out}
    web1, origin = Lab.open(ltm_lab), None
    try:
        origin = web1.backend.start(web1.node("web1"), [sys.executable, "-m", "node.webserver", "web1", "8446",
                                                        str(tmp_path / "origin.crt"), str(tmp_path / "origin.key")],
                                    str(tmp_path / "web1-origin.out"))
        tmsh(ltm_lab, "bigip1", "create ltm data-group internal fwd_bypass type string records add { shop.example.com }")
        tmsh(ltm_lab, "bigip1", "create ltm profile client-ssl fwd_client ssl-forward-proxy enabled cert-key-chain "
                                "replace-all-with { default { cert default.crt key default.key } "
                                "ca { cert fwdca.crt key fwdca.key usage CA } }")
        tmsh(ltm_lab, "bigip1", "create ltm profile server-ssl fwd_server ssl-forward-proxy enabled")
        tmsh(ltm_lab, "bigip1", "create ltm pool fwd_pool members add { 10.1.20.21:8446 }")
        tmsh(ltm_lab, "bigip1", "create ltm virtual vs_fwd destination 10.1.10.100:446 pool fwd_pool "
                                "profiles replace-all-with { tcp http fwd_client fwd_server }")
        profile = rest(ltm_lab, "GET", "/mgmt/tm/ltm/profile/client-ssl/~Common~fwd_client").json()
        assert profile["sslForwardProxy"] == "enabled"
        assert {i["name"]: i.get("usage") for i in profile["certKeyChain"]} == {"default": None, "ca": "CA"}
        body = wait_for(lambda: run(ltm_lab, "client", *curl).stdout, what="vs_fwd serving through the forward proxy")
        assert body.split()[:2] == ["web1", "/fwd"]     # curl verified the forged certificate against the CA
        cert = shown()
        assert "CN = shop.example.com" in cert["subject"] and "O = Shop" in cert["subject"]
        assert "CN = Lab Forward Proxy CA" in cert["issuer"] and "DNS:www.shop.example.com" in cert["san"]
        # bypass: the server's name is on the list: its own certificate, TLS end to end
        tmsh(ltm_lab, "bigip1", "modify ltm profile client-ssl fwd_client ssl-forward-proxy-bypass enabled "
                                "hostname-whitelist fwd_bypass")
        def own():
            c = shown()
            return c if c["issuer"] and "Lab Forward Proxy CA" not in c["issuer"] else None
        cert = wait_for(own, what="the bypassed connection showing the server's own certificate")
        assert "CN = shop.example.com" in cert["issuer"]
        assert run(ltm_lab, "client", *curl).returncode != 0      # not signed by the CA the client trusts
        body = run(ltm_lab, "client", "curl", "-s", "-m", "5", "--cacert", str(tmp_path / "origin.crt"), "--resolve",
                   f"www.shop.example.com:446:{VIP}", url).stdout
        assert body.split()[:2] == ["web1", "/fwd"]
    finally:
        if origin:
            os.kill(origin, signal.SIGKILL)
        for line in ("delete ltm virtual vs_fwd", "delete ltm pool fwd_pool", "delete ltm profile client-ssl fwd_client",
                     "delete ltm profile server-ssl fwd_server", "delete ltm data-group internal fwd_bypass",
                     "delete sys file ssl-cert fwdca.crt", "delete sys file ssl-key fwdca.key"):
            try:
                tmsh(ltm_lab, "bigip1", line)
            except ControlError:   # not made: the test failed before
                pass


@contextmanager
def made(lab, *lines):
    """bigip1's objects made by these tmsh `create` lines, deleted after (last made first)."""
    done = []
    try:
        for line in lines:
            tmsh(lab, "bigip1", line)
            words = line.split()
            named = 5 if words[1:3] in (["ltm", "profile"], ["sys", "file"]) else 4   # a profile's kind, a file's
            done.insert(0, "delete " + " ".join(words[1:named]))
        yield
    finally:
        for line in done:
            try:
                tmsh(lab, "bigip1", line)
            except ControlError:
                pass


# -- LDAP StartTLS: client-ldap and server-ldap beside the SSL profiles --------------------------------
LDAP_SERVER = Path(__file__).with_name("ldap_server.py")
LDAP_CLIENT = """
import hashlib, json, ssl, sys
from ldap3 import NONE, Connection, Server, Tls
server = Server(sys.argv[1], port=int(sys.argv[2]), get_info=NONE, connect_timeout=3,
                tls=Tls(validate=ssl.CERT_NONE))
conn = Connection(server, user="cn=admin,dc=lab", password="secret", receive_timeout=3)
conn.open()
out = {}
if sys.argv[3] == "starttls":
    out["starttls"] = conn.start_tls()
    out["cert"] = hashlib.sha256(conn.socket.getpeercert(binary_form=True)).hexdigest()
out["bind"] = conn.bind()
out["result"] = [conn.result["result"], conn.result["description"], conn.result["message"]]
if out["bind"]:
    conn.search("dc=lab", "(objectClass=*)", attributes=["description"])
    out["entries"] = [[e.entry_dn, str(e.description)] for e in conn.entries]
conn.unbind()
print(json.dumps(out))
"""


def ldap_client(lab, port, how):
    """What a real LDAP client (ldap3) gets through the virtual, with or without StartTLS; None if it fails."""
    out = run(lab, "client", sys.executable, "-c", LDAP_CLIENT, VIP, str(port), how)
    return json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else None


def test_ldap_starttls_through_the_virtual_to_a_member_that_wants_starttls_too(ltm_lab, tmp_path):
    """client-ldap require: the virtual answers the client's StartTLS and ends its TLS with the
    client-ssl certificate, refusing a bind before it (confidentialityRequired); server-ldap: the
    virtual sends StartTLS to the member before server-ssl's TLS. allow lets a clear client through."""
    import hashlib
    import ssl
    for name, cn in (("ldap", "ldap.example.com"), ("dir", "dir.internal")):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", f"/CN={cn}",
                        "-keyout", str(tmp_path / f"{name}.key"), "-out", str(tmp_path / f"{name}.crt")],
                       check=True, capture_output=True)
    install(ltm_lab, tmp_path, "ldap.crt", "ldap.key")
    virtual_cert = hashlib.sha256(ssl.PEM_cert_to_DER_cert((tmp_path / "ldap.crt").read_text())).hexdigest()
    lab, server = Lab.open(ltm_lab), None
    try:
        server = lab.backend.start(lab.node("web1"), [sys.executable, str(LDAP_SERVER), "web1", "3389",
                                                      str(tmp_path / "dir.crt"), str(tmp_path / "dir.key")],
                                   str(tmp_path / "ldap-server.out"))
        with made(ltm_lab, "create ltm profile client-ssl ldap_ssl cert ldap.crt key ldap.key",
                  "create ltm profile client-ldap ldap_client activation-mode require",
                  "create ltm profile server-ldap ldap_server", "create ltm pool ldap_pool members add { 10.1.20.21:3389 }",
                  "create ltm virtual vs_ldap destination 10.1.10.100:389 pool ldap_pool profiles "
                  "replace-all-with { tcp ldap_ssl serverssl ldap_client ldap_server }"):
            shown = rest(ltm_lab, "GET", "/mgmt/tm/ltm/profile/client-ldap/~Common~ldap_client").json()
            assert (shown["kind"], shown["activationMode"]) == ("tm:ltm:profile:client-ldap:client-ldapstate", "require")
            assert rest(ltm_lab, "GET", "/mgmt/tm/ltm/profile/server-ldap/~Common~ldap_server").json()[
                "activationMode"] == "allow"   # F5's default
            wait_for(lambda: "activation-mode require" in tmsh(ltm_lab, "bigip2", "list ltm profile client-ldap ldap_client"),
                     what="the client-ldap profile synced to bigip2")
            got = wait_for(lambda: ldap_client(ltm_lab, 389, "starttls"), what="vs_ldap answering StartTLS")
            assert got["starttls"] is True and got["cert"] == virtual_cert   # the virtual's TLS, its certificate
            assert got["bind"] is True and got["entries"] == [["cn=web1", "tls"]]   # the member: StartTLS, then TLS
            refused = ldap_client(ltm_lab, 389, "clear")
            assert refused["bind"] is False and refused["result"] == [13, "confidentialityRequired", "STARTTLS required"]
            tmsh(ltm_lab, "bigip1", "modify ltm profile client-ldap ldap_client activation-mode allow")
            clear = wait_for(lambda: (c := ldap_client(ltm_lab, 389, "clear")) and c["bind"] and c,
                             what="a clear client let through")
            assert clear["entries"] == [["cn=web1", "tls"]]   # clear to the virtual, TLS to the member
    finally:
        if server:
            os.kill(server, signal.SIGKILL)
        for line in ("delete sys file ssl-cert ldap.crt", "delete sys file ssl-key ldap.key"):
            tmsh(ltm_lab, "bigip1", line)


# -- connection mirroring (last: it fails the pair over and back) -----------------------------------
STREAM = (sys.executable, "-m", "lab.runtime.stream")


def _stream(lab, node, *argv) -> int:
    """Start the stream tool detached in a node; its pid."""
    return int(run(lab, node, *STREAM, *argv, "--background").stdout.split()[0])


def _tg1(lab, node):
    try:
        return node_status(lab, node).failover.traffic_groups.get("traffic-group-1")
    except ControlError:     # killed, or starting
        return None


def _hears(lab, node, peer):
    try:
        return node_status(lab, node).failover.peers[peer].alive
    except (ControlError, KeyError):
        return False


def _read(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


UDP_SERVER = "import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('', 9001))\n" \
             "while True:\n    d, a = s.recvfrom(100)\n    s.sendto(sys.argv[1].encode(), a)\n"
UDP_ASK = "import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.settimeout(2)\n" \
          "s.bind(('', int(sys.argv[1])))\ns.sendto(b'?', ('10.1.10.100', int(sys.argv[2])))\nprint(s.recv(100).decode())\n"


def _udp(lab, sport, port=96):
    """The member that answers a datagram from the client's port `sport` through the UDP virtual on `port`."""
    out = run(lab, "client", "python3", "-c", UDP_ASK, str(sport), str(port))
    return out.stdout.strip() if out.returncode == 0 else None


def test_a_udp_flow_retried_from_before_its_virtual_existed_reaches_a_member_once_it_does(ltm_lab):
    """A datagram no virtual takes leaves conntrack an untranslated entry, which each retry from the
    same port keeps alive: the virtual's coming deletes it, so the next retry is translated."""
    pid = int(run(ltm_lab, "web1", "sh", "-c", f'python3 -c "{UDP_SERVER}" web1 >/dev/null 2>&1 & echo $!').stdout)
    try:
        assert _udp(ltm_lab, 40975, 4434) is None   # no virtual yet
        assert "dport=4434 [UNREPLIED]" in run(ltm_lab, "bigip1", "conntrack", "-L", "-p", "udp", "--orig-port-dst",
                                               "4434").stdout
        with made(ltm_lab, "create ltm pool early_pool members add { 10.1.20.21:9001 }",
                  "create ltm virtual vs_early destination 10.1.10.100:4434 ip-protocol udp pool early_pool "
                  "profiles replace-all-with { fastL4 }"):
            assert wait_for(lambda: _udp(ltm_lab, 40975, 4434), what="the retried flow answered") == "web1"
    finally:
        run(ltm_lab, "web1", "kill", str(pid))


def test_a_udp_virtual_with_ssl_profiles_passes_datagrams_to_a_member_as_they_are(ltm_lab):
    """AS3's Service_UDP with serverTLS / clientTLS (DTLS on a BIG-IP): the profiles are attached, the
    kernel forwards the datagrams (the lab ends no DTLS), and no proxy listens on the port."""
    pid = int(run(ltm_lab, "web1", "sh", "-c", f'python3 -c "{UDP_SERVER}" web1 >/dev/null 2>&1 & echo $!').stdout)
    try:
        with made(ltm_lab, "create ltm pool dtls_pool members add { 10.1.20.21:9001 }",
                  "create ltm virtual vs_dtls destination 10.1.10.100:4433 ip-protocol udp pool dtls_pool "
                  "profiles replace-all-with { udp clientssl serverssl }"):
            assert wait_for(lambda: _udp(ltm_lab, 40971, 4433), what="vs_dtls answering") == "web1"
            assert run(ltm_lab, "bigip1", "ss", "-Hlun", "sport", "= :4433").stdout.strip() == ""
            assert run(ltm_lab, "bigip1", "ss", "-Hltn", "sport", "= :4433").stdout.strip() == ""
            assert "dport=4433" in run(ltm_lab, "bigip1", "conntrack", "-L", "-p", "udp", "--orig-port-dst",
                                       "4433").stdout
    finally:
        run(ltm_lab, "web1", "kill", str(pid))


def test_a_mirrored_fastl4_stream_survives_kill_9_of_the_active_and_an_unmirrored_one_resets(ltm_lab, tmp_path):
    """...and a mirrored UDP flow goes on to its member, and a mirrored persistence record (the proxy's
    and the kernel's) keeps its client on the same member."""
    from lab import faults
    lab = Lab.open(ltm_lab)
    pids, killed = [], False
    try:
        tmsh(ltm_lab, "bigip1", "create ltm virtual-address 10.1.10.200 address 10.1.10.200 "
                               "traffic-group traffic-group-local-only")
        with pytest.raises(ControlError, match="has no peer device to mirror to"):
            tmsh(ltm_lab, "bigip1", "create ltm virtual vs_nopeer destination 10.1.10.200:91 profiles "
                                   "replace-all-with { fastL4 } mirror enabled")
        assert "vs_nopeer" not in tmsh(ltm_lab, "bigip1", "list ltm virtual")
        tmsh(ltm_lab, "bigip1", "create ltm pool stream_pool members add { 10.1.20.21:9000 10.1.20.22:9000 }")
        tmsh(ltm_lab, "bigip1", "create ltm virtual vs_mirror destination 10.1.10.100:91 pool stream_pool "
                               "profiles replace-all-with { fastL4 } mirror enabled")
        tmsh(ltm_lab, "bigip1", "create ltm virtual vs_plain destination 10.1.10.100:92 pool stream_pool "
                               "profiles replace-all-with { fastL4 }")
        # the records name web2: a device that lost them would send the client to web1, the first in round
        # robin (disabled before the virtuals are made: the kernel never holds :94 with web1 in it)
        tmsh(ltm_lab, "bigip1", "modify ltm pool web_pool members modify { 10.1.20.21:80 { session user-disabled } }")
        try:
            tmsh(ltm_lab, "bigip1", "create ltm virtual vs_persist destination 10.1.10.100:93 pool web_pool profiles "
                                   "replace-all-with { tcp } persist replace-all-with { source_addr } mirror enabled")
            tmsh(ltm_lab, "bigip1", "create ltm virtual vs_l4persist destination 10.1.10.100:94 pool web_pool profiles "
                                   "replace-all-with { fastL4 } persist replace-all-with { source_addr } mirror enabled")
            stuck = get(ltm_lab, 93)[0]
            stuck_l4 = wait_for(lambda: get(ltm_lab, 94)[0], what="vs_l4persist in the kernel")
        finally:
            tmsh(ltm_lab, "bigip1", "modify ltm pool web_pool members modify { 10.1.20.21:80 { session user-enabled } }")
        assert (stuck, stuck_l4) == ("web2", "web2")
        for port in (93, 94):   # the proxy's record, and the kernel map's
            wait_for(lambda: f"{VIP}:{port}" in tmsh(ltm_lab, "bigip2", "show ltm persistence persist-records"),
                     what=f"the persistence record of :{port} mirrored")
        pids += [(w, _stream(ltm_lab, w, "server", "9000", str(tmp_path / f"{w}.json"))) for w in ("web1", "web2")]
        pids += [(w, int(run(ltm_lab, w, "sh", "-c", f'python3 -c "{UDP_SERVER}" {w} >/dev/null 2>&1 & echo $!').stdout))
                 for w in ("web1", "web2")]
        tmsh(ltm_lab, "bigip1", "create ltm pool udp_pool members add { 10.1.20.21:9001 10.1.20.22:9001 }")
        tmsh(ltm_lab, "bigip1", "create ltm virtual vs_udp destination 10.1.10.100:96 ip-protocol udp pool udp_pool "
                               "profiles replace-all-with { fastL4 } mirror enabled")
        # two flows, one a member (round robin)
        udp = wait_for(lambda: (a := [_udp(ltm_lab, 40961), _udp(ltm_lab, 40962)]) and None not in a and a,
                       what="vs_udp answering")
        assert sorted(udp) == ["web1", "web2"]
        wait_for(lambda: "(connected)" in tmsh(ltm_lab, "bigip1", "show ltm virtual vs_mirror"), what="the mirroring channel")
        mirrored, plain = tmp_path / "mirrored.json", tmp_path / "plain.json"
        pids.append(("client", _stream(ltm_lab, "client", "client", f"{VIP}:91", str(mirrored))))
        pids.append(("client", _stream(ltm_lab, "client", "client", f"{VIP}:92", str(plain))))
        wait_for(lambda: "dport=91" in run(ltm_lab, "bigip2", "conntrack", "-L", "-p", "tcp", "--orig-port-dst", "91").stdout,
                 what="the mirrored flow in the standby's conntrack")
        assert "dport=92" not in run(ltm_lab, "bigip2", "conntrack", "-L", "-p", "tcp", "--orig-port-dst", "92").stdout
        wait_for(lambda: run(ltm_lab, "bigip2", "conntrack", "-L", "-p", "udp", "--orig-port-dst", "96").stdout.count(
            "dport=96") == 2, what="both UDP flows in the standby's conntrack")
        faults.run(lab, "kill", ["bigip1"])
        killed = True
        wait_for(lambda: _tg1(ltm_lab, "bigip2") == "active", what="bigip2 active")
        wait_for(lambda: _read(plain).get("state", "").startswith("reset"), what="the unmirrored stream reset")
        at = _read(mirrored)["sent"]
        wait_for(lambda: _read(mirrored)["sent"] > at + 40000, what="the mirrored stream going on through bigip2")
        run(ltm_lab, "client", *STREAM, "stop", str(mirrored))
        sent = wait_for(lambda: (m := _read(mirrored))["state"] != "open" and m, what="the mirrored stream closed")
        assert sent["state"] == "closed"
        server = next(st for w in ("web1", "web2") for peer, st in _read(tmp_path / f"{w}.json").items()
                      if peer == sent["local"])
        assert (server["received"], server["corrupt"]) == (sent["sent"], 0)   # every byte, in order
        assert [get(ltm_lab, 93)[0] for _ in range(2)] == [stuck, stuck]      # the client still sticks
        assert [get(ltm_lab, 94)[0] for _ in range(2)] == [stuck_l4, stuck_l4]   # in bigip2's kernel too
        wait_for(lambda: neigh(ltm_lab, "client", VIP) == mac(ltm_lab, "bigip2"), what="the client's ARP on bigip2")
        # each UDP flow's next datagram goes to its member (the second flow first: new flows would take web1, web2)
        assert [_udp(ltm_lab, 40962), _udp(ltm_lab, 40961)] == udp[::-1]
    finally:
        for node, pid in pids:
            run(ltm_lab, node, "kill", str(pid))
        if killed:
            faults.run(lab, "start", ["bigip1"])
            wait_for(lambda: _tg1(ltm_lab, "bigip1") == "standby" and _hears(ltm_lab, "bigip2", "bigip1"), what="bigip1 back")
            tmsh(ltm_lab, "bigip2", "run sys failover standby")   # the lab is shared: bigip1 active again
            wait_for(lambda: node_status(ltm_lab, "bigip1").ltm.virtuals["/Common/vs_l4"].serving, what="bigip1 serving again")
        for line in ("delete ltm virtual vs_mirror", "delete ltm virtual vs_plain", "delete ltm virtual vs_persist",
                     "delete ltm virtual vs_l4persist", "delete ltm pool stream_pool",
                     "delete ltm virtual vs_udp", "delete ltm pool udp_pool",
                     "delete ltm virtual-address 10.1.10.200"):
            try:
                tmsh(ltm_lab, "bigip1", line)
            except ControlError:   # not made: the test failed before
                pass
        # the lab is shared: the next test finds these virtuals gone from the kernel too, not only the config
        wait_for(lambda: not any(f"dport {p} " in run(ltm_lab, "bigip1", "nft", "list", "chain", "ip", "biglab_ltm",
                                                       "prerouting").stdout for p in (91, 92, 94, 96)),
                 what="the mirroring test's fastL4 virtuals out of bigip1's kernel")


# -- clone pools and stateless virtuals ----------------------------------------------------------------
def _background(lab, node, *argv) -> tuple[threading.Thread, dict]:
    """Run a command in a node on a thread of its own; its result lands in the dict."""
    out: dict = {}
    t = threading.Thread(target=lambda: out.update(r=run(lab, node, *argv)), daemon=True)
    t.start()
    return t, out


def test_a_clone_pool_member_sees_the_clients_packets_while_the_pool_serves_it(ltm_lab):
    """clone-pools context clientside: the kernel copies the client's packets to the virtual
    (`dup to` the clone member on internal), while web1 alone answers."""
    for line in ("create ltm pool web1_only members add { 10.1.20.21:80 }",
                 "create ltm pool ids_pool members add { 10.1.20.22:0 }",
                 "create ltm virtual vs_clone destination 10.1.10.100:89 pool web1_only "
                 "profiles replace-all-with { tcp } clone-pools add { ids_pool { context clientside } }"):
        tmsh(ltm_lab, "bigip1", line)
    try:
        wait_for(lambda: "dup to 10.1.20.22" in run(ltm_lab, "bigip1", "nft", "list", "chain", "ip", "biglab_ltm",
                                                   "clone_in").stdout, what="the clone rule")
        wait_for(lambda: "ids_pool { }" in tmsh(ltm_lab, "bigip2", "list ltm virtual vs_clone"),
                 what="the clone pool synced to bigip2")   # auto-sync: the peer has it, and copies nothing (standby)
        assert "10.1.20.22" not in run(ltm_lab, "bigip2", "nft", "list", "chain", "ip", "biglab_ltm", "clone_in").stdout
        capture, got = _background(ltm_lab, "web2", "timeout", "10", "tcpdump", "-i", "any", "-n", "-c", "1", "-l",
                                   "dst host 10.1.10.100 and tcp dst port 89")
        answers = Counter()
        deadline = time.monotonic() + 10
        while capture.is_alive() and time.monotonic() < deadline:
            answers[get(ltm_lab, 89)[0]] += 1
        capture.join(2)
        assert "10.1.10.51." in got["r"].stdout and "> 10.1.10.100.89" in got["r"].stdout   # the client's own packet
        assert set(answers) == {"web1"}   # served by the pool, not by the clone
    finally:
        tmsh(ltm_lab, "bigip1", "delete ltm virtual vs_clone")
        tmsh(ltm_lab, "bigip1", "delete ltm pool web1_only")
        tmsh(ltm_lab, "bigip1", "delete ltm pool ids_pool")


ECHO = ("import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('',5353))\ns.settimeout(8)\n"
        "while True:\n d,a=s.recvfrom(100)\n s.sendto(sys.argv[1].encode(),a)\n")
ASK = ("import socket,json\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('10.1.10.51',40053))\n"
       "s.settimeout(1)\nout=[]\nfor _ in range(4):\n s.sendto(b'q',('10.1.10.100',5353))\n"
       " try:\n  d,a=s.recvfrom(100);out.append([d.decode(),a[0],a[1]])\n except OSError:\n  out.append(None)\n"
       "print(json.dumps(out))\n")


def test_a_stateless_virtual_spreads_the_packets_of_one_flow_over_both_members(ltm_lab):
    """stateless: no connection table, each packet to the next member (the client's one source
    port notwithstanding), and the answers written back to the virtual's address."""
    for line in ("create ltm pool udp_pool members add { 10.1.20.21:5353 10.1.20.22:5353 }",
                 "create ltm virtual vs_stateless destination 10.1.10.100:5353 ip-protocol udp stateless "
                 "pool udp_pool profiles replace-all-with { udp }"):
        tmsh(ltm_lab, "bigip1", line)
    servers = [_background(ltm_lab, w, sys.executable, "-c", ECHO, w) for w in ("web1", "web2")]
    try:
        wait_for(lambda: "notrack" in run(ltm_lab, "bigip1", "nft", "list", "chain", "ip", "biglab_ltm",
                                          "stateless").stdout, what="the stateless rules")
        wait_for(lambda: "stateless" in tmsh(ltm_lab, "bigip2", "list ltm virtual vs_stateless"),
                 what="the stateless virtual synced to bigip2")
        for w in ("web1", "web2"):
            wait_for(lambda w=w: run(ltm_lab, w, "ss", "-Hlun", "sport", "= :5353").stdout.strip(), what=f"{w}'s echo")
        answers = json.loads(run(ltm_lab, "client", sys.executable, "-c", ASK).stdout)
        assert all(a is not None and a[1:] == ["10.1.10.100", 5353] for a in answers), answers
        assert Counter(a[0] for a in answers) == {"web1": 2, "web2": 2}
        table = run(ltm_lab, "bigip1", "conntrack", "-L", "-p", "udp", "--orig-port-dst", "5353").stdout
        assert "10.1.10.51" not in table   # untracked: no connection was ever made
    finally:
        tmsh(ltm_lab, "bigip1", "delete ltm virtual vs_stateless")
        tmsh(ltm_lab, "bigip1", "delete ltm pool udp_pool")   # the echo servers end when idle 8 s
        for t, _ in servers:
            t.join(30)


# -- content adaptation (ICAP) -----------------------------------------------------------------------
# An ICAP server of the test's own (RFC 3507, REQMOD): each request comes back with X-ICAP-Adapted
# added and its preview answered; it stops after 20 s without a connection.
ICAP_SERVER = r"""
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('10.1.20.22', 1344)); s.listen(8); s.settimeout(20)
print('listening', flush=True)
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    c.settimeout(5)
    data = b''
    while not (data.endswith(b'0\r\n\r\n') or data.endswith(b'0; ieof\r\n\r\n')
               or (b'null-body' in data and data.count(b'\r\n\r\n') >= 2)):
        more = c.recv(65536)
        if not more:
            break
        data += more
    head, _, payload = data.partition(b'\r\n\r\n')
    req = payload.split(b'\r\n\r\n')[0] + b'\r\nX-ICAP-Adapted: ' + head.split(b' ')[1] + b'\r\n\r\n'
    c.sendall(b'ICAP/1.0 200 OK\r\nISTag: "lab"\r\nEncapsulated: req-hdr=0, null-body=%d\r\n\r\n' % len(req) + req)
    c.close()
"""


def test_a_request_adapt_profile_sends_each_request_through_the_internal_virtuals_icap_server(ltm_lab):
    """request-adapt on an http virtual: REQMOD to the internal virtual's ICAP server (web2:1344),
    whose adapted request (a header added) the web server sees; the internal virtual listens nowhere."""
    icap, got = _background(ltm_lab, "web2", "python3", "-c", ICAP_SERVER)
    wait_for(lambda: "1344" in run(ltm_lab, "web2", "ss", "-Hltn", "sport", "= :1344").stdout, what="the ICAP server")
    lines = ("create ltm pool icap_pool members add { 10.1.20.22:1344 }",
             'create ltm profile icap icap_av uri "icap://${SERVER_IP}:${SERVER_PORT}/reqmod" header-from bigip1',
             "create ltm virtual vs_icap internal pool icap_pool profiles replace-all-with { tcp icap_av }",
             "create ltm profile request-adapt reqadapt internal-virtual vs_icap service-down-action reset",
             "create ltm virtual vs_adapt destination 10.1.10.100:98 pool web_pool "
             "profiles replace-all-with { tcp http reqadapt }")
    try:
        for line in lines:
            tmsh(ltm_lab, "bigip1", line)
        out = wait_for(lambda: (o := run(ltm_lab, "client", "curl", "-s", "-m", "3",
                                         f"http://{VIP}:98/headers").stdout) and "X-ICAP-Adapted" in o and o,
                       what="an adapted request")
        assert "X-ICAP-Adapted: icap://10.1.20.22:1344/reqmod" in out.splitlines()
        assert "internal" in tmsh(ltm_lab, "bigip1", "list ltm virtual vs_icap")
        listening = run(ltm_lab, "bigip1", "ss", "-Hltn").stdout
        assert ":98 " in listening and "0.0.0.0:0 " not in listening   # the internal one takes no clients
    finally:
        for line in ("delete ltm virtual vs_adapt", "delete ltm profile request-adapt reqadapt",
                     "delete ltm virtual vs_icap", "delete ltm profile icap icap_av", "delete ltm pool icap_pool"):
            try:
                tmsh(ltm_lab, "bigip1", line)
            except ControlError:   # not made: the test failed before
                pass
        icap.join(30)


def test_http2_clients_speak_h2_to_the_virtual_and_members_get_http1(ltm_lab):
    """ltm profile http2: h2c from the first byte (activation-modes always) on a clear virtual, h2 by
    ALPN behind client-ssl (a client offering only http/1.1 still served); members get HTTP/1.1."""
    with made(ltm_lab, "create ltm profile http2 h2_always activation-modes { always }",
              "create ltm virtual vs_h2c destination 10.1.10.100:99 pool web_pool "
              "profiles replace-all-with { tcp http h2_always }",
              "create ltm virtual vs_h2 destination 10.1.10.100:448 pool web_pool "
              "profiles replace-all-with { tcp http clientssl http2 }"):
        fmt = "%{http_version} %{http_code}"
        # one URL a curl: 7.88.1's --http2-prior-knowledge fails a reused connection (curl/curl#10634); two
        # streams on one connection: tests/unit/test_http2.py
        h2c = wait_for(lambda: run(ltm_lab, "client", "curl", "-s", "-m", "3", "--http2-prior-knowledge",
                                   "-w", " " + fmt, f"http://{VIP}:99/h2c").stdout, what="vs_h2c serving")
        words = h2c.split()
        assert words[0] in ("web1", "web2") and words[1:] == ["/h2c", "2", "200"], h2c
        tls = wait_for(lambda: run(ltm_lab, "client", "curl", "-sk", "-m", "3", "--http2", "-w", " " + fmt,
                                   f"https://{VIP}:448/tls").stdout, what="vs_h2 serving")
        assert tls.split()[1:] == ["/tls", "2", "200"], tls
        posted = run(ltm_lab, "client", "curl", "-sk", "-m", "3", "--http2", "-d", "x" * 70000, "-w", " " + fmt,
                     f"https://{VIP}:448/post").stdout
        assert posted.split()[1:] == ["/post", "2", "200"], posted
        old = run(ltm_lab, "client", "curl", "-sk", "-m", "3", "--http1.1", "-w", " " + fmt,
                  f"https://{VIP}:448/old").stdout
        assert old.split()[1:] == ["/old", "1.1", "200"], old
        # tmsh and REST in F5's shape
        shown = rest(ltm_lab, "GET", "/mgmt/tm/ltm/profile/http2/~Common~h2_always").json()
        assert shown["kind"] == "tm:ltm:profile:http2:http2state"
        assert (shown["activationModes"], shown["concurrentStreamsPerConnection"]) == (["always"], 10)


def test_an_explicit_proxy_tunnels_connect_when_its_connect_profile_allows_it(ltm_lab):
    """proxy-type explicit: CONNECT opens a tunnel (here to a member by address: the lab has no DNS
    server on this pair) only with an http-proxy-connect profile enabled; without, 403."""
    with made(ltm_lab, "create ltm profile http http_explicit proxy-type explicit",
              "create ltm profile http-proxy-connect connect_on default-state enabled",
              "create ltm virtual vs_explicit destination 10.1.10.100:100 profiles replace-all-with "
              "{ tcp http_explicit connect_on }",
              "create ltm virtual vs_explicit_deny destination 10.1.10.100:101 profiles replace-all-with "
              "{ tcp http_explicit }"):
        body = wait_for(lambda: run(ltm_lab, "client", "curl", "-s", "-m", "3", "-p", "-x", f"http://{VIP}:100",
                                    "http://10.1.20.21/tunnel").stdout, what="vs_explicit tunnelling")
        assert body.split() == ["web1", "/tunnel"]
        denied = run(ltm_lab, "client", "curl", "-s", "-m", "3", "-p", "-x", f"http://{VIP}:101", "-w", "%{http_connect}",
                     "http://10.1.20.21/")
        assert denied.returncode == 56 and denied.stdout.strip() == "403", denied


# -- SIP ---------------------------------------------------------------------------------------------
SIP_UAS = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 5060))
while True:
    data, addr = s.recvfrom(65535)
    head = data.split(b"\r\n\r\n")[0].decode().split("\r\n")
    keep = [h for h in head[1:] if h.split(":")[0].lower() in ("via", "v", "from", "to", "call-id", "cseq")]
    top = next((h.split(":", 1)[1].strip() for h in head[1:] if h.split(":")[0].lower() in ("via", "v")), "")
    out = ["SIP/2.0 200 OK", *keep, "X-Member: " + sys.argv[1], "X-Top-Via: " + top,
           "X-Source: %s:%d" % addr, "Content-Length: 0"]
    s.sendto(("\r\n".join(out) + "\r\n\r\n").encode(), addr)
'''
SIP_UAC = r'''
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.bind(("", 5062))
out = []
for line in sys.argv[1:]:
    method, call = line.split(":")
    if method == "GARBAGE":
        s.sendto(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", ("10.1.10.100", 5060))
    else:
        s.sendto(("%s sip:bob@10.1.10.100 SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.10.51:5062;branch=z9hG4bK%s%s\r\n"
                  "From: <sip:alice@lab>;tag=1\r\nTo: <sip:bob@lab>\r\nCall-ID: %s\r\nCSeq: 1 %s\r\n"
                  "Content-Length: 0\r\n\r\n" % (method, method, call, call, method)).encode(), ("10.1.10.100", 5060))
    try:
        data = s.recv(65535).decode()
    except socket.timeout:
        out.append(None)
        continue
    heads = [h.split(":", 1) for h in data.split("\r\n\r\n")[0].split("\r\n")[1:]]
    out.append({"first": data.split("\r\n")[0], "via": [v.strip() for n, v in heads if n.lower() == "via"],
                **{n[2:].lower().replace("-", "_"): v.strip() for n, v in heads if n.startswith("X-")}})
print(json.dumps(out))
'''


def test_a_udp_sip_virtual_keeps_each_call_on_one_member_inserts_via_and_drops_what_is_not_sip(ltm_lab):
    pids = [(w, int(run(ltm_lab, w, "sh", "-c", f"python3 -c '{SIP_UAS}' {w} >/dev/null 2>&1 & echo $!").stdout))
            for w in ("web1", "web2")]
    try:
        tmsh(ltm_lab, "bigip1", "create ltm pool sip_pool members add { 10.1.20.21:5060 10.1.20.22:5060 }")
        tmsh(ltm_lab, "bigip1", "create ltm profile sip sip_via insert-via-header enabled")
        tmsh(ltm_lab, "bigip1", "create ltm virtual vs_sip destination 10.1.10.100:5060 ip-protocol udp pool sip_pool "
                               "profiles replace-all-with { udp sip_via }")
        wait_for(lambda: node_status(ltm_lab, "bigip1").ltm.virtuals["/Common/vs_sip"].serving, what="vs_sip serving")
        out = run(ltm_lab, "client", "python3", "-c", SIP_UAC, "INVITE:call-a", "ACK:call-a", "INVITE:call-b",
                  "BYE:call-a", "GARBAGE:x", "OPTIONS:call-b")
        a1, a2, b1, a3, garbage, b2 = json.loads(out.stdout)
        # every message of a call to one member; the next call to the other (round robin)
        assert a1["member"] == a2["member"] == a3["member"] and b1["member"] == b2["member"] != a1["member"]
        assert a1["first"] == "SIP/2.0 200 OK"
        # the member saw the BIG-IP's Via on top (the client's under it); the client gets its own Via back only
        assert a1["top_via"].startswith("SIP/2.0/UDP ") and "branch=z9hG4bKf5-" in a1["top_via"]
        assert a1["via"] == ["SIP/2.0/UDP 10.1.10.51:5062;branch=z9hG4bKINVITEcall-a"]
        assert a1["source"].startswith("10.1.10.51:")   # SNAT none: the member sees the client's address
        assert garbage is None                           # not SIP: dropped, and counted
        stats = wait_for(lambda: (s := node_status(ltm_lab, "bigip1").ltm.virtuals["/Common/vs_sip"].stats).refused and s,
                         what="the dropped datagram counted")
        assert stats.refused == 1 and stats.bytes_in > 0 and stats.bytes_out > 0
        assert "insert-via-header enabled" in tmsh(ltm_lab, "bigip2", "list ltm profile sip sip_via")   # synced
    finally:
        for node, pid in pids:
            run(ltm_lab, node, "kill", str(pid))
        for line in ("delete ltm virtual vs_sip", "delete ltm pool sip_pool", "delete ltm profile sip sip_via"):
            try:
                tmsh(ltm_lab, "bigip1", line)
            except ControlError:
                pass


# -- PPTP ------------------------------------------------------------------------------------------
def _peer(lab, node, *args, stdin=None, module="pptp_peer") -> subprocess.Popen:
    """tests/lab/pptp_peer.py (or another module there) in a node, its JSON lines read as they come."""
    return subprocess.Popen(["ip", "netns", "exec", prefix(lab) + node, sys.executable, "-m", f"tests.lab.{module}", *args],
                            cwd=Path(__file__).resolve().parents[2], stdin=stdin, stdout=subprocess.PIPE, text=True)


@contextmanager
def helped(lab, kind, member, profile, port):
    """vs_KIND on the VIP's PORT to MEMBER (SNAT automap) with `ltm profile KIND PROFILE...` and a
    tcp one, once the kernel gives its connections the KIND conntrack helper (no proxy listens)."""
    name = profile.split()[0]
    with made(lab, f"create ltm pool {kind}_pool members add {{ {member} }}", f"create ltm profile {kind} {profile}",
              f"create ltm virtual vs_{kind} destination {VIP}:{port} pool {kind}_pool profiles replace-all-with "
              f"{{ tcp {name} }} source-address-translation {{ type automap }}"):
        wait_for(lambda: f'ct helper set "{kind}"' in run(lab, "bigip1", "nft", "list", "table", "ip",
                                                          "biglab_ltm").stdout, what=f"the {kind} helper on vs_{kind}")
        assert run(lab, "bigip1", "ss", "-Hltn", "sport", f"= :{port}").stdout.strip() == ""   # no proxy
        yield


def test_a_pptp_virtual_sends_each_calls_gre_after_its_control_connection_to_the_member(ltm_lab):
    """ltm profile pptp: the kernel forwards the control connection (the virtual's port 8181 to the
    member's 1723, SNAT automap) with its pptp conntrack helper, which expects the call's GRE both
    ways: the client's GRE to the virtual reaches the member, the member's comes back from the virtual."""
    with helped(ltm_lab, "pptp", "10.1.20.21:1723", "pptp_calls csv-format enabled", 8181):
        pac = _peer(ltm_lab, "web1", "pac", "10.1.20.21", "1723")
        pns = None
        try:
            assert json.loads(pac.stdout.readline()) == {"listening": 1723}
            pns = _peer(ltm_lab, "client", "pns", VIP, "8181", stdin=subprocess.PIPE)
            assert json.loads(pns.stdout.readline())["called"] == [0x4242, 0x1111, 1]   # PAC's call, ours, connected
            expected = run(ltm_lab, "bigip1", "conntrack", "-L", "expect").stdout
            # the call's GRE, both ways, expected by the helper of the client's control connection
            assert expected.count("proto=47") == 2 and expected.count("helper=pptp") == 2, expected
            assert "src=10.1.10.51 dst=10.1.10.100 srckey=0x1111 dstkey=0x4242" in expected, expected
            pns.stdin.write("go\n")
            pns.stdin.flush()
            assert json.loads(pns.stdout.readline())["gre"] == [VIP, 0x1111, "from-pac"]
            got = json.loads(pac.stdout.readline())
            assert got["control_from"] == "10.1.20.10"   # automap: the floating self IP
            assert got["gre"] == ["10.1.20.10", 0x4242, "from-pns"] and got["pns_call"] != 0
            gre = run(ltm_lab, "bigip1", "conntrack", "-L", "-p", "gre").stdout
            assert "src=10.1.10.51 dst=10.1.10.100 srckey=0x1111 dstkey=0x4242 src=10.1.20.21 dst=10.1.20.10" in gre, gre
        finally:
            for p in (pns, pac):
                if p is not None and p.poll() is None:
                    p.kill()
                if p is not None:
                    p.wait(10)
                    p.stdout.close()
                    if p.stdin:
                        p.stdin.close()


# -- MQTT ------------------------------------------------------------------------------------------
MQTT_RULE = """create ltm rule mqtt_watch {
when MQTT_CLIENT_INGRESS {
    if { [MQTT::type] eq "CONNECT" } { log local0. "connect [MQTT::client_id] [MQTT::username] v[MQTT::protocol_version]" }
    if { [MQTT::type] eq "PUBLISH" } {
        if { [MQTT::topic] starts_with "secret/" } { MQTT::drop } else { MQTT::collect }
    }
}
when MQTT_CLIENT_DATA { log local0. "publish [MQTT::topic] [MQTT::payload]" }
}"""


def test_an_mqtt_virtual_runs_each_packet_through_its_irules_for_a_real_client(ltm_lab):
    """ltm profile mqtt: paho-mqtt (3.1.1, then 5.0) subscribes and publishes through the virtual to
    a broker on web2; the iRule sees each CONNECT and PUBLISH and drops what goes to secret/."""
    with made(ltm_lab, "create ltm pool mqtt_pool members add { 10.1.20.22:1883 }", MQTT_RULE,
              "create ltm virtual vs_mqtt destination 10.1.10.100:1883 pool mqtt_pool "
              "profiles replace-all-with { tcp mqtt } rules { mqtt_watch }"):
        wait_for(lambda: run(ltm_lab, "bigip1", "ss", "-Hltn", "sport", "= :1883").stdout.strip(),
                 what="vs_mqtt listening")
        broker = _peer(ltm_lab, "web2", "broker", "10.1.20.22", "1883", module="mqtt_peer")
        try:
            assert json.loads(broker.stdout.readline()) == {"listening": 1883}
            client = _peer(ltm_lab, "client", "client", VIP, "1883", module="mqtt_peer")
            out, _ = client.communicate(timeout=60)
            assert [json.loads(line) for line in out.splitlines()] == [
                {"version": "3.1.1", "got": [["lab/t", "hello 3.1.1"]]}, {"version": "5.0", "got": [["lab/t", "hello 5.0"]]}]
        finally:
            broker.kill()
            published, _ = broker.communicate(timeout=10)
        assert [json.loads(line)["published"] for line in published.splitlines()] == ["lab/t", "lab/t"]   # no secret/
        logs = "".join(f.read_text(errors="replace") for f in state.node_dir(ltm_lab, "bigip1").iterdir()
                       if f.suffix == ".jsonl")
        for line in ("connect lab-3.1.1 alice v4", "connect lab-5.0 alice v5", "publish lab/t hello 3.1.1",
                     "publish lab/t hello 5.0"):
            assert "Rule /Common/mqtt_watch <MQTT_" in logs and line in logs, line


# -- FTP -------------------------------------------------------------------------------------------
def test_an_ftp_virtual_lets_passive_and_active_data_connections_follow_the_control_connection(ltm_lab):
    """ltm profile ftp: the kernel forwards the control connection (the virtual's port 21 to the
    member's 2121, SNAT automap) with its ftp conntrack helper, which rewrites the member's PASV
    answer to the virtual's address and the client's PORT to the SNAT address, and expects each data
    connection: Python's ftplib fetches a file from pyftpdlib on web1, passive and active."""
    with helped(ltm_lab, "ftp", "10.1.20.21:2121", "ftp_files port 20", 21):
        server = _peer(ltm_lab, "web1", "server", "10.1.20.21", "2121", module="ftp_peer")
        try:
            assert json.loads(server.stdout.readline()) == {"listening": 2121}
            client = _peer(ltm_lab, "client", "client", VIP, "21", module="ftp_peer")
            out, _ = client.communicate(timeout=60)
            lines = [json.loads(line) for line in out.splitlines()]
            assert client.returncode == 0 and len(lines) == 3, out
            assert lines[0]["pasv"].startswith("227 ") and "(10,1,10,100," in lines[0]["pasv"], lines   # the VIP
            assert lines[1:] == [{"mode": "passive", "got": ["hello through the ftp helper"]},
                                 {"mode": "active", "got": ["hello through the ftp helper"]}]
            assert json.loads(server.stdout.readline()) == {"control_from": "10.1.20.10"}   # automap: the floating self IP
        finally:
            server.kill()
            server.communicate(timeout=10)
