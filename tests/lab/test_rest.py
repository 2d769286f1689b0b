"""iControl REST on a real lab node, driven by the real clients (f5-sdk, BIGREST, f5-icontrol-rest),
unmodified, and by plain HTTPS for the rules they do not exercise."""
from __future__ import annotations

import json
import warnings

import pytest
import requests
import urllib3

from tests.lab.conftest import HA_PAIR, one_lab, biglab, wait_for

warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning",
                                        "ignore::DeprecationWarning")

LAB = "trest"
B1, B2 = "10.251.30.11", "10.251.30.12"


@pytest.fixture(autouse=True)
def no_ca_bundle(monkeypatch):
    """requests lets REQUESTS_CA_BUNDLE override a session's verify=False (requests issue 3829);
    lab certificates are not for public CAs, so the clients run without it, as users must."""
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def lab():
    with one_lab(HA_PAIR, LAB, "10.251.30.0/24") as name:
        yield name


def api(host=B1, auth=("admin", "admin")) -> requests.Session:
    s = requests.Session()
    s.verify = False
    if auth:
        s.auth = auth
    s.base = f"https://{host}"
    return s


def get(s, path, **kw):
    return s.get(s.base + path, timeout=10, **kw)


def send(s, method, path, body=None, raw=None, **kw):
    if raw is not None:
        return s.request(method, s.base + path, data=raw, timeout=10,
                         headers={"Content-Type": "application/json"}, **kw)
    return s.request(method, s.base + path, json=body, timeout=10, **kw)


def tmsh(node, line):
    return biglab("exec", LAB, node, "--", "tmsh", *line.split()).stdout


def test_f5_sdk_pool_flow_with_and_without_token(lab):
    from f5.bigip import ManagementRoot
    for token in (False, True):
        mgmt = ManagementRoot(B1, "admin", "admin", token=token)
        assert mgmt.tmos_version == "17.1.0"
        name = f"sdk{int(token)}"
        pool = mgmt.tm.ltm.pools.pool.create(name=name, partition="Common", monitor="/Common/http",
                                             members=[{"name": "10.1.20.21:80"}])
        pool.members_s.members.create(name="10.1.20.22:80", partition="Common")
        assert name in [p.name for p in mgmt.tm.ltm.pools.get_collection()]
        pool = mgmt.tm.ltm.pools.pool.load(name=name, partition="Common")
        assert pool.monitor == "/Common/http"
        assert sorted(m.name for m in pool.members_s.get_collection()) == ["10.1.20.21:80", "10.1.20.22:80"]
        stats = pool.members_s.members.load(name="10.1.20.21:80", partition="Common").stats.load()
        (entry,) = stats.entries.values()
        assert entry["nestedStats"]["entries"]["addr"]["description"] == "10.1.20.21"
        member = pool.members_s.members.load(name="10.1.20.21:80", partition="Common")
        member.session = "user-disabled"
        member.update()
        member.refresh()
        assert member.session == "user-disabled"
        # the same commit as tmsh's: bigip1 shows it, and auto-sync carried it to bigip2
        assert "session user-disabled" in tmsh("bigip1", f"list ltm pool {name}")
        wait_for(lambda: "session user-disabled" in tmsh("bigip2", f"list ltm pool {name}"),
                 what="the REST change synced to bigip2")
        pool.delete()
        assert not mgmt.tm.ltm.pools.pool.exists(name=name, partition="Common")


