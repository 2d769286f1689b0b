"""Whole-configuration checks of a virtual server's profiles (which data path can take them) and
of the SSL profiles' certificates and keys."""
from __future__ import annotations

import ipaddress

from ..errors import IncompatibleProfiles, Invalid, NotFound, SslKeyMismatch, SslPairMissing
from . import profiles, ssl_files
from .sealed import unseal
from .schema import LOCAL_ONLY, PERSIST_BUILTINS, folder_of, full_path, mask_prefix, split_destination

NOT_WITH_FASTL4 = ("http", "fasthttp", "client-ssl", "server-ssl", "one-connect")
TRANSPORT = ("tcp", "udp", "fastl4")
BYPASS_LISTS = ("hostname-whitelist", "hostname-blacklist", "source-ip-whitelist", "source-ip-blacklist",
                "dest-ip-whitelist", "dest-ip-blacklist")   # an SSL forward proxy's, data groups   # one of these a virtual; tcp is the default


def without_default_transport(work: dict, profiles_: list, given) -> list:
    """A virtual created with a transport profile of its own (fastL4, udp) does not get the
    default tcp, as on a BIG-IP; `given`: the profiles the create named."""
    names = [given] if isinstance(given, str) else list(given or ())
    kinds = {profiles.kind_of(lambda t, p: work.get((t, p)), n) for n in names}
    if "tcp" in kinds or not kinds & set(TRANSPORT):
        return profiles_
    return [p for p in profiles_ if p != "tcp"]


def check(work: dict, touched: dict) -> None:
    def lookup(type_: str, path: str):
        return work.get((type_, path))

    for (tname, path), verb in touched.items():
        if tname in ("ltm profile client-ssl", "ltm profile server-ssl") and verb != "del":
            _ssl_profile(work, tname, path, work[(tname, path)])
        if tname != "ltm virtual" or verb == "del":
            continue
        _forwarding(path, work[(tname, path)])
        _persistence(work, path, work[(tname, path)])
        _mirror(work, path, work[(tname, path)])
        _clone_pools(work, work[(tname, path)])
        names = work[(tname, path)].get("profiles") or ()
        kinds = {name: profiles.kind_of(lookup, name) for name in names}
        missing = next((n for n, k in kinds.items() if k is None), None)
        if missing is not None:     # F5 names it as the virtual lists it, in full
            raise NotFound("profile", full_path(missing.split()[0]) if missing.strip() else missing)
        _stateless(path, work[(tname, path)], set(kinds.values()))
        _helped(path, work[(tname, path)], kinds)
        _mqtt(path, kinds)
        _forward_proxy(work, path, kinds)
        fastl4 = [n for n, k in kinds.items() if k == "fastl4"]
        if not fastl4:
            continue
        if any(k in TRANSPORT and k != "fastl4" for k in kinds.values()):
            raise IncompatibleProfiles(path)
        for name, kind in kinds.items():
            if kind in NOT_WITH_FASTL4:   # the kernel forwards packets: nothing parses or terminates
                raise Invalid(f"Virtual server {path} has a FastL4 profile ({full_path(fastl4[0].split()[0])}) "
                              f"and a {kind} profile ({full_path(name.split()[0])}): a FastL4 virtual server "
                              "takes no other protocol or application profile")


def vlan_switch(virtual: dict, given: dict) -> None:
    """vlans-enabled and vlans-disabled exclude each other: the one just set clears the other, as
    on a BIG-IP; `given`: the op's values."""
    for on, off in (("vlans-enabled", "vlans-disabled"), ("vlans-disabled", "vlans-enabled")):
        if given.get(on, (None, None))[1] in (True, "true", "enabled"):
            virtual.pop(off, None)
            return


