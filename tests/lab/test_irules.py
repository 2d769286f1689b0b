"""iRules on live traffic (ha-pair): real HTTP from the client through a virtual server whose
rules switch pools by URI, redirect, respond, insert headers, look up a data group, and fail."""
import pytest
import requests

from lab.model import state

from lab.runtime.control import call
from lab.runtime.lab import Lab
from tests.lab.conftest import HA_PAIR, wait_for

VIP = "10.1.10.100"
RULE = r'''when HTTP_REQUEST {
    HTTP::header insert X-Lab-Client [IP::client_addr]
    set to [class lookup [HTTP::path] dg_moved]
    if { $to ne "" } { HTTP::uri $to }
    if { [HTTP::uri] starts_with "/api" } {
        pool api_pool
    } elseif { [HTTP::uri] equals "/old" } {
        HTTP::redirect "http://[HTTP::host]/new"
    } elseif { [HTTP::uri] equals "/health" } {
        HTTP::respond 200 content "ok from [virtual name]" Content-Type text/plain
    } elseif { [HTTP::uri] equals "/boom" } {
        set x [expr {1 / 0}]
    }
}'''


def tmsh(lab, line):
    return call(lab, "bigip1", "tmsh", line=line)


def curl(lab, path, *opts):
    return Lab.open(lab).run("client", ["curl", "-s", "-m", "3", *opts, f"http://{VIP}{path}"],
                             capture_output=True, text=True)


@pytest.fixture(scope="module")
def lab():
    from tests.lab.conftest import Labs
    labs = Labs()
    try:
        lab = labs(HA_PAIR, "ttcl", "10.250.40.0/24")
        tmsh(lab, "create ltm pool api_pool members add { 10.1.20.22:80 }")
        tmsh(lab, "create ltm data-group internal dg_moved type string records add { /legacy { data /moved } }")
        tmsh(lab, f"create ltm rule lab_rule {{\n{RULE}\n}}")
        tmsh(lab, "modify ltm virtual vs_http rules { lab_rule }")
        wait_for(lambda: curl(lab, "/").stdout.split()[:1] in (["web1"], ["web2"]), what="the virtual serves")
        yield lab
    finally:
        labs.close()


def test_uri_switches_to_the_api_pool(lab):
    assert {curl(lab, "/api/v1").stdout.strip() for _ in range(4)} == {"web2 /api/v1"}
    assert {curl(lab, "/").stdout.split()[0] for _ in range(4)} == {"web1", "web2"}


def test_redirect_and_respond_come_from_the_big_ip(lab):
    out = curl(lab, "/old", "-i").stdout
    assert out.startswith("HTTP/1.0 302 Found") and f"Location: http://{VIP}/new" in out and "Server: BigIP" in out
    out = curl(lab, "/health", "-i").stdout
    assert out.startswith("HTTP/1.0 200 OK") and out.endswith("ok from /Common/vs_http")


def test_header_insert_and_data_group_lookup_reach_the_server(lab):
    assert "X-Lab-Client: 10.1.10." in curl(lab, "/headers").stdout     # the server echoes what arrived
    assert curl(lab, "/legacy").stdout.split()[1] == "/moved"


def test_an_irule_error_resets_the_connection_and_is_logged_and_counted(lab):
    r = curl(lab, "/boom")
    assert r.returncode in (52, 56) and r.stdout == ""      # empty reply / connection reset
    shown = tmsh(lab, "show ltm rule lab_rule")
    assert "Ltm::Rule Event: lab_rule:HTTP_REQUEST" in shown
    assert [line.split() for line in shown.splitlines() if "Failures" in line] == [["Failures", "1"]]
    logs = "".join(f.read_text(errors="replace") for f in state.node_dir(lab, "bigip1").iterdir()
                   if f.suffix == ".jsonl")
    assert "TCL error: /Common/lab_rule <HTTP_REQUEST> - divide by zero" in logs
    stats = requests.get("https://10.250.40.11/mgmt/tm/ltm/rule/~Common~lab_rule/stats", auth=("admin", "admin"),
                         verify=False, timeout=10).json()["entries"]
    event = stats["https://localhost/mgmt/tm/ltm/rule/~Common~lab_rule:HTTP_REQUEST/stats"]["nestedStats"]["entries"]
    assert event["failures"] == {"value": 1} and event["eventType"] == {"description": "HTTP_REQUEST"}


def test_a_bad_rule_is_refused_with_f5s_error_and_changes_nothing(lab):
    with pytest.raises(Exception, match=r"01070151:3: Rule \[/Common/bad\] error: /Common/bad:1: error: "
                                        r"\[undefined procedure: xpool\]"):
        tmsh(lab, "create ltm rule bad { when HTTP_REQUEST { xpool a } }")
    assert "bad" not in tmsh(lab, "list ltm rule")


ACTING = r'''when HTTP_REQUEST {
    if { [HTTP::uri] starts_with "/sticky" } { persist source_addr 60 }
    if { [HTTP::uri] starts_with "/automap" } { snat automap } elseif { [HTTP::uri] starts_with "/ip" } { snat 10.1.20.10 }
}'''


def served(lab, port, path):
    """(the server that answered, the source address it saw) for one request through the virtual."""
    out = Lab.open(lab).run("client", ["curl", "-s", "-i", "-m", "3", f"http://{VIP}:{port}{path}"],
                            capture_output=True, text=True).stdout
    head = dict(line.split(": ", 1) for line in out.split("\r\n\r\n")[0].splitlines()[1:] if ": " in line)
    return head.get("X-Served-By", ""), head.get("X-Client-Address", "").rsplit(":", 1)[0]


def test_persist_and_snat_in_a_rule_change_the_member_and_the_source_on_the_wire(lab):
    tmsh(lab, f"create ltm rule acting {{\n{ACTING}\n}}")
    tmsh(lab, "create ltm virtual vs_acting destination 10.1.10.100:8080 pool web_pool profiles add { http } "
              "rules { acting }")
    wait_for(lambda: served(lab, 8080, "/")[0] in ("web1", "web2"), what="the virtual serves")
    plain = [served(lab, 8080, "/plain") for _ in range(4)]
    assert {s for s, _ in plain} == {"web1", "web2"}                  # round robin without persistence
    assert {a for _, a in plain} == {"10.1.10.51"}                    # SNAT none: the client's own address
    assert len({served(lab, 8080, "/sticky")[0] for _ in range(6)}) == 1   # persist source_addr holds the member
    assert {served(lab, 8080, "/automap")[1] for _ in range(2)} == {"10.1.20.10"}   # the floating self IP
    assert served(lab, 8080, "/ip")[1] == "10.1.20.10"


def test_an_irule_takes_a_fastl4_virtual_onto_the_proxy_where_its_l4_events_run(lab):
    tmsh(lab, "create ltm rule l4_events { when CLIENT_ACCEPTED { set seen 1 }\nwhen SERVER_CONNECTED { set seen 2 } }")
    tmsh(lab, "create ltm virtual vs_l4 destination 10.1.10.100:81 ip-protocol tcp pool web_pool "
              "profiles replace-all-with { fastL4 } rules { l4_events }")
    wait_for(lambda: served(lab, 81, "/")[0] in ("web1", "web2"), what="the fastL4 virtual serves")
    shown = tmsh(lab, "show ltm rule l4_events")
    totals = {line.split(":")[-1].strip() for line in shown.splitlines() if line.startswith("Ltm::Rule Event")}
    assert set(totals) == {"CLIENT_ACCEPTED", "SERVER_CONNECTED"}
    assert all(int(line.split()[-1]) >= 1 for line in shown.splitlines() if line.strip().startswith("Total"))
