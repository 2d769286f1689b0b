"""Failsafes, sans-IO: VLAN failsafe, gateway failsafe and system (daemon heartbeat) failsafe.

Fed with what the driver reads (each VLAN's received-packet counter, each gateway pool's members
up, which subsystems run) and the time; keeps the set of tripped triggers, each with its action,
and returns F5's log lines when one trips or recovers:

    01140029:5: HA vlan_fs /Common/internal fails action is failover.
    01140030:5: HA vlan_fs /Common/internal is now responding.

- VLAN failsafe (`net vlan V failsafe enabled failsafe-timeout N`): no packet received on V for N s.
- Gateway failsafe (`ltm pool P min-up-members-checking enabled min-up-members N`): fewer than N
  members of P available.
- System failsafe: a critical subsystem of the daemon stopped (`daemon_heartbeat NAME`).

Actions as F5 lists them: restart (the subsystem) and restart-all (all system services: every
subsystem) keep the device in service, so they are no failover; the others take it out.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .failover import Log

IN_SERVICE = ("restart", "restart-all", "none")   # actions that do not take the device out of service


@dataclass
class Failsafes:
    tripped: dict[str, str] = field(default_factory=dict)            # trigger -> action
    heard: dict[str, tuple[int, float]] = field(default_factory=dict)  # vlan -> (rx counter, when it last moved)

    def update(self, now: float, vlans: dict[str, tuple[float, str]], rx: dict[str, int | None],
               gateways: dict[str, tuple[int, int, str]], dead: dict[str, str]) -> list[Log]:
        """`vlans`: VLAN path -> (failsafe-timeout, action) for VLANs with failsafe enabled;
        `rx`: VLAN path -> its interface's received packets (None: no such interface);
        `gateways`: pool path -> (min-up-members, members up, action) for pools that check;
        `dead`: subsystem -> action for the critical subsystems that stopped."""
        want: dict[str, str] = {}
        for vlan, (timeout, action) in vlans.items():
            count = rx.get(vlan)
            last = self.heard.get(vlan)
            if last is None or count != last[0]:
                self.heard[vlan] = (count, now)
            elif now - last[1] >= timeout:
                want[f"vlan_fs {vlan}"] = action
        for vlan in list(self.heard):
            if vlan not in vlans:
                del self.heard[vlan]
        for pool, (minimum, up, action) in gateways.items():
            if up < minimum:
                want[f"pool_memb_down {pool}"] = action
        for name, action in dead.items():
            want[f"daemon_heartbeat {name}"] = action
        logs = [Log("notice", "01140029", f"HA {t} fails action is {a}.") for t, a in sorted(want.items())
                if self.tripped.get(t) != a]
        logs += [Log("notice", "01140030", f"HA {t} is now responding.") for t in sorted(self.tripped)
                 if t not in want]
        self.tripped = want
        return logs

    def failing_over(self) -> list[str]:
        """The tripped triggers whose action takes the device out of service (go standby): all
        but a restart (of the subsystem, or of all services), or none."""
        return sorted(t for t, a in self.tripped.items() if a not in IN_SERVICE)

    def restarting_all(self) -> list[str]:
        """The tripped triggers whose action restarts all system services."""
        return sorted(t for t, a in self.tripped.items() if a == "restart-all")

    def next_deadline(self, vlans: dict[str, tuple[float, str]]) -> float | None:
        due = [self.heard[v][1] + t for v, (t, _a) in vlans.items() if v in self.heard]
        return min(due, default=None)


def ha_status_rows(daemons: dict[str, tuple[bool, str]], vlans: dict[str, str], gateways: dict[str, str],
                   tripped: dict[str, str], time_sync: dict[str, bool | None]) -> list[tuple[str, ...]]:
    """`show sys ha-status`: one row a failsafe the device has, (feature, key, action, condition,
    enabled, active), feature and key spelled as the 01140029 lines spell the trigger.
    `daemons`: name -> (heartbeat watched, heartbeat-action) from `sys daemon-ha`; `vlans`: VLAN
    path -> failsafe-action for VLANs with failsafe enabled; `gateways`: pool path ->
    min-up-members-action for pools that check; `tripped`: trigger -> action (Failsafes.tripped);
    `time_sync`: device group -> whether this device's clock is synchronized (None: no time source)."""
    yes = lambda b: "yes" if b else "no"

    def row(feature: str, key: str, action: str, enabled: bool) -> tuple[str, ...]:
        active = f"{feature} {key}" in tripped
        return feature, key, action, "fail" if active else "none", yes(enabled), yes(active)

    rows = [("cluster_time_sync", g, "none", "none" if ok is not False else "fail", yes(ok is not None),
             yes(ok is False)) for g, ok in sorted(time_sync.items())]
    rows += [row("daemon_heartbeat", n, action, watched) for n, (watched, action) in sorted(daemons.items())]
    rows += [row("pool_memb_down", p, action, True) for p, action in sorted(gateways.items())]
    rows += [row("vlan_fs", v, action, True) for v, action in sorted(vlans.items())]
    return rows
