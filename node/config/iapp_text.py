"""tmsh text of iApps: `sys application template` (and its .tmpl file) and `sys application service`.

Their blocks hold Tcl (an implementation, a presentation) and Tcl lists (a table's rows), so they
are read as Tcl reads them, not with tmsh's word tokenizer:

    sys application template /Common/lab.http {
        actions { definition { implementation { ... } presentation { ... } html-help { } } }
        description "..." requires-modules { ltm }
    }
    create sys application service web template lab.http variables add { basic__addr { value 10.1.10.100 } }
        tables add { pool__members { column-names { addr port } rows { { row { 10.1.20.11 80 } } } } }

Values are kept in F5's REST shape (variables [{name, encrypted, value}], tables [{name,
columnNames, rows [{row [...]}]}], lists [{name, encrypted, value [...]}]).
"""
from __future__ import annotations

import hashlib
import re

from ..errors import Invalid
from ..tcl.apl import AplError, words

TEMPLATE = "sys application template"
SERVICE = "sys application service"
SCRIPT = "cli script"
ACTIONS = ("html-help", "implementation", "presentation", "role-acl", "run-as")
LIST_VERBS = ("add", "delete", "modify", "replace-all-with")
BLOCK = re.compile(r"^\s*sys\s+application\s+(template|service)\s+(\S+)\s*\{(.*)\}\s*$", re.DOTALL)
COMMAND = re.compile(r"^\s*(?:tmsh\s+)?(create|modify)\s+sys\s+application\s+(template|service)\s+(\S+)(.*)$", re.DOTALL)


def _words(text: str) -> list[str]:
    try:
        return words(text)
    except AplError as exc:
        raise Invalid(f"cannot read the block: {exc}") from None


def _pairs(text: str, where: str) -> dict[str, str]:
    ws = _words(text)
    if len(ws) % 2:
        raise Invalid(f'"{ws[-1]}" needs a value in {where}')
    return dict(zip(ws[0::2], ws[1::2]))


def template_values(ws: list[str]) -> dict:
    """A template's properties from `actions { definition { ... } } description D requires-modules { ltm }`,
    as store values {field: (verb, value)}."""
    values, props = {}, list(ws)
    while props:
        key = props.pop(0)
        if not props:
            raise Invalid(f'"{key}" requires a value')
        value = props.pop(0)
        if value in LIST_VERBS and props:     # `actions replace-all-with { definition { ... } }`
            value = props.pop(0)
        if key == "actions":
            blocks = _pairs(value, "actions")
            if set(blocks) - {"definition"}:
                raise Invalid(f'"{sorted(set(blocks) - {"definition"})[0]}" is not an action (definition)')
            for k, v in _pairs(blocks.get("definition", ""), "definition").items():
                if k not in ACTIONS:
                    raise Invalid(f'"{k}" unknown property of definition')
                values[k] = ("set", _words(v) if k == "role-acl" else v.strip())
        elif key == "requires-modules":
            values[key] = ("set", [] if value == "none" else _words(value))
        elif key in ("description", "ignore-verification", "tmpl-checksum"):
            values[key] = ("set", value)
        else:
            raise Invalid(f'"{key}" unknown property')
    return values


def service_values(ws: list[str]) -> dict:
    """A service's properties (template, variables/tables/lists with add|modify|delete|replace-all-with,
    strict-updates, ...) as store values."""
    values, props = {}, list(ws)
    while props:
        key = props.pop(0)
        if not props:
            raise Invalid(f'"{key}" requires a value')
        if key in ("variables", "tables", "lists", "metadata"):
            verb = props.pop(0) if props[0] in LIST_VERBS else "set"
            verb = "set" if verb == "replace-all-with" else verb
            if not props:
                raise Invalid(f'"{key} {verb}" requires a list in braces')
            block = props.pop(0)
            items = [] if block == "none" else _items(key, block)
            values[key] = (verb, items)
        else:
            values[key] = ("set", props.pop(0))
    return values


