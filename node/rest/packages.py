"""/mgmt/shared/iapp/package-management-tasks: iControl LX package tasks. The lab serves AS3 and DO
itself (node/as3, node/do), so a QUERY lists those two as installed; it finishes at once, as a
BIG-IP's does within a poll. Installing or removing packages is not modelled."""
from __future__ import annotations

import uuid

from ..as3 import classes as as3
from ..do import classes as do

BASE = "https://localhost/mgmt/shared/iapp/package-management-tasks"
PACKAGES = (("f5-appsvcs", as3.SCHEMA_VERSION), ("f5-declarative-onboarding", do.SCHEMA_VERSION))
KEEP = 50   # finished tasks a device remembers


def installed() -> list[dict]:
    return [{"name": name, "version": version, "release": "1", "arch": "noarch",
             "packageName": f"{name}-{version}-1.noarch", "tags": ["IAPP"]} for name, version in PACKAGES]


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
