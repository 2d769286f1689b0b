"""AS3 properties the lab stores where F5 keeps them (node/as3/stored.py): each declared property
lands in its tmsh property with F5's value, a redeploy is "no change" and the tenant goes whole."""
from __future__ import annotations

import base64

from node.as3 import validate
from tests.unit.test_as3_core import adc, app, owned, run, services, web


def deploy(**objects):
    svc, store, _ = services()
    status, out = run(svc, adc(Shop={"class": "Tenant", "App": app(**objects)}))
    assert status == 200 and out["results"][0]["code"] == 200, out
    again = run(svc, adc(Shop={"class": "Tenant", "App": app(**objects)}))[1]["results"][0]["message"]
    assert again == "no change"
    return svc, store


def gone(svc, store) -> bool:
    return run(svc, None, ["Shop"], "DELETE")[0] == 200 and owned(store) == []


def test_l4_profile_settings_are_fastl4_settings_with_as3_special_numbers():
    svc, store = deploy(l4={"class": "L4_Profile", "clientTimeout": 60, "idleTimeout": -1, "keepAliveInterval": 600,
                            "looseClose": True, "maxSegmentSize": -1, "tcpHandshakeTimeout": 0,
                            "pvaAcceleration": "dedicated"})
    got = store.get("ltm profile fastl4", "/Shop/App/l4")
    assert {k: got[k] for k in ("client-timeout", "idle-timeout", "keep-alive-interval", "loose-close",
                                "mss-override", "tcp-handshake-timeout", "pva-acceleration", "reset-on-timeout")} == {
        "client-timeout": 60, "idle-timeout": "indefinite", "keep-alive-interval": "600", "loose-close": "enabled",
        "mss-override": 9162, "tcp-handshake-timeout": "immediate", "pva-acceleration": "dedicated",
        "reset-on-timeout": "enabled"}
    assert gone(svc, store)


def test_tcp_profile_settings_are_tcp_settings():
    svc, store = deploy(tcp={"class": "TCP_Profile", "congestionControl": "bbr", "nagle": "disable", "initCwnd": 64,
                             "autoSendBufferSize": True, "idleTimeout": -1,
                             "tcpOptions": [{"option": 8, "when": "first"}, {"option": 28, "when": "last"}]})
    got = store.get("ltm profile tcp", "/Shop/App/tcp")
    assert {k: got[k] for k in ("congestion-control", "nagle", "init-cwnd", "auto-send-buffer-size", "idle-timeout",
                                "tcp-options", "selective-acks")} == {
        "congestion-control": "bbr", "nagle": "disabled", "init-cwnd": 64, "auto-send-buffer-size": "enabled",
        "idle-timeout": 4294967295, "tcp-options": "{8 first} {28 last}", "selective-acks": "enabled"}
    assert gone(svc, store)


def test_service_settings_are_the_virtuals():
    svc, store = deploy(**web(adminState="disable", lastHop="auto", nat64Enabled=True, translateClientPort=True,
                              serviceDownImmediateAction="reset", serversslUseSni=True,
                              metadata={"owner": {"value": "team-a"}, "tmp": {"value": "x", "persist": False}}))
    vs = store.get("ltm virtual", "/Shop/App/serviceMain")
    assert {k: vs[k] for k in ("status", "auto-lasthop", "nat64", "source-port", "service-down-immediate-action",
                               "serverssl-use-sni")} == {
        "status": "disabled", "auto-lasthop": "enabled", "nat64": "enabled", "source-port": "change",
        "service-down-immediate-action": "reset", "serverssl-use-sni": "enabled"}
    assert vs["metadata"] == [{"name": "owner", "value": "team-a", "persist": "true"},
                              {"name": "tmp", "value": "x", "persist": "false"}]
    assert gone(svc, store)


def test_share_addresses_puts_the_virtual_address_in_common():
    svc, store = deploy(svc={"class": "Service_TCP", "virtualAddresses": ["10.1.10.130"], "virtualPort": 8080,
                             "shareAddresses": True})
    assert store.get("ltm virtual", "/Shop/App/svc")["destination"] == "/Common/10.1.10.130:8080"
    assert store.get("ltm virtual-address", "/Common/10.1.10.130") is not None
    assert store.get("ltm virtual-address", "/Shop/10.1.10.130") is None
    assert gone(svc, store)


def test_pool_and_service_address_settings():
    pool = web()["web_pool"]
    svc, store = deploy(p={**pool, "allowNATEnabled": False, "allowSNATEnabled": False,
                           "metadata": {"k": {"value": "v"}}},
                        va={"class": "Service_Address", "virtualAddress": "10.1.10.131", "serverScope": "none",
                            "useIpName": True})
    got = store.get("ltm pool", "/Shop/App/p")
    assert (got["allow-nat"], got["allow-snat"]) == ("no", "no")
    assert store.get("ltm virtual-address", "/Shop/10.1.10.131")["server-scope"] == "none"
    assert gone(svc, store)