def _items(key: str, block: str) -> list[dict]:
    ws = _words(block)
    if len(ws) % 2:
        raise Invalid(f'"{ws[-1]}" needs a block in {key}')
    out = []
    for name, body in zip(ws[0::2], ws[1::2]):
        props = _pairs(body, f"{key} {name}")
        if key == "variables":
            out.append({"name": name, "encrypted": props.get("encrypted", "no"), "value": props.get("value", "")})
        elif key == "metadata":
            out.append({"name": name, "persist": props.get("persist", "true"), "value": props.get("value", "")})
        elif key == "lists":
            out.append({"name": name, "encrypted": props.get("encrypted", "no"), "value": _words(props.get("value", ""))})
        else:
            rows = []
            for element in _words(props.get("rows", "")):
                row = _words(element)
                if len(row) != 2 or row[0] != "row":
                    raise Invalid(f'table {name}: each row is {{ row {{ VALUES }} }}')
                rows.append({"row": _words(row[1])})
            out.append({"name": name, "columnNames": _words(props.get("column-names", "")), "rows": rows})
    return out


def parse_command(line: str) -> tuple[str, str, str, dict] | None:
    """(verb, type, name, values) for a create/modify of an iApp object, or None for another line."""
    m = COMMAND.match(line)
    if not m:
        return None
    verb, kind, name, rest = m.groups()
    ws = _words(rest)
    type_ = f"sys application {kind}"
    return verb, type_, name, template_values(ws) if kind == "template" else service_values(ws)


def parse_block(stmt: str) -> tuple[str, str, dict] | None:
    """A saved `sys application template|service NAME { ... }` block -> (type, name, values)."""
    m = BLOCK.match(stmt)
    if not m:
        return None
    kind, name, body = m.groups()
    type_ = f"sys application {kind}"
    return type_, name, (template_values if kind == "template" else service_values)(_words(body))


def read_tmpl(text: str) -> list[tuple[str, dict]]:
    """The templates of a .tmpl file (F5's export: `cli admin-partitions {...}`, the `cli script`s
    the templates include, then one or more `sys application template NAME { ... }`), as (name, values)."""
    return [(name, values) for type_, name, values in read_tmpl_objects(text) if type_ == TEMPLATE]


def read_tmpl_objects(text: str) -> list[tuple[str, str, dict]]:
    """Every object of a .tmpl file, scripts first: (type, name, values)."""
    ws, out = _words(text), []
    i = 0
    while i < len(ws):
        if ws[i:i + 3] == ["sys", "application", "template"] and i + 4 < len(ws):
            out.append((TEMPLATE, ws[i + 3], template_values(_words(ws[i + 4]))))
            i += 5
        elif ws[i:i + 2] == ["cli", "script"] and i + 3 < len(ws):   # its body is Tcl, kept as written
            out.insert(0, (SCRIPT, ws[i + 2], {"api-anonymous": ("set", ws[i + 3].strip("\n"))}))
            i += 4
        elif ws[i] == "cli" and i + 2 < len(ws):   # cli admin-partitions { update-partition Common }
            i += 3
        else:
            raise Invalid(f'"{ws[i]}" is not a template in the file')
    if not any(t == TEMPLATE for t, _, _ in out):
        raise Invalid("the file holds no sys application template")
    return out


def merge(key: str, have: list, verb: str, items: list) -> list:
    """variables/tables/lists changed with add, modify, delete or set (by item name)."""
    _shape(key, items)
    by_name = {} if verb == "set" else {i["name"]: i for i in have}
    for item in items:
        if verb == "delete":
            if by_name.pop(item["name"], None) is None:
                raise Invalid(f'{key} has no "{item["name"]}"')
        elif verb == "add" and item["name"] in by_name:
            raise Invalid(f'{key} already has "{item["name"]}"')
        elif verb == "modify" and item["name"] not in by_name:
            raise Invalid(f'{key} has no "{item["name"]}"')
        else:
            by_name[item["name"]] = item
    return list(by_name.values())