def test_bigrest_token_and_basic_pool_flow_stats_and_transaction(lab):
    from bigrest.bigip import BIGIP
    from bigrest.common.exceptions import RESTAPIError
    for kw in ({"request_token": True}, {}):
        dev = BIGIP(B1, "admin", "admin", session_verify=False, **kw)
        name = "brt" if kw else "brb"
        dev.create("/mgmt/tm/ltm/pool", {"name": name, "members": [{"name": "10.1.20.21:80"}]})
        assert dev.exist(f"/mgmt/tm/ltm/pool/~Common~{name}")
        obj = dev.load(f"/mgmt/tm/ltm/pool/~Common~{name}")
        obj.properties["description"] = "from bigrest"
        dev.save(obj)
        assert dev.load(f"/mgmt/tm/ltm/pool/~Common~{name}").properties["description"] == "from bigrest"
        shown = dev.show(f"/mgmt/tm/ltm/pool/~Common~{name}")
        assert shown.properties["memberCnt"]["value"] == 1
        assert shown.properties["status.availabilityState"]["description"] in ("available", "unknown")
        dev.delete(f"/mgmt/tm/ltm/pool/~Common~{name}")
        assert not dev.exist(f"/mgmt/tm/ltm/pool/~Common~{name}")
    dev = BIGIP(B1, "admin", "admin", session_verify=False, request_token=True)
    with dev:
        dev.create("/mgmt/tm/ltm/node", {"name": "tn1", "address": "10.1.20.31"})
        dev.create("/mgmt/tm/ltm/pool", {"name": "tpool", "members": [{"name": "tn1:80"}]})
    assert dev.load("/mgmt/tm/ltm/pool/~Common~tpool/members")[0].properties["address"] == "10.1.20.31"
    # all or nothing: the second command fails, so the first is not applied either
    with pytest.raises(RESTAPIError):
        with dev:
            dev.create("/mgmt/tm/ltm/node", {"name": "tn2", "address": "10.1.20.32"})
            dev.create("/mgmt/tm/ltm/pool", {"name": "tpool2", "monitor": "/Common/nosuch"})
    assert not dev.exist("/mgmt/tm/ltm/node/~Common~tn2")
    dev.delete("/mgmt/tm/ltm/pool/~Common~tpool")
    dev.delete("/mgmt/tm/ltm/node/~Common~tn1")


def test_f5_icontrol_rest_session(lab):
    from icontrol.session import iControlRESTSession
    s = iControlRESTSession("admin", "admin", verify=False)
    r = s.get(f"https://{B1}/mgmt/tm/ltm/pool/~Common~web_pool")
    assert r.json()["kind"] == "tm:ltm:pool:poolstate"
    r = s.post(f"https://{B1}/mgmt/tm/ltm/node", json={"name": "icr1", "address": "10.1.20.41"})
    assert r.json()["fullPath"] == "/Common/icr1"
    s.delete(f"https://{B1}/mgmt/tm/ltm/node/~Common~icr1")
    ts = iControlRESTSession("admin", "admin", token=True, verify=False)
    assert ts.get(f"https://{B1}/mgmt/tm/sys/").json()["selfLink"].endswith("?ver=17.1.0")


def test_tokens_as_f5(lab):
    s = api(auth=None)
    r = send(s, "POST", "/mgmt/shared/authn/login", {"username": "admin", "password": "admin",
                                                     "loginProviderName": "tmos"})
    tok = r.json()["token"]
    assert tok["timeout"] == 1200 and tok["expirationMicros"] > tok["lastUpdateMicros"]
    h = {"X-F5-Auth-Token": tok["token"]}
    assert get(s, "/mgmt/tm/ltm/pool", headers=h).status_code == 200
    r = send(s, "PATCH", f"/mgmt/shared/authz/tokens/{tok['token']}", {"timeout": 36001}, headers=h)
    assert r.status_code == 406
    r = send(s, "PATCH", f"/mgmt/shared/authz/tokens/{tok['token']}", {"timeout": 36000}, headers=h)
    assert r.status_code == 200 and r.json()["timeout"] == 36000
    assert send(s, "DELETE", f"/mgmt/shared/authz/tokens/{tok['token']}", headers=h).status_code == 200
    r = get(s, "/mgmt/tm/ltm/pool", headers=h)
    assert r.status_code == 401 and r.json()["message"] == "X-F5-Auth-Token does not exist."
    r = get(s, "/mgmt/tm/ltm/pool", headers={"X-F5-Auth-Token": "FORGEDTOKEN0000000000000000"})
    assert r.status_code == 401
    r = get(s, "/mgmt/tm/ltm/pool")
    assert r.status_code == 401 and r.json()["kind"] == ":resterrorresponse"
    assert r.json()["message"].startswith("Authorization failed: no user authentication header or token")
    bad = send(s, "POST", "/mgmt/shared/authn/login", {"username": "admin", "password": "wrong"})
    assert bad.status_code == 401