def test_cookie_encryption_keeps_the_passphrase_sealed():
    secret = {"ciphertext": base64.b64encode(b"s3cret").decode()}
    svc, store = deploy(c={"class": "Persist", "persistenceMethod": "cookie", "ttl": 900, "encrypt": True,
                           "passphrase": secret})
    got = store.get("ltm persistence cookie", "/Shop/App/c")
    assert got["cookie-encryption"] == "required" and got["expiration"] == "900"
    assert "s3cret" not in str(got["cookie-encryption-passphrase"])
    assert gone(svc, store)


def test_policy_endpoint_and_multiplex_profile_are_the_virtuals_policies_and_profile():
    from node.config.store import Op
    svc, store, _ = services()
    store.commit([Op("create", "ltm policy", "/Common/p1", {"strategy": ("set", "/Common/first-match")})])
    body = adc(Shop={"class": "Tenant", "App": app(**web(policyEndpoint={"bigip": "/Common/p1"},
                                                         profileMultiplex={"bigip": "/Common/oneconnect"}))})
    status, out = run(svc, body)
    assert status == 200, out
    vs = store.get("ltm virtual", "/Shop/App/serviceMain")
    assert vs["policies"] == ["/Common/p1"] and "/Common/oneconnect" in vs["profiles"]


def test_what_the_lab_has_not_is_refused_by_name_one_error_each():
    from node.as3 import validate
    svc = {"class": "Service_HTTP", "virtualAddresses": ["10.1.10.140"], "policyWAF": {"bigip": "/Common/waf"},
           "profileHTML": {"bigip": "/Common/html"}, "colour": "blue"}
    pool = {"class": "Pool", "members": [{"servicePort": 80, "addressDiscovery": "consul", "uri": "http://c:8500"}]}
    cert = {"class": "Certificate", "certificate": {"url": "https://example.com/c.pem"}}
    dg = {"class": "Data_Group", "keyDataType": "string", "storageType": "external", "externalFilePath": "x"}
    errors = validate.declaration(adc(Shop={"class": "Tenant", "App": app(svc=svc, pool=pool, cert=cert, dg=dg)}))
    assert errors == [
        "/Shop/App/svc/policyWAF: a WAF policy is not supported by this lab (BIG-IP ASM)",
        "/Shop/App/svc/profileHTML: an HTML profile is not supported by this lab",
        "/Shop/App/pool/members/0/addressDiscovery: service discovery from Consul is not supported by this lab "
        "(it reaches no internet)",
        "/Shop/App/cert/certificate: a certificate from a URL is not supported by this lab (it reaches no internet)",
        "/Shop/App/dg/storageType: an external data group is not supported by this lab (it reaches no internet)"]


def test_http_profile_settings_top_level_enforcement_and_hsts():
    svc, store = deploy(h={"class": "HTTP_Profile", "trustXFF": True, "multiplexStatusReuse": "200 206 404",
                           "rewriteRedirects": "addresses", "otherXFF": ["X-Real-IP"], "fallbackStatusCodes": [500],
                           "requestChunking": "sustain", "enforceRFCCompliance": True,
                           "oversizeClientHeaders": "reject", "maxHeaderCount": 128, "hstsInsert": True,
                           "hstsPeriod": 100})
    got = store.get("ltm profile http", "/Shop/App/h")
    assert {k: got[k] for k in ("accept-xff", "oneconnect-status-reuse", "redirect-rewrite", "xff-alternative-names",
                                "fallback-status-codes", "request-chunking")} == {
        "accept-xff": "enabled", "oneconnect-status-reuse": "200 206 404", "redirect-rewrite": "nodes",
        "xff-alternative-names": ["X-Real-IP"], "fallback-status-codes": ["500"], "request-chunking": "sustain"}
    enforcement, hsts = got["enforcement"], got["hsts"]
    assert (enforcement["rfc-compliance"], enforcement["oversize-client-headers"], enforcement["max-header-count"],
            enforcement["excess-client-headers"]) == ("enabled", "reject", 128, "pass-through")
    assert (hsts["mode"], hsts["maximum-age"], hsts["include-subdomains"]) == ("enabled", 100, "enabled")
    assert gone(svc, store)


