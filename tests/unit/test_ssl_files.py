"""sys file ssl-cert / ssl-key installed from a file on the device, and client-ssl profiles that
refuse a certificate without its key (F5's errors, nothing changed)."""
import hashlib

import pytest

from node.config import ssl_files
from node.config.schema import full_path
from node.config.store import ConfigStore, Op
from node.config.tmsh import parse
from node.errors import ConfigError, NotFound, SslKeyMismatch, SslPairMissing


def run(store, line):
    cmd = parse(line)
    return store.commit([Op(cmd.verb, cmd.type, full_path(cmd.name), cmd.values)])


def upload(root, name: str, pem: bytes) -> str:
    target = root / "var" / "config" / "rest" / "downloads" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(pem)
    return f"file:///var/config/rest/downloads/{name}"


@pytest.fixture
def store(tmp_path):
    s = ConfigStore(tmp_path / "running.json", "bigip1")
    s.commit([Op("modify", t, p, {"source-path": ("set", src)}) for t, p, src in ssl_files.write_own_pair(tmp_path)])
    return s


def test_the_default_pair_is_the_devices_own_with_f5s_subject_and_is_not_synced(store):
    cert = store.get("sys file ssl-cert", "/Common/default.crt")
    assert cert["subject"] == cert["issuer"] == ("emailAddress=root@localhost.localdomain,CN=localhost.localdomain,"
                                                 "OU=IT,O=MyCompany,L=Seattle,ST=WA,C=--")
    assert cert["key-type"] == "rsa-public" and cert["certificate-key-size"] == 2048
    assert store.get("sys file ssl-key", "/Common/default.key")["key-type"] == "rsa-private"
    assert store.cid is None   # a device-local change: no sync commit
    assert ssl_files.matches(cert["pem"], store.get("sys file ssl-key", "/Common/default.key")["pem"])


def test_an_uploaded_certificate_installs_with_what_a_big_ip_shows_and_is_synced(store, tmp_path):
    cert, key = ssl_files.self_signed()
    src = upload(tmp_path, "site.crt", cert)
    run(store, f"create sys file ssl-cert site.crt source-path {src}")
    got = store.get("sys file ssl-cert", "/Common/site.crt")
    assert got["checksum"].startswith(f"SHA1:{len(cert)}:") and got["size"] == len(cert)
    assert got["source-path"] == src and got["pem"] == cert.decode()
    assert store.cid is not None


def test_a_client_ssl_profile_with_a_certificate_and_no_key_is_refused_and_changes_nothing(store, tmp_path):
    before = dict(store.objects)
    with pytest.raises(SslPairMissing, match=r"^010717e3:3: Client SSL profile must have RSA certificate/key pair\.$"):
        run(store, "create ltm profile client-ssl cs cert default.crt key none")
    with pytest.raises(NotFound, match=r"The requested Certificate Key File \(/Common/nope.key\) was not found"):
        run(store, "create ltm profile client-ssl cs cert default.crt key nope.key")
    assert store.objects == before


def test_a_key_that_is_not_the_certificates_is_refused(store, tmp_path):
    _, other_key = ssl_files.self_signed()
    run(store, f"create sys file ssl-key other.key source-path {upload(tmp_path, 'other.key', other_key)}")
    with pytest.raises(SslKeyMismatch, match="key values mismatch"):
        run(store, "create ltm profile client-ssl cs cert default.crt key other.key")
    run(store, "create ltm profile client-ssl cs")   # defaults: default.crt and default.key
    assert ssl_files.pairs(store.get("ltm profile client-ssl", "/Common/cs")) == [("/Common/default.crt",
                                                                                    "/Common/default.key")]


def test_a_file_that_is_not_a_certificate_is_refused(store, tmp_path):
    with pytest.raises(Exception, match="not a PEM certificate"):
        run(store, f"create sys file ssl-cert bad.crt source-path {upload(tmp_path, 'bad.crt', b'garbage')}")
    assert store.get("sys file ssl-cert", "/Common/bad.crt") is None



def test_an_installed_file_is_kept_so_a_later_load_reads_it_when_the_upload_is_gone(store, tmp_path):
    cert, _ = ssl_files.self_signed()
    src = upload(tmp_path, "kept.crt", cert)
    run(store, f"create sys file ssl-cert kept.crt source-path {src}")
    (tmp_path / "var" / "config" / "rest" / "downloads" / "kept.crt").unlink()   # as F5's Ansible module does
    run(store, "delete sys file ssl-cert kept.crt")
    run(store, f"create sys file ssl-cert kept.crt source-path {src}")            # e.g. load sys config
    assert store.get("sys file ssl-cert", "/Common/kept.crt")["pem"] == cert.decode()


