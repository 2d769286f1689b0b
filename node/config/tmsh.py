"""tmsh text: parse a command line into a Command, print objects as `tmsh list` does.

    create ltm pool web members add { 10.1.20.21:80 10.1.20.22:80 } monitor http
    modify ltm pool web members modify { 10.1.20.21:80 { session user-disabled } }
    create cm device-group dg devices add { bigip1 bigip2 } type sync-failover auto-sync enabled

Syntax errors read as tmsh's do (`Syntax Error: "colour" unknown property`) and change nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .schema import (GTM_ALL_TYPES, GTM_SETTINGS_GROUPS, HASH_PREFIX, MEMBER_FIELDS, PARTITION, SINGLETONS,
                     TYPES, UNPARTITIONED, ConfigError, ObjType, base_name, object_path, split_terms, topology_name)
from . import iapp_text, monitor_rules, policy_words
from .services import port_name

LIST_VERBS = ("add", "delete", "modify", "replace-all-with")
SETTINGS_GROUPS = ("general", "load-balancing", "metrics")   # gtm global-settings sub-groups
TOPOLOGY_PROPS = ("score", "order", "description")
BLOCK_LISTS = {("ltm virtual", "rules"), ("ltm virtual", "vlans"),   # F5 lists them one item a line
               *((f"gtm wideip {rt}", "rules") for rt in GTM_ALL_TYPES)}
LIST_OPTIONS = ("all-properties", "one-line", "recursive", "non-default-properties")


class TmshSyntaxError(Exception):
    pass


@dataclass
class Command:
    verb: str                       # create modify delete list show run save
    type: str | None = None         # "ltm pool"
    name: str | None = None
    values: dict = field(default_factory=dict)   # field -> (verb, value)
    words: list = field(default_factory=list)    # the rest, for show/run/save/list options


_TOKEN = re.compile(r'\s*(?:(\{)|(\})|"((?:[^"\\]|\\.)*)"|([^\s{}"]+))')


def tokenize(line: str) -> list[str]:
    tokens, pos = [], 0
    line = line.strip()
    while pos < len(line):
        m = _TOKEN.match(line, pos)
        if not m or m.end() == pos:
            if line[pos:].strip() == "":
                break
            raise TmshSyntaxError(f'Syntax Error: unterminated quoted string at "{line[pos:pos + 20]}"')
        pos = m.end()
        if m.group(1):
            tokens.append("{")
        elif m.group(2):
            tokens.append("}")
        elif m.group(3) is not None:
            tokens.append(Quoted(re.sub(r'\\([\\"])', r"\1", m.group(3))))   # `\r` stays two characters, as in F5's send strings
        elif m.group(4):
            tokens.append(m.group(4))
    return tokens


class Quoted(str):
    """A token that was quoted: never a brace or keyword."""


def parse(line: str) -> Command:
    try:
        return _parse(line)
    except ConfigError as exc:
        raise TmshSyntaxError(str(exc)) from None


def _gtm_name(type_: str, rest: list) -> tuple[str | None, list]:
    """Names that are not one word: a topology record (`ldns: ... server: ...`), and the
    singletons (global settings, password policy), which have none (the global settings'
    sub-groups `load-balancing { ... }` are flattened)."""
    if type_ in SINGLETONS:   # the braces of a group and of the whole (`modify sys dns { ... }`) go;
        flat, opened = [], []   # a list's stay (`name-servers replace-all-with { 10.1.1.53 }`)
        for i, tok in enumerate(rest):
            brace = tok in ("{", "}") and not isinstance(tok, Quoted)
            if tok in SETTINGS_GROUPS:
                continue
            if brace and tok == "{":
                group = i == 0 or rest[i - 1] in SETTINGS_GROUPS
                opened.append(group)
                if group:
                    continue
            elif brace and (opened.pop() if opened else True):
                continue
            flat.append(tok)
        return SINGLETONS[type_], flat
    if not rest:
        return None, rest
    end = next((i for i, t in enumerate(rest) if t in TOPOLOGY_PROPS or t in LIST_OPTIONS),
               len(rest))
    if end == 0:   # `list gtm topology one-line`: options, no record named
        return None, rest
    return topology_name([str(t) for t in rest[:end]]), rest[end:]


RULE = re.compile(r"^\s*(?:tmsh\s+)?(create|modify)\s+(ltm\s+rule|gtm\s+rule|cli\s+script)\s+(\S+)\s*\{(.*)\}\s*$",
                  re.DOTALL)
TCL_TYPES = ("ltm rule", "gtm rule", "cli script")     # objects whose whole body is Tcl
OWNER_LINE = re.compile(r"\n[ \t]*app-service[ \t]+(\S+)[ \t]*$")      # what follows an iApp-made iRule's Tcl


def tcl_body(type_: str, body: str, folder: str = PARTITION) -> dict:
    """A saved iRule's (cli script's) block body -> its values: the Tcl, and the app-service
    line a BIG-IP writes after the Tcl of one an application service made."""
    owner = OWNER_LINE.search(body)
    values = {"api-anonymous": ("set", body[:owner.start()] if owner else body)}
    if owner:
        values["app-service"] = ("set", object_path("sys application service", owner.group(1), folder)
                                 if owner.group(1) != "none" else "none")
    return values


def _parse(line: str) -> Command:
    rule = RULE.match(line)
    if rule:   # an iRule's body is Tcl, kept as written: `create ltm rule r1 { when HTTP_REQUEST { ... } }`
        verb, type_, name, body = rule.groups()
        return Command(verb, " ".join(type_.split()), name, values={"api-anonymous": ("set", body.strip("\n"))})
    iapp = iapp_text.parse_command(line)
    if iapp:   # an iApp's blocks are Tcl: `create sys application template T actions { definition { ... } }`
        verb, type_, name, values = iapp
        return Command(verb, type_, name, values=values)
    tokens = tokenize(line)
    if tokens and tokens[0] == "tmsh":
        tokens = tokens[1:]
    if not tokens:
        raise TmshSyntaxError("Syntax Error: empty command")
    verb, rest = tokens[0], tokens[1:]
    if verb in ("show", "run", "save", "load", "reset-stats"):
        if any(t in ("{", "}") for t in rest):
            raise TmshSyntaxError(f'Syntax Error: unexpected "{{" in {verb}')
        return Command(verb, words=list(rest))
    if verb not in ("create", "modify", "delete", "list"):
        raise TmshSyntaxError(f'Syntax Error: "{verb}" unknown command')
    type_, rest = _object_type(rest, verb)
    t = TYPES[type_]
    if type_ == "gtm topology" or type_ in SINGLETONS:
        name, rest = _gtm_name(type_, rest)
        if verb == "list" or verb == "delete":
            for w in rest:
                if w not in LIST_OPTIONS or verb == "delete":
                    raise TmshSyntaxError(f'Syntax Error: "{w}" unexpected argument')
            return Command(verb, type_, name, words=rest)
        if name is None:
            raise TmshSyntaxError(f"Syntax Error: {t.path} needs a name")
        return Command(verb, type_, name, values=properties(t, rest))
    if verb == "list":
        name = rest.pop(0) if rest and rest[0] not in LIST_OPTIONS and rest[0] != "{" else None
        for w in rest:
            if w not in LIST_OPTIONS:
                raise TmshSyntaxError(f'Syntax Error: "{w}" unexpected argument')
        return Command(verb, type_, name, words=rest)
    if not rest or rest[0] in ("{", "}"):
        raise TmshSyntaxError(f"Syntax Error: {t.path} needs a name")
    name = rest.pop(0)
    if verb == "delete":
        if rest:
            raise TmshSyntaxError(f'Syntax Error: "{rest[0]}" unexpected argument')
        return Command(verb, type_, name)
    return Command(verb, type_, name, values=properties(t, rest))


def _object_type(tokens: list, verb: str) -> tuple[str, list]:
    for n in (5, 4, 3, 2):
        if len(tokens) >= n and " ".join(tokens[:n]) in TYPES:
            return " ".join(tokens[:n]), tokens[n:]
    shown = " ".join(str(t) for t in tokens[:3])
    raise TmshSyntaxError(f'Syntax Error: "{shown}" is not a configurable object ({verb} '
                          "what? e.g. ltm pool, net self, cm device-group)")


def _block(tokens: list) -> list:
    """Consume `{ ... }` (the opening brace already taken): a list of (word, sub-block or None)."""
    items = []
    while True:
        if not tokens:
            raise TmshSyntaxError('Syntax Error: missing "}"')
        tok = tokens.pop(0)
        if tok == "}" and not isinstance(tok, Quoted):
            return items
        if tok == "{" and not isinstance(tok, Quoted):
            raise TmshSyntaxError('Syntax Error: unexpected "{"')
        sub = None
        if tokens and tokens[0] == "{" and not isinstance(tokens[0], Quoted):
            tokens.pop(0)
            sub = _block(tokens)
        items.append((str(tok), sub))


def _pairs(items: list, where: str) -> dict:
    """A block of `key value` words, as a member's properties."""
    words = []
    for word, sub in items:
        if sub is not None:
            raise TmshSyntaxError(f'Syntax Error: unexpected "{{" after "{word}" in {where}')
        words.append(word)
    if len(words) % 2:
        raise TmshSyntaxError(f'Syntax Error: "{words[-1]}" needs a value in {where}')
    return dict(zip(words[0::2], words[1::2]))


