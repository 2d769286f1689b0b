"""`iqdump PEER` inside a node: the decoded iQuery messages from one peer, as they arrive (F5 has
the same tool). It long-polls the daemon's control socket (the daemon keeps the last messages from
each peer: node/iquery/recorder.py) and prints each message once.

    biglab exec LAB gtm1 -- iqdump ltm-nyc        # Ctrl-C to stop; --count N to stop after N
"""
from __future__ import annotations

import json
import os
import sys
import time

from .control_client import call


def main(argv=None) -> int:
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
