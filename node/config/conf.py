"""bigip.conf text: `save sys config` writes the configuration as a BIG-IP keeps it (one set of
files a partition), `load sys config merge` reads such text back (a file, or sections pasted
from a real device) into one all-or-nothing change.

    /Common:  bigip.conf (ltm, ...)  bigip_base.conf (net, sys, cm, auth partition)
              bigip_user.conf (auth user)  bigip_gtm.conf (gtm)
    /P:       partitions/P/bigip.conf, partitions/P/bigip_base.conf ...

The text is tmsh's own syntax, so it is read with the tmsh line parser: each top-level
`TYPE NAME { ... }` block is a `create` of that object with those properties.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError
from ..version import VERSION
from .schema import BUILTIN, SINGLETONS, TYPES, UNPARTITIONED, object_path
from .store import Op
from . import iapp_text
from .tmsh import TCL_TYPES, TmshSyntaxError, View, properties, render, tcl_body, tokenize

HEADER = f"#TMSH-VERSION: {VERSION}\n\n"
# what a BIG-IP writes that the lab has no use for: its bookkeeping (taking a value), and
# properties read only at F5's default (anything else would be a behaviour the lab lacks)
BOOKKEEPING = ("creation-time", "last-modified-time", "vs-index")
AT_DEFAULT = {"recv-disable": "none", "serverssl-use-sni": "disabled"}
CONF = View(conf=True)
# types that depend on others come after them, so an object a later one makes implicitly (the node
# of a pool member, the virtual address of a virtual) is already there to be replaced
ORDER = ("auth partition", "cli script", "sys application template", "sys", "net vlan", "net", "cm device", "cm", "ltm monitor", "ltm node", "ltm profile",
         "ltm snat-translation", "ltm virtual-address", "ltm")


def file_of(type_: str) -> str:
    if type_.startswith("gtm "):
        return "bigip_gtm.conf"
    if type_ == "auth user":
        return "bigip_user.conf"
    if type_.split()[0] in ("net", "sys", "cm") or type_ == "auth partition":
        return "bigip_base.conf"
    return "bigip.conf"


def partition_of(type_: str, path: str) -> str:
    if type_ in UNPARTITIONED or not path.startswith("/"):
        return "Common"
    return path.split("/")[1]


def _is_builtin_as_shipped(type_: str, path: str, values: dict) -> bool:
    extra = BUILTIN.get((type_, path))
    return extra is not None and values == {**TYPES[type_].defaults(), **extra}


def dump(objects: dict) -> dict[str, str]:
    """{relative file name: text} for every partition's files; built-ins as shipped are left out,
    as a BIG-IP leaves them out."""
    files: dict[str, list[str]] = {}
    for (t, p), v in sorted(objects.items()):
        if _is_builtin_as_shipped(t, p, v):
            continue
        part = partition_of(t, p)
        name = file_of(t) if part == "Common" else f"partitions/{part}/{file_of(t)}"
        files.setdefault(name, []).append(render(t, p, v, view=CONF))
    files.setdefault("bigip.conf", [])
    return {name: HEADER + "".join(block + "\n" for block in blocks) for name, blocks in sorted(files.items())}


@dataclass(frozen=True)
class Block:
    line: int       # where it starts, for errors
    type: str
    path: str
    values: dict    # field -> (verb, value), as tmsh's parser gives them


class LoadError(ConfigError):
    """Text that cannot be read as configuration: tmsh's message, with the line."""

    def __init__(self, line: int, message: str, source: str = "terminal"):
        super().__init__(f"Syntax Error:({source} at line: {line}) {message}")
        self.line, self.detail = line, message


def statements(text: str) -> list[tuple[int, str]]:
    """Top-level `... { ... }` statements and their first line; full-line comments dropped."""
    out, cur, depth, start, quote = [], [], 0, 0, False
    for n, line in enumerate(text.splitlines(), 1):
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if not cur:
            start = n
        cur.append(line)
        prev = ""
        for ch in line:
            if ch == '"' and prev != "\\":
                quote = not quote
            elif not quote and ch == "{":
                depth += 1
            elif not quote and ch == "}":
                depth -= 1
                if depth < 0:
                    raise LoadError(n, 'unexpected "}"')
            prev = "" if prev == "\\" else ch
        if depth == 0 and not quote:
            out.append((start, "\n".join(cur)))
            cur = []
    if cur:
        raise LoadError(start, 'missing "}"')
    return out


