"""An application service's run: its template's implementation in a sandboxed Tcl child.

The store calls `run` while it builds a commit, so everything the implementation makes lands in
that one commit (a failure part way leaves nothing). The implementation sees F5's variables
(`$::basic__addr`, tables as lists of rows, lists as Tcl lists, `$tmsh::app_name`) and F5's
helpers; each tmsh::create/modify/delete becomes a store operation in the service's folder
/P/NAME.app, and what it creates is owned by the service (`app-service /P/NAME.app/NAME`).
The sandbox is Tcl's safe interpreter: no exec, open, file, socket; a command and time budget.
"""
from __future__ import annotations

import threading
from typing import Callable

from ..errors import ConfigError, IappFailed, NotFound
from ..tcl.apl import AplError, check, fields, words
from ..tcl.interp import Master, Refused, TclError
from .iapp_text import SCRIPT
from .schema import PARTITION, base_name, folder_of, object_path
from .tmsh import TmshSyntaxError, parse, render

BUDGET, BUDGET_MS = 2_000_000, 5000
_local = threading.local()   # one master interpreter per thread: Tcl objects stay on their thread

# F5's iapp:: helpers and tmsh::include/run, written in the lab's own Tcl (over a few Python calls)
HELPERS = r"""
namespace eval script {}
namespace eval tmsh {
    # a cli script's procs, defined at the global level as F5's tmsh::include does
    proc include {name} { uplevel #0 [::tmsh::script_body $name] }
    # `tmsh::run cli script NAME ARGS`: the script's script::run, with $tmsh::argv {NAME ARGS}
    proc run {args} {
        set words [expr {[llength $args] == 1 ? [lindex $args 0] : $args}]   ;# one string, or the words
        if {[lrange $words 0 1] ne {cli script} || [llength $words] < 3} { return [::tmsh::refuse_run $words] }
        set ::tmsh::argv [lrange $words 2 end]
        uplevel #0 [::tmsh::script_body [lindex $words 2]]
        return [uplevel #0 ::script::run]
    }
}
namespace eval iapp {
    proc is {var args} {
        upvar #0 [string trimleft $var :] value
        if {![info exists value]} { return 0 }
        if {[llength $args] == 0} { return [expr {$value ni {"" No no false disabled}}] }
        return [expr {$value in $args}]
    }
    proc destination {addr port} {
        if {[string first : $addr] >= 0} { return $addr.$port }
        return $addr:$port
    }
    proc pool_members {table {port_column port}} {
        set out {}
        foreach row $table {
            array unset column
            array set column [lindex $row 0]
            set port [expr {[info exists column($port_column)] ? $column($port_column) : 80}]
            set props {}
            foreach key {ratio priority-group} col {ratio priority} {
                if {[info exists column($col)] && $column($col) ne ""} { lappend props $key $column($col) }
            }
            lappend out "[destination $column(addr) $port] { $props }"
        }
        return [join $out " "]
    }
}
"""


def _master() -> Master:
    if getattr(_local, "master", None) is None:
        _local.master = Master()
    return _local.master


def variables_of(apl: dict, service: dict) -> tuple[dict, dict, dict]:
    """The service's variables (with the template's defaults), tables and lists, checked."""
    variables = {v["name"]: v["value"] for v in service.get("variables") or []}
    tables = {t["name"]: {"column-names": t["columnNames"], "rows": [r["row"] for r in t["rows"]]}
              for t in service.get("tables") or []}
    lists = {x["name"]: list(x["value"]) for x in service.get("lists") or []}
    return check(apl, variables, tables, lists), tables, lists