def _item_props(f, items: list, where: str) -> dict:
    """An item's block: `key value` pairs, and for a policy rule its numbered conditions and
    actions (`conditions { 0 { http-uri path starts-with values { /api } } }`)."""
    if f.kind == "members":
        return _member_props(items, where)
    clauses = {sf.name for sf in f.sub if sf.kind == "clauses"}
    lists = {sf.name for sf in f.sub if sf.kind == "list"}   # `nameservers { 10.1.30.53:53 { } }`
    if not clauses and not lists:
        return _pairs(items, where)
    props, rest = {}, []
    for word, sub in items:
        if word in lists and sub is not None:
            props[word] = [w for w, _ in sub]
        elif word in clauses and sub is not None:
            props[word] = [policy_words.from_words(f"{where} {word} {n}", word, n, block or [])
                           for n, block in sub]
        else:
            rest.append((word, sub))
    return {**_pairs(rest, where), **props}


def _member_props(items: list, where: str) -> dict:
    """A pool member's block: `key value` pairs, its monitor a rule (`monitor http and tcp`,
    `monitor min 1 of { http tcp }`)."""
    rest, rule, fqdn = [], None, None
    items = list(items)
    while items:
        word, sub = items.pop(0)
        if word == "fqdn" and sub is not None:   # `fqdn { autopopulate enabled }`
            fqdn = _pairs(sub, f"{where} fqdn")
            continue
        if word != "monitor" or sub is not None:
            rest.append((word, sub))
            continue
        words = []
        if len(items) > 2 and items[0][0] == "min" and items[2][0] == "of" and items[2][1] is not None:
            words = [w for w, _ in items[:3]] + ["{", *(w for w, _ in items[2][1]), "}"]
            del items[:3]
        elif items:
            words.append(items.pop(0)[0])
            while len(items) > 1 and items[0] == ("and", None):
                words += [items.pop(0)[0], items.pop(0)[0]]
        if not words:
            raise TmshSyntaxError(f'Syntax Error: "monitor" needs a value in {where}')
        rule = " ".join(words)
    props = {**_pairs(rest, where), **({"fqdn": fqdn} if fqdn is not None else {})}
    return {**props, "monitor": rule} if rule is not None else props


