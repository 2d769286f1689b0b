"""Topology files: the shipped ones load, and each kind of mistake gets file + key path + problem."""
from pathlib import Path

import pytest
import yaml

from lab.model.plan import make_plan
from lab.model.topology import TopologyError, load, move_mgmt, parse

ROOT = Path(__file__).resolve().parents[2]
HA = ROOT / "topologies" / "ha-pair.yml"


def ha() -> dict:
    return yaml.safe_load(HA.read_text())


def test_the_shipped_ha_pair_has_the_nodes_and_vlans_the_docs_promise():
    topo = load(HA)
    assert list(topo.nodes) == ["bigip1", "bigip2", "client", "web1", "web2"]
    assert set(topo.vlans) == {"mgmt", "ha", "external", "internal"}
    assert topo.bigips() == ["bigip1", "bigip2"]
    assert str(topo.address("bigip1", "mgmt")) == "10.1.1.11/24"
    assert topo.admin_of("bigip2").username == "admin"


def test_every_linux_name_in_the_plan_fits_and_carries_the_lab_prefix():
    plan = make_plan(load(HA, name="abcdef"))
    names = [b.name for b in plan.bridges] + [i.host_end for n in plan.nodes for i in n.interfaces]
    names += plan.bridge("mgmt").host_link()
    assert all(len(n) <= 15 and n.startswith("bl-abcdef-") for n in names)
    assert len(set(names)) == len(names)
    assert plan.node("bigip1").netns == "bl-abcdef-bigip1"
    assert plan.bridge("mgmt").host_address == "10.1.1.1/24"
    assert plan.node("client").mgmt_address is None


def test_a_lab_s_bridges_have_a_namespace_of_their_own_that_no_node_may_take():
    plan = make_plan(load(HA, name="abcdef"))
    assert plan.fabric == "bl-abcdef-fabric" and {n.fabric for n in plan.nodes} == {"bl-abcdef-fabric"}
    assert plan.bridge("mgmt").host_link() == ("bl-abcdef-h0", "bl-abcdef-hv0")   # host end, bridge end
    data = ha()
    data["nodes"]["fabric"] = data["nodes"].pop("web2")
    with pytest.raises(TopologyError, match="nodes.fabric: 'fabric' names the lab's namespace of bridges"):
        parse(data, "x.yml")


def broken(change) -> str:
    data = ha()
    change(data)
    with pytest.raises(TopologyError) as err:
        parse(data, "x.yml")
    return str(err.value)


@pytest.mark.parametrize("change, expected", [
    (lambda d: d.update(colour="red"), "x.yml: colour: unknown key"),
    (lambda d: d.pop("vlans"), "x.yml: vlans: required key is missing"),
    (lambda d: d["nodes"]["bigip1"].update(kind="router"), "x.yml: nodes.bigip1.kind: "),
    (lambda d: d["nodes"]["web1"]["interfaces"].update(internal="10.1.20.300"),
     "x.yml: nodes.web1.interfaces.internal: "),
    (lambda d: d["nodes"]["web1"]["interfaces"].update(dmz="10.9.9.9"),
     "x.yml: nodes.web1.interfaces.dmz: no VLAN named 'dmz'"),
    (lambda d: d["nodes"]["web1"]["interfaces"].update(internal="10.1.10.5"),
     "x.yml: nodes.web1.interfaces.internal: 10.1.10.5 is not a host address of VLAN internal"),
    (lambda d: d["nodes"]["web2"]["interfaces"].update(internal="10.1.20.21"),
     "x.yml: nodes.web2.interfaces.internal: 10.1.20.21 is already used by node web1"),
    (lambda d: d["nodes"]["bigip1"]["interfaces"].update(mgmt="10.1.1.1"),
     "is already used by the host"),
    (lambda d: d["nodes"]["bigip2"]["interfaces"].pop("mgmt"),
     "x.yml: nodes.bigip2.interfaces: a bigip needs an address on the management VLAN"),
    (lambda d: d.update(name="Has-Caps"), "x.yml: name: 'Has-Caps': a lab name is"),
    (lambda d: d.update(name="toolongname"), "x.yml: name: "),
    (lambda d: d["vlans"].update(dmz={"subnet": "10.1.10.128/25"}), "overlaps VLAN external"),
    (lambda d: d["nodes"]["client"].update(modules=["gtm"]), "only bigip nodes run modules"),
    (lambda d: d.update(mgmt_vlan="oob"), "x.yml: mgmt_vlan: no VLAN named 'oob'"),
    (lambda d: d["vlans"]["mgmt"].update(host_address="10.2.0.1"), "vlans.mgmt.host_address"),
    (lambda d: d["ha"].update(device_group=None),
     "x.yml: ha.traffic_groups: traffic groups need the lab's device_group"),
])
def test_a_mistake_names_the_file_the_key_path_and_the_problem(change, expected):
    assert expected in broken(change)