def test_monitor_types_the_lab_stores_carry_their_settings_and_secrets():
    secret = {"ciphertext": base64.b64encode(b"pw").decode()}
    svc, store = deploy(
        db={"class": "Monitor", "monitorType": "mysql", "username": "u", "passphrase": secret, "database": "shop",
            "send": "SELECT 1", "receive": "1", "receiveColumn": 1, "receiveRow": 1, "count": 5},
        ftp={"class": "Monitor", "monitorType": "ftp", "filename": "/readme", "mode": "port"},
        dns={"class": "Monitor", "monitorType": "dns", "queryName": "www.example.com", "queryType": "aaaa",
             "acceptRCODE": "anything", "receive": "2001:db8::1"},
        web={"class": "Monitor", "monitorType": "https", "clientTLS": {"bigip": "/Common/serverssl"},
             "ciphers": "HIGH"})
    db = store.get("ltm monitor mysql", "/Shop/App/db")
    assert (db["username"], db["database"], db["send"], db["recv"], db["recv-column"], db["count"]) == (
        "u", "shop", "SELECT 1", "1", 1, 5)
    assert db["password"].startswith("$M$")
    assert (store.get("ltm monitor ftp", "/Shop/App/ftp")["mode"], store.get("ltm monitor ftp", "/Shop/App/ftp")[
        "filename"]) == ("port", "/readme")
    dns = store.get("ltm monitor dns", "/Shop/App/dns")
    assert (dns["qname"], dns["qtype"], dns["accept-rcode"], dns["recv"]) == (
        "www.example.com", "aaaa", "anything", "2001:db8::1")
    web = store.get("ltm monitor https", "/Shop/App/web")
    assert (web["ssl-profile"], web["cipherlist"]) == ("/Common/serverssl", "HIGH")
    assert gone(svc, store)


def test_gslb_monitor_types_the_lab_stores_carry_their_settings():
    svc, store, _ = services()
    mons = {"db": {"class": "GSLB_Monitor", "monitorType": "mysql", "database": "shop", "count": 2,
                   "passphrase": {"ciphertext": base64.b64encode(b"pw").decode()}},
            "big": {"class": "GSLB_Monitor", "monitorType": "bigip", "aggregateDynamicRatios": "sum-members"},
            "half": {"class": "GSLB_Monitor", "monitorType": "tcp-half-open", "probeAttempts": 5,
                     "transparent": True, "target": "10.1.30.1:80"}}
    body = adc(Dns={"class": "Tenant", "App": app(**mons)})
    assert run(svc, body)[0] == 200 and run(svc, body)[1]["results"][0]["message"] == "no change"
    db = store.get("gtm monitor mysql", "/Dns/App/db")
    assert (db["database"], db["count"], db["password"][:3]) == ("shop", 2, "$M$")
    assert store.get("gtm monitor bigip", "/Dns/App/big")["aggregate-dynamic-ratios"] == "sum-members"
    half = store.get("gtm monitor tcp-half-open", "/Dns/App/half")
    assert (half["probe-attempts"], half["transparent"], half["destination"]) == (5, "enabled", "10.1.30.1:80")


def test_gslb_irules_prober_pools_and_decision_logging_are_stored():
    svc, store, _ = services()
    shared = app(template="shared", dc={"class": "GSLB_Data_Center"},
                 probers={"class": "GSLB_Prober_Pool", "lbMode": "round-robin", "members": [{"server": {"use": "srv"}}]},
                 srv={"class": "GSLB_Server", "dataCenter": {"use": "dc"}, "devices": [{"address": "10.1.10.11"}],
                      "proberPreferred": "pool", "proberPool": {"use": "probers"}})
    rule = base64.b64encode(b"when DNS_REQUEST { log local0. `A` }").decode()
    dns = app(d={"class": "GSLB_Domain", "domainName": "www.example.com", "resourceRecordType": "A",
                 "iRules": ["r"], "loadBalancingDecisionLogVerbosity": ["pool-selection"]},
              r={"class": "GSLB_iRule", "iRule": {"base64": rule}})
    body = adc(Common={"class": "Tenant", "Shared": shared}, Dns={"class": "Tenant", "App": dns})
    status, out = run(svc, body)
    assert status == 200, out
    assert store.get("gtm rule", "/Dns/App/r")["api-anonymous"] == "when DNS_REQUEST { log local0. App }"
    wip = store.get("gtm wideip a", "/Dns/App/www.example.com")
    assert (wip["rules"], wip["load-balancing-decision-log-verbosity"]) == (["/Dns/App/r"], ["pool-selection"])
    assert store.get("gtm prober-pool", "/Common/probers")["members"][0]["name"] == "/Common/srv"
    server = store.get("gtm server", "/Common/srv")
    assert (server["prober-pool"], server["prober-preference"]) == ("/Common/probers", "pool")
    assert run(svc, body)[1]["results"][0]["message"] == "no change"
    dns["d"]["iRules"] = ["nosuch"]
    assert validate.declaration(body) == ["/Dns/App/d/iRules/0: the GSLB_iRule /Dns/App/nosuch is not declared"]


