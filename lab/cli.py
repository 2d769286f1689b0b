"""The `biglab` command."""
from __future__ import annotations

import argparse
import json
import sys
import time

from rich.console import Console
from rich.table import Table

from . import cli_chaos, engine, state
from .backends import BACKENDS, BackendError
from .control import ControlError
from .faults import ChaosError
from .scenario import ScenarioError
from .topology import TopologyError

console = Console(stderr=True)
out = Console()


def _up(args) -> int:
    started = time.monotonic()
    with console.status("biglab up") as spinner:
        def progress(msg):
            spinner.update(f"biglab up: {msg}")
            console.log(msg)
        plan = engine.up(args.file, name=args.name, backend=args.backend,
                         progress=progress, timeout=args.timeout, mgmt_subnet=args.mgmt_subnet)
    _print_status(engine.status(plan.lab))
    console.print(f"lab [bold]{plan.lab}[/] is up in {time.monotonic() - started:.2f} s; "
                  f"remove it with: biglab down {plan.lab}")
    return 0


def _down(args) -> int:
    if args.all == bool(args.lab):
        raise engine.LabError("name one lab, or --all")
    removed = engine.down_all() if args.all else engine.down(args.lab)
    console.print(f"removed {len(removed)} namespaces and links" if removed else "nothing to remove")
    return 0


def _status(args) -> int:
    labs = [args.lab] if args.lab else state.labs()
    reports = [engine.status(lab) for lab in labs]
    if args.json:
        out.print_json(json.dumps(reports[0] if args.lab else reports))
    else:
        if not reports:
            console.print("no labs are up")
        for report in reports:
            _print_status(report)
    return 0


def _print_status(report: dict) -> None:
    table = Table(title=f"lab {report['name']} ({report['backend']})")
    for col in ("node", "kind", "mgmt", "interfaces", "state", "ha", "trust", "clock"):
        table.add_column(col)
    for name, n in report["nodes"].items():
        ifaces = " ".join(f"{v}={i['address']}" + ("" if i["link"] == "up" else f"({i['link']})")
                          for v, i in n["interfaces"].items())
        trust = ""
        if "trust" in n:
            peers = n["trust"]["peers"]
            trust = ", ".join(f"{p}:{l['state']}" + (f" ({l['reason']})" if l['state'] != "connected" and l['reason'] else "")
                              for p, l in peers.items()) or "domain of one"
        ha = f"{n['failover'].title()}, {n['sync']}" if "failover" in n else ""
        clock = ""
        if "clock" in n:
            ntp = n.get("ntp")
            clock = (("NTP in sync" if ntp["synchronized"] else "NTP lost") if ntp else "no NTP") + \
                f", {n['clock']['offset']:+.3f} s"
        table.add_row(name, n["kind"], n["mgmt"] or "-", ifaces, n["state"], ha, trust, clock)
    out.print(table)


def _exec(args) -> int:
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    engine.exec_in(args.lab, args.node, argv)
    return 1  # not reached: exec replaces this process


def _logs(args) -> int:
    from node.log import render
    path = engine.log_path(args.lab, args.node)
    if not path.exists():
        raise engine.LabError(f"{args.node} has not logged anything yet")
    with open(path) as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            print(json.dumps(entry) if args.json else render(entry))
    return 0


def _link(args) -> int:
    node, sep, vlan = args.endpoint.partition(":")
    if not sep or not node or not vlan:
        raise engine.LabError(f"{args.endpoint!r}: give the interface as NODE:VLAN")
    engine.set_link(args.lab, node, vlan, args.state == "up")
    console.print(f"{node}:{vlan} is {args.state}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="biglab", description="Emulated F5 BIG-IP labs on real Linux networks")
    sub = p.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    s = sub.add_parser("up", help="bring a lab up from a topology file")
    s.add_argument("file")
    s.add_argument("--name", help="lab name (overrides the file's), to run two copies side by side")
    s.add_argument("--mgmt-subnet", help="move the management VLAN to this subnet (host numbers kept)")
    s.add_argument("--backend", choices=BACKENDS,
                   help="where nodes live: netns (default) or docker; overrides the file's `backend:`")
    s.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for ready and trusted")
    s.set_defaults(func=_up)
    s = sub.add_parser("down", help="remove a lab (or every lab) and all it made")
    s.add_argument("lab", nargs="?")
    s.add_argument("--all", action="store_true")
    s.set_defaults(func=_down)
    s = sub.add_parser("status", help="show labs, nodes, links and trust")
    s.add_argument("lab", nargs="?")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_status)
    s = sub.add_parser("exec", help="run a command inside a node: biglab exec LAB NODE -- CMD")
    s.add_argument("lab")
    s.add_argument("node")
    s.add_argument("command", nargs=argparse.REMAINDER)
    s.set_defaults(func=_exec)
    s = sub.add_parser("logs", help="a BIG-IP node's log, F5-style")
    s.add_argument("lab")
    s.add_argument("node")
    s.add_argument("--json", action="store_true", help="the structured lines as they are")
    s.set_defaults(func=_logs)
    s = sub.add_parser("link", help="take a node's VLAN interface down or up")
    s.add_argument("lab")
    s.add_argument("endpoint", metavar="NODE:VLAN")
    s.add_argument("state", choices=["down", "up"])
    s.set_defaults(func=_link)
    cli_chaos.add_parsers(sub)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (engine.LabError, TopologyError, ControlError, BackendError, ChaosError, ScenarioError) as exc:
        console.print(f"[red]biglab {args.verb}: {exc}[/]", highlight=False)
        return 1
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        return 130


if __name__ == "__main__":
    sys.exit(main())