def test_roles_guest_operator_and_token_cap(lab):
    a = api()
    for user, role in (("guest1", "guest"), ("oper1", "operator")):
        r = send(a, "POST", "/mgmt/tm/auth/user", {"name": user, "password": "Secret-1",
                                                   "partitionAccess": [{"name": "all-partitions", "role": role}]})
        assert r.status_code == 200, r.text
        assert "Secret-1" not in r.text
    guest, oper = api(auth=("guest1", "Secret-1")), api(auth=("oper1", "Secret-1"))
    assert get(guest, "/mgmt/tm/ltm/pool").status_code == 200
    r = send(guest, "POST", "/mgmt/tm/ltm/node", {"name": "g1", "address": "10.1.20.51"})
    assert r.status_code == 401 and "verb=POST" in r.json()["message"]
    assert send(oper, "POST", "/mgmt/tm/ltm/node", {"name": "o1", "address": "10.1.20.52"}).status_code == 401
    member = "/mgmt/tm/ltm/pool/~Common~web_pool/members/~Common~10.1.20.22:80"
    r = send(oper, "PATCH", member, {"session": "user-disabled"})
    assert r.status_code == 200 and r.json()["session"] == "user-disabled"
    for r in (send(oper, "PATCH", member, {"ratio": 5}), send(oper, "DELETE", member)):   # mcpd's refusal
        assert r.status_code == 400 and r.json()["message"].startswith("01070822:3: Access Denied: user (oper1)")
    assert send(oper, "PATCH", member, {"session": "user-enabled"}).status_code == 200
    # 100 live tokens per user (admin excepted); the next login is refused
    login = {"username": "guest1", "password": "Secret-1", "loginProviderName": "tmos"}
    codes = [send(api(auth=None), "POST", "/mgmt/shared/authn/login", login).status_code for _ in range(101)]
    assert codes[:100] == [200] * 100 and codes[100] == 400
    assert send(api(auth=None), "POST", "/mgmt/shared/authn/login",
                {"username": "admin", "password": "admin"}).status_code == 200
    for user in ("guest1", "oper1"):
        assert send(a, "DELETE", f"/mgmt/tm/auth/user/{user}").status_code == 200


def test_a_manager_changes_ltm_but_no_vlan_over_rest_or_tmsh(lab):
    a = api()
    r = send(a, "POST", "/mgmt/tm/auth/user", {"name": "mgr2", "password": "Secret-1",
                                               "partitionAccess": [{"name": "all-partitions", "role": "manager"}]})
    assert r.status_code == 200, r.text
    try:
        mgr = api(auth=("mgr2", "Secret-1"))
        r = send(mgr, "POST", "/mgmt/tm/net/vlan", {"name": "mgr_vlan"})
        assert r.status_code == 401 and "verb=POST" in r.json()["message"]
        r = send(mgr, "POST", "/mgmt/tm/util/bash", {"command": "run",
                                                      "utilCmdArgs": '-c "tmsh create net vlan mgr_vlan"'})
        assert ("01070822:3: Access Denied: user (mgr2) does not have create access to VLAN (/Common/mgr_vlan)"
                in r.json()["commandResult"])
        assert send(mgr, "POST", "/mgmt/tm/ltm/pool", {"name": "mgr_pool"}).status_code == 200
        out = biglab("exec", "--user", "mgr2", LAB, "bigip1", "--", "tmsh", "create", "net", "vlan", "mgr_vlan",
                     check=False)     # tmsh on the node as that user, not as root
        assert out.returncode != 0 and "01070822:3: Access Denied: user (mgr2)" in out.stdout + out.stderr
        assert "mgr_vlan" not in tmsh("bigip1", "list net vlan")
    finally:
        send(a, "DELETE", "/mgmt/tm/ltm/pool/mgr_pool")
        send(a, "DELETE", "/mgmt/tm/auth/user/mgr2")