def test_hash_persistence_names_an_irule_that_exists():
    body = adc(Shop={"class": "Tenant", "App": app(hashed={"class": "Persist", "persistenceMethod": "hash",
                                                           "iRule": {"use": "nosuch"}})})
    assert validate.declaration(body) == ["/Shop/App/hashed/iRule: the iRule /Shop/App/nosuch is not declared"]
    svc, store, _ = services()
    body["Shop"]["App"]["hashed"]["iRule"] = {"bigip": "/Common/nosuch"}
    status, out = run(svc, body)
    assert status == 422 and out["results"][0]["response"] == (
        "01020036:3: The requested Rule (/Common/nosuch) was not found.")
    assert store.get("ltm persistence hash", "/Shop/App/hashed") is None


def test_a_gslb_monitors_hashed_password_redeploys_as_no_change_and_a_new_one_changes_it():
    svc, store, _ = services()

    def body(password: bytes) -> dict:
        return adc(Dns={"class": "Tenant", "App": app(web={
            "class": "GSLB_Monitor", "monitorType": "https", "username": "probe",
            "passphrase": {"ciphertext": base64.b64encode(password).decode()}})})
    assert run(svc, body(b"pw"))[1]["results"][0]["message"] == "success"
    held = store.get("gtm monitor https", "/Dns/App/web")["password"]
    assert run(svc, body(b"pw"))[1]["results"][0]["message"] == "no change"
    assert store.get("gtm monitor https", "/Dns/App/web")["password"] == held
    assert run(svc, body(b"new"))[1]["results"][0]["message"] == "success"
    assert store.get("gtm monitor https", "/Dns/App/web")["password"] != held


def test_gslb_naptr_pools_limits_and_server_monitors():
    svc, store, _ = services()
    shared = app(template="shared", dc={"class": "GSLB_Data_Center"},
                 srv={"class": "GSLB_Server", "dataCenter": {"use": "dc"}, "devices": [{"address": "10.1.10.11"}],
                      "monitors": [{"bigip": "/Common/bigip"}, {"bigip": "/Common/gateway_icmp"}],
                      "minimumMonitors": 1})
    dns = app(d={"class": "GSLB_Domain", "domainName": "sip.example.com", "resourceRecordType": "A"},
              p={"class": "GSLB_Pool", "resourceRecordType": "NAPTR", "bpsLimit": 100, "bpsLimitEnabled": True,
                 "qosHops": 2, "verifyMemberEnabled": False,
                 "members": [{"domainName": {"use": "d"}, "service": "sip+d2u", "order": 5, "preference": 1}]})
    body = adc(Common={"class": "Tenant", "Shared": shared}, Dns={"class": "Tenant", "App": dns})
    status, out = run(svc, body)
    assert status == 200, out
    assert run(svc, body)[1]["results"][0]["message"] == "no change"
    pool = store.get("gtm pool naptr", "/Dns/App/p")
    assert (pool["limit-max-bps"], pool["limit-max-bps-status"], pool["qos-hops"],
            pool["verify-member-availability"]) == (100, "enabled", 2, "disabled")
    (member,) = pool["members"]
    assert (member["name"], member["service"], member["order"], member["preference"]) == (
        "sip.example.com", "sip+d2u", 5, 1)
    assert store.get("gtm server", "/Common/srv")["monitor"] == "min 1 of { /Common/bigip /Common/gateway_icmp }"


def test_hash_persistence_is_an_ltm_persistence_hash_with_its_rule():
    svc, store = deploy(**{"hashed": {"class": "Persist", "persistenceMethod": "hash", "startAt": 4, "count": 8,
                                      "bufferLimit": 100, "startPattern": "id=", "hashAlgorithm": "carp",
                                      "duration": 60, "iRule": {"use": "key"}},
                           "key": {"class": "iRule", "iRule": "when HTTP_REQUEST { persist hash [HTTP::uri] }"}})
    got = store.get("ltm persistence hash", "/Shop/App/hashed")
    assert {k: got[k] for k in ("hash-offset", "hash-length", "hash-buffer-limit", "hash-start-pattern",
                                "hash-algorithm", "timeout", "rule")} == {
        "hash-offset": 4, "hash-length": 8, "hash-buffer-limit": 100, "hash-start-pattern": "id=",
        "hash-algorithm": "carp", "timeout": "60", "rule": "/Shop/App/key"}
    assert gone(svc, store)
