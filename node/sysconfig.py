"""The saved configuration and UCS archives of one device (`save sys config`, `load sys config`,
`save|load|delete|list sys ucs`, `restart sys service mcpd`), laid out as on a BIG-IP under the
node's state directory:

    config/bigip.conf, config/bigip_base.conf, config/bigip_user.conf, config/bigip_gtm.conf,
    config/partitions/P/bigip.conf ...          what `save sys config` writes
    var/local/ucs/NAME.ucs                      UCS archives (tar.gz)
    var/config/rest/downloads/NAME, tmp/NAME    files automation uploads and moves (DEVICE_DIRS)

A UCS holds every partition's configuration files plus the device's certificates and keys (its
device-trust identity and CA, as config/ssl/ssl.crt and ssl.key) and the trust domain they belong
to; loading one replaces the running configuration in one commit and restores that trust.
"""
from __future__ import annotations

import io
import re
import tarfile
import time
from pathlib import Path

from .config import conf, ssl_files
from .config.schema import SSL_OWN
from .config.store import ConfigStore
from .errors import Invalid, NotFound
from .files import write_atomically
from .version import BUILD, VERSION

UCS_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
UPLOADS, UCS, TMP = "/var/config/rest/downloads", "/var/local/ucs", "/tmp"   # uploads land in UPLOADS
DEVICE_DIRS = (UPLOADS, UCS, TMP)   # the device directories automation moves files between
TRUST = "var/lab/trust.json"     # the whole trust state (what F5 keeps in its trust database)


