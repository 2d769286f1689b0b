"""What the lab tells a node at start: `node.json`, written by the lab, read once by the daemon."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class NodeConfig:
    name: str
    lab: str
    kind: str
    state_dir: Path
    mgmt_address: str
    interfaces: dict = field(default_factory=dict)  # vlan -> {"address": "10.1.10.11/24", ...}
    modules: tuple = ()
    admin: dict = field(default_factory=lambda: {"username": "admin", "password": "admin"})
    iquery_port: int = 4353
    rest_port: int = 443
    ha: dict = field(default_factory=dict)  # configsync_vlan, failover_vlans, heartbeat_interval, timeout, garp
    ntp: dict = field(default_factory=dict)  # server, poll, drift_ppm (no server: the clock runs free)
    iquery_version: tuple = ()               # () is this build's protocol version (chaos: a mismatch)
    peers: dict = field(default_factory=dict)  # the lab's other BIG-IPs: name -> mgmt address (AS3 targetHost)

    @classmethod
    def load(cls, path: Path) -> "NodeConfig":
        d = json.loads(Path(path).read_text())
        return cls(name=d["name"], lab=d["lab"], kind=d["kind"], state_dir=Path(d["state_dir"]),
                   mgmt_address=d["mgmt_address"], interfaces=d.get("interfaces", {}),
                   modules=tuple(d.get("modules", ())), admin=d.get("admin") or {},
                   iquery_port=int(d.get("iquery_port", 4353)),
                   rest_port=int(d.get("rest_port", 443)), ha=d.get("ha") or {},
                   ntp=d.get("ntp") or {}, iquery_version=tuple(d.get("iquery_version") or ()),
                   peers=d.get("peers") or {})

    def to_dict(self) -> dict:
        return {"name": self.name, "lab": self.lab, "kind": self.kind, "state_dir": str(self.state_dir),
                "mgmt_address": self.mgmt_address, "interfaces": self.interfaces,
                "modules": list(self.modules), "admin": self.admin, "iquery_port": self.iquery_port,
                "rest_port": self.rest_port,
                "ha": self.ha, "ntp": self.ntp, "iquery_version": list(self.iquery_version),
                "peers": self.peers}
