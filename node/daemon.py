"""The node daemon: one emulated BIG-IP, one OS process, one trio nursery.

    python -m node.daemon /run/biglab/<lab>/<node>/node.json

Started by the lab inside the node's network namespace. Stops cleanly on SIGTERM/SIGINT.
"""
from __future__ import annotations

import os
import signal
import sys
import time

import trio

from .clock import PersistentClock
from .config import NodeConfig
from .control import CommandError, ControlServer
from .iquery.channel import IQuery
from .iquery.trust import TrustError, TrustStore
from .log import Log


class Daemon:
    def __init__(self, config: NodeConfig):
        self.config = config
        self.dir = config.state_dir
        self.log = Log(self.dir / "log.jsonl", config.name)
        self.clock = PersistentClock(self.dir / "clock.json")
        self.trust = TrustStore(self.dir, config.name, config.mgmt_address, self.clock)
        self.iquery = IQuery(config.name, self.trust, self.log, config.admin, port=config.iquery_port)
        self.control = ControlServer(self.dir / "ctl.sock", self.commands(), self.log)
        self.started = time.time()

    def commands(self) -> dict:
        return {"status": self.cmd_status, "add-device": self.cmd_add_device,
                "reset-trust": self.cmd_reset_trust, "clock": self.cmd_clock}

    async def cmd_status(self) -> dict:
        return {"name": self.config.name, "kind": self.config.kind, "pid": os.getpid(),
                "mgmt": self.config.mgmt_address, "modules": list(self.config.modules),
                "uptime": round(time.time() - self.started, 3),
                "clock": {"offset": self.clock.offset, "now": self.clock.now().isoformat()},
                "iquery": self.iquery.status()}

    async def cmd_add_device(self, address: str, username: str = "admin", password: str = "admin",
                             role: str = "peer") -> dict:
        try:
            return await self.iquery.add_device(address, username, password, role)
        except TrustError as exc:
            self.log.log("warning", "iquery", f"Add device {address} failed: {exc}", event="trust-failed")
            raise CommandError(str(exc)) from None

    async def cmd_reset_trust(self) -> dict:
        self.trust.reset()
        self.iquery._restart()
        self.log.log("notice", "iquery", "Device trust reset: this device is a trust domain of one",
                     event="trust-reset")
        return self.trust.summary()

    async def cmd_clock(self, offset: float | None = None) -> dict:
        if offset is not None:
            try:
                offset = float(offset)
            except (TypeError, ValueError):
                raise CommandError(f"clock offset must be a number of seconds, not {offset!r}") from None
            self.clock.set_offset(offset)
            self.log.log("notice", "clock", f"Clock offset set to {offset:+.3f} s", event="clock-offset")
        return {"offset": self.clock.offset, "now": self.clock.now().isoformat()}

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._signals, nursery.cancel_scope)
            await nursery.start(self.iquery.run)
            await nursery.start(self.control.run)
            self.log.log("notice", "daemon", f"Device {self.config.name} ready (pid {os.getpid()})",
                         event="ready")

    async def _signals(self, scope: trio.CancelScope) -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for signum in signals:
                self.log.log("notice", "daemon", f"Stopping on {signal.Signals(signum).name}", event="stop")
                scope.cancel()
                return


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m node.daemon NODE_JSON", file=sys.stderr)
        return 2
    daemon = Daemon(NodeConfig.load(argv[0]))
    try:
        trio.run(daemon.run)
    finally:
        daemon.log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
