import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Property tests run the same examples every time (a suite that passes keeps passing); set
# HYPOTHESIS_PROFILE=explore to search new examples (what it finds becomes a regression test).
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture
def store():
    """A device's configuration with a self IP on loopback's 127/8 (VLAN external), so virtuals and
    members on 127.0.0.x are on one of its VLANs: the proxies' loopback tests (test files that
    need another store define their own `store`)."""
    from node.config.store import ConfigStore, Op
    s = ConfigStore(None, "bigip1")
    s.commit([Op("create", "net vlan", "/Common/external", {}),
              Op("create", "net self", "/Common/ext", {"address": ("set", "127.0.0.11/8"),
                                                       "vlan": ("set", "/Common/external")})])
    return s