def _partition_access(tokens: list) -> dict:
    """`partition-access add { P1 { role manager } }` -> the user's partition and role (the lab
    keeps one partition a user)."""
    tokens.pop(0)
    items = _block(tokens)
    if len(items) != 1 or items[0][1] is None or set(_pairs(items[0][1], "partition-access")) != {"role"}:
        raise TmshSyntaxError('Syntax Error: partition-access takes one { PARTITION { role ROLE } } in the lab')
    name, sub = items[0]
    return {"partition-access": ("set", name), "role": ("set", _pairs(sub, "partition-access")["role"])}


def _encrypted_password(tokens: list) -> str:
    """The hash after `encrypted-password`: the lab's own form only (it cannot check a crypt(3) hash)."""
    if not tokens or not str(tokens[0]).startswith(HASH_PREFIX):
        raise TmshSyntaxError(f'Syntax Error: "encrypted-password" requires a {HASH_PREFIX} hash in the lab')
    return str(tokens.pop(0))


def properties(t: ObjType, tokens: list) -> dict:
    values = {}
    while tokens:
        word = tokens.pop(0)
        if word in ("{", "}") and not isinstance(word, Quoted):
            raise TmshSyntaxError(f'Syntax Error: unexpected "{word}"')
        if word in t.flags:
            values[t.flag_field] = ("set", word)
            continue
        if t.path == "auth user" and word == "partition-access" and tokens and tokens[0] != "{" and \
                tokens[0] in LIST_VERBS and tokens[1:2] == ["{"]:
            tokens.pop(0)
        if t.path == "auth user" and word == "partition-access" and tokens[:1] == ["{"]:
            values.update(_partition_access(tokens))
            continue
        if t.path == "auth user" and word == "encrypted-password":   # as a BIG-IP lists and saves it
            values["password"] = ("set", _encrypted_password(tokens))
            continue
        f = t.field(word)
        if f is None:
            raise TmshSyntaxError(f'Syntax Error: "{word}" unknown property')
        if f.kind == "switch":   # a bare word: `ip-forward`
            values[word] = ("set", True)
            continue
        if not tokens:
            raise TmshSyntaxError(f'Syntax Error: "{word}" requires a value')
        verb = "set"
        if word == "user-defined":   # `user-defined NAME VALUE`, once a variable (VALUE none removes it)
            if len(tokens) < 2:
                raise TmshSyntaxError('Syntax Error: "user-defined" requires a name and a value')
            name, value = str(tokens.pop(0)), str(tokens.pop(0))
            values.setdefault(word, ("set", {}))[1][name] = value
            continue
        if word == "monitor" and f.kind == "str" and tokens[0] != "{":   # `http and tcp`, `min 1 of { http tcp }`
            values[word] = ("set", monitor_rules.take(tokens))
            continue
        if word == "last-resort-pool" and tokens[0] in GTM_ALL_TYPES and len(tokens) > 1:
            tokens.pop(0)   # F5 writes `last-resort-pool a P3`
        if f.kind in ("list", "members", "items", "terms") and tokens[0] in LIST_VERBS:
            verb = tokens.pop(0)
            if verb == "replace-all-with":
                verb = "set"
            if not tokens or tokens[0] != "{":
                raise TmshSyntaxError(f'Syntax Error: "{word} {verb}" requires a list in braces')
        if f.kind in ("list", "members", "items", "terms") and tokens and tokens[0] == "none":
            tokens.pop(0)
            values[word] = ("set", {} if f.kind in ("members", "items") else [])
            continue
        if tokens[0] == "{" and not isinstance(tokens[0], Quoted):
            tokens.pop(0)
            items = _block(tokens)
            if f.kind in ("members", "items"):
                values[word] = (verb, {name: _item_props(f, sub or [], f"{word} {name}") for name, sub in items})
            elif f.kind == "terms":
                values[word] = (verb, split_terms([w for w, _ in items], word))
            elif f.kind == "record":
                values[word] = ("set", _pairs(items, word))
            elif f.kind == "list":
                # items are listed `1.1 { }`; a virtual's profiles may hold `context clientside`
                if any(sub for _, sub in items) and word != "profiles":
                    raise TmshSyntaxError(f'Syntax Error: unexpected "{{" in {word}')
                values[word] = (verb, [w for w, _ in items])
            elif f.kind == "str" and not any(sub for _, sub in items):
                values[word] = ("set", " ".join(w for w, _ in items))   # `allow-service { default }`
            else:
                raise TmshSyntaxError(f'Syntax Error: "{word}" takes a single value, not a list')
            continue
        value = tokens.pop(0)
        if value in ("{", "}") and not isinstance(value, Quoted):
            raise TmshSyntaxError(f'Syntax Error: "{word}" requires a value')
        if f.kind in ("members", "items", "terms"):
            raise TmshSyntaxError(f'Syntax Error: "{word}" takes a list in braces')
        values[word] = ("set", [str(value)] if f.kind == "list" else str(value))
    return values


