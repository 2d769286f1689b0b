"""An iApp template's presentation (APL), read enough to check a service's variables (sans-IO).

    section basic {
        string addr required
        choice port default "80" { "80", "443" }
        table members { string addr required
                        string port default "80" }
        multichoice vlans { "internal", "external" }
        optional ( basic__advanced == "Yes" ) { string timeout default "5" }
    }

Each field is named `SECTION__FIELD` as F5 passes it to the implementation: strings, passwords,
choices and editchoices become variables, a table becomes a table with its columns, a
multichoice becomes a list. `text`, `message`, `include` and `define` carry no values.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .script import TclSyntax, parse

VALUES = ("string", "password", "choice", "editchoice")
LISTS = ("multichoice",)
SILENT = ("message", "text", "include", "define", "row")   # nothing the implementation receives
OPTION_WORDS = ("required", "glob", "hide", "encrypt")      # option words without a value
VALUED = ("default", "display", "validator", "width", "height", "tcl", "columns", "minimum", "maximum")


class AplError(Exception):
    """The presentation could not be read, or a service's values do not fit it."""


@dataclass(frozen=True)
class AplField:
    name: str              # section__field
    kind: str              # string password choice editchoice multichoice table
    required: bool = False
    default: str | None = None
    choices: tuple[str, ...] = ()    # () when the template computes them (tcl) or any value goes
    columns: tuple["AplField", ...] = ()


def words(text: str) -> list[str]:
    """A Tcl list's elements (braces and quotes removed, no substitution)."""
    try:
        return [w.value for cmd in parse(text) for w in cmd.words]
    except TclSyntax as exc:
        raise AplError(f"line {exc.line}: {exc.message}") from None


_CHOICE = re.compile(r'"((?:[^"\\]|\\.)*)"(?:\s*=>\s*"((?:[^"\\]|\\.)*)")?')


def choices_of(text: str) -> tuple[str, ...]:
    """`{ "80", "443" }` or `{ "Yes" => "yes", "No" => "no" }`: the values a choice takes."""
    return tuple(value if value else label for label, value in _CHOICE.findall(text))


def fields(presentation: str) -> dict[str, AplField]:
    """The presentation's fields by variable name; AplError if it cannot be read."""
    try:
        cmds = parse(presentation)
    except TclSyntax as exc:
        raise AplError(f"presentation line {exc.line}: {exc.message}") from None
    out: dict[str, AplField] = {}
    for cmd in cmds:
        ws = [w.value for w in cmd.words]
        if ws[0] == "section" and len(ws) == 3:
            for f in _section(ws[1], ws[2]):
                out[f.name] = f
        elif ws[0] not in SILENT:
            raise AplError(f'presentation line {cmd.line}: "{ws[0]}" is not a section')
    return out


def _section(section: str, body: str, prefix: str | None = None) -> list[AplField]:
    prefix = f"{section}__" if prefix is None else prefix
    out: list[AplField] = []
    for cmd in parse(body):
        ws = cmd.words
        kind = ws[0].value
        if kind == "optional":    # optional ( condition ) { fields }: fields all the same
            out += _section(section, ws[-1].value, prefix)
            continue
        if kind in SILENT:
            continue
        if len(ws) < 2 or kind not in VALUES + LISTS + ("table",):
            raise AplError(f'section {section}: "{kind}" is not an APL element')
        name = ws[1].value
        if kind == "table":
            out.append(AplField(prefix + name, "table", columns=tuple(_section(section, ws[-1].value, prefix=""))))
            continue
        opts, required, default, choices, i = ws[2:], False, None, (), 0
        while i < len(opts):
            word = opts[i].value
            if word in OPTION_WORDS:
                required |= word == "required"
                i += 1
            elif word in VALUED and i + 1 < len(opts):
                if word == "default":
                    default = opts[i + 1].value
                i += 2
            elif opts[i].kind == "brace" and i == len(opts) - 1 and kind in ("choice", "editchoice", "multichoice"):
                choices = () if opts[i].value.lstrip().startswith("tcl") else choices_of(opts[i].value)
                i += 1
            else:
                raise AplError(f'section {section}: "{word}" is not an option of {kind} {name}')
        out.append(AplField(prefix + name, kind, required, default,
                            choices if kind in ("choice", "multichoice") else ()))
    return out


def check(apl: dict[str, AplField], variables: dict[str, str], tables: dict[str, dict],
          lists: dict[str, list[str]]) -> dict[str, str]:
    """A service's values against the presentation: unknown names, missing required fields, a
    choice outside its choices, a table with columns it does not have. Returns the variables with
    the defaults of those not given, as F5 passes them to the implementation."""
    given = [(n, "variable") for n in variables] + [(n, "table") for n in tables] + [(n, "list") for n in lists]
    for name, what in given:
        f = apl.get(name)
        want = {"variable": VALUES, "table": ("table",), "list": LISTS}[what]
        if f is None or f.kind not in want:
            raise AplError(f'"{name}" is not a {what} of the template')
    out = dict(variables)
    for f in apl.values():
        if f.kind in VALUES:
            value = variables.get(f.name, f.default)
            if f.required and value in (None, ""):
                raise AplError(f'the variable "{f.name}" is required')
            if value is not None and f.choices and value not in f.choices:
                raise AplError(f'"{value}" is not a choice of "{f.name}" ({", ".join(f.choices)})')
            if value is not None:
                out[f.name] = value
        elif f.kind == "table" and f.name in tables:
            table = tables[f.name]
            known = {c.name for c in f.columns}
            extra = [c for c in table["column-names"] if c not in known]
            if extra:
                raise AplError(f'table "{f.name}" has no column "{extra[0]}"')
            for row in table["rows"]:
                if len(row) != len(table["column-names"]):
                    raise AplError(f'table "{f.name}": a row has {len(row)} values for '
                                   f'{len(table["column-names"])} columns')
            missing = [c.name for c in f.columns if c.required and c.name not in table["column-names"]]
            if missing and table["rows"]:
                raise AplError(f'table "{f.name}" needs the column "{missing[0]}"')
        elif f.kind in LISTS and f.name in lists and f.choices:
            bad = [v for v in lists[f.name] if v not in f.choices]
            if bad:
                raise AplError(f'"{bad[0]}" is not a choice of "{f.name}"')
    return out
