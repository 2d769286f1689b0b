"""Network failover, sans-IO: who is active for each traffic group.

Fed with heartbeats (peer, path, payload, now), ticks and admin commands; returns actions:
BecomeActive / BecomeStandby (move the floating addresses), Announce (GARP again: the winner of a
healed split brain did not change state) and Log (with F5's message ids).

Rules (REFERENCE.md, network failover):
- A peer is alive while any heartbeat path has been heard within the timeout
  (Failover.NetTimeoutSec, 3 s). Losing one path is logged, never a failover.
- Nobody alive claims a traffic group: the preferred eligible device takes it. Preference is the
  traffic group's ha-order (failover-method ha-order), then load-aware: the lowest utilization,
  F5's sum of the ha-load-factor of the groups the device would then carry divided by its
  ha-capacity (0, unset: the sum alone), then device name. Every device computes the same answer;
  only the chosen one acts.
- Several claim it (a split brain heals, or auto-failback): the preferred claimant keeps it and
  re-announces; the others go standby.
- Forced offline devices, and a device asked to stand by for a group while another eligible
  device is alive, are not eligible. A device starts standby and decides nothing for one timeout.
- Auto-failback: the first device of ha-order takes its group back after auto-failback-time.
- A traffic group with an HA group (failover method ha-score) goes to the device with the highest
  HA score; the active device's score counts its active bonus, and it stands down as soon as an
  eligible peer's score is higher (hagroup.py computes the scores).
"""
from __future__ import annotations

import math

from dataclasses import dataclass, field

from ..errors import CMError, Invalid

ACTIVE, STANDBY = "active", "standby"


@dataclass(frozen=True)
class BecomeActive:
    tg: str
    reason: str


@dataclass(frozen=True)
class BecomeStandby:
    tg: str
    reason: str


@dataclass(frozen=True)
class Announce:
    tg: str
    reason: str


@dataclass(frozen=True)
class Log:
    level: str
    msgid: str
    text: str


@dataclass
class TrafficGroup:
    name: str
    ha_order: tuple[str, ...] = ()
    auto_failback: bool = False
    auto_failback_time: float = 60.0
    load_factor: int = 1
    method: str = "ha-order"       # failover-method: ha-order (then load-aware) or load-aware
    ha_group: str | None = None    # with an HA group the method is ha-score


@dataclass
class Path:
    address: str               # the peer's failover address (multicast: the group, GROUP:PORT)
    last: float | None = None
    lost: bool = True          # as logged: a path starts unheard
    local: str | None = None   # ours on the same network, where its heartbeats arrive (multicast: the interface)
    multicast: bool = False

    def describe(self, ours: bool = True) -> str:
        """As sod's log lines name a path: `unicast: -> 10.1.30.12` (our address, or with `ours`
        False the peer's), `multicast: eth0 -> 224.0.0.245`."""
        if self.multicast:
            return f"multicast: {self.local} -> {self.address.rsplit(':', 1)[0]}"
        return f"unicast: -> {(self.local if ours else None) or self.address}"


@dataclass
class Peer:
    name: str
    paths: dict[str, Path] = field(default_factory=dict)
    payload: dict = field(default_factory=dict)
    alive: bool = False
    alive_since: float | None = None
    lost_at: float | None = None


