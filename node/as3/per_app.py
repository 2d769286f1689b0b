"""AS3's per-application deployments (3.50): /declare/TENANT/applications[/APP], sans-IO.

A per-application declaration is applications without their Tenant. Posted, it becomes a whole
declaration of that tenant: the tenant's deployed applications with the posted ones added or put
in their place, so the others stand (a tenant that is not there is made). DELETE of
/applications/APP deploys the tenant without it (without any, the tenant goes). Answers show the
declaration the same way back: schemaVersion and the applications.
"""
from __future__ import annotations

import copy

from . import classes as C
from .refs import apps_of

DISABLED = "Per-application deployment has been disabled on the settings endpoint"


def app_names(body) -> list[str]:
    return [k for k, v in body.items() if isinstance(v, dict) and v.get("class") == "Application"] \
        if isinstance(body, dict) else []


def merged(body, tenant: str, deployed: dict | None) -> dict | str:
    """A posted per-application body as the whole declaration it means, or why it is not one."""
    if not isinstance(body, dict):
        return "/: should be object"
    if body.get("class") in ("ADC", "AS3") or "Tenant" in [v.get("class") for v in body.values() if isinstance(v, dict)]:
        return "/: a per-application declaration holds applications, not a Tenant or ADC"
    apps = app_names(body)
    if not apps:
        return "/: a per-application declaration holds at least one Application"
    extra = [k for k in body if k not in apps and k not in ("schemaVersion", "id", "controls", "label", "remark")]
    if extra:
        return f"/{extra[0]}: should be an Application"
    before = copy.deepcopy(((deployed or {}).get(tenant)) or {"class": "Tenant"})
    before.update({a: body[a] for a in apps})
    head = {k: v for k, v in (deployed or {}).items() if k in C.TOP_LEVEL_WORDS and k != "controls"}
    return {**head, "class": "ADC", "schemaVersion": body.get("schemaVersion", C.SCHEMA_VERSION),
            **({"id": body["id"]} if "id" in body else {}), tenant: before}


def without(tenant: str, app: str, deployed: dict | None) -> dict | None:
    """The whole declaration with one application of the tenant gone; None if it is not deployed."""
    mine = (deployed or {}).get(tenant)
    if not isinstance(mine, dict) or app not in apps_of(mine):
        return None
    decl = copy.deepcopy(deployed)
    del decl[tenant][app]
    return {k: v for k, v in decl.items() if k in C.TOP_LEVEL_WORDS or k == tenant}


def view(decl: dict | None, tenant: str, apps: list[str] | None = None) -> dict:
    """A declaration as a per-application answer shows it: schemaVersion and the tenant's
    applications (`apps`: these only)."""
    decl = decl or {}
    mine = apps_of(decl.get(tenant) or {})
    return {"schemaVersion": decl.get("schemaVersion", C.SCHEMA_VERSION),
            **{a: v for a, v in mine.items() if not apps or a in apps}}
