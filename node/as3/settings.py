"""AS3's /settings: its system-wide switches (F5's names and defaults), sans-IO.

F5's AS3 keeps them in the data group /Common/appsvcs/settings, one record a setting, and a POST
overwrites them all: the body is validated with its schema's defaults filled in, so a setting the
body leaves out goes back to its default. The lab keeps them the same way (each record's data is
the JSON value), so they survive a restart and travel with config sync like AS3's other data groups.
"""
from __future__ import annotations

import json

from .. import jsoncheck
from ..config.store import Op
from . import discovery
from .datastore import DG, FOLDER, Datastore
from .datastore import SETTINGS as PATH
DEFAULTS = {"asyncTaskStorage": "data-group", "perAppDeploymentAllowed": True, "burstHandlingEnabled": False,
            "performanceTracingEnabled": False, "performanceTracingEndpoint": "", "serializeFileUploads": False,
            "serviceDiscoveryEnabled": True, "encodeDeclarationMetadata": False, "webhook": ""}
SCHEMA = {"type": "object", "additionalProperties": False, "properties": {
    **{k: {"type": "boolean"} for k, v in DEFAULTS.items() if isinstance(v, bool)},
    "asyncTaskStorage": {"enum": ["data-group", "memory"]}, "performanceTracingEndpoint": {"type": "string"},
    "webhook": {"type": "string", "anyOf": [{"pattern": r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$"}, {"const": ""}]}}}
QUEUE_LIMIT = 10     # burst handling: declarations waiting behind the one that runs (F5's limit)
TOO_MANY = "Too many configuration operations are in progress on the device. Please try again later"
NO_TRACING = "Performance tracing cannot be enabled unless the jaeger client is installed"


def problems(body) -> list[str]:
    """What is wrong with a POST body ([] when it can be kept)."""
    if not isinstance(body, dict):
        return ["/: should be object"]
    return [("/" if e.startswith(":") else "") + e for e in jsoncheck.check("AS3:settings", SCHEMA, body, "")]


def refusal(body: dict) -> str | None:
    """A valid body AS3 still refuses (422): tracing needs a Jaeger client, which the lab has not."""
    return NO_TRACING if body.get("performanceTracingEnabled") is True else None


def current(store) -> dict:
    """Every setting: the stored value, else the default."""
    records = (store.get(DG, PATH) or {}).get("records") or []
    stored = {r["name"]: r.get("data") for r in records} if isinstance(records, list) else \
        {k: v.get("data") for k, v in records.items()}
    out = dict(DEFAULTS)
    for key in DEFAULTS:
        try:
            out[key] = json.loads(stored[key]) if key in stored else out[key]
        except (TypeError, ValueError):
            pass     # a record not ours: the default
    return out


def overwrite(store, body: dict) -> list[Op]:
    """The ops that keep a POST's settings, the ones it leaves out back at their defaults."""
    values = {**DEFAULTS, **body}
    ops = [] if store.get("sys folder", FOLDER) is not None else [Op("create", "sys folder", FOLDER, {})]
    records = {k: {"data": json.dumps(values[k])} for k in DEFAULTS}
    verb = "modify" if store.get(DG, PATH) is not None else "create"
    return ops + [Op(verb, DG, PATH, {"type": ("set", "string"), "records": ("set", records),
                                      "description": ("set", "f5 AS3 settings")})]


def post(store, body) -> tuple[int, dict]:
    """POST /settings: (status, AS3's answer); a good body is committed."""
    errors = problems(body)
    if errors:
        return 422, {"code": 422, "message": "declaration is invalid", "errors": errors}
    why = refusal(body)
    if body.get("serviceDiscoveryEnabled") is False and discovery.event_members(Datastore(store).current()):
        why = "Service Discovery cannot be disabled while there are existing tasks"
    if why:
        return 422, {"code": 422, "message": why}
    store.commit(overwrite(store, body))
    return 200, current(store)


def burst(store) -> bool:
    return bool(current(store)["burstHandlingEnabled"])
