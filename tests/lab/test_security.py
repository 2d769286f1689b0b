"""Security as a BIG-IP keeps it, checked on running labs: private keys 0600, no TLS below 1.2 on
443 and 4353, passwords never shown or logged, and every listener bound only where a BIG-IP binds
it (REST on management, 4353 on configsync and management, DNS on listener addresses)."""
from __future__ import annotations

import json
import socket
import ssl
import stat
import subprocess
import threading
import warnings

import pytest
import requests
import urllib3

from lab.model import state
from lab.model.plan import prefix
from tests.lab.conftest import HA_PAIR, ROOT, biglab, module_lab, wait_for

warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning",
                                        "ignore::DeprecationWarning")

LAB, GTM_LAB = "tsec", "tsdns"
MGMT1, CONFIGSYNC1 = "10.251.61.11", "10.1.30.11"
GTM1_MGMT, GTM1_LISTENER = "10.251.62.11", "10.30.0.53"
SECRETS = ("Zq9-TmshPw-4711", "Rr5-RestPw-0815", "Kk3-NewPw-2342", "Ww7-WrongPw-1234")


lab = module_lab(HA_PAIR, LAB, "10.251.61.0/24")
gtm_lab = module_lab(ROOT / "topologies" / "gtm-3dc.yml", GTM_LAB, "10.251.62.0/24")


def listeners(lab: str, node: str) -> list[tuple[str, str, int]]:
    """(tcp|udp, local address, port) of every listening socket in the node's namespace."""
    out = subprocess.run(["ip", "netns", "exec", prefix(lab) + node, "ss", "-ltnuH"], capture_output=True,
                         text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        proto, _state, _rq, _sq, local, *_ = line.split()
        address, _, port = local.rpartition(":")
        found.append((proto, address.strip("[]").split("%")[0], int(port)))
    return found


def bound(lab: str, node: str, port: int, proto: str = "tcp") -> set[str]:
    return {a for p, a, n in listeners(lab, node) if n == port and p == proto}


# -- keys ---------------------------------------------------------------------------------------
def test_every_private_key_on_disk_is_mode_0600(lab):
    keys = [p for p in state.lab_dir(lab).rglob("*") if p.is_file() and b"PRIVATE KEY" in p.read_bytes()]
    keys += [p for p in (ROOT / "certs" / lab).rglob("*") if p.is_file() and b"PRIVATE KEY" in p.read_bytes()]
    assert {p.parent.name for p in keys} >= {"bigip1", "bigip2"}, "each device keeps its key on disk"
    loose = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in keys if stat.S_IMODE(p.stat().st_mode) != 0o600}
    assert not loose


