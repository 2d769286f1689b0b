"""Scenario expectations: a registry of checks, each a function of (env, spec) returning (ok, what
was observed), registered once with the keys its spec needs. A new kind is one function here:

    @expectation("sync", "node", "status")
    def sync(env, spec):
        got = env.status(spec["node"]).sync.status
        return got == spec["status"], got
"""
from __future__ import annotations

import json
from pathlib import Path

EXPECTATIONS: dict = {}   # name -> check(env, spec)
REQUIRED: dict[str, tuple[str, ...]] = {}   # name -> the keys its spec must have


def expectation(name: str, *required: str):
    def add(check):
        EXPECTATIONS[name] = check
        REQUIRED[name] = required
        return check
    return add


@expectation("failover", "node", "state")
def failover(env, spec) -> tuple[bool, str]:
    st = env.status(spec["node"]).failover
    tg = spec.get("traffic_group")
    got = st.traffic_groups.get(tg, "none") if tg else st.state
    return got == spec["state"], got


@expectation("sync", "node", "status")
def sync(env, spec):
    got = env.status(spec["node"]).sync.status
    return got == spec["status"], got


@expectation("channel", "node", "peer", "state")
def channel(env, spec):
    link = env.status(spec["node"]).iquery.peers.get(spec["peer"])
    if link is None:
        return False, f"{spec['peer']} is not a trust member"
    ok = link.state == spec["state"]
    if "code" in spec:
        ok = ok and link.code == spec["code"]
    if "reason" in spec:
        ok = ok and spec["reason"] in link.reason
    return ok, f"{link.state} {link.code}: {link.reason}".strip()


@expectation("single_active")
def single_active(env, spec):
    tg = spec.get("traffic_group", "traffic-group-1")
    active = env.active_devices(tg)
    want = spec.get("count", 1)
    return len(active) == want, f"{tg} active on {', '.join(active) or 'no device'}"


@expectation("takeovers", "traffic_group", "seconds")
def takeovers(env, spec):
    """How often a traffic group went active on some device in the last `seconds`: at_least /
    at_most (a flapping pair fails over back and forth; a steady one not at all)."""
    got = env.takeovers(spec["traffic_group"], float(spec["seconds"]))
    ok = spec.get("at_least", 0) <= len(got) <= spec.get("at_most", len(got))
    return ok, f"{len(got)} takeovers in the last {spec['seconds']} s" + (f" ({', '.join(got)})" if got else "")


@expectation("split_brain", "node")
def split_brain(env, spec):
    warnings = env.status(spec["node"]).failover.split_brain
    want = spec.get("present", True)
    return bool(warnings) == want, "; ".join(warnings.values()) or "no split brain"


@expectation("heartbeat", "node", "peer")
def heartbeat(env, spec):
    peer = env.status(spec["node"]).failover.peers.get(spec["peer"])
    if peer is None:
        return False, f"{spec['peer']} is not a failover peer"
    down = sorted(a for a, s in peer.paths.items() if s == "down")
    ok = peer.alive == spec.get("alive", True)
    if "paths_down" in spec:
        ok = ok and len(down) == spec["paths_down"]
    return ok, f"{'alive' if peer.alive else 'lost'}, paths down: {', '.join(down) or 'none'}"


@expectation("ntp", "node", "synchronized")
def ntp(env, spec):
    ntp = env.status(spec["node"]).ntp
    if ntp is None:
        return False, "no NTP client on this node"
    return ntp.synchronized == spec["synchronized"], \
        f"{'synchronized' if ntp.synchronized else 'unsynchronized'}, clock {ntp.clock_offset:+.3f} s"


@expectation("mac", "node", "address", "is")
def mac(env, spec):
    node, sep, vlan = str(spec["is"]).partition(":")
    if node.startswith("@"):
        active = env.active_devices(node[1:] if node != "@active" else "traffic-group-1")
        if len(active) != 1:
            return False, f"no single active device ({', '.join(active) or 'none'})"
        node = active[0]
    want = env.mac_of(node, vlan)
    got = env.neighbour(spec["node"], spec["address"])
    return got == want, f"{spec['address']} at {got or 'no entry'} (want {node}:{vlan} {want})"


@expectation("listed", "node", "line", "text")
def listed(env, spec):
    """What a tmsh line prints on a node contains `text` (or, with `absent: true`, does not): a
    synced change seen on a peer before the next step relies on it."""
    got = env.tmsh(spec["node"], spec["line"])
    return (spec["text"] in got) != bool(spec.get("absent")), " ".join(got.split())[:200]


@expectation("dns", "node", "server", "name", "answer")
def dns(env, spec):
    want = spec["answer"]
    want = [] if want in (None, "none") else sorted(str(a) for a in (want if isinstance(want, list) else [want]))
    got = env.dns(spec["node"], spec["server"], spec["name"], spec.get("type", "A"))
    return sorted(got) == want, f"{spec['name']} {spec.get('type', 'A')} from {spec['server']}: {', '.join(got) or 'no answer'}"


def _json(path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


@expectation("stream", "status", "state")
def stream(env, spec):
    """A stream client's (lab.runtime.stream) state: open, closed or reset; with `servers` (their
    status files) and `lost`, the bytes the servers did not receive of what the client sent."""
    st = _json(spec["status"])
    state = st.get("state", "not started")
    ok = state.split(" ")[0] == spec["state"]
    seen = f"{state}, {st.get('sent', 0)} bytes sent"
    if "lost" in spec:
        got = next((s for path in spec.get("servers") or () for peer, s in _json(path).items()
                    if peer == st.get("local")), None)
        lost = st.get("sent", 0) - got["received"] if got else None
        ok = ok and lost == spec["lost"] and got["corrupt"] == 0
        seen += f", {lost if lost is not None else '?'} lost, longest stall {got['max_gap_s'] if got else '?'} s"
    return ok, seen
