"""Monitor rules, as a pool, a node or a GTM pool names its monitors: one monitor (`/Common/http`),
all of several (`/Common/http and /Common/tcp`), or a quorum (`min 1 of { /Common/http /Common/tcp }`);
GTM also has `require 1 from 2 { ... }` (probers). F5's semantics: with `and` a member is up only
while every monitor finds it up; with `min N of` while at least N do."""
from __future__ import annotations

from ..errors import Invalid
from .schema import full_path

RULE_WORDS = {"and", "min", "of", "require", "from", "{", "}", "default", "none"}


def words(rule: str | None) -> list[str]:
    """A rule's words, braces apart (`min 1 of {http tcp}` as `min 1 of { http tcp }`)."""
    return (rule or "none").replace("{", " { ").replace("}", " } ").split()


def is_monitor(word: str) -> bool:
    """Whether a word of a rule names a monitor (not a keyword, a brace or a count)."""
    return word not in RULE_WORDS and not word.isdigit()


def names(rule: str | None, folder: str = "/Common") -> list[str]:
    """The monitors a rule names, as full paths (relative names in `folder`)."""
    return [full_path(w, folder=folder) for w in words(rule) if is_monitor(w)]


def canonical(rule: str | None, folder: str = "/Common") -> str | None:
    """A rule as a BIG-IP shows it back: full paths, `min N of { ... }` in braces (Ansible sends it
    without them), `require P from N { ... }`, else `a and b`. One monitor is kept as given (REST
    shows its full path)."""
    if rule is None or " " not in rule.strip():
        return rule
    words = rule.replace("{", " ").replace("}", " ").split()
    listed = " ".join(names(rule, folder))
    if len(words) > 2 and words[0] == "min" and words[1].isdigit() and words[2] == "of":
        return f"min {words[1]} of {{ {listed} }}"
    if len(words) > 3 and words[0] == "require" and words[2] == "from":
        return f"require {words[1]} from {words[3]} {{ {listed} }}"
    if any(w != "and" for w in words[1::2]) or len(words) % 2 == 0:
        raise Invalid(f'monitor rule "{rule}": monitors are joined by "and", or given as min N of {{ ... }}')
    return " and ".join(names(rule, folder))


def quorum(rule: str | None) -> tuple[list[str], int]:
    """(the monitors, how many of them must find a member up): all of them unless `min N of`."""
    listed = names(rule) if rule not in (None, "none", "default") else []
    words = (rule or "").split()
    if len(words) > 2 and words[0] == "min" and words[1].isdigit():
        return listed, int(words[1])
    return listed, len(listed)


def check_quorum(rule: str) -> None:
    """`min N of` names at least N monitors, and N is at least 1."""
    listed, need = quorum(rule)
    if rule.split()[:1] == ["min"] and not 1 <= need <= len(listed):
        raise Invalid(f'monitor rule "{rule}": min {need} of {len(listed)} monitors '
                      "(the minimum is 1 to the number of monitors)")


def take(tokens: list) -> str:
    """tmsh: a rule's words from the front of `tokens` (`http and tcp`, `min 1 of { http tcp }`)."""
    if tokens[:1] == ["min"] and len(tokens) > 3 and tokens[2] == "of" and tokens[3] == "{":
        end = tokens.index("}") if "}" in tokens else len(tokens)
        words, tokens[:end + 1] = tokens[:end + 1], []
        return " ".join(str(w) for w in words)
    words = [str(tokens.pop(0))]
    while len(tokens) > 1 and tokens[0] == "and":
        words += [str(tokens.pop(0)), str(tokens.pop(0))]
    return " ".join(words)


def relative(rule: str, name) -> str:
    """A rule's monitors as `name` (a tmsh view) shows names: `http and tcp` in /Common."""
    return " ".join(w if w in RULE_WORDS or w.isdigit() else name(w) for w in rule.split())
