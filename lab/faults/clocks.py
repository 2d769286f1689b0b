"""Faults of time and certificates: a node's clock skewed or drifting, the lab's NTP server
stopped, a device certificate rotated (or made short-lived)."""
from __future__ import annotations

import re

from ..model.faultspec import ChaosError, parse_skew
from ..runtime import ntpd
from ..runtime.control import ControlError
from ..runtime.lab import Lab
from .base import Fault, bigip, register

NO_CLOCK = "it has no node clock"


@register
class Clock(Fault):
    verbs = ("clock",)
    usage = (("clock NODE +400d|-2h|reset [--drift PPM]", ""),)

    def arguments(self, p, verb):
        p.add_argument("node")
        p.add_argument("skew", nargs="?", metavar="+400d|-2h|reset")
        p.add_argument("--drift", type=float, metavar="PPM", help="free-running drift rate")

    def parse(self, verb, words):
        """A skew like -2h is an argument, not an option: take it out before argparse sees it."""
        skews = [t for t in words if re.match(r"^-\d", t)]
        if len(skews) > 1:
            raise ChaosError("give one skew (+400d, -2h or reset)")
        args = super().parse(verb, [t for t in words if t not in skews])
        if skews:
            if args.skew is not None:
                raise ChaosError("give one skew (+400d, -2h or reset)")
            args.skew = skews[0]
        return args

    def inject(self, lab, verb, args):
        return self.set(lab, args.node, args.skew, args.drift)

    def set(self, lab: Lab, node: str, skew: str | None, drift_ppm: float | None = None) -> str:
        n = bigip(lab, node, NO_CLOCK)
        offset = parse_skew(skew) if skew is not None else None
        if offset is None and drift_ppm is None:
            raise ChaosError("give a skew (+400d, -2h, reset) and/or --drift PPM")
        try:
            result = lab.call(n.name, "clock", offset=offset, drift_ppm=drift_ppm)
        except ControlError as exc:
            raise ChaosError(str(exc)) from None
        faults = lab.faults()
        clocks = faults.setdefault("clocks", {})
        entry = clocks.setdefault(n.name, {})
        if skew is not None:
            if skew == "reset":
                entry.pop("skew", None)
            else:
                entry["skew"] = skew
        if drift_ppm is not None:
            entry["drift_ppm"] = drift_ppm
            if drift_ppm == (lab.plan.ntp or {}).get("drift_ppm", 0.0):
                entry.pop("drift_ppm")   # back to the topology's rate: no longer a fault
        if not entry:
            clocks.pop(n.name)
        lab.save_faults(faults)
        parts = ([f"skew {skew}"] if skew else []) + ([f"drift {drift_ppm:g} ppm"] if drift_ppm is not None else [])
        lab.note("repair" if skew == "reset" else "fault", f"clock {n.name} {', '.join(parts)}", node=n.name)
        return f"{n.name}: node clock now {result['now']} (offset {result['offset']:+.3f} s)"

    def describe(self, lab, faults):
        out = []
        for n, c in sorted(faults.get("clocks", {}).items()):
            try:
                now = f" (node clock now {lab.call(n, 'clock', timeout=2.0)['offset']:+.3f} s from true time)"
            except ControlError:
                now = ""
            out.append(f"clock {n} " + ", ".join(([f"skew {c['skew']}"] if "skew" in c else [])
                                                 + ([f"drift {c['drift_ppm']:g} ppm"] if "drift_ppm" in c else [])) + now)
        return out

    def repair(self, lab, faults):
        done = []
        for n, c in list(faults.get("clocks", {}).items()):
            drift = (lab.plan.ntp or {}).get("drift_ppm", 0.0) if "drift_ppm" in c else None
            self.set(lab, n, "reset", drift)
            done.append(f"clock {n} reset")
        return done


@register
class Ntp(Fault):
    verbs = ("ntp",)
    usage = (("ntp stop|start", "the lab's NTP server"),)

    def arguments(self, p, verb):
        p.add_argument("action", choices=["stop", "start"])

    def inject(self, lab, verb, args):
        return self.set(lab, args.action)

    def set(self, lab: Lab, action: str) -> str:
        if not lab.plan.ntp:
            raise ChaosError(f"lab {lab.name} runs no NTP server (add `ntp:` to its topology)")
        faults = lab.faults()
        if action == "stop":
            if not ntpd.stop(lab.name):
                raise ChaosError("the lab's NTP server is not running")
            faults["ntp"] = "stopped"
            lab.save_faults(faults)
            lab.note("fault", "ntp stop: the lab's NTP server is down")
            return "NTP server stopped: node clocks now run free"
        if ntpd.pid(lab.name) is not None:
            raise ChaosError("the lab's NTP server is already running")
        pid = ntpd.start(lab.plan)
        faults.pop("ntp", None)
        lab.save_faults(faults)
        lab.note("repair", f"ntp start: the lab's NTP server is back (pid {pid})")
        return "NTP server started"

    def describe(self, lab, faults):
        return ["ntp stopped"] if faults.get("ntp") == "stopped" else []

    def repair(self, lab, faults):
        if faults.get("ntp") != "stopped":
            return []
        self.set(lab, "start")
        return ["ntp start"]


@register
class Cert(Fault):
    """Renew a device certificate (rotation); `--valid` seconds makes a short-lived one. Nothing
    to repair: the next renewal replaces it."""
    verbs = ("cert",)
    usage = (("cert NODE renew [--valid SECONDS]", "rotate the device certificate (short-lived with --valid)"),)

    def arguments(self, p, verb):
        p.add_argument("node")
        p.add_argument("renew", choices=["renew"])
        p.add_argument("--valid", type=float, metavar="SECONDS", help="a short-lived certificate")

    def inject(self, lab, verb, args):
        n = bigip(lab, args.node, NO_CLOCK)
        try:
            result = lab.call(n.name, "cert-renew", valid=args.valid)
        except ControlError as exc:
            raise ChaosError(str(exc)) from None
        lab.note("fault" if args.valid else "repair", f"cert {n.name} renewed, valid until {result['not_after']}",
                 node=n.name)
        return f"{n.name}: new device certificate, valid until {result['not_after']}"
