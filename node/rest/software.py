"""What a BIG-IP reports of its installed software at /mgmt/tm/sys/software: one boot volume,
HD1.1, active and running the version the node reports everywhere (node/version.py); no images or
hotfixes uploaded. Read only: the lab installs nothing (docs/design.md)."""
from __future__ import annotations

from ..version import BUILD, PRODUCT, VERSION
from .resources import link

BASE = "/mgmt/tm/sys/software"
KINDS = ("volume", "image", "hotfix")
ACTIVE_VOLUME = "HD1.1"


def _volume(name: str) -> dict:
    # `media` is one object, as bigip_device_info reads it (F5's 12.1 fixture shows a one-item list)
    return {"kind": "tm:sys:software:volume:volumestate", "name": name, "fullPath": name, "generation": 1,
            "selfLink": link(f"{BASE}/volume/{name}"), "active": True, "apiRawValues": {}, "basebuild": BUILD,
            "build": BUILD, "product": PRODUCT, "status": "complete", "version": VERSION,
            "media": {"name": name, "defaultBootLocation": True, "media": "hd", "size": "default"}}


def collection(which: str) -> dict:
    """/mgmt/tm/sys/software/volume, /image or /hotfix."""
    items = [_volume(ACTIVE_VOLUME)] if which == "volume" else []
    return {"kind": f"tm:sys:software:{which}:{which}collectionstate", "selfLink": link(f"{BASE}/{which}"),
            "items": items}


def volume() -> dict:
    """/mgmt/tm/sys/software/volume/HD1.1, the one volume."""
    return _volume(ACTIVE_VOLUME)
