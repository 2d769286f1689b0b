"""`iqdump PEER`: the decoded iQuery messages from one peer, as they arrive (F5 has the same tool).

The daemon keeps the last messages from each peer (a tap on the 4353 dispatcher); the `iqdump`
command inside a node long-polls the daemon's control socket and prints each message once.

    biglab exec LAB gtm1 -- iqdump ltm-nyc        # Ctrl-C to stop; --count N to stop after N
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections import deque

import trio

KEEP = 500


class Recorder:
    def __init__(self, peers=lambda: None):
        self.peers = peers          # () -> the trust domain's other device names (None: any)
        self.seq = 0
        self.messages: dict[str, deque] = {}
        self._arrived = trio.Event()

    def record(self, peer: str | None, body: dict) -> None:
        self.seq += 1
        self.messages.setdefault(peer or "?", deque(maxlen=KEEP)).append((self.seq, time.time(), body))
        self._arrived.set()
        self._arrived = trio.Event()

    async def cmd(self, peer: str, after: int = -1, wait: float = 2.0) -> dict:
        """Messages from `peer` newer than `after` (-1: only from now on), waiting up to `wait` s."""
        known = self.peers()
        if known is not None and peer not in known:
            from ..control import CommandError
            raise CommandError(f"{peer!r} is not a device of this trust domain (peers: {', '.join(sorted(known)) or 'none'})")
        after = self.seq if int(after) < 0 else int(after)
        with trio.move_on_after(min(float(wait), 10.0)):
            while not any(s > after for s, _, _ in self.messages.get(peer, ())):
                await self._arrived.wait()
        new = [{"seq": s, "time": t, "message": m} for s, t, m in self.messages.get(peer, ()) if s > after]
        return {"seq": max([after] + [m["seq"] for m in new]), "messages": new}


def main(argv=None) -> int:
    from ..tmsh_cli import call
    argv = sys.argv[1:] if argv is None else argv
    count = None
    if "--count" in argv:
        i = argv.index("--count")
        count = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    if len(argv) != 1:
        print("usage: iqdump PEER [--count N]", file=sys.stderr)
        return 2
    path = os.environ.get("BIGLAB_CTL")
    if not path:
        print("iqdump: BIGLAB_CTL is not set (run it with: biglab exec LAB NODE -- iqdump PEER)", file=sys.stderr)
        return 2
    after, shown = -1, 0
    try:
        while count is None or shown < count:
            answer = call(path, "iqdump", peer=argv[0], after=after)
            if not answer["ok"]:
                print(f"iqdump: {answer['error']}", file=sys.stderr)
                return 1
            after = answer["result"]["seq"]
            for m in answer["result"]["messages"]:
                stamp = time.strftime("%H:%M:%S", time.localtime(m["time"])) + f".{int(m['time'] % 1 * 1000):03d}"
                print(f"{stamp} {argv[0]} -> {m['message'].get('t')}: "
                      + json.dumps(m["message"], sort_keys=True, default=str), flush=True)
                shown += 1
                if count is not None and shown >= count:
                    break
    except KeyboardInterrupt:
        return 0
    except (ConnectionRefusedError, FileNotFoundError):
        print("iqdump: the node daemon is not running", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
