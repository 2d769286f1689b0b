"""The configuration store: objects, commits, sync bookkeeping and persistence.

A change is a list of operations committed all or nothing: applied to a copy, checked as a whole
(references, uniqueness, what is in use), written to disk atomically, and only then made current.
kill -9 at any moment leaves either the old or the new configuration on disk, never a mix.

Each commit that touches synced configuration gets a commit id (cid: id, originating device, time),
as F5's `cid.id`, `cid.orig`, `cid.time`. Ids are Lamport counters, so the newest configuration
in a group always has the highest id. Recent commits are kept (up to the device group's
incremental cache size) so a peer that is only a few commits behind gets just those.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import msgpack

from .access import CURRENT
from ..clock import write_atomically
from ..events import ConfigCommitted, Hub
from . import fqdn_checks, gtm_checks, ha_checks, iapp, iapp_text, monitor_rules, policy, rule_checks, ssl_files, virtual_checks
from .sealed import unseal
from ..errors import ConfigError, Exists, FolderNotEmpty, InUse, Invalid, NotFound, StrictUpdates
from .schema import (ANY6, BUILTIN, LOCAL_ONLY, MEMBER_FIELDS, PARTITION, SSL_OWN, TYPES, UNPARTITIONED, ObjType,
                     base_name, coerce, folder_of, full_path, in_folder, mask_prefix, member_name, partition_of, plain,
                     rd_of, split_destination, split_rd, with_rd)


@dataclass(frozen=True)
class Cid:
    id: int
    orig: str
    time: float

    def to_list(self) -> list:
        return [self.id, self.orig, self.time]

    @classmethod
    def of(cls, value) -> "Cid | None":
        return None if value is None else cls(int(value[0]), str(value[1]), float(value[2]))

    def __str__(self) -> str:
        return f"{self.id} ({self.orig}, {time.strftime('%H:%M:%S', time.localtime(self.time))})"


@dataclass
class Op:
    """One operation of a change. `values` maps field -> (verb, value) with verb one of
    set, add, delete, modify (members), as tmsh's `members add { ... }`."""
    action: str            # create, modify, delete
    type: str
    path: str
    values: dict


def create_folder_ops(path: str, **values) -> list[Op]:
    """The op that makes a folder: a partition for /P (its folder comes with it), else the
    folder /P/F; `values` in tmsh names (description, app-service)."""
    vals = {k: ("set", v) for k, v in values.items()}
    if path.count("/") == 1:
        return [Op("create", "auth partition", full_path(path[1:]), vals)]
    return [Op("create", "sys folder", path, vals)]


class Change(NamedTuple):
    """What a commit did to one object: kind "put" (value is the new object) or "del" (value None).
    A tuple, so it packs for the wire as [kind, type, path, value]."""
    kind: str
    type: str
    path: str
    value: dict | None


def changes_of(work: dict, touched) -> list[Change]:
    """The changes that take the current objects to `work`, for the touched keys."""
    return [Change("put", t, p, work[(t, p)]) if (t, p) in work else Change("del", t, p, None)
            for (t, p) in touched]


LINEAGE = 256     # commit ids of our configuration's past kept (and saved) for telling a peer behind


ANY = object()     # apply_full's base: whatever our commit id is (a sync the user asked for)


class SyncRefused(Exception):
    """A sync could not be applied as sent (e.g. the base is not ours); the sender should send all."""


