"""A host link's state as `biglab status` shows it, read from sysfs."""
from lab.runtime.wiring import link_state


def test_a_link_is_up_down_or_missing():
    assert link_state("lo") == "up"
    assert link_state("bl-nosuch0") == "missing"
