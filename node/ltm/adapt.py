"""Content adaptation, as a BIG-IP does it: an HTTP virtual's request-adapt profile sends each
request, and its response-adapt profile each response, to the profile's internal virtual, whose
pool holds ICAP servers and whose ICAP profile says how to ask them (icap.py, RFC 3507).

`adapters` decides from the configuration (sans-IO); `ask` is the thin IO: one ICAP exchange on
one connection to the server the internal virtual picked.
"""
from __future__ import annotations

from dataclasses import dataclass


from ..config import profiles
from ..config.schema import full_path
from . import icap

CHUNK = 65536


@dataclass(frozen=True)
class Adapter:
    """One direction's adaptation: the adapt profile's settings and its internal virtual."""
    kind: str                 # "request-adapt" | "response-adapt"
    profile: dict
    internal: str             # the internal virtual's path
    virtual: dict
    icap: dict                # the internal virtual's ICAP profile's settings ({} without one)

    @property
    def method(self) -> str:
        return "REQMOD" if self.kind == "request-adapt" else "RESPMOD"

    @property
    def down_action(self) -> str:
        return self.profile.get("service-down-action", "ignore")

    @property
    def timeout(self) -> float | None:
        """Seconds to wait for the ICAP service (the profile's milliseconds; 0: no limit)."""
        ms = int(self.profile.get("timeout", 0) or 0)
        return ms / 1000 if ms else None

    @property
    def preview(self) -> int | None:
        n = int(self.icap.get("preview-length", 0) or 0)
        return n or None

    def applies(self, version: str) -> bool:
        """An HTTP/1.0 message is adapted only with allow-http-10 yes."""
        return version != "1.0" or self.profile.get("allow-http-10") == "yes"


def adapters(lookup, virtual: dict) -> dict[str, Adapter]:
    """The virtual's enabled adapt profiles that name an internal virtual, by kind."""
    out = {}
    for name in virtual.get("profiles") or ():
        kind = profiles.kind_of(lookup, name)
        if kind not in ("request-adapt", "response-adapt"):
            continue
        prof = lookup(f"ltm profile {kind}", full_path(name.split()[0])) or {}
        internal = prof.get("internal-virtual") or "none"
        if prof.get("enabled", "yes") != "yes" or internal == "none":
            continue
        internal = full_path(internal)
        vs = lookup("ltm virtual", internal) or {}
        icap_prof = next((lookup("ltm profile icap", full_path(p.split()[0])) or {}
                          for p in vs.get("profiles") or () if profiles.kind_of(lookup, p) == "icap"), {})
        out[kind] = Adapter(kind, prof, internal, vs, icap_prof)
    return out


async def ask(stream, first: bytes, rest: bytes | None) -> icap.Response:
    """Send an ICAP request (`rest` after the server's 100 Continue) and read the final response."""
    await stream.send_all(first)
    buf = b""
    while True:
        got = icap.parse(buf)
        if got is None:
            data = await stream.receive_some(CHUNK)
            if not data:
                raise icap.Bad("the ICAP server closed before it answered")
            buf += data
            continue
        resp, used = got
        buf = buf[used:]
        if resp.status != 100:
            return resp
        if rest is None:
            raise icap.Bad("100 Continue with nothing left to send")
        await stream.send_all(rest)
        rest = None
