"""AS3's TLS classes: Certificate -> ssl-cert + ssl-key from the PEM text, TLS_Server -> client-ssl,
TLS_Client -> server-ssl, Service_HTTPS pointing at them; a bad PEM or a foreign key is a 422."""
from __future__ import annotations

import base64
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from node.as3 import validate
from node.config.sealed import unseal
from test_as3_core import adc, app, config, run, services


def pair(cn: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


CERT, KEY = pair("shop.example")
OTHER_CERT, OTHER_KEY = pair("other.example")


def shop(cert=CERT, key=KEY, **more) -> dict:
    return {"class": "Tenant", "Web": app(
        template="https",
        serviceMain={"class": "Service_HTTPS", "virtualAddresses": ["10.1.10.100"], "pool": "web_pool",
                     "serverTLS": "webtls", "clientTLS": "backtls"},
        web_pool={"class": "Pool", "members": [{"servicePort": 443, "serverAddresses": ["10.1.20.21"]}]},
        webcert={"class": "Certificate", "certificate": cert, "privateKey": key},
        webtls={"class": "TLS_Server", "certificates": [{"certificate": "webcert"}]},
        backtls={"class": "TLS_Client", "serverName": "backend.example"}, **more)}


def test_certificate_tls_server_and_client_become_files_and_profiles_on_the_virtual():
    svc, store, _ = services()
    status, out = run(svc, adc(Shop=shop()))
    assert status == 200, out
    crt = store.get("sys file ssl-cert", "/Shop/Web/webcert.crt")
    assert crt["pem"] == CERT and crt["subject"] == "CN=shop.example" and crt["key-type"] == "ec-public"
    assert store.get("sys file ssl-key", "/Shop/Web/webcert.key")["pem"] == KEY
    client = store.get("ltm profile client-ssl", "/Shop/Web/webtls")
    assert (client["cert"], client["key"]) == ("/Shop/Web/webcert.crt", "/Shop/Web/webcert.key")
    assert [(i["cert"], i["key"]) for i in client["cert-key-chain"]] == [("/Shop/Web/webcert.crt",
                                                                          "/Shop/Web/webcert.key")]
    server = store.get("ltm profile server-ssl", "/Shop/Web/backtls")
    assert server["authenticate-name"] == "backend.example" and server["defaults-from"] == "/Common/serverssl"
    assert server["server-name"] == "none"     # AS3's sendSNI is the SNI name sent; serverName the name checked
    assert {"/Shop/Web/webtls", "/Shop/Web/backtls"} <= set(store.get("ltm virtual", "/Shop/Web/serviceMain")["profiles"])
    configured = config(store)
    store.now = lambda: 4102444800.0     # later: installing the same text again would stamp a new record
    assert run(svc, adc(Shop=shop()))[1]["results"][0]["message"] == "no change"
    assert config(store) == configured


def test_a_new_certificate_replaces_the_old_and_delete_leaves_no_file():
    svc, store, _ = services()
    run(svc, adc(Shop=shop()))
    status, out = run(svc, adc(Shop=shop(OTHER_CERT, OTHER_KEY)))
    assert status == 200 and out["results"][0]["message"] == "success"
    assert store.get("sys file ssl-cert", "/Shop/Web/webcert.crt")["subject"] == "CN=other.example"
    run(svc, None, ["Shop"], "DELETE")
    assert not [k for k in store.objects if k[1].startswith("/Shop/")]


def test_a_bad_pem_or_a_foreign_key_is_422_and_changes_nothing():
    svc, store, _ = services()
    run(svc, adc(Shop=shop()))
    before = config(store)
    for cert, key, error in (
            ("not a certificate", KEY, "/Shop/Web/webcert/certificate: should be a PEM certificate"),
            (CERT, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
             "/Shop/Web/webcert/privateKey: should be an unencrypted PEM private key"),
            (CERT, OTHER_KEY, "/Shop/Web/webcert/privateKey: the key does not match the certificate")):
        assert validate.declaration(adc(Shop=shop(cert, key))) == [error]
        status, out = run(svc, adc(Shop=shop(cert, key)))
        assert status == 422 and error in out["errors"]
        assert config(store) == before


def test_tls_profiles_point_at_declared_certificates_with_keys():
    decl = shop(extra={"class": "TLS_Server", "certificates": [{"certificate": "nocert"}]},
                keyless={"class": "Certificate", "certificate": OTHER_CERT},
                client={"class": "TLS_Client", "clientCertificate": "keyless"})
    assert validate.declaration(adc(Shop=decl)) == [
        "/Shop/Web/extra/certificates/0/certificate: the Certificate /Shop/Web/nocert is not declared",
        "/Shop/Web/client/clientCertificate: the Certificate /Shop/Web/keyless has no privateKey"]


def test_a_refused_deploy_leaves_no_certificate_copies_in_the_file_store(tmp_path):
    svc, store, _ = services(tmp_path / "running.json")
    files = tmp_path / "config" / "filestore"
    bad = shop()
    bad["Web"]["serviceMain"]["virtualAddresses"] = ["10.9.9.9"]    # on no VLAN: the store refuses it
    status, out = run(svc, adc(Shop=bad))
    assert status == 422 and not files.exists()
    assert run(svc, adc(Shop=shop()))[0] == 200
    kept = sorted(p.name for p in files.rglob("*") if p.is_file())
    assert kept == [":Shop:Web:webcert.crt", ":Shop:Web:webcert.key"]


def test_a_service_naming_a_missing_bigip_profile_is_refused_by_the_store():
    svc, store, _ = services()
    decl = shop()
    decl["Web"]["serviceMain"]["profileTCP"] = {"bigip": "/Common/nosuch"}
    status, out = run(svc, adc(Shop=decl))
    assert status == 422 and "01020036:3: The requested profile (/Common/nosuch) was not found." in \
        out["results"][0]["response"]
    assert not [k for k in store.objects if k[1].startswith("/Shop")]


def encrypted(key_pem: str, passphrase: bytes) -> str:
    key = serialization.load_pem_private_key(key_pem.encode(), None)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase)).decode()


