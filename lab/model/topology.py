"""Topology files: parse, validate, and say clearly what is wrong.

    name: ha                       # lab name: the prefix of everything the lab makes
    backend: netns                 # where nodes live: netns (default) or docker (containers)
    trust: true                    # form device trust among the bigip nodes at start-up
    admin: {username: admin, password: admin}
    vlans:
      mgmt: {subnet: 10.1.1.0/24, host_address: 10.1.1.1}   # the host reaches nodes here
      external: {subnet: 10.1.10.0/24}
    nodes:
      bigip1: {kind: bigip, modules: [ltm], interfaces: {mgmt: 10.1.1.11, external: 10.1.10.11}}
      client: {kind: host, interfaces: {external: 10.1.10.100},
               routes: [{to: 10.30.0.53/32, via: 10.1.10.11}]}   # inside the node, via a lab gateway
    # a bigip may carry `config:`, tmsh lines run on it after trust (gtm-3dc's GTM and LTM setup)

A bad file raises TopologyError naming the file, the key path and the problem; nothing is made.
"""
from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from node.config.tmsh import TmshSyntaxError, parse as parse_tmsh

from . import faultspec
from .names import FABRIC

LAB_NAME = re.compile(r"^[a-z][a-z0-9]{0,5}$")      # short: Linux names are 15 bytes at most
NODE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
VLAN_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,14}$")  # becomes an interface name inside each node
MODULES = ("ltm", "gtm")


class TopologyError(Exception):
    def __init__(self, file, path: str, problem: str):
        self.file, self.path, self.problem = str(file), path, problem
        where = f"{self.file}: {path}: " if path else f"{self.file}: "
        super().__init__(where + problem)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Credentials(_Model):
    username: str = Field("admin", min_length=1)
    password: str = Field("admin", min_length=1)


class Vlan(_Model):
    subnet: ipaddress.IPv4Network
    host_address: ipaddress.IPv4Address | None = None


class Route(_Model):
    """A static route inside the node's namespace, to a lab address through a lab gateway."""
    to: ipaddress.IPv4Network
    via: ipaddress.IPv4Address


class Node(_Model):
    kind: Literal["bigip", "host", "server"]
    modules: tuple[Literal["ltm", "gtm"], ...] = ()
    interfaces: dict[str, ipaddress.IPv4Interface] = Field(default_factory=dict)
    admin: Credentials | None = None
    routes: tuple[Route, ...] = ()
    config: tuple[str, ...] = ()   # tmsh lines run on this bigip at start-up, after trust

    @field_validator("interfaces", mode="before")
    @classmethod
    def _addresses(cls, value):
        if isinstance(value, dict):
            return {k: str(v) for k, v in value.items()}
        return value


class Garp(_Model):
    repeat: int = Field(5, ge=1, le=100)             # keepalived garp_master_repeat
    interval_ms: int = Field(100, ge=0, le=10000)    # between the frames of a burst
    delay_s: float = Field(5.0, ge=0, le=3600)       # garp_master_delay: the second burst
    refresh_s: float = Field(0.0, ge=0, le=86400)    # garp_master_refresh: 0 is off


class TrafficGroupSpec(_Model):
    ha_order: tuple[str, ...] = ()
    auto_failback: bool = False
    auto_failback_time: int = Field(60, ge=0, le=300)
    failover_method: Literal["ha-order", "load-aware"] = "ha-order"
    ha_load_factor: int = Field(1, ge=1, le=1000)
    floating: dict[str, ipaddress.IPv4Address] = Field(default_factory=dict)  # vlan -> floating self IP
    virtual_addresses: tuple[ipaddress.IPv4Address, ...] = ()


class DeviceGroupSpec(_Model):
    name: str = "dg-ha"
    type: Literal["sync-failover", "sync-only"] = "sync-failover"
    auto_sync: bool = True
    full_sync: bool = False
    save_on_auto_sync: bool = False
    network_failover: bool = True


class Ha(_Model):
    """Device Service Clustering among the bigip nodes, set up by `biglab up` after trust. With
    `device_group: null` every bigip gets the settings (heartbeats, config sync address) and the
    nodes' own `config:` lines make their device groups (several HA pairs in one lab).
    `onboard: manual` gives each bigip its HA addresses only: the devices start untrusted and
    unclustered, for automation to onboard (trust, device group, traffic groups, sync)."""
    onboard: Literal["lab", "manual"] = "lab"
    device_group: DeviceGroupSpec | None = DeviceGroupSpec()
    configsync_vlan: str | None = None
    failover_vlans: tuple[str, ...] = ()
    heartbeat_ms: int = Field(200, ge=20, le=5000)
    timeout_ms: int = Field(3000, ge=60, le=60000)     # Failover.NetTimeoutSec, 3 s
    garp: Garp = Garp()
    traffic_groups: dict[str, TrafficGroupSpec] = Field(default_factory=dict)


