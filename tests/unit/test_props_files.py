"""Topology, scenario and pcap files, property-based: whatever a file holds, the reader returns a valid
object or raises its declared error (TopologyError, ScenarioError, PcapError), never anything else."""
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.model.plan import make_plan
from lab.model.topology import Topology, TopologyError, load, parse
from lab.observe.pcap import PcapError, Record, read, summarise, write
from lab.scenario import runner
from lab.scenario.runner import Scenario, ScenarioError

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = sorted((ROOT / "topologies").glob("*.yml"))
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yml"))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])

# values a YAML file can hold, with the words and addresses the files use so the mutants stay near
# the valid shape instead of failing at the first key
WORDS = st.sampled_from(["bigip", "host", "server", "ltm", "gtm", "mgmt", "ha", "external", "bigip1",
                         "bigip2", "10.1.1.11", "10.1.1.0/24", "10.1.30.0/24", "10.1.10.100", "0.0.0.0/0",
                         "traffic-group-1", "kill bigip1", "create ltm pool p", "ltm pool p {", "", "-1",
                         "300ms", "5%", "netns", "docker", "sync-failover", "failover", "$active"])
SCALARS = (st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=True)
           | st.text(max_size=12) | WORDS)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8) | WORDS | st.none() | st.integers(0, 3), inner,
                                      max_size=4), max_leaves=12)


def paths(data, prefix=()):
    """Every key path into a nested structure of dicts and lists."""
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from paths(v, prefix + (i,))


def mutate(draw, data):
    """The data with a few of its values (or keys) replaced, dropped, or added to."""
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.sampled_from(list(paths(data))))
        if not at:
            continue
        parent = data
        for k in at[:-1]:
            parent = parent[k]
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "replace":
            parent[at[-1]] = draw(VALUES)
        elif action == "drop":
            parent.pop(at[-1])
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8) | WORDS)] = draw(VALUES)
        else:
            parent.append(draw(VALUES))
    return data


@FAST
@given(st.data(), st.sampled_from(TOPOLOGIES))
def test_a_mutated_topology_is_valid_or_a_topology_error(data, file):
    mutant = mutate(data.draw, yaml.safe_load(file.read_text()))
    try:
        topo = parse(mutant, "x.yml")
    except TopologyError as exc:
        assert str(exc).startswith("x.yml: ")
        return
    assert isinstance(topo, Topology)
    make_plan(topo)   # what passes validation can be planned


@FAST
@given(text=st.text(max_size=300) | st.builds(lambda v: yaml.safe_dump(v), VALUES))
def test_any_topology_text_loads_or_is_a_topology_error(tmp_path, text):
    f = tmp_path / "t.yml"
    f.write_text(text)
    try:
        load(f)
    except TopologyError as exc:
        assert str(exc).startswith(f"{f}: ")


@FAST
@given(st.data(), st.sampled_from(TOPOLOGIES),
       st.sampled_from(["10.253.7.0/24", "10.1.1.0/25", "10.1.1.0", "10.1.1.0/33", "nonsense", "::/24"]))
def test_moving_the_management_vlan_is_valid_or_a_topology_error(tmp_path, data, file, subnet):
    f = tmp_path / "t.yml"
    f.write_text(yaml.safe_dump(mutate(data.draw, yaml.safe_load(file.read_text()))))
    try:
        load(f, name="abc", mgmt_subnet=subnet)
    except TopologyError:
        pass


@FAST
@given(st.data(), st.sampled_from(SCENARIOS))
def test_a_mutated_scenario_parses_or_is_a_scenario_error(data, file):
    mutant = mutate(data.draw, yaml.safe_load(file.read_text()))
    try:
        sc = runner.parse(mutant, "s.yml")
    except ScenarioError as exc:
        assert str(exc).startswith("s.yml: ")
        return
    assert isinstance(sc, Scenario) and sc.steps
    for step in sc.steps:
        step.describe()   # the report prints every step it runs


@FAST
@given(VALUES)
def test_any_scenario_value_parses_or_is_a_scenario_error(value):
    try:
        runner.parse(value, "s.yml")
    except ScenarioError:
        pass


@FAST
@given(text=st.text(max_size=300))
def test_any_scenario_text_loads_or_is_a_scenario_error(tmp_path, text):
    f = tmp_path / "s.yml"
    f.write_text(text)
    try:
        runner.load(f)
    except ScenarioError:
        pass


# -- pcap files (biglab capture) ------------------------------------------------------------------
RECORDS = st.lists(st.builds(Record, st.integers(0, 2**31).map(lambda us: us / 1e6), st.binary(max_size=80),
                             st.integers(0, 2**31)), max_size=6)


@FAST
@given(RECORDS)
def test_pcap_records_written_and_read_back_are_the_same(records):
    def exact(rs):   # pcap keeps microseconds
        return [(round(r.ts * 1e6), r.data, r.wire_len) for r in rs]
    assert exact(read(write(records))) == exact(records)


@FAST
@given(st.binary(max_size=200) | RECORDS.map(write).flatmap(lambda b: st.integers(0, len(b)).map(lambda n: b[:n])))
def test_any_bytes_read_as_records_or_a_pcap_error_and_summarise(data):
    try:
        records = read(data)
    except PcapError:
        return
    assert summarise(records)["frames"] == len(records)