def test_partition_access_holds_a_manager_to_its_partition_with_f5_sdk(lab):
    """A user made in tmsh with F5's partition-access syntax, logged in with f5-sdk: writes in
    its partition only (F5's 01070824 otherwise, also through util bash), sees it and /Common
    only; the user syncs, and the peer holds it to the same."""
    from f5.bigip import ManagementRoot
    from icontrol.exceptions import iControlUnexpectedHTTPError
    for p in ("P1", "P2"):
        tmsh("bigip1", f"create auth partition {p}")
    tmsh("bigip1", "create ltm pool /P2/theirs")
    tmsh("bigip1", "create auth user mgr1 password Secret-1 partition-access add { P1 { role manager } }")
    try:
        assert "role manager" in tmsh("bigip1", "list auth user mgr1")
        mgmt = ManagementRoot(B1, "mgr1", "Secret-1", token=True)
        mgmt.tm.ltm.pools.pool.create(name="mine", partition="P1", monitor="/Common/http")
        for partition in ("P2", "Common"):
            with pytest.raises(iControlUnexpectedHTTPError) as e:
                mgmt.tm.ltm.pools.pool.create(name="not_mine", partition=partition)
            assert e.value.response.status_code == 400
            assert e.value.response.json()["message"] == (
                f"01070824:3: Write Access Denied: user (mgr1) does not have update access to partition "
                f'({partition}), check your current "update/write" partition settings')
        seen = {p.fullPath for p in mgmt.tm.ltm.pools.get_collection()}
        assert "/P1/mine" in seen and "/Common/web_pool" in seen and "/P2/theirs" not in seen
        assert not mgmt.tm.ltm.pools.pool.exists(name="theirs", partition="P2")
        out = mgmt.tm.util.bash.exec_cmd("run", utilCmdArgs='-c "tmsh create ltm pool /P2/sneak"')
        assert "Write Access Denied" in out.commandResult
        assert "ltm pool /P1/mine" in tmsh("bigip1", "list ltm pool /P1/*") and "sneak" not in tmsh("bigip1", "list ltm pool /P2/*")
        wait_for(lambda: "mine" in tmsh("bigip2", "list ltm pool /P1/*") and
                 "role manager" in tmsh("bigip2", "list auth user mgr1"), what="P1 and mgr1 synced to bigip2")
        peer = ManagementRoot(B2, "mgr1", "Secret-1")
        with pytest.raises(iControlUnexpectedHTTPError) as e:
            peer.tm.ltm.pools.pool.create(name="not_mine", partition="P2")
        assert "01070824:3" in e.value.response.json()["message"]
    finally:
        tmsh("bigip1", "delete auth user mgr1")
        for line in ("delete ltm pool /P1/mine", "delete ltm pool /P2/theirs", "delete auth partition P1",
                     "delete auth partition P2"):
            biglab("exec", LAB, "bigip1", "--", "tmsh", *line.split(), check=False)


def test_bad_input_is_refused_and_changes_nothing(lab):
    s = api()
    before = get(s, "/mgmt/tm/ltm/pool?expandSubcollections=true").json()
    cases = [
        ("POST", "/mgmt/tm/ltm/pool", None, b'{"name": "p",', 400),
        ("POST", "/mgmt/tm/ltm/pool", {"name": "p", "colour": "blue"}, None, 400),
        ("POST", "/mgmt/tm/ltm/pool", {"name": "p", "minActiveMembers": "lots"}, None, 400),
        ("POST", "/mgmt/tm/ltm/pool", {"name": "p", "members": "10.1.20.21:80"}, None, 400),
        ("POST", "/mgmt/tm/ltm/pool", {"name": "a/b"}, None, 400),
        ("POST", "/mgmt/tm/ltm/pool", {"name": "a~b"}, None, 400),
        ("POST", "/mgmt/tm/ltm/pool", {"name": "web_pool"}, None, 409),
        ("POST", "/mgmt/tm/ltm/pool", None, b'{"name": "big", "description": "' + b"x" * (10 << 20) + b'"}', 413),
        ("PATCH", "/mgmt/tm/ltm/pool/~Common~nosuch", {"description": "x"}, None, 404),
        ("GET", "/mgmt/tm/ltm/nosuch", None, None, 404),
        ("GET", "/mgmt/tm/ltm/pool/~Other~web_pool", None, None, 404),
    ]
    for method, path, body, raw, code in cases:
        r = send(s, method, path, body, raw=raw)
        assert r.status_code == code, (method, path, r.status_code, r.text[:200])
        err = r.json()
        assert err["code"] == code and err["message"], err
    r = send(s, "POST", "/mgmt/tm/ltm/pool", {"name": "p", "colour": "blue"})
    assert r.json()["message"].startswith("Found unexpected json pair at configuration item /ltm/pool/")
    r = get(s, "/mgmt/tm/ltm/pool/~Common~nosuch")
    assert r.json()["message"] == "01020036:3: The requested Pool (/Common/nosuch) was not found."
    assert get(s, "/mgmt/tm/ltm/pool?expandSubcollections=true").json() == before
    assert get(s, "/mgmt/tm/sys/version").status_code == 200     # the server is unaffected