class Failover:
    def __init__(self, device: str, now: float, *, timeout: float = 3.0, forced_offline: bool = False,
                 capacity: int = 0):
        self.device = device
        self.capacity = capacity          # this device's ha-capacity (0: not set)
        self.timeout = timeout
        self.started = now
        self.peers: dict[str, Peer] = {}
        self.groups: dict[str, TrafficGroup] = {}
        self.state: dict[str, str] = {}
        self.declined: set[str] = set()
        # tg -> peers whose standby request for it we honoured by taking it: until their heartbeats
        # stop saying so, their `declined` is spent, not a reason to think them unable to take it back
        self.honoured: dict[str, set[str]] = {}
        self.forced_offline = forced_offline
        self.split_brain: dict[str, set[str]] = {}   # tg -> peers that claimed it with us
        self.scores: dict[str, int] = {}              # tg -> this device's HA group score, without bonus
        self.bonus: dict[str, int] = {}               # tg -> its HA group's active bonus
        self.failsafe: tuple[str, ...] = ()          # tripped failsafes: the device is out of service

    # -- configuration --------------------------------------------------------------------------
    def configure(self, groups: list[TrafficGroup], peers: dict[str, list[str]], now: float,
                  local: dict[str, str] | None = None, multicast: dict[str, tuple[str, str]] | None = None) -> list:
        """Set the traffic groups and each peer's heartbeat addresses (its unicast-address list);
        `local`: a peer address -> this device's address on its network (for the log lines);
        `multicast`: a peer -> (our interface, GROUP:PORT) of the multicast path both of us use."""
        self.groups = {g.name: g for g in groups}
        for tg in list(self.state):
            if tg not in self.groups:
                del self.state[tg]
        for tg in self.groups:
            self.state.setdefault(tg, STANDBY)
        for name in list(self.peers):
            if name not in peers:
                del self.peers[name]
        for name, addresses in peers.items():
            peer = self.peers.setdefault(name, Peer(name))
            peer.paths = {a: peer.paths.get(a, Path(a)) for a in addresses}
            for a, path in peer.paths.items():
                path.local = (local or {}).get(a)
            if name in (multicast or {}):
                iface, group = multicast[name]
                old = peer.paths.get(group)
                peer.paths[group] = old if old is not None and old.multicast else Path(group, multicast=True)
                peer.paths[group].local = iface
        return self._decide(now)

    # -- views ------------------------------------------------------------------------------------
    def device_state(self) -> str:
        if self.forced_offline:
            return "forced-offline"
        return ACTIVE if ACTIVE in self.state.values() else STANDBY

    def payload(self) -> dict:
        """What our heartbeats say."""
        return {"device": self.device, "state": self.device_state(), "tgs": dict(self.state),
                "declined": sorted(self.declined), "capacity": self.capacity,
                "scores": {tg: self.score(self.device, tg) for tg, g in self.groups.items() if g.ha_group},
                "failsafe": list(self.failsafe)}

    def next_deadline(self, now: float | None = None) -> float:
        """When tick() next has something to do. A heard path's timeout counts even when it is
        already due (tick() marks it lost, so nothing spins): dropping it would leave a dead peer
        alive for good. Given `now`, the start-up and auto-failback times count only while still
        ahead (inf if none), so a standalone device, or one whose peers are all lost, does not spin."""
        due = [path.last + self.timeout for peer in self.peers.values() for path in peer.paths.values()
               if path.last is not None and not path.lost]
        later = [self.started + self.timeout]
        for peer in self.peers.values():
            if peer.alive and peer.alive_since is not None:
                later += [peer.alive_since + g.auto_failback_time for g in self.groups.values() if g.auto_failback]
        if now is not None:
            later = [t for t in later if t > now]
        return min(due + later, default=math.inf)

    def group_rows(self) -> list[dict]:
        """`show cm traffic-group` as a BIG-IP prints it: a row per traffic group and device with its
        state, whether it is the group's next active, its load (ha-load-factors of the groups it is
        active for) and, on the next active, the load it would carry after a failover."""
        names = [self.device, *sorted(self.peers)]
        rows = []
        for tg in sorted(self.groups):
            nxt = self.next_active(tg)
            for n in names:
                if n == self.device:
                    st = self.device_state() if self.forced_offline else self.state[tg]
                elif self.peers[n].alive:
                    st = self.peers[n].payload.get("tgs", {}).get(tg, "unknown")
                else:
                    st = "offline"
                load = self._load(n, tg) + self.groups[tg].load_factor if n in self._names() else 0
                rows.append({"tg": tg, "device": n, "state": st, "next_active": n == nxt,
                             "load": load if st == ACTIVE else None, "next_active_load": load if n == nxt else None,
                             "ha_score": self.score(n, tg) if self.groups[tg].ha_group else None})
        return rows

    def _names(self) -> set[str]:
        return {self.device} | {p.name for p in self._alive()}

    # -- inputs ---------------------------------------------------------------------------------
    def heartbeat(self, peer_name: str, address: str, payload: dict, now: float) -> list:
        peer = self.peers.get(peer_name)
        if peer is None:
            return []
        path = peer.paths.get(address)
        if path is None:   # not one of the peer's failover addresses: a forged or misrouted heartbeat
            return []
        actions = []
        if path.lost:
            if path.last is None:
                actions.append(Log("info", "010c0085", f"First failover status message received from "
                                   f"device {peer_name} ({path.describe(ours=False)})"))
            else:
                actions.append(Log("warning", "010c0084", f"Failover status message received after "
                                   f"{now - path.last:.3f} second gap, from device {peer_name} "
                                   f"({path.describe(ours=False)})"))
            path.lost = False
        path.last = now
        peer.payload = payload
        if not peer.alive:
            peer.alive, peer.alive_since = True, now
            if peer.lost_at is not None:
                actions.append(Log("notice", "010c007f", f"Receiving status updates again from peer "
                                   f"device {peer_name}"))
                # while it was unheard it may have taken our groups (split brain) and moved the
                # addresses in the neighbours' ARP caches; it may already have stepped down by now
                actions += [Announce(tg, f"{peer_name} is back after a gap: it may have announced "
                                     f"{tg} meanwhile") for tg, st in self.state.items() if st == ACTIVE]
        for tg, st in payload.get("tgs", {}).items():
            if st == ACTIVE and tg in self.declined:
                self.declined.discard(tg)  # someone took it: our request is done
        for tg, names in self.honoured.items():
            if tg not in payload.get("declined", ()):
                names.discard(peer_name)
        decided = self._decide(now)
        announced = {a.tg for a in actions if isinstance(a, Announce)}
        return actions + [a for a in decided if not (isinstance(a, Announce) and a.tg in announced)]

    def tick(self, now: float) -> list:
        actions = []
        for peer in self.peers.values():
            for path in peer.paths.values():
                if not path.lost and path.last is not None and path.last + self.timeout <= now:  # as next_deadline
                    path.lost = True
                    actions.append(Log("warning", "010c0083", f"No failover status messages received for "
                                       f"{now - path.last:.3f} seconds, from device {peer.name} "
                                       f"({path.address}) ({path.describe()})."))
            if peer.alive and all(p.lost for p in peer.paths.values()):
                peer.alive, peer.alive_since, peer.lost_at = False, None, now
                actions.append(Log("notice", "010c007e", f"Not receiving status updates from peer device "
                                   f"{peer.name} (Disconnected)"))
                # a standby request was for the devices alive then: the one that took the group
                # may be this one, lost before its claim was heard; failover decides afresh
                self.declined.clear()
        return actions + self._decide(now)

    def set_scores(self, scores: dict[str, int], bonus: dict[str, int], now: float) -> list:
        """This device's HA group scores (without bonus) and active bonuses changed."""
        self.scores, self.bonus = dict(scores), dict(bonus)
        return self._decide(now)

    def set_failsafe(self, tripped: list[str], now: float) -> list:
        """The failsafes tripped now: while any is, the device gives up its traffic groups and
        takes none (its peers see it in the heartbeats); when none is, it is eligible again."""
        self.failsafe = tuple(sorted(tripped))
        actions = []
        if self.failsafe:
            actions = [BecomeStandby(tg, f"failsafe {', '.join(self.failsafe)}") for tg in list(self.state)
                       if self.state[tg] == ACTIVE and self._set(tg, STANDBY)]
        return actions + self._decide(now)

    # -- admin ----------------------------------------------------------------------------------
    def standby(self, tg: str | None, now: float) -> list:
        groups = [tg] if tg else [g for g, s in self.state.items() if s == ACTIVE]
        for g in groups:
            if g not in self.groups:
                raise Invalid(f"traffic group {g} was not found")
            others = [p for p in self._alive() if self._eligible(p.name, g, ignore_declined=True)]
            if self.state[g] == ACTIVE and not others:
                raise CMError(f"no other device is available to take {g}")
        self.declined.update(groups)
        return [BecomeStandby(g, "forced to standby by an administrator") for g in groups
                if self._set(g, STANDBY)] + self._decide(now)

    def offline(self, now: float) -> list:
        self.forced_offline = True
        return [BecomeStandby(g, "device forced offline") for g in list(self.state)
                if self._set(g, STANDBY)]

    def online(self, now: float) -> list:
        self.forced_offline = False
        return self._decide(now)

    # -- the rule -------------------------------------------------------------------------------
    def _alive(self) -> list[Peer]:
        return [p for p in self.peers.values() if p.alive]

    def _eligible(self, name: str, tg: str, ignore_declined: bool = False) -> bool:
        if name == self.device:
            return not self.forced_offline and not self.failsafe and (ignore_declined or tg not in self.declined)
        payload = self.peers[name].payload
        return payload.get("state") != "forced-offline" and not payload.get("failsafe") \
            and (ignore_declined or tg not in payload.get("declined", ()) or name in self.honoured.get(tg, ()))

    def _load(self, name: str, tg: str) -> int:
        tgs = self.state if name == self.device else self.peers[name].payload.get("tgs", {})
        return sum(self.groups[g].load_factor for g, s in tgs.items() if s == ACTIVE and g != tg and g in self.groups)

    def utilization(self, name: str, tg: str) -> float:
        """F5's load-aware score of a device were it to carry `tg` too: the ha-load-factors of its
        active traffic groups plus tg's, over its ha-capacity (not divided when that is 0)."""
        load = self._load(name, tg) + self.groups[tg].load_factor
        capacity = self.capacity if name == self.device else self.peers[name].payload.get("capacity", 0)
        return load / capacity if capacity else float(load)

    def score(self, name: str, tg: str) -> int:
        """A device's HA score for tg: its HA group's score, plus the active bonus while active."""
        if name != self.device:
            return self.peers[name].payload.get("scores", {}).get(tg, 0)
        return self.scores.get(tg, 0) + (self.bonus.get(tg, 0) if self.state.get(tg) == ACTIVE else 0)

    def preferred(self, tg: str, names: list[str]) -> str:
        g = self.groups[tg]
        if g.ha_group:
            return min(names, key=lambda n: (-self.score(n, tg), self.utilization(n, tg), n))
        order = g.ha_order if g.method == "ha-order" else ()
        return min(names, key=lambda n: (order.index(n) if n in order else len(order), self.utilization(n, tg), n))

    def next_active(self, tg: str) -> str | None:
        """The device that would take `tg` if its active device failed now (F5's Next Active)."""
        if tg not in self.groups:
            return None
        holders = {self.device} if self.state.get(tg) == ACTIVE else set()
        holders |= {p.name for p in self._alive() if p.payload.get("tgs", {}).get(tg) == ACTIVE}
        names = [self.device] if self._eligible(self.device, tg, ignore_declined=True) else []
        names += [p.name for p in self._alive() if self._eligible(p.name, tg, ignore_declined=True)]
        names = [n for n in names if n not in holders]
        return self.preferred(tg, names) if names else None

    def _set(self, tg: str, state: str) -> bool:
        changed = self.state.get(tg) != state
        self.state[tg] = state
        return changed

    def _decide(self, now: float) -> list:
        if self.forced_offline:
            return []
        actions = []
        settled = now >= self.started + self.timeout or all(p.alive for p in self.peers.values())
        alive = self._alive()
        for tg, g in self.groups.items():
            claimants = [p.name for p in alive if p.payload.get("tgs", {}).get(tg) == ACTIVE]
            if self.state[tg] == ACTIVE:
                if claimants:
                    winner = self.preferred(tg, claimants + [self.device])
                    if winner != self.device:
                        self._set(tg, STANDBY)
                        self.split_brain.pop(tg, None)
                        actions.append(BecomeStandby(tg, f"{winner} is also active for {tg} and preferred"))
                        continue
                    new = set(claimants) - self.split_brain.get(tg, set())
                    if new:
                        self.split_brain.setdefault(tg, set()).update(new)
                        actions.append(Log("warning", "", f"Split brain on {tg}: also active on "
                                           f"{', '.join(sorted(new))}; this device stays active"))
                        actions.append(Announce(tg, "split brain healed: this device kept the traffic group"))
                else:
                    self.split_brain.pop(tg, None)
                better = [p.name for p in alive if self._eligible(p.name, tg) and g.ha_group
                          and self.score(p.name, tg) > self.score(self.device, tg)]
                if better and settled:
                    best = self.preferred(tg, better)
                    mine = self.score(self.device, tg)
                    self._set(tg, STANDBY)
                    actions.append(BecomeStandby(tg, f"HA score {mine} is lower than {best}'s "
                                                 f"{self.score(best, tg)}"))
                continue
            if tg in self.declined and not any(self._eligible(p.name, tg) for p in alive):
                self.declined.discard(tg)  # nobody else can take it after all
            if not settled or not self._eligible(self.device, tg):
                continue
            if claimants:
                if (g.auto_failback and g.ha_order and g.ha_order[0] == self.device
                        and all(self._alive_for(p, now) >= g.auto_failback_time
                                for p in alive if p.name in claimants)):
                    self._set(tg, ACTIVE)
                    actions.append(BecomeActive(tg, "auto-failback to the first device of ha-order"))
                continue
            candidates = [self.device] + [p.name for p in alive if self._eligible(p.name, tg)]
            if self.preferred(tg, candidates) == self.device:
                self._set(tg, ACTIVE)
                self.honoured[tg] = {p.name for p in alive if tg in p.payload.get("declined", ())}
                why = "no other device is active for it" if alive else "no failover status from any peer"
                actions.append(BecomeActive(tg, why))
        return actions

    def _alive_for(self, peer: Peer, now: float) -> float:
        """How long we (and the preferred device) have heard this peer without a gap."""
        since = max(peer.alive_since or now, self.started)
        return now - since
