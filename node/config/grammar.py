"""What may come next on a tmsh line, from the schema: Tab completion and `?` help (sans-IO).

    >>> sorted(next_words([], "list ltm p"))[:3]
    ['persistence', 'policy', 'pool']      # (whatever the schema declares)

Module contexts work as on a BIG-IP: in `ltm` the line `list pool` is `list ltm pool`.
"""
from __future__ import annotations

from .schema import TYPES
from .tmsh import LIST_OPTIONS, LIST_VERBS

CONFIG_VERBS = ("create", "delete", "list", "modify")
# the commands that are not configuration, by verb: the words that may follow
COMMANDS = {
    "show": ("cm device", "cm device-group", "cm failover-status", "cm sync-status", "cm traffic-group",
             "gtm iquery", "gtm listener", "gtm pool", "gtm server", "gtm wideip", "ltm node", "ltm pool",
             "ltm virtual", "net arp", "net self", "sys clock", "sys failover", "sys ha-status",
             "sys ha-group", "sys mcp-state", "sys ntp", "sys version"),
    "run": ("cm config-sync", "sys failover"),
    "save": ("sys config", "sys ucs"),
    "load": ("sys config", "sys ucs"),
    "restart": ("sys service",),
}
SHELL_WORDS = ("cd", "exit", "help", "quit")
VERBS = CONFIG_VERBS + tuple(COMMANDS) + SHELL_WORDS
HELP = {"create": "Create a configuration object", "delete": "Delete a configuration object",
        "list": "List the configuration", "modify": "Modify a configuration object",
        "show": "Show status and statistics", "run": "Run a command (config-sync, failover)",
        "save": "Save the configuration or a UCS archive", "load": "Load the configuration or a UCS archive",
        "restart": "Restart a service", "cd": "Change the folder", "exit": "Leave the module (tmsh at the top)",
        "help": "Help", "quit": "Leave tmsh"}


def _paths(verb: str) -> list[tuple[str, ...]]:
    if verb in CONFIG_VERBS:
        return [tuple(t.split()) for t in TYPES] + ([("sys", "ucs")] if verb in ("list", "delete") else [])
    return [tuple(c.split()) for c in COMMANDS.get(verb, ())]


def modules() -> set[tuple[str, ...]]:
    """Every module and sub-module one can enter (`ltm`, `ltm monitor`, `gtm wideip` ...): a proper
    prefix of an object type or command path, even one that is also a `show` target (`gtm pool`
    is a context on a BIG-IP and `show gtm pool` shows every pool)."""
    whole = {p for v in VERBS for p in _paths(v)}
    return {p[:n] for p in whole for n in range(1, len(p))}


MODULES = modules()


def is_module(words: list[str]) -> bool:
    return tuple(words) in MODULES


def full_line(context: list[str], words: list[str]) -> list[str]:
    """A line typed in a module context as the one line tmsh runs: `list pool` in `ltm` is
    `list ltm pool`; `/sys` (or `/` and a path) names a module from the top."""
    if not words or words[0] not in VERBS or words[0] in SHELL_WORDS or not context:
        return words
    verb, rest = words[0], words[1:]
    if rest and rest[0].startswith("/") and rest[0] != "/" and tuple([rest[0][1:]]) in MODULES | {
            (p[0],) for p in _paths(verb)}:
        return [verb, rest[0][1:], *rest[1:]]
    return [verb, *context, *rest]


def next_words(context: list[str], text: str) -> dict[str, str]:
    """The words that may come next after `text` (its last word, if not followed by a space, is
    the start of the word being typed): word -> a short description, for completion and `?`."""
    words = text.split()
    if text and not text[-1].isspace() and words:
        words = words[:-1]
    if not words:
        out = {v: HELP[v] for v in VERBS}
        out.update({m[len(context)]: "module" for m in MODULES | {p[:len(context) + 1] for v in VERBS
                                                                   for p in _paths(v)}
                    if len(m) == len(context) + 1 and list(m[:len(context)]) == context})
        return out
    words = full_line(context, words)
    verb, rest = words[0], words[1:]
    paths = _paths(verb)
    matching = [p for p in paths if tuple(rest[:len(p)]) == p[:len(rest)] and len(rest) < len(p)]
    if matching:
        return {p[len(rest)]: "component" if len(p) > len(rest) + 1 else ("object type" if verb in CONFIG_VERBS
                                                                          else "command")
                for p in matching}
    type_ = next((" ".join(p) for p in sorted(paths, key=len, reverse=True) if tuple(rest[:len(p)]) == p), None)
    if type_ is None or type_ not in TYPES:
        return {}
    after = rest[len(type_.split()):]
    if verb == "list":
        return {o: "option" for o in LIST_OPTIONS}
    if verb in ("create", "modify") and after:
        t = TYPES[type_]
        last = after[-1]
        f = t.field(last)
        if f is not None and f.kind in ("list", "members", "items", "terms") and len(after) > 1:
            return {v: f"{f.name} {v} {{ ... }}" for v in LIST_VERBS}
        if f is not None:
            return {c: f"value of {f.name}" for c in f.choices} or {f"<{f.kind}>": f"value of {f.name}"}
        out = {f.name: f"property ({f.kind}{', default ' + str(f.default) if f.default not in (None, (), {}) else ''})"
               for f in t.fields}
        out.update({w: "flag" for w in t.flags})
        return out
    return {}


def name_position(context: list[str], text: str) -> str | None:
    """The object type whose name is being typed (`modify ltm pool w`), else None."""
    words = text.split()
    if text and not text[-1].isspace() and words:
        words = words[:-1]
    words = full_line(context, words)
    if not words or words[0] not in ("list", "modify", "delete"):
        return None
    rest = " ".join(words[1:])
    return rest if rest in TYPES else None
