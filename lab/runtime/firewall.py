"""Keep frames bridged between lab nodes flowing, whatever the host's firewall says.

When br_netfilter is loaded (dockerd loads it) and `net.bridge.bridge-nf-call-iptables` is 1 (the
default then), every IPv4 frame a Linux bridge forwards also walks iptables' FORWARD chain, with
the bridge as both in- and out-interface. dockerd sets that chain's policy to DROP when it turns
IP forwarding on, so traffic between two nodes on one lab VLAN would silently vanish. The
per-bridge `nf_call_iptables` option does not help: the global sysctl wins.

The fix is one rule at the top of FORWARD (and of ip6tables' FORWARD), for every lab at once:

    -A FORWARD -i bl-+ -o bl-+ -m comment --comment "biglab: bridged lab traffic" -j ACCEPT

It accepts only what enters and leaves a `bl-` interface (a lab bridge), which is exactly what a
bridge without br_netfilter would pass anyway; nothing is routed. `biglab up` makes sure it is
there each time it makes bridges (every backend), and leaves it in place: other labs may need it.
Remove it by hand with `iptables -D FORWARD <the rule>` once no lab runs.
"""
from __future__ import annotations

import shutil
import subprocess

RULE = ("-i", "bl-+", "-o", "bl-+", "-m", "comment", "--comment", "biglab: bridged lab traffic",
        "-j", "ACCEPT")
TOOLS = ("iptables", "ip6tables")


class FirewallError(Exception):
    """The rule could not be checked or added; the message carries the tool's own words."""


def rule_text() -> str:
    return "-A FORWARD " + " ".join(f'"{a}"' if " " in a else a for a in RULE)


def allow_bridged_lab_traffic() -> list[str]:
    """Make sure FORWARD accepts frames bridged inside lab bridges; returns the tools that had to
    add the rule (empty when it was there already or no iptables is installed: then nothing
    filters bridged frames). Raises FirewallError when a tool fails."""
    added = []
    for tool in TOOLS:
        exe = shutil.which(tool)
        if exe is None:
            continue
        if _run(exe, "-C", "FORWARD", *RULE).returncode == 0:
            continue
        proc = _run(exe, "-I", "FORWARD", "1", *RULE)
        if proc.returncode != 0:
            raise FirewallError(f"{tool} -I FORWARD 1 {' '.join(RULE)}: {proc.stderr.strip()}")
        added.append(tool)
    return added


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([argv[0], "-w", *argv[1:]], capture_output=True, text=True)


if __name__ == "__main__":  # scripts/dockerd.sh runs this before and after starting dockerd
    try:
        done = allow_bridged_lab_traffic()
    except FirewallError as exc:
        raise SystemExit(f"biglab firewall: {exc}")
    print(f"biglab firewall: {'added to ' + ', '.join(done) if done else 'in place'}: {rule_text()}")
