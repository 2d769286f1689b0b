"""The node's NTP client (trio): polls the lab's server on UDP 123 and steps the node clock.

Without answers the clock runs free and drifts at its `drift_ppm`; the first answer after that
steps it back (`time reset`), so certificate checks and 4353 channels recover without a restart.
"""
from __future__ import annotations

import trio

from .ntp import STEP_THRESHOLD, SntpClient

PORT = 123


class NtpService:
    def __init__(self, server: str, clock, log, *, poll: float = 2.0, timeout: float = 1.0,
                 port: int = PORT):
        self.client = SntpClient(server, poll)
        self.clock, self.log, self.timeout, self.port = clock, log, timeout, port
        self._synced = False

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        sock = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_DGRAM)
        with sock:
            await sock.bind(("0.0.0.0", 0))
            task_status.started()
            while True:
                await self._poll(sock)
                await trio.sleep_until(self.client.next_poll)

    async def _poll(self, sock) -> None:
        data = self.client.request(self.clock.time(), trio.current_time())
        try:
            await sock.sendto(data, (self.client.server, self.port))
        except OSError as exc:  # unreachable, blocked by a firewall: the poll goes unanswered
            self.client.error = f"cannot send to {self.client.server}:{self.port}: {exc.strerror or exc}"
        else:
            with trio.move_on_after(self.timeout):
                while True:
                    try:
                        reply, addr = await sock.recvfrom(512)
                    except OSError:
                        continue  # ICMP port unreachable from a stopped server
                    if addr[0] != self.client.server:
                        continue
                    sample = self.client.receive(reply, self.clock.time(), trio.current_time())
                    if sample is not None:
                        self._apply(sample.offset)
                        break
        self._note_state()

    def _apply(self, offset: float) -> None:
        self.clock.step(offset)
        if abs(offset) > STEP_THRESHOLD:
            self.log.log("notice", "ntpd", f"time reset {offset:+.6f} s", event="ntp-step", offset=offset)

    def _note_state(self) -> None:
        synced = self.client.synchronized()
        if synced == self._synced:
            return
        self._synced = synced
        if synced:
            self.log.log("notice", "ntpd", f"synchronized to {self.client.server}, stratum "
                         f"{self.client.stratum}", event="ntp-sync", synchronized=True)
        else:
            self.log.log("warning", "ntpd", f"no reply from {self.client.server} for "
                         f"{self.client.keep} polls: clock unsynchronized, free-running at "
                         f"{self.clock.drift_ppm:g} ppm"
                         + (f" ({self.client.error})" if self.client.error else ""),
                         event="ntp-lost", synchronized=False)

    def status(self) -> dict:
        return {**self.client.status(trio.current_time()), "drift_ppm": self.clock.drift_ppm,
                "clock_offset": round(self.clock.current_offset(), 6)}