def secret(text: bytes, protected: str | None = None) -> dict:
    return {"ciphertext": base64.b64encode(text).decode(), **({"protected": protected} if protected else {})}


def test_an_encrypted_key_is_kept_as_given_with_its_passphrase_sealed():
    svc, store, _ = services()
    decl = shop(key=encrypted(KEY, b"f5f5"))
    decl["Web"]["webcert"]["passphrase"] = secret(b"f5f5", "eyJhbGciOiJkaXIiLCJlbmMiOiJub25lIn0")
    status, out = run(svc, adc(Shop=decl))
    assert status == 200, out
    key = store.get("sys file ssl-key", "/Shop/Web/webcert.key")
    assert key["pem"] == decl["Web"]["webcert"]["privateKey"] and key["security-type"] == "password"
    assert key["passphrase"].startswith("$M$") and unseal(key["passphrase"]) == "f5f5"
    assert run(svc, adc(Shop=decl))[1]["results"][0]["message"] == "no change"


def test_a_wrong_passphrase_or_a_securevault_secret_is_422():
    svc, store, _ = services()
    for passphrase, error in (
            (secret(b"nope"), "/Shop/Web/webcert/passphrase: does not decrypt the privateKey"),
            (secret(b"f5f5", base64.b64encode(b'{"alg":"dir","enc":"f5sv"}').decode()),
             '/Shop/Web/webcert/passphrase/protected: secrets encrypted with "f5sv" (SecureVault) cannot be opened '
             'by this lab; send it with {"alg":"dir","enc":"none"}'),
            ({"ciphertext": "#!"}, "/Shop/Web/webcert/passphrase/ciphertext: should be base64")):
        decl = shop(key=encrypted(KEY, b"f5f5"))
        decl["Web"]["webcert"]["passphrase"] = passphrase
        status, out = run(svc, adc(Shop=decl))
        assert status == 422 and out["errors"] == [error]
    assert not [k for k in store.objects if k[1].startswith("/Shop")]


