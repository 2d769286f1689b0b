"""The `biglab` command: a thin layer over the layers below. `biglab chaos` takes its verbs, their
arguments, `list`, `reset` and its help from the fault registry (lab/faults/)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from rich.console import Console

from .model.errors import LabError

# pydantic looks for plugins in every installed distribution's entry points at its first model
# (0.1 s here, with ansible installed); the lab has none
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# Each verb imports what it needs when it runs: `biglab up` should not pay for the fault registry,
# the scenario runner or the web view (`python -X importtime -m lab.cli up ...` shows the cost).

console = Console(stderr=True, soft_wrap=True)   # an error is one line a script can match
out = Console()


def _up(args) -> int:
    from .lifecycle import inspect
    from .lifecycle.up import up
    started = time.monotonic()
    with console.status("biglab up") as spinner:
        def progress(msg):
            spinner.update(f"biglab up: {msg}")
            console.log(msg)
        plan = up(args.file, name=args.name, backend=args.backend,
                  progress=progress, timeout=args.timeout, mgmt_subnet=args.mgmt_subnet,
                  forkserver=not args.no_fork_server and os.environ.get("BIGLAB_FORK_SERVER") != "0",
                  counts=lambda msg: spinner.update(f"biglab up: {msg}"))
    _print_status(inspect.status(plan.lab))
    console.print(f"lab [bold]{plan.lab}[/] is up in {time.monotonic() - started:.2f} s; "
                  f"remove it with: biglab down {plan.lab}")
    return 0


def _down(args) -> int:
    from .lifecycle.down import down, down_all
    if args.all == bool(args.lab):
        raise LabError("name one lab, or --all")
    removed = down_all() if args.all else down(args.lab)
    console.print(f"removed {len(removed)} namespaces and links" if removed else "nothing to remove")
    return 0


def _status(args) -> int:
    from .lifecycle import inspect
    from .model import state
    labs = [args.lab] if args.lab else state.labs()
    reports = [inspect.status(lab) for lab in labs]
    if args.json:
        out.print_json(json.dumps(reports[0] if args.lab else reports))
    else:
        if not reports:
            console.print("no labs are up")
        for report in reports:
            _print_status(report)
    return 0


def _print_status(report: dict) -> None:
    from rich.table import Table
    table = Table(title=f"lab {report['name']} ({report['backend']})")
    for col in ("node", "kind", "mgmt", "interfaces", "state", "ha", "trust", "clock", "USS/PSS MB"):
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
        mem = n.get("memory")
        table.add_row(name, n["kind"], n["mgmt"] or "-", ifaces, n["state"], ha, trust, clock,
                      f"{mem['uss']:.0f}/{mem['pss']:.0f}" if mem else "")
    out.print(table)


def _exec(args) -> int:
    from .runtime.lab import Lab
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    Lab.open(args.lab).exec(args.node, argv, user=args.user)
    return 1  # not reached: exec replaces this process


def _shell(args) -> int:
    from .runtime.lab import Lab
    Lab.open(args.lab).exec(args.node, ["tmsh"], user=args.user)
    return 1  # not reached: exec replaces this process


def _logs(args) -> int:
    from node.log import render as render_log
    from .lifecycle import inspect
    path = inspect.log_path(args.lab, args.node)
    if not path.exists():
        raise LabError(f"{args.node} has not logged anything yet")
    with open(path) as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            print(json.dumps(entry) if args.json else render_log(entry))
    return 0


def _link(args) -> int:
    from .runtime.lab import Lab
    node, sep, vlan = args.endpoint.partition(":")
    if not sep or not node or not vlan:
        raise LabError(f"{args.endpoint!r}: give the interface as NODE:VLAN")
    Lab.open(args.lab).set_link(node, vlan, args.state == "up")
    console.print(f"{node}:{vlan} is {args.state}")
    return 0


def _soak(args) -> int:
    from .scenario.soak import Soak
    with console.status(f"biglab soak {args.lab}") as spinner:   # rich progress, as bring-up shows it
        verdict = Soak(args.lab, args.seed, args.hold, say=lambda t: console.log(t, highlight=False),
                       progress=lambda t: spinner.update(f"biglab soak {args.lab}: {t}")).run(args.minutes)
    print(json.dumps(verdict, indent=1))
    if not verdict["ok"]:
        console.print(f"[red]soak failed: replay with --seed {args.seed}; history {verdict['history']}[/]",
                      highlight=False)
    return 0 if verdict["ok"] else 1


def _chaos(args) -> int:
    from . import faults
    from .runtime.lab import Lab
    print(faults.run(Lab.open(args.lab), args.verb_, args.args))
    return 0


def _events(args) -> int:
    from .observe.events import render, timeline
    entries = timeline(args.lab, everything=args.all)
    if args.plot:
        from .observe import plot
        plot.plot(entries, args.plot, title=f"lab {args.lab}")
        console.print(f"timeline of {len(entries)} events drawn in {args.plot}")
        return 0
    for entry in entries:
        print(json.dumps(entry) if args.json else render(entry))
    return 0


def _metrics(args) -> int:
    from .observe import metrics
    from .runtime.lab import Lab
    lab = Lab.open(args.lab)
    if args.once:
        sys.stdout.write(metrics.scrape(lab).decode())
        return 0
    server, thread = metrics.serve(lab, args.port)
    console.print(f"lab {lab.name}: Prometheus metrics on http://127.0.0.1:{args.port}/metrics (Ctrl-C stops)")
    thread.join()
    return 0


def _web(args) -> int:
    from .web import server
    try:
        server.run(args.lab, args.port, args.listen,
                   ready=lambda url: console.print(f"biglab web on {url}" + (f"lab/{args.lab}/" if args.lab else "")
                                                   + " (Ctrl-C stops)"))
    except ValueError as exc:   # --listen that is not an address
        raise LabError(f"--listen {args.listen}: {exc}") from None
    return 0


def _capture(args) -> int:
    from .observe.capture import capture
    summary = capture(args.lab, args.vlan, args.write, duration=args.duration, count=args.count,
                      summary=args.summary, say=lambda m: console.print(m, highlight=False))
    if summary is not None:
        print(json.dumps(summary, indent=1) if args.json else summary["text"])
    return 0


def _scenario(args) -> int:
    from .observe.events import timeline
    from .scenario.env import run_file
    started = time.time()

    def write_report(lab: str, report: dict) -> None:
        from .scenario.report import html
        Path(args.report).write_text(html(report, lab, timeline(lab, since=started - 1)))
        console.print(f"report written to {args.report}")

    report = run_file(args.file, lab=args.lab, name=args.name, mgmt_subnet=args.mgmt_subnet,
                      say=lambda m: console.print(m, highlight=False), after=write_report if args.report else None)
    print(json.dumps(report, indent=1) if args.json else report["text"])
    return 0 if report["passed"] else 1


def _generate(args) -> int:
    from .model import generate
    try:
        print(generate.gtm_estate(args.dcs, args.gtms, args.clients, args.name), end="")
    except ValueError as exc:
        raise LabError(str(exc)) from None
    return 0


def _export(args) -> int:
    """A lab that is up, or a topology file (renamed and moved as `up` would)."""
    import yaml
    from .model import containerlab
    from .model.plan import make_plan
    from .model.topology import load as load_topology
    from .runtime.backends import docker
    from .runtime.lab import Lab
    if Path(args.source).is_file():
        topo = load_topology(args.source, args.name, args.mgmt_subnet)
        plan = make_plan(topo, str(Path(args.source).resolve()), "docker")
    else:
        plan = Lab.open(args.source).plan
    text = yaml.safe_dump(containerlab.export(plan, docker.IMAGE, docker.IMAGE_PYTHON), sort_keys=False, width=200)
    header = f"# containerlab topology of biglab lab {plan.lab} (biglab export containerlab); see docs/scale.md\n"
    if args.output:
        Path(args.output).write_text(header + text)
    else:
        print(header + text, end="")
    return 0


def parser(verb: str | None = None) -> argparse.ArgumentParser:
    """`verb`: the verb about to run, if known; `chaos`'s verbs come from the fault registry (every
    fault module), which is loaded only for `chaos` or when the verb is not known."""
    p = argparse.ArgumentParser(prog="biglab", description="Emulated F5 BIG-IP labs on real Linux networks")
    sub = p.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    _lab_parsers(sub)
    _failure_parsers(sub, with_faults=verb in (None, "chaos"))
    return p


def _lab_parsers(sub) -> None:
    from .runtime.backends import BACKENDS
    s = sub.add_parser("up", help="bring a lab up from a topology file")
    s.add_argument("file")
    s.add_argument("--name", help="lab name (overrides the file's), to run two copies side by side")
    s.add_argument("--mgmt-subnet", help="move the management VLAN to this subnet (host numbers kept)")
    s.add_argument("--backend", choices=BACKENDS,
                   help="where nodes live: netns (default) or docker; overrides the file's `backend:`")
    s.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for ready and trusted")
    s.add_argument("--no-fork-server", action="store_true",
                   help="netns backend: start each daemon in an interpreter of its own, not forked "
                        "from the lab's warm one (also BIGLAB_FORK_SERVER=0)")
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
    s.add_argument("--user", help="run tmsh as this auth user, held to its role and partition (default: root)")
    s.set_defaults(func=_exec)
    s = sub.add_parser("shell", help="tmsh on a BIG-IP node, interactively: biglab shell LAB NODE")
    s.add_argument("lab")
    s.add_argument("node")
    s.add_argument("--user", help="run tmsh as this auth user, held to its role and partition (default: root)")
    s.set_defaults(func=_shell)
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
    s = sub.add_parser("generate", help="write a large topology: biglab generate gtm-estate --dcs 10 > FILE")
    s.add_argument("kind", choices=["gtm-estate"])
    s.add_argument("--dcs", type=int, default=10, help="data centers, each an LTM HA pair, two web servers, clients")
    s.add_argument("--gtms", type=int, default=4, help="GTMs in one sync group")
    s.add_argument("--clients", type=int, default=2, help="clients on each data center's client network")
    s.add_argument("--name", default="g10dc", help="the lab's name (at most 6 characters)")
    s.set_defaults(func=_generate)
    s = sub.add_parser("export", help="write a lab (or a topology file) for another engine: containerlab")
    s.add_argument("format", choices=["containerlab"])
    s.add_argument("source", metavar="LAB_OR_FILE")
    s.add_argument("-o", "--output", help="file to write (default: standard output)")
    s.add_argument("--name", help="for a file: the lab name (overrides the file's)")
    s.add_argument("--mgmt-subnet", help="for a file: move the management VLAN to this subnet")
    s.set_defaults(func=_export)


def _failure_parsers(sub, with_faults: bool) -> None:
    """chaos (from the fault registry), events, capture, scenario."""
    if with_faults:
        from . import faults
    s = sub.add_parser("chaos", help="inject or repair a fault (biglab chaos LAB list)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=faults.help_text() if with_faults else None)
    s.add_argument("lab")
    s.add_argument("verb_", choices=faults.verbs() if with_faults else None, metavar="VERB")
    s.add_argument("args", nargs=argparse.REMAINDER)
    s.set_defaults(func=_chaos)
    s = sub.add_parser("events", help="a merged timeline of every node's state changes and the faults")
    s.add_argument("lab")
    s.add_argument("--json", action="store_true")
    s.add_argument("--all", action="store_true", help="every log line, not only state changes")
    s.add_argument("--plot", metavar="FILE.svg", help="draw the timeline (traffic groups, sync, faults) to "
                   "FILE (svg, png or pdf)")
    s.set_defaults(func=_events)
    s = sub.add_parser("web", help="the lab in a browser: topology, nodes, GTM, timeline, faults (127.0.0.1)")
    s.add_argument("lab", nargs="?", help="the lab to show (default: every lab that is up)")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--listen", metavar="ADDRESS", help="listen on ADDRESS instead of 127.0.0.1; then every "
                   "request needs the lab's admin credentials")
    s.set_defaults(func=_web)
    s = sub.add_parser("metrics", help="one Prometheus endpoint (/metrics on 127.0.0.1) for the lab, in F5 TS names")
    s.add_argument("lab")
    s.add_argument("--port", type=int, default=9250)
    s.add_argument("--once", action="store_true", help="print one scrape and exit")
    s.set_defaults(func=_metrics)
    s = sub.add_parser("capture", help="capture a VLAN's bridge with tcpdump (pcap), optionally summarised")
    s.add_argument("lab")
    s.add_argument("vlan")
    s.add_argument("-w", "--write", help="pcap file (default: the lab's run dir)")
    s.add_argument("--duration", type=float, help="seconds to capture (default: until Ctrl-C)")
    s.add_argument("--count", type=int, help="stop after N packets")
    s.add_argument("--summary", action="store_true", help="heartbeats, GARPs, 4353 handshakes")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_capture)
    s = sub.add_parser("soak", help="random faults and writes, invariants after each heal; a verdict")
    s.add_argument("lab")
    s.add_argument("--minutes", type=float, default=5.0)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--hold", type=float, default=4.0, help="seconds each fault stays (default 4)")
    s.set_defaults(func=_soak)
    s = sub.add_parser("scenario", help="run a scenario file (faults, waits, expectations)")
    ssub = s.add_subparsers(dest="scenario_verb", required=True)
    r = ssub.add_parser("run", help="run FILE against --lab LAB, or in a lab of its own")
    r.add_argument("file")
    r.add_argument("--lab", help="an existing lab to run in (otherwise one is brought up and removed)")
    r.add_argument("--name", help="name of the lab brought up for the run (default: the scenario's)")
    r.add_argument("--mgmt-subnet", help="its management subnet")
    r.add_argument("--json", action="store_true")
    r.add_argument("--report", metavar="FILE.html", help="write the run as a page: steps, timings, the timeline drawn")
    r.set_defaults(func=_scenario)


def _errors() -> tuple[type[Exception], ...]:
    """The errors a verb reports as one line (imported only once one is raised)."""
    from .model.faultspec import ChaosError
    from .model.topology import TopologyError
    from .runtime.backends import BackendError
    from .runtime.control import ControlError
    from .scenario.runner import ScenarioError
    return LabError, TopologyError, ControlError, BackendError, ChaosError, ScenarioError


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser(next((a for a in argv if not a.startswith("-")), None)).parse_args(argv)
    try:
        return args.func(args)
    except _errors() as exc:
        console.print(f"[red]biglab {args.verb}: {exc}[/]", highlight=False)
        return 1
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        return 130


# Verbs whose files are all written and closed before they return: after them the interpreter's
# own teardown (60 to 90 ms of CPU for the thousand modules `up` imports) is skipped.
QUICK_EXIT = ("up", "down", "status")


def run() -> None:
    """The `biglab` command (and `python -m lab.cli`)."""
    code = main()
    if next((a for a in sys.argv[1:] if not a.startswith("-")), None) in QUICK_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
