"""A lab link's state as `biglab status` shows it, read in the lab's fabric namespace."""
import os

import pytest

from lab.runtime.wiring import link_states


@pytest.mark.skipif(os.geteuid() != 0, reason="entering a namespace needs root")
def test_a_link_is_up_down_or_missing():
    here = "/proc/thread-self/ns/net"   # this namespace stands in for a fabric
    assert link_states(here, ["lo", "bl-nosuch0"]) == {"lo": "up", "bl-nosuch0": "missing"}


def test_every_link_of_a_lab_without_its_fabric_is_missing():
    assert link_states("bl-nosuch-fabric", ["bl-nosuch-1v0"]) == {"bl-nosuch-1v0": "missing"}