class ConfigStore:
    def __init__(self, path: Path | None, device: str, *, now=time.time, cache_kb: int = 1024,
                 events: Hub | None = None):
        self.path = Path(path) if path else None
        self.device = device
        self.now = now
        self.objects: dict[tuple[str, str], dict] = {}
        self.cid: Cid | None = None          # newest commit to synced configuration
        self.counter = 0                     # Lamport clock for commit ids
        self.synced: dict[str, list | None] = {}  # group -> cid at the last sync that group agreed on
        self.synced_at: dict[str, float] = {}     # group -> when (our clock) it last agreed on a new cid
        self.trust_gen = [0, ""]             # version of the trust-scope objects (device/traffic groups)
        self.gtm_gen = [0, ""]               # version of the gtm-scope objects (the GTM sync group's)
        self.commit_cache: deque[dict] = deque()   # recent synced commits: {"base", "cid", "changes", "size"}
        self.commit_cache_size = 0
        self.cache_bytes = cache_kb * 1024
        self.lineage: list = []              # bases of our synced commits since the last full load, saved
        self.events = events or Hub()        # ConfigCommitted after each successful change
        self.generation = 0                  # bumped by every change, as iControl REST's `generation`
        self.generations: dict[tuple[str, str], int] = {}
        self._implied: set = set()
        self._owner = False                  # an application service's run is changing its own objects
        self._restoring = False              # saved configuration coming back (see validate)
        self.ephemera = fqdn_checks.Ephemera()   # what this device's FQDN resolver made: shown, never saved
        if self.path and self.path.exists():
            self._load()
        else:
            for (t, p), v in BUILTIN.items():
                self.objects[(t, p)] = {**TYPES[t].defaults(), **v}

    # -- reading --------------------------------------------------------------------------------
    def get(self, type_: str, path: str) -> dict | None:
        """An object as the device shows it: a pool with its ephemeral members, an ephemeral node
        (`self.objects` is the configuration alone)."""
        values = self.objects.get((type_, path))
        if type_ == "ltm pool":
            return self.ephemera.pool(path, values)
        if values is None and type_ == "ltm node":
            return self.ephemera.node(path)
        return values

    def of_type(self, type_: str) -> dict[str, dict]:
        out = {p: v for (t, p), v in self.objects.items() if t == type_}
        if type_ == "ltm pool" and self.ephemera.members:
            out = {p: self.ephemera.pool(p, v) for p, v in out.items()}
        if type_ == "ltm node" and self.ephemera.nodes:
            out = dict(sorted({**self.ephemera.nodes, **out}.items()))
        return out

    def set_ephemera(self, ephemera: "fqdn_checks.Ephemera") -> None:
        """The resolver's nodes and members now: shown at once, neither a commit nor synced."""
        touched = {("ltm node", p) for p in {*self.ephemera.nodes, *ephemera.nodes}} | \
            {("ltm pool", p) for p in {*self.ephemera.members, *ephemera.members}}
        self.ephemera = ephemera
        self.generation += 1
        for key in touched:
            self.generations[key] = self.generation

    def scope(self, type_: str, values: dict) -> str:
        return TYPES[type_].scope_of(values)

    def snapshot(self, scope: str = "synced") -> list:
        return [[t, p, v] for (t, p), v in sorted(self.objects.items()) if self.scope(t, v) == scope]

    # -- changing -------------------------------------------------------------------------------
    def validate(self, ops: list[Op], restore: bool = False) -> tuple[dict, dict]:
        """What ops would make, checked as a whole; raises ConfigError. Changes nothing.
        `restore`: the ops bring back saved configuration (load sys config, a UCS): application
        services come back as they were saved, with what they own, and their templates do not run."""
        self._restoring = restore
        try:
            return self._validate(ops)
        finally:
            self._restoring = False

    def _validate(self, ops: list[Op]) -> tuple[dict, dict]:
        work = dict(self.objects)
        touched: dict[tuple[str, str], str] = {}
        self._implied: set = set()   # objects a create made for another (a partition's folder)
        for op in ops:
            self._apply(work, op, touched)
        self._check(work, touched)
        return work, touched

    def commit(self, ops: list[Op], origin: str | None = None, restore: bool = False) -> dict:
        """Apply ops all or nothing; returns {"cid", "changes"}; raises ConfigError, changes nothing.
        A request made for a user scoped to one partition may write only there (access.py)."""
        access = CURRENT.get()
        if access is not None:
            access.check(ops)
        work, touched = self.validate(ops, restore)
        return self._install(work, changes_of(work, touched), origin or self.device)

    def _install(self, work: dict, changes: list[Change], origin: str, cid: Cid | None = None,
                 from_peer: bool = False, synced_group: str | None = None, replaced: bool = False,
                 through: list | None = None) -> dict:
        """Make `work` current and persist it (with `synced_group` marked synced at the new commit,
        in the same write), then tell the listeners. `replaced`: a full load, not a step from ours;
        `through`: the commit ids a peer's commits replayed here went through on the way."""
        def is_synced(c: Change) -> bool:
            before = self.objects.get((c.type, c.path))
            return any(x is not None and self.scope(c.type, x) == "synced" for x in (c.value, before))

        synced = [c for c in changes if is_synced(c)]
        trust = [c for c in changes if TYPES[c.type].scope == "trust"]
        gtm = [c for c in changes if TYPES[c.type].scope == "gtm"]
        base = self.cid
        new_cid = self.cid
        if synced:   # a peer's configuration keeps its commit id, none if it has made no commit
            new_cid = cid if (cid is not None or from_peer) else Cid(self.counter + 1, origin, self.now())
        old = (self.objects, self.cid, self.counter, self.trust_gen, self.gtm_gen, self.synced, self.synced_at,
               self.lineage)
        if replaced:
            self.lineage = []
        elif synced and new_cid is not None and new_cid != base:
            self.lineage = [*self.lineage, *(through or [base.to_list() if base else None])][-LINEAGE:]
        self.objects, self.cid = work, new_cid
        if synced_group is not None:
            self._record_sync(synced_group, new_cid)
        if new_cid is not None:
            self.counter = max(self.counter, new_cid.id)
        if trust and cid is None and not from_peer:
            self.trust_gen = [self.trust_gen[0] + 1, origin]
        if gtm and cid is None and not from_peer:   # Lamport, so the GTM sync group's newest configuration wins
            self.gtm_gen = [max(self.gtm_gen[0], self.counter) + 1, origin]
            self.counter = max(self.counter, self.gtm_gen[0])
        try:
            self._persist()
        except OSError as exc:
            (self.objects, self.cid, self.counter, self.trust_gen, self.gtm_gen, self.synced, self.synced_at,
             self.lineage) = old
            raise Invalid(f"cannot save the change: {exc}") from None
        self._keep_files(changes)
        if synced and new_cid is not None:
            self._remember(base, new_cid, synced)
        self.generation += 1
        for c in changes:
            self.generations[(c.type, c.path)] = self.generation
            if c.type == ssl_files.CERT and c.value:   # a peer's copy of the CA bundle: ours is shared
                ssl_files.share_pem(c.value)
        result = {"cid": new_cid, "changes": changes, "synced": bool(synced), "trust": bool(trust),
                  "gtm": bool(gtm), "origin": origin}
        self.events.publish(ConfigCommitted(**result))
        return result

    def _remember(self, base: Cid | None, cid: Cid, changes: list[Change]) -> None:
        entry = {"base": base.to_list() if base else None, "cid": cid.to_list(),
                 "changes": [list(c) for c in changes]}
        entry["size"] = len(msgpack.packb(entry["changes"], use_bin_type=True))
        self.commit_cache.append(entry)
        self.commit_cache_size += entry["size"]
        while self.commit_cache and self.commit_cache_size > self.cache_bytes:
            self.commit_cache_size -= self.commit_cache.popleft()["size"]

    def past(self) -> frozenset:
        """The commit ids our configuration went through since its last full load (the last
        LINEAGE of them): saved with it, so a restart does not forget that a peer at one of them
        only lacks our newer commits."""
        return frozenset(Cid.of(c) for c in self.lineage)

    def commits_since(self, cid: Cid | None) -> list[dict] | None:
        """The commits that take a peer at `cid` to ours, or None if the cache does not reach."""
        if cid == self.cid:
            return []
        target = cid.to_list() if cid else None
        entries = list(self.commit_cache)
        for i, entry in enumerate(entries):
            if entry["base"] == target:
                return [{"base": e["base"], "cid": e["cid"], "changes": e["changes"]} for e in entries[i:]]
        return None

    # -- folders as one change (AS3 tenants and applications, iApps' /P/NAME.app) ------------------
    def delete_folder_ops(self, path: str) -> list[Op]:
        """The ops that delete a folder (a partition's own, /P, takes the partition) with everything
        in it, for one commit: all of it goes, or nothing if something outside still uses it."""
        inside = [(t, p) for (t, p) in self.objects if in_folder(p, path) and _folder(t, p)]
        ops = [Op("delete", t, p, {}) for t, p in sorted(inside, key=lambda k: (k[0] == "sys folder", -k[1].count("/")))]
        if path.count("/") == 1:
            return ops + [Op("delete", "auth partition", full_path(path[1:]), {})]
        return ops + [Op("delete", "sys folder", path, {})]

    # -- applying a sync ------------------------------------------------------------------------
    def apply_incremental(self, commits: list[dict], origin: str, group: str | None = None) -> dict:
        """Replay a peer's commits on ours; `group` (if given) is then marked synced at the last."""
        if not commits:
            if group is not None:
                self.mark_synced(group, self.cid)
            return {"cid": self.cid}
        if Cid.of(commits[0]["base"]) != self.cid:
            raise SyncRefused(f"incremental sync from {Cid.of(commits[0]['base'])}, this device is at {self.cid}")
        work = dict(self.objects)
        touched = {}
        for commit in commits:
            for verb, t, p, v in commit["changes"]:
                self._known(t)
                if verb == "put":
                    work[(t, p)] = dict(v)
                else:
                    work.pop((t, p), None)
                touched[(t, p)] = verb
        self._check(work, touched)
        return self._install(work, changes_of(work, touched), origin, cid=Cid.of(commits[-1]["cid"]),
                             synced_group=group, through=[c["base"] for c in commits])

    def apply_full(self, objects: list, cid: Cid, origin: str, group: str | None = None, base=ANY) -> dict:
        """Replace our synced configuration with the sender's; local objects stay; `group` (if
        given) is marked synced at `cid`. With `base` (an auto-sync's idea of our commit id, from
        a status of ours that may be stale): refused if we are not there, or a commit we made
        since would be lost."""
        if base is not ANY and base != self.cid:
            raise SyncRefused(f"full sync for {base}, this device is at {self.cid}")
        work = {k: v for k, v in self.objects.items() if self.scope(k[0], v) != "synced"}
        incoming = {}
        for t, p, v in objects:
            self._known(t)
            if self.scope(t, v) != "synced":
                raise Invalid(f"{t} {p} is not synced configuration")
            incoming[(t, p)] = dict(v)
        work.update(incoming)
        touched = {k: "put" for k in incoming}
        touched.update({k: "del" for k in self.objects if k not in work})
        self._check(work, touched)
        result = self._install(work, changes_of(work, touched), origin, cid=cid, from_peer=True, synced_group=group,
                               replaced=True)
        self.commit_cache.clear()
        self.commit_cache_size = 0
        return result

    def apply_trust(self, objects: list, gen: list) -> bool:
        """Take a newer set of trust-scope objects (device groups, traffic groups) from a peer."""
        return self.apply_shared("trust", objects, gen)

    def apply_shared(self, scope: str, objects: list, gen: list) -> bool:
        """Take a newer set of a shared scope's objects ("trust": device and traffic groups; "gtm":
        the GTM sync group's configuration) from a peer; older or equal generations are ignored."""
        attr = f"{scope}_gen"
        if tuple(gen) <= tuple(getattr(self, attr)):
            return False
        work = {k: v for k, v in self.objects.items() if TYPES[k[0]].scope != scope}
        for t, p, v in objects:
            self._known(t)
            if TYPES[t].scope != scope:
                raise ConfigError(f"{t} is not {scope}-scope configuration")
            work[(t, p)] = dict(v)
        touched = {k: "put" for k in work if TYPES[k[0]].scope == scope}
        touched.update({k: "del" for k in self.objects if k not in work})
        self._check(work, touched)
        setattr(self, attr, list(gen))
        self.counter = max(self.counter, int(gen[0]))
        self._install(work, changes_of(work, touched), gen[1], cid=self.cid, from_peer=True)
        return True

    def mark_synced(self, group: str, cid: Cid | None) -> None:
        """Record the commit `group` agreed on; Invalid (and nothing recorded) if it cannot be saved."""
        old = self.synced, self.synced_at
        self._record_sync(group, cid)
        try:
            self._persist()
        except OSError as exc:
            self.synced, self.synced_at = old
            raise Invalid(f"cannot save the sync status: {exc}") from None

    def _record_sync(self, group: str, cid: Cid | None) -> None:
        """`group` agreed on `cid`; a new agreement is a sync, timed for `show cm device-group`."""
        cid_list = cid.to_list() if cid else None
        if group not in self.synced or self.synced[group] != cid_list:
            self.synced_at = {**self.synced_at, group: self.now()}
        self.synced = {**self.synced, group: cid_list}

    def last_synced(self, group: str) -> Cid | None:
        return Cid.of(self.synced.get(group))

    def ever_synced(self, group: str) -> bool:
        return group in self.synced

    # -- one operation --------------------------------------------------------------------------
    def _known(self, type_: str) -> ObjType:
        t = TYPES.get(type_)
        if t is None:
            raise Invalid(f"unknown object type {type_!r}")
        return t

    def _apply(self, work: dict, op: Op, touched: dict) -> None:
        t = self._known(op.type)
        key = (op.type, op.path)
        current = work.get(key)
        folder = _folder(op.type, op.path)
        implied = key in self._implied   # the twin a partition (or its folder) made or removed in this commit
        self._implied.discard(key)
        if implied and op.action == "delete" and current is None:
            return
        if current and current.get("app-service") and op.action != "create" and not (self._owner or self._restoring):
            self._strict(work, current["app-service"], op)
        if op.type == iapp_text.SERVICE and op.action == "delete" and current is not None and not self._restoring:
            self._as_owner(lambda: self._remove_owned(work, op.path, touched, keep_folder=False))
        if implied and op.action == "create" and current is not None:
            values = dict(current)      # made with its twin: now filled in
        elif op.action == "create":
            if current is not None:
                raise Exists(t.label, op.path, f" in partition {partition_of(op.path) if folder else 'Common'}")
            values = t.defaults()
        elif op.action in ("modify", "delete"):
            if current is None:
                raise NotFound(t.label, op.path)
            if op.action == "delete":
                if key in BUILTIN:
                    raise Invalid(f"{op.path} is a built-in {t.label} and cannot be deleted")
                del work[key]
                touched[key] = "del"
                other = twin(*key)
                if other and work.pop(other, None) is not None:   # a partition and its folder go together
                    touched[other] = "del"
                    self._implied.add(other)
                return
            values = {k: (list(v) if isinstance(v, list) else v) for k, v in current.items()}
        else:
            raise ConfigError(f"unknown action {op.action!r}")
        rd = _partition_rd(work, op.type, op.path)
        for fname, (verb, value) in op.values.items():
            if fname == "pem" and op.type in (ssl_files.CERT, ssl_files.KEY) or \
                    fname == "content" and op.type == EXTERNAL_FILE:
                continue    # the file's text itself (AS3's Certificate, script): installed by _ssl_file, _script
            if fname == "user-defined" and verb == "set" and isinstance(value, dict):
                merged = {**(values.get(fname) or {}), **{str(k): str(v) for k, v in value.items()}}
                values[fname] = {k: v for k, v in merged.items() if v != "none"}   # `user-defined X none` removes X
                continue
            f = t.field(fname)
            if f is None:
                raise Invalid(f'{t.path} has no property "{fname}"')
            if rd and f.kind in ("ip", "cidr", "dest", "members"):   # the partition's default route domain
                value = _in_rd(f.kind, value, rd)
            if f.kind == "members":
                values[fname] = self._members(work, values.get(fname) or [], verb, value, touched, folder or PARTITION)
            elif f.kind == "items":
                values[fname] = gtm_checks.items(t, f, values.get(fname) or [], verb, value)
            elif f.kind == "raw":
                values[fname] = iapp_text.merge(fname, values.get(fname) or [], verb, value)
            elif f.kind == "terms" and verb in ("add", "delete"):
                items = coerce(t, f, value)
                have = list(values.get(fname) or [])
                missing = [i for i in items if i not in have] if verb == "delete" else []
                if missing:
                    raise Invalid(f"{fname} has no {missing[0]}")
                values[fname] = [i for i in have if i not in items] if verb == "delete" else \
                    have + [i for i in items if i not in have]
            elif f.kind == "list" and verb in ("add", "delete"):
                items = coerce(t, f, value)
                have = list(values.get(fname) or [])
                if verb == "add":
                    values[fname] = have + [i for i in items if i not in have]
                else:
                    missing = [i for i in items if i not in have]
                    if missing:
                        raise Invalid(f"{fname} has no {missing[0]}")
                    values[fname] = [i for i in have if i not in items]
            elif verb == "set" and op.type == "ltm node" and fname == "address" and value == ANY6:
                values[fname] = ANY6      # an FQDN node's, as F5 shows it (and Ansible sends it)
            elif verb == "set" and op.type == "ltm node" and fname == "fqdn" and isinstance(value, dict):
                values[fname] = {**(values.get(fname) or {}), **coerce(t, f, value)}   # modify keeps the rest
            elif verb == "set" and value is None and not f.required and f.default is None:
                values.pop(fname, None)     # REST's null: the property is no longer set
            elif verb == "set" and f.kind == "list" and f.ref and folder and value not in ("none", [], ()):
                names = [value] if isinstance(value, str) else value   # each as a ref: this folder's, else /Common's
                coerce(t, f, names)
                values[fname] = list(dict.fromkeys(_resolve(work, (f.ref,), n, full_path(n, folder=folder)) for n in names))
            elif verb == "set" and f.kind == "ref" and folder:
                values[fname] = _resolve(work, (f.ref,), value, coerce(t, f, value, folder))
            elif verb == "set" and fname == "run" and op.type in ("ltm monitor external", "gtm monitor external") \
                    and isinstance(value, str) \
                    and value != "none":   # the script file, by path (one missing: the probe finds the member down)
                values[fname] = _resolve(work, (EXTERNAL_FILE,), value, full_path(value, folder=folder or PARTITION))
            elif verb == "set" and fname == "monitor" and op.type in ("ltm pool", "ltm node") \
                    and isinstance(value, str) and not value.strip():   # Ansible's empty monitor list: no monitor
                values[fname] = "none"
            elif verb == "set" and fname == "monitor" and op.type in ("ltm pool", "ltm node") \
                    and isinstance(value, str) and " " in value.strip():   # a rule: `http and tcp`, `min 1 of { ... }`
                values[fname] = _monitor_rule(work, value, folder or PARTITION)
            elif verb == "set" and fname == "monitor" and folder not in (None, PARTITION) \
                    and op.type in ("ltm pool", "ltm node") and isinstance(value, str) and value != "default":
                values[fname] = _resolve(work, MONITOR_TYPES, value, full_path(value, folder=folder))
            elif verb == "set":
                values[fname] = coerce(t, f, value, folder or PARTITION)
                if rd and f.kind in ("ip", "cidr", "dest") and RD0.search(str(value)):
                    values[fname] = _rd0(f.kind, values[fname])   # route domain 0 where the default is another
            else:
                raise Invalid(f'"{verb}" does not apply to {fname}')
        if op.type == "ltm node":
            values = fqdn_checks.node(values, op.path)
        if op.type == "gtm topology" and values.get("order") is None:
            values["order"] = gtm_checks.next_order(work)
        if op.type == "cm traffic-group" and values.get("unit-id") is None:   # the next free, as F5 numbers them
            used = {v.get("unit-id") for (t, _), v in work.items() if t == op.type}
            values["unit-id"] = next(n for n in range(1, 257) if n not in used)
        if op.type == "ltm virtual" and op.action == "create" and "profiles" in op.values:
            values["profiles"] = virtual_checks.without_default_transport(work, values["profiles"],
                                                                          op.values["profiles"][1])
        if op.type == "ltm virtual":
            virtual_checks.vlan_switch(values, op.values)
            if values.get("internal") and not values.get("destination"):   # F5's: any address, any port
                values["destination"] = f"/{op.path.split('/')[1]}/0.0.0.0:0"
        if op.type == "ltm virtual" and values.get("destination"):
            self._virtual_address(work, values["destination"], touched, values.get("mask"))
            rd = rd_of(values["destination"])
            if rd and "source" not in op.values and plain(values.get("source") or "0.0.0.0/0") == "0.0.0.0/0":
                values["source"] = with_rd("0.0.0.0/0", rd)   # any source, in the destination's route domain
        if op.type == "ltm snatpool":
            self._snat_translations(work, values.get("members") or [], touched)
        if op.type in (ssl_files.CERT, ssl_files.KEY) and "source-path" in op.values:
            self._ssl_file(op, values)
        if op.type == EXTERNAL_FILE and ("source-path" in op.values or "content" in op.values):
            self._script(op, values)
        drafts = policy.drafts_folder(op.type, op.path)
        if op.action == "create" and drafts and ("sys folder", drafts) not in work:
            work[("sys folder", drafts)] = TYPES["sys folder"].defaults()
            touched[("sys folder", drafts)] = "put"
        if drafts:
            values["status"] = "draft"
        if op.type == "ltm policy" and not str(values.get("strategy", "/")).startswith("/"):
            values["strategy"] = full_path(values["strategy"])     # `first-match` is /Common/first-match
        other = twin(*key)
        if op.action == "create" and other and other not in work:   # a partition is its folder, /P
            work[other] = TYPES[other[0]].defaults()
            touched[other] = "put"
            self._implied.add(other)
        work[key] = values
        touched[key] = "put"
        if op.type == iapp_text.SERVICE and not self._restoring:
            self._as_owner(lambda: self._deploy(work, op.path, values, touched))

    # -- iApps: an application service makes, replaces and removes what it owns in one commit ------
    def _strict(self, work: dict, owner: str, op: Op) -> None:
        """A hand edit of an owned object: refused while its service has strict updates on
        (turning them off lets an engineer orphan the objects: `app-service none`)."""
        service = work.get((iapp_text.SERVICE, owner))
        if service is not None and service.get("strict-updates", "enabled") == "enabled":
            raise StrictUpdates(owner)

    def _as_owner(self, fn) -> None:
        was, self._owner = self._owner, True
        try:
            fn()
        finally:
            self._owner = was

    def _remove_owned(self, work: dict, service: str, touched: dict, keep_folder: bool) -> None:
        """Delete what `service` owns (deepest first; its folder last, and only once empty)."""
        owned = sorted((k for k, v in work.items() if v.get("app-service") == service and k[0] != "sys folder"
                        and k != (iapp_text.SERVICE, service)), key=lambda k: (k[0] == "ltm node", -k[1].count("/")))
        for t, p in owned:
            self._apply(work, Op("delete", t, p, {}), touched)
        folder = folder_of(service)
        if not keep_folder and work.get(("sys folder", folder), {}).get("app-service") == service \
                and not any(in_folder(p, folder) and _folder(t, p) for t, p in work if (t, p) != (iapp_text.SERVICE, service)):
            work.pop(("sys folder", folder))
            touched[("sys folder", folder)] = "del"

    def _deploy(self, work: dict, path: str, service: dict, touched: dict) -> None:
        """(Re)deploy a service: its folder, then its template's implementation from a clean slate."""
        folder = folder_of(path)
        if ("sys folder", folder) not in work:
            self._apply(work, Op("create", "sys folder", folder, {"app-service": ("set", path)}), touched)
        self._remove_owned(work, path, touched, keep_folder=True)
        template = work.get(("sys application template", service.get("template") or ""))
        if template is None:
            raise NotFound("Application Template", service.get("template"))

        def apply(verb: str, type_: str, target: str, values: dict) -> None:
            self._apply(work, Op(verb, type_, target, values), touched)

        iapp.run(path, service, template, apply, lambda t, p: work.get((t, p)))
        for (t, p), verb in list(touched.items()):   # what a create made alongside (a virtual address) is owned too
            if verb == "put" and in_folder(p, folder) and not work[(t, p)].get("app-service") and t != iapp_text.SERVICE:
                work[(t, p)] = {**work[(t, p)], "app-service": path}

    def _members(self, work: dict, have: list, verb: str, value, touched: dict, folder: str = PARTITION) -> list:
        """Pool members: value is {name: {field: value}}; an address-named member makes its node
        (in the pool's folder); a node named without a folder is the pool folder's, else /Common's."""
        fields = {f.name: f for f in MEMBER_FIELDS}
        by_name = {m["name"]: dict(m) for m in have}
        if verb == "set":
            by_name = {}
            verb = "add"
        for raw, props in (value or {}).items():
            name, addr = member_name(raw, folder)
            common = member_name(raw)[0]
            if not raw.startswith("/") and ("ltm node", name.rsplit(":", 1)[0]) not in work \
                    and ("ltm node", common.rsplit(":", 1)[0]) in work:
                name = common
            if verb == "delete":
                if by_name.pop(name, None) is None:
                    raise NotFound("Pool Member", name)
                continue
            if verb == "add":
                if name in by_name:
                    raise Exists("Pool Member", name)
                member = {"name": name, **{f.name: f.default for f in MEMBER_FIELDS if f.default is not None}}
            elif verb == "modify":
                if name not in by_name:
                    raise NotFound("Pool Member", name)
                member = by_name[name]
            else:
                raise Invalid(f'"{verb}" does not apply to members')
            given = None
            for k, v in (props or {}).items():
                if k not in fields:
                    raise Invalid(f'pool member has no property "{k}"')
                if k == "address" and v == ANY6:   # a template's, as listed and saved: the fqdn below makes it
                    continue
                if k == "fqdn":
                    given = {**(member.get("fqdn") or {}), **coerce(TYPES["ltm pool"], fields[k], v)}
                    continue
                member[k] = coerce(TYPES["ltm pool"], fields[k], v)
                if k == "monitor":
                    member[k] = _member_monitor(work, member[k], folder)
                    if member[k] is None:
                        del member[k]
            node_path = name.rsplit(":", 1)[0]
            node = work.get(("ltm node", node_path))
            if addr is None and (node is not None or given is not None):   # an FQDN member: its template
                made = fqdn_checks.member(member, node, node_path, given)
                if made is not None:
                    work[("ltm node", node_path)] = made
                    touched[("ltm node", node_path)] = "put"
                if member.get("address") == ANY6:
                    by_name[name] = member
                    continue
            address = member.get("address") or addr or (node or {}).get("address")
            if address is None:
                raise NotFound("Node", node_path)
            member["address"] = address
            if node is None:
                work[("ltm node", node_path)] = {**TYPES["ltm node"].defaults(), "address": address}
                touched[("ltm node", node_path)] = "put"
            elif node.get("address") != address:
                raise Invalid(f"member {name} address {address} differs from node {node_path} ({node.get('address')})")
            by_name[name] = member
        return sorted(by_name.values(), key=lambda m: m["name"])

    def _virtual_address(self, work: dict, dest: str, touched: dict, mask: str | None = None) -> None:
        """A virtual server's destination address gets its virtual address (with a network's mask),
        as on a BIG-IP."""
        addr, _ = split_destination(dest)
        key = ("ltm virtual-address", f"{folder_of(dest)}/{addr}")
        if key not in work:
            work[key] = {**TYPES["ltm virtual-address"].defaults(), "address": addr}
            if mask not in (None, "255.255.255.255"):
                work[key]["mask"] = mask
            touched[key] = "put"

    def _snat_translations(self, work: dict, members: list[str], touched: dict) -> None:
        """A SNAT pool member given as an address gets its SNAT translation, as on a BIG-IP."""
        for path in members:
            key = ("ltm snat-translation", path)
            if key in work:
                continue
            try:
                bare, rd = split_rd(base_name(path))
                address = with_rd(str(ipaddress.ip_address(bare)), rd)
            except (ValueError, Invalid):
                raise NotFound("SNAT Translation", path) from None
            work[key] = {**TYPES["ltm snat-translation"].defaults(), "address": address}
            touched[key] = "put"

    def _ssl_file(self, op: Op, values: dict) -> None:
        """Install a certificate or key: read its source-path (a file on this device) now, or take
        its text (`pem`, from AS3); the commit keeps a copy in the device's file store (_keep_files),
        which a later load reads if the upload is gone."""
        root = self.path.parent if self.path else None
        kept = ssl_files.filestore(root, op.type, op.path)
        pem = op.values["pem"][1].encode() if "pem" in op.values else self._read_source(root, kept, op.path, values)
        access = CURRENT.get()
        user = access.user if access else ("root" if values["source-path"].startswith(SSL_OWN) else "admin")
        values.update(ssl_files.describe(op.type, op.path, pem, unseal(values.get("passphrase"))),
                      **ssl_files.stamp(op.type, values, user, self.now()))

    def _script(self, op: Op, values: dict) -> None:
        """Install an external monitor's script: its text (AS3's) or its source-path's file now."""
        if "content" in op.values:
            text = op.values["content"][1].encode()
        else:
            text = self._read_source(self.path.parent if self.path else None, None, op.path, values)
        values.update(content=text.decode(errors="replace"), size=len(text),
                      checksum=f"SHA1:{len(text)}:{hashlib.sha1(text).hexdigest()}")

    def _keep_files(self, changes: list[Change]) -> None:
        """The file store's copy of each certificate and key a commit installed (a trial or a
        refused commit writes none), as a BIG-IP keeps them under /config/filestore."""
        root = self.path.parent if self.path else None
        for c in changes:
            pem = (c.value or {}).get("pem") if c.type in (ssl_files.CERT, ssl_files.KEY) else None
            kept = ssl_files.filestore(root, c.type, c.path) if pem else None
            if kept is None or str(c.value.get("source-path", "")).startswith(SSL_OWN):
                continue
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_bytes(pem.encode())
            kept.chmod(0o600)

    @staticmethod
    def _read_source(root, kept, path: str, values: dict) -> bytes:
        for source in (ssl_files.local_file(root, values["source-path"]), kept):
            try:
                return source.read_bytes()
            except (OSError, AttributeError):
                continue
        raise Invalid(f"{path}: cannot read {values['source-path']}")

    # -- whole-configuration checks ---------------------------------------------------------------
    def _check(self, work: dict, touched: dict) -> None:
        gtm_checks.check(work, touched)
        virtual_checks.check(work, touched)
        rule_checks.check(work, touched)
        policy.check(work, touched)
        ha_checks.check(work, touched)
        vlans = _vlan_networks(work)
        _check_route_domains(work, touched)
        for (tname, path), verb in touched.items():
            t = TYPES[tname]
            if tname == "sys folder" and verb == "del":
                inside = min((k for k in work if in_folder(k[1], path) and _folder(*k)),   # what lies in it first
                             key=lambda k: (k[1].count("/"), k), default=None)
                if inside:
                    raise FolderNotEmpty(path, f"{TYPES[inside[0]].label.lower()} {inside[1]}")
            elif verb != "del" and _folder(tname, path) and ("sys folder", folder_of(path)) not in work:
                raise NotFound("folder", folder_of(path))
            if verb == "del":
                user = self._user_of(work, tname, path)
                if user:
                    raise InUse(t.label, path, TYPES[user[0]].label, user[1])
                continue
            values = work[(tname, path)]
            for f in t.fields:
                v = values.get(f.name)
                if f.required and v in (None, "", "none"):
                    raise Invalid(f"{t.label} {path} requires {f.name}")
                if f.kind == "ref" and v not in (None, "none") and (f.ref, v) not in work:
                    raise NotFound(TYPES[f.ref].label, v)
                if f.kind == "list" and f.ref == "net vlan":   # a virtual's or route domain's VLANs
                    for name in v or ():
                        if (f.ref, name) not in work:
                            raise NotFound(TYPES[f.ref].label, name)
            if tname == "ltm pool" or tname == "ltm node":
                for name in monitor_rules.names(values.get("monitor", "none")):
                    if not any((m, name) in work for m in MONITOR_TYPES):
                        raise NotFound("Monitor", name)
            if tname == "ltm pool":
                for m in values.get("members") or []:
                    if ("ltm node", m["name"].rsplit(":", 1)[0]) not in work:
                        raise NotFound("Node", m["name"].rsplit(":", 1)[0])
                    for name in monitor_rules.names(m.get("monitor", "none")):
                        if not any((t, name) in work for t in MONITOR_TYPES):
                            raise NotFound("Monitor", name)
            if tname == "ltm virtual" and not (values.get("ip-forward") and _mask_prefix(values) < 32) \
                    and not values.get("internal"):   # an internal virtual takes no traffic from a VLAN   # a network's may be anywhere
                addr, _ = split_destination(values["destination"])
                if not _on_a_vlan(vlans, addr):
                    raise Invalid(f"virtual server {path} destination {addr} is on no VLAN of this device: "
                                  "no traffic group can own it")
            if tname == "ltm snat-translation" and not _on_a_vlan(vlans, values["address"]):
                raise Invalid(f"SNAT translation {path} address {values['address']} is on no VLAN of this device: "
                              "servers could not answer it")
            if tname == "auth user" and values.get("partition-access", "all-partitions") != "all-partitions" \
                    and ("auth partition", full_path(values["partition-access"])) not in work:
                raise NotFound("Partition", values["partition-access"])
            if tname == "net route" and not _on_a_vlan(vlans, values["gw"]):
                raise Invalid(f"route {path} gateway {values['gw']} is on no VLAN of this device "
                              "(no self IP subnet contains it)")
            if tname.startswith("ltm monitor") and values.get("recv"):
                try:
                    re.compile(values["recv"])
                except re.error as exc:
                    raise Invalid(f"monitor {path} receive string {values['recv']!r} is not a valid regular "
                                  f"expression: {exc}") from None
            if tname in ("net self", "ltm virtual", "ltm node", "ltm virtual-address"):
                key = "destination" if tname == "ltm virtual" else "address"
                mine = _clash_key(tname, values)
                for (ot, op), ov in work.items():
                    if ot == tname and op != path and not (tname == "ltm virtual" and (ov.get("internal") or
                                                                                        values.get("internal"))):
                        if _clash_key(tname, ov) == mine:
                            raise Invalid(f"{t.label} {path} and {op} have the same {key} {values.get(key)}")

    def _user_of(self, work: dict, tname: str, path: str):
        if tname == "net route-domain":
            rd = (self.objects.get((tname, path)) or {}).get("id")
            return next(((ot, op) for (ot, op), ov in work.items() if rd in _rds_of(ot, ov)), None)
        if tname.startswith("gtm "):
            return gtm_checks.user_of(work, tname, path)
        if tname == "ltm rule":
            return rule_checks.user_of(work, path)
        if tname in ("ltm policy", "ltm pool") and policy.user_of(work, tname, path):
            return policy.user_of(work, tname, path)
        if tname in ("sys ha-group", "ltm pool") and ha_checks.user_of(work, tname, path):
            return ha_checks.user_of(work, tname, path)
        for (ot, op), ov in work.items():
            ot_ = TYPES[ot]
            for f in ot_.fields:
                if f.kind == "ref" and f.ref == tname and ov.get(f.name) == path:
                    return ot, op
                if f.kind == "list" and f.ref == tname == "net vlan" and path in (ov.get(f.name) or ()):
                    return ot, op
            if tname == "ltm node" and ot == "ltm pool":
                if any(m["name"].rsplit(":", 1)[0] == path for m in ov.get("members") or []):
                    return ot, op
            if tname.startswith("ltm monitor") and ot in ("ltm pool", "ltm node"):
                if path in monitor_rules.names(ov.get("monitor")) or any(
                        path in monitor_rules.names(m.get("monitor")) for m in ov.get("members") or []):
                    return ot, op
            if tname == "ltm pool" and ot == "ltm virtual" and any(i["name"] == path for i in ov.get("clone-pools") or ()):
                return ot, op
            if tname == "ltm virtual-address" and ot == "ltm virtual" and ov.get("destination"):
                if f"{folder_of(ov['destination'])}/{split_destination(ov['destination'])[0]}" == path:
                    return ot, op
        return None

    # -- persistence ----------------------------------------------------------------------------
    def _persist(self) -> None:
        if not self.path:
            return
        data = {"cid": self.cid.to_list() if self.cid else None, "counter": self.counter,
                "synced": self.synced, "synced_at": self.synced_at, "trust_gen": self.trust_gen,
                "gtm_gen": self.gtm_gen, "lineage": self.lineage,
                "objects": [[t, p, v] for (t, p), v in self.objects.items()]}
        write_atomically(self.path, json.dumps(data, separators=(",", ":")).encode())

    def _load(self) -> None:
        data = json.loads(self.path.read_text())
        self.cid = Cid.of(data.get("cid"))
        self.counter = int(data.get("counter", 0))
        self.synced = data.get("synced", {})
        self.synced_at = data.get("synced_at", {})
        self.trust_gen = data.get("trust_gen", [0, ""])
        self.gtm_gen = data.get("gtm_gen", [0, ""])
        self.objects = {(t, p): v for t, p, v in data["objects"]}
        for (t, _), v in self.objects.items():
            if t == ssl_files.CERT:
                ssl_files.share_pem(v)
        self.lineage = data.get("lineage", [])

    def reload(self) -> None:
        """Read the configuration back from disk (mcpd's restart); the commit cache starts empty."""
        if self.path and self.path.exists():
            self._load()
        self.commit_cache.clear()
        self.commit_cache_size = 0
        self.generation += 1

    def observe(self, cid: Cid | None) -> None:
        """Lamport: a commit id seen from a peer moves our counter past it."""
        if cid is not None and cid.id > self.counter:
            self.counter = cid.id


