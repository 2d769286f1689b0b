"""AS3's STARTTLS: a TLS_Server's smtpsStartTLS or ldapStartTLS and a TLS_Client's ldapStartTLS
make F5's smtps / client-ldap / server-ldap profile (activation-mode), named as AS3 names it, on
the virtual with the TLS profile; a Service_TCP takes serverTLS and clientTLS. Stored only."""
from __future__ import annotations

from node.config import profiles
from test_as3_core import adc, errors_of, owned, run, services
from test_as3_tls import CERT, KEY


def tcp_app(server: dict, client: dict | None = None) -> dict:
    return {"class": "Application",
            "mail": {"class": "Service_TCP", "virtualAddresses": ["10.1.10.60"], "virtualPort": 587,
                     "serverTLS": "tlsServer", **({"clientTLS": "tlsClient"} if client is not None else {})},
            "tlsServer": {"class": "TLS_Server", "certificates": [{"certificate": "cert"}], **server},
            **({"tlsClient": {"class": "TLS_Client", **client}} if client is not None else {}),
            "cert": {"class": "Certificate", "certificate": CERT, "privateKey": KEY}}


def test_smtps_starttls_is_an_smtps_profile_on_the_tcp_virtual():
    svc, store, _ = services()
    status, out = run(svc, adc(Mail={"class": "Tenant", "App": tcp_app({"smtpsStartTLS": "require"})}))
    assert status == 200 and out["results"][0]["code"] == 200, out
    assert store.get("ltm profile smtps", "/Mail/App/f5_appsvcs_smtps_require")["activation-mode"] == "require"
    vs = store.get("ltm virtual", "/Mail/App/mail")
    assert {"/Mail/App/tlsServer", "/Mail/App/f5_appsvcs_smtps_require"} <= set(vs["profiles"])
    assert profiles.kind_of(lambda t, p: store.get(t, p), "/Mail/App/f5_appsvcs_smtps_require") == "smtps"
    assert run(svc, None, ["Mail"], "DELETE")[0] == 200 and owned(store, "Mail") == []


def test_ldap_starttls_is_a_client_ldap_and_a_server_ldap_profile():
    svc, store, _ = services()
    status, out = run(svc, adc(Mail={"class": "Tenant", "App": tcp_app({"ldapStartTLS": "allow"},
                                                                        {"ldapStartTLS": "require"})}))
    assert status == 200 and out["results"][0]["code"] == 200, out
    assert store.get("ltm profile client-ldap", "/Mail/App/f5_appsvcs_clientside_allow")["activation-mode"] == "allow"
    assert store.get("ltm profile server-ldap", "/Mail/App/f5_appsvcs_serverside_require")["activation-mode"] == "require"
    assert {"/Mail/App/f5_appsvcs_clientside_allow", "/Mail/App/f5_appsvcs_serverside_require"} <= set(
        store.get("ltm virtual", "/Mail/App/mail")["profiles"])


def test_smtps_and_ldap_starttls_on_one_tls_server_are_refused():
    both = adc(Mail={"class": "Tenant", "App": tcp_app({"ldapStartTLS": "allow", "smtpsStartTLS": "allow"})})
    assert errors_of(both)


def test_a_udp_service_takes_server_tls_and_client_tls_as_dtls_profiles():
    """AS3's schema lets a Service_UDP name serverTLS and clientTLS (DTLS on a BIG-IP): the profiles
    go on the UDP virtual with their LDAP STARTTLS ones, as AS3 attaches them."""
    svc, store, _ = services()
    app = tcp_app({"ldapStartTLS": "require"}, {"ldapStartTLS": "allow"})
    app["mail"] = {**app["mail"], "class": "Service_UDP", "virtualPort": 443}
    status, out = run(svc, adc(Dir={"class": "Tenant", "App": app}))
    assert status == 200 and out["results"][0]["code"] == 200, out
    vs = store.get("ltm virtual", "/Dir/App/mail")
    assert vs["ip-protocol"] == "udp"
    assert {"/Common/udp", "/Dir/App/tlsServer", "/Dir/App/tlsClient", "/Dir/App/f5_appsvcs_clientside_require",
            "/Dir/App/f5_appsvcs_serverside_allow"} == set(vs["profiles"])
    assert run(svc, None, ["Dir"], "DELETE")[0] == 200 and owned(store, "Dir") == []