def test_a_certificate_naming_existing_files_installs_none_and_the_profile_uses_them():
    svc, store, _ = services()
    decl = shop()
    decl["Web"]["webcert"] = {"class": "Certificate", "certificate": {"bigip": "/Common/default.crt"},
                              "privateKey": {"bigip": "/Common/default.key"}}
    status, out = run(svc, adc(Shop=decl))
    assert status == 200, out
    client = store.get("ltm profile client-ssl", "/Shop/Web/webtls")
    assert (client["cert"], client["key"], client["chain"]) == ("/Common/default.crt", "/Common/default.key", "none")
    assert not [k for k in store.objects if k[0].startswith("sys file") and k[1].startswith("/Shop")]


def test_tls_server_and_client_settings_map_to_f5s_profile_properties():
    svc, store, _ = services()
    decl = shop()
    decl["Web"]["webtls"].update(
        certificates=[{"certificate": "webcert", "matchToSNI": "shop.example"}], tls1_3Enabled=True,
        tls1_1Enabled=False, renegotiationEnabled=False, requireSNI=True, handshakeTimeout="indefinite",
        authenticationFrequency="every-time", cacheTimeout=1234, sslSignHash="sha256")
    decl["Web"]["backtls"].update(sendSNI="backend.example", ignoreExpired=True, sessionTickets=True,
                                  renegotiateSize=100, tls1_0Enabled=False)
    status, out = run(svc, adc(Shop=decl))
    assert status == 200, out
    client = store.get("ltm profile client-ssl", "/Shop/Web/webtls")
    assert {k: client[k] for k in ("server-name", "sni-default", "sni-require", "renegotiation", "handshake-timeout",
                                   "authenticate", "cache-timeout", "ssl-sign-hash", "secure-renegotiation",
                                   "mode")} == {
        "server-name": "shop.example", "sni-default": "true", "sni-require": "true", "renegotiation": "disabled",
        "handshake-timeout": "indefinite", "authenticate": "always", "cache-timeout": 1234, "ssl-sign-hash": "sha256",
        "secure-renegotiation": "require", "mode": "enabled"}
    assert client["options"] == ["dont-insert-empty-fragments", "no-tlsv1.1"]
    server = store.get("ltm profile server-ssl", "/Shop/Web/backtls")
    assert {k: server[k] for k in ("server-name", "authenticate-name", "expire-cert-response-control", "session-ticket",
                                   "renegotiate-size", "ca-file", "secure-renegotiation", "options")} == {
        "server-name": "backend.example", "authenticate-name": "backend.example",
        "expire-cert-response-control": "ignore", "session-ticket": "enabled", "renegotiate-size": "100",
        "ca-file": "/Common/ca-bundle.crt", "secure-renegotiation": "require-strict",
        "options": ["dont-insert-empty-fragments", "no-tlsv1.3", "no-tlsv1"]}
    assert run(svc, adc(Shop=decl))[1]["results"][0]["message"] == "no change"


def test_a_ca_bundle_is_a_certificate_file_the_tls_profiles_trust():
    svc, store, _ = services()
    decl = shop()
    decl["Web"]["cas"] = {"class": "CA_Bundle", "bundle": CERT + OTHER_CERT}
    decl["Web"]["webtls"]["authenticationTrustCA"] = {"use": "cas"}
    decl["Web"]["backtls"]["trustCA"] = {"bigip": "/Common/ca-bundle.crt"}
    status, out = run(svc, adc(Shop=decl))
    assert status == 200, out
    bundle = store.get("sys file ssl-cert", "/Shop/Web/cas")
    assert bundle["is-bundle"] == "true" and bundle["subject"] == "CN=shop.example"
    assert store.get("ltm profile client-ssl", "/Shop/Web/webtls")["ca-file"] == "/Shop/Web/cas"
    assert store.get("ltm profile server-ssl", "/Shop/Web/backtls")["ca-file"] == "/Common/ca-bundle.crt"
    decl["Web"]["webtls"]["authenticationTrustCA"] = {"use": "webcert"}
    assert validate.declaration(adc(Shop=decl)) == [
        "/Shop/Web/webtls/authenticationTrustCA: /Shop/Web/webcert is a Certificate, not a CA_Bundle"]