def test_the_pair_shows_over_rest_with_the_keys_of_f5s_device_captures(store):
    from node.rest import resources as res
    cert = res.to_rest(ssl_files.CERT, "/Common/default.crt", store.get(ssl_files.CERT, "/Common/default.crt"), 1)
    key = res.to_rest(ssl_files.KEY, "/Common/default.key", store.get(ssl_files.KEY, "/Common/default.key"), 1)
    assert cert["kind"] == "tm:sys:file:ssl-cert:ssl-certstate" and cert["keyType"] == "rsa-public"
    assert {"certificateKeyCurveName", "certificateKeySize", "checksum", "expirationDate", "expirationString",
            "isBundle", "issuer", "serialNumber", "size", "sourcePath", "subject", "version"} <= set(cert)
    assert cert["checksum"].split(":")[2] and cert["isBundle"] == "false" and cert["certificateKeySize"] == 2048
    assert key["kind"] == "tm:sys:file:ssl-key:ssl-keystate"
    assert (key["keyType"], key["keySize"]) == ("rsa-private", 2048)
    assert {"checksum", "curveName", "keySize", "securityType", "size", "sourcePath"} <= set(key)
    record = {"createTime", "createdBy", "lastUpdateTime", "updatedBy", "mode", "revision"}
    assert record <= set(cert) and record <= set(key)
    assert (cert["mode"], key["mode"], cert["createdBy"], cert["revision"]) == (33188, 33184, "root", 1)
    assert key["securityType"] == "normal" and key["curveName"] == "none"


def test_every_device_has_a_ca_bundle_of_public_cas(store):
    bundle = store.get("sys file ssl-cert", "/Common/ca-bundle.crt")
    assert bundle["is-bundle"] == "true" and bundle["pem"].count("BEGIN CERTIFICATE") > 50
    assert store.scope("sys file ssl-cert", bundle) == "local"


def test_every_store_keeps_the_one_shared_copy_of_the_ca_bundle_text(store, tmp_path):
    # daemons forked from one process share its pages only while they hold that very object
    shared = ssl_files.ca_bundle()[1]
    assert store.get("sys file ssl-cert", "/Common/ca-bundle.crt")["pem"] is shared
    again = ConfigStore(tmp_path / "running.json", "bigip1")   # read back from disk (a restart)
    assert again.get("sys file ssl-cert", "/Common/ca-bundle.crt")["pem"] is shared
    other = ConfigStore(tmp_path / "other.json", "bigip2")      # a peer's copy arriving by sync
    sent = {**again.get("sys file ssl-cert", "/Common/ca-bundle.crt"), "pem": "".join(shared),
            "source-path": "file:///var/config/rest/downloads/b.crt"}
    other.apply_full([*other.snapshot(), ["sys file ssl-cert", "/Common/bundle.crt", sent]], None, "bigip1")
    assert other.get("sys file ssl-cert", "/Common/bundle.crt")["pem"] is shared


def test_a_file_keeps_its_creation_and_counts_each_new_install_by_whom_and_when(tmp_path):
    from node.config.access import CURRENT, Access
    clock = [1496537867.0]           # 2017-06-04T00:57:47Z
    store = ConfigStore(tmp_path / "running.json", "bigip1", now=lambda: clock[0])
    cert, _ = ssl_files.self_signed()
    run(store, f"create sys file ssl-cert site.crt source-path {upload(tmp_path, 'site.crt', cert)}")
    first = store.get(ssl_files.CERT, "/Common/site.crt")
    assert {k: first[k] for k in ("create-time", "created-by", "last-update-time", "updated-by", "mode", "revision")} \
        == {"create-time": "2017-06-04T00:57:47Z", "created-by": "admin", "last-update-time": "2017-06-04T00:57:47Z",
            "updated-by": "admin", "mode": 33188, "revision": 1}
    clock[0] += 60
    again, _ = ssl_files.self_signed()
    token = CURRENT.set(Access("certman", "all-partitions", "certificate-manager"))
    try:
        run(store, f"modify sys file ssl-cert site.crt source-path {upload(tmp_path, 'site2.crt', again)}")
    finally:
        CURRENT.reset(token)
    got = store.get(ssl_files.CERT, "/Common/site.crt")
    assert (got["create-time"], got["created-by"], got["last-update-time"], got["updated-by"], got["revision"]) == (
        "2017-06-04T00:57:47Z", "admin", "2017-06-04T00:58:47Z", "certman", 2)
    assert got["checksum"] == f"SHA1:{len(again)}:" + hashlib.sha1(again).hexdigest()


def test_an_encrypted_key_installs_with_its_passphrase_kept_sealed_and_the_data_plane_uses_it(store, tmp_path):
    from cryptography.hazmat.primitives import serialization

    from node.ltm import tls
    cert, key = ssl_files.self_signed()
    locked = ssl_files.private_key(key.decode()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"open sesame"))
    src = upload(tmp_path, "locked.key", locked)
    before = dict(store.objects)
    for extra, why in (("", "the key is encrypted: give its passphrase"),
                       (" passphrase wrong", "the passphrase does not decrypt the key")):
        with pytest.raises(ConfigError, match=why):
            run(store, f"create sys file ssl-key locked.key source-path {src}{extra}")
    assert store.objects == before
    run(store, f"create sys file ssl-key locked.key source-path {src} passphrase \"open sesame\"")
    got = store.get("sys file ssl-key", "/Common/locked.key")
    assert got["pem"] == locked.decode() and "ENCRYPTED" in got["pem"]     # stored as given: encrypted
    assert got["passphrase"].startswith("$M$") and "open sesame" not in got["passphrase"]
    assert got["security-type"] == "password" and got["key-type"] == "rsa-private"
    run(store, f"create sys file ssl-cert locked.crt source-path {upload(tmp_path, 'locked.crt', cert)}")
    run(store, "create ltm profile client-ssl cs cert locked.crt key locked.key")   # the pair matches
    assert tls.Contexts(store).client_side("/Common/cs") is not None          # decrypted for the handshake