# -- TLS ----------------------------------------------------------------------------------------
def old_tls_client(maximum: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")   # let OpenSSL 3 offer the old versions at all
    ctx.minimum_version, ctx.maximum_version = ssl.TLSVersion.TLSv1, maximum
    return ctx


def handshake(ctx: ssl.SSLContext, address: str, port: int) -> str:
    with socket.create_connection((address, port), timeout=5) as sock:   # reachable: not refused
        with ctx.wrap_socket(sock) as tls:
            return tls.version()


def this_client_speaks(version: ssl.TLSVersion) -> bool:
    """The client really offers `version` (a loopback server that accepts it says so), so a refusal
    by the node is the node's and not this host's OpenSSL policy."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.set_ciphers("ALL:@SECLEVEL=0")
    server.minimum_version = server.maximum_version = version
    key = sorted(state.lab_dir(LAB).glob("bigip1/dtdi.*"))
    server.load_cert_chain(key[0], key[1])
    with socket.create_server(("127.0.0.1", 0)) as listener:
        def serve():
            conn, _ = listener.accept()
            try:
                server.wrap_socket(conn, server_side=True).close()
            except (ssl.SSLError, OSError):
                conn.close()
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            return handshake(old_tls_client(version), "127.0.0.1", listener.getsockname()[1]) is not None
        except (ssl.SSLError, OSError):
            return False
        finally:
            t.join(5)


@pytest.mark.parametrize("port", [443, 4353])
@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_tls_below_1_2_is_refused(lab, port, version):
    version = getattr(ssl.TLSVersion, version)
    if not this_client_speaks(version):
        pytest.skip(f"this host's OpenSSL cannot offer {version.name} at all")
    with pytest.raises(ssl.SSLError):
        handshake(old_tls_client(version), MGMT1, port)


def test_tls_1_2_or_newer_is_served(lab):
    assert handshake(old_tls_client(ssl.TLSVersion.TLSv1_2), MGMT1, 443) == "TLSv1.2"
    assert handshake(old_tls_client(ssl.TLSVersion.TLSv1_3), MGMT1, 4353) == "TLSv1.3"


# -- passwords ----------------------------------------------------------------------------------
def rest(method: str, path: str, body=None, auth=("admin", "admin")) -> requests.Response:
    return requests.request(method, f"https://{MGMT1}{path}", json=body, auth=auth, verify=False, timeout=10)


def tmsh(node: str, line: str) -> str:
    return biglab("exec", LAB, node, "--", "tmsh", *line.split()).stdout


def test_passwords_never_appear_in_logs_list_output_or_events(lab):
    tmsh("bigip1", f"create auth user sec-bob password {SECRETS[0]} role guest")
    assert rest("POST", "/mgmt/tm/auth/user", {"name": "sec-eve", "password": SECRETS[1],
                                              "role": "guest"}).status_code == 200
    tmsh("bigip1", f"modify auth user sec-bob password {SECRETS[2]}")
    assert rest("GET", "/mgmt/tm/sys", auth=("sec-bob", SECRETS[3])).status_code == 401
    assert rest("GET", "/mgmt/tm/sys", auth=("sec-bob", SECRETS[2])).status_code == 200
    wait_for(lambda: "sec-eve" in tmsh("bigip2", "list auth user"), what="the users synced to bigip2")
    shown = {
        "tmsh list (bigip1)": tmsh("bigip1", "list auth user all-properties"),
        "tmsh list (bigip2)": tmsh("bigip2", "list auth user all-properties"),
        "REST": rest("GET", "/mgmt/tm/auth/user").text,
        "events": biglab("events", LAB, "--all", "--json").stdout,
    }
    for node in ("bigip1", "bigip2"):
        for f in state.node_dir(LAB, node).iterdir():
            if f.suffix in (".jsonl", ".out", ".log"):
                shown[f"{node}/{f.name}"] = f.read_text(errors="replace")
    assert "$" in shown["tmsh list (bigip1)"].split("password", 1)[1].split()[0], "list shows a hash"
    leaks = {where: s for where, text in shown.items() for s in SECRETS if s in text}
    assert not leaks


def login(user: str, password: str) -> requests.Response:
    return rest("POST", "/mgmt/shared/authn/login", {"username": user, "password": password,
                                                     "loginProviderName": "tmos"}, auth=None)


def test_max_login_failures_locks_an_account_until_an_admin_unlocks_it(lab):
    tmsh("bigip1", f"create auth user sec-lock password {SECRETS[0]} role operator")
    assert rest("PATCH", "/mgmt/tm/auth/password-policy", {"maxLoginFailures": 2}).status_code == 200
    try:
        wait_for(lambda: "max-login-failures 2" in tmsh("bigip2", "list auth password-policy"),
                 what="the policy synced to bigip2")
        for _ in range(2):
            assert login("sec-lock", SECRETS[3]).status_code == 401
        locked = login("sec-lock", SECRETS[0])
        assert locked.status_code == 401 and "Account locked due to 2 failed logins" in locked.json()["message"]
        assert "2 failures, locked" in tmsh("bigip1", "show auth login-failures")
        r = rest("POST", "/mgmt/tm/util/bash", {"command": "run",
                                                "utilCmdArgs": '-c "tmsh reset-stats auth login-failures sec-lock"'})
        assert r.status_code == 200
        assert login("sec-lock", SECRETS[0]).status_code == 200
    finally:
        rest("PATCH", "/mgmt/tm/auth/password-policy", {"maxLoginFailures": 0})


# -- where listeners bind -----------------------------------------------------------------------
def test_rest_listens_on_the_management_address_only(lab):
    assert bound(lab, "bigip1", 443) == {MGMT1}


def test_4353_listens_on_the_configsync_and_management_addresses_only(lab):
    assert bound(lab, "bigip1", 4353) <= {MGMT1, CONFIGSYNC1}
    assert MGMT1 in bound(lab, "bigip1", 4353)


def test_dns_listens_on_listener_addresses_only(gtm_lab):
    assert bound(gtm_lab, "gtm1", 53, "udp") == {GTM1_LISTENER}
    assert bound(gtm_lab, "gtm1", 53, "tcp") == {GTM1_LISTENER}
    assert bound(gtm_lab, "gtm1", 443) == {GTM1_MGMT}


def test_nothing_else_listens_on_tcp_beyond_rest_4353_dns_and_virtuals(gtm_lab):
    ports = {n for p, a, n in listeners(gtm_lab, "gtm1") if p == "tcp"}
    assert ports <= {443, 4353, 53}, json.dumps(sorted(listeners(gtm_lab, "gtm1")))
