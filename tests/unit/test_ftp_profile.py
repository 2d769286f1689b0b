"""FTP: F5's ltm profile ftp in tmsh, REST and AS3, and what a virtual with one tells the kernel
(its control connections get the ftp conntrack helper, so their passive and active data
connections follow them to the member). On the wire: tests/lab/test_ltm_dataplane.py."""
from __future__ import annotations

import pytest

from node.config import profiles, tmsh
from node.errors import Invalid
from node.ltm import fastl4
from test_pptp import store  # noqa: F401  (the fixture: a VLAN, a self IP, a pool)
from test_ssl_files import run

FTP_DEFAULTS = {"defaults-from": "none", "port": 20, "allow-ftps": "disabled", "ftps-mode": "disallow",
                "allow-active-mode": "enabled", "enforce-tls-session-reuse": "disabled", "security": "disabled",
                "translate-extended": "enabled", "inherit-parent-profile": "disabled", "inherit-vlan-list": "disabled",
                "log-profile": "none", "log-publisher": "none"}


def test_a_bigip_has_f5s_builtin_ftp_profile(store):  # noqa: F811
    prof = store.get("ltm profile ftp", "/Common/ftp")
    assert {k: prof[k] for k in FTP_DEFAULTS} == FTP_DEFAULTS


def test_tmsh_makes_an_ftp_profile_and_a_virtual_with_it_goes_to_the_kernel_with_the_ftp_helper(store):  # noqa: F811
    run(store, "create ltm profile ftp files port 2020 security enabled translate-extended disabled "
               "log-publisher /Common/local-db-publisher")
    prof = store.get("ltm profile ftp", "/Common/files")
    assert (prof["defaults-from"], prof["port"], prof["security"], prof["translate-extended"], prof["allow-ftps"],
            prof["log-publisher"]) == ("/Common/ftp", 2020, "enabled", "disabled", "disabled", "/Common/local-db-publisher")
    assert "    port 2020\n" in tmsh.render("ltm profile ftp", "/Common/files", prof)
    run(store, "create ltm virtual vs_ftp destination 10.1.10.100:21 pool pac profiles replace-all-with { tcp files }")
    vs = store.get("ltm virtual", "/Common/vs_ftp")
    assert profiles.data_path(store.get, vs) == "fastl4" and profiles.helper(store.get, vs) == "ftp"
    from node.config.schema import TYPES
    assert TYPES["ltm profile ftp"].scope_of({}) == "synced"


@pytest.mark.parametrize("line, message", [
    ("create ltm profile ftp bad port 70000", None),
    ("create ltm profile ftp bad ftps-mode sometimes", None),
    ("create ltm virtual v destination 10.1.10.100:21 ip-protocol udp profiles replace-all-with { udp ftp }",
     "has a FTP profile .*ip-protocol tcp with a TCP profile"),
    ("create ltm virtual v destination 10.1.10.100:21 profiles replace-all-with { tcp http ftp }",
     "forwards FTP in the kernel"),
    ("create ltm virtual v destination 10.1.10.100:21 profiles replace-all-with { tcp pptp ftp }",
     "one protocol helper")])
def test_bad_ftp_profiles_and_virtuals_are_refused_and_nothing_changes(store, line, message):  # noqa: F811
    before = dict(store.objects)
    with pytest.raises(Invalid, match=message):
        run(store, line)
    assert store.objects == before


def test_the_kernel_batch_gives_an_ftp_virtuals_connections_the_ftp_helper_as_it_dnats_them():
    member = fastl4.L4Member("/Common/10.1.20.21:21", "10.1.20.21", 21)
    vs = fastl4.L4Virtual("/Common/vs_ftp", "10.1.10.100", 2121, "tcp", "round-robin", (member,), helper="ftp")
    cmds = fastl4.batch([vs], set(), set())["nftables"]
    helpers = [c["add"]["ct helper"] for c in cmds if "ct helper" in c.get("add", {})]
    assert helpers == [{"family": "ip", "table": "biglab_ltm", "name": "ftp", "type": "ftp", "protocol": "tcp",
                        "l3proto": "ip"}]
    chain = fastl4.counter(vs.path, member.name)
    expr = next(c["add"]["rule"]["expr"] for c in cmds if c.get("add", {}).get("rule", {}).get("chain") == chain)
    assert expr.index({"ct helper": "ftp"}) == len(expr) - 2 and "dnat" in expr[-1]   # set before the DNAT


