"""Chaos faults as data: argument parsing, netem arguments, partitions, nftables rulesets."""
import pytest

from lab.model.faultspec import (TABLE, ChaosError, check_netem, cut_peers, fallback_args, loss_rule, netem_args,
                                 parse_port, parse_skew, partition_groups, ruleset)


@pytest.mark.parametrize("text,seconds", [("+400d", 400 * 86400), ("-2h", -7200), ("+90s", 90),
                                          ("-5m", -300), ("+1.5h", 5400), ("reset", 0)])
def test_a_skew_is_seconds_from_true_time(text, seconds):
    assert parse_skew(text) == seconds


@pytest.mark.parametrize("text", ["400d", "+400", "+4y", "", "now"])
def test_a_bad_skew_is_refused_with_the_accepted_forms(text):
    with pytest.raises(ChaosError, match=r"\+400d, -2h"):
        parse_skew(text)


def test_a_port_is_tcp_unless_it_says_udp():
    assert parse_port("4353") == (4353, "tcp")
    assert parse_port("1026/udp") == (1026, "udp")
    assert parse_port("53/tcp") == (53, "tcp")
    for bad in ("0", "65536", "53/icmp", "x"):
        with pytest.raises(ChaosError):
            parse_port(bad)


def test_netem_arguments_follow_tc_order():
    spec = {"loss": "5%", "delay": "50ms", "jitter": "10ms", "rate": "1mbit", "duplicate": "1%"}
    assert netem_args(spec) == ["delay", "50ms", "10ms", "loss", "5%", "duplicate", "1%", "rate", "1mbit"]


@pytest.mark.parametrize("spec,match", [({}, "at least one"), ({"delay": "fast"}, "not valid"),
                                        ({"loss": "150%"}, "more than 100%"), ({"jitter": "5ms"}, "needs a delay"),
                                        ({"latency": "5ms"}, "unknown netem option")])
def test_bad_netem_options_are_refused(spec, match):
    with pytest.raises(ChaosError, match=match):
        check_netem(spec)


def test_without_netem_only_loss_and_rate_are_emulated():
    assert fallback_args({"loss": "5%"}) == []
    assert fallback_args({"rate": "1mbit", "loss": "1%"})[:3] == ["tbf", "rate", "1mbit"]
    with pytest.raises(ChaosError, match="delay cannot be emulated"):
        fallback_args({"delay": "50ms"})
    assert loss_rule("ha", "5%") == 'oifname "ha" numgen random mod 10000 < 500 drop'
    assert loss_rule("ha", "100%") == 'oifname "ha" drop'


NODES = ["bigip1", "bigip2", "bigip3", "bigip4", "bigip5"]


def test_halves_split_the_nodes_in_two():
    assert partition_groups(NODES, "halves") == [(["bigip1", "bigip2"], ["bigip3", "bigip4", "bigip5"])]


def test_a_bridge_leaves_the_middle_node_reaching_both_sides():
    [(a, b)] = partition_groups(NODES, "bridge")
    assert a == ["bigip1", "bigip2"] and b == ["bigip4", "bigip5"]
    cut = cut_peers([(a, b)])
    assert "bigip3" not in cut and cut["bigip1"] == {"bigip4", "bigip5"}


def test_explicit_groups_must_be_known_and_disjoint():
    assert cut_peers(partition_groups(NODES, "explicit", ["bigip1"], ["bigip2"])) == \
        {"bigip1": {"bigip2"}, "bigip2": {"bigip1"}}
    with pytest.raises(ChaosError, match="both sides"):
        partition_groups(NODES, "explicit", ["bigip1"], ["bigip1"])
    with pytest.raises(ChaosError, match="no node 'web9'"):
        partition_groups(NODES, "explicit", ["bigip1"], ["web9"])
    with pytest.raises(ChaosError, match="at least 3"):
        partition_groups(["a", "b"], "bridge")


def test_the_ruleset_blocks_ports_both_ways_and_drops_cut_addresses():
    text = ruleset(["4353/tcp", "1026/udp"], ["10.1.1.12", "10.1.30.12"])
    assert text.startswith(f"table inet {TABLE}\ndelete table inet {TABLE}\n")
    assert text.count("tcp dport 4353 drop") == 2 and text.count("udp dport 1026 drop") == 2
    assert "ip saddr { 10.1.1.12, 10.1.30.12 } drop" in text
    assert "ip daddr { 10.1.1.12, 10.1.30.12 } drop" in text
    assert "type filter hook input priority 0; policy accept;" in text


def test_nothing_to_apply_only_removes_the_table():
    assert ruleset([], []) == f"table inet {TABLE}\ndelete table inet {TABLE}\n"
