"""Which kind of profile each of a virtual server's profiles is, and so which data path it takes."""
from __future__ import annotations

from collections.abc import Callable

from .schema import PROFILE_BUILTINS, full_path

Lookup = Callable[[str, str], "dict | None"]   # (type, path) -> object or None


def kind_of(lookup: Lookup, name: str) -> str | None:
    """'fastl4', 'http', 'tcp', ... for a profile name as a virtual lists it."""
    words = name.split()
    if not words:   # a blank name is no profile (the reference check refuses it)
        return None
    path = full_path(words[0])   # "clientssl { context clientside }" lists as its name first
    for kind in PROFILE_BUILTINS:
        if lookup(f"ltm profile {kind}", path) is not None:
            return kind
    return None


def kinds(lookup: Lookup, virtual: dict) -> set[str]:
    return {k for k in (kind_of(lookup, p) for p in virtual.get("profiles") or ()) if k}


def data_path(lookup: Lookup, virtual: dict) -> str:
    """'fastl4' (packets forwarded in the kernel), 'http' (HTTP-aware full proxy) or 'tcp'."""
    ks = kinds(lookup, virtual)
    if "fastl4" in ks or helper(lookup, virtual):   # PPTP, FTP: the kernel forwards them, its helper
        return "fastl4"                                # following their GRE calls or data connections
    if "http" in ks:
        return "http"
    return "tcp"


HELPED = ("pptp", "ftp")   # the profiles whose virtuals the kernel forwards with its conntrack helper of that name


def helper(lookup: Lookup, virtual: dict) -> str | None:
    """The kernel's conntrack helper a kernel-forwarded virtual's connections get: 'pptp' with a
    PPTP profile (its GRE calls follow the control connection to the member), 'ftp' with an FTP
    profile (its passive and active data connections follow it), else None."""
    ks = kinds(lookup, virtual)
    return next((k for k in HELPED if k in ks), None)
