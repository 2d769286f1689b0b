"""FastL4 virtual servers as nftables rules, sans-IO: what the kernel of the node's namespace is
told (the `nft -j` batch) and how its counters read back as statistics.

One table, `ip biglab_ltm`, holds every fastL4 virtual of this device:
- `prerouting` (nat, dstnat): a packet opening a connection to the virtual's address and port
  (for TCP, a SYN) is counted and sent by a `numgen inc` verdict map to one member's chain, which DNATs it to the
  member; conntrack keeps that binding for the rest of the connection, so only first packets
  walk these rules. Round robin is one map entry per member; ratio repeats a member's entry
  `ratio` times. Least connections has no kernel form (nftables cannot pick by a per-destination
  count at the moment a packet arrives), so a fastL4 virtual on such a pool falls back to round
  robin in the kernel (docs/design.md says so).
- `forward` (filter): bytes each way, per virtual and per member, counted by conntrack direction:
  the member's chain marks the connection (`ct mark`) as it DNATs, and two rules find each packet's
  counters by (direction, mark) in one map lookup each (one rule per virtual and member, each
  matching conntrack fields, cost every forwarded packet a walk of them all).
- `postrouting` (nat, srcnat): SNAT to the address source-address-translation chose.
- `input` (filter, input): the VLANs of the virtuals the full proxy serves (`proxied`: no members
  here, the proxy's listener takes the connection): arriving on a VLAN the virtual is not enabled
  on, a connection is reset (TCP) or refused (ICMP port unreachable), as a BIG-IP answers a packet no
  virtual takes. A proxy socket cannot tell the VLAN a connection came in on; the kernel can.
- `allow` (filter, forward, priority 20, after `forward` and `record`; policy drop): what this device forwards at all, as a
  BIG-IP forwards nothing no virtual server takes: the connections a fastL4 virtual sent to a member
  (their conntrack mark, one rule), and those of each ip-forward virtual (F5's "Forwarding (IP)": no
  pool, no translation; the connections to its destination network, port and protocol, from its
  source, are routed as they are). The kernel's ip_forward is on once there is a table; this chain
  decides.

Source-address persistence stays in the kernel too: a map per virtual (client address under the
profile's mask -> the member's mark, with the profile's timeout). A first packet looks its client
up (`meta mark set ip saddr map`) and, found, goes to that member's chain, which marks the packet
with the member and DNATs it; the `record` chain (forward hook, after the counters) writes each new
connection's mark into the map (`update @map`, which renews the timeout as F5's source_addr does).
nft 1.0.6 reads that one statement only as text (its JSON has no `map` statement), so `recording`
gives the maps and the `record` chain for an `nft -f` of its own, loaded BEFORE the batch, which
never touches that chain: no connection a batch's rules DNAT can pass before the rule that records
it is there (a batch that flushed the table, with the recording loaded after it, left a window in
which a client's first connection went unrecorded: its persistence record was never made, so never
mirrored). The recording depends on the virtuals only, not on their members (the packet carries
its member's mark), so a member going up or down leaves it as it is.

Counters are named objects, so rewriting the rules (member up or down, config change) keeps
their totals: a batch flushes the rules of the table's chains (but `record`), deletes chains,
counters and maps no longer wanted, and adds the rest, atomically.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

FAMILY, TABLE = "ip", "biglab_ltm"
PROTOCOLS = ("tcp", "udp")


@dataclass(frozen=True)
class L4Member:
    name: str          # /Common/10.1.20.21:80
    address: str
    port: int
    ratio: int = 1
    snat: tuple[str, ...] = ()   # the source addresses for connections to this member (a snatpool's: several)


@dataclass(frozen=True)
class Clone:
    """A clone pool's member a virtual copies its packets to: `dup to ADDRESS device DEVICE`;
    context clientside (the client's packets to the virtual) or serverside (those to its members)."""
    address: str
    device: str | None            # the VLAN's interface toward it (None: the kernel routes)
    context: str = "clientside"
    pool: str = ""                # the clone pool: each pool gets a copy, one member of it a flow


@dataclass(frozen=True)
class L4Virtual:
    path: str
    address: str
    port: int
    protocol: str                  # tcp / udp
    mode: str                      # round-robin / ratio-member
    members: tuple[L4Member, ...]  # available members only
    persist: tuple[str, int] | None = None   # source-addr persistence: (mask, timeout s; 0 indefinite)
    forward: bool = False          # ip-forward: routes what it takes, to no member
    prefix: int = 32               # ip-forward: the destination network's prefix length (mask any: 0)
    source: str = "0.0.0.0/0"      # ip-forward: the clients it takes
    snat: tuple[str, ...] | None = None   # ip-forward: () automap (the outgoing interface's address), a snatpool's addresses
    vlans: tuple[str, ...] = ()    # the interfaces of the virtual's VLANs: those it listens on (vlans_enabled) or not
    vlans_enabled: bool = False
    proxied: bool = False          # the full proxy serves it: the kernel only keeps it to its VLANs
    stateless: bool = False        # F5's Stateless (UDP): no conntrack, each packet to a member, rewritten both ways
    translate: tuple[bool, bool] = (True, True)   # stateless: rewrite the address, the port (translate-address, -port)
    clones: tuple[Clone, ...] = ()  # clone pools' members
    helper: str | None = None      # the kernel's conntrack helper its connections get (pptp, ftp: HELPERS)

    def off_vlans(self) -> list[dict] | None:
        """Matches a packet arriving on a VLAN the virtual does not take: None when it takes every
        VLAN (the default), [] (match all) when it is enabled on none."""
        if not self.vlans:
            return [] if self.vlans_enabled else None
        return [_iif("!=" if self.vlans_enabled else "==", self.vlans)]

    def on_vlans(self) -> list[dict]:
        """Matches a packet arriving on a VLAN the virtual takes ([]: all; not for one enabled on none)."""
        return [_iif("==" if self.vlans_enabled else "!=", self.vlans)] if self.vlans else []

    def persist_map(self) -> str | None:
        """The map's name (an nft identifier; a new name when the mask or timeout changes)."""
        if self.persist is None:
            return None
        return f"persist_{zlib.crc32(f'{self.path} {self.persist}'.encode()):08x}"

    def slots(self) -> list[int]:
        """Member index for each numgen value."""
        if self.mode == "ratio-member":
            return [i for i, m in enumerate(self.members) for _ in range(max(1, m.ratio))]
        return list(range(len(self.members)))


def _iif(op: str, vlans: tuple[str, ...]) -> dict:
    return {"match": {"op": op, "left": {"meta": {"key": "iifname"}}, "right": {"set": list(vlans)}}}


def mark_of(member: str) -> int:
    """A member's packet mark in the persistence maps: stable across rule rewrites, never 0."""
    return (zlib.crc32(member.encode()) & 0x7FFFFFFF) | 1


def counter(*parts: str) -> str:
    return " ".join(parts)


def conns_counter(vs: str) -> str:
    return counter(vs, "conns")


def member_counters(vs: str, member: str) -> tuple[str, str, str]:
    """(new connections, bytes in, bytes out) of one member behind one virtual."""
    return counter(vs, member, "conns"), counter(vs, member, "in"), counter(vs, member, "out")


def virtual_counters(vs: str) -> tuple[str, str, str]:
    return conns_counter(vs), counter(vs, "in"), counter(vs, "out")


def _obj(kind: str, name: str, **extra) -> dict:
    return {kind: {"family": FAMILY, "table": TABLE, "name": name, **extra}}


def _match(left: dict, right) -> dict:
    return {"match": {"op": "==", "left": left, "right": right}}


def _ct(key: str, direction: str | None = None) -> dict:
    return {"ct": {"key": key, **({"dir": direction} if direction else {})}}


def _rule(chain: str, *expr: dict) -> dict:
    return {"add": {"rule": {"family": FAMILY, "table": TABLE, "chain": chain, "expr": list(expr)}}}


def _flow(vs: L4Virtual, direction: str) -> list[dict]:
    """Packets of connections opened to the virtual, in one conntrack direction."""
    return [_match(_ct("protocol"), vs.protocol), _match(_ct("ip daddr", "original"), vs.address),
            _match(_ct("proto-dst", "original"), vs.port), _match(_ct("direction"), direction)]


def wanted(virtuals: list[L4Virtual]) -> tuple[list[str], list[str]]:
    """The chains and counters these virtuals need (besides the three base chains)."""
    chains, counters = [], []
    for vs in virtuals:
        if vs.proxied:
            continue   # the proxy counts its own
        counters += virtual_counters(vs.path)
        for m in vs.members:
            chains.append(counter(vs.path, m.name))
            counters += member_counters(vs.path, m.name)
    return chains, counters


BASE_CHAINS = {"prerouting": ("nat", "prerouting", -100, "accept"), "forward": ("filter", "forward", 0, "accept"),
               "allow": ("filter", "forward", 20, "drop"), "postrouting": ("nat", "postrouting", 100, "accept"),
               "input": ("filter", "input", 0, "accept"),
               # clone pools: copies of what arrives for a virtual (before anything rewrites it) and of
               # what leaves toward its members (after the DNAT)
               "clone_in": ("filter", "prerouting", -310, "accept"), "clone_out": ("filter", "postrouting", 110, "accept"),
               # stateless virtuals: untracked (raw, before conntrack), the member picked per packet and
               # written in; the member's answer written back to the virtual's address on its way out
               "stateless": ("filter", "prerouting", -300, "accept"),
               "stateless_out": ("filter", "postrouting", -300, "accept")}
# conntrack helpers (kernel-built: nf_conntrack_pptp with nf_nat_pptp): a PPTP virtual's control
# connections get `pptp` as their member chain DNATs them; the helper reads the calls they set up
# and expects each call's GRE, which then follows the connection's NAT (and its mark) to the member
# (nf_conntrack_ftp with nf_nat_ftp: an FTP virtual's; the helper reads PASV/EPSV answers and
# PORT/EPRT commands, rewrites their address and expects the data connection, which follows likewise)
HELPERS = {"pptp": "tcp", "ftp": "tcp"}
RECORD = "record"   # persistence recording (filter, forward, priority 10): `recording` loads it, a batch keeps it


def _prefix(key: str, network: str) -> list[dict]:
    """`ct original ip KEY` within NETWORK (address/len); nothing for the whole space."""
    addr, _, length = network.partition("/")
    if length == "0":
        return []
    return [_match(_ct(f"ip {key}", "original"), {"prefix": {"addr": addr, "len": int(length)}}
                   if length not in ("", "32") else addr)]


def _taken(vs: L4Virtual, protocol: str) -> list[dict]:
    """The connections an ip-forward virtual takes: to its network (and port, protocol), from its source."""
    out = _prefix("daddr", f"{vs.address}/{vs.prefix}") + _prefix("saddr", vs.source)
    if protocol != "any":
        out.append(_match(_ct("protocol"), protocol))
    if vs.port:
        out.append(_match(_ct("proto-dst", "original"), vs.port))
    return out


def _forwarder(vs: L4Virtual) -> list[dict]:
    """An ip-forward virtual's rules: counted in `forward`, let through in `allow`, SNAT if asked.
    Protocol any with a port is TCP's and UDP's port (one set of rules each)."""
    v_conns, v_in, v_out = virtual_counters(vs.path)
    cmds = []
    off, on = vs.off_vlans(), vs.on_vlans()
    if off == []:
        return []   # enabled on no VLAN: it takes nothing (the policy's drop)
    for protocol in PROTOCOLS if vs.protocol == "any" and vs.port else (vs.protocol,):
        taken = _taken(vs, protocol)
        original = [*taken, _match(_ct("direction"), "original")]
        cmds += [_rule("forward", *original, _match(_ct("state"), "new"), *on, {"counter": v_conns}),
                 _rule("forward", *original, *on, {"counter": v_in}),
                 _rule("forward", *taken, _match(_ct("direction"), "reply"), {"counter": v_out})]
        if off:   # arriving on a VLAN it does not take: not forwarded
            cmds.append(_rule("allow", *original, *off, {"drop": None}))
        cmds.append(_rule("allow", *taken, {"accept": None}))
        if vs.snat is not None:
            cmds.append(_rule("postrouting", *taken, _match(_ct("direction"), "original"),
                              {"snat": {"addr": _spread(vs.snat)}} if vs.snat else {"masquerade": None}))
    return cmds


def _guard(vs: L4Virtual) -> list[dict]:
    """A proxied virtual's VLANs: a connection arriving on another one is reset (TCP) or refused."""
    off = vs.off_vlans()
    if off is None:
        return []
    to_vs = [_match({"payload": {"protocol": "ip", "field": "daddr"}}, vs.address),
             _match({"payload": {"protocol": vs.protocol, "field": "dport"}}, vs.port), *off]
    return [_rule("input", *to_vs, {"reject": {"type": "tcp reset"} if vs.protocol == "tcp" else None})]


def batch(virtuals: list[L4Virtual], have_chains: set[str], have_counters: set[str],
          have_maps: frozenset[str] = frozenset(), seeds: dict[str, list[Seed]] | None = None) -> dict:
    """The `nft -j -f` batch that makes the table hold exactly these virtuals. `have_*`: the
    table's chains, counters and maps now (from `nft -j list table`), so stale ones are deleted;
    a persistence map that stays keeps its records. `seeds`: records to put in a virtual's map
    (by path), in the same batch, so no first packet meets the map without them."""
    chains, counters = wanted(virtuals)
    maps = {vs.persist_map(): vs for vs in virtuals if vs.persist is not None}
    cmds: list[dict] = [{"add": {"table": {"family": FAMILY, "name": TABLE}}}]
    cmds += [{"flush": _obj("chain", c)} for c in sorted(have_chains - {RECORD})]
    for name, (type_, hook, prio, policy) in BASE_CHAINS.items():
        cmds.append({"add": _obj("chain", name, type=type_, hook=hook, prio=prio, policy=policy)})
    cmds += [{"delete": _obj("chain", c)} for c in sorted(have_chains - set(chains) - set(BASE_CHAINS) - {RECORD})]
    cmds += [{"delete": _obj("counter", c)} for c in sorted(have_counters - set(counters))]
    cmds += [{"delete": _obj("map", m)} for m in sorted(have_maps - set(maps))]
    cmds += [{"add": _obj("counter", c)} for c in counters]
    for name, vs in maps.items():
        timeout = {"timeout": vs.persist[1]} if vs.persist[1] else {}
        cmds.append({"add": _obj("map", name, type="ipv4_addr", map="mark", flags=["timeout"], **timeout)})
        elems = [_elem(seed, vs.persist[1]) for seed in (seeds or {}).get(vs.path, ())]
        if elems:
            cmds.append({"add": {"element": {"family": FAMILY, "table": TABLE, "name": name, "elem": elems}}})
    cmds += [{"add": _obj("chain", c)} for c in chains]
    cmds += [{"add": {"ct helper": {"family": FAMILY, "table": TABLE, "name": h, "type": h, "protocol": p,
                                    "l3proto": FAMILY}}}   # kept once made (a batch's rules may name it)
             for h, p in HELPERS.items() if any(vs.helper == h for vs in virtuals)]
    cmds += _byte_counters(virtuals)
    if any(vs.members for vs in virtuals):   # a connection a member chain DNATed (and marked), both ways
        cmds.append(_rule("allow", {"match": {"op": "!=", "left": _ct("mark"), "right": 0}}, {"accept": None}))
    for vs in virtuals:
        cmds += _clones(vs)
        if vs.stateless:
            cmds += _stateless(vs)
            continue
        if vs.forward:
            cmds += _forwarder(vs)
            continue
        if vs.proxied:
            cmds += _guard(vs)
            continue
        v_conns = conns_counter(vs.path)
        if not vs.members or (vs.vlans_enabled and not vs.vlans):
            continue   # no member available (or no VLAN it listens on): no DNAT and no listener: reset
        to_vs = [_match({"payload": {"protocol": "ip", "field": "daddr"}}, vs.address),
                 _match({"payload": {"protocol": vs.protocol, "field": "dport"}}, vs.port)]
        to_vs += vs.on_vlans()   # arriving on its VLANs only (vlans-enabled), or on any other (vlans-disabled)
        if vs.protocol == "tcp":   # as FastL4 without loose initiation: a flow starts with a SYN; any
            # other first packet (a stream whose connection this device never saw) reaches no listener: reset
            to_vs.append({"match": {"op": "in", "left": {"payload": {"protocol": "tcp", "field": "flags"}}, "right": "syn"}})
        if vs.persist is not None:   # a client with a record goes to its member's chain
            cmds.append(_rule("prerouting", *to_vs, {"mangle": {"key": {"meta": {"key": "mark"}}, "value": {"map": {
                "key": _masked(vs.persist[0]), "data": f"@{vs.persist_map()}"}}}}))
            cmds.append(_rule("prerouting", *to_vs, {"match": {"op": "!=", "left": {"meta": {"key": "mark"}}, "right": 0}},
                              {"counter": v_conns}, {"vmap": {"key": {"meta": {"key": "mark"}}, "data": {
                "set": [[mark_of(m.name), {"goto": {"target": counter(vs.path, m.name)}}] for m in vs.members]}}}))
        slots = vs.slots()
        verdicts = [[n, {"goto": {"target": counter(vs.path, vs.members[i].name)}}] for n, i in enumerate(slots)]
        cmds.append(_rule("prerouting", *to_vs, {"counter": v_conns},
                          {"vmap": {"key": {"numgen": {"mode": "inc", "mod": len(slots), "offset": 0}},
                                    "data": {"set": verdicts}}}))
        for m in vs.members:
            m_conns = member_counters(vs.path, m.name)[0]
            marked = [{"mangle": {"key": {"meta": {"key": "mark"}}, "value": mark_of(m.name)}}] if vs.persist else []
            cmds.append(_rule(counter(vs.path, m.name), _match({"meta": {"key": "l4proto"}}, vs.protocol),
                              {"mangle": {"key": _ct("mark"), "value": flow_mark(vs.path, m.name)}},
                              {"counter": m_conns}, *marked, *([{"ct helper": vs.helper}] if vs.helper else []),
                              {"dnat": {"addr": m.address, "port": m.port}}))
            if m.snat:
                cmds.append(_rule("postrouting", *_flow(vs, "original"),
                                  _match({"payload": {"protocol": "ip", "field": "daddr"}}, m.address),
                                  {"snat": {"addr": _spread(m.snat)}}))
    return {"nftables": cmds}


def _payload(protocol: str, field: str) -> dict:
    return {"payload": {"protocol": protocol, "field": field}}


def _dup(c: Clone) -> dict:
    return {"dup": {"addr": c.address, **({"dev": c.device} if c.device else {})}}


def _clones(vs: L4Virtual) -> list[dict]:
    """A clone pool's copies: each flow's packets (by the client's address and port, both ways
    the same member for a connection) to one member of each clone pool, by a hash of the flow.
    clientside: what arrives for the virtual (clone_in, before DNAT or the stateless rewrite);
    serverside: what leaves toward its members (clone_out): a kernel virtual's connections by
    conntrack, a proxied or stateless one's by the members' addresses and ports."""
    cmds = []
    for (pool, context), members in _by_pool(vs.clones).items():
        if context == "clientside":
            chain = "clone_in"
            match = [_match(_payload("ip", "daddr"), vs.address), _match({"meta": {"key": "l4proto"}}, vs.protocol),
                     _match(_payload("th", "dport"), vs.port)]
            key = {"concat": [_payload("ip", "saddr"), _payload("th", "sport")]}
        else:
            chain = "clone_out"
            if vs.proxied or vs.stateless:
                match = [_match({"concat": [_payload("ip", "daddr"), _payload("th", "dport")]}, {"set": [
                    {"concat": [m.address, m.port if vs.translate[1] or vs.proxied else vs.port]} for m in vs.members]})
                ] if vs.members else None
                key = {"concat": [_payload("ip", "saddr"), _payload("th", "sport")]}
            else:
                match = [*_flow(vs, "original")]
                key = {"concat": [_ct("ip saddr", "original"), _ct("proto-src", "original")]}
            if match is None:
                continue
        for i, c in enumerate(members):
            pick = [] if len(members) == 1 else [
                _match({"jhash": {"expr": key, "mod": len(members), "seed": 0}}, i)]
            cmds.append(_rule(chain, *match, *pick, _dup(c)))
    return cmds


def _by_pool(clones: tuple[Clone, ...]) -> dict[tuple[str, str], list[Clone]]:
    out: dict[tuple[str, str], list[Clone]] = {}
    for c in clones:
        out.setdefault((c.pool, c.context), []).append(c)
    return out


def _stateless(vs: L4Virtual) -> list[dict]:
    """A stateless virtual: its packets untracked (no connection table), each sent by `numgen inc`
    to a member's chain, which writes the member's address (and port) in; the members' answers,
    untracked too, let through and written back to the virtual's address (and port) as they leave."""
    if not vs.members or (vs.vlans_enabled and not vs.vlans):
        return []
    udp = vs.protocol
    to_vs = [_match(_payload("ip", "daddr"), vs.address), _match({"meta": {"key": "l4proto"}}, udp),
             _match(_payload(udp, "dport"), vs.port), *vs.on_vlans()]
    slots = vs.slots()
    verdicts = [[n, {"goto": {"target": counter(vs.path, vs.members[i].name)}}] for n, i in enumerate(slots)]
    v_conns, v_in, v_out = virtual_counters(vs.path)
    cmds = [_rule("stateless", *to_vs, {"notrack": None}, {"counter": v_conns}, {"counter": v_in},
                  {"vmap": {"key": {"numgen": {"mode": "inc", "mod": len(slots), "offset": 0}}, "data": {"set": verdicts}}})]
    address, port = vs.translate
    for m in vs.members:
        m_conns, m_in, m_out = member_counters(vs.path, m.name)
        write = ([{"mangle": {"key": _payload("ip", "daddr"), "value": m.address}}] if address else []) + \
                ([{"mangle": {"key": _payload(udp, "dport"), "value": m.port}}] if port else [])
        cmds.append(_rule(counter(vs.path, m.name), {"counter": m_conns}, {"counter": m_in}, *write))
        src = m.address if address else vs.address
        sport = m.port if port else vs.port
        back = [_match(_payload("ip", "saddr"), src), _match({"meta": {"key": "l4proto"}}, udp),
                _match(_payload(udp, "sport"), sport)]
        cmds.append(_rule("stateless", *back, {"notrack": None}))
        untracked = _match(_ct("state"), "untracked")
        cmds.append(_rule("allow", untracked, _match(_payload("ip", "daddr"), m.address if address else vs.address),
                          _match({"meta": {"key": "l4proto"}}, udp), _match(_payload(udp, "dport"), m.port if port else vs.port),
                          {"accept": None}))
        cmds.append(_rule("allow", untracked, *back, {"counter": m_out}, {"counter": v_out}, {"accept": None}))
        if address or port:
            cmds.append(_rule("stateless_out", untracked, *back,
                              *([{"mangle": {"key": _payload("ip", "saddr"), "value": vs.address}}] if address else []),
                              *([{"mangle": {"key": _payload(udp, "sport"), "value": vs.port}}] if port else [])))
    return cmds


def translated_udp(virtuals: list[L4Virtual]) -> frozenset[tuple[str, int]]:
    """The UDP destinations (address, port; 0 any) whose new flows the kernel sends to a member.
    A datagram that came before its virtual left conntrack an entry without NAT, and each retry
    from the same port keeps it alive: those entries go when the virtual comes (kernel.py), as on a
    BIG-IP, which keeps no flow for a datagram no virtual took. A TCP client's refused SYN needs
    nothing: its next SYN opens a new entry that NAT sees."""
    return frozenset((vs.address, vs.port) for vs in virtuals
                     if vs.protocol == "udp" and vs.members and not (vs.proxied or vs.stateless or vs.forward))


def flow_mark(vs: str, member: str) -> int:
    """The conntrack mark of a connection sent to one member by one virtual (set with its DNAT, and
    mirrored with the connection): the forward chain's byte counters are found by it."""
    return mark_of(counter(vs, member))


def _byte_counters(virtuals: list[L4Virtual]) -> list[dict]:
    """Bytes each way, per virtual and per member: two rules in `forward`, each one map lookup by
    (conntrack direction, conntrack mark) per packet, whatever the number of virtuals."""
    by_virtual, by_member = [], []
    for vs in virtuals:
        if vs.proxied or vs.stateless:   # the proxy counts its own; a stateless one has no connection marks
            continue
        _, v_in, v_out = virtual_counters(vs.path)
        for m in vs.members:
            _, m_in, m_out = member_counters(vs.path, m.name)
            mark = flow_mark(vs.path, m.name)
            by_virtual += [[{"concat": ["original", mark]}, v_in], [{"concat": ["reply", mark]}, v_out]]
            by_member += [[{"concat": ["original", mark]}, m_in], [{"concat": ["reply", mark]}, m_out]]
    key = {"concat": [_ct("direction"), _ct("mark")]}
    return [_rule("forward", {"counter": {"map": {"key": key, "data": {"set": entries}}}})
            for entries in (by_virtual, by_member) if entries]


def _spread(addresses: tuple[str, ...]):
    """One address, or a snatpool's: a jhash of the client's address picks one, so a client always
    leaves from the same address (as the full proxy's snat.pick does, by another hash)."""
    if len(addresses) == 1:
        return addresses[0]
    return {"map": {"key": {"jhash": {"expr": {"payload": {"protocol": "ip", "field": "saddr"}},
                                      "mod": len(addresses), "seed": 0}},
                    "data": {"set": [[i, a] for i, a in enumerate(addresses)]}}}


@dataclass(frozen=True)
class Seed:
    """A persistence record for a map: the client key, the member's mark, seconds left (None: indefinite)."""
    key: str
    mark: int
    left: float | None


def _elem(seed: Seed, timeout: int) -> list:
    if not timeout or seed.left is None:
        return [seed.key, seed.mark]
    return [{"elem": {"val": seed.key, "timeout": timeout, "expires": max(1, min(timeout, round(seed.left)))}}, seed.mark]


def _masked(mask: str) -> dict:
    saddr = {"payload": {"protocol": "ip", "field": "saddr"}}
    return saddr if mask in ("none", "255.255.255.255") else {"&": [saddr, mask]}


def recording(virtuals: list[L4Virtual]) -> str:
    """`nft -f` text, one transaction: the persistence maps and the `record` chain's rules, which
    write each new connection's member (its mark) into its virtual's map."""
    lines = [f"add table {FAMILY} {TABLE}",
             f"add chain {FAMILY} {TABLE} {RECORD} {{ type filter hook forward priority 10; policy accept; }}"]
    rules = []
    for vs in virtuals:
        if vs.persist is None:
            continue
        mask, timeout = vs.persist
        life = f" timeout {timeout}s" if timeout else ""
        lines.append(f"add map {FAMILY} {TABLE} {vs.persist_map()} {{ type ipv4_addr : mark; flags timeout;{life}; }}"
                     if life else f"add map {FAMILY} {TABLE} {vs.persist_map()} {{ type ipv4_addr : mark; flags timeout; }}")
        key = "ip saddr" if mask in ("none", "255.255.255.255") else f"ip saddr & {mask}"
        rules.append(f"add rule {FAMILY} {TABLE} {RECORD} ct state new meta l4proto {vs.protocol} "
                     f"ct original ip daddr {vs.address} ct original proto-dst {vs.port} meta mark != 0 "
                     f"update @{vs.persist_map()} {{ {key}{life} : meta mark }}")
    return "\n".join([*lines, f"flush chain {FAMILY} {TABLE} {RECORD}", *rules]) + "\n"


def records(map_json: dict) -> list[tuple[str, float | None, int]]:
    """A persistence map's records from `nft -j list table`: (client key, seconds left or None, mark)."""
    out = []
    for elem in map_json.get("elem") or ():
        key, mark = elem
        val = key["elem"] if isinstance(key, dict) and "elem" in key else {"val": key}
        out.append((val["val"], val.get("expires"), int(mark)))
    return out


def teardown() -> dict:
    return {"nftables": [{"add": {"table": {"family": FAMILY, "name": TABLE}}},
                         {"delete": {"table": {"family": FAMILY, "name": TABLE}}}]}


def fresh() -> dict:
    """The start-up batch: the table a killed predecessor left removed and made again holding no
    virtual (its base chains, the allow chain: a standby forwards nothing until a virtual takes
    it), with the empty `record` chain that `recording` of virtuals without persistence makes:
    what `teardown`, `recording([])` and `batch([])` do in three transactions, in one."""
    record = [{"add": _obj("chain", RECORD, type="filter", hook="forward", prio=10, policy="accept")},
              {"flush": _obj("chain", RECORD)}]
    return {"nftables": teardown()["nftables"] + batch([], set(), set())["nftables"] + record}


def listing(table_json: dict) -> tuple[set[str], set[str], dict[str, tuple[int, int]], dict[str, dict]]:
    """From `nft -j list table`: chain names, counter names, each counter's (packets, bytes), and
    the maps by name."""
    chains, counters, values, maps = set(), set(), {}, {}
    for item in table_json.get("nftables", []):
        if "map" in item:
            maps[item["map"]["name"]] = item["map"]
        elif "chain" in item:
            chains.add(item["chain"]["name"])
        elif "counter" in item:
            c = item["counter"]
            counters.add(c["name"])
            values[c["name"]] = (int(c.get("packets", 0)), int(c.get("bytes", 0)))
    return chains, counters, values, maps
