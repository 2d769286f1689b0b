"""The iControl LX packages a node has: the lab serves AS3 and DO itself (node/as3, node/do), so
those two are what it reports installed, at their schema versions.

    POST /mgmt/shared/iapp/package-management-tasks {"operation": "QUERY"}   a task that lists them
        (it finishes at once, as a BIG-IP's does within a poll)
    GET  /mgmt/shared/iapp/global-installed-packages[/ID]                   the installed packages
        (what f5_modules reads to decide which of bigip_device_info's as3/do/ts/cfe subsets to run)

Installing or removing packages is not modelled."""
from __future__ import annotations

import uuid

from ..as3 import classes as as3
from ..do import classes as do

BASE = "https://localhost/mgmt/shared/iapp/package-management-tasks"
GLOBAL = "https://localhost/mgmt/shared/iapp/global-installed-packages"
PACKAGES = (("f5-appsvcs", as3.SCHEMA_VERSION), ("f5-declarative-onboarding", do.SCHEMA_VERSION))
KEEP = 50   # finished tasks a device remembers


def installed() -> list[dict]:
    return [{"name": name, "version": version, "release": "1", "arch": "noarch",
             "packageName": f"{name}-{version}-1.noarch", "tags": ["IAPP"]} for name, version in PACKAGES]


def _id(name: str) -> str:
    """A package's id: the same on every read (a BIG-IP keeps one per installed package)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{GLOBAL}/{name}"))


def _global_item(name: str, version: str) -> dict:
    package = f"{name}-{version}-1.noarch"
    return {"id": _id(name), "appName": name, "packageName": package, "version": version, "release": "1",
            "arch": "noarch", "tags": ["IAPP"], "generation": 1, "lastUpdateMicros": 0,
            "kind": "shared:iapp:global-installed-packages:installedpackagestate", "selfLink": f"{GLOBAL}/{_id(name)}"}


def global_installed(package_id: str | None = None) -> dict | None:
    """The collection, or (with an id) one package; None for an id no package has."""
    items = [_global_item(name, version) for name, version in PACKAGES]
    if package_id is not None:
        return next((i for i in items if i["id"] == package_id), None)
    return {"items": items, "generation": 1, "lastUpdateMicros": 0,
            "kind": "shared:iapp:global-installed-packages:installedpackagecollectionstate", "selfLink": GLOBAL}


class PackageTasks:
    def __init__(self):
        self.tasks: dict[str, dict] = {}

    def query(self) -> dict:
        task_id = str(uuid.uuid4())
        task = {"operation": "QUERY", "id": task_id, "status": "FINISHED", "queryResponse": installed(),
                "userReference": {"link": "https://localhost/mgmt/shared/authz/users/admin"},
                "identityReferences": [{"link": "https://localhost/mgmt/shared/authz/users/admin"}],
                "generation": 1,
                "kind": "shared:iapp:package-management-tasks:iapppackagemanagementtaskstate",
                "selfLink": f"{BASE}/{task_id}"}
        self.tasks[task_id] = task
        while len(self.tasks) > KEEP:
            self.tasks.pop(next(iter(self.tasks)))
        return task

    def get(self, task_id: str) -> dict | None:
        return self.tasks.get(task_id)
