"""Chaos faults as data, sans-IO: parsing the verbs' arguments and rendering what to apply.

Nothing here touches a namespace: the fault classes (lab/faults/) record faults in the lab's run directory and
apply what these functions return (nft rulesets, tc arguments, clock offsets).
"""
from __future__ import annotations

import re

TABLE = "biglab_chaos"   # the nftables table chaos keeps in each node's namespace (inet family)


class ChaosError(Exception):
    """A chaos command was refused; nothing was changed."""


# -- clock ------------------------------------------------------------------------------------
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_skew(text: str) -> float:
    """`+400d`, `-2h`, `+90s`, `-5m`, `reset` (0): seconds from true time."""
    if text == "reset":
        return 0.0
    m = re.fullmatch(r"([+-])(\d+(?:\.\d+)?)([smhd])", text)
    if not m:
        raise ChaosError(f"{text!r}: give the skew as +N or -N with a unit s, m, h or d "
                         "(+400d, -2h), or reset")
    value = float(m.group(2)) * _UNITS[m.group(3)]
    return value if m.group(1) == "+" else -value


# -- ports ------------------------------------------------------------------------------------
def parse_port(text: str) -> tuple[int, str]:
    """`4353` (tcp), `1026/udp`, `53/tcp`."""
    m = re.fullmatch(r"(\d{1,5})(?:/(tcp|udp))?", text)
    if not m or not 1 <= int(m.group(1)) <= 65535:
        raise ChaosError(f"{text!r}: give a port as N or N/udp or N/tcp (1-65535)")
    return int(m.group(1)), m.group(2) or "tcp"


def port_key(port: int, proto: str) -> str:
    return f"{port}/{proto}"


# -- netem ------------------------------------------------------------------------------------
_TIME = r"\d+(?:\.\d+)?(?:us|ms|s)"
_PCT = r"\d+(?:\.\d+)?%"
_RATE = r"\d+(?:\.\d+)?(?:bit|kbit|mbit|gbit)"
NETEM_OPTIONS = {"delay": _TIME, "jitter": _TIME, "loss": _PCT, "duplicate": _PCT,
                 "corrupt": _PCT, "reorder": _PCT, "rate": _RATE}


def check_netem(spec: dict) -> dict:
    """Validate a netem spec ({delay: 50ms, jitter: 10ms, loss: 5%, duplicate: 1%, rate: 1mbit})."""
    if not spec:
        raise ChaosError("netem needs at least one of: " + ", ".join(f"--{k}" for k in NETEM_OPTIONS))
    out = {}
    for key, value in spec.items():
        if key not in NETEM_OPTIONS:
            raise ChaosError(f"unknown netem option {key!r} (options: {', '.join(NETEM_OPTIONS)})")
        value = str(value).strip()
        if not re.fullmatch(NETEM_OPTIONS[key], value):
            raise ChaosError(f"netem {key} {value!r} is not valid (e.g. delay 50ms, loss 5%, rate 1mbit)")
        if value.endswith("%") and float(value[:-1]) > 100:
            raise ChaosError(f"netem {key} {value} is more than 100%")
        out[key] = value
    if "jitter" in out and "delay" not in out:
        raise ChaosError("netem jitter needs a delay")
    if "reorder" in out and "delay" not in out:
        raise ChaosError("netem reorder needs a delay")
    return out


def netem_args(spec: dict) -> list[str]:
    """tc's arguments after `netem` for a checked spec."""
    spec = check_netem(spec)
    args = []
    if "delay" in spec:
        args += ["delay", spec["delay"]] + ([spec["jitter"]] if "jitter" in spec else [])
    for key in ("loss", "duplicate", "corrupt", "reorder", "rate"):
        if key in spec:
            args += [key, spec[key]]
    return args


