"""iControl REST bodies to operations (node/rest/resources.py), property-based, on a real store:
any body for any object type becomes an Op or a declared error (RestError or a catalogue error);
a change the store refuses changes nothing; and an object created from a body reads back (GET) as
a body that, PUT back, reads back the same, which is what f5-sdk's update() and Ansible's idempotence
rest on."""
from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from node.config.schema import SINGLETONS, TYPES, ConfigError
from node.config.store import ConfigStore
from node.errors import F5Error
from node.rest import resources as res
from node.rest.errors import RestError

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                              HealthCheck.filter_too_much])
JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=6)
IP = st.ip_addresses(v=4).map(str) | st.ip_addresses(v=6).map(str)
NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,10}", fullmatch=True)
BUILT_IN_REFS = st.sampled_from(["/Common/http", "/Common/tcp", "/Common/traffic-group-1", "/Common/gateway_icmp"])


def plausible(f) -> st.SearchStrategy:
    """Values a client would send for a field of this kind, and now and then anything at all."""
    lo = f.minimum if f.minimum is not None else -5
    hi = f.maximum if f.maximum is not None else 10_000
    by_kind = {
        "int": st.integers(lo - 2, min(hi + 2, 2**40)),
        "enum": st.sampled_from(f.choices) if f.choices else st.text(max_size=8),
        "ip": IP,
        "cidr": st.builds(lambda a, n: f"{a}/{n}", st.ip_addresses(v=4).map(str), st.integers(0, 33)),
        "network": st.builds(lambda a, n: f"{a}/{n}", st.ip_addresses(v=4).map(str), st.integers(0, 33)),
        "dest": st.builds(lambda a, p: f"/Common/{a}:{p}", st.ip_addresses(v=4).map(str), st.integers(0, 65536)),
        "ref": BUILT_IN_REFS | NAME,
        "list": st.lists(NAME, max_size=3),
        "str": st.text(max_size=16),
        "secret": st.text(min_size=1, max_size=16),
    }
    good = by_kind.get(f.kind, JSON)
    return st.integers(0, 19).flatmap(lambda n: JSON if n == 0 else good)


@st.composite
def bodies(draw, type_: str) -> dict:
    fields = [f for f in TYPES[type_].fields if f.required or draw(st.integers(0, 3)) == 0]
    name = draw(st.integers(0, 9).flatmap(lambda n: st.text(max_size=12) if n == 0 else NAME))
    body = {"name": name, **{f.rest: draw(plausible(f)) for f in fields}}
    if draw(st.integers(0, 9)) == 0:
        body[draw(st.text(max_size=8))] = draw(JSON)
    return body


OBJECT_TYPES = sorted(t for t in TYPES if t not in SINGLETONS and t != "gtm topology")


def state(store: ConfigStore):
    return copy.deepcopy(store.objects), store.cid, store.generation


@SETTINGS
@example(("gtm pool a", {"name": "p", "monitor": ""}))       # was stored, then every GET of it failed
@example(("ltm pool", {"name": "p", "monitor": ""}))           # the same for an LTM pool (no monitor, as none)
@example(("ltm node", {"name": "n", "address": "10.1.1.1", "monitor": " "}))
@example(("gtm wideip a", {"name": "w"}))                    # PUT back showed "rules": [] it had not shown
@given(st.sampled_from(OBJECT_TYPES).flatmap(lambda t: st.tuples(st.just(t), bodies(t))))
def test_any_body_is_an_op_or_a_declared_error_and_what_is_created_puts_back_unchanged(case):
    type_, body = case
    store = ConfigStore(None, "bigip1")
    segments = type_.split()
    try:
        op = res.op_for("POST", res.route(segments), body)
    except (RestError, F5Error):
        event("refused by REST")
        return
    before = state(store)
    try:
        store.commit([op])
    except ConfigError:
        assert state(store) == before, "a refused change changed nothing"
        event("refused by the store")
        return
    created = copy.deepcopy(store.get(type_, op.path))
    got = res.to_rest(type_, op.path, created, store.generation)
    put = res.op_for("PUT", res.route(segments + [res.tilde(op.path)]), got)
    store.commit([put])
    again = res.to_rest(type_, op.path, store.get(type_, op.path), store.generation)
    assert {**again, "generation": 0} == {**got, "generation": 0}
    event("created")


def test_a_virtual_listing_a_blank_profile_name_is_no_crash():
    """Found by fuzzing (fuzz/fuzz_rest.py): a profile named "" on a virtual raised IndexError in
    the store's transport-profile check."""
    store = ConfigStore(None, "bigip1")
    op = res.op_for("POST", res.route(["ltm", "virtual"]),
                    {"name": "vs", "destination": "/Common/10.1.10.100:80", "profiles": [{"name": ""}]})
    try:
        store.commit([op])
    except (ConfigError, F5Error):
        pass


def test_a_self_ip_without_an_address_is_refused_as_missing_it():
    """Found by fuzzing (fuzz/fuzz_rest.py): a self IP posted without its address raised KeyError
    in the store's VLAN check instead of the required-field error."""
    store = ConfigStore(None, "bigip1")
    op = res.op_for("POST", res.route(["net", "self"]), {"name": "w"})
    with pytest.raises(ConfigError, match="requires address"):
        store.commit([op])
    assert store.get("net self", "/Common/w") is None
