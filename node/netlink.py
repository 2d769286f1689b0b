"""pyroute2 as the lab uses it: rtnetlink (IPRoute), network namespaces and conntrack's netlink
constants, imported without the package's own __init__. That one imports every family pyroute2
has (NDB, IPDB, wireless, IPVS, devlink, plan9: 300 modules, 22 MB and 0.15 s) into each process
that names pyroute2: the CLI, and the fork server whose pages every daemon maps. Imported after
the whole package (a test's `import pyroute2`), this is the same classes."""
from __future__ import annotations

import importlib.util
import sys
import types


def _bare_package() -> None:
    """`pyroute2` in sys.modules as its bare namespace, so its submodules import alone."""
    if "pyroute2" in sys.modules:
        return
    spec = importlib.util.find_spec("pyroute2")
    package = types.ModuleType("pyroute2")
    package.__spec__, package.__file__, package.__package__ = spec, spec.origin, "pyroute2"
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["pyroute2"] = package


_bare_package()
import pyroute2  # noqa: E402
import pyroute2.config.log  # noqa: E402,F401  (its logger's NullHandler, as the package sets up)
from pyroute2 import netns  # noqa: E402
from pyroute2.iproute.linux import IPRoute  # noqa: E402
from pyroute2.netlink.exceptions import NetlinkError  # noqa: E402

if not hasattr(pyroute2, "IPRoute"):   # `from pyroute2 import IPRoute` elsewhere finds it too
    pyroute2.IPRoute = IPRoute

__all__ = ["IPRoute", "NetlinkError", "netns"]