# -- partitions -------------------------------------------------------------------------------
def partition_groups(nodes: list[str], how: str, a: list[str] | None = None,
                     b: list[str] | None = None) -> list[tuple[list[str], list[str]]]:
    """Pairs of node groups that must not reach each other.

    explicit: `a` and `b`; halves: the nodes split in two; bridge (Jepsen): two halves and one node
    in the middle that still reaches both sides."""
    if how == "explicit":
        if not a or not b:
            raise ChaosError("partition needs two groups of nodes: partition A[,B...] C[,D...]")
        both = set(a) & set(b)
        if both:
            raise ChaosError(f"{', '.join(sorted(both))} cannot be on both sides of a partition")
        unknown = [n for n in a + b if n not in nodes]
        if unknown:
            raise ChaosError(f"no node {unknown[0]!r} in the lab (nodes: {', '.join(nodes)})")
        return [(list(a), list(b))]
    if len(nodes) < 2 or (how == "bridge" and len(nodes) < 3):
        raise ChaosError(f"a {how} partition needs at least {3 if how == 'bridge' else 2} nodes")
    if how == "halves":
        half = len(nodes) // 2
        return [(nodes[:half], nodes[half:])]
    if how == "bridge":
        mid = len(nodes) // 2
        return [(nodes[:mid], nodes[mid + 1:])]
    raise ChaosError(f"unknown partition pattern {how!r} (halves, bridge)")


def cut_peers(groups: list[tuple[list[str], list[str]]]) -> dict[str, set[str]]:
    """For each node, the nodes it must not hear from or send to."""
    cut: dict[str, set[str]] = {}
    for a, b in groups:
        for x in a:
            cut.setdefault(x, set()).update(b)
        for y in b:
            cut.setdefault(y, set()).update(a)
    return cut


# -- nftables ---------------------------------------------------------------------------------
FALLBACK = ("loss", "rate")   # what a kernel without sch_netem still gets: nftables loss, tbf rate


def fallback_args(spec: dict) -> list[str]:
    """Without sch_netem: tc's arguments for the rate part (tbf), [] if there is none; refuses
    options nothing else can emulate."""
    spec = check_netem(spec)
    other = [k for k in spec if k not in FALLBACK]
    if other:
        raise ChaosError(f"this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM is off), so "
                         f"{', '.join(other)} cannot be emulated here; loss (nftables) and rate (tbf) can")
    if "rate" not in spec:
        return []
    return ["tbf", "rate", spec["rate"], "burst", "32kbit", "latency", "400ms"]


def loss_rule(iface: str, pct: str) -> str:
    """Drop `pct` of what leaves `iface`, at random (netem's loss, in nftables)."""
    share = round(float(pct.rstrip("%")) * 100)
    if share >= 10000:
        return f'oifname "{iface}" drop'
    return f'oifname "{iface}" numgen random mod 10000 < {share} drop'


def ruleset(blocked: list[str], cut_addresses: list[str], losses: dict[str, str] | None = None) -> str:
    """The `nft -f` text that replaces a node's chaos table: blocked ports both ways, every packet
    from or to a partitioned-off address dropped, random loss per interface. Nothing to do removes
    the table."""
    lines = [f"table inet {TABLE}", f"delete table inet {TABLE}"]
    if not blocked and not cut_addresses and not losses:
        return "\n".join(lines) + "\n"
    rules_in, rules_out = [], [loss_rule(i, p) for i, p in sorted((losses or {}).items())]
    for key in blocked:
        port, proto = parse_port(key)
        rules_in.append(f"{proto} dport {port} drop")
        rules_out.append(f"{proto} dport {port} drop")
    if cut_addresses:
        addrs = ", ".join(sorted(cut_addresses))
        rules_in.append(f"ip saddr {{ {addrs} }} drop")
        rules_out.append(f"ip daddr {{ {addrs} }} drop")
    lines.append(f"table inet {TABLE} {{")
    for chain, rules in (("input", rules_in), ("output", rules_out)):
        lines.append(f"  chain {chain} {{")
        lines.append(f"    type filter hook {chain} priority 0; policy accept;")
        lines += [f"    {r}" for r in rules]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"
