"""The failure-lab commands of `biglab`: chaos, events, capture, scenario."""
from __future__ import annotations

import argparse
import json
import re

from rich.console import Console

from . import chaos
from .faults import ChaosError

console = Console(stderr=True)


def _chaos(args) -> int:
    print(dispatch(args.lab, args.verb_, args.args))
    return 0


def dispatch(lab: str, verb: str, rest: list[str]) -> str:
    """Run one chaos verb with its arguments (as typed after `biglab chaos LAB`); returns the
    message to show. Scenarios call this too."""
    if verb not in VERBS:
        raise ChaosError(f"unknown chaos verb {verb!r} (verbs: {', '.join(VERBS)})")
    skew = None
    if verb == "clock":  # a skew like -2h is an argument, not an option: take it out first
        skews = [t for t in rest if re.match(r"^-\d", t)]
        if len(skews) > 1:
            raise ChaosError("give one skew (+400d, -2h or reset)")
        skew = skews[0] if skews else None
        rest = [t for t in rest if t not in skews]
    ns = _chaos_args(verb, rest)
    if verb == "clock" and ns.skew is not None:
        if skew is not None:
            raise ChaosError("give one skew (+400d, -2h or reset)")
        skew = ns.skew
    if verb == "list":
        faults = chaos.listing(lab)
        return "\n".join(faults) if faults else "no faults"
    if verb == "reset":
        done = chaos.reset(lab)
        return "\n".join(done) if done else "nothing to repair"
    if verb == "link":
        msg = chaos.link(lab, ns.endpoint, ns.state == "up")
    elif verb == "partition":
        if ns.halves or ns.bridge:
            if ns.groups:
                raise ChaosError("give either two groups of nodes or --halves/--bridge, not both")
            msg = chaos.partition(lab, "halves" if ns.halves else "bridge")
        else:
            if len(ns.groups) != 2:
                raise ChaosError("partition needs two groups: partition A[,B...] C[,D...] (or --halves, --bridge)")
            msg = chaos.partition(lab, "explicit", ns.groups[0].split(","), ns.groups[1].split(","))
    elif verb == "heal":
        msg = chaos.heal(lab)
    elif verb == "netem":
        spec = {k: getattr(ns, k) for k in ("delay", "jitter", "loss", "duplicate", "corrupt", "reorder", "rate")
                if getattr(ns, k) is not None}
        if ns.reset:
            if spec:
                raise ChaosError("netem NODE:VLAN reset takes no options")
            msg = chaos.netem(lab, ns.endpoint, None)
        else:
            msg = chaos.netem(lab, ns.endpoint, spec)
    elif verb in ("kill", "stop", "start", "pause", "resume"):
        msg = chaos.process(lab, ns.node, verb)
    elif verb in ("block", "unblock"):
        msg = chaos.block(lab, ns.node, ns.port, verb == "block")
    elif verb == "clock":
        msg = chaos.clock(lab, ns.node, skew, ns.drift)
    elif verb == "ntp":
        msg = chaos.ntp(lab, ns.action)
    elif verb == "cert":
        msg = chaos.cert(lab, ns.node, ns.valid)
    elif verb == "version":
        msg = chaos.version(lab, ns.node, ns.version)
    else:  # VERBS makes this unreachable
        raise ChaosError(f"unknown chaos verb {verb!r}")
    return msg


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ChaosError(f"{self.prog}: {message}")


def _chaos_args(verb: str, rest: list[str]) -> argparse.Namespace:
    p = _Parser(prog=f"chaos {verb}", add_help=False)
    if verb in ("link", "netem"):
        p.add_argument("endpoint", metavar="NODE:VLAN")
    if verb == "link":
        p.add_argument("state", choices=["down", "up"])
    elif verb == "partition":
        p.add_argument("groups", nargs="*", metavar="NODES")
        p.add_argument("--halves", action="store_true")
        p.add_argument("--bridge", action="store_true")
    elif verb == "netem":
        p.add_argument("reset", nargs="?", choices=["reset"])
        for opt in ("delay", "jitter", "loss", "duplicate", "corrupt", "reorder", "rate"):
            p.add_argument(f"--{opt}")
    elif verb in ("kill", "stop", "start", "pause", "resume", "cert", "version", "block", "unblock", "clock"):
        p.add_argument("node")
        if verb in ("block", "unblock"):
            p.add_argument("port", metavar="PORT[/udp]")
        elif verb == "clock":
            p.add_argument("skew", nargs="?", metavar="+400d|-2h|reset")
            p.add_argument("--drift", type=float, metavar="PPM", help="free-running drift rate")
        elif verb == "cert":
            p.add_argument("renew", choices=["renew"])
            p.add_argument("--valid", type=float, metavar="SECONDS", help="a short-lived certificate")
        elif verb == "version":
            p.add_argument("version", metavar="MAJOR.MINOR|reset")
    elif verb == "ntp":
        p.add_argument("action", choices=["stop", "start"])
    return p.parse_args(rest)


