"""The thin IO shell of fastL4: hands fastl4.py's batches to `nft -j -f -` in the node's own
namespace, reads the counters back, and counts established connections in conntrack. Nothing here decides anything."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import trio
from ..netlink import IPRoute, NetlinkError

from . import fastl4

FORWARDING = Path("/proc/sys/net/ipv4/ip_forward")   # per network namespace
# SNAT none on the full proxy: its server-side socket keeps the client's address (IP_TRANSPARENT).
# The server's answer, addressed to the client, must then reach that socket instead of being
# forwarded: a packet of a transparent socket is marked, and the mark routes it to this host.
# fastL4's persistence marks never set the top bit; the table is past route domains' (0 to 65534)
TRANSPARENT_MARK, TRANSPARENT_TABLE = 0x80000000, 65600
TRANSPARENT = {"nftables": [
    {"add": {"table": {"family": "ip", "name": "biglab_transparent"}}},
    {"add": {"chain": {"family": "ip", "table": "biglab_transparent", "name": "prerouting", "type": "filter",
                       "hook": "prerouting", "prio": -150, "policy": "accept"}}},
    {"flush": {"chain": {"family": "ip", "table": "biglab_transparent", "name": "prerouting"}}},
    {"add": {"rule": {"family": "ip", "table": "biglab_transparent", "chain": "prerouting", "expr": [
        {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": {"set": ["tcp", "udp"]}}},   # udp: SIP
        {"match": {"op": "==", "left": {"socket": {"key": "transparent"}}, "right": 1}},
        {"mangle": {"key": {"meta": {"key": "mark"}}, "value": TRANSPARENT_MARK}}]}}}]}


class NftError(Exception):
    pass


async def nft(payload: dict | None = None, *args: str, text: str | None = None) -> dict:
    """`nft -j` with a JSON batch, a command (args), or (text) `nft -f -` with nft's own syntax."""
    if text is not None:
        argv, stdin = ["nft", "-f", "-"], text.encode()
    else:
        argv = ["nft", "-j", *(("-f", "-") if payload is not None else args)]
        stdin = json.dumps(payload).encode() if payload is not None else b""
    proc = await trio.run_process(argv, stdin=stdin, capture_stdout=True, capture_stderr=True, check=False)
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
        self.maps: dict[str, dict] = {}   # persistence maps, with their records
        self.recorded: str | None = None   # the persistence recording loaded (fastl4.recording)
        self.udp: frozenset[tuple[str, int]] = frozenset()   # fastl4.translated_udp of the table loaded
        self.open: Counter = Counter()   # (virtual address, port, member address, port) -> open connections
        self.lock = trio.Lock()

    async def apply(self, virtuals: list[fastl4.L4Virtual], seeds: dict[str, list[fastl4.Seed]] | None = None) -> None:
        async with self.lock:
            if virtuals:
                forwarding(True)
            await self._list()
            text = fastl4.recording(virtuals)
            if text != self.recorded:   # first: a connection the batch's rules DNAT is always recorded
                self.recorded = None
                await nft(text=text)
                self.recorded = text
            await nft(fastl4.batch(virtuals, self.chains, self.counters, frozenset(self.maps), seeds))
            udp = fastl4.translated_udp(virtuals)
            await forget_untranslated(udp - self.udp)
            self.udp = udp
            await self._list()

    async def reset(self, also: dict | None = None) -> None:
        """Start-up: `fastl4.fresh` and `also`'s commands (another table's) in one transaction,
        then the table read back."""
        async with self.lock:
            await nft({"nftables": fastl4.fresh()["nftables"] + (also or {}).get("nftables", [])})
            self.recorded, self.udp = fastl4.recording([]), frozenset()
            await self._list()

    async def remove(self) -> None:
        async with self.lock:
            await nft(fastl4.teardown())
            self.chains, self.counters, self.maps, self.recorded, self.udp = set(), set(), {}, None, frozenset()

    async def _list(self) -> None:
        try:
            table = await nft(None, "list", "table", fastl4.FAMILY, fastl4.TABLE)
        except NftError:      # not there yet
            table = {}
        self.chains, self.counters, self.values, self.maps = fastl4.listing(table)

    async def refresh(self) -> None:
        """Counter totals and open connections, for the statistics."""
        async with self.lock:
            await self._list()
        self.open = await open_connections()


async def open_connections() -> Counter:
    """Established TCP connections in this namespace's conntrack, by (original destination, reply
    source). The conntrack tool filters by state in C: a dump parsed in Python (pyroute2) held the
    GIL for hundreds of milliseconds once TIME_WAIT entries piled up, and stalled the proxy."""
    proc = await trio.run_process(["conntrack", "-L", "-p", "tcp", "--state", "ESTABLISHED"],
                                  capture_stdout=True, capture_stderr=True, check=False)
    return established(proc.stdout.decode(errors="replace"))


async def forget_untranslated(destinations) -> None:
    """Deletes the UDP entries to these (address, port) that the kernel did not translate: a
    translated one's reply comes from its member, an untranslated one's from the address itself
    (fastl4.translated_udp says why). Port 0: any port."""
    for address, port in sorted(destinations):
        await trio.run_process(["conntrack", "-D", "-p", "udp", "--orig-dst", address, "--reply-src", address,
                                *(["--orig-port-dst", str(port)] if port else [])],
                               capture_stdout=True, capture_stderr=True, check=False)   # 1: none to delete


def established(text: str) -> Counter:
    counts: Counter = Counter()
    for line in text.splitlines():
        fields = [w.split("=", 1) for w in line.split() if "=" in w]
        values = [v for k, v in fields if k in ("src", "dst", "sport", "dport")]
        if len(values) >= 8:   # original src dst sport dport, then the reply's
            counts[(values[1], int(values[3]), values[4], int(values[6]))] += 1
    return counts


async def transparent_return(marked: bool = False) -> None:
    """The mark rule (unless `marked`: loaded already) and the policy route that give a
    transparent socket its server's answers."""
    if not marked:
        await nft(TRANSPARENT)
    try:
        with IPRoute() as ipr:
            if not ipr.get_rules(table=TRANSPARENT_TABLE):
                ipr.rule("add", fwmark=TRANSPARENT_MARK, fwmask=TRANSPARENT_MARK, table=TRANSPARENT_TABLE, priority=100)
            ipr.route("replace", dst="0.0.0.0/0", type="local", scope="host", oif=ipr.link_lookup(ifname="lo")[0],
                      table=TRANSPARENT_TABLE)
    except NetlinkError as exc:
        raise OSError(exc.code, f"policy routing: {exc}") from exc


def forwarding(on: bool) -> None:
    try:
        FORWARDING.write_text("1\n" if on else "0\n")
    except OSError:
        pass   # a container with /proc/sys read-only: its runtime turned forwarding on
