"""gtm-3dc loads; routes stay inside the lab; per-node tmsh lines are checked before anything is made."""
from pathlib import Path

import pytest
import yaml

from lab.model.plan import Plan, make_plan
from lab.model.topology import TopologyError, load, parse

GTM_3DC = Path(__file__).resolve().parents[2] / "topologies" / "gtm-3dc.yml"


def data() -> dict:
    return yaml.safe_load(GTM_3DC.read_text())


def test_gtm_3dc_has_three_data_centers_two_gtms_and_a_client_per_region():
    topo = load(GTM_3DC)
    assert topo.bigips() == ["gtm1", "gtm2", "ltm-nyc", "ltm-lon", "ltm-sgp"]
    assert [n for n, node in topo.nodes.items() if node.kind == "host"] == ["client-nyc", "client-lon", "client-sgp"]
    plan = make_plan(load(GTM_3DC, name="g3dc", mgmt_subnet="10.252.9.0/24"))
    client = plan.node("client-lon")
    assert client.routes == (("10.30.0.53/32", "10.20.2.11"), ("10.30.0.54/32", "10.20.2.12"))
    assert Plan.from_dict(plan.to_dict()) == plan
    assert any("create gtm wideip a www.example.com" in line for line in plan.node("gtm1").config)


@pytest.mark.parametrize("route, problem", [
    ({"to": "0.0.0.0/0", "via": "10.20.1.11"}, "may not be a default route"),
    ({"to": "10.3.0.0/16", "via": "10.20.1.11"}, "management subnet"),
    ({"to": "10.30.0.99/32", "via": "10.99.0.1"}, "gateway 10.99.0.1 is on none of client-nyc's lab VLANs"),
])
def test_a_route_that_could_leave_the_lab_is_refused(route, problem):
    d = data()
    d["nodes"]["client-nyc"]["routes"] = [route]
    with pytest.raises(TopologyError, match=problem) as err:
        parse(d, "gtm-3dc.yml")
    assert "nodes.client-nyc.routes.0" in str(err.value)


def test_per_node_tmsh_lines_are_checked_and_only_for_bigips():
    d = data()
    d["nodes"]["gtm1"]["config"] = ["create gtm colour red"]
    with pytest.raises(TopologyError, match="nodes.gtm1.config.0"):
        parse(d, "gtm-3dc.yml")
    d = data()
    d["nodes"]["client-nyc"]["config"] = ["create gtm datacenter x"]
    with pytest.raises(TopologyError, match="tmsh lines run on bigip nodes only"):
        parse(d, "gtm-3dc.yml")
