"""The software a lab node reports, in every place a BIG-IP reports it: REST (`sys version`, the
`?ver=` of every link), tmsh (`show sys version`) and the /VERSION file automation reads."""
from __future__ import annotations

VERSION = "17.1.0"
BUILD = "0.0.6"
PRODUCT = "BIG-IP"
EDITION = "Final"
DATE = "Tue Jun 13 15:00:00 PDT 2023"   # 17.1.0's release build
SYS_VERSION = {"Build": BUILD, "Date": DATE, "Edition": EDITION, "Product": PRODUCT,
               "Title": "Main Package", "Version": VERSION}


def version_file() -> str:
    """/VERSION as a BIG-IP has it (bigip_device_info reads these lines)."""
    return (f"Product: {PRODUCT}\nVersion: {VERSION}\nBuild: {BUILD}\nSequence: {VERSION}.{BUILD}.0\n"
            f"BaseBuild: {BUILD}\nEdition: {EDITION}\nDate: {DATE}\nBuilt: 230613150000\n"
            "Changelist: 3662018\nJobID: 1397843\n")


def show_sys_version() -> str:
    """`tmsh show sys version`, as a BIG-IP prints it."""
    rows = [(k, SYS_VERSION[k]) for k in ("Product", "Version", "Build", "Edition", "Date")]
    return "\nSys::Version\nMain Package\n" + "\n".join(f"  {k:<11} {v}" for k, v in rows) + "\n"
