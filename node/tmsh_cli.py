"""`tmsh` inside a BIG-IP node: sends lines to the node daemon and prints the answers.

    tmsh show cm sync-status        one command
    tmsh -c "cd /P; list ltm pool"  a script
    tmsh                            the interactive prompt: [root@bigip1:Active:In Sync] ~ #

`biglab exec LAB NODE -- tmsh ...` runs it with BIGLAB_CTL pointing at the node's control socket.
"""
from __future__ import annotations

import json
import os
import sys

from .control_client import call


def one(path: str, line: str, folder: str = "/Common") -> int:
    answer = call(path, "tmsh", line=line, folder=folder)
    if answer["ok"]:
        if answer["result"]:
            print(answer["result"])
        return 0
    print(answer["error"], file=sys.stderr)
    return 1


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = os.environ.get("BIGLAB_CTL")
    if not path:
        print("tmsh: BIGLAB_CTL is not set (run it with: biglab exec LAB NODE -- tmsh ...)", file=sys.stderr)
        return 2
    try:
        if argv[:1] == ["-c"] and len(argv) == 2:   # tmsh -c "cd /P; list ltm pool"
            return one(path, argv[1])
        if argv:
            return one(path, " ".join(a if a in ("{", "}") or not any(c.isspace() for c in a) else json.dumps(a)
                                      for a in argv))
        rc, folder = 0, "/Common"
        while True:
            try:
                prompt = call(path, "prompt")["result"] if sys.stdin.isatty() else ""
                line = input(prompt)
            except EOFError:
                return rc
            if line.strip() in ("quit", "exit", "q"):
                return rc
            if line.split()[:1] == ["cd"]:
                answer = call(path, "cd", folder=folder, to=line.strip()[2:])
                if answer["ok"]:
                    folder = answer["result"]
                else:
                    print(answer["error"], file=sys.stderr)
            elif line.strip():
                rc = one(path, line, folder)
    except (ConnectionRefusedError, FileNotFoundError):
        print("tmsh: the node daemon is not running", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
