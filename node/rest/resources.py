"""iControl REST views of the one object schema: URLs, F5's JSON shapes, and bodies turned into Ops.

Nothing here is written per object type: every type declared in node/config/schema.py gets its
collection at /mgmt/tm/<its tmsh path with slashes>, objects at ~Common~name, F5's `kind`
strings, camelCase properties (Field.rest) and `...Reference` links. Pool members are a
subcollection (/members), as on a BIG-IP. Sans-IO: no sockets, no store access beyond reading.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from ..config import iapp_text, policy_words
from ..config.gtm_checks import item_name
from ..config.schema import (GTM_SETTINGS, GTM_SETTINGS_GROUPS, IP_PROTOCOLS, MEMBER_FIELDS, PARTITION, TYPES,
                             UNPARTITIONED, Field, base_name, folder_of, full_path, member_name, object_path,
                             partition_of)
from ..config.store import Op
from ..errors import Invalid, NotFound
from ..version import BUILD, VERSION  # noqa: F401  (BUILD: rest modules read it here)
from .errors import RestError, answer, bad_body

HOST = "https://localhost"
META = ("kind", "selfLink", "generation", "fullPath", "partition", "subPath", "name", "apiRawValues")
# Properties a BIG-IP shows on a pool member that the lab does not model: shown with F5's
# defaults, and accepted back unchanged (f5-sdk's update() PUTs them all).
MEMBER_EXTRAS = {"ephemeral": "false", "inheritProfile": "enabled", "logging": "disabled", "monitor": "default"}
NO_FQDN = {"autopopulate": "disabled"}    # what F5 shows as the fqdn of a member at an address
FQDN_MEMBER = next(f for f in MEMBER_FIELDS if f.name == "fqdn")
# What a BIG-IP VE shows on every cm device that the lab does not model (F5's fixtures).
DEVICE_EXTRAS = {"product": "BIG-IP", "edition": "Final", "marketingName": "BIG-IP Virtual Edition",
                 "platformId": "Z100", "chassisType": "individual"}
MULTICAST_OFF = {"multicastIp": "any6", "multicastPort": 0}   # a device whose multicast failover is off (F5's)
UNICAST_PORT = 1026
SESSION_IN = {"user-enabled": "user-enabled", "monitor-enabled": "user-enabled", "user-disabled": "user-disabled"}
STATE_IN = {"user-up": "user-up", "user-down": "user-down", "up": "user-up", "down": "user-up",
            "unchecked": "user-up", "checking": "user-up", "unknown": "user-up"}
URL_TYPES = {tuple(t.split()): t for t in TYPES}
SUBCOLLECTIONS = ("members", "virtual-servers", "devices", "rules")   # lists F5 serves as subcollections; others inline
LIST_SUBCOLLECTIONS = ("devices",)                          # of names (a device group's devices)
# an iApp template's definition (Tcl, APL, help) is the one item, `definition`, of its actions subcollection
ACTIONS, DEFINITION = "actions", "definition"
ACTION_TYPES = {iapp_text.TEMPLATE: iapp_text.ACTIONS}
CLAUSES = ("conditions", "actions")   # a policy rule's own subcollections


def link(path: str) -> str:
    return f"{HOST}{path}?ver={VERSION}"


def tilde(path: str) -> str:
    """/Common/web -> ~Common~web (a topology record's spaces as %20, as F5 writes its links)"""
    return path.replace("/", "~").replace(" ", "%20")


def untilde(segment: str, type_: str | None = None) -> str:
    """~Common~web or web -> /Common/web, ~P~F~web -> /P/F/web, a folder's ~P~F -> /P/F."""
    if type_ == "gtm topology":
        return object_path(type_, segment.replace("~", "/"))
    if segment.startswith("~"):
        segment = segment.replace("~", "/")
        if segment.count("/") < 2 and type_ != "sys folder":
            raise answer(NotFound("folder", segment))
    return object_path(type_, segment) if type_ else full_path(segment)


def placement(type_: str, path: str) -> dict:
    """name, partition and subPath as F5 shows them: /P/F/web is web in partition P, subPath F;
    a folder /P/F is F in P; a partition's folder /P has subPath "/"."""
    if type_ == "gtm topology" or not path.startswith("/"):
        return {"name": path, "partition": "Common"}
    name, folder = base_name(path), folder_of(path)
    if folder == "/":
        return {"name": name, "subPath": "/"}
    out = {"name": name, "partition": partition_of(path)}
    if folder.count("/") > 1:
        out["subPath"] = folder.split("/", 2)[2]
    return out


def kind(type_: str, suffix: str) -> str:
    words = type_.split()
    return "tm:" + ":".join(words) + ":" + words[-1] + suffix


def collection_url(type_: str) -> str:
    return "/mgmt/tm/" + "/".join(type_.split())


def object_url(type_: str, path: str) -> str:
    return f"{collection_url(type_)}/{base_name(path) if type_ in UNPARTITIONED else tilde(path)}"


@dataclass
class Route:
    """What a /mgmt/tm URL names: a type's collection or one object, maybe its members, maybe stats."""
    type: str
    path: str | None = None        # the object
    sub: str | None = None         # "members" or "profiles"
    member: str | None = None      # a member's full name
    stats: bool = False
    clauses: str | None = None     # a policy rule's "conditions" or "actions" (member: the rule)
    clause: str | None = None      # one of them, by number


def route(segments: list[str]) -> Route | None:
    """['ltm', 'pool', '~Common~web', 'members'] -> Route; None if no type has that path."""
    for n in (5, 4, 3, 2):
        type_ = URL_TYPES.get(tuple(segments[:n]))
        if type_ is None:
            continue
        rest = segments[n:]
        r = Route(type_)
        if rest and rest[-1] == "stats":
            r.stats, rest = True, rest[:-1]
        if rest:
            r.path = untilde(rest[0], type_)
            if len(rest) > 1:
                if rest[1] not in subcollections(type_):
                    raise RestError(404, f"URI path {'/'.join(segments)} not registered. Please try again.", 1)
                r.sub = rest[1]
            if len(rest) == 3 and r.sub in (ACTIONS, "rules"):    # named by name alone, not a path
                r.member = rest[2]
            elif len(rest) == 3:   # a member named without a folder is in its pool's folder
                r.member = untilde(rest[2]) if rest[2].startswith("~") or r.path is None or not r.path.startswith("/") \
                    else full_path(rest[2], folder=folder_of(r.path))
            if len(rest) in (4, 5) and r.sub == "rules" and rest[3] in CLAUSES:   # a rule's conditions
                r.member, r.clauses, r.clause = rest[2], rest[3], (rest[4] if len(rest) == 5 else None)
            elif len(rest) > 3:
                raise RestError(404, f"URI path {'/'.join(segments)} not registered. Please try again.", 1)
        return r
    return None


def subcollections(type_: str) -> tuple[str, ...]:
    t = TYPES[type_]
    return tuple(f.name for f in t.fields if f.kind == "members" or _subcollection(f)) \
        + (("profiles",) if t.field("profiles") else ()) + ((ACTIONS,) if type_ in ACTION_TYPES else ())


def _subcollection(f: Field) -> bool:
    return (f.kind == "items" and f.name in SUBCOLLECTIONS) or (f.kind == "list" and f.name in LIST_SUBCOLLECTIONS)


def find_item(type_: str, field: str, items: list, raw: str, folder: str = PARTITION) -> dict | None:
    """The item of a subcollection a URI or body names, however it was written (a member without
    a folder in `folder`, its pool's)."""
    f = TYPES[type_].field(field)
    if f.kind == "list":
        return base_name(raw) if base_name(raw) in items else None
    name = item_name(TYPES[type_], f, raw) if f.kind == "items" else member_name(raw, folder)[0]
    return next((i for i in items if i["name"] == name), None) or next(   # a name without a folder (cname, mx)
        (i for i in items if f.kind == "items" and i["name"] == base_name(raw)), None)


SETTINGS_GROUPS = {group: tuple(f.name for f in fields) for group, fields in GTM_SETTINGS_GROUPS.items()}


def settings_view(values: dict, group: str, generation: int) -> dict:
    """gtm global-settings as F5's REST splits it: /mgmt/tm/gtm/global-settings/<group>."""
    t = TYPES["gtm global-settings"]
    out = {"kind": f"tm:gtm:global-settings:{group}:{group}state", "generation": generation,
           "selfLink": link(f"/mgmt/tm/gtm/global-settings/{group}")}
    for name in SETTINGS_GROUPS[group]:
        out[t.field(name).rest] = values.get(name, t.field(name).default)
    return out


def singleton_view(type_: str, values: dict, generation: int) -> dict:
    """An object a device has one of, at its collection's URL (auth password-policy)."""
    out = {"kind": kind(type_, "state"), "selfLink": link(collection_url(type_)), "generation": generation}
    for f in TYPES[type_].fields:
        v = values.get(f.name, f.default)
        if f.kind == "items":    # sys syslog's remote servers, once there are some: {name: /Common/x, ...}
            if v:
                out[f.rest] = [{"name": i["name"], **{sf.rest: i.get(sf.name, sf.default) for sf in f.sub
                                                      if i.get(sf.name, sf.default) is not None}} for i in v]
        elif v is not None:
            out[f.rest] = v
    return out


def settings_op(group: str, body) -> Op:
    values = values_from_rest("gtm global-settings", body)
    stray = [k for k in values if k not in SETTINGS_GROUPS[group]]
    if stray:
        raise unexpected(f"gtm global-settings {group}", TYPES["gtm global-settings"].field(stray[0]).rest,
                         body[TYPES["gtm global-settings"].field(stray[0]).rest])
    return Op("modify", "gtm global-settings", GTM_SETTINGS, values)


def organizing(segments: list[str]) -> list[str]:
    """For /mgmt/tm/ltm (or /mgmt/tm/ltm/monitor): the next path words under it, or []."""
    n = len(segments)
    return sorted({p[n] for p in URL_TYPES if len(p) > n and list(p[:n]) == segments})


# -- objects out ----------------------------------------------------------------------------------
def to_rest(type_: str, path: str, values: dict, generation: int, *, expand: bool = False,
            member_status=None) -> dict:
    t = TYPES[type_]
    url = object_url(type_, path)
    out = {"kind": kind(type_, "state"), **placement(type_, path), "fullPath": path,
           "generation": generation, "selfLink": link(url)}
    if type_ in UNPARTITIONED:
        del out["partition"]
        out["fullPath"] = out["name"]
    if type_ in ACTION_TYPES:
        ref = {"link": link(f"{url}/{ACTIONS}"), "isSubcollection": True}
        if expand:
            ref["items"] = [action_to_rest(type_, path, values, generation)]
        out["actionsReference"] = ref
    for f in t.fields:
        v = values.get(f.name)
        if f.name in ACTION_TYPES.get(type_, ()):
            continue
        if t.flag_field == f.name:
            out[v or f.default] = True              # "enabled": true, as F5 shows a virtual's status
        elif f.kind == "members":
            ref = {"link": link(f"{url}/members"), "isSubcollection": True}
            if expand:
                ref["items"] = [member_to_rest(path, m, generation, member_status) for m in v or []]
            out["membersReference"] = ref
        elif type_ == "ltm virtual" and f.name == "profiles":
            ref = {"link": link(f"{url}/profiles"), "isSubcollection": True}
            if expand:
                ref["items"] = [profile_to_rest(path, p, generation) for p in v or []]
            out["profilesReference"] = ref
        elif type_ == "ltm virtual" and f.name == "policies":    # F5: a subcollection of names
            ref = {"link": link(f"{url}/policies"), "isSubcollection": True}
            if expand and v:
                ref["items"] = [{"name": base_name(p), "partition": partition_of(p), "fullPath": p,
                                 "nameReference": {"link": link(object_url("ltm policy", p))}} for p in v]
            out["policiesReference"] = ref
        elif _subcollection(f):
            ref = {"link": link(f"{url}/{f.name}"), "isSubcollection": True}
            if expand:
                ref["items"] = [item_to_rest(type_, path, f, i, generation) for i in v or []]
            out[f.rest + "Reference"] = ref
        elif f.kind == "list" and f.ref:       # full paths and a link to each (haOrder only when set)
            if v or type_ not in ("cm traffic-group", "ltm virtual"):
                out[f.rest] = list(v or [])
                out[f.rest + "Reference"] = [{"link": link(object_url(f.ref, d))} for d in v or []]
        elif f.kind == "items":
            out[f.rest] = [_item_props(type_, f, i) for i in v or []]
        elif f.kind == "terms":
            out[f.rest] = [{"name": term} for term in v or []]
        elif v is None or (f.kind == "list" and not v and f.default is None):   # none: not shown
            continue
        elif f.name == "user-defined":   # an external monitor's variables, as F5 shows them (bigip_monitor_external reads them)
            if v:
                out.setdefault("apiRawValues", {}).update({f"userDefined {k}": x for k, x in v.items()})
        elif f.kind == "record":
            out[f.rest] = {sf.rest: v[sf.name] for sf in f.sub if sf.name in v}
        elif f.kind == "secret":   # a user's as F5 names it; a monitor's password shows its hash
            out["encryptedPassword" if type_ == "auth user" else f.rest] = v
        elif type_ == "cm device" and f.name == "unicast-address":   # F5 shows each with its port
            if v:
                out[f.rest] = [{"effectiveIp": a, "effectivePort": UNICAST_PORT, "ip": a, "port": UNICAST_PORT}
                               for a in v]
        elif type_ == "auth user" and f.name == "role":
            where = values.get("partition-access") or "all-partitions"
            out["partitionAccess"] = [{"name": where, "role": v, "nameReference": {
                "link": link(object_url("auth partition", full_path(where)))}}]
        elif type_ == "auth user" and f.name == "partition-access":
            continue
        elif f.name == "last-resort-pool" and v != "none":
            out[f.rest] = f"{type_.rsplit(' ', 1)[1]} {v}"     # F5 names the pool with its type: "a /Common/p"
        else:
            one_monitor = f.name == "monitor" and v not in ("none", "default") and " " not in v   # not a rule
            out[f.rest] = full_path(v) if one_monitor else v
            if f.kind == "ref" and v != "none":
                out[f.rest + "Reference"] = {"link": link(object_url(f.ref, v))}
    if type_ == "ltm virtual" and not values.get("vlans-enabled"):
        out["vlansDisabled"] = True    # F5: on every VLAN is disabled on none
    return out


def action_to_rest(type_: str, path: str, values: dict, generation: int) -> dict:
    """A template's `definition` action: its implementation, presentation, help, roles."""
    t = TYPES[type_]
    out = {"kind": kind(f"{type_} {ACTIONS}", "state"), "name": DEFINITION, "fullPath": DEFINITION,
           "generation": generation, "selfLink": link(f"{object_url(type_, path)}/{ACTIONS}/{DEFINITION}")}
    for name in ACTION_TYPES[type_]:
        f = t.field(name)
        out[f.rest] = values.get(name, f.default)
    return out


def actions_from_rest(type_: str, v) -> dict:
    """`actions` in a body: F5's {"definition": {...}} (as f5-sdk sends it) or the subcollection's
    items [{"name": "definition", ...}] -> the template's values."""
    if isinstance(v, list) and len(v) == 1 and isinstance(v[0], dict) and v[0].get("name") == DEFINITION:
        v = {DEFINITION: v[0]}
    if not isinstance(v, dict) or set(v) != {DEFINITION} or not isinstance(v[DEFINITION], dict):
        raise unexpected(type_, ACTIONS, v)
    return definition_from_rest(type_, v[DEFINITION])


def definition_from_rest(type_: str, body) -> dict:
    if not isinstance(body, dict):
        raise RestError(400, "The request body must be a JSON object.", 1)
    t = TYPES[type_]
    by_rest = {t.field(n).rest: t.field(n) for n in ACTION_TYPES[type_]}
    values = {}
    for key, v in body.items():
        if key in META or key.endswith("Reference") or key in ("parsedPresentation", "macro"):
            continue
        f = by_rest.get(key)
        if f is None:
            raise unexpected(f"{type_} {ACTIONS}", key, v)
        values[f.name] = ("set", _names(type_, key, v) if f.kind == "list" else _scalar(type_, f, key, v))
    return values


def member_to_rest(pool: str, m: dict, generation: int, member_status=None) -> dict:
    monitor = member_status(pool, m["name"]) if member_status else "unchecked"
    session = "user-disabled" if m.get("session") == "user-disabled" else (
        "user-enabled" if monitor == "unchecked" or monitor.startswith("fqdn-") else "monitor-enabled")
    state = "user-down" if m.get("state") == "user-down" else monitor
    out = {"kind": "tm:ltm:pool:members:membersstate", **placement("ltm pool", m["name"]),
           "fullPath": m["name"], "generation": generation,
           "selfLink": link(f"{object_url('ltm pool', pool)}/members/{tilde(m['name'])}"),
           "address": m["address"], **MEMBER_EXTRAS, "priorityGroup": m.get("priority-group", 0),
           "connectionLimit": m.get("connection-limit", 0), "dynamicRatio": m.get("dynamic-ratio", 1),
           "rateLimit": m.get("rate-limit", "disabled"),
           "ratio": m.get("ratio", 1), "session": session, "state": state,
           "fqdn": {sf.rest: m["fqdn"][sf.name] for sf in FQDN_MEMBER.sub if sf.name in m["fqdn"]}
           if m.get("fqdn") else dict(NO_FQDN)}
    if m.get("ephemeral"):
        out["ephemeral"] = "true"
    if m.get("monitor"):   # its own rule (F5 shows none as /Common/none)
        out["monitor"] = "/Common/none" if m["monitor"] == "none" else m["monitor"]
    if m.get("description"):
        out["description"] = m["description"]
    return out


def _item_props(type_: str, f: Field, item: dict) -> dict:
    name = item["name"]
    out = {"name": name if f.name == "records" else base_name(name)}   # a data group's keys are not paths
    if name.startswith("/") and f.name != "records":
        out.update(placement(type_, name), fullPath=name)
    elif f.name in ("virtual-servers", "rules"):
        out["fullPath"] = name      # F5: "vs1", no folder
    if f.name == "pools" and "wideip" in type_:   # a wide IP's pools link to the pool of the wide IP's type
        out["nameReference"] = {"link": link(object_url(type_.replace("wideip", "pool"), name))}
    for sf in f.sub:
        v = item.get(sf.name)
        if v is None or sf.kind == "clauses":    # a policy rule's conditions and actions: item_to_rest
            continue
        if sf.name == "status":
            out[v] = True
        elif sf.kind == "list" and f.name == "forward-zones":   # F5: "nameservers": [{"name": "10.1.30.53:53"}]
            out[sf.rest] = [{"name": x} for x in v]
        else:   # a GTM virtual server's destination has no folder: "4.4.4.4:0"
            out[sf.rest] = v.removeprefix("/Common/") if sf.kind == "dest" else v
    return out


def item_to_rest(type_: str, path: str, f: Field, item, generation: int) -> dict:
    """An item of a subcollection other than LTM pool members (GTM pool members, virtual servers,
    a device group's devices, which the store keeps as bare names)."""
    if isinstance(item, str):
        item = {"name": full_path(item)}
    url = rule_url(type_, path, item["name"]) if f.name == "rules" else f"{object_url(type_, path)}/{f.name}/{tilde(item['name'])}"
    out = {"kind": kind(f"{type_} {f.name}", "state"), **_item_props(type_, f, item), "generation": generation,
           "selfLink": link(url)}
    for sf in f.sub:
        if sf.kind == "clauses":   # F5 lists the items of a rule's conditions and actions only when there are some
            ref = {"link": link(f"{url}/{sf.name}"), "isSubcollection": True}
            if item.get(sf.name):
                ref["items"] = [clause_to_rest(type_, url, sf.name, c, generation) for c in item[sf.name]]
            out[sf.rest + "Reference"] = ref
    return out


def clause_to_rest(type_: str, rule_url: str, which: str, c: dict, generation: int) -> dict:
    """One condition or action of a policy rule, as F5's REST shows it."""
    return {"kind": kind(f"{type_} rules {which}", "state"), "fullPath": c["name"], "generation": generation,
            "selfLink": link(f"{rule_url}/{which}/{c['name']}"), **policy_words.rest_view(which, c)}


def rule_url(type_: str, path: str, rule: str) -> str:
    return f"{object_url(type_, path)}/rules/{tilde(rule)}"


def items_from_rest(type_: str, f: Field, v) -> dict:
    """[{"name": ..., "order": 1}, "name2"] -> {name: {tmsh property: value}}"""
    if not isinstance(v, list):
        raise unexpected(type_, f.rest, v)
    subs = {sf.rest: sf for sf in f.sub}
    out = {}
    for item in v:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise unexpected(type_, f.rest, v)
        out[item["name"]] = item_props_from_rest(type_, f, item, subs)
    return out


def item_props_from_rest(type_: str, f: Field, item: dict, subs: dict | None = None) -> dict:
    subs = subs or {sf.rest: sf for sf in f.sub}
    props = {}
    for k, val in item.items():
        if k in META or k.endswith("Reference"):
            continue
        if k in ("enabled", "disabled") and "status" in {sf.name for sf in f.sub} and isinstance(val, bool):
            props["status"] = k if val else ("disabled" if k == "enabled" else "enabled")
        elif k in subs and subs[k].kind == "clauses":
            if not isinstance(val, list) or not all(isinstance(c, dict) for c in val):
                raise unexpected(f"{type_} {f.name}", k, val)
            props[subs[k].name] = [policy_words.from_rest(c) for c in val]
        elif k in subs and subs[k].kind == "list":   # names, or F5's [{"name": ...}]
            props[subs[k].name] = _names(type_, k, val)
        elif k in subs:
            props[subs[k].name] = _scalar(type_, subs[k], k, val)
        else:
            raise unexpected(f"{type_} {f.name}", k, val)
    return props


def profile_to_rest(virtual: str, name: str, generation: int) -> dict:
    path = full_path(name)
    return {"kind": "tm:ltm:virtual:profiles:profilesstate", **placement("ltm profile", path),
            "fullPath": path, "generation": generation, "context": "all",
            "selfLink": link(f"{object_url('ltm virtual', virtual)}/profiles/{tilde(path)}")}


# -- bodies in ------------------------------------------------------------------------------------
def unexpected(type_: str, key: str, value) -> RestError:
    return RestError(400, f"Found unexpected json pair at configuration item /{'/'.join(type_.split())}/. "
                          f'The json pair "{key}":{json.dumps(value)} is not allowed.', 1)


def body_name(type_: str, body: dict) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise bad_body(Invalid(f'a {TYPES[type_].label} needs a "name"'))
    if isinstance(body.get("fullPath"), str) and body["fullPath"].startswith("/") and type_ not in UNPARTITIONED:
        return object_path(type_, body["fullPath"])
    partition, sub = body.get("partition", "Common"), body.get("subPath")
    if not isinstance(partition, str) or not isinstance(sub, (str, type(None))):
        raise unexpected(type_, "partition", partition)
    folder = sub if sub and sub.startswith("/") else \
        "/" + "/".join(w for w in (partition.strip("/"), (sub or "").strip("/")) if w)   # a folder's subPath: "/", "/P"
    return object_path(type_, name, folder if folder != "/" or type_ == "sys folder" else PARTITION)


def values_from_rest(type_: str, body: dict, *, replace: bool = False) -> dict:
    """A JSON body -> Op values {field: ("set", value)}. `replace` (PUT) resets what is not given
    to its default, as a BIG-IP does; members are replaced only when given."""
    if not isinstance(body, dict):
        raise RestError(400, "The request body must be a JSON object.", 1)
    t = TYPES[type_]
    by_rest = {f.rest: f for f in t.fields}
    values = {}
    for key, v in body.items():
        if key in META or key.endswith("Reference"):
            continue
        if t.flag_field and key in t.flags:
            if not isinstance(v, bool):
                raise unexpected(type_, key, v)
            values[t.flag_field] = ("set", key if v else next(x for x in t.flags if x != key))
            continue
        if type_ == "auth user" and key == "partitionAccess":
            values["partition-access"], values["role"] = (("set", x) for x in _role(v))
            continue
        if type_ == "auth user" and key == "encryptedPassword":
            key = "password"
        if key == ACTIONS and type_ in ACTION_TYPES:
            values.update(actions_from_rest(type_, v))
            continue
        f = by_rest.get(key)
        if f is None:
            raise unexpected(type_, key, v)
        if v is None and f.kind == "str" and not f.required and f.default is None:
            values[f.name] = ("set", None)      # null: no longer set (a template's tmplChecksum)
            continue
        if f.kind == "members":
            values[f.name] = ("set", members_from_rest(v))
        elif f.kind == "items":
            values[f.name] = ("set", items_from_rest(type_, f, v))
        elif f.kind in ("list", "terms"):
            names = _names(type_, key, v)
            values[f.name] = ("set", [base_name(full_path(n)) for n in names] if f.name == "devices" else names)
        elif f.kind == "record":
            values[f.name] = ("set", _record(type_, f, key, v))
        elif f.kind == "raw":   # an iApp's variables, tables, lists: F5's REST shape, checked by the store
            values[f.name] = ("set", v)
        elif f.kind == "switch":   # "ipForward": true
            if not isinstance(v, bool):
                raise unexpected(type_, key, v)
            values[f.name] = ("set", v)
        elif f.name == "ip-protocol" and type(v) is int:
            values[f.name] = ("set", IP_PROTOCOLS.get(v, str(v)))
        else:
            values[f.name] = ("set", _scalar(type_, f, key, v))
    if replace:
        for f in t.fields:
            if f.name not in values and not f.required and f.kind not in ("members", "items"):
                default = f.default if f.default is not None else ([] if f.kind == "list" else None)
                if default is not None:
                    values[f.name] = ("set", list(default) if isinstance(default, tuple) else default)
    return values


def _record(type_: str, f: Field, key: str, v) -> dict:
    """{"type": "automap"} -> {"type": "automap"}: the block's keys in tmsh form."""
    subs = {sf.rest: sf for sf in f.sub}
    if not isinstance(v, dict) or any(k not in subs for k in v):
        raise unexpected(type_, key, v)
    return {subs[k].name: _names(type_, k, x) if subs[k].kind == "list" else
            str(x) if k == "interval" and type(x) is int else _scalar(type_, subs[k], k, x)   # an fqdn's: "3600"
            for k, x in v.items()}


def _scalar(type_: str, f: Field, key: str, v):
    if isinstance(v, bool) or isinstance(v, (list, dict)) or v is None:
        raise unexpected(type_, key, v)
    if f.kind == "int":
        return v
    if not isinstance(v, str):
        raise unexpected(type_, key, v)
    return v.strip() if f.name == "monitor" else v


def _names(type_: str, key: str, v) -> list[str]:
    if isinstance(v, str):
        return [v]
    if not isinstance(v, list):
        raise unexpected(type_, key, v)
    out = []
    for item in v:
        if key == "policies" and isinstance(item, dict) and isinstance(item.get("partition"), str) \
                and isinstance(item.get("name"), str) and not item["name"].startswith("/"):
            out.append(f"/{item['partition'].strip('/')}/{item['name']}")   # as bigip_virtual_server sends them
        elif key == "unicastAddress" and isinstance(item, dict) and isinstance(item.get("ip"), str) \
                and item.get("port", UNICAST_PORT) == UNICAST_PORT:
            out.append(item["ip"])
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            out.append(item["name"])
        elif isinstance(item, str):
            out.append(item)
        else:
            raise unexpected(type_, key, v)
    return out


def _role(v) -> tuple[str, str]:
    """partitionAccess -> (the partition, the role): one entry, as the lab keeps one role a user."""
    if isinstance(v, list) and len(v) == 1 and isinstance(v[0], dict) and isinstance(v[0].get("role"), str) \
            and isinstance(v[0].get("name", "all-partitions"), str):
        return v[0].get("name", "all-partitions"), v[0]["role"]
    raise RestError(400, 'partitionAccess takes one [{"name": PARTITION, "role": ROLE}] in the lab', 1)


def member_from_rest(body: dict, *, name_required: bool = True) -> tuple[str | None, dict]:
    """One member body -> (name, tmsh properties). REST's session/state words map to tmsh's."""
    if not isinstance(body, dict):
        raise RestError(400, "A pool member must be a JSON object.", 1)
    rest_fields = {f.rest: f for f in MEMBER_FIELDS}
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise unexpected("ltm pool members", "name", name)
    if name_required and not name:
        raise bad_body(Invalid('a pool member needs a "name" (NODE:PORT)'))
    props = {}
    for key, v in body.items():
        if key in META or key.endswith("Reference"):
            continue
        if key in MEMBER_EXTRAS and key not in rest_fields:
            ours = MEMBER_EXTRAS[key]
            if v != ours and not (isinstance(v, dict) and isinstance(ours, dict) and v.items() <= ours.items()):
                raise RestError(400, f"{key} {v!r} is not supported in the lab (only {MEMBER_EXTRAS[key]!r})", 1)
            continue
        f = rest_fields.get(key)
        if f is None:
            raise unexpected("ltm pool members", key, v)
        if f.kind == "record":   # fqdn {"autopopulate": "enabled", "tmName": ...} ({} as some clients send: nothing)
            if v != {}:
                props[f.name] = _record("ltm pool members", f, key, v)
            continue
        if key == "session":
            if v not in SESSION_IN:
                raise bad_body(Invalid(f'invalid member session "{v}"'))
            v = SESSION_IN[v]
        elif key == "state":
            if v not in STATE_IN:
                raise bad_body(Invalid(f'invalid member state "{v}"'))
            v = STATE_IN[v]
        props[f.name] = _scalar("ltm pool members", f, key, v)
    return name, props


def members_from_rest(v) -> dict:
    if not isinstance(v, list):
        raise unexpected("ltm pool", "members", v)
    out = {}
    for item in v:
        if isinstance(item, str):
            item = {"name": item}
        name, props = member_from_rest(item)
        out[name] = props
    return out


def _list_item_op(method: str, r: Route, body) -> Op:
    """A device group's devices: POST {"name": D} adds D, DELETE .../devices/D removes it."""
    if method == "POST" and r.member is None:
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise bad_body(Invalid(f'a {r.sub} item needs a "name"'))
        stray = [k for k in body if k not in META]
        if stray:
            raise unexpected(f"{r.type} {r.sub}", stray[0], body[stray[0]])
        return Op("modify", r.type, r.path, {r.sub: ("add", [base_name(full_path(body["name"]))])})
    if method == "DELETE" and r.member is not None:
        return Op("modify", r.type, r.path, {r.sub: ("delete", [base_name(r.member)])})
    raise RestError(405, f"{method} is not allowed on {r.sub}", 1)


def op_for(method: str, r: Route, body) -> Op:
    """The one change a write request asks for (the store checks it as tmsh's would be)."""
    if r.stats:
        raise RestError(405, "Method not allowed on stats", 1)
    if r.clauses:
        raise RestError(405, f"{method} is not allowed on a rule's {r.clauses}: send them on the rule", 1)
    if r.sub == "profiles":
        raise RestError(405, "The lab's profiles subcollection is read only; set a virtual's profiles", 1)
    if r.sub == ACTIONS:
        if r.member != DEFINITION or method not in ("PATCH", "PUT"):
            raise RestError(405, f"{method} is not allowed here: a template's one action is {DEFINITION}", 1)
        return Op("modify", r.type, r.path, definition_from_rest(r.type, body))
    if r.sub and TYPES[r.type].field(r.sub).kind == "list":
        return _list_item_op(method, r, body)
    if r.sub and TYPES[r.type].field(r.sub).kind == "items":
        f = TYPES[r.type].field(r.sub)
        if method == "POST" and r.member is None:
            if not isinstance(body, dict) or not isinstance(body.get("name"), str):
                raise bad_body(Invalid(f'a {r.sub} item needs a "name"'))
            return Op("modify", r.type, r.path, {r.sub: ("add", {body["name"]: item_props_from_rest(r.type, f, body)})})
        if r.member is None:
            raise RestError(405, "Method not allowed on a collection", 1)
        if method == "DELETE":
            return Op("modify", r.type, r.path, {r.sub: ("delete", {r.member: {}})})
        if not isinstance(body, dict):
            raise RestError(400, "The request body must be a JSON object.", 1)
        return Op("modify", r.type, r.path, {r.sub: ("modify", {r.member: item_props_from_rest(r.type, f, body)})})
    if r.sub == "members":
        if method == "POST" and r.member is None:
            name, props = member_from_rest(body)
            part = body.get("partition")
            if isinstance(part, str) and part.strip("/") and not name.startswith("/"):   # its node's partition
                name = f"/{part.strip('/')}/{name}"
            return Op("modify", "ltm pool", r.path, {"members": ("add", {name: props})})
        if r.member is None:
            raise RestError(405, "Method not allowed on a collection", 1)
        if method == "DELETE":
            return Op("modify", "ltm pool", r.path, {"members": ("delete", {r.member: {}})})
        name, props = member_from_rest(body, name_required=False)
        if name and full_path(name) != r.member:
            raise RestError(400, f"The member name {name} does not match the URI ({r.member})", 1)
        return Op("modify", "ltm pool", r.path, {"members": ("modify", {r.member: props})})
    if method == "POST":
        if r.path is not None:
            raise RestError(405, "POST goes to the collection, not an object", 1)
        if not isinstance(body, dict):
            raise RestError(400, "The request body must be a JSON object.", 1)
        return Op("create", r.type, body_name(r.type, body), values_from_rest(r.type, body))
    if r.path is None:
        raise RestError(405, f"{method} needs an object URI, not a collection", 1)
    if method == "DELETE":
        return Op("delete", r.type, r.path, {})
    if isinstance(body, dict) and "name" in body and isinstance(body["name"], str) \
            and object_path(r.type, body["name"]) != r.path:
        raise RestError(400, f"The name {body['name']} in the body does not match the URI ({r.path})", 1)
    return Op("modify", r.type, r.path, values_from_rest(r.type, body, replace=(method == "PUT")))
