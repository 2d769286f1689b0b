"""Partition access and role, as a BIG-IP enforces a user's `partition-access` (sans-IO).

A user whose access is one partition (`auth user U partition-access add { P1 { role manager } }`)
writes only there and reads only there and in /Common; `all-partitions` reaches everywhere. The
request (REST, or tmsh run for that user) sets CURRENT for its duration; ConfigStore.commit checks
every operation against it, so each way in to the store is held to the same rule, and the readers
(REST routes and stats, tmsh list and show) leave out what the user may not see. What the role
may change is roles.py's table.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from ..errors import RoleAccessDenied, WriteAccessDenied
from . import roles
from .schema import TYPES, UNPARTITIONED

ALL = "all-partitions"
COMMON = "Common"


def partition_of(type_: str, path: str) -> str:
    """The partition an object is in: its path's first folder; system-wide objects are /Common's."""
    if type_ in UNPARTITIONED or not path.startswith("/"):
        return COMMON
    return path[1:].split("/", 1)[0]


@dataclass(frozen=True)
class Access:
    user: str
    partition: str = ALL
    role: str = "admin"

    def may_read(self, type_: str, path: str) -> bool:
        return self.partition == ALL or partition_of(type_, path) in (COMMON, self.partition)

    def check(self, ops) -> None:
        """Every operation in a partition the user may write (else WriteAccessDenied) and one its
        role allows (else RoleAccessDenied); refused, nothing is done."""
        for op in ops:
            if roles.own_password(self.user, op):
                continue
            where = partition_of(op.type, op.path)
            if self.partition != ALL and where != self.partition:
                raise WriteAccessDenied(self.user, where)
            if self.role != "admin" and roles.refused(self.role, self.user, op):
                label = TYPES[op.type].label if op.type in TYPES else op.type
                raise RoleAccessDenied(self.user, op.action, label, op.path)


CURRENT: ContextVar[Access | None] = ContextVar("partition_access", default=None)


def may_read(type_: str, path: str) -> bool:
    """Whether the user of the current request (if it is scoped to a partition) may see the object."""
    access = CURRENT.get()
    return access is None or access.may_read(type_, path)
