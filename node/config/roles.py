"""What each BIG-IP user role may write, as one table (sans-IO).

F5's manual (User Roles, K10272): admin changes anything; resource-admin everything but user
accounts and authentication; user-manager user accounts; manager virtual servers, pools, members,
nodes, profiles, monitors, iRules and the other LTM objects of its partition, but no net, sys, auth
or cm object; certificate-manager SSL certificates and keys; irule-manager iRules;
application-editor modifies (not creates or deletes) nodes, pools and their members, and monitors;
operator only enables/disables (and forces down) nodes and pool members; auditor and guest read;
no-access cannot log in. Every role may change its own password.

`refused(role, user, op)` is the one decider: the store calls it for every commit made for a user
(access.py), so REST, transactions and tmsh are held to the same rule; REST also asks
`may_touch` first, as restjavad does before the configuration is reached (a 401).
"""
from __future__ import annotations

from dataclasses import dataclass

CRUD = frozenset({"create", "modify", "delete"})
ENABLE = frozenset({"session", "state"})      # what enabling/disabling and forcing down change


@dataclass(frozen=True)
class Grant:
    types: tuple[str, ...]              # type prefixes: "ltm" is every ltm type, "" every type
    verbs: frozenset = CRUD
    fields: frozenset | None = None     # a modify may change only these (None: any)
    member_fields: frozenset | None = None   # and, for pool members, only these of each member
    but: tuple[str, ...] = ()           # type prefixes left out

    def covers(self, type_: str) -> bool:
        def under(prefix: str) -> bool:
            return prefix == "" or type_ == prefix or type_.startswith(prefix + " ")
        return any(under(p) for p in self.types) and not any(under(p) for p in self.but)

    def allows(self, op) -> bool:
        if not self.covers(op.type) or op.action not in self.verbs:
            return False
        if self.fields is not None and not set(op.values) <= self.fields:
            return False
        if self.member_fields is not None and "members" in op.values:
            verb, members = op.values["members"]
            return verb == "modify" and all(set(m) <= self.member_fields for m in members.values())
        return True


ROLE_WRITES: dict[str, tuple[Grant, ...]] = {
    "admin": (Grant(("",)),),
    "resource-admin": (Grant(("",), but=("auth user", "auth password-policy")),),
    "user-manager": (Grant(("auth user",)),),
    "manager": (Grant(("ltm",)),),
    "certificate-manager": (Grant(("sys file ssl-cert", "sys file ssl-key")),),
    "irule-manager": (Grant(("ltm rule",)),),
    "application-editor": (Grant(("ltm node", "ltm pool", "ltm monitor"), frozenset({"modify"})),),
    "operator": (Grant(("ltm node",), frozenset({"modify"}), fields=ENABLE),
                 Grant(("ltm pool",), frozenset({"modify"}), fields=frozenset({"members"}), member_fields=ENABLE)),
    "auditor": (),
    "guest": (),
    "no-access": (),
}
ROLES = tuple(ROLE_WRITES)
OWN_PASSWORD = frozenset({"password"})


def own_password(user: str, op) -> bool:
    """Every role may change its own password (and nothing else of its account)."""
    return op.type == "auth user" and op.action == "modify" and op.path.rsplit("/", 1)[-1] == user \
        and set(op.values) <= OWN_PASSWORD


def refused(role: str, user: str, op) -> bool:
    """Whether `role` may not make this one change."""
    return not (own_password(user, op) or any(g.allows(op) for g in ROLE_WRITES.get(role, ())))


def may_touch(role: str, type_: str, action: str) -> bool:
    """Whether the role may make some change of this kind to this type (REST's first check)."""
    return any(g.covers(type_) and action in g.verbs for g in ROLE_WRITES.get(role, ()))


def writes_anything(role: str) -> bool:
    return bool(ROLE_WRITES.get(role))
