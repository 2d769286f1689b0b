"""The messages of the 4353 channel: one frozen class per kind, a closed set (see KINDS).

On the wire a message is a msgpack map whose "t" names its kind (framing.py); `to_wire` gives that
map and `decode` turns a received one back into its class. A constructor checks its fields' types,
so a message built here is well formed and a malformed one from a peer raises BadMessage (the
channel logs it and carries on). Fields a peer sends that a class does not know are ignored and
missing optional ones take their defaults, so a minor version may add fields.

A new message: a class here with its `kind`, added to KINDS; its handler is registered with
`IQuery.handle(TheClass, handler)` by the service that owns it.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import ClassVar


class BadMessage(Exception):
    """A peer's message that is not one of ours or is malformed; the text says what."""


@dataclass(frozen=True)
class Message:
    kind: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for f, hint in _hints(type(self)).items():
            value = getattr(self, f)
            if not isinstance(value, hint):
                raise BadMessage(f"{self.kind!r}: {f} is {type(value).__name__}, expected "
                                 + " or ".join(t.__name__ for t in hint))

    def to_wire(self) -> dict:
        return {"t": self.kind, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}

    @classmethod
    def from_wire(cls, body: dict) -> "Message":
        names = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in body.items() if k in names})
        except TypeError as exc:   # a required field is missing
            raise BadMessage(f"{cls.kind!r}: {exc}") from None


_HINTS: dict[type, dict[str, tuple]] = {}


def _hints(cls: type) -> dict[str, tuple]:
    """Field name -> the runtime types it accepts (from the annotations, read once per class)."""
    if cls not in _HINTS:
        out = {}
        for name, hint in typing.get_type_hints(cls).items():
            if name == "kind":
                continue
            args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
            out[name] = tuple(type(None) if a is None else (typing.get_origin(a) or a) for a in args)
        _HINTS[cls] = out
    return _HINTS[cls]


# -- the session (protocol.py) --------------------------------------------------------------------
@dataclass(frozen=True)
class Hello(Message):
    """First message each way: protocol version [major, minor] and device name; `extra` holds any
    other fields (options a peer announces), kept on the wire as top-level fields."""
    kind: ClassVar[str] = "hello"
    version: list
    device: str
    extra: dict = field(default_factory=dict)

    def to_wire(self) -> dict:
        return {"t": self.kind, "version": self.version, "device": self.device, **self.extra}

    @classmethod
    def from_wire(cls, body: dict) -> "Hello":
        extra = {k: v for k, v in body.items() if k not in ("t", "version", "device")}
        return cls(body.get("version"), body.get("device"), extra)


@dataclass(frozen=True)
class Error(Message):
    kind: ClassVar[str] = "error"
    code: str = "?"
    reason: str = "?"


@dataclass(frozen=True)
class Ping(Message):
    kind: ClassVar[str] = "ping"


@dataclass(frozen=True)
class Pong(Message):
    kind: ClassVar[str] = "pong"


# -- device trust (join.py) -----------------------------------------------------------------------
@dataclass(frozen=True)
class TrustMembers(Message):
    """The authority's list of the trust domain's devices, at a generation."""
    kind: ClassVar[str] = "trust-members"
    generation: int
    members: list


@dataclass(frozen=True)
class JoinRequest(Message):
    kind: ClassVar[str] = "join-request"
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class Csr(Message):
    kind: ClassVar[str] = "csr"
    device: str
    csr: bytes          # PEM


@dataclass(frozen=True)
class Join(Message):
    kind: ClassVar[str] = "join"
    authority: str
    cert: bytes         # PEM, signed by the domain CA
    ca: bytes
    members: list
    generation: int
    ca_key: bytes | None = None   # for a peer authority only


@dataclass(frozen=True)
class Joined(Message):
    kind: ClassVar[str] = "joined"


# -- config sync (cm/) ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CmStatus(Message):
    """A device's sync and failover status: on channel open and on every change. `seq` numbers
    them within one daemon run (`boot`), so a late one is recognised as stale."""
    kind: ClassVar[str] = "cm-status"
    boot: str | None = None
    seq: int | None = None
    cid: list | None = None
    synced: dict = field(default_factory=dict)
    device: dict = field(default_factory=dict)
    failover: dict = field(default_factory=dict)
    synced_at: dict = field(default_factory=dict)   # group -> when (the sender's clock) it last synced


@dataclass(frozen=True)
class TrustConfig(Message):
    """The trust-scope objects (device groups, traffic groups) at generation `gen`."""
    kind: ClassVar[str] = "trust-config"
    gen: list
    objects: list


@dataclass(frozen=True)
class SyncPush(Message):
    """Our synced configuration for a group: all `objects` (mode full) or the `commits` since the
    peer's commit id (mode incremental). An auto-sync's full push carries the commit id the sender
    believes the peer is at (`base`): a peer that has moved on refuses it, as an incremental push
    from a base not its own."""
    kind: ClassVar[str] = "sync-push"
    group: str
    mode: str
    cid: list | None = None
    objects: list | None = None
    commits: list | None = None
    auto: bool = False
    save: bool = False
    base: list | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.mode, self.objects is None, self.commits is None) not in (("full", False, True),
                                                                           ("incremental", True, False)):
            raise BadMessage("'sync-push': mode full carries objects, mode incremental carries commits")


@dataclass(frozen=True)
class SyncResult(Message):
    kind: ClassVar[str] = "sync-result"
    group: str
    cid: list | None = None
    ok: bool = False
    error: str | None = None
    need_full: bool = False
    seq: int | None = None


@dataclass(frozen=True)
class SyncRequest(Message):
    """`config-sync from-group`: please push your configuration of `group` to me."""
    kind: ClassVar[str] = "sync-request"
    group: str


# -- GTM (gtm/) -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class GtmSubscribe(Message):
    """A GTM asks for health updates; `sync` is its GTM sync group status {group, enabled, gen}."""
    kind: ClassVar[str] = "gtm-subscribe"
    sync: dict = field(default_factory=dict)


@dataclass(frozen=True)
class GtmConfig(Message):
    kind: ClassVar[str] = "gtm-config"
    group: str
    gen: list
    objects: list


@dataclass(frozen=True)
class GtmHealth(Message):
    """An LTM's addresses and its virtual servers' availability (big3d)."""
    kind: ClassVar[str] = "gtm-health"
    device: str
    addresses: list = field(default_factory=list)
    virtuals: dict = field(default_factory=dict)
    seq: int | None = None


KINDS: dict[str, type[Message]] = {c.kind: c for c in (
    Hello, Error, Ping, Pong, TrustMembers, JoinRequest, Csr, Join, Joined, CmStatus, TrustConfig, SyncPush,
    SyncResult, SyncRequest, GtmSubscribe, GtmConfig, GtmHealth)}


def decode(body: dict) -> Message:
    """A received map as its message class; BadMessage if the kind is unknown or a field is wrong."""
    cls = KINDS.get(body.get("t"))
    if cls is None:
        raise BadMessage(f"unknown message {body.get('t')!r}")
    return cls.from_wire(body)