VERBS = ["link", "partition", "heal", "netem", "kill", "stop", "start", "pause", "resume", "block",
         "unblock", "clock", "ntp", "cert", "version", "list", "reset"]
CHAOS_HELP = """verbs:
  link NODE:VLAN down|up           pull or plug a cable
  partition NODES NODES            cut two groups (comma lists) apart; or --halves, --bridge
  heal                             remove the partition
  netem NODE:VLAN --delay 50ms [--jitter 10ms] [--loss 5%] [--duplicate 1%] [--rate 1mbit] | reset
  kill|stop|start|pause|resume NODE
  block|unblock NODE PORT[/udp]    nftables in the node's namespace, both directions
  clock NODE +400d|-2h|reset [--drift PPM]
  ntp stop|start                   the lab's NTP server
  cert NODE renew [--valid SECONDS]  rotate the device certificate (short-lived with --valid)
  version NODE MAJOR.MINOR|reset   restart the daemon speaking another iQuery version
  list                             active faults
  reset                            undo every active fault"""


def _events(args) -> int:
    from .events import render, timeline
    for entry in timeline(args.lab, everything=args.all):
        print(json.dumps(entry) if args.json else render(entry))
    return 0


def _capture(args) -> int:
    from .capture import capture
    summary = capture(args.lab, args.vlan, args.write, duration=args.duration, count=args.count,
                      summary=args.summary, say=lambda m: console.print(m, highlight=False))
    if summary is not None:
        print(json.dumps(summary, indent=1) if args.json else summary["text"])
    return 0


def _scenario(args) -> int:
    from .scenario_env import run_file
    report = run_file(args.file, lab=args.lab, name=args.name, mgmt_subnet=args.mgmt_subnet,
                      say=lambda m: console.print(m, highlight=False))
    print(json.dumps(report, indent=1) if args.json else report["text"])
    return 0 if report["passed"] else 1


def add_parsers(sub) -> None:
    s = sub.add_parser("chaos", help="inject or repair a fault (biglab chaos LAB list)",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=CHAOS_HELP)
    s.add_argument("lab")
    s.add_argument("verb_", choices=VERBS, metavar="VERB")
    s.add_argument("args", nargs=argparse.REMAINDER)
    s.set_defaults(func=_chaos)
    s = sub.add_parser("events", help="a merged timeline of every node's state changes and the faults")
    s.add_argument("lab")
    s.add_argument("--json", action="store_true")
    s.add_argument("--all", action="store_true", help="every log line, not only state changes")
    s.set_defaults(func=_events)
    s = sub.add_parser("capture", help="capture a VLAN's bridge with tcpdump (pcap), optionally summarised")
    s.add_argument("lab")
    s.add_argument("vlan")
    s.add_argument("-w", "--write", help="pcap file (default: the lab's run dir)")
    s.add_argument("--duration", type=float, help="seconds to capture (default: until Ctrl-C)")
    s.add_argument("--count", type=int, help="stop after N packets")
    s.add_argument("--summary", action="store_true", help="heartbeats, GARPs, 4353 handshakes")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_capture)
    s = sub.add_parser("scenario", help="run a scenario file (faults, waits, expectations)")
    ssub = s.add_subparsers(dest="scenario_verb", required=True)
    r = ssub.add_parser("run", help="run FILE against --lab LAB, or in a lab of its own")
    r.add_argument("file")
    r.add_argument("--lab", help="an existing lab to run in (otherwise one is brought up and removed)")
    r.add_argument("--name", help="name of the lab brought up for the run (default: the scenario's)")
    r.add_argument("--mgmt-subnet", help="its management subnet")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_scenario)