MONITOR_TYPES = tuple(t for t in TYPES if t.startswith("ltm monitor"))
EXTERNAL_FILE = "sys file external-monitor"   # an external monitor's script (_script)


def twin(type_: str, path: str) -> tuple[str, str] | None:
    """A partition and its folder are one thing to mcpd: auth partition /Common/P <-> sys folder /P."""
    if type_ == "auth partition" and path != f"{PARTITION}/Common":
        return ("sys folder", "/" + base_name(path))
    if type_ == "sys folder" and path.count("/") == 1:
        return ("auth partition", full_path(path[1:]))
    return None


def _folder(type_: str, path: str) -> str | None:
    """The folder an object lives in, None for those kept outside folders (unpartitioned, topology
    records, the root folders of partitions)."""
    if type_ in UNPARTITIONED or not path.startswith("/") or (type_ == "sys folder" and path.count("/") == 1):
        return None
    return folder_of(path)


def _resolve(work: dict, types: tuple, raw: str, path: str) -> str:
    """A reference given without a folder names the object in the referrer's folder if there is
    one, else the one in /Common, as a BIG-IP looks them up."""
    if raw.startswith("/") or " " in raw or raw == "none" or any((t, path) in work for t in types):
        return path
    common = full_path(raw)
    return common if any((t, common) in work for t in types) else path


