"""The device clock: wall time plus an adjustable offset.

Linux time namespaces do not virtualise CLOCK_REALTIME, so a node's notion of "now" is the host's
time plus an offset that the lab can set (chaos: clock skew). Every certificate check on the node
uses this clock, never `time.time()` directly. Timers (trio) stay on the monotonic clock.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from .files import write_atomically  # noqa: F401  (re-exported: node modules import it from here)


class NodeClock:
    """`offset` is where the clock stood against the host's at `epoch` (host time); from there it
    drifts `drift_ppm` microseconds a second, like a free-running crystal. NTP steps it back."""

    def __init__(self, offset: float = 0.0, *, wall=time.time, drift_ppm: float = 0.0):
        self._wall = wall
        self.offset = float(offset)
        self.drift_ppm = float(drift_ppm)
        self.epoch = wall()

    def current_offset(self) -> float:
        """Seconds this clock is ahead of the host's, drift included."""
        return self.offset + self.drift_ppm * 1e-6 * (self._wall() - self.epoch)

    def time(self) -> float:
        """Seconds since the epoch as this device sees them."""
        return self._wall() + self.current_offset()

    def step(self, by: float) -> None:
        """Move the clock by `by` seconds (an NTP step): drift starts again from here."""
        self.set_offset(self.current_offset() + by)

    def set_offset(self, offset: float) -> None:
        self.offset, self.epoch = float(offset), self._wall()

    def set_drift(self, ppm: float) -> None:
        self.offset, self.epoch, self.drift_ppm = self.current_offset(), self._wall(), float(ppm)

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.time(), tz=dt.timezone.utc)


class PersistentClock(NodeClock):
    """A NodeClock whose offset survives a daemon restart (kept in `clock.json`). A step that
    leaves the clock within SAVE_WITHIN of where the saved state puts it is not written: NTP
    corrects a lab clock by microseconds at every poll, and a restart loses only those."""

    SAVE_WITHIN = 0.001   # seconds

    def __init__(self, path: Path, *, wall=time.time, drift_ppm: float = 0.0):
        self.path = Path(path)
        super().__init__(0.0, wall=wall, drift_ppm=drift_ppm)
        if self.path.exists():
            saved = json.loads(self.path.read_text())
            self.offset = float(saved.get("offset", 0.0))
            self.epoch = float(saved.get("epoch", self.epoch))
            self.drift_ppm = float(saved.get("drift_ppm", drift_ppm))
        self._saved = NodeClock(self.offset, wall=wall, drift_ppm=self.drift_ppm)
        self._saved.epoch = self.epoch

    def _save(self) -> None:
        write_atomically(self.path, json.dumps({"offset": self.offset, "epoch": self.epoch,
                                                "drift_ppm": self.drift_ppm}).encode())
        self._saved.offset, self._saved.epoch, self._saved.drift_ppm = self.offset, self.epoch, self.drift_ppm

    def set_offset(self, offset: float) -> None:
        super().set_offset(offset)
        if abs(self.offset - self._saved.current_offset()) >= self.SAVE_WITHIN or not self.path.exists():
            self._save()

    def set_drift(self, ppm: float) -> None:
        super().set_drift(ppm)
        self._save()
