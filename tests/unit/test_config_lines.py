"""How `up` orders a topology's tmsh lines (lab/model/configlines.py): transactions, and a GTM
sync group whose members join before its shared configuration goes on."""
from lab.model.configlines import batches, groups_pending, phases, sync_group_joined

JOIN = "modify gtm global-settings general synchronization yes synchronization-group-name gsg"


def test_consecutive_changes_are_one_transaction_and_other_verbs_run_alone_in_place():
    lines = ["create ltm monitor http m1", "create ltm pool p1 monitor m1", "run cm config-sync to-group dg",
             "modify ltm pool p1 description x", "save sys config", "create ltm pool p2"]
    assert batches(lines) == [lines[:2], [lines[2]], [lines[3]], [lines[4]], [lines[5]]]


def test_a_line_tmsh_cannot_parse_or_a_script_goes_alone_so_the_device_runs_or_names_it():
    assert batches(["create ltm pool p1", "create ltm pool {", "create ltm pool p2",
                    "cd /P; create ltm pool p3", "create ltm pool p4"]) == [
        ["create ltm pool p1"], ["create ltm pool {"], ["create ltm pool p2"], ["cd /P; create ltm pool p3"],
        ["create ltm pool p4"]]


def test_the_line_turning_gtm_sync_on_names_its_group():
    assert sync_group_joined(JOIN) == "gsg"
    assert sync_group_joined("modify gtm global-settings general synchronization yes") == "default"
    assert sync_group_joined("modify gtm global-settings general synchronization no") is None
    assert sync_group_joined("create gtm datacenter nyc") is None


def test_members_join_first_and_the_shared_configuration_follows():
    lines = {"gtm1": ["create gtm listener l1 address 10.0.0.1", JOIN, "create gtm datacenter nyc"],
             "gtm2": ["create gtm listener l2 address 10.0.0.2", JOIN],
             "ltm1": ["create ltm pool p1"]}
    first, then, groups = phases(lines)
    assert first == {"gtm1": lines["gtm1"][:2], "gtm2": lines["gtm2"], "ltm1": lines["ltm1"]}
    assert then == {"gtm1": ["create gtm datacenter nyc"]}
    assert groups == {"gtm1": "gsg", "gtm2": "gsg"}


def test_a_group_is_formed_when_every_member_hears_every_other():
    groups = {"gtm1": "gsg", "gtm2": "gsg", "gtm3": "gsg", "gtm9": "other"}
    assert groups_pending(groups, {"gtm1": {"gtm2"}, "gtm2": {"gtm1", "gtm3"}, "gtm3": {"gtm1", "gtm2"}}) == [
        "gtm1 does not hear gtm3 in sync group gsg"]
    assert groups_pending(groups, {"gtm1": {"gtm2", "gtm3"}, "gtm2": {"gtm1", "gtm3"},
                                   "gtm3": {"gtm1", "gtm2"}}) == []