# -- printing ---------------------------------------------------------------------------------
# What `tmsh list` shows of an object: properties in alphabetical order (as a BIG-IP lists them),
# those that differ from F5's defaults plus the few a BIG-IP always lists, names relative to the
# current folder, well-known ports by name. `conf` is the saved form (bigip.conf): full paths and
# port numbers, which `load sys config merge` reads back.
_MONITOR_ALWAYS = ("adaptive", "defaults-from", "interval", "ip-dscp", "recv", "send", "time-until-up", "timeout")
ALWAYS = {   # listed even at their defaults, as a BIG-IP lists them
    "ltm virtual": ("destination", "ip-protocol", "mask", "profiles", "source", "translate-address",
                    "translate-port"),
    "ltm virtual-address": ("address", "arp", "mask", "traffic-group"),
    "ltm node": ("address",),
    "net self": ("address", "allow-service", "traffic-group", "vlan"),
    "net vlan": ("interfaces", "tag"),
    **{t: _MONITOR_ALWAYS for t in TYPES if t.startswith("ltm monitor ")},
    "sys db": ("value",),
}
ALL_ONLY = {   # read-only properties a BIG-IP lists only with all-properties
    "sys db": ("default-value", "scf-config", "value-range"),
}
QUOTED = {("sys db", "value")}   # always in quotes, as F5 prints them: `sys db dhclient.mgmt { value "disable" }`