def _forwarding(path: str, virtual: dict) -> None:
    """An ip-forward virtual takes no pool and translates nothing (F5 turns translate-address and
    -port off); a mask makes the destination a network, whose address the mask must cover; the lab
    serves protocol any on ip-forward virtuals only, and forwards IPv4 (the kernel table is `ip`)."""
    addr = split_destination(virtual["destination"])[0].split("%")[0]
    if virtual.get("ip-protocol") == "any" and not virtual.get("ip-forward"):
        raise Invalid(f"Virtual server {path}: ip-protocol any is served on ip-forward virtual servers only")
    if ":" in addr:   # an IPv6 mask is stored as given
        if virtual.get("ip-forward"):
            raise Invalid(f"Virtual server {path}: the lab forwards IPv4 only (ip-forward destination {addr})")
        return
    try:
        prefix = mask_prefix(virtual.get("mask"))
    except ValueError:
        raise Invalid(f'Virtual server {path}: "{virtual.get("mask")}" is not a valid netmask') from None
    if ipaddress.ip_network(f"{addr}/{prefix}", strict=False).network_address != ipaddress.ip_address(addr):
        raise Invalid(f"Virtual server {path} destination {addr} with mask {virtual.get('mask')}: "
                      "the address has bits outside the mask")
    if not virtual.get("ip-forward"):
        return
    if virtual.get("pool") not in (None, "none"):
        raise Invalid(f"Virtual server {path} is an ip-forward virtual server: it forwards to no pool "
                      f"({virtual['pool']})")
    virtual["translate-address"] = virtual["translate-port"] = "disabled"


def _persistence(work: dict, path: str, virtual: dict) -> None:
    """A virtual's persistence profiles exist, and persistence needs a pool to pick members of."""
    for item in virtual.get("persist") or ():
        if not any((f"ltm persistence {k}", item["name"]) in work for k in PERSIST_BUILTINS):
            raise NotFound("Persistence Profile", item["name"])
        if virtual.get("pool") in (None, "none"):
            raise Invalid(f"Virtual server {path} has a persistence profile ({item['name']}) but no default pool: "
                          "persistence needs a pool")


def _ssl_profile(work: dict, tname: str, path: str, profile: dict) -> None:
    """Each certificate with its key, both installed and a pair (a server-ssl profile may have none);
    a client-ssl SSL forward proxy has its CA's certificate and key too."""
    every = ssl_files.pairs(profile)
    if tname == "ltm profile client-ssl" and profile.get("ssl-forward-proxy") == "enabled":
        ca = ssl_files.proxy_ca(profile)
        if ca is None or "none" in ca:
            raise Invalid(f"Client SSL profile {path}: SSL forward proxy is enabled but the profile has no CA "
                          "certificate and key to sign forged certificates with (cert-key-chain usage CA)")
        every.append(ca)
        for prop in BYPASS_LISTS:
            group = profile.get(prop) or "none"
            if group != "none" and ("ltm data-group internal", full_path(group)) not in work:
                raise NotFound("Data Group", full_path(group))
    for cert, key in every:
        if cert == "none" and key == "none" and tname == "ltm profile server-ssl":
            continue
        if cert == "none" or key == "none":
            raise SslPairMissing()
        for type_, name in ((ssl_files.CERT, cert), (ssl_files.KEY, key)):
            if (type_, name) not in work:
                raise NotFound("Certificate File" if type_ == ssl_files.CERT else "Certificate Key File", name)
        c, k = work[(ssl_files.CERT, cert)].get("pem"), work[(ssl_files.KEY, key)].get("pem")
        if c and k and not ssl_files.matches(c, k, unseal(work[(ssl_files.KEY, key)].get("passphrase"))):
            raise SslKeyMismatch(key, path)


def _forward_proxy(work: dict, path: str, kinds: dict) -> None:
    """An SSL forward proxy on the client side needs a server-ssl profile: the proxy is the
    server's TLS client, and it forges what that handshake shows it."""
    name = next((n for n, k in kinds.items() if k == "client-ssl"), None)
    profile = work.get(("ltm profile client-ssl", full_path(name.split()[0]))) or {} if name else {}
    if profile.get("ssl-forward-proxy") == "enabled" and "server-ssl" not in kinds.values():
        raise Invalid(f"Virtual server {path}: its client-ssl profile has SSL forward proxy enabled, so it needs "
                      "a server-ssl profile (the proxy forges the certificate the server shows it)")


