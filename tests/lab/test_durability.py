"""Acknowledged writes survive kill -9, checked against the recorded history (lab/observe/
history.py): writers commit through REST and tmsh while either daemon of a pair is killed at
random and started again; once In Sync, both devices hold every acknowledged write, whole, and no
refused one. And a full disk (a size-limited tmpfs under the config store): commits are refused
with a clear error, and the saved configuration stays whole. bench/durability.py runs 50 cycles."""
from __future__ import annotations

import json
import random
import subprocess

import pytest

from lab.observe.history import History, Writers, in_sync, kill_cycles, read
from lab.runtime.lab import Lab
from node.config.store import ConfigStore, Op
from node.errors import Invalid
from tests.lab.conftest import HA_PAIR, wait_for

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def test_acknowledged_writes_survive_kill_9_of_either_daemon(make_lab):
    lab = make_lab(HA_PAIR, "tdur", "10.250.80.0/24")
    plan = Lab.open(lab).plan
    history = History()
    with Writers(lab, plan, "bigip1", history):
        killed = kill_cycles(lab, 6, random.Random(1), victims=("bigip1", "bigip2"))
    assert set(killed) == {"bigip1", "bigip2"}
    wait_for(lambda: in_sync(plan, "bigip1") and in_sync(plan, "bigip2"), timeout=60, what="the pair In Sync")
    counts = history.counts()
    assert counts["ok"] > 20 and any(w.via == "tmsh" and w.outcome == "ok" for w in history.writes)
    report = history.check({d: read(plan, d) for d in ("bigip1", "bigip2")})
    assert report == {d: {"lost": [], "phantom": [], "half_applied": []} for d in ("bigip1", "bigip2")}, counts


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs: a disk that fills."""
    where = tmp_path / "state"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def pool(n: int) -> Op:
    return Op("create", "ltm pool", f"/Common/p{n}", {"description": ("set", "x" * 200),
                                                      "members": ("set", {f"/Common/10.9.{n // 250}.{n % 250 + 1}:80": {}})})


def test_a_full_disk_refuses_commits_with_a_clear_error_and_keeps_the_saved_config_whole(small_disk):
    path = small_disk / "config.json"
    store = ConfigStore(path, "bigip1")
    acknowledged = 0
    with pytest.raises(Invalid, match=r"cannot save the change: \[Errno 28\] No space left on device"):
        for n in range(2_000):
            store.commit([pool(n)])
            acknowledged += 1
    assert acknowledged > 10
    # nothing of the refused commit, in memory or on disk; no stray temporary file
    assert store.get("ltm pool", f"/Common/p{acknowledged}") is None
    assert [p.name for p in small_disk.iterdir()] == ["config.json"]
    saved = ConfigStore(path, "bigip1")
    assert saved.objects == store.objects and saved.cid == store.cid
    assert len(saved.of_type("ltm pool")) == acknowledged
    json.loads(path.read_text())
    # with room again, commits go on
    store.commit([Op("delete", "ltm pool", f"/Common/p{n}", {}) for n in range(acknowledged // 2)])
    store.commit([pool(acknowledged)])
    assert ConfigStore(path, "bigip1").get("ltm pool", f"/Common/p{acknowledged}") is not None
