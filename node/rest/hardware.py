"""What a BIG-IP VE reports of its (virtual) hardware and clock, in F5's stats shapes:
/mgmt/tm/sys/hardware (hardware-version, platform, system-info) and /mgmt/tm/sys/clock, which
bigip_device_info's system-info subset reads. The facts are the node's own: the MAC of its
management interface, the CPUs of the machine it runs on, its clock."""
from __future__ import annotations

import os
import time
import uuid

from .nic import mac_of
from . import resources as res
from .resources import link
from .stats import entries, nested

HW = "https://localhost/mgmt/tm/sys/hardware"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "unknown")
    except OSError:
        return "unknown"


def _url_entries(base: str, items: dict) -> dict:
    """{"0": {...}} -> F5's numbered entries under `base` (a list, to F5's parsers)."""
    return {f"{base}/{k}": nested(v) for k, v in items.items()}


def hardware(device: str, lab: str, mgmt_address: str) -> dict:
    cpus = entries({"model": _cpu_model(), "tmName": "cpus", "type": "base-board"})
    cpus[f"{HW}/hardware-version/cpus/versions"] = {"nestedStats": {"entries": _url_entries(
        f"{HW}/hardware-version/cpus/versions", {"1": {"tmName": "cores", "version": str(os.cpu_count())}})}}
    serial = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{device}.{lab}.lab"))   # a VE's serial is a UUID of its own
    return {"kind": "tm:sys:hardware:hardwarestats", "selfLink": link("/mgmt/tm/sys/hardware"), "entries": {
        f"{HW}/hardware-version": {"nestedStats": {"entries": {
            f"{HW}/hardware-version/cpus": {"nestedStats": {"entries": cpus}}}}},
        f"{HW}/platform": {"nestedStats": {"entries": _url_entries(f"{HW}/platform", {"0": {
            "baseMac": mac_of(address=mgmt_address), "biosRev": "", "marketingName": "BIG-IP Virtual Edition",
            "pvaVersion": ""}})}},
        f"{HW}/system-info": {"nestedStats": {"entries": _url_entries(f"{HW}/system-info", {"0": {
            "bigipChassisSerialNum": serial, "hostBoardPartRevNum": "", "hostBoardSerialNum": "",
            "platform": "Z100", "switchBoardPartRevNum": "", "switchBoardSerialNum": ""}})}},
    }}


def clock(now: float) -> dict:
    return {"kind": "tm:sys:clock:clockstats", "selfLink": link("/mgmt/tm/sys/clock"), "entries": {
        "https://localhost/mgmt/tm/sys/clock/0": nested({"fullDate": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                     time.gmtime(now))})}}


def license(name: str, started: float) -> dict:
    """`show sys license` as REST: a lab device is licensed for its own version from the day it
    started, with no end date (a perpetual licence); the key names the device, not an F5 key."""
    day = time.strftime("%Y/%m/%d", time.gmtime(started))
    major = res.VERSION.split(".")[0]
    return {"kind": "tm:sys:license:licensestats", "selfLink": link("/mgmt/tm/sys/license"), "entries": {
        "https://localhost/mgmt/tm/sys/license/0": nested({
            "licensedOnDate": day, "licensedVersion": res.VERSION, "licenseStartDate": day,
            "maxPermittedVersion": f"{major}.*.*", "minPermittedVersion": "5.*.*", "platformId": "Z100",
            "registrationKey": f"BIGLB-{name.upper()}", "serviceCheckDate": day})}}
