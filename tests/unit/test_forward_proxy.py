"""SSL forward proxy: the ClientHello's server name, the bypass lists, the forged certificate
(node/ltm/forge.py); the profile in the model (tmsh, its checks); AS3's TLS_Server and TLS_Client
forward proxy properties; a forged context a client trusting the CA accepts (node/ltm/tls.py)."""
from __future__ import annotations

import datetime
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from node.config import ssl_files
from node.config.store import ConfigStore, Op
from node.errors import ConfigError
from node.ltm import forge, tls
from test_as3_core import adc, app, run, services
from test_ltm_tls import handshake

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)


def pem(obj) -> str:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM).decode()
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def make_ca(cn="Lab Forward Proxy CA"):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert, key


def server_cert(cn="shop.example", sans=("shop.example", "www.shop.example")):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Shop")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW).not_valid_after(NOW + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


CA, CA_KEY = make_ca()
SERVER, SERVER_KEY = server_cert()


def client_hello(sni: str | None) -> bytes:
    """The ClientHello an OpenSSL client sends (with or without SNI)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()


# -- the ClientHello ------------------------------------------------------------------------------
def test_the_client_hello_gives_the_server_name_once_it_is_all_read():
    data = client_hello("Shop.Example")
    for cut in (0, 3, 5, len(data) - 1):
        assert forge.client_hello(data[:cut]) is None
    assert forge.client_hello(data) == forge.Hello("shop.example")
    assert forge.client_hello(client_hello(None)) == forge.Hello(None)


def test_bytes_that_are_not_a_client_hello_are_not_tls():
    for data in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00"):
        with pytest.raises(forge.NotTls):
            forge.client_hello(data)


# -- bypass -----------------------------------------------------------------------------------------
GROUPS = {"/Common/bank_hosts": [{"name": "bank.example"}, {"name": ".health.example"}],
          "/Common/inspect_hosts": [{"name": "inspect.bank.example"}],
          "/Common/trusted_clients": [{"name": "10.1.10.0/24"}],
          "/Common/watched_clients": [{"name": "10.1.10.66"}],
          "/Common/private_servers": [{"name": "10.1.20.0/24"}]}


def verdict(source="10.9.9.9", dest="192.0.2.1", host=None, **profile) -> str:
    return forge.decide({"ssl-forward-proxy": "enabled", "ssl-forward-proxy-bypass": "enabled", **profile},
                        source, dest, host, GROUPS.get)


def test_without_bypass_every_connection_is_intercepted():
    assert forge.decide({"ssl-forward-proxy-bypass": "disabled", "forward-proxy-bypass-default-action": "bypass",
                         "hostname-whitelist": "/Common/bank_hosts"}, "10.1.10.5", "192.0.2.1", "bank.example",
                        GROUPS.get) == "intercept"


def test_the_hostname_bypass_list_matches_the_name_and_its_subdomains():
    lists = {"hostname-whitelist": "/Common/bank_hosts"}
    assert verdict(host="bank.example", **lists) == "bypass"
    assert verdict(host="www.bank.example", **lists) == "bypass"
    assert verdict(host="x.health.example", **lists) == "bypass"
    assert verdict(host="notbank.example", **lists) == "intercept"
    assert verdict(host=None, **lists) == "intercept"


def test_intercept_lists_win_over_bypass_lists_and_addresses_come_before_names():
    lists = {"hostname-whitelist": "/Common/bank_hosts", "hostname-blacklist": "/Common/inspect_hosts",
             "source-ip-whitelist": "/Common/trusted_clients", "source-ip-blacklist": "/Common/watched_clients",
             "dest-ip-whitelist": "/Common/private_servers"}
    assert verdict(host="inspect.bank.example", **lists) == "intercept"
    assert verdict(source="10.1.10.5", host="shop.example", **lists) == "bypass"
    assert verdict(source="10.1.10.66", host="bank.example", **lists) == "intercept"
    assert verdict(dest="10.1.20.7", host="shop.example", **lists) == "bypass"


def test_the_default_action_decides_what_no_list_names():
    assert verdict(host="shop.example") == "intercept"
    assert verdict(host="shop.example", **{"forward-proxy-bypass-default-action": "bypass"}) == "bypass"
    assert verdict(host="shop.example", **{"hostname-whitelist": "/Common/missing"}) == "intercept"


# -- forging ----------------------------------------------------------------------------------------
def test_the_forged_certificate_names_the_server_and_is_signed_by_the_ca():
    der = SERVER.public_bytes(serialization.Encoding.DER)
    key = forge.leaf_key()
    cert = forge.forge(der, pem(CA), CA_KEY, key, 30, NOW)
    assert cert.subject == SERVER.subject and cert.issuer == CA.subject
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value == \
        SERVER.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    cert.verify_directly_issued_by(CA)
    assert cert.not_valid_after_utc == NOW + datetime.timedelta(days=30)
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_one_forged_certificate_per_server_certificate_kept_in_the_cache():
    forger = forge.Forger(size=2)
    ders = [c.public_bytes(serialization.Encoding.DER) for c in (SERVER, server_cert("a.example")[0],
                                                                  server_cert("b.example")[0])]
    first = forger.certificate(ders[0], pem(CA), CA_KEY, 30, NOW)
    assert forger.certificate(ders[0], pem(CA), CA_KEY, 30, NOW) == first and forger.forged == 1
    forger.certificate(ders[1], pem(CA), CA_KEY, 30, NOW)
    forger.certificate(ders[2], pem(CA), CA_KEY, 30, NOW)     # the least recently used goes
    assert forger.certificate(ders[0], pem(CA), CA_KEY, 30, NOW) != first and forger.forged == 4
    other_ca, other_key = make_ca("Other CA")
    assert forger.certificate(ders[0], pem(other_ca), other_key, 30, NOW) != first


class Store:
    def __init__(self, objects):
        self.objects = objects

    def get(self, type_, path):
        return self.objects.get((type_, path))


def test_a_client_trusting_the_ca_accepts_the_forged_certificate_for_the_server_name():
    web_cert, web_key = server_cert("proxy.lab")
    store = Store({("ltm profile client-ssl", "/Common/fp"): {
        "ssl-forward-proxy": "enabled", "options": [],
        "cert-key-chain": [{"name": "d", "cert": "/Common/web.crt", "key": "/Common/web.key"},
                           {"name": "ca", "cert": "/Common/ca.crt", "key": "/Common/ca.key", "usage": "CA"}]},
        ("sys file ssl-cert", "/Common/web.crt"): {"pem": pem(web_cert)},
        ("sys file ssl-key", "/Common/web.key"): {"pem": pem(web_key)},
        ("sys file ssl-cert", "/Common/ca.crt"): {"pem": pem(CA)},
        ("sys file ssl-key", "/Common/ca.key"): {"pem": pem(CA_KEY)}})
    contexts = tls.Contexts(store)
    ctx = contexts.forged("/Common/fp", SERVER.public_bytes(serialization.Encoding.DER))
    assert contexts.forged("/Common/fp", SERVER.public_bytes(serialization.Encoding.DER)) is ctx
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(cadata=pem(CA))
    assert handshake(ctx, "www.shop.example", client=client)
    wrong = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    wrong.load_verify_locations(cadata=pem(make_ca("Someone Else")[0]))
    with pytest.raises(ssl.SSLError):
        handshake(ctx, "www.shop.example", client=wrong)
    # the CA is not a certificate the profile serves
    assert contexts._files(store.get("ltm profile client-ssl", "/Common/fp"))[0][0] == pem(web_cert)
    assert len(contexts._files(store.get("ltm profile client-ssl", "/Common/fp"))) == 1


# -- the model --------------------------------------------------------------------------------------
def test_a_forward_proxy_profile_needs_its_ca_and_a_virtual_needs_server_ssl(tmp_path):
    from test_ssl_files import run as tmsh, upload

    store = ConfigStore(tmp_path / "running.json", "bigip1")
    store.commit([Op("modify", t, p, {"source-path": ("set", src)}) for t, p, src in ssl_files.write_own_pair(tmp_path)])
    store.commit([Op("create", "net vlan", "/Common/external", {}),
                  Op("create", "net self", "/Common/ext", {"address": ("set", "10.1.10.11/24"),
                                                           "vlan": ("set", "/Common/external")})])
    tmsh(store, f"create sys file ssl-cert ca.crt source-path {upload(tmp_path, 'ca.crt', pem(CA).encode())}")
    tmsh(store, f"create sys file ssl-key ca.key source-path {upload(tmp_path, 'ca.key', pem(CA_KEY).encode())}")
    before = dict(store.objects)
    with pytest.raises(ConfigError, match="no CA certificate and key"):
        tmsh(store, "create ltm profile client-ssl fp ssl-forward-proxy enabled")
    with pytest.raises(ConfigError):      # the CA's key must be the CA certificate's
        tmsh(store, "create ltm profile client-ssl fp ssl-forward-proxy enabled cert-key-chain replace-all-with "
                    "{ ca { cert ca.crt key default.key usage CA } }")
    assert store.objects == before
    fp = ("create ltm profile client-ssl fp ssl-forward-proxy enabled ssl-forward-proxy-bypass enabled "
          "cert-key-chain replace-all-with { default { cert default.crt key default.key } "
          "ca { cert ca.crt key ca.key usage CA } } hostname-whitelist /Common/banks")
    with pytest.raises(ConfigError, match="banks"):     # a bypass list is a data group that exists
        tmsh(store, fp)
    tmsh(store, "create ltm data-group internal banks type string records add { bank.example }")
    tmsh(store, fp)
    fp = store.get("ltm profile client-ssl", "/Common/fp")
    assert {i["name"]: i.get("usage") for i in fp["cert-key-chain"]} == {"default": None, "ca": "CA"}
    assert fp["forward-proxy-bypass-default-action"] == "intercept" and fp["cert-lifespan"] == 30
    with pytest.raises(ConfigError, match="needs a server-ssl profile"):
        tmsh(store, "create ltm virtual fwd destination 10.1.10.50:443 profiles replace-all-with { tcp fp }")
    tmsh(store, "create ltm profile server-ssl fps ssl-forward-proxy enabled")
    tmsh(store, "create ltm virtual fwd destination 10.1.10.50:443 profiles replace-all-with { tcp fp fps }")
    assert store.get("ltm virtual", "/Common/fwd") is not None


# -- AS3 --------------------------------------------------------------------------------------------
def forward_app(**tls_server) -> dict:
    web_cert, web_key = server_cert("proxy.lab")
    return {"class": "Tenant", "Web": app(
        template="https",
        serviceMain={"class": "Service_HTTPS", "virtualAddresses": ["10.1.10.100"], "pool": "web_pool",
                     "serverTLS": "proxytls", "clientTLS": "backtls"},
        web_pool={"class": "Pool", "members": [{"servicePort": 443, "serverAddresses": ["10.1.20.21"]}]},
        webcert={"class": "Certificate", "certificate": pem(web_cert), "privateKey": pem(web_key)},
        cacert={"class": "Certificate", "certificate": pem(CA), "privateKey": pem(CA_KEY)},
        banks={"class": "Data_Group", "keyDataType": "string", "records": [{"key": "bank.example"}]},
        proxytls={"class": "TLS_Server", "certificates": [{"certificate": "webcert", "proxyCertificate": "cacert"}],
                  "forwardProxyEnabled": True, "cacheCertificateEnabled": True, **tls_server},
        backtls={"class": "TLS_Client", "forwardProxyEnabled": True})}


def test_as3_forward_proxy_maps_to_f5s_profile_properties():
    svc, store, _ = services()
    status, out = run(svc, adc(Fwd=forward_app(forwardProxyBypassEnabled=True,
                                                forwardProxyBypassAllowlist={"use": "banks"})))
    assert status == 200, out
    fp = store.get("ltm profile client-ssl", "/Fwd/Web/proxytls")
    assert fp["ssl-forward-proxy"] == fp["ssl-forward-proxy-bypass"] == fp["cert-lookup-by-ipaddr-port"] == "enabled"
    assert [(i["cert"].rsplit("/", 1)[1], i.get("usage")) for i in fp["cert-key-chain"]] == \
        [("webcert.crt", None), ("cacert.crt", "CA")]
    assert fp["hostname-whitelist"].endswith("/banks")
    assert fp["hostname-whitelist"] == "/Fwd/Web/banks"
    assert store.get("ltm profile server-ssl", "/Fwd/Web/backtls")["ssl-forward-proxy"] == "enabled"
    assert run(svc, adc(Fwd=forward_app()))[0] == 200


def test_as3_proxy_certificate_must_be_a_declared_certificate():
    decl = forward_app()
    decl["Web"]["proxytls"]["certificates"][0]["proxyCertificate"] = "nothere"
    svc, store, _ = services()
    status, out = run(svc, adc(Fwd=decl))
    assert status == 422 and any("proxyCertificate" in e for e in out["errors"]), out


# -- the IO: the ClientHello read first, then the handshake on the same bytes ----------------------
async def test_the_handshake_completes_on_the_client_hello_read_before_it():
    import trio

    from node.ltm import proxy
    a, b = trio.socket.socketpair()
    client_side, proxy_side = trio.SocketStream(a), trio.SocketStream(b)
    trusting = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    trusting.load_verify_locations(cadata=pem(CA))
    forger = forge.Forger()
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    forged = forger.certificate(SERVER.public_bytes(serialization.Encoding.DER), pem(CA), CA_KEY, 30,
                                datetime.datetime.now(datetime.timezone.utc))
    tls._load(served, forged, forger.key_pem(pem(CA)), None)
    got = []

    async def the_client():
        stream = trio.SSLStream(client_side, trusting, server_hostname="www.shop.example")
        await stream.do_handshake()
        await stream.send_all(b"hello")
        got.append(stream.getpeercert()["subject"])

    async def the_proxy():
        hello, first = await proxy.read_hello(proxy_side, 5)
        assert hello.server_name == "www.shop.example"
        stream = await tls.accept(proxy.Prefixed(proxy_side, first), served, 5)
        got.append(await stream.receive_some(5))
        assert proxy.socket_of(stream) is proxy_side.socket

    async with trio.open_nursery() as nursery:
        nursery.start_soon(the_client)
        nursery.start_soon(the_proxy)
    assert b"hello" in got and ((("commonName", "shop.example"),), (("organizationName", "Shop"),)) in got


def test_as3_a_bypass_allow_list_needs_forward_proxy_and_its_bypass_on():
    svc, store, _ = services()
    for more, error in (({}, "/Fwd/Web/proxytls: should have required property 'forwardProxyBypassEnabled'"),
                        ({"forwardProxyBypassEnabled": False},
                         "/Fwd/Web/proxytls/forwardProxyBypassEnabled: should be equal to constant")):
        status, out = run(svc, adc(Fwd=forward_app(forwardProxyBypassAllowlist={"use": "banks"}, **more)))
        assert status == 422 and error in out["errors"], out
    assert not [k for k in store.objects if k[1].startswith("/Fwd")]