def run(path: str, service: dict, template: dict, apply: Callable[[str, str, str, dict], None],
        lookup: Callable[[str, str], dict | None], log: Callable[[str], None] = lambda line: None) -> None:
    """Run `template`'s implementation for the service at `path` (/P/NAME.app/NAME).
    apply(verb, type, path, values) makes one change; lookup(type, path) reads an object.
    Raises IappFailed (nothing applied stays: the caller's commit is dropped)."""
    folder = folder_of(path)
    try:
        apl = fields(template.get("presentation") or "")
        variables, tables, lists = variables_of(apl, service)
    except AplError as exc:
        raise IappFailed(str(exc)) from None

    def change(verb: str, args: tuple) -> str:
        text = " ".join(args)   # as F5's tmsh::create: the words joined (braces come as \{ or in a string)
        try:
            cmd = parse(f"{verb} {text}")
        except TmshSyntaxError as exc:
            raise Refused(str(exc)) from None
        if cmd.verb not in ("create", "modify", "delete") or not cmd.type:
            raise Refused(f'"{verb}" is not a tmsh::{verb} command')
        target = object_path(cmd.type, cmd.name, folder)
        values = dict(cmd.values)
        if cmd.verb == "create":
            values["app-service"] = ("set", path)
        try:
            apply(cmd.verb, cmd.type, target, values)
        except ConfigError as exc:
            raise Refused(str(exc)) from None
        return ""

    def get_config(*args: str) -> str:
        try:
            cmd = parse("list " + " ".join(args))
        except TmshSyntaxError as exc:
            raise Refused(str(exc)) from None
        target = object_path(cmd.type, cmd.name, folder) if cmd.name else None
        found = lookup(cmd.type, target) if target else None
        return _tcl_list([render(cmd.type, target, found, folder="/")]) if found is not None else ""

    def get_field_value(obj: str, field: str) -> str:
        ws = words(obj)
        props = words(ws[-1]) if ws else []
        return dict(zip(props[0::2], props[1::2])).get(field, "")

    def script_body(name: str) -> str:
        for where in (folder, PARTITION):     # the service's folder's, else /Common's
            found = lookup(SCRIPT, object_path(SCRIPT, name, where))
            if found is not None:
                return found.get("api-anonymous") or ""
        raise Refused(str(NotFound("Script", object_path(SCRIPT, name, PARTITION))))

    def refuse_run(words: str) -> str:
        raise Refused(f'"run {words}": an iApp runs only "run cli script NAME ..." here (the lab\'s iApp sandbox)')

    def conf(*args: str) -> str:
        verb, *rest = " ".join(args).split(None, 1) + [""]
        return change(verb, (rest[0],) if rest[0] else ())

    commands = {
        "tmsh::create": lambda *a: change("create", a), "tmsh::modify": lambda *a: change("modify", a),
        "tmsh::delete": lambda *a: change("delete", a), "tmsh::get_config": get_config,
        "tmsh::get_field_value": get_field_value, "iapp::conf": conf,
        "iapp::debug": lambda *a: log(" ".join(a)), "tmsh::script_body": script_body, "tmsh::refuse_run": refuse_run,
    }
    child = _master().child({}, budget=BUDGET, budget_ms=BUDGET_MS)
    try:
        child.eval("namespace eval tmsh {}; namespace eval iapp {}")
        for name, fn in commands.items():
            child.alias(name, fn)
        child.eval(HELPERS)
        child.set_var("::tmsh::app_name", base_name(path))
        child.set_var("::tmsh::app_template", base_name(service["template"]))
        for name, value in variables.items():
            child.set_var(f"::{name}", value)
        for name, table in tables.items():
            child.set_var(f"::{name}", _tcl_list([_tcl_list([_tcl_list([x for pair in zip(table["column-names"], row)
                                                                         for x in pair])]) for row in table["rows"]]))
        for name, values in lists.items():
            child.set_var(f"::{name}", _tcl_list(values))
        child.eval(template.get("implementation") or "")
    except TclError as exc:
        raise IappFailed(exc.message) from None
    finally:
        child.delete()


def _tcl_list(items: list[str]) -> str:
    """Items as a Tcl list (each braced where it needs it), as Tcl's `list` builds one."""
    return _master().tcl.call("list", *items) if items else ""