def _word(v) -> str:
    """A value as tmsh prints it: quoted when it must be, a backslash escaped only where it would
    otherwise read as an escape (so `"GET /\\r\\n"` prints as F5 prints it)."""
    s = str(v)
    if s and not re.search(r'[\s{}"]', s):
        return s
    return '"' + re.sub(r'\\(?=[\\"]|$)', r"\\\\", s).replace('"', '\\"') + '"'


def split_commands(text: str) -> list[str]:
    """Split a script on ; and && outside quotes and braces (`cd /P; list ltm pool`)."""
    out, cur, quote, depth, i = [], [], None, 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and i + 1 < len(text):
                cur.append(text[i:i + 2])
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "{}":
            depth += 1 if ch == "{" else -1
        elif depth <= 0 and (ch == ";" or text.startswith("&&", i)):
            out.append("".join(cur))
            cur = []
            i += 2 if ch == "&" else 1
            continue
        cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


@dataclass(frozen=True)
class View:
    """How names and ports read: relative to `folder` in tmsh, whole (and numeric) in bigip.conf."""
    folder: str = "/Common"
    conf: bool = False

    def name(self, v):
        if not isinstance(v, str) or self.conf:
            return v
        if self.folder == "/":
            return v[1:] if v.startswith("/") else v
        return v[len(self.folder) + 1:] if v.startswith(self.folder + "/") else v

    def port(self, addr_port: str) -> str:
        """`/Common/10.1.10.100:80` -> `10.1.10.100:http` (a name in tmsh, as stored in conf)."""
        if self.conf:
            return addr_port
        sep = ":" if addr_port.count(":") == 1 else "."
        head, _, port = addr_port.rpartition(sep)
        return f"{self.name(head) if head.startswith('/') else head}{sep}{port_name(port) if port.isdigit() else port}"


def _block_value(v) -> str:
    """A value inside a block: a word, or a list as `{ a b }`."""
    return f"{{ {' '.join(_word(x) for x in v)} }}" if isinstance(v, list) else _word(v)


def one_line(text: str) -> str:
    """`list ... one-line`: each object on one line."""
    out, cur = [], []
    for line in text.splitlines():
        cur.append(line.strip())
        if line == "}" or (not line.startswith(" ") and line.endswith("{ }")):
            out.append(" ".join(cur))
            cur = []
    return "\n".join(out + ([" ".join(cur)] if cur else []))


def object_name(type_: str, path: str, view: View) -> str | None:
    """The object's name as listed; None for a singleton (`auth password-policy { ... }`)."""
    if type_ in SINGLETONS:
        return None
    if type_ in UNPARTITIONED:
        return base_name(path)
    if type_ == "gtm topology":
        return path
    return view.name(path)


