"""A declaration checked before anything changes: AS3's 422 errors, each `JSON-pointer: text` with
ajv's wording as AS3 prints it ("/T/A/pool: should have required property 'members'").

The walk knows AS3's levels (ADC -> Tenant -> Application -> objects); each object is checked
against its class's JSON schema (classes.py) by jsonschema, then the references between objects
(`{"use": ...}`) and the rules no schema can say (templates, the Common tenant, one address:port
per virtual).
"""
from __future__ import annotations

import re

from .. import jsoncheck
from ..config import ssl_files
from ..errors import ConfigError
from . import classes as C
from . import secrets, unsupported
from .refs import Resolver

NAME = re.compile(C.NAME)


SCHEMAS = {"AS3": C.AS3, "ADC": C.ADC, "Tenant": C.TENANT, "Application": C.APPLICATION, **C.CLASSES}


def check(cls: str, value, pointer: str) -> list[str]:
    """The schema errors of one object (`cls`: a class or level of SCHEMAS)."""
    return jsoncheck.check(f"AS3:{cls}", SCHEMAS[cls], value, pointer)


class NotJson(str):
    """A request body that did not parse (the text says why)."""


def split(body) -> tuple[dict, dict | None, list[str]]:
    """The request (AS3 wrapper, defaults filled) and the ADC declaration in it, or the errors."""
    if isinstance(body, NotJson):
        return {}, None, [f"/: the body is not JSON ({body})"]
    if not isinstance(body, dict):
        return {}, None, ["/: should be object"]
    if body.get("class") == "AS3":
        errors = check("AS3", body, "")
        request = {"action": "deploy", "persist": True, **body}
        decl = body.get("declaration")
        if errors:
            return request, None, errors
        if decl is None and request["action"] in ("deploy", "dry-run"):
            return request, None, ["/: should have required property 'declaration'"]
        return request, decl, []
    if "class" not in body:
        return {}, None, ["/: should have required property 'class'"]
    if body["class"] != "ADC":
        return {}, None, ["/class: should be equal to one of the allowed values"]
    return {"action": "deploy", "persist": True}, body, []


def declaration(decl: dict, existing: dict | None = None) -> list[str]:
    """Every error of an ADC declaration; [] when it can be deployed. `existing` maps the tenants
    already deployed and not in this declaration to theirs (for duplicate addresses)."""
    errors = check("ADC", {k: v for k, v in decl.items() if k in C.TOP_LEVEL_WORDS}, "")
    tenants = {k: v for k, v in decl.items() if k not in C.TOP_LEVEL_WORDS}
    for t, tenant in tenants.items():
        errors += _tenant(t, tenant)
    if errors:
        return errors
    resolver = Resolver({**(existing or {}), **tenants})
    errors += resolver.errors(tenants)
    return errors


def _named(pointer: str, name: str, value, cls: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{pointer}: should be object"]
    if not NAME.match(name):
        return [f'{pointer}: should match pattern "{C.NAME}"']
    if "class" not in value:
        return [f"{pointer}: should have required property 'class'"]
    if value["class"] != cls:
        return [f"{pointer}/class: should be equal to constant ({cls!r})"]
    return []


def _tenant(t: str, tenant) -> list[str]:
    errors = _named(f"/{t}", t, tenant, "Tenant") if t != "Common" else []
    if errors:
        return errors
    errors = check("Tenant", {k: v for k, v in tenant.items() if k in C.TENANT_WORDS}, f"/{t}")
    for a, app in tenant.items():
        if a in C.TENANT_WORDS:
            continue
        if t == "Common" and a != "Shared":
            errors.append(f"/Common/{a}: the Common tenant may hold only the application Shared")
            continue
        errors += _named(f"/{t}/{a}", a, app, "Application") or _application(t, a, app)
    return errors


def _application(t: str, a: str, app: dict) -> list[str]:
    where = f"/{t}/{a}"
    errors = check("Application", {k: v for k, v in app.items() if k in C.APP_WORDS}, where)
    want = C.TEMPLATES.get(app.get("template"))
    if want and not isinstance(app.get("serviceMain"), dict):
        errors.append(f"{where}: should have required property 'serviceMain'")
    elif want and app["serviceMain"].get("class") != want:
        errors.append(f"{where}/serviceMain/class: should be equal to constant ('{want}')")
    for name, item in app.items():
        if name in C.APP_WORDS:
            continue
        pointer = f"{where}/{name}"
        if not isinstance(item, dict):
            errors.append(f"{pointer}: should be object")
        elif not NAME.match(name):
            errors.append(f'{pointer}: should match pattern "{C.NAME}"')
        elif "class" not in item:
            errors.append(f"{pointer}: should have required property 'class'")
        elif item["class"] not in C.CLASSES:
            errors.append(f'{pointer}/class: class "{item["class"]}" is not supported by this lab '
                          f'(supported: {", ".join(sorted(C.CLASSES))})')
        elif item["class"] in C.COMMON_ONLY and (t, a) != ("Common", "Shared"):
            errors.append(f"{pointer}: a {item['class']} is declared in /Common/Shared only")
        elif t == "Common" and item["class"].startswith("Service_") and item["class"] != "Service_Address":
            errors.append(f"{pointer}: a {item['class']} cannot be declared in the Common tenant")
        else:
            errors += unsupported.named(item, pointer) or check(item["class"], item, pointer) or _pem(item, pointer)
    return errors


PEM_PARTS = (("certificate", ssl_files.CERT, "a PEM certificate"), ("privateKey", ssl_files.KEY,
              "an unencrypted PEM private key"), ("chainCA", ssl_files.CERT, "a PEM certificate"))


def _pem(item: dict, pointer: str) -> list[str]:
    """A Certificate's PEM texts: each readable (a certificate, a key its passphrase opens) and the
    key the certificate's. Parts given as {bigip} files are the store's to check."""
    if item["class"] == "CA_Bundle" and isinstance(item["bundle"], str):
        try:
            ssl_files.describe(ssl_files.CERT, f"{pointer}/bundle", item["bundle"].encode())
        except ConfigError:
            return [f"{pointer}/bundle: should be PEM certificates"]
    if item["class"] != "Certificate":
        return []
    if "pkcs12" in item:
        if isinstance(item["pkcs12"], dict) and "url" in item["pkcs12"]:
            return []     # refused by name (unsupported.py)
        errors = secrets.pkcs12(item, pointer)[1]
        if errors:
            return errors
        item = secrets.parts(item)
    errors, key = [], None
    if isinstance(item.get("privateKey"), str):
        key, errors = secrets.private_key(item, pointer)
    for prop, type_, what in PEM_PARTS:
        text = key if prop == "privateKey" else item.get(prop)
        if isinstance(text, str):
            try:
                ssl_files.describe(type_, f"{pointer}/{prop}", text.encode())
            except ConfigError:
                errors.append(f"{pointer}/{prop}: should be {what}")
    if not errors and key and isinstance(item["certificate"], str) and not ssl_files.matches(item["certificate"], key):
        errors.append(f"{pointer}/privateKey: the key does not match the certificate")
    return errors
