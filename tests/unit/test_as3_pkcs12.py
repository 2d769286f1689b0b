"""AS3 Certificates from a PKCS #12 (its certificate, chain and key, the key encrypted with the
passphrase as AS3 imports it) and TLS_Server `hybrid` (every certificate in one client-ssl profile)."""
from __future__ import annotations

import base64
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from node.config.sealed import unseal
from test_as3_core import adc, run, services
from test_as3_tls import CERT, KEY, OTHER_CERT, pair, secret, shop
from test_forward_proxy import pem

CLEAR = "eyJhbGciOiJkaXIiLCJlbmMiOiJub25lIn0"


def rsa_pair(cn: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=9)).sign(key, hashes.SHA256()))
    return pem(cert), pem(key)


def p12(password: bytes | None, cert=CERT, key=KEY, cas=()) -> str:
    c = serialization.load_pem_private_key(key.encode(), None) if key else None
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    data = pkcs12.serialize_key_and_certificates(b"web", c, x509.load_pem_x509_certificate(cert.encode()),
                                                 [x509.load_pem_x509_certificate(x.encode()) for x in cas] or None, enc)
    return base64.b64encode(data).decode()


def with_p12(text, passphrase=None, **options) -> dict:
    decl = shop()
    cert = {"class": "Certificate", "pkcs12": {"base64": text}, **options}
    if passphrase is not None:
        cert["passphrase"] = secret(passphrase, CLEAR)
    decl["Web"]["webcert"] = cert
    return decl


def test_a_pkcs12_installs_its_certificate_chain_and_key_encrypted_with_the_passphrase():
    svc, store, _ = services()
    decl = with_p12(p12(b"s3cret", cas=[OTHER_CERT]), b"s3cret")
    status, out = run(svc, adc(Shop=decl))
    assert status == 200, out
    assert store.get("sys file ssl-cert", "/Shop/Web/webcert.crt")["pem"] == CERT
    assert store.get("sys file ssl-cert", "/Shop/Web/webcert-bundle.crt")["pem"] == OTHER_CERT
    key = store.get("sys file ssl-key", "/Shop/Web/webcert.key")
    assert "ENCRYPTED PRIVATE KEY" in key["pem"] and unseal(key["passphrase"]) == "s3cret"
    client = store.get("ltm profile client-ssl", "/Shop/Web/webtls")
    assert (client["cert"], client["key"], client["chain"]) == (
        "/Shop/Web/webcert.crt", "/Shop/Web/webcert.key", "/Shop/Web/webcert-bundle.crt")
    assert run(svc, adc(Shop=decl))[1]["results"][0]["message"] == "no change"


def test_a_blank_passphrase_is_none_and_openssl_legacy_keeps_the_traditional_format():
    svc, store, _ = services()
    status, out = run(svc, adc(Shop=with_p12(p12(None), b" ")))
    assert status == 200, out
    assert store.get("sys file ssl-key", "/Shop/Web/webcert.key")["pem"].startswith("-----BEGIN PRIVATE KEY")
    cert, key_pem = rsa_pair("legacy.example")
    status, out = run(svc, adc(Shop=with_p12(p12(b"pw", cert, key_pem), b"pw",
                                             pkcs12Options={"keyImportFormat": "openssl-legacy"})))
    assert status == 200, out
    assert store.get("sys file ssl-key", "/Shop/Web/webcert.key")["pem"].startswith("-----BEGIN RSA PRIVATE KEY")


def test_a_pkcs12_that_does_not_open_or_comes_from_a_url_is_422_and_changes_nothing():
    svc, store, _ = services()
    for decl, error in (
            (with_p12(p12(b"right"), b"wrong"), "/Shop/Web/webcert/pkcs12: Unable to extract pkcs12 contents."),
            (with_p12("bm90IGEgcGtjczEy"), "/Shop/Web/webcert/pkcs12: Unable to extract pkcs12 contents."),
            ({**shop(), "Web": {**shop()["Web"], "webcert": {"class": "Certificate",
                                                             "pkcs12": {"url": "https://certs.example/web.p12"}}}},
             "/Shop/Web/webcert/pkcs12: a pkcs12 from a URL is not supported by this lab")):
        status, out = run(svc, adc(Shop=decl))
        assert status == 422 and out["errors"][0].startswith(error), out
    assert not [k for k in store.objects if k[1].startswith("/Shop")]


def test_hybrid_puts_every_certificate_in_one_profile_that_is_the_sni_default():
    rsa_cert, rsa_key = rsa_pair("rsa.example")
    ec_cert, ec_key = pair("ec.example")
    decl = shop(rsa_cert, rsa_key)
    decl["Web"]["eccert"] = {"class": "Certificate", "certificate": ec_cert, "privateKey": ec_key}
    decl["Web"]["webtls"] = {"class": "TLS_Server", "hybrid": True, "certificates": [
        {"certificate": "webcert"}, {"certificate": "eccert", "matchToSNI": "www.example"}]}
    svc, store, _ = services()
    status, out = run(svc, adc(Shop=decl))
    assert status == 200, out
    client = store.get("ltm profile client-ssl", "/Shop/Web/webtls")
    assert [i["cert"] for i in client["cert-key-chain"]] == ["/Shop/Web/webcert.crt", "/Shop/Web/eccert.crt"]
    assert (client["sni-default"], client["server-name"], client["mode"]) == ("true", "www.example", "enabled")
    assert [k for k in store.objects if k[0] == "ltm profile client-ssl" and k[1].startswith("/Shop")] == \
        [("ltm profile client-ssl", "/Shop/Web/webtls")]


def test_a_hybrid_profile_serves_each_client_the_certificate_of_the_key_type_it_takes():
    import ssl

    from node.ltm import tls
    rsa_cert, rsa_key = rsa_pair("rsa.example")
    ec_cert, ec_key = pair("ec.example")
    decl = shop(rsa_cert, rsa_key)
    decl["Web"]["eccert"] = {"class": "Certificate", "certificate": ec_cert, "privateKey": ec_key}
    decl["Web"]["webtls"] = {"class": "TLS_Server", "hybrid": True,
                             "certificates": [{"certificate": "webcert"}, {"certificate": "eccert"}]}
    svc, store, _ = services()
    assert run(svc, adc(Shop=decl))[0] == 200
    server = tls.Contexts(store).client_side("/Shop/Web/webtls")

    def subject(ciphers: str) -> str:
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
        client.maximum_version = ssl.TLSVersion.TLSv1_2
        client.set_ciphers(ciphers)
        bios = [ssl.MemoryBIO() for _ in range(4)]
        c, s = client.wrap_bio(bios[0], bios[1]), server.wrap_bio(bios[2], bios[3], server_side=True)
        for _ in range(10):
            for side, out, into in ((c, bios[1], bios[2]), (s, bios[3], bios[0])):
                try:
                    side.do_handshake()
                except ssl.SSLWantReadError:
                    pass
                into.write(out.read())
        return x509.load_der_x509_certificate(c.getpeercert(binary_form=True)).subject.rfc4514_string()
    assert subject("ECDHE-ECDSA-AES128-GCM-SHA256") == "CN=ec.example"
    assert subject("ECDHE-RSA-AES128-GCM-SHA256") == "CN=rsa.example"
