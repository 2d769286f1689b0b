"""A real Tcl 8.6 interpreter (tkinter, no display) with sandboxed children.

The daemon keeps one master interpreter (on the trio thread: Tcl objects stay on the thread that
made them). Each iRule and each iApp run gets its own *safe* child (`interp create -safe`: no
exec, open, file, socket, load, cd), with F5's commands aliased to Python callables. A run is
bounded by a command and a time budget (`interp limit`): a runaway loop ends with
"time limit exceeded" instead of hanging the daemon.
"""
from __future__ import annotations

import itertools
import time
import tkinter
from typing import Callable

# F5's expression operators (node/tcl/script.py rewrites `a starts_with b` into these calls)
OPERATOR_PROCS = r"""
namespace eval ::f5 {
    proc starts_with {a b} { string equal -length [string length $b] $a $b }
    proc ends_with {a b} { expr {[string length $b] == 0 || [string range $a end-[expr {[string length $b] - 1}] end] eq $b} }
    proc contains {a b} { expr {[string first $b $a] >= 0} }
    proc equals {a b} { string equal $a $b }
    proc matches_glob {a b} { string match $b $a }
    proc matches_regex {a b} { regexp -- $b $a }
}
"""
HIDDEN = ("after", "vwait", "update", "interp", "coroutine", "yield", "yieldto", "chan", "fcopy", "fileevent",
          "fblocked", "seek", "tell", "eof", "gets", "read", "flush", "close", "puts", "pid", "load", "source")
LIMITS_EXCEEDED = ("command count limit exceeded", "time limit exceeded")


class TclError(Exception):
    """User Tcl failed: `message` is Tcl's error text; `aborted` when the budget stopped it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        self.aborted = message in LIMITS_EXCEEDED


class Refused(Exception):
    """Raised by a Python command: becomes a Tcl error with this message in the calling script."""


class Master:
    """The daemon's one Tcl interpreter; children are made from it."""

    def __init__(self):
        self.tcl = tkinter.Tcl().tk     # the _tkinter app: call, createcommand, deletecommand
        self.tcl.wantobjects(False)    # results and arguments as Tcl's strings
        self._ids = itertools.count(1)

    def child(self, commands: dict[str, Callable[..., object]], budget: int = 200_000,
              budget_ms: int = 500) -> "Interp":
        """A sandboxed child; each eval may run `budget` commands and `budget_ms` milliseconds."""
        return Interp(self, f"c{next(self._ids)}", commands, budget, budget_ms)


class Interp:
    def __init__(self, master: Master, name: str, commands: dict[str, Callable], budget: int, budget_ms: int):
        self.master, self.name, self.budget, self.budget_ms = master, name, budget, budget_ms
        tcl = master.tcl
        tcl.call("interp", "create", "-safe", name)
        for cmd in HIDDEN:
            if tcl.call("interp", "eval", name, ("info", "commands", cmd)):
                tcl.call("interp", "hide", name, cmd)
        self._python: list[str] = []
        for cmd, fn in commands.items():
            self.alias(cmd, fn)
        tcl.call("interp", "eval", name, OPERATOR_PROCS)

    def alias(self, cmd: str, fn: Callable) -> None:
        """`cmd` in the child calls `fn(*words)`; a Refused (or any error) becomes a Tcl error."""
        tcl = self.master.tcl

        def call(*args):
            try:
                result = fn(*args)
            except Exception as exc:  # noqa: BLE001 - user Tcl sees every failure as a Tcl error
                try:
                    tcl.call("error", str(exc) if isinstance(exc, Refused) else f"{type(exc).__name__}: {exc}")
                except tkinter.TclError:
                    pass    # the error message is now the interpreter's result
                raise
            return "" if result is None else result

        pyname = f"::py_{self.name}_{len(self._python)}"
        tcl.createcommand(pyname, call)
        self._python.append(pyname)
        tcl.call("interp", "alias", self.name, cmd, "", pyname)

    def eval(self, script: str | tuple) -> str:
        """Run `script` (text, or a tuple of words passed as they are) in the child within the
        budget; TclError if it fails or runs over."""
        tcl = self.master.tcl
        try:
            ms = int(time.time() * 1000) + self.budget_ms   # a new budget lifts an exceeded one
            tcl.call("interp", "limit", self.name, "commands", "-value", "")
            tcl.call("interp", "limit", self.name, "time", "-seconds", ms // 1000, "-milliseconds", ms % 1000)
            count = int(tcl.call("interp", "eval", self.name, ("info", "cmdcount")))
            tcl.call("interp", "limit", self.name, "commands", "-value", count + self.budget)
            return str(tcl.call("interp", "eval", self.name, script))
        except tkinter.TclError as exc:
            raise TclError(str(exc)) from None

    def set_var(self, name: str, value: str) -> None:
        self.master.tcl.call("interp", "eval", self.name, ("set", name, value))

    def delete(self) -> None:
        tcl = self.master.tcl
        if tcl.call("interp", "exists", self.name):
            tcl.call("interp", "delete", self.name)
        for pyname in self._python:
            tcl.deletecommand(pyname)
        self._python.clear()