def _shown(t, f, v, all_properties: bool) -> bool:
    if not all_properties and f.name in ALL_ONLY.get(t.path, ()):
        return False
    if all_properties or f.name in ALWAYS.get(t.path, ()):
        return v is not None or f.kind in ("str", "ref")
    return not (v is None or v == f.default or (f.kind in ("list", "members", "items", "terms") and not v
                                                 and not f.default))


def render(type_: str, path: str, values: dict, all_properties: bool = False, folder: str = PARTITION,
           view: View | None = None) -> str:
    """An object as `tmsh list` shows it in `folder` (or as `view` says: the saved form)."""
    view = view or View(folder)
    t = TYPES[type_]
    if type_ in TCL_TYPES:     # an iRule lists as its Tcl, then (as F5 lists its properties) its owner
        owner = values.get("app-service")
        tail = f"\n    app-service {object_name('sys application service', owner, view)}" if owner not in (None, "none") else ""
        return f"{type_} {_word(object_name(type_, path, view))} {{\n{values.get('api-anonymous', '')}{tail}\n}}"
    if type_ in (iapp_text.TEMPLATE, iapp_text.SERVICE):
        return iapp_text.render(type_, _word(object_name(type_, path, view)), values)
    if type_ == "gtm global-settings":
        blocks = []
        for group, fields in GTM_SETTINGS_GROUPS.items():
            lines = [f"    {f.name} {_word(values.get(f.name, f.default))}" for f in sorted(fields, key=lambda f: f.name)
                     if all_properties or values.get(f.name, f.default) != f.default]
            if lines or all_properties:
                blocks.append("\n".join([f"{type_} {group} {{", *lines, "}"]))
        return "\n".join(blocks) or f"{type_} general {{ }}"
    props = []
    for f in t.fields:
        v = values.get(f.name, f.default) if type_ in SINGLETONS else values.get(f.name)
        if _shown(t, f, v, all_properties):
            key = v if t.flag_field == f.name else f.name
            props.append((key, _property(type_, f, v, view, all_properties)))
    if type_ == "auth user":   # F5 lists the role under the partition it applies to
        keep = [p for p in props if p[0] not in ("role", "partition-access", "password")]
        if values.get("password"):   # kept hashed, listed and saved as F5 does
            keep.append(("encrypted-password", [f"    encrypted-password {_word(values['password'])}"]))
        where, role = values.get("partition-access") or "all-partitions", values.get("role") or "guest"
        props = keep + [("partition-access", ["    partition-access {", f"        {_word(where)} {{",
                                              f"            role {_word(role)}", "        }", "    }"])]
    name = object_name(type_, path, view)
    head = f"{type_} {{" if name is None else f"{type_} {name if type_ == 'gtm topology' else _word(name)} {{"
    if not props:
        return head + " }"     # as a BIG-IP lists an object with nothing to show: `sys provision afm { }`
    lines = [head]
    for _, text in sorted(props, key=lambda p: p[0]):
        lines += text
    lines.append("}")
    return "\n".join(lines)


def _block_value(v) -> str:
    """A value inside a block: a word, or a list as `{ a b }`."""
    return f"{{ {' '.join(_word(x) for x in v)} }}" if isinstance(v, list) else _word(v)


