"""`biglab generate gtm-estate`: a valid topology of LTM HA pairs and a GTM sync group, and the
shipped gtm-10dc.yml is what it writes."""
from pathlib import Path

import pytest

from lab.model.generate import gtm_estate
from lab.model.plan import builds_ha, ha_commands, make_plan, node_ha_settings
from lab.model.topology import load

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_estate_is_the_generators_output():
    assert (ROOT / "topologies" / "gtm-10dc.yml").read_text() == gtm_estate(10)


def test_ten_data_centers_make_a_valid_lab_of_64_nodes(tmp_path):
    path = tmp_path / "estate.yml"
    path.write_text(gtm_estate(10))
    topo = load(path)
    assert len(topo.nodes) == 64 and len(topo.bigips()) == 24
    assert [n for n in topo.bigips() if "gtm" in topo.nodes[n].modules] == ["gtm1", "gtm2", "gtm3", "gtm4"]
    plan = make_plan(topo)
    assert not builds_ha(plan) and ha_commands(plan) == []   # each pair builds its own
    assert node_ha_settings(plan)["failover_vlans"] == ["mgmt"]


def test_each_pair_builds_its_own_device_group_and_each_client_reaches_every_listener(tmp_path):
    path = tmp_path / "estate.yml"
    path.write_text(gtm_estate(3, gtms=2, clients=1))
    topo = load(path)
    first = topo.nodes["ltm-lon-1"].config
    assert first[0].startswith("create cm device-group dg-lon devices add { ltm-lon-1 ltm-lon-2 }")
    assert first[-1] == "run cm config-sync to-group dg-lon" and not topo.nodes["ltm-lon-2"].config
    assert [(str(r.to), str(r.via)) for r in topo.nodes["client-sgp1"].routes] == [
        ("10.30.0.53/32", "10.20.3.11"), ("10.30.0.54/32", "10.20.3.12")]
    scores = [line for line in topo.nodes["gtm1"].config if "region /Common/r_nyc " in line]
    assert scores[0].endswith("datacenter /Common/nyc score 100") and len(scores) == 3


def test_an_estate_out_of_range_is_refused():
    with pytest.raises(ValueError):
        gtm_estate(0)


def test_the_clients_on_a_vlan_are_its_host_and_server_nodes():
    plan = make_plan(load(ROOT / "topologies" / "ha-pair.yml"))
    assert [n.name for n in plan.hosts_on("internal")] == ["web1", "web2"]
    assert [n.name for n in plan.hosts_on("external")] == ["client"]
    assert plan.hosts_on("ha") == []
