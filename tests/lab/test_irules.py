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