# -- REST ----------------------------------------------------------------------------------------
async def test_rest_takes_and_shows_ftp_profiles_in_f5s_shape(tmp_path):
    import httpx
    from node.rest.app import RestApp
    from test_icontrol import fake_parts
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=RestApp(**fake_parts(tmp_path)).app),
                                 base_url="https://localhost", auth=("admin", "admin")) as c:
        got = (await c.get("/mgmt/tm/ltm/profile/ftp/~Common~ftp")).json()
        assert (got["kind"], got["port"], got["translateExtended"], got["inheritParentProfile"], got["allowFtps"],
                got["logProfile"], got["defaultsFrom"]) == (
            "tm:ltm:profile:ftp:ftpstate", 20, "enabled", "disabled", "disabled", "none", "none")
        r = await c.post("/mgmt/tm/ltm/profile/ftp", json={"name": "files", "port": 2020, "security": "enabled"})
        assert r.status_code == 200 and (r.json()["port"], r.json()["security"]) == (2020, "enabled"), r.text
        assert r.json()["defaultsFrom"] == "/Common/ftp"
        r = await c.patch("/mgmt/tm/ltm/profile/ftp/~Common~files", json={"translateExtended": "perhaps"})
        assert r.status_code == 400
        assert (await c.get("/mgmt/tm/ltm/profile/ftp/~Common~files")).json()["translateExtended"] == "enabled"


# -- AS3 -----------------------------------------------------------------------------------------
def ftp_decl(**svc) -> dict:
    from test_as3_core import adc, app
    return adc(Files={"class": "Tenant", "App": app(
        svc={"class": "Service_TCP", "virtualAddresses": ["10.1.10.107"], "virtualPort": 21, "pool": "ftpd",
             "snat": "auto", "profileFTP": {"use": "data"}, **svc},
        ftpd={"class": "Pool", "members": [{"servicePort": 21, "serverAddresses": ["10.1.20.21"]}]},
        data={"class": "FTP_Profile", "remark": "uploads", "port": 300, "securityEnabled": True,
              "translateExtendedEnabled": False, "algLogProfile": {"bigip": "/Common/alg_log_profile"},
              "logPublisher": {"bigip": "/Common/local-db-publisher"}})})


def test_as3_ftp_profile_and_a_service_with_it_deploy_as_objects():
    from test_as3_core import run as as3_run, services
    svc, store, _ = services()
    status, out = as3_run(svc, ftp_decl())
    assert status == 200, out
    vs = store.get("ltm virtual", "/Files/App/svc")
    assert {"/Files/App/data", "/Common/tcp"} <= set(vs["profiles"]) and profiles.helper(store.get, vs) == "ftp"
    prof = store.get("ltm profile ftp", "/Files/App/data")
    assert {k: prof[k] for k in ("defaults-from", "description", "port", "security", "translate-extended",
                                 "allow-active-mode", "ftps-mode", "log-profile", "log-publisher")} == {
        "defaults-from": "/Common/ftp", "description": "uploads", "port": 300, "security": "enabled",
        "translate-extended": "disabled", "allow-active-mode": "enabled", "ftps-mode": "disallow",
        "log-profile": "/Common/alg_log_profile", "log-publisher": "/Common/local-db-publisher"}
    assert as3_run(svc, ftp_decl())[1]["results"][0]["message"] == "no change"
    status, out = as3_run(svc, ftp_decl(profileFTP={"bigip": "/Common/ftp"}))
    assert status == 200 and "/Common/ftp" in store.get("ltm virtual", "/Files/App/svc")["profiles"], out
    status, out = as3_run(svc, None, ["Files"], "DELETE")
    assert status == 200 and not [k for k in store.objects if k[1].startswith("/Files/")]


def test_as3_refuses_an_ftp_pointer_at_the_wrong_class_and_bad_values():
    from test_as3_core import errors_of
    assert "/Files/App/svc/profileFTP: /Files/App/ftpd is a Pool, not a FTP_Profile" in errors_of(
        ftp_decl(profileFTP={"use": "ftpd"}))
    decl = ftp_decl()
    decl["Files"]["App"]["data"]["port"] = 70000
    assert errors_of(decl) == ["/Files/App/data/port: should be <= 65535"]
    decl = ftp_decl()
    del decl["Files"]["App"]["data"]["logPublisher"]   # AS3: an ALG log profile needs its publisher
    assert len(errors_of(decl)) == 1 and "logPublisher" in errors_of(decl)[0]