def _clash_key(tname: str, values: dict):
    """What two objects of a type may not share: an address (a self IP's without its prefix); a
    virtual's destination; an ip-forward virtual's with its mask and source (one destination takes
    several sources, as on a BIG-IP; the lab's proxy listens on an address and port, whatever the source).
    A UDP virtual and a TCP one share a destination, as on a BIG-IP (SIP over both on 5060)."""
    if tname == "ltm virtual" and values.get("ip-forward"):
        return values.get("destination"), values.get("mask"), values.get("source")
    if tname == "ltm virtual":
        return values.get("destination"), values.get("ip-protocol") == "udp"
    if tname == "net self":
        return values.get("address").split("/")[0]
    if fqdn_checks.is_template(values):    # FQDN nodes: any number of them, whatever their names
        return id(values)
    return values.get("address")


def _mask_prefix(virtual: dict) -> int:
    try:
        return mask_prefix(virtual.get("mask"))
    except ValueError:
        return 32   # virtual_checks refuses it


def _member_monitor(work: dict, rule: str, folder: str) -> str | None:
    """A member's own monitor rule: None for "default" (its pool's), "none" for none (Ansible
    sends /Common/none), else the rule as a pool's."""
    rule = " ".join(rule.split())
    if rule in ("", "default"):
        return None
    if rule in ("none", "/Common/none"):
        return "none"
    if " " in rule:
        return _monitor_rule(work, rule, folder)
    return _resolve(work, MONITOR_TYPES, rule, full_path(rule, folder=folder))