def _mirror(work: dict, path: str, virtual: dict) -> None:
    """Connection mirroring needs a peer: the virtual's traffic group floats in a sync-failover
    device group with another device."""
    if virtual.get("mirror") != "enabled":
        return
    addr, _ = split_destination(virtual["destination"])
    va = work.get(("ltm virtual-address", f"{folder_of(virtual['destination'])}/{addr}")) or {}
    tg = va.get("traffic-group", "/Common/traffic-group-1")
    peers = any(g.get("type") == "sync-failover" and len(g.get("devices") or ()) > 1
                for (t, _), g in work.items() if t == "cm device-group")
    if tg == LOCAL_ONLY or not peers:
        raise Invalid(f"Virtual server {path} has connection mirroring enabled, but its traffic group ({tg}) "
                      "has no peer device to mirror to")


def _clone_pools(work: dict, virtual: dict) -> None:
    """Each clone pool exists."""
    for item in virtual.get("clone-pools") or ():
        if ("ltm pool", item["name"]) not in work:
            raise NotFound("pool", item["name"])


STATELESS_NOT = (("rules", "iRules"), ("persist", "persistence"), ("mirror", "connection mirroring"))


HELPED = {"pptp": "PPTP", "ftp": "FTP"}   # profiles.HELPED, as F5 names the protocol


def _helped(path: str, virtual: dict, kinds: dict) -> None:
    """A PPTP or FTP profile goes on a TCP virtual with a TCP profile; the lab's kernel forwards it
    (its conntrack helper), so nothing may terminate or parse the stream on the way, and one
    connection has one helper."""
    named = [(n, k) for n, k in kinds.items() if k in HELPED]
    if not named:
        return
    name, kind = named[0]
    head = f"Virtual server {path} has a {HELPED[kind]} profile ({full_path(name.split()[0])})"
    if len({k for _, k in named}) > 1:
        other, okind = next((n, k) for n, k in named if k != kind)
        raise Invalid(f"{head} and a {HELPED[okind]} profile ({full_path(other.split()[0])}): "
                      "a connection has one protocol helper")
    if virtual.get("ip-protocol", "tcp") != "tcp" or "tcp" not in kinds.values():
        raise Invalid(f"{head}: it must be ip-protocol tcp with a TCP profile")
    other = next((n for n, k in kinds.items() if k in NOT_WITH_FASTL4), None)
    if other is not None:
        raise Invalid(f"{head} and a {kinds[other]} profile ({full_path(other.split()[0])}): "
                      f"the lab forwards {HELPED[kind]} in the kernel, where nothing parses or terminates the stream")


def _mqtt(path: str, kinds: dict) -> None:
    """An MQTT profile needs a TCP profile (the full proxy reads the packets) and no HTTP one."""
    name = next((n for n, k in kinds.items() if k == "mqtt"), None)
    if name is None:
        return
    head = f"Virtual server {path} has an MQTT profile ({full_path(name.split()[0])})"
    if "tcp" not in kinds.values():
        raise Invalid(f"{head}: it requires a TCP profile")
    other = next((n for n, k in kinds.items() if k in ("http", "fasthttp", "http2", "pptp", "ftp", "sip")), None)
    if other is not None:
        raise Invalid(f"{head} and a {kinds[other]} profile ({full_path(other.split()[0])}): they cannot be combined")


def _stateless(path: str, virtual: dict, kinds: set) -> None:
    """F5's Stateless type: UDP with a UDP profile, a default pool, and none of what needs a
    connection (iRules, persistence, mirroring, SNAT automap); one type at a time (not ip-forward too)."""
    if not virtual.get("stateless"):
        return
    head = f"Virtual server {path} is a stateless virtual server"
    if virtual.get("ip-forward"):
        raise Invalid(f"{head}: it cannot be an ip-forward virtual server too")
    if virtual.get("ip-protocol") != "udp" or "udp" not in kinds:
        raise Invalid(f"{head}: it must be ip-protocol udp with a UDP profile")
    if virtual.get("pool") in (None, "none"):
        raise Invalid(f"{head}: it requires a default pool")
    for field, what in STATELESS_NOT:
        if virtual.get(field) not in (None, (), [], "disabled"):
            raise Invalid(f"{head}: it does not support {what}")
    if (virtual.get("source-address-translation") or {}).get("type") == "automap":
        raise Invalid(f"{head}: it does not support SNAT automap")