def _property(type_: str, f, v, view: View, all_properties: bool = False) -> list[str]:
    t = TYPES[type_]
    if t.flag_field == f.name or f.kind == "switch":
        return [f"    {v if t.flag_field == f.name else f.name}"]
    if f.kind == "members":
        if not v:
            return ["    members none"]
        lines = ["    members {"]
        for m in v:
            lines.append(f"        {view.port(m['name'])} {{")
            for mf in sorted(MEMBER_FIELDS, key=lambda mf: mf.name):
                value = m.get(mf.name, mf.default)
                if mf.kind == "record":    # an FQDN member's `fqdn { autopopulate enabled name www.example.com }`
                    if value:
                        lines += ["            fqdn {", *(f"                {k} {_word(x)}" for k, x in sorted(value.items())),
                                  "            }"]
                    continue
                if mf.name == "monitor":   # a rule, in the view's names and unquoted
                    if value or all_properties:
                        lines.append(f"            monitor {monitor_rules.relative(value or 'default', view.name)}")
                    continue
                if all_properties or (value is not None and (mf.name == "address" or value != mf.default)):
                    lines.append(f"            {mf.name} {_word('none' if value is None else value)}")
            lines.append("        }")
        return lines + ["    }"]
    if f.kind == "items":
        if not v:
            return [f"    {f.name} none"]
        lines = [f"    {f.name} {{"]
        for item in v:
            name = _word(view.name(item["name"]))
            if any(sf.kind == "clauses" for sf in f.sub):
                lines += _clause_item(name, f, item, view)
                continue
            if any(sf.kind == "list" for sf in f.sub):   # a resolver's zone: `nameservers { 10.1.30.53:53 { } }`
                lines += [f"        {name} {{", *(line for sf in f.sub if item.get(sf.name) for line in (
                    f"            {sf.name} {{", *(f"                {_word(x)} {{ }}" for x in item[sf.name]),
                    "            }")), "        }"]
                continue
            props = [f"{sf.name} {_word(_sub_value(sf, item[sf.name], view))}"
                     for sf in sorted(f.sub, key=lambda sf: sf.name)
                     if item.get(sf.name) is not None and item[sf.name] != sf.default]
            lines.append(f"        {name} {{ {' '.join(props)} }}" if props else f"        {name} {{ }}")
        return lines + ["    }"]
    if f.name == "user-defined":
        return [f"    user-defined {_word(k)} {_word(x)}" for k, x in sorted(v.items())]
    if f.kind == "record":
        return [f"    {f.name} {{", *(f"        {k} {_block_value(view.name(x))}" for k, x in sorted(v.items())),
                "    }"]
    if f.kind == "terms":
        if not v:
            return [f"    {f.name} none"]
        return [f"    {f.name} {{", *(f"        {term} {{ }}" for term in v), "    }"]
    if f.kind == "list" and f.name == "profiles" and type_ == "ltm virtual":
        if not v:
            return ["    profiles none"]
        return ["    profiles {", *(f"        {_word(view.name(x))} {{ }}" for x in v), "    }"]
    if f.kind == "list" and (type_ == "gtm zone" or (type_, f.name) in BLOCK_LISTS):
        if not v:
            return [f"    {f.name} none"]
        return [f"    {f.name} {{", *(f"        {_word(view.name(x))}" for x in v), "    }"]
    if f.kind == "list":
        return [f"    {f.name} {{ {' '.join(_word(view.name(x)) for x in v)} }}" if v else f"    {f.name} none"]
    if f.name == "last-resort-pool" and v != "none":
        return [f"    {f.name} {type_.rsplit(' ', 1)[1]} {_word(view.name(v))}"]   # F5: `a P2`
    if f.kind == "dest":
        return [f"    {f.name} {view.port(v)}"]
    if f.name == "monitor" and isinstance(v, str) and " " in v.strip():   # a rule, in words: `http and tcp`
        return [f"    {f.name} {monitor_rules.relative(v, view.name)}"]
    if (type_, f.name) in QUOTED:
        return [f"    {f.name} \"{_word(v)[1:-1] if _word(v).startswith(chr(34)) else _word(v)}\""]
    return [f"    {f.name} {_word(view.name(v) if v is not None else 'none')}"]


def _clause_item(name: str, f, item: dict, view: View) -> list[str]:
    """A policy rule as tmsh lists it: its actions and conditions, one numbered block each."""
    lines = [f"        {name} {{"]
    for sf in sorted(f.sub, key=lambda sf: sf.name):
        v = item.get(sf.name)
        if sf.kind == "clauses" and v:
            lines.append(f"            {sf.name} {{")
            for c in v:
                words = " ".join(f"{w[0]} {_block_value(w[1])}" if isinstance(w, tuple) else _word(w)
                                 for w in policy_words.to_words(c))
                lines.append(f"                {c['name']} {{ {words} }}")
            lines.append("            }")
        elif sf.kind != "clauses" and v is not None and v != sf.default:
            lines.append(f"            {sf.name} {_word(view.name(v))}")
    return [f"        {name} {{ }}"] if len(lines) == 1 else lines + ["        }"]


def _sub_value(sf, v, view: View):
    return view.port(v) if sf.kind == "dest" and isinstance(v, str) else view.name(v)
