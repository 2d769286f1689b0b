"""Partitions on an ha-pair with F5's own clients: bigip_partition and modules given `partition:`,
f5-sdk creating a folder and a pool in a partition; all checked in tmsh on the peer (a device
group carries every partition), then removed."""
from __future__ import annotations

import pytest

from tests.ansible.conftest import HA_PAIR_LAB
from tests.lab.conftest import biglab, wait_for

LAB = HA_PAIR_LAB
B1 = LAB.address("bigip1")


def tmsh(node: str, script: str) -> str:
    """`tmsh -c SCRIPT` on a node, as typed there; a refusal comes back as its text."""
    proc = biglab("exec", LAB.name, node, "--", "tmsh", "-c", script, check=False)
    return proc.stdout + proc.stderr


def shows(node: str, script: str, text: str, present: bool = True) -> str:
    def seen():
        out = tmsh(node, script)
        return (out or "(nothing listed)") if (text in out) == present else None
    return wait_for(seen, timeout=20, interval=0.3, what=f"{node} `{script}` shows {text!r}: {present}")


def test_partition_and_objects_in_it_sync_to_the_peer_and_go(ansible):
    ansible.twice("part/partition.yml", "bigip1")
    shows("bigip2", "list auth partition Part_ans", 'description "ansible tenant"')
    shows("bigip2", "list sys folder /Part_ans", 'description "ansible tenant"')
    ansible.twice("part/pool.yml", "bigip1")
    ansible.twice("part/pool_member.yml", "bigip1")
    out = shows("bigip2", "cd /Part_ans; list ltm pool", "ltm pool pool_part {")
    assert "monitor /Common/http" in out and "10.1.20.61:http" in out   # ports by name, as tmsh lists them
    assert "pool_part" not in tmsh("bigip2", "list ltm pool")            # /Common lists its own
    assert "ltm node /Part_ans/10.1.20.61 {" in tmsh("bigip2", "list ltm node /Part_ans/*")
    refused = ansible.run("part/partition.yml", "bigip1", state="absent")
    assert refused.failed and "Failed to delete the partition." in refused.output   # the module's text
    assert "010713f9:3: The folder /Part_ans cannot be deleted because it contains configuration item" \
        in tmsh("bigip1", "delete auth partition Part_ans")
    for playbook in ("part/pool_member.yml", "part/pool.yml", "part/partition.yml"):
        ansible.twice(playbook, "bigip1", state="absent")
    shows("bigip2", "list auth partition", "Part_ans", present=False)


def test_selfip_with_the_route_domain_suffix_is_idempotent_and_removed(ansible):
    ansible.twice("part/selfip.yml", "bigip1")
    shows("bigip1", "list net self self_ans", "address 10.1.20.40/24")
    ansible.twice("part/selfip.yml", "bigip1", state="absent")
    shows("bigip1", "list net self", "self_ans", present=False)


def test_user_is_idempotent_syncs_and_goes(ansible):
    ansible.twice("part/user.yml", "bigip1")
    shows("bigip2", "list auth user user_ans", "role operator")
    ansible.twice("part/user.yml", "bigip1", state="absent")
    shows("bigip2", "list auth user", "user_ans", present=False)


def test_device_info_reads_the_system_vlans_and_partitions(ansible):
    for _ in range(2):
        recap = ansible.run("part/device_info.yml", "bigip1")
        assert recap.clean and not recap.changed, recap.output


def test_f5_sdk_makes_a_folder_and_a_pool_in_a_partition(ansible):
    from f5.bigip import ManagementRoot
    mgmt = ManagementRoot(B1, "admin", "admin", token=True)
    mgmt.tm.auth.partitions.partition.create(name="Sdk", description="from f5-sdk")
    mgmt.tm.sys.folders.folder.create(name="app", subPath="/Sdk")
    pool = mgmt.tm.ltm.pools.pool.create(name="web", partition="Sdk", subPath="app", monitor="/Common/http",
                                         members=[{"name": "10.1.20.62:80"}])
    assert (pool.partition, pool.subPath, pool.fullPath) == ("Sdk", "app", "/Sdk/app/web")
    loaded = mgmt.tm.ltm.pools.pool.load(name="web", partition="Sdk", subPath="app")
    assert [m.name for m in loaded.members_s.get_collection()] == ["10.1.20.62:80"]
    shows("bigip2", "cd /Sdk/app; list ltm pool web", "10.1.20.62:http")
    listed = mgmt.tm.ltm.pools.get_collection(requests_params={"params": "$filter=partition+eq+Sdk"})
    assert [p.fullPath for p in listed] == ["/Sdk/app/web"]
    loaded.delete()
    mgmt.tm.ltm.nodes.node.load(name="10.1.20.62", partition="Sdk", subPath="app").delete()   # the pool's folder
    mgmt.tm.sys.folders.folder.load(name="app", partition="Sdk").delete()
    mgmt.tm.auth.partitions.partition.load(name="Sdk").delete()
    shows("bigip2", "cd /; list sys folder recursive", "Sdk", present=False)