def test_shapes_queries_and_organizing_collections(lab):
    s = api()
    for i in range(5):
        send(s, "POST", "/mgmt/tm/ltm/node", {"name": f"qn{i}", "address": f"10.1.20.{60 + i}"})
    page = get(s, "/mgmt/tm/ltm/node?$top=2&$skip=2").json()
    assert page["currentItemCount"] == 2 and page["totalItems"] >= 5
    assert page["nextLink"].startswith("https://localhost/mgmt/tm/ltm/node?$top=2&$skip=4")
    sel = get(s, "/mgmt/tm/ltm/node?$select=name,address&$filter=partition eq Common").json()
    assert all(set(i) == {"name", "address"} for i in sel["items"])
    for i in range(5):
        send(s, "DELETE", f"/mgmt/tm/ltm/node/~Common~qn{i}")
    pool = get(s, "/mgmt/tm/ltm/pool/web_pool/?expandSubcollections=true").json()
    assert pool["selfLink"] == "https://localhost/mgmt/tm/ltm/pool/~Common~web_pool?ver=17.1.0"
    assert len(pool["membersReference"]["items"]) == 2
    vs = get(s, "/mgmt/tm/ltm/virtual/~Common~vs_http").json()
    assert vs["kind"] == "tm:ltm:virtual:virtualstate" and vs["enabled"] is True
    assert vs["poolReference"]["link"].startswith("https://localhost/mgmt/tm/ltm/pool/~Common~web_pool")
    assert get(s, "/mgmt/tm/ltm").json()["kind"] == "tm:ltm:ltmcollectionstate"
    assert get(s, "/mgmt/tm/ltm/monitor/http/~Common~http").json()["kind"] == "tm:ltm:monitor:http:httpstate"
    assert get(s, "/mgmt/tm/cli/version").json()["kind"] == "tm:cli:version:versionstats"
    assert get(s, "/mgmt/shared/echo-query").status_code == 200
    assert get(s, "/mgmt/shared/identified-devices/config/device-info").json()["version"] == "17.1.0"
    selfs = get(s, "/mgmt/tm/net/self").json()["items"]
    assert {"10.1.10.11/24", "10.1.10.10/24"} <= {i["address"] for i in selfs}
    devices = {d["name"]: d for d in get(s, "/mgmt/tm/cm/device").json()["items"]}
    assert devices["bigip1"]["selfDevice"] == "true" and devices["bigip2"]["selfDevice"] == "false"
    assert devices["bigip1"]["failoverState"] == "active"

    def sync_status() -> str:
        entries = get(s, "/mgmt/tm/cm/sync-status").json()["entries"]
        return entries["https://localhost/mgmt/tm/cm/sync-status/0"]["nestedStats"]["entries"]["status"]["description"]

    # the writes above sync to bigip2 after they are answered: Changes Pending until it has them
    wait_for(lambda: sync_status() == "In Sync", what="REST sync-status In Sync after the writes")
    tg = get(s, "/mgmt/tm/cm/traffic-group/stats").json()["entries"]
    assert {e["nestedStats"]["entries"]["failoverState"]["description"] for e in tg.values()} == {"active", "standby"}


def test_commands_bash_tmsh_sync_and_save(lab):
    s = api()
    r = send(s, "POST", "/mgmt/tm/util/bash",
             {"command": "run", "utilCmdArgs": '-c "tmsh create ltm node bn1 address 10.1.20.71; '
                                               'tmsh list ltm node bn1"'})
    assert r.status_code == 200 and "address 10.1.20.71" in r.json()["commandResult"]
    r = send(s, "POST", "/mgmt/tm/util/bash", {"command": "run", "utilCmdArgs": '-c "cat /etc/passwd"'})
    assert r.status_code == 400
    # tmsh changes show through REST at once, and the other way round
    assert get(s, "/mgmt/tm/ltm/node/bn1").json()["address"] == "10.1.20.71"
    send(s, "DELETE", "/mgmt/tm/ltm/node/~Common~bn1")
    assert "bn1" not in tmsh("bigip1", "list ltm node")
    r = send(s, "POST", "/mgmt/tm/cm", {"command": "run", "utilCmdArgs": "config-sync to-group dg-ha"})
    assert r.status_code == 200, r.text
    r = send(s, "POST", "/mgmt/tm/sys/config", {"command": "save"})
    assert r.status_code == 200
    r = send(s, "POST", "/mgmt/tm/transaction", {})
    tid = r.json()["transId"]
    r = send(s, "PATCH", f"/mgmt/tm/transaction/{tid}", {"state": "VALIDATING"})
    assert r.status_code == 404 and r.json()["message"] == "there is no command to commit in the transaction."