def _block(line: int, stmt: str) -> Block:
    tcl = next((t for t in TCL_TYPES if stmt.lstrip().startswith(t + " ")), None)
    if tcl and "{" in stmt:   # an iRule's (a cli script's) body is Tcl, kept as it is
        head = stmt[:stmt.index("{")].split()
        if len(head) != 3:
            raise TmshSyntaxError(f"{tcl} needs one name, not {' '.join(head[2:]) or 'none'}")
        body = stmt[stmt.index("{") + 1:stmt.rindex("}")].removeprefix("\n").removesuffix("\n")
        return Block(line, tcl, object_path(tcl, head[2]), tcl_body(tcl, body))
    iapp = iapp_text.parse_block(stmt)
    if iapp:   # a template's or a service's blocks are Tcl and Tcl lists
        type_, name, values = iapp
        return Block(line, type_, object_path(type_, name), values)
    tokens = tokenize(stmt)
    if "{" not in tokens:
        raise TmshSyntaxError(f'"{" ".join(tokens[:3])}" is not an object (TYPE NAME {{ ... }})')
    brace = tokens.index("{")
    head, body = tokens[:brace], tokens[brace + 1:]
    if not body or body[-1] != "}":
        raise TmshSyntaxError('missing "}"')
    body = body[:-1]
    type_ = next((" ".join(head[:n]) for n in (5, 4, 3, 2) if " ".join(head[:n]) in TYPES), None)
    if type_ is None:
        raise TmshSyntaxError(f'"{" ".join(str(w) for w in head)}" is not an object type this lab models')
    words = [str(w) for w in head[len(type_.split()):]]
    if type_ in SINGLETONS:     # one of its kind; `gtm global-settings load-balancing { ... }` is a part of it
        path = SINGLETONS[type_]
    elif type_ == "gtm topology":
        path = object_path(type_, " ".join(words))
    elif len(words) != 1:
        raise TmshSyntaxError(f"{type_} needs one name, not {' '.join(words) or 'none'}")
    else:
        path = object_path(type_, words[0])
    t = TYPES[type_]
    values = properties(t, _without_bookkeeping(body))
    # `recv none`: a text property with no value, as a BIG-IP writes it
    unset = [k for k, (verb, v) in values.items() if v == "none" and (f := t.field(k)) is not None
             and f.kind == "str" and f.default is None]
    return Block(line, type_, path, {k: v for k, v in values.items() if k not in unset})


def _without_bookkeeping(body: list) -> list:
    """The block's words less F5's bookkeeping and the properties it writes at their defaults."""
    out, depth, i = [], 0, 0
    while i < len(body):
        w = body[i]
        if depth == 0 and w in BOOKKEEPING and i + 1 < len(body):
            i += 2
            continue
        if depth == 0 and w in AT_DEFAULT and i + 1 < len(body) and body[i + 1] == AT_DEFAULT[w]:
            i += 2
            continue
        depth += 1 if w == "{" else -1 if w == "}" else 0
        out.append(w)
        i += 1
    return out


def parse(text: str, source: str = "terminal") -> list[Block]:
    """Every object block of a bigip.conf text; a syntax error names the file and line."""
    blocks = []
    try:
        found = statements(text)
    except LoadError as exc:
        raise LoadError(exc.line, exc.detail, source) from None
    for line, stmt in found:
        try:
            blocks.append(_block(line, stmt))
        except (TmshSyntaxError, ConfigError) as exc:
            raise LoadError(line + _offset(stmt, str(exc)), _bare(exc), source) from None
    return blocks


def _offset(stmt: str, message: str) -> int:
    """How far into the statement the word an error quotes first appears (0: its first line)."""
    m = re.search(r'"([^"]+)"', message)
    if m:
        for n, text in enumerate(stmt.splitlines()):
            if n and re.search(rf"(^|\s){re.escape(m.group(1))}(\s|$)", text):
                return n
    return 0


def _bare(exc: Exception) -> str:
    return str(exc).removeprefix("Syntax Error: ")


def _rank(type_: str) -> int:
    return next((i for i, prefix in enumerate(ORDER) if type_ == prefix or type_.startswith(prefix + " ")),
                len(ORDER))


def merge_ops(objects: dict, blocks: list[Block]) -> list[Op]:
    """The change that merges `blocks` into `objects`: an object the text names is replaced by the
    text's (a built-in is modified, it cannot go), others are left alone."""
    ops = []
    for b in sorted(blocks, key=lambda b: _rank(b.type)):
        if (b.type, b.path) in BUILTIN:
            defaults = {f: ("set", v) for f, v in {**TYPES[b.type].defaults(), **BUILTIN[(b.type, b.path)]}.items()}
            ops.append(Op("modify", b.type, b.path, {**defaults, **b.values}))
            continue
        if (b.type, b.path) in objects:
            ops.append(Op("delete", b.type, b.path, {}))
        ops.append(Op("create", b.type, b.path, b.values))
    return ops


def replace_ops(objects: dict, blocks: list[Block], keep=lambda t, p: False) -> list[Op]:
    """The change that makes the configuration exactly `blocks` (a UCS load): everything else goes,
    but built-ins (and what `keep` names) stay."""
    named = {(b.type, b.path) for b in blocks}
    gone = [Op("delete", t, p, {}) for (t, p) in sorted(objects) if (t, p) not in named and (t, p) not in BUILTIN
            and not keep(t, p)]
    return gone + merge_ops(objects, blocks)


def default_ops(objects: dict, keep=lambda t, p: False) -> list[Op]:
    """`load sys config default`: everything goes but the built-ins, which take their built-in
    values again, and what `keep` names (the node's own set-up, its trust)."""
    reset = []
    for (t, p), own in BUILTIN.items():
        have, builtin = objects.get((t, p)), {**TYPES[t].defaults(), **own}
        if have is None or have == builtin or keep(t, p):
            continue
        values = {f: ("set", v) for f, v in builtin.items()} | {f: ("set", None) for f in have if f not in builtin}
        reset.append(Op("modify", t, p, values))
    return replace_ops(objects, [], keep) + reset
