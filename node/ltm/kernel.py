"""The thin IO shell of fastL4: hands fastl4.py's batches to `nft -j -f -` in the node's own
namespace, reads the counters back, and counts open connections in conntrack (pyroute2's
conntrack netlink). Nothing here decides anything."""
from __future__ import annotations

import json
import socket
from collections import Counter
from pathlib import Path

import trio

from . import fastl4

FORWARDING = Path("/proc/sys/net/ipv4/ip_forward")   # per network namespace
OPEN_TCP = {"SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK"}


class NftError(Exception):
    pass


async def nft(payload: dict | None = None, *args: str) -> dict:
    argv = ["nft", "-j", *(("-f", "-") if payload is not None else args)]
    proc = await trio.run_process(argv, stdin=json.dumps(payload).encode() if payload is not None else b"",
                                  capture_stdout=True, capture_stderr=True, check=False)
    if proc.returncode != 0:
        raise NftError(proc.stderr.decode(errors="replace").strip())
    out = proc.stdout.decode().strip()
    return json.loads(out) if out else {}


class Kernel:
    """The table as it is now, and the totals its counters held when last read."""

    def __init__(self):
        self.chains: set[str] = set()
        self.counters: set[str] = set()
        self.values: dict[str, tuple[int, int]] = {}
        self.open: Counter = Counter()   # (virtual address, port, member address, port) -> open connections
        self.lock = trio.Lock()

    async def apply(self, virtuals: list[fastl4.L4Virtual]) -> None:
        async with self.lock:
            if virtuals:
                _forwarding(True)
            await self._list()
            await nft(fastl4.batch(virtuals, self.chains, self.counters))
            await self._list()

    async def remove(self) -> None:
        async with self.lock:
            await nft(fastl4.teardown())
            self.chains, self.counters = set(), set()

    async def _list(self) -> None:
        try:
            table = await nft(None, "list", "table", fastl4.FAMILY, fastl4.TABLE)
        except NftError:      # not there yet
            table = {}
        self.chains, self.counters, self.values = fastl4.listing(table)

    async def refresh(self) -> None:
        """Counter totals and open connections, for the statistics."""
        async with self.lock:
            await self._list()
        self.open = await trio.to_thread.run_sync(open_connections)


def open_connections() -> Counter:
    """Open connections in this namespace's conntrack, by (original destination, reply source)."""
    from pyroute2 import Conntrack
    counts: Counter = Counter()
    with Conntrack() as ct:
        for e in ct.dump_entries():
            o, r = e.tuple_orig, e.tuple_reply
            if o.proto == socket.IPPROTO_TCP and (e.protoinfo is None or e.protoinfo.state_name() not in OPEN_TCP):
                continue
            counts[(o.daddr, o.dport, r.saddr, r.sport)] += 1
    return counts


def _forwarding(on: bool) -> None:
    try:
        FORWARDING.write_text("1\n" if on else "0\n")
    except OSError:
        pass   # a container with /proc/sys read-only: its runtime turned forwarding on
