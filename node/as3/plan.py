"""What a deploy changes: the tenants' desired objects against the store's, as one ops list.

The store itself says what the desired objects are once normalised: the trial (every object of
the tenants deleted, every desired one created) goes through `validate`, which changes nothing.
Only the objects that come out different are then deleted and created in the real commit, so a
redeploy of the same declaration is "no change", a hand edit inside a tenant is put back, and
the peer gets just what changed. AS3 owns its tenants: what is in them and not declared goes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..config import ssl_files
from ..config.schema import HASH_PREFIX, check_secret
from ..config.sealed import PREFIX, unseal
from ..config.store import Op
from ..errors import ConfigError
from .desired import Obj

CONTAINERS = ("sys folder", "auth partition")


def in_tenant(t: str, type_: str, path: str) -> bool:
    if type_ == "net route-domain":   # made beforehand (tmsh, DO), in /Common or the tenant: never AS3's
        return False
    if t == "Common":     # AS3 owns only /Common/Shared there
        return path == "/Common/Shared" or path.startswith("/Common/Shared/")
    return path == f"/Common/{t}" if type_ == "auth partition" else (path == f"/{t}" or path.startswith(f"/{t}/"))


def root_folder(type_: str, path: str) -> bool:
    """A partition's own folder /T: it comes and goes with the partition."""
    return type_ == "sys folder" and path.count("/") == 1


def delete_order(key: tuple[str, str]) -> tuple:
    """Objects before their folders, deeper folders first, the partition last."""
    t, p = key
    return (CONTAINERS.index(t) + 1 if t in CONTAINERS else 0, -p.count("/"), p)


@dataclass
class Plan:
    ops: list[Op]
    changed: dict[str, int] = field(default_factory=dict)   # tenant -> objects changed
    objects: dict[str, int] = field(default_factory=dict)   # tenant -> objects it has after


def same(a: dict | None, b: dict | None) -> bool:
    """Whether an object comes out as it is: a certificate or key installed again from the same
    text is the same file (its install record, times and revision, is not what AS3 declared; a
    passphrase, or any secret sealed again, is the same secret)."""
    if a is None or b is None:
        return a == b

    def comparable(x: dict) -> dict:
        return {k: unseal(v) if isinstance(v, str) and v.startswith(PREFIX) else v for k, v in x.items()
                if "pem" not in x or k not in ssl_files.STAMP}
    return comparable(a) == comparable(b)


def create(o: Obj) -> Op:
    return Op("create", o.type, o.path, {k: ("set", v) for k, v in o.values.items()})


def kept_hashes(o: Obj, current: dict) -> Obj:
    """A password the store keeps hashed (a gtm monitor's), declared again: the stored hash when
    it is of the same password, so that a redeploy is "no change" (a new hash has a new salt)."""
    now = current.get((o.type, o.path)) or {}

    def same_secret(k: str, v) -> bool:
        held = now.get(k)
        return (isinstance(v, str) and isinstance(held, str) and held.startswith(HASH_PREFIX)
                and not v.startswith(HASH_PREFIX) and check_secret(v, held))
    if not any(same_secret(k, v) for k, v in o.values.items()):
        return o
    return Obj(o.type, o.path, {k: now[k] if same_secret(k, v) else v for k, v in o.values.items()})


def plan(current: dict, validate: Callable[[list[Op]], tuple[dict, dict]],
         wanted: dict[str, list[Obj] | None], owned: set = frozenset()) -> Plan:
    """`current`: the store's objects; `wanted`: tenant -> its objects (None: remove the tenant);
    `owned`: what the tenants' last deploy made outside their folders (GSLB objects in /Common).
    Raises the store's ConfigError when the result would be refused."""
    mine = {k for k in current if (k in owned or any(in_tenant(t, *k) for t in wanted)) and not root_folder(*k)}
    deletes = [Op("delete", t, p, {}) for t, p in sorted(mine, key=delete_order)]
    desired = [kept_hashes(o, current) for objs in wanted.values() for o in (objs or [])]
    work, touched = validate(deletes + [create(o) for o in desired])
    changed = {k for k in touched if not same(work.get(k), current.get(k))}
    ops = [Op("delete", t, p, {}) for t, p in sorted(changed & mine, key=delete_order)]
    ops += [create(o) for o in desired if (o.type, o.path) in changed]
    return Plan(ops, {t: sum(1 for k in changed if in_tenant(t, *k)) for t in wanted},
                {t: sum(1 for k in work if in_tenant(t, *k)) for t in wanted})


def plan_each(current: dict, validate: Callable[[list[Op]], tuple[dict, dict]],
              wanted: dict[str, list[Obj] | None], owned: Callable[[str], set]) -> tuple[Plan, dict[str, str]]:
    """Tenant by tenant (Common first, as AS3 does), each tried on top of the tenants before it that
    the store took: one plan of the tenants that pass, and why each of the others was refused.
    A tenant is all or nothing: nothing of a refused one is in the plan."""
    ops: list[Op] = []
    done = Plan(ops)
    refused: dict[str, str] = {}
    for t in sorted(wanted, key=lambda t: t != "Common"):
        try:
            p = plan(current, lambda more: validate(ops + more), {t: wanted[t]}, owned(t))
        except ConfigError as exc:
            refused[t] = str(exc)
            continue
        ops += p.ops
        done.changed.update(p.changed)
        done.objects.update(p.objects)
    return done, refused
