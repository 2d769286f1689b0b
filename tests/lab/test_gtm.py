"""BIG-IP DNS on gtm-3dc: real DNS from clients in three networks, health from the LTMs over iQuery."""
import json
import os
import signal
import subprocess
import sys

import pytest

from lab.model import state
from lab.runtime.control import call, node_status
from lab.runtime.lab import Lab
from tests.lab.conftest import ROOT, one_lab, biglab, wait_for

GTM_3DC = ROOT / "topologies" / "gtm-3dc.yml"
GTM1, GTM2 = "10.30.0.53", "10.30.0.54"
VIP = {"nyc": "10.10.1.100", "lon": "10.10.2.100", "sgp": "10.10.3.100"}
QUERY = r'''
import json, sys
import dns.message, dns.query, dns.rcode
server, name, rdtype, tcp = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "tcp"
q = dns.message.make_query(name, rdtype)
r = (dns.query.tcp if tcp else dns.query.udp)(q, server, timeout=2)
print(json.dumps({"rcode": dns.rcode.to_text(r.rcode()), "aa": bool(r.flags & 0x400),
                  "answer": [rd.to_text() for rr in r.answer for rd in rr],
                  "ttl": [rr.ttl for rr in r.answer], "authority": [rr.to_text() for rr in r.authority]}))
'''
JUNK = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
out = []
for junk in (b"\x12\x34", b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07broken", bytes(range(256)) * 4):
    s.sendto(junk, (sys.argv[1], 53))
    try:
        data = s.recv(4096)
        out.append(f"{data[:2].hex()} rcode {data[3] & 15}")
    except socket.timeout:
        out.append("no answer")
print("\n".join(out))
'''


@pytest.fixture(scope="module")
def gtm_lab():
    with one_lab(GTM_3DC, "gtst", "10.252.2.0/24") as name:
        yield name


def dig(lab, client, server=GTM1, name="www.example.com"):
    out = Lab.open(lab).run(f"client-{client}", ["dig", "+short", "+time=2", "+tries=3", f"@{server}", name],
                        capture_output=True, text=True, timeout=20)
    return out.stdout.split()


def query(lab, client, name, rdtype="A", server=GTM1, tcp=False):
    out = Lab.open(lab).run(f"client-{client}", [sys.executable, "-c", QUERY, server, name, rdtype,
                                                  "tcp" if tcp else "udp"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def tmsh(lab, node, line):
    return call(lab, node, "tmsh", line=line)


def gtm_status(lab, node="gtm1"):
    return node_status(lab, node).gtm


def test_each_client_gets_its_nearest_data_center_from_both_gtms(gtm_lab):
    for client in ("nyc", "lon", "sgp"):
        for server in (GTM1, GTM2):
            assert dig(gtm_lab, client, server) == [VIP[client]], (client, server)
    r = query(gtm_lab, "lon", "www.example.com", tcp=True)
    assert r["answer"] == [VIP["lon"]] and r["ttl"] == [30] and r["aa"]


def test_zone_data_nxdomain_and_refused(gtm_lab):
    assert query(gtm_lab, "nyc", "ftp.example.com")["answer"] == ["mail.example.com.", "10.40.0.25"]
    assert query(gtm_lab, "nyc", "example.com", "MX", server=GTM2)["answer"] == ["10 mail.example.com."]
    r = query(gtm_lab, "sgp", "nosuch.example.com")
    assert r["rcode"] == "NXDOMAIN" and "SOA ns1.example.com." in r["authority"][0]
    assert query(gtm_lab, "sgp", "www.example.org")["rcode"] == "REFUSED"


def test_malformed_queries_get_formerr_or_nothing_and_the_listener_goes_on(gtm_lab):
    out = Lab.open(gtm_lab).run("client-nyc", [sys.executable, "-c", JUNK, GTM1], capture_output=True,
                        text=True, timeout=10).stdout.split("\n")
    assert out[0] == "no answer" and out[1] == "abcd rcode 1"
    assert dig(gtm_lab, "nyc") == [VIP["nyc"]]


def test_gtm_configuration_is_shared_by_the_sync_group(gtm_lab):
    assert gtm_status(gtm_lab, "gtm2").sync.peers == ("gtm1",)
    tmsh(gtm_lab, "gtm2", "create gtm wideip a new.example.com pools add { www_pool }")
    try:
        wait_for(lambda: "new.example.com" in tmsh(gtm_lab, "gtm1", "list gtm wideip a"), what="wide IP on gtm1")
        assert dig(gtm_lab, "lon", GTM1, "new.example.com") == [VIP["lon"]]
    finally:
        tmsh(gtm_lab, "gtm1", "delete gtm wideip a new.example.com")
    wait_for(lambda: "new.example.com" not in tmsh(gtm_lab, "gtm2", "list gtm wideip a"), what="deleted on gtm2")
    # a BIG-IP shows its GTM sync group as the device group `gtm` in its sync status
    wait_for(lambda: "gtm (In Sync): All devices in the device group are in sync"
             in tmsh(gtm_lab, "gtm1", "show cm sync-status"), what="gtm1's sync group In Sync")
    assert node_status(gtm_lab, "gtm2").sync.status == "In Sync"


def test_a_refused_zone_change_leaves_the_zone_as_it_was(gtm_lab):
    before = tmsh(gtm_lab, "gtm1", "list gtm zone example.com")
    proc = biglab("exec", gtm_lab, "gtm1", "--", "tmsh", "modify", "gtm", "zone", "example.com", "records", "add",
                  "{", "mail IN CNAME elsewhere.org.", "}", check=False)
    assert proc.returncode != 0 and "CNAME and other data" in proc.stderr
    assert tmsh(gtm_lab, "gtm1", "list gtm zone example.com") == before
    assert query(gtm_lab, "nyc", "mail.example.com")["answer"] == ["10.40.0.25"]


def test_a_data_center_whose_web_servers_stop_drops_out_and_comes_back(gtm_lab):
    for web in ("web-nyc1", "web-nyc2"):
        os.kill(int((state.node_dir(gtm_lab, web) / "web.pid").read_text()), signal.SIGKILL)
    try:
        # http_fast: interval 1 s, timeout 3 s; then the LTM tells the GTMs over iQuery
        wait_for(lambda: dig(gtm_lab, "nyc") == [VIP["lon"]], timeout=20, what="nyc client sent to lon")
        wait_for(lambda: dig(gtm_lab, "nyc", GTM2) == [VIP["lon"]], timeout=10, what="gtm2 hears it too")
        assert dig(gtm_lab, "sgp") == [VIP["sgp"]]
        members = gtm_status(gtm_lab).members
        assert members["/Common/www_pool//Common/ltm-nyc:vs_www"].state == "offline"
        logs = biglab("logs", gtm_lab, "gtm1").stdout
        assert "011a1004:1: SNMP_TRAP: VS /Common/vs_www (Server /Common/ltm-nyc) in pool /Common/www_pool " \
               "state change green --> red" in logs
    finally:
        for web in ("web-nyc1", "web-nyc2"):
            Lab.open(gtm_lab).start_server(web)
    wait_for(lambda: dig(gtm_lab, "nyc") == [VIP["nyc"]], timeout=20, what="nyc back")


def test_a_gtm_whose_channel_to_an_ltm_is_cut_marks_its_members_unknown(gtm_lab):
    biglab("link", gtm_lab, "ltm-sgp:mgmt", "down")
    try:
        wait_for(lambda: gtm_status(gtm_lab).servers["/Common/ltm-sgp"].state in ("disconnected", "stale"),
                 timeout=20, what="ltm-sgp out of reach")
        member = gtm_status(gtm_lab).members["/Common/www_pool//Common/ltm-sgp:vs_www"]
        assert member.state == "unknown" and not member.usable
        assert dig(gtm_lab, "sgp") == [VIP["lon"]]
        text = tmsh(gtm_lab, "gtm1", "show gtm server ltm-sgp")
        assert "iQuery state" in text and ("disconnected" in text or "stale" in text)
    finally:
        biglab("link", gtm_lab, "ltm-sgp:mgmt", "up")
    wait_for(lambda: dig(gtm_lab, "sgp") == [VIP["sgp"]], timeout=30, what="sgp back")


def test_show_gtm_iquery_and_iqdump_show_health_flowing(gtm_lab):
    text = tmsh(gtm_lab, "gtm1", "show gtm iquery")
    for peer in ("gtm2", "ltm-nyc", "ltm-lon", "ltm-sgp"):
        assert f"Gtm::IQuery: {peer}" in text
    assert "Certificate expires" in text and "Last update" in text and "s ago" in text
    proc = subprocess.run([sys.executable, "-m", "lab.cli", "exec", gtm_lab, "gtm1", "--", "iqdump", "ltm-lon",
                           "--count", "1"], cwd=ROOT, capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0, proc.stderr
    assert "ltm-lon -> gtm-health" in proc.stdout and '"/Common/vs_www"' in proc.stdout
    proc = biglab("exec", gtm_lab, "gtm1", "--", "iqdump", "nosuch", check=False)
    assert proc.returncode == 1 and "'nosuch' is not a device of this trust domain" in proc.stderr


def test_an_external_gtm_monitor_runs_on_the_gtm_and_its_script_decides_the_member(gtm_lab):
    """gtm monitor external on ltm-nyc's virtual servers: gtm1's prober runs the script (with its
    user-defined FLAG) against 10.10.1.100:80; the flag gone, nyc's member is offline and the nyc
    client is sent to lon; the flag back, to nyc again."""
    node = state.node_dir(gtm_lab, "gtm1")
    upload = node / "var/config/rest/downloads/flag_check.sh"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_text('#!/bin/sh\n[ "$1" = "::ffff:10.10.1.100" ] && [ "$2" = 80 ] && [ -e "$FLAG" ] && echo up\n')
    flag = node / "flag_check.up"
    flag.write_text("")
    tmsh(gtm_lab, "gtm1", "create sys file external-monitor flag_check "
                          "source-path file:///var/config/rest/downloads/flag_check.sh")
    tmsh(gtm_lab, "gtm1", f"create gtm monitor external flag_check run flag_check interval 1 timeout 2 "
                          f"probe-timeout 1 user-defined FLAG {flag}")
    tmsh(gtm_lab, "gtm1", "modify gtm server ltm-nyc monitor flag_check")
    member = "/Common/www_pool//Common/ltm-nyc:vs_www"
    try:
        wait_for(lambda: gtm_status(gtm_lab).members[member].state == "available", what="nyc up by the script")
        assert dig(gtm_lab, "nyc") == [VIP["nyc"]]
        flag.unlink()
        wait_for(lambda: gtm_status(gtm_lab).members[member].state == "offline", timeout=10, what="nyc down")
        assert "Monitor /Common/flag_check: the script printed nothing" in gtm_status(gtm_lab).members[member].reason
        assert dig(gtm_lab, "nyc") == [VIP["lon"]]
        flag.write_text("")
        wait_for(lambda: dig(gtm_lab, "nyc") == [VIP["nyc"]], timeout=10, what="nyc back")
    finally:
        tmsh(gtm_lab, "gtm1", "modify gtm server ltm-nyc monitor bigip")
        tmsh(gtm_lab, "gtm1", "delete gtm monitor external flag_check")
        tmsh(gtm_lab, "gtm1", "delete sys file external-monitor flag_check")
