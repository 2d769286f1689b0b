"""Where the AS3 requests of one POST go, sans-IO: a body may be one request or an array of them
(F5's AS3_Array / ADC_Array), each with its own targetHost (and targetUsername/targetPassphrase
or targetTokens). F5's AS3 on a BIG-IP deploys a request for localhost itself and sends one for
another host to that host's /mgmt/shared/appsvcs over iControl REST.

In the lab the decision is made by the lab's own device list, never by trying to connect: this
device (localhost, its management address or name) deploys here; another BIG-IP of the lab (its
management address or name) gets the request over the lab's REST; any other host gets AS3's
answer for a target it cannot reach, and nothing leaves the lab. `target` in a declaration is
BIG-IQ's: a BIG-IP keeps it in the declaration and deploys locally.

The REST shell (node/rest/appsvcs.py) runs a batch: `batch` (request-level checks of every item;
an error there refuses the whole body, nothing changes), then each item's declaration checked
before any is applied (an invalid item, or two items for the same tenant of the same host, get
their own 422 and the others go on, as F5's AS3 does), then each item in order; `combined`
makes AS3's answer of an array, `{"code", "items": [...]}`.
"""
from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from . import classes as C
from . import validate
from .service import AppServices, invalid

LOCALHOST = "localhost"
DUPLICATE = ("Error(s): 'Invalid/Duplicate': another request exists with the same targetHost-declaration tenant, "
             "declaration target, and/or declaration tenant-app")


@dataclass(frozen=True)
class Lab:
    """This device and the lab's other BIG-IPs, as the node knows them from the lab."""
    name: str
    mgmt_address: str
    peers: tuple = ()    # (name, mgmt address) of each other BIG-IP of the lab

    def where(self, host: str) -> tuple[str, str | None]:
        """("local", None), ("peer", mgmt address) or ("outside", None) for a targetHost."""
        h = _canonical(host)
        if h in (LOCALHOST, "127.0.0.1", "::1", _canonical(self.mgmt_address), self.name.lower()):
            return "local", None
        for name, address in self.peers:
            if h in (_canonical(address), name.lower()):
                return "peer", address
        return "outside", None


def _canonical(host: str) -> str:
    host = (host or LOCALHOST).lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


@dataclass
class Item:
    """One AS3 request of the body, without its target properties."""
    index: int
    request: dict
    host: str = LOCALHOST       # targetHost as given
    where: str = "local"
    address: str | None = None  # a peer's management address
    port: int = 443
    timeout: int = 150
    headers: dict = field(default_factory=dict)   # the peer's credentials (Authorization or its tokens)
    answer: tuple[int, dict] | None = None         # decided before it runs (invalid, duplicate)


def is_array(body) -> bool:
    """An array of requests (not a PATCH body, whose items are operations)."""
    return isinstance(body, list) and not all(isinstance(op, dict) and "op" in op for op in body)


def is_targeted(body) -> bool:
    """One request that names a targetHost (it may be this device)."""
    return isinstance(body, dict) and body.get("class") == "AS3" and "targetHost" in body


def batch(body, lab: Lab) -> tuple[list[Item], list[str]]:
    """The items of a body (an array or one targeted request), or the request-level errors."""
    bodies = body if isinstance(body, list) else [body]
    if not bodies:
        return [], ["/: should NOT have fewer than 1 items"]
    items, errors = [], []
    for i, one in enumerate(bodies):
        at = f"/{i}" if isinstance(body, list) else ""
        if not isinstance(one, dict):
            errors.append(f"{at or '/'}: should be object")
            continue
        if one.get("class") == "ADC":
            one = {"class": "AS3", "action": "deploy", "declaration": one}
        elif one.get("class") != "AS3":
            errors.append(f"{at}/class: should be equal to one of the allowed values")
            continue
        own = validate.check("AS3", one, at)
        if own:
            errors += own
            continue
        items.append(_item(i, one, lab))
    if not errors:
        _duplicates(items)
    return items, errors


