"""util bash as automation uses it (sans-IO): `POST /mgmt/tm/util/bash {"command": "run",
"utilCmdArgs": "-c \"...\""}` -> the steps to answer it. A lab node has no shell: it runs tmsh
lines (`tmsh list ...; tmsh -c "cmd; cmd"`, bigip_command's form) and answers the few read-only
commands F5's Ansible modules send from the node's own state (bigip_wait: `runlevel` and the
mprov/vcmpd process checks; bigip_device_info: /VERSION and /proc/uptime). Anything else is refused.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..config.tmsh import split_commands
from .errors import RestError

# the whole script -> the fact that answers it
FACTS = {"runlevel": "runlevel", "ps aux | grep '[m]prov'": "provisioning", "ps aux | grep '[v]cmpd'": "vcmpd",
         "cat /VERSION": "version", "cat /proc/uptime": "uptime"}
TMSH = ("tmsh", "/usr/bin/tmsh")


@dataclass(frozen=True)
class Tmsh:
    line: str


@dataclass(frozen=True)
class Fact:
    name: str     # a value of FACTS


def plan(args: str) -> list[Tmsh | Fact]:
    """`-c "SCRIPT"` -> what answers it, in order."""
    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise RestError(400, f"utilCmdArgs: {exc}", 1) from None
    if len(words) != 2 or words[0] != "-c":
        raise RestError(400, 'utilCmdArgs must be -c "COMMAND" (the lab runs tmsh and a few read-only commands)', 1)
    script = words[1].strip()
    if script in FACTS:
        return [Fact(FACTS[script])]
    steps = [Tmsh(line) for part in split_commands(script) if part.strip() for line in tmsh_lines(part.strip())]
    if not steps:
        raise RestError(400, "utilCmdArgs holds no command", 1)
    return steps


def tmsh_lines(command: str) -> list[str]:
    """`tmsh list ltm pool` -> [that line]; `tmsh -c "cd /P; list ltm pool"` -> [the script]."""
    head, _, rest = command.partition(" ")
    if head not in TMSH:
        raise RestError(400, f"the lab runs only tmsh through util bash, not {head!r}", 1)
    rest = rest.strip()
    if not rest.startswith("-c"):
        return [rest]
    try:
        inner = shlex.split(rest)
    except ValueError as exc:
        raise RestError(400, f"utilCmdArgs: {exc}", 1) from None
    if len(inner) != 2:
        raise RestError(400, 'tmsh -c takes one quoted script: tmsh -c "CMD; CMD"', 1)
    return [inner[1].strip()]   # tmsh runs the script: its `cd /P` holds for the lines after it


def bash_tmsh_lines(args: str) -> list[str]:
    """The tmsh lines of a script that holds only tmsh."""
    steps = plan(args)
    if any(isinstance(s, Fact) for s in steps):
        raise RestError(400, "utilCmdArgs holds no tmsh command", 1)
    return [s.line for s in steps]