class Ntp(_Model):
    """The lab's NTP server on the management VLAN's host address; every bigip polls it."""
    poll_s: float = Field(2.0, ge=0.5, le=1024)
    drift_ppm: float = Field(0.0, ge=-1e6, le=1e6)   # how fast a node's clock drifts without NTP


class Topology(_Model):
    name: str
    backend: Literal["netns", "docker"] = "netns"
    trust: bool = True
    admin: Credentials = Credentials()
    mgmt_vlan: str = "mgmt"
    vlans: dict[str, Vlan]
    nodes: dict[str, Node]
    ha: Ha | None = None
    config: tuple[str, ...] = ()   # tmsh lines run on the first bigip at start-up (synced with ha)
    ntp: Ntp | None = None
    netem: dict[str, dict[str, str]] = Field(default_factory=dict)  # "node:vlan" -> {delay: 50ms, loss: 5%}

    def admin_of(self, node: str) -> Credentials:
        return self.nodes[node].admin or self.admin

    def address(self, node: str, vlan: str) -> ipaddress.IPv4Interface:
        """The node's address on a VLAN, with the VLAN's prefix length."""
        addr = self.nodes[node].interfaces[vlan]
        return ipaddress.IPv4Interface(f"{addr.ip}/{self.vlans[vlan].subnet.prefixlen}")

    def bigips(self) -> list[str]:
        return [n for n, node in self.nodes.items() if node.kind == "bigip"]


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:   # `? {a: 1}`: PyYAML's own words for it
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load(path, name: str | None = None, mgmt_subnet: str | None = None) -> Topology:
    """Read and validate a topology file. `name` overrides the lab name and `mgmt_subnet` moves the
    management VLAN (host numbers kept), so two copies of one file run side by side."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise TopologyError(path, "", f"cannot read the file: {exc.strerror}") from None
    return loads(text, path, name, mgmt_subnet)


def loads(text: str, path="<topology>", name: str | None = None, mgmt_subnet: str | None = None) -> Topology:
    """A topology from the text of a file (load's arguments)."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise TopologyError(path, where, f"not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise TopologyError(path, "", "a topology is a YAML mapping with name, vlans and nodes")
    if name is not None:
        data = {**data, "name": name}
    if mgmt_subnet is not None:
        data = move_mgmt(data, mgmt_subnet, path)
    return parse(data, path)


def move_mgmt(data: dict, subnet: str, file="<topology>") -> dict:
    """The same topology with its management VLAN on another subnet, each host number kept."""
    import copy
    data = copy.deepcopy(data)
    mgmt = data.get("mgmt_vlan", "mgmt")
    try:
        new = ipaddress.IPv4Network(subnet)
        vlan = data["vlans"][mgmt]
        old = ipaddress.IPv4Network(vlan["subnet"])
    except (KeyError, TypeError, ValueError) as exc:
        raise TopologyError(file, f"vlans.{mgmt}.subnet", f"cannot move the management VLAN to {subnet}: {exc}") from None
    if new.prefixlen != old.prefixlen:
        raise TopologyError(file, f"vlans.{mgmt}.subnet", f"the new management subnet {new} must be a /{old.prefixlen} like {old}")

    def move(addr, where: str) -> str:
        try:
            ip = ipaddress.IPv4Address(str(addr).split("/")[0])
            return str(new.network_address + (int(ip) - int(old.network_address)))
        except ValueError:   # not an address, or moved off the address space
            raise TopologyError(file, where, f"{addr!r} cannot move to the management subnet {new}") from None

    vlan["subnet"] = str(new)
    if vlan.get("host_address"):
        vlan["host_address"] = move(vlan["host_address"], f"vlans.{mgmt}.host_address")
    nodes = data.get("nodes")
    for nname, node in (nodes.items() if isinstance(nodes, dict) else ()):
        interfaces = node.get("interfaces") if isinstance(node, dict) else None
        if isinstance(interfaces, dict) and mgmt in interfaces:
            interfaces[mgmt] = move(interfaces[mgmt], f"nodes.{nname}.interfaces.{mgmt}")
    return data


def parse(data: dict, file="<topology>") -> Topology:
    try:
        topo = Topology.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif "input" in err and not isinstance(err["input"], (dict, list)):
            msg = f"{msg} (got {err['input']!r})"
        more = len(exc.errors()) - 1
        raise TopologyError(file, loc, msg + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")) from None
    check(topo, file)
    return topo


def check(topo: Topology, file) -> None:
    """The rules a schema cannot say."""
    if not LAB_NAME.match(topo.name):
        raise TopologyError(file, "name", f"{topo.name!r}: a lab name is 1-6 lowercase letters or digits, "
                            "starting with a letter (it prefixes Linux interface names of 15 bytes)")
    if not topo.nodes:
        raise TopologyError(file, "nodes", "a lab needs at least one node")
    if len(topo.nodes) > 99 or len(topo.vlans) > 99:
        raise TopologyError(file, "nodes", "at most 99 nodes and 99 VLANs")
    check_vlans(topo, file)
    used: dict[tuple, str] = {(vname, vlan.host_address): "the host" for vname, vlan in topo.vlans.items()
                              if vlan.host_address is not None}
    for nname, node in topo.nodes.items():
        check_node(topo, file, nname, node, used)
    if topo.ha is not None:
        check_ha(topo, file, used)
    if topo.ntp is not None and topo.vlans[topo.mgmt_vlan].host_address is None:
        raise TopologyError(file, "ntp", f"the NTP server runs on the host's address on VLAN "
                            f"{topo.mgmt_vlan}: give it a host_address")
    check_netem(topo, file)
    check_config(topo, file)


def check_vlans(topo: Topology, file) -> None:
    for vname, vlan in topo.vlans.items():
        if not VLAN_NAME.match(vname) or vname == "lo":
            raise TopologyError(file, f"vlans.{vname}", "a VLAN name is 1-15 characters: lowercase "
                                "letters, digits, '-' or '_', starting with a letter (not 'lo')")
        if vlan.subnet.prefixlen > 30:
            raise TopologyError(file, f"vlans.{vname}.subnet", f"{vlan.subnet} is too small (at most /30)")
        if vlan.host_address is not None and not _is_host(vlan.host_address, vlan.subnet):
            raise TopologyError(file, f"vlans.{vname}.host_address",
                                f"{vlan.host_address} is not a host address of {vlan.subnet}")
    nets = list(topo.vlans.items())
    for i, (a, va) in enumerate(nets):
        for b, vb in nets[i + 1:]:
            if va.subnet.overlaps(vb.subnet):
                raise TopologyError(file, f"vlans.{b}.subnet", f"{vb.subnet} overlaps VLAN {a} ({va.subnet})")
    if topo.mgmt_vlan not in topo.vlans:
        raise TopologyError(file, "mgmt_vlan", f"no VLAN named {topo.mgmt_vlan!r}")


def check_node(topo: Topology, file, nname: str, node: Node, used: dict) -> None:
    """One node: its name, modules and addresses (`used` collects who holds each address)."""
    if not NODE_NAME.match(nname):
        raise TopologyError(file, f"nodes.{nname}", "a node name is lowercase letters, digits and '-', "
                            "starting with a letter, at most 31 characters")
    if nname == FABRIC:
        raise TopologyError(file, f"nodes.{nname}", f"{FABRIC!r} names the lab's namespace of bridges; "
                            "give the node another name")
    if node.kind != "bigip" and node.modules:
        raise TopologyError(file, f"nodes.{nname}.modules", "only bigip nodes run modules")
    if len(set(node.modules)) != len(node.modules):
        raise TopologyError(file, f"nodes.{nname}.modules", "a module is listed twice")
    if not node.interfaces:
        raise TopologyError(file, f"nodes.{nname}.interfaces", "a node needs at least one interface")
    for vname, addr in node.interfaces.items():
        where = f"nodes.{nname}.interfaces.{vname}"
        if vname not in topo.vlans:
            raise TopologyError(file, where, f"no VLAN named {vname!r} (VLANs: {', '.join(topo.vlans)})")
        subnet = topo.vlans[vname].subnet
        if not _is_host(addr.ip, subnet):
            raise TopologyError(file, where, f"{addr.ip} is not a host address of VLAN {vname} ({subnet})")
        if addr.network.prefixlen != 32 and addr.network != subnet:
            raise TopologyError(file, where, f"{addr} does not match VLAN {vname}'s subnet {subnet}")
        owner = used.get((vname, addr.ip))
        if owner:
            raise TopologyError(file, where, f"{addr.ip} is already used by {owner} on VLAN {vname}")
        used[(vname, addr.ip)] = f"node {nname}"
    check_routes(topo, file, nname, node)
    if node.kind == "bigip" and topo.mgmt_vlan not in node.interfaces:
        raise TopologyError(file, f"nodes.{nname}.interfaces",
                            f"a bigip needs an address on the management VLAN {topo.mgmt_vlan!r}")


def check_netem(topo: Topology, file) -> None:
    for where, spec in topo.netem.items():
        node, _, vlan = where.partition(":")
        if node not in topo.nodes or vlan not in topo.nodes[node].interfaces:
            raise TopologyError(file, f"netem.{where}", "give an interface as NODE:VLAN of a node of the lab")
        try:
            faultspec.check_netem(spec)
        except faultspec.ChaosError as exc:
            raise TopologyError(file, f"netem.{where}", str(exc)) from None


def check_config(topo: Topology, file) -> None:
    """tmsh lines need a bigip to run on and must parse."""
    if topo.config and not topo.bigips():
        raise TopologyError(file, "config", "tmsh lines need a bigip node to run on")
    lines = [(f"config.{i}", line) for i, line in enumerate(topo.config)]
    lines += [(f"nodes.{n}.config.{i}", line) for n, node in topo.nodes.items() for i, line in enumerate(node.config)]
    for where, line in lines:
        try:
            parse_tmsh(line)
        except TmshSyntaxError as exc:
            raise TopologyError(file, where, f"{line!r}: {exc}") from None


def check_routes(topo: Topology, file, nname: str, node: Node) -> None:
    """A route stays inside the lab: its gateway is on one of the node's own VLANs (never the
    management VLAN, which the host is on) and it never covers the management subnet."""
    if node.config and node.kind != "bigip":
        raise TopologyError(file, f"nodes.{nname}.config", "tmsh lines run on bigip nodes only")
    mgmt = topo.vlans[topo.mgmt_vlan].subnet
    for i, r in enumerate(node.routes):
        where = f"nodes.{nname}.routes.{i}"
        if r.to.prefixlen == 0 or r.to.overlaps(mgmt):
            raise TopologyError(file, where, f"{r.to} is not allowed: a route may not be a default route "
                                f"or reach the management subnet {mgmt}")
        on = [v for v in node.interfaces if r.via in topo.vlans[v].subnet and v != topo.mgmt_vlan]
        if not on:
            raise TopologyError(file, where, f"gateway {r.via} is on none of {nname}'s lab VLANs")


def check_ha(topo: Topology, file, used: dict) -> None:
    ha, bigips = topo.ha, topo.bigips()
    if ha.heartbeat_ms * 2 > ha.timeout_ms:
        raise TopologyError(file, "ha.timeout_ms", f"{ha.timeout_ms} ms must be at least two heartbeats "
                            f"({2 * ha.heartbeat_ms} ms)")
    for key, vlans in (("configsync_vlan", [ha.configsync_vlan] if ha.configsync_vlan else []),
                       ("failover_vlans", list(ha.failover_vlans))):
        for v in vlans:
            if v not in topo.vlans:
                raise TopologyError(file, f"ha.{key}", f"no VLAN named {v!r}")
            missing = [b for b in bigips if v not in topo.nodes[b].interfaces]
            if missing:
                raise TopologyError(file, f"ha.{key}", f"{', '.join(missing)} has no address on VLAN {v}")
    dg = ha.device_group
    if dg is None and ha.traffic_groups:
        raise TopologyError(file, "ha.traffic_groups", "traffic groups need the lab's device_group")
    if dg and dg.network_failover and dg.type == "sync-failover" and not ha.failover_vlans:
        raise TopologyError(file, "ha.failover_vlans", "network failover needs at least one failover VLAN")
    for tname, tg in ha.traffic_groups.items():
        where = f"ha.traffic_groups.{tname}"
        if not re.match(r"^[a-z][a-z0-9_-]{0,62}$", tname) or tname == "traffic-group-local-only":
            raise TopologyError(file, where, "a traffic group name is lowercase letters, digits, '-' and '_'")
        for n in tg.ha_order:
            if n not in bigips:
                raise TopologyError(file, f"{where}.ha_order", f"{n!r} is not a bigip node")
        for vname, addr in tg.floating.items():
            if vname not in topo.vlans:
                raise TopologyError(file, f"{where}.floating.{vname}", f"no VLAN named {vname!r}")
            if not _is_host(addr, topo.vlans[vname].subnet):
                raise TopologyError(file, f"{where}.floating.{vname}",
                                    f"{addr} is not a host address of VLAN {vname} ({topo.vlans[vname].subnet})")
            if (vname, addr) in used:
                raise TopologyError(file, f"{where}.floating.{vname}", f"{addr} is already used by {used[(vname, addr)]}")
            used[(vname, addr)] = f"traffic group {tname}"
        for addr in tg.virtual_addresses:
            vlan = next((v for v, spec in topo.vlans.items() if addr in spec.subnet), None)
            if vlan is None:
                raise TopologyError(file, f"{where}.virtual_addresses", f"{addr} is on no VLAN of the lab")
            if (vlan, addr) in used:
                raise TopologyError(file, f"{where}.virtual_addresses", f"{addr} is already used by {used[(vlan, addr)]}")
            used[(vlan, addr)] = f"traffic group {tname}"


def _is_host(ip, net: ipaddress.IPv4Network) -> bool:
    return net.network_address < ip < net.broadcast_address
