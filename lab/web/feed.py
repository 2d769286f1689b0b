"""One feed a lab: the web view's one reader of the lab, shared by every page and browser.

It watches the lab's timeline files (each node's log.jsonl, the fault record's chaos.jsonl): a
daemon logs every state change there and every fault is noted there, so when one grows something
changed, and only then does the feed ask the daemons for their status (once, for every browser),
rebuild the view and tell the pages (server-sent events). Counters and ages change without a log
line: those are read every SLOW seconds. Nothing asks a daemon faster than that.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import trio

from .. import faults as fault_registry
from ..model.errors import LabError
from ..runtime import wiring
from ..runtime.control import ControlError
from ..runtime.lab import Lab
from .view import LabView, lab_view

WATCH_EVERY = 0.1   # s between looks at the files' sizes (a stat each; no daemon is asked)
SLOW = 5.0          # s between status reads when nothing was logged (counters, heartbeat ages)


def due(seen: tuple, now: tuple, elapsed: float) -> bool:
    """Read the daemons now? When a watched file changed (a daemon logged a state change, a fault
    was noted), or SLOW seconds after the last read; never on a timer faster than that."""
    return now != seen or elapsed >= SLOW


class Feed:
    def __init__(self, lab: Lab):
        self.lab = lab
        self.statuses: dict = {}
        self.view: LabView | None = None
        self.seq = 0                 # bumped when the view changes
        self.messages: list[str] = []   # lines of the scenario running from the Faults page
        self.read_at = 0.0           # trio clock of the last status read
        self._changed = trio.Event()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="web-status")

    # -- files ------------------------------------------------------------------------------------
    def watched(self) -> list[Path]:
        return [self.lab.dir / "chaos.jsonl", self.lab.dir / "faults.json"] + \
            [self.lab.node_dir(n) / "log.jsonl" for n in self.lab.bigips]

    def sizes(self) -> tuple:
        out = []
        for p in self.watched():
            try:
                st = p.stat()
                out.append((st.st_size, st.st_mtime_ns))
            except FileNotFoundError:
                out.append(None)
        return tuple(out)

    # -- reading the lab ----------------------------------------------------------------------------
    def _status(self, node):
        if not node.runs_daemon:
            return None
        try:
            return self.lab.status(node.name, timeout=1.0)
        except (ControlError, OSError, ValueError) as exc:
            return str(exc) or type(exc).__name__

    def read(self) -> LabView:
        """Every daemon's status (side by side), the links' states and the fault record: blocking."""
        nodes = self.lab.plan.nodes
        statuses = dict(zip((n.name for n in nodes), self._pool.map(self._status, nodes)))
        links = wiring.link_states(self.lab.plan.fabric, [i.host_end for n in nodes for i in n.interfaces])
        record = self.lab.faults()
        self.statuses = statuses
        return lab_view(self.lab.plan, statuses, links, record, fault_registry.listing(self.lab))

    async def refresh(self) -> None:
        view = await trio.to_thread.run_sync(self.read)
        self.read_at = trio.current_time()
        if view != self.view:
            self.view = view
            self.seq += 1
            self._notify()

    def _notify(self) -> None:
        event, self._changed = self._changed, trio.Event()
        event.set()

    def say(self, line: str) -> None:
        """A line for every page (the scenario's progress); callable from a worker thread."""
        self.messages.append(line)
        try:
            trio.from_thread.run_sync(self._notify)
        except RuntimeError:          # called from the trio thread itself
            self._notify()

    async def changed(self) -> None:
        await self._changed.wait()

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        await self.refresh()
        task_status.started()
        seen = self.sizes()
        while True:
            await trio.sleep(WATCH_EVERY)
            now = self.sizes()
            if due(seen, now, trio.current_time() - self.read_at):
                seen = now
                try:
                    await self.refresh()
                except (OSError, ValueError, LabError) as exc:   # the lab went down under us
                    self.read_at = trio.current_time()
                    self.messages.append(f"reading lab {self.lab.name} failed: {exc}")

    # -- the recent log -----------------------------------------------------------------------------
    def recent_log(self, node: str, lines: int = 40) -> list[dict]:
        path = self.lab.node_dir(node) / "log.jsonl"
        try:
            with open(path, "rb") as f:
                f.seek(0, 2)
                start = max(0, f.tell() - 64 * 1024)
                f.seek(start)
                tail = f.read().decode(errors="replace").splitlines()[1 if start else 0:]   # a cut first line
        except FileNotFoundError:
            return []
        out = []
        for line in tail[-lines:]:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out