def _item(i: int, one: dict, lab: Lab) -> Item:
    host = one.get("targetHost") or LOCALHOST
    where, address = lab.where(host)
    headers = dict(one.get("targetTokens") or {})
    if not headers and "targetUsername" in one:
        auth = base64.b64encode(f"{one['targetUsername']}:{one.get('targetPassphrase', '')}".encode()).decode()
        headers = {"Authorization": f"Basic {auth}"}
    request = {k: v for k, v in one.items() if k not in C.TARGET_WORDS}
    return Item(i, request, host, where, address, one.get("targetPort") or 443, one.get("targetTimeout", 150), headers)


def _duplicates(items: list[Item]) -> None:
    """F5's rule: two requests for the same tenant of the same host (or for the same BIG-IQ
    target) are both refused."""
    seen: dict = {}
    for item in items:
        decl = item.request.get("declaration")
        if not isinstance(decl, dict):
            continue
        host = LOCALHOST if item.where == "local" else _canonical(item.address or item.host)
        target = decl.get("target") if isinstance(decl.get("target"), dict) else None
        keys = [("tenant", host, t) for t, v in decl.items() if isinstance(v, dict) and v.get("class") == "Tenant"]
        if target:
            keys.append(("target", target.get("hostname") or target.get("address")))
        for key in keys:
            if key in seen and not (key[0] == "tenant" and target and not _share_apps(seen[key], item, key[2])):
                for dup in (seen[key], item):
                    dup.answer = (422, {"code": 422, "message": DUPLICATE})
            seen.setdefault(key, item)


def _share_apps(one: Item, other: Item, tenant: str) -> bool:
    apps = [set(k for k, v in i.request["declaration"][tenant].items() if isinstance(v, dict)
                and v.get("class") == "Application") for i in (one, other)]
    return bool(apps[0] & apps[1])


def checked(item: Item) -> list[str]:
    """A request for another device: its declaration's errors that do not depend on that device
    (classes, properties, references inside it)."""
    request, decl, errors = validate.split(item.request)
    if errors or decl is None or request.get("action") not in ("deploy", "dry-run"):
        return errors
    return validate.declaration(decl)


def unreachable(item: Item) -> tuple[int, dict]:
    """F5's AS3 answer for a target it cannot reach (its first call to the target fails)."""
    where = f"{item.host}:{item.port}"
    return 500, {"code": 500, "message": f"GET https://{where}/mgmt/tm/sys/provision query target BIG-IP "
                                         f"provisioning failed (connect ETIMEDOUT {where})"}


def remote(item: Item, status: int, body) -> tuple[int, dict]:
    """A peer's answer as the item's: its results name the target host, as AS3's do."""
    if not isinstance(body, dict):
        return status, {"code": status, "message": str(body)}
    for r in body.get("results") or []:
        if isinstance(r, dict) and r.get("host") in (LOCALHOST, "", None):
            r["host"] = item.host
    return status, body


def combined(answers: list[tuple[int, dict]]) -> tuple[int, dict]:
    """AS3's answer of an array: one code when every item has it (204 shown as 200), else 207."""
    codes = {status for status, _ in answers}
    code = codes.pop() if len(codes) == 1 else 207
    code = 200 if code == 204 else code
    return code, {"code": code, "items": [body if isinstance(body, dict) and body else {"code": status}
                                          for status, body in answers]}


async def run(service: AppServices, items: list[Item], ids: list[str], tenants, in_thread: Callable[..., Awaitable],
              forward: Callable[[Item, list | None], Awaitable[tuple[int, dict]]]) -> list[tuple[int, dict]]:
    """Every item's declaration checked, then each item in order: deployed here (its task under
    its id), sent to its peer by `forward`, or answered as unreachable. `in_thread(fn, *args)`
    runs the checks and plans off the event loop."""
    for item in items:
        if item.answer is None and item.where == "local":
            prep = await in_thread(service.prepare, item.request, tenants, "POST")
            if prep.answer is not None and prep.answer[0] == 422:
                item.answer = prep.answer
        elif item.answer is None:
            errors = await in_thread(checked, item)
            item.answer = invalid(errors) if errors else None
    answers = []
    for item, id_ in zip(items, ids):
        if item.answer is None and item.where == "local":
            prep = await in_thread(service.prepare, item.request, tenants, "POST")
            answers.append(service.apply(prep, id_))
            continue
        answer = item.answer or (await forward(item, tenants) if item.where == "peer" else unreachable(item))
        service.finish(id_, answer)
        answers.append(answer)
    return answers
