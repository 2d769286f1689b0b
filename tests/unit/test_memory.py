"""`biglab status` memory: USS and PSS from smaps_rollup, not RSS alone."""
import os

from lab.runtime.processes import memory, rollup_mb

ROLLUP = """55d0c0a00000-7ffd2b3f2000 ---p 00000000 00:00 0                          [rollup]
Rss:               90348 kB
Pss:               41672 kB
Pss_Dirty:         37163 kB
Shared_Clean:      51200 kB
Shared_Dirty:          0 kB
Private_Clean:      1024 kB
Private_Dirty:     19576 kB
Swap:                  0 kB
"""


def test_uss_is_the_private_pages_and_pss_the_proportional_share():
    assert rollup_mb(ROLLUP) == {"rss": 88.2, "pss": 40.7, "uss": 20.1}


def test_a_live_process_has_its_memory_read_and_a_gone_one_has_none():
    mine = memory(os.getpid())
    assert mine is not None and 0 < mine["uss"] <= mine["pss"] <= mine["rss"]
    assert memory(2 ** 22 + 1) is None