class SysConfig:
    def __init__(self, device: str, store: ConfigStore, state_dir: Path, log, trust=None, restarted=None,
                 trust_changed=None, base=None):
        """`trust`: the device's TrustStore (its certificates, keys and trust domain) or None;
        `restarted`: what to call after mcpd's restart (channels and CM start afresh);
        `trust_changed`: what to call when a UCS brought back another identity (channels reconnect);
        `base`: the ops of the node's own set-up (its interfaces, VLANs, self IPs, device, provisioning)."""
        self.device, self.store, self.dir, self.log = device, store, Path(state_dir), log
        self.base = base or (lambda: [])
        self.trust, self.restarted = trust, restarted or (lambda: None)
        self.trust_changed = trust_changed or (lambda: None)
        self.config_dir = self.dir / "config"
        self.ucs_dir = self.dir / "var" / "local" / "ucs"

    def local(self, path: str) -> Path | None:
        """A file of one of the device's DEVICE_DIRS (`/tmp/x.conf`) -> where it is kept here; None
        for any other path."""
        folder, _, name = path.rpartition("/")
        if folder not in DEVICE_DIRS or not UCS_NAME.match(name) or name in (".", ".."):
            return None
        return self.dir / folder.lstrip("/") / name

    # -- save and load sys config -----------------------------------------------------------------
    def save(self) -> list[str]:
        """Every partition's files, as `save sys config` writes them (returns their names as a
        BIG-IP prints them, /config/...); files of a partition that has no objects left are removed."""
        files = conf.dump(self.store.objects)
        written = []
        for old in self.config_dir.rglob("*.conf") if self.config_dir.exists() else ():
            if str(old.relative_to(self.config_dir)) not in files:
                old.unlink()
        for name, text in files.items():
            path = self.config_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, text.encode(), 0o644)
            written.append(f"/config/{name}")
        self.log.log("notice", "mcpd", "Configuration saved (save sys config)", event="config-saved")
        return written

    def merge(self, text: str, source: str = "terminal") -> int:
        """`load sys config merge`: the objects the text names, in one commit; returns how many.
        Objects that come out as they are now are left alone, so merging the same text again
        changes nothing (nothing is committed, nothing syncs)."""
        blocks = conf.parse(text, source)
        if not blocks:
            raise Invalid(f"{source} holds no configuration")
        ops = conf.merge_ops(self.store.objects, blocks)
        work, touched = self.store.validate(ops, restore=True)
        changed = {k for k in touched if work.get(k) != self.store.objects.get(k)}
        ops = [op for op in ops if (op.type, op.path) in changed]
        if ops:
            self.store.commit(ops, restore=True)
        self.log.log("notice", "mcpd", f"Configuration merged from {source} ({len(blocks)} objects)",
                     event="config-merged")
        return len(blocks)

    def verify(self, text: str, source: str = "terminal") -> int:
        """`load sys config merge ... verify`: checked as a merge would be, nothing changed."""
        blocks = conf.parse(text, source)
        self.store.validate(conf.merge_ops(self.store.objects, blocks), restore=True)
        return len(blocks)

    def load_saved(self) -> int:
        """`load sys config`: the running configuration becomes the saved files'."""
        texts = self._read_dir(self.config_dir)
        if not texts:
            raise NotFound("configuration file", str(self.config_dir / "bigip.conf"))
        return self._replace(texts)

    def load_default(self) -> int:
        """`load sys config default`: back to the device's defaults in one commit. The node's own
        set-up from its topology (what stands for its management access and cabling: interfaces,
        VLANs, their self IPs, its device object, provisioning), its certificates and its trust
        domain (device and traffic groups) stay (docs/design.md); everything else goes, and
        built-ins take their built-in values again. Returns how many objects changed."""
        base = {(op.type, op.path) for op in self.base()}

        def keep(type_: str, path: str) -> bool:
            values = self.store.get(type_, path) or {}
            own_pair = type_ in (ssl_files.CERT, ssl_files.KEY) and str(values.get("source-path")).startswith(SSL_OWN)
            return (type_, path) in base or self._keep(type_, path) or own_pair \
                or self.store.scope(type_, values) == "trust"

        ops = conf.default_ops(self.store.objects, keep)
        self.store.commit(ops, restore=True)
        self.save()
        self.log.log("notice", "mcpd", f"configuration reset to the defaults ({len(ops)} objects)", event="config-default")
        return len(ops)

    def _read_dir(self, root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.conf"))} if root.exists() else {}

    def _replace(self, texts: dict[str, str]) -> int:
        blocks = self._blocks(texts)
        self.store.commit(conf.replace_ops(self.store.objects, blocks, keep=self._keep), restore=True)
        return len(blocks)

    @staticmethod
    def _blocks(texts: dict[str, str]) -> list:
        return [b for name, text in sorted(texts.items()) for b in conf.parse(text, f"/config/{name}")]

    def _keep(self, type_: str, path: str) -> bool:
        """This device's own identity object stays whatever a file says."""
        return type_ == "cm device" and path.rsplit("/", 1)[-1] == self.device

    def device_file(self, path: str) -> Path:
        """A file a command names: one in a device directory (F5's file-transfer uploads, /tmp where
        bigip_config moves them) is in the state directory; any other path is the host's."""
        return self.local(path) or Path(path)

    # -- UCS --------------------------------------------------------------------------------------
    def ucs_path(self, name: str) -> Path:
        base = Path(name).name     # `load sys ucs /var/local/ucs/x.ucs` names it by its path
        if not base.endswith(".ucs"):
            base += ".ucs"
        if not UCS_NAME.match(base):
            raise Invalid(f'invalid UCS name "{name}"')
        return self.ucs_dir / base

    def ucs_list(self) -> list[Path]:
        return sorted(self.ucs_dir.glob("*.ucs")) if self.ucs_dir.exists() else []

    def ucs_save(self, name: str) -> Path:
        path = self.ucs_path(name)
        self.save()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            def add(arcname: str, data: bytes, mode: int = 0o644) -> None:
                info = tarfile.TarInfo(arcname)
                info.size, info.mode, info.mtime = len(data), mode, int(time.time())
                tar.addfile(info, io.BytesIO(data))
            for rel, text in self._read_dir(self.config_dir).items():
                add(f"config/{rel}", text.encode())
            add("config/BigDB.dat", b"")     # F5 keeps db variables here; ours are in bigip_base.conf
            add("VERSION", f"Product: BIG-IP\nVersion: {VERSION}\nBuild: {BUILD}\n".encode())
            add("ucs_version", b"1.0\n")
            add("var/lab/device", self.device.encode())
            for arcname, data, mode in self._trust_files():
                add(arcname, data, mode)
        self.ucs_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(path, buf.getvalue(), 0o644)
        self.log.log("notice", "mcpd", f"UCS {path.name} saved", event="ucs-saved")
        return path

    def _trust_files(self) -> list[tuple[str, bytes, int]]:
        if self.trust is None:
            return []
        s = self.trust.state
        files = [("config/ssl/ssl.crt/dtdi.crt", s.cert, 0o644), ("config/ssl/ssl.key/dtdi.key", s.key, 0o600),
                 ("config/ssl/ssl.crt/dtca.crt", s.ca, 0o644)]
        if s.ca_key:
            files.append(("config/ssl/ssl.key/dtca.key", s.ca_key, 0o600))
        return files + [(TRUST, self.trust.path.read_bytes(), 0o600)]

    def ucs_load(self, name: str, reset_trust: bool = False) -> int:
        """The running configuration becomes the archive's, in one commit; the device's
        certificates, keys and trust domain come back too unless `reset_trust`, or the archive
        is another device's."""
        path = self.ucs_path(name)
        if not path.exists():
            raise NotFound("UCS file", str(Path("/var/local/ucs") / path.name))
        texts, trust, device = {}, None, None
        try:
            with tarfile.open(path, "r:gz") as tar:
                for m in tar.getmembers():
                    if not m.isfile():
                        continue
                    data = tar.extractfile(m).read()
                    if m.name.startswith("config/") and m.name.endswith(".conf"):
                        texts[m.name.removeprefix("config/")] = data.decode()
                    elif m.name == TRUST:
                        trust = data
                    elif m.name == "var/lab/device":
                        device = data.decode()
        except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as exc:
            raise Invalid(f"{path.name} is not a UCS archive: {exc}") from None
        if "bigip.conf" not in texts:
            raise Invalid(f"{path.name} is not a UCS archive: it has no config/bigip.conf")
        blocks = self._blocks(texts)
        ops = conf.replace_ops(self.store.objects, blocks, keep=self._keep)
        self.store.validate(ops, restore=True)      # a bad archive changes nothing, not even the trust
        restored = trust is not None and self.trust is not None and not reset_trust and device == self.device
        if restored and trust != self.trust.path.read_bytes():
            self.trust.restore(trust)
            self.trust_changed()      # channels come back with the restored identity; then the change syncs
        self.store.commit(ops, restore=True)
        self.save()
        self.log.log("notice", "mcpd", f"UCS {path.name} loaded ({len(blocks)} objects"
                     + (", device trust restored)" if restored else ")"), event="ucs-loaded")
        return len(blocks)

    def ucs_delete(self, name: str) -> None:
        path = self.ucs_path(name)
        if not path.exists():
            raise NotFound("UCS file", str(Path("/var/local/ucs") / path.name))
        path.unlink()

    # -- restart sys service mcpd ----------------------------------------------------------------
    def restart_mcpd(self) -> None:
        """The configuration reloaded from disk (what a BIG-IP's mcpd reads at start), then the
        sync state recomputed from it and the peers' statuses."""
        self.store.reload()
        self.log.log("notice", "mcpd", "mcpd restarted: configuration reloaded from disk", event="mcpd-restart")
        self.restarted()


def ucs_listing(paths: list[Path]) -> str:
    """`list sys ucs`: one line a file, as bigip_ucs reads them."""
    return "\n".join(f"sys ucs {p.name}" for p in paths)


def ucs_item(path: Path) -> dict:
    """One item of GET /mgmt/tm/sys/ucs (bigip_ucs and bigip_ucs_fetch read apiRawValues.filename)."""
    st = path.stat()
    return {"kind": "tm:sys:ucs:ucsstate", "generation": 0,
            "apiRawValues": {"base_build": BUILD, "build": BUILD, "built": "230613150000", "changelist": "3662018",
                             "edition": "Final", "encrypted": "no", "file_created_date": time.strftime(
                                 "%Y-%m-%dT%H:%M:%SZ", time.gmtime(st.st_mtime)),
                             "file_size": f"{st.st_size} (in bytes)",
                             "filename": f"/var/local/ucs/{path.name}", "hostname": "", "job_id": "1397843",
                             "product": "BIG-IP", "sequence": f"{VERSION}-{BUILD}.0", "version": VERSION}}
