"""Where AS3 keeps its state: in the configuration, as F5's AS3 does, so it survives a restart of
the daemon and reaches the peer with config sync.

Each declaration of the history is an integer data group `/Common/____appsvcs_declaration-<ms>`
(F5's name): record 0 holds `date^...|id^...|tenants^A,B|blocks^N`, records 1..N the JSON,
zlib-compressed and base64-encoded in blocks of 63 kB. Each finished task is a data group
`/Common/appsvcs/task-<id>` in the same encoding (AS3's data-group task storage). Sans-IO: this
module reads the store's objects and says which ops keep them.
"""
from __future__ import annotations

import base64
import json
import time
import zlib

from ..config.store import Op

DG = "ltm data-group internal"
DECLARATIONS = "/Common/____appsvcs_declaration-"
FOLDER = "/Common/appsvcs"
TASKS = f"{FOLDER}/task-"
SD_NODES = f"{FOLDER}/sd-"   # event-driven service discovery's node lists (discovery.py)
SETTINGS = f"{FOLDER}/settings"   # AS3's /settings (settings.py)
BLOCK = 63 * 1024
DESCRIPTION = "f5 AS3 declaration (see info in record 0)"


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def encode(doc, meta: dict) -> dict:
    """A document as a data group's records: meta in record 0, the compressed JSON after it."""
    packed = base64.b64encode(zlib.compress(json.dumps(doc, separators=(",", ":")).encode())).decode()
    blocks = [packed[i:i + BLOCK] for i in range(0, len(packed), BLOCK)] or [""]
    head = "|".join(f"{k}^{v}" for k, v in {**meta, "blocks": len(blocks)}.items())
    return {"0": {"data": head}, **{str(i): {"data": b} for i, b in enumerate(blocks, 1)}}


def by_name(records) -> dict:
    """The store keeps records as a list of {name, data}; an encoded dict is already by name."""
    return records if isinstance(records, dict) else {r.get("name"): r for r in records or ()}


def meta_of(records) -> dict:
    head = (by_name(records).get("0") or {}).get("data", "")
    return dict(row.split("^", 1) for row in head.split("|") if "^" in row)


def decode(records):
    """The document a data group holds, or None when it is not one of ours (or is corrupt)."""
    records = by_name(records)
    meta = meta_of(records)
    try:
        n = int(meta.get("blocks", "0"))
        text = "".join(records[str(i)]["data"] for i in range(1, n + 1))
        return json.loads(zlib.decompress(base64.b64decode(text)))
    except (KeyError, ValueError, zlib.error, TypeError):
        return None


def ours(type_: str, path: str) -> bool:
    """AS3's own bookkeeping (its declarations, tasks, settings, service discovery node lists and
    their folder), not a tenant's configuration."""
    return (type_, path) == ("sys folder", FOLDER) or (type_ == DG and (path.startswith((DECLARATIONS, TASKS, SD_NODES))
                                                                        or path == SETTINGS))


def write(path: str, doc, meta: dict, description: str = DESCRIPTION) -> Op:
    return Op("create", DG, path, {"type": ("set", "integer"), "records": ("set", encode(doc, meta)),
                                   "description": ("set", description)})


class Datastore:
    """The declarations and tasks the store holds (decoded once per data group)."""

    def __init__(self, store):
        self.store = store
        self._cache: dict[str, tuple[int, object]] = {}   # path -> (id of its values, document)

    def _doc(self, path: str, values: dict):
        hit = self._cache.get(path)
        if hit is None or hit[0] != id(values):
            hit = self._cache[path] = (id(values), decode(values.get("records") or {}))
        return hit[1]

    def _ours(self, prefix: str) -> list[tuple[str, dict]]:
        return sorted(((p, v) for (t, p), v in list(self.store.objects.items()) if t == DG and p.startswith(prefix)),
                      key=lambda pv: stamp(*pv), reverse=True)

    def declarations(self) -> list[dict]:
        """The history, newest first."""
        out = []
        for path, values in self._ours(DECLARATIONS):
            decl = self._doc(path, values)
            if isinstance(decl, dict):
                out.append(decl)
        return out

    def current(self) -> dict | None:
        """The deployed declaration (the newest of the history), None before any."""
        history = self.declarations()
        return history[0] if history else None

    def tasks(self) -> list[dict]:
        """The finished tasks, oldest first."""
        docs = [self._doc(p, v) for p, v in reversed(self._ours(TASKS))]
        return [d for d in docs if isinstance(d, dict)]

    def task(self, id_: str) -> dict | None:
        values = self.store.get(DG, f"{TASKS}{id_}")
        return None if values is None else self._doc(f"{TASKS}{id_}", values)

    # -- what keeps them ------------------------------------------------------------------------------
    def next_stamp(self, now_ms: int) -> int:
        newest = max((stamp(p, v) for p, v in self._ours(DECLARATIONS) + self._ours(TASKS)), default=0)
        return max(now_ms, newest + 1)

    def keep_declaration(self, decl: dict, ms: int, limit: int) -> list[Op]:
        """Ops that add `decl` to the history (named by its time) and drop what is past `limit`."""
        tenants = [k for k, v in decl.items() if isinstance(v, dict) and v.get("class") == "Tenant"]
        ops = [write(f"{DECLARATIONS}{ms}", decl, {"date": iso(ms), "id": decl.get("id", ""),
                                                   "tenants": ",".join(tenants)})]
        return ops + self._drop([p for p, _ in self._ours(DECLARATIONS)[max(limit - 1, 0):]])

    def keep_task(self, record: dict, ms: int, limit: int) -> list[Op]:
        """Ops that store a finished task (its folder first if missing), dropping the oldest past `limit`."""
        ops = [] if self.store.get("sys folder", FOLDER) is not None else [Op("create", "sys folder", FOLDER, {})]
        ops.append(write(f"{TASKS}{record['id']}", record, {"date": iso(ms), "id": record["id"], "stamp": ms},
                         "f5 AS3 task (see info in record 0)"))
        old = [p for p, _ in self._ours(TASKS) if p != f"{TASKS}{record['id']}"][max(limit - 1, 0):]
        return ops + self._drop(old)

    def _drop(self, paths: list[str]) -> list[Op]:
        for p in paths:
            self._cache.pop(p, None)
        return [Op("delete", DG, p, {}) for p in paths]


def stamp(path: str, values: dict) -> int:
    """When a data group was written (ms): a declaration's name says it, a task's record 0."""
    tail = path.rsplit("-", 1)[-1]
    if path.startswith(DECLARATIONS) and tail.isdigit():
        return int(tail)
    got = meta_of(values.get("records") or {}).get("stamp", "0")
    return int(got) if got.isdigit() else 0
