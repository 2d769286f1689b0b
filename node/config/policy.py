"""LTM policies as a BIG-IP keeps them: a draft in the partition's Drafts folder is edited, then
published to its name outside it (replacing the published one), and only a published policy may
be attached to a virtual server. Sans-IO: ops from the configuration, checks on a commit's whole
working configuration (store.py)."""
from __future__ import annotations

from typing import Callable

from ..errors import Exists, Invalid, NotFound
from .schema import TYPES, base_name, folder_of

Step = tuple   # (action, type, path, values): one store.Op's fields (store.py imports this module)

POLICY = "ltm policy"
DRAFTS = "Drafts"


def is_draft(path: str) -> bool:
    return base_name(folder_of(path)) == DRAFTS


def draft_path(path: str) -> str:
    """/P/pol -> /P/Drafts/pol"""
    return f"{folder_of(path)}/{DRAFTS}/{base_name(path)}"


def published_path(draft: str) -> str:
    """/P/Drafts/pol -> /P/pol"""
    return f"{folder_of(folder_of(draft))}/{base_name(draft)}"


def _as_set(values: dict, status: str) -> dict:
    """A policy's values as the ops that set them on another (its rules by name)."""
    out = {k: ("set", v) for k, v in values.items() if k not in ("status", "rules")}
    rules = {r["name"]: {k: v for k, v in r.items() if k != "name"} for r in values.get("rules") or ()}
    return out | {"rules": ("set", rules), "status": ("set", status)}


def draft_ops(get: Callable[[str, str], dict | None], path: str) -> list[Step]:
    """`modify ltm policy P create-draft` (REST: PATCH {"createDraft": true}): a draft copy of the
    published policy."""
    if is_draft(path):
        raise Invalid(f"{path} is already a draft policy")
    values = get(POLICY, path)
    if values is None:
        raise NotFound(TYPES[POLICY].label, path)
    draft = draft_path(path)
    if get(POLICY, draft) is not None:
        raise Exists(TYPES[POLICY].label, draft, f" in partition {path.split('/')[1]}")
    return [("create", POLICY, draft, _as_set(values, "draft"))]


def publish_ops(get: Callable[[str, str], dict | None], draft: str) -> list[Step]:
    """`publish ltm policy Drafts/P` (REST: POST {"command": "publish", "name": ...}): the draft
    becomes the published policy of its name, in one commit."""
    values = get(POLICY, draft)
    if values is None or not is_draft(draft):
        raise NotFound("Draft Policy", draft)
    target = published_path(draft)
    verb = "modify" if get(POLICY, target) is not None else "create"
    return [(verb, POLICY, target, _as_set(values, "published")), ("delete", POLICY, draft, {})]


def check(work: dict, touched: dict) -> None:
    """What a policy forwards to exists; a virtual server's policies exist and are published."""
    for (tname, path), verb in touched.items():
        if verb != "put":
            continue
        if tname == POLICY:
            for rule in work[(tname, path)].get("rules") or ():
                for action in rule.get("actions") or ():
                    if "pool" in action and ("ltm pool", action["pool"]) not in work:
                        raise NotFound("Pool", action["pool"])
        if tname == "ltm virtual":
            for policy in work[(tname, path)].get("policies") or ():
                if (POLICY, policy) not in work:
                    raise NotFound(TYPES[POLICY].label, policy)
                if is_draft(policy):
                    raise Invalid(f"virtual server {path} cannot use the draft policy {policy}; "
                                  "publish it first")


def user_of(work: dict, tname: str, path: str) -> tuple[str, str] | None:
    """Who keeps `path` from being deleted: a virtual server its policy, a policy its pool."""
    for (ot, op), ov in work.items():
        if tname == POLICY and ot == "ltm virtual" and path in (ov.get("policies") or ()):
            return ot, op
        if tname == "ltm pool" and ot == POLICY and any(
                a.get("pool") == path for r in ov.get("rules") or () for a in r.get("actions") or ()):
            return ot, op
    return None


def drafts_folder(type_: str, path: str) -> str | None:
    """The Drafts folder a draft policy lives in (made with its first draft, as on a BIG-IP)."""
    return folder_of(path) if type_ == POLICY and is_draft(path) else None
