"""F5's bigip_ucs_fetch and bigip_ucs, run unmodified against an ha-pair: a backup fetched from
bigip1, uploaded back (twice: then no change), installed (the lost pool is back on bigip1 and
synced to bigip2), removed (twice: then no change)."""
from __future__ import annotations

import tarfile

from tests.ansible.conftest import HA_PAIR_LAB, peer_tmsh
from tests.lab.conftest import wait_for

LAB = HA_PAIR_LAB


def test_a_fetched_backup_goes_back_up_and_restores_the_pair(ansible, tmp_path):
    peer_tmsh(LAB.name, "bigip1", "create ltm pool ucs_ans_pool members add { 10.1.20.21:80 }")
    fetched = tmp_path / "ans_backup.ucs"
    for _ in range(2):     # bigip_ucs_fetch saves and downloads on every run (it always reports a change)
        recap = ansible.run("sys/ucs_fetch.yml", "bigip1", dest=str(fetched))
        assert recap.clean and recap.changed, recap.output
    with tarfile.open(fetched) as tar:
        assert "ltm pool /Common/ucs_ans_pool {" in tar.extractfile("config/bigip.conf").read().decode()
        assert "config/ssl/ssl.crt/dtdi.crt" in tar.getnames()
    restore = tmp_path / "ans_restore.ucs"
    restore.write_bytes(fetched.read_bytes())
    peer_tmsh(LAB.name, "bigip1", "delete ltm pool ucs_ans_pool")
    wait_for(lambda: "ucs_ans_pool" not in peer_tmsh(LAB.name, "bigip2", "list ltm pool"), what="the delete synced")
    ansible.twice("sys/ucs.yml", "bigip1", ucs=str(restore))                    # uploaded, then already there
    assert "sys ucs ans_restore.ucs" in peer_tmsh(LAB.name, "bigip1", "list sys ucs")
    recap = ansible.run("sys/ucs.yml", "bigip1", ucs=str(restore), state="installed")
    assert recap.clean and recap.changed, recap.output
    assert "ltm pool ucs_ans_pool {" in peer_tmsh(LAB.name, "bigip1", "list ltm pool ucs_ans_pool")
    wait_for(lambda: "ucs_ans_pool" in peer_tmsh(LAB.name, "bigip2", "list ltm pool"), what="the restore synced")
    ansible.twice("sys/ucs.yml", "bigip1", ucs=str(restore), state="absent")   # removed, then already gone
    assert "ans_restore.ucs" not in peer_tmsh(LAB.name, "bigip1", "list sys ucs")
