"""The daemon's critical subsystems, for the system failsafe: each can crash (a chaos verb stops
it) and be restarted. The failover driver reads which are down and the action their
`sys daemon-ha NAME heartbeat-action` says; an action with restart in it brings the subsystem
back after RESTART_DELAY, as a BIG-IP's watchdog restarts a daemon that stopped beating.

    tmm    the LTM data plane: no virtual server is served (proxy listeners and fastL4 rules)
    bigd   the LTM monitors: none runs, so members are not known to be up
    gtmd   the DNS listeners (BIG-IP DNS devices only)
"""
from __future__ import annotations

import trio

from .errors import CommandError

RESTART_DELAY = 1.0
WHAT = {"tmm": "the LTM data plane", "bigd": "the LTM monitors", "gtmd": "the DNS listeners"}


class Subsystems:
    def __init__(self, store, log, ltm, gtm=None):
        self.store, self.log, self.ltm, self.gtm = store, log, ltm, gtm
        self.dead: set[str] = set()
        self.restarting: set[str] = set()
        self._nursery: trio.Nursery | None = None

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            await trio.sleep_forever()

    def names(self) -> list[str]:
        return [n for n in WHAT if n != "gtmd" or self.gtm is not None]

    def action(self, name: str) -> str | None:
        """The heartbeat-action of sys daemon-ha NAME, or None with its heartbeat disabled."""
        ha = self.store.get("sys daemon-ha", f"/Common/{name}") or {}
        return ha.get("heartbeat-action", "restart") if ha.get("heartbeat", "enabled") == "enabled" else None

    def dead_actions(self) -> dict[str, str]:
        """subsystem -> action, for each one down whose heartbeat is watched (the failsafe reads it)."""
        return {n: self.action(n) for n in sorted(self.dead) if self.action(n) is not None}

    def crash(self, name: str) -> str:
        if name not in self.names():
            raise CommandError(f"no subsystem {name!r} on this device (subsystems: {', '.join(self.names())})")
        if name in self.dead or name in self.restarting:
            raise CommandError(f"{name} is already down")
        self._set(name, running=False)
        self.dead.add(name)
        self.log.log("emerg", name, f"{name} ({WHAT[name]}) exited unexpectedly", event="subsystem",
                     subsystem=name, state="down")
        action = self.action(name) or "none"
        if "restart" in action or action == "reboot":
            self._nursery.start_soon(self._restart_later, name)
        return f"{name} crashed; heartbeat-action {action}"

    def restart_all(self) -> None:
        """Failsafe action restart-all (all system services): every subsystem stops and comes back
        after RESTART_DELAY; the device stays in service (no failover)."""
        self.log.log("notice", "sod", "Restarting all system services (failsafe action restart-all)",
                     event="subsystem", state="restart-all")
        for name in self.names():
            if name not in self.dead and name not in self.restarting:
                self._set(name, running=False)
                self.restarting.add(name)     # stopped on purpose: no failsafe trips for it
                self._nursery.start_soon(self._back_later, name)
            elif name in self.dead:
                self._nursery.start_soon(self._restart_later, name)

    async def _back_later(self, name: str) -> None:
        await trio.sleep(RESTART_DELAY)
        if name in self.restarting:
            self.restarting.discard(name)
            self._set(name, running=True)
            self.log.log("emerg", "logger", f"Re-starting {name}", event="subsystem", subsystem=name, state="up")

    def restart(self, name: str) -> str:
        if name not in self.dead:
            raise CommandError(f"{name} is not down")
        self._set(name, running=True)
        self.dead.discard(name)
        self.log.log("emerg", "logger", f"Re-starting {name}", event="subsystem", subsystem=name, state="up")
        return f"{name} restarted"

    async def _restart_later(self, name: str) -> None:
        await trio.sleep(RESTART_DELAY)
        if name in self.dead:
            self.restart(name)

    def _set(self, name: str, running: bool) -> None:
        if name == "gtmd":
            (self.gtm.start_listeners if running else self.gtm.stop_listeners)()
        else:
            (self.ltm.start if running else self.ltm.stop)(name)