def _shape(key: str, items) -> None:
    """Items as F5's REST gives them (the tmsh reader makes the same)."""
    def ok(i) -> bool:
        if not isinstance(i, dict) or not isinstance(i.get("name"), str):
            return False
        if key == "variables":
            return isinstance(i.get("value", ""), str)
        if key == "metadata":
            return isinstance(i.get("value", ""), str) and i.get("persist", "true") in ("true", "false")
        if key == "lists":
            return isinstance(i.get("value", []), list) and all(isinstance(x, str) for x in i.get("value", []))
        return isinstance(i.get("columnNames"), list) and isinstance(i.get("rows", []), list) and all(
            isinstance(r, dict) and isinstance(r.get("row"), list) for r in i.get("rows", []))

    bad = [i for i in (items if isinstance(items, list) else [items]) if not ok(i)][:1]
    if bad or not isinstance(items, list):
        raise Invalid(f"{key}: {(bad or [items])[0]!r} is not a {'metadata item' if key == 'metadata' else key[:-1]} (name, value{', columnNames, rows' if key == 'tables' else ''})")
    for i in items:   # F5's defaults for what REST may leave out
        if key == "metadata":
            i.setdefault("persist", "true")
            i.setdefault("value", "")
        elif key != "tables":
            i.setdefault("encrypted", "no")
            i.setdefault("value", "" if key == "variables" else [])
        else:
            i.setdefault("rows", [])


def template_checksum(values: dict) -> str:
    """A template's tmpl-checksum: the MD5 of its content as tmsh lists it, its name left out."""
    content = render(TEMPLATE, "", {k: v for k, v in values.items() if k != "tmpl-checksum"})
    return hashlib.md5(content.encode()).hexdigest()


def _quoted(v: str | None) -> str:
    return "none" if not v else f'"{v}"' if '"' not in v and not re.fullmatch(r"[\w.:/-]+", v) else _brace(v)


def _brace(v: str) -> str:
    return "{ }" if not v else v if re.fullmatch(r"[^\s{}\"\\;$\[\]]+", v) else "{ " + v + " }" \
        if "\n" not in v else "{\n" + v + "\n}"


def render(type_: str, name: str, values: dict) -> str:
    """`tmsh list` of a template or a service, in F5's layout."""
    if type_ == TEMPLATE:
        d = [f"            {k} {_brace(values.get(k) or '')}" if k not in ("role-acl",) else
             f"            {k} {_brace(' '.join(values.get(k) or [])) if values.get(k) else 'none'}" for k in ACTIONS]
        mods = values.get("requires-modules") or []
        return "\n".join([f"{type_} {name} {{", "    actions {", "        definition {", *d, "        }", "    }",
                          f"    description {_quoted(values.get('description'))}",
                          f"    requires-modules {'{ ' + ' '.join(mods) + ' }' if mods else 'none'}",
                          *([f"    tmpl-checksum {values['tmpl-checksum']}"] if values.get("tmpl-checksum") else []), "}"])
    lines = [f"{type_} {name} {{"]
    for k in ("description", "device-group", "inherited-devicegroup", "inherited-traffic-group",
              "strict-updates", "template", "traffic-group"):
        if values.get(k) is not None:
            lines.append(f"    {k} {_brace(str(values[k]))}")
    if values.get("lists"):
        lines += ["    lists {", *(f"        {i['name']} {{ encrypted {i['encrypted']} value {{ {' '.join(i['value'])} }} }}"
                                    for i in values["lists"]), "    }"]
    if values.get("tables"):
        lines.append("    tables {")
        for t in values["tables"]:
            rows = " ".join(f"{{ row {{ {' '.join(_brace(x) for x in r['row'])} }} }}" for r in t["rows"])
            lines.append(f"        {t['name']} {{ column-names {{ {' '.join(t['columnNames'])} }} rows {{ {rows} }} }}")
        lines.append("    }")
    if values.get("metadata"):
        lines += ["    metadata {", *(f"        {i['name']} {{ persist {i['persist']} value {_brace(i['value'])} }}"
                                       for i in values["metadata"]), "    }"]
    if values.get("variables"):
        lines += ["    variables {", *(f"        {i['name']} {{ encrypted {i['encrypted']} value {_brace(i['value'])} }}"
                                        for i in values["variables"]), "    }"]
    return "\n".join(lines + ["}"])
