"""`biglab export containerlab`: the topology a containerlab deploy takes, checked against the
structure of containerlab's published topology schema (schemas/clab.schema.json), written here as
our own schema, and what each node runs."""
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from lab.cli import main
from lab.model.containerlab import export
from lab.model.plan import make_plan
from lab.model.topology import load

ROOT = Path(__file__).resolve().parents[2]
IPV4 = r"^(\d{1,3}\.){3}\d{1,3}$"
KINDS = ["linux", "bridge", "ovs-bridge", "host", "nokia_srlinux", "arista_ceos", "ext-container"]  # those we may use
NODE = {"type": "object", "additionalProperties": False, "properties": {
    "kind": {"type": "string", "enum": KINDS}, "image": {"type": "string"}, "group": {"type": "string"},
    "cmd": {"type": "string"}, "entrypoint": {"type": "string"},
    "exec": {"type": "array", "minItems": 1, "items": {"type": "string"}},
    "binds": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
    "env": {"type": "object", "patternProperties": {".+": {"type": ["string", "number", "boolean"]}}},
    "labels": {"type": "object", "patternProperties": {".+": {"type": ["string", "number"]}}},
    "mgmt-ipv4": {"type": "string", "pattern": IPV4}, "network-mode": {"type": "string"},
    "startup-delay": {"type": "integer"}}}
LINK = {"type": "object", "additionalProperties": False, "required": ["endpoints"], "properties": {
    "endpoints": {"type": "array", "minItems": 2, "maxItems": 2, "uniqueItems": True,
                  "items": {"type": "string", "pattern": r"^\S+:\S+$"}}}}
SCHEMA = {"type": "object", "additionalProperties": False, "required": ["name", "topology"], "properties": {
    "name": {"type": "string"}, "prefix": {"type": "string"},
    "mgmt": {"type": "object", "properties": {"network": {"type": "string"}, "ipv4-subnet": {"type": "string"}}},
    "topology": {"type": "object", "additionalProperties": False, "required": ["nodes"], "properties": {
        "nodes": {"type": "object", "patternProperties": {".*": NODE}},
        "links": {"type": "array", "minItems": 1, "items": LINK},
        "kinds": {"type": "object"}, "defaults": NODE}}}}
TYPES = {"object": dict, "array": list, "string": str, "integer": int, "number": (int, float), "boolean": bool}


def problems(value, schema, where="$") -> list[str]:
    """The JSON Schema (draft-07) keywords the schema above uses, checked."""
    kinds = schema.get("type")
    if kinds and not isinstance(value, tuple(TYPES[k] for k in ([kinds] if isinstance(kinds, str) else kinds))):
        return [f"{where}: {type(value).__name__} is not {kinds}"]
    out = []
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} not in {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        out.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, dict):
        out += [f"{where}: {k} is required" for k in schema.get("required", []) if k not in value]
        for k, v in value.items():
            sub = schema.get("properties", {}).get(k)
            if sub is None:
                sub = next((s for p, s in schema.get("patternProperties", {}).items() if re.search(p, k)), None)
            if sub is None:
                if schema.get("additionalProperties") is False:
                    out.append(f"{where}: unknown key {k!r}")
                continue
            out += problems(v, sub, f"{where}.{k}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            out.append(f"{where}: {len(value)} items")
        if schema.get("uniqueItems") and len({json.dumps(v, sort_keys=True) for v in value}) != len(value):
            out.append(f"{where}: items repeat")
        out += [p for i, v in enumerate(value) for p in problems(v, schema.get("items", {}), f"{where}[{i}]")]
    return out


def exported(path, name=None):
    return export(make_plan(load(path, name), backend="docker"), "biglab:latest", "/opt/biglab/bin/python")


def test_the_schema_check_catches_what_containerlab_would_refuse():
    bad = {"name": "x", "topology": {"nodes": {"a": {"kind": "vm", "colour": 1}},
                                     "links": [{"endpoints": ["a:eth1"]}]}, "extra": 1}
    assert len(problems(bad, SCHEMA)) == 4


@pytest.mark.parametrize("topology", ["ha-pair.yml", "gtm-3dc.yml", "gtm-10dc.yml"])
def test_every_shipped_topology_exports_to_a_valid_containerlab_topology(topology):
    clab = exported(ROOT / "topologies" / topology)
    assert problems(clab, SCHEMA) == []
    nodes, links = clab["topology"]["nodes"], clab["topology"]["links"]
    bridges = {n for n, v in nodes.items() if v["kind"] == "bridge"}
    # every link joins a lab node's VLAN interface to that VLAN's bridge; interface names fit Linux
    for link in links:
        (node, iface), (bridge, host_end) = (e.split(":") for e in link["endpoints"])
        assert nodes[node]["kind"] == "linux" and bridge in bridges and nodes[bridge]["labels"]["biglab.vlan"] == iface
        assert len(iface) <= 15 and len(host_end) <= 15
    ends = [e for link in links for e in link["endpoints"]]
    assert len(ends) == len(set(ends))


def test_a_bigip_runs_its_daemon_with_its_node_json_once_wired():
    nodes = exported(ROOT / "topologies" / "ha-pair.yml", "ha")["topology"]["nodes"]
    b1 = nodes["bigip1"]
    config = json.loads(b1["env"]["BIGLAB_NODE_JSON"])
    assert config["name"] == "bigip1" and config["mgmt_address"] == "10.1.1.11"
    assert config["ha"]["failover_vlans"] == ["ha", "internal"] and config["ntp"]["server"] == "10.1.1.1"
    argv = shlex.split(b1["cmd"])
    assert argv[:2] == ["sh", "-c"]
    assert argv[2].startswith("until ip link show mgmt ")   # containerlab attaches links after start
    steps = argv[2].split("; ")
    assert "ip addr add 10.1.30.11/24 dev ha" in steps
    assert steps[-1] == "exec /opt/biglab/bin/python -m node.daemon node.json"
    assert shlex.split(nodes["web1"]["cmd"])[2].endswith("-m node.webserver web1 80")
    assert shlex.split(nodes["client"]["cmd"])[2].endswith("exec /usr/local/bin/biglab-node-init")


def test_the_cli_writes_a_file_with_the_lab_renamed(tmp_path):
    out = tmp_path / "ha.clab.yml"
    assert main(["export", "containerlab", str(ROOT / "topologies" / "ha-pair.yml"), "--name", "hx",
                 "--mgmt-subnet", "10.9.9.0/24", "-o", str(out)]) == 0
    clab = yaml.safe_load(out.read_text())
    assert clab["name"] == "hx" and "bl-hx-v0" in clab["topology"]["nodes"]
    assert "ip addr add 10.9.9.11/24 dev mgmt" in clab["topology"]["nodes"]["bigip1"]["cmd"]