def test_f5_sdk_failover_to_standby(lab):
    from f5.bigip import ManagementRoot
    mgmt = ManagementRoot(B1, "admin", "admin")
    r = mgmt.tm.sys.failover.exec_cmd("run", standby=True, **{"traffic-group": "traffic-group-1"})
    assert r.kind == "tm:sys:failover:failoverstats"

    def b2_active():
        devices = {d["name"]: d for d in get(api(B2), "/mgmt/tm/cm/device").json()["items"]}
        return devices["bigip2"]["failoverState"] == "active"
    wait_for(b2_active, what="bigip2 active after REST standby")
    out = json.loads(biglab("status", LAB, "--json").stdout)
    assert out["name"] == LAB


def test_gtm_objects_through_rest_as_f5_shapes_them(lab):
    s = api()
    assert send(s, "POST", "/mgmt/tm/gtm/datacenter", {"name": "dc1"}).status_code == 200
    r = send(s, "POST", "/mgmt/tm/gtm/server", {"name": "srv1", "datacenter": "/Common/dc1", "product": "generic-host",
                                                 "addresses": [{"name": "10.1.10.200"}],
                                                 "virtualServers": [{"name": "vs1", "destination": "10.1.10.200:80"}]})
    assert r.status_code == 200, r.text
    assert r.json()["addresses"][0]["name"] == "10.1.10.200"
    vs = get(s, "/mgmt/tm/gtm/server/~Common~srv1/virtual-servers").json()["items"]
    assert [v["name"] for v in vs] == ["vs1"] and vs[0]["kind"] == "tm:gtm:server:virtual-servers:virtual-serversstate"
    r = send(s, "POST", "/mgmt/tm/gtm/pool/a", {"name": "gp1", "members": [{"name": "srv1:vs1", "ratio": 2}]})
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "tm:gtm:pool:a:astate"
    member = get(s, "/mgmt/tm/gtm/pool/a/~Common~gp1/members/~Common~srv1:vs1").json()
    assert member["fullPath"] == "/Common/srv1:vs1" and member["ratio"] == 2
    r = send(s, "POST", "/mgmt/tm/gtm/wideip/a", {"name": "*.example.com", "poolLbMode": "topology",
                                                   "pools": [{"name": "gp1", "order": 0}]})
    assert r.status_code == 200, r.text
    r = send(s, "POST", "/mgmt/tm/gtm/region", {"name": "r1", "regionMembers": [{"name": "subnet 10.5.0.0/16"},
                                                                               {"name": "not subnet 10.5.1.0/24"}]})
    assert r.json()["regionMembers"] == [{"name": "subnet 10.5.0.0/16"}, {"name": "not subnet 10.5.1.0/24"}]
    name = "ldns: region /Common/r1 server: pool /Common/gp1"
    r = send(s, "POST", "/mgmt/tm/gtm/topology", {"name": name, "score": 30})
    assert r.status_code == 200 and r.json()["name"] == name, r.text
    topo = get(s, "/mgmt/tm/gtm/topology").json()["items"]
    assert [t["score"] for t in topo if t["name"] == name] == [30]
    # the selfLink is usable as it is, as clients do with it
    link = topo[0]["selfLink"].replace("https://localhost", "").split("?")[0]
    assert get(s, link).json()["name"] == name
    lb = send(s, "PATCH", "/mgmt/tm/gtm/global-settings/load-balancing", {"topologyLongestMatch": "no"}).json()
    assert lb["topologyLongestMatch"] == "no"
    assert "topology-longest-match no" in tmsh("bigip1", "list gtm global-settings")
    send(s, "PATCH", "/mgmt/tm/gtm/global-settings/load-balancing", {"topologyLongestMatch": "yes"})
    for path in (link, "/mgmt/tm/gtm/region/r1", "/mgmt/tm/gtm/wideip/a/*.example.com", "/mgmt/tm/gtm/pool/a/gp1",
                 "/mgmt/tm/gtm/server/srv1", "/mgmt/tm/gtm/datacenter/dc1"):
        assert send(s, "DELETE", path).status_code == 200, path