def test_a_key_given_twice_is_an_error_not_silently_the_last(tmp_path):
    f = tmp_path / "dup.yml"
    f.write_text(HA.read_text() + "\nname: other\n")
    with pytest.raises(TopologyError, match=r"dup.yml: line \d+: .*'name' is given twice"):
        load(f)


@pytest.mark.parametrize("text, expected", [
    ("name: [unclosed", "not valid YAML"),
    ("", "a topology is a YAML mapping"),
    ("- a\n- b\n", "a topology is a YAML mapping"),
])
def test_a_file_that_is_not_a_topology_says_so(tmp_path, text, expected):
    f = tmp_path / "bad.yml"
    f.write_text(text)
    with pytest.raises(TopologyError, match=expected):
        load(f)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(TopologyError, match="cannot read the file"):
        load(tmp_path / "nope.yml")


def test_moving_the_management_subnet_keeps_each_host_number():
    topo = load(HA, name="two", mgmt_subnet="10.251.7.0/24")
    assert topo.name == "two"
    assert str(topo.address("bigip2", "mgmt")) == "10.251.7.12/24"
    assert str(topo.vlans["mgmt"].host_address) == "10.251.7.1"
    assert str(topo.address("bigip2", "ha")) == "10.1.30.12/24"


def test_a_management_subnet_of_another_size_is_refused():
    with pytest.raises(TopologyError, match="must be a /24"):
        load(HA, mgmt_subnet="10.251.0.0/16")


def test_a_bad_management_address_is_named_when_the_subnet_moves():
    """Found by the property tests: an address that is not one raised ipaddress's error."""
    data = ha()
    data["nodes"]["bigip2"]["interfaces"]["mgmt"] = None
    with pytest.raises(TopologyError, match="nodes.bigip2.interfaces.mgmt: None cannot move"):
        move_mgmt(data, "10.251.7.0/24", "x.yml")


def test_a_mapping_used_as_a_key_is_invalid_yaml(tmp_path):
    """Found by fuzzing: the duplicate-key check hashed the key and raised TypeError."""
    f = tmp_path / "t.yml"
    f.write_text("name: ha\n? {a: 1}\n: x\n")
    with pytest.raises(TopologyError, match="line 2: not valid YAML: found unhashable key"):
        load(f)


def test_an_onboard_manual_pair_starts_untrusted_with_its_ha_addresses():
    from lab.model.plan import lab_onboards, node_ha_settings
    onboard = make_plan(load(ROOT / "topologies" / "ha-pair-onboard.yml"))
    assert not lab_onboards(onboard) and lab_onboards(make_plan(load(HA)))
    assert node_ha_settings(onboard)["failover_vlans"] == ["ha", "internal"]
    assert not lab_onboards(make_plan(parse({**ha(), "trust": False})))


def test_each_bigip_is_told_the_lab_s_other_bigips_for_as3_targets(tmp_path):
    from lab.model.plan import node_config
    from node.settings import NodeConfig
    plan = make_plan(load(HA, name="abcdef"))
    config = node_config(plan, plan.node("bigip1"), tmp_path)
    assert config.peers == {"bigip2": "10.1.1.12"}     # not itself, not the hosts and servers
    (tmp_path / "node.json").write_text(__import__("json").dumps(config.to_dict()))
    assert NodeConfig.load(tmp_path / "node.json").peers == {"bigip2": "10.1.1.12"}