def _monitor_rule(work: dict, rule: str, folder: str) -> str:
    """A pool's or node's monitor rule as F5 shows it, each monitor found as `_resolve` finds one."""
    found = " ".join(_resolve(work, MONITOR_TYPES, w, full_path(w, folder=folder)) if monitor_rules.is_monitor(w) else w
                     for w in monitor_rules.words(rule))
    out = monitor_rules.canonical(found)
    monitor_rules.check_quorum(out)
    return out


def _vlan_networks(work: dict) -> list:
    """The subnets of the self IPs in `work`, each with its route domain: the VLANs this device is
    on (a self IP without an address is refused by the required-field check that follows)."""
    return [(rd_of(v["address"]), ipaddress.ip_interface(plain(v["address"])).network) for (t, _), v in work.items()
            if t == "net self" and v.get("address")]


def _on_a_vlan(networks: list, address: str) -> bool:
    """On a self IP's subnet in the same route domain."""
    rd, ip = rd_of(address), ipaddress.ip_address(plain(address))
    return any(ip in net and rd == net_rd for net_rd, net in networks)


# the objects whose addresses may name a route domain other than 0 (`%ID`), as on a BIG-IP
RD_TYPES = ("ltm node", "ltm virtual-address", "ltm virtual", "net self", "net route", "ltm pool",
            "ltm snat-translation")


def _partition_rd(work: dict, tname: str, path: str) -> int:
    """The default route domain of the partition `path` lies in (auth partition default-route-domain)."""
    if tname not in RD_TYPES or not path.startswith("/"):
        return 0
    return int((work.get(("auth partition", full_path(partition_of(path)))) or {}).get("default-route-domain") or 0)


def _in_rd(kind: str, value, rd: int):
    """A value given without a route domain, in the partition's default one (`rd`)."""
    if kind == "members" and isinstance(value, dict):
        return {_member_in_rd(k, rd): v for k, v in value.items()}
    if not isinstance(value, str) or "%" in value or value in ("", "none", "default"):
        return value
    if kind == "dest":
        return _dest_address(value, lambda addr: with_rd(addr, rd))
    return with_rd(value, rd)


def _dest_address(value: str, change) -> str:
    """A destination (`/P/10.1.1.1:80`, `10.1.1.1:80`, `2001::1.80`) with its address changed."""
    head, slash, tail = value.rpartition("/")
    sep = ":" if tail.count(":") == 1 else "."
    addr, _, port = tail.rpartition(sep)
    return f"{head}{slash}{change(addr)}{sep}{port}" if addr else value


RD0 = re.compile(r"%0(?!\d)")


def _rd0(kind: str, value: str) -> str:
    """An address in route domain 0 named so (`%0`), in a partition whose default is another."""
    if kind == "dest":
        return _dest_address(value, lambda addr: f"{addr}%0")
    return value.replace("/", "%0/", 1) if "/" in value else f"{value}%0"


def _member_in_rd(raw: str, rd: int) -> str:
    head, slash, tail = raw.rpartition("/")
    name, sep, port = tail.rpartition(":")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return raw    # a named node: its own address says
    return f"{head}{slash}{name}%{rd}{sep}{port}"


def _rds_of(tname: str, values: dict) -> set[int]:
    """The route domains an object's addresses name."""
    t = TYPES[tname]
    out = {rd_of(values.get(f.name)) for f in t.fields if f.kind in ("ip", "cidr", "dest", "network")
           and isinstance(values.get(f.name), str)}
    if tname == "ltm virtual" and isinstance(values.get("source"), str):
        out.add(rd_of(values["source"]))
    out |= {rd_of(m.get("address")) for m in values.get("members") or [] if isinstance(m, dict)}
    return out - {0}


def _check_route_domains(work: dict, touched: dict) -> None:
    """Each address's route domain exists (F5's error for one that does not); a route domain's id
    and each of its VLANs are its alone."""
    ids: dict[int, str] = {}
    vlan_rd: dict[str, str] = {}
    for (t, p), v in work.items():
        if t != "net route-domain":
            continue
        if v.get("id") in ids:
            raise Invalid(f"route domain {p} and {ids[v['id']]} have the same id {v['id']}")
        ids[v.get("id")] = p
        for vlan in v.get("vlans") or ():
            if vlan in vlan_rd and p != "/Common/0" and vlan_rd[vlan] != "/Common/0":
                raise Invalid(f"VLAN {vlan} is in route domain {vlan_rd[vlan]} already: "
                              f"a VLAN is in one route domain ({p})")
            vlan_rd[vlan] = p
    rd_of_vlan = {vlan: work[("net route-domain", p)].get("id", 0) for vlan, p in vlan_rd.items()}
    for (t, p), verb in touched.items():   # a self IP made or changed is in its VLAN's route domain (a VLAN
        v = work.get((t, p)) or {}          # moved keeps its self IPs: a peer's local ones must not stop a sync)
        if t == "net self" and verb != "del" and v.get("address") and rd_of(v["address"]) in ids \
                and rd_of(v["address"]) != rd_of_vlan.get(v.get("vlan"), 0):
            raise Invalid(f"Self IP {p} address {v['address']} is in route domain {rd_of(v['address'])}, "
                          f"its VLAN {v.get('vlan')} in route domain {rd_of_vlan.get(v.get('vlan'), 0)}")
    for (tname, path), verb in touched.items():
        if verb == "del":
            continue
        rds = _rds_of(tname, work[(tname, path)])
        if rds and tname not in RD_TYPES:
            raise Invalid(f"{TYPES[tname].label} {path}: the lab keeps route domains for LTM and network "
                          "objects only (its address must be in route domain 0)")
        for rd in sorted(rds):
            if rd not in ids:
                raise NotFound("route domain", f"{PARTITION}/{rd}")


__all__ = ["ANY", "Change", "Cid", "ConfigError", "ConfigStore", "Op", "SyncRefused", "LOCAL_ONLY", "create_folder_ops"]
