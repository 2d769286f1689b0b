"""The typed status snapshot: what a daemon sends is what lab/, tests and bench read."""
import pytest
from pydantic import ValidationError

from node.status import FailoverStatus, IQueryStatus, LinkState, NodeStatus, SyncStatus

FAILOVER = {"device": "bigip1", "state": "active", "traffic_groups": {"traffic-group-1": "active"},
            "peers": {"bigip2": {"alive": True, "state": "standby", "paths": {"10.1.30.12": "up"}}},
            "split_brain": {}, "timeout": 3.0, "interval": 1.0,
            "floating": ["10.1.10.100/24 on external (traffic-group-1)"], "garps_sent": 3, "bad_heartbeats": 0}


def test_a_record_reads_back_typed_and_round_trips():
    f = FailoverStatus.from_dict(FAILOVER)
    assert f.peers["bigip2"].paths["10.1.30.12"] == "up" and f.active_groups() == ["traffic-group-1"]
    assert FailoverStatus.from_dict(f.to_dict()) == f


def test_a_missing_field_fails_where_the_record_is_read_and_names_the_field():
    bad = dict(FAILOVER)
    del bad["traffic_groups"]
    with pytest.raises(ValidationError, match="traffic_groups"):
        FailoverStatus.from_dict(bad)


def test_records_are_frozen():
    f = FailoverStatus.from_dict(FAILOVER)
    with pytest.raises(AttributeError):
        f.state = "standby"


def test_a_node_without_gtm_or_ntp_reads_as_none():
    sync = {"status": "Standalone", "color": "green", "groups": {}, "in_flight": [], "peers": {},
            "synced": {}, "cid": None}
    assert SyncStatus.from_dict(sync).groups == {}
    node = {"name": "bigip1", "kind": "bigip", "pid": 1, "mgmt": "10.0.0.1", "modules": ["ltm"], "uptime": 1.0,
            "clock": {"offset": 0.0, "drift_ppm": 0.0, "now": "2026-01-01T00:00:00+00:00"}, "ntp": None,
            "iquery": {"port": 4353, "peers": {}, "inbound": [], "refused": [],
                       "trust": {"domain_ca": "ab", "authority": True, "generation": 1, "members": [],
                                 "certificate": {"fingerprint": "ab", "not_after": "x", "issuer": "CN=x"}}},
            "sync": sync, "failover": FAILOVER, "ltm": {"virtuals": {}, "pools": {}}, "gtm": None}
    st = NodeStatus.from_dict(node)
    assert st.gtm is None and st.ntp is None and st.iquery.trust.member_names() == set()
    assert NodeStatus.from_dict(st.to_dict()) == st


def test_open_peers_are_those_whose_channel_is_connected_as_the_daemon_reports_it():
    def link(state):
        return {"address": "10.1.30.12", "state": state, "code": "", "reason": "", "since": 0.0}
    iq = IQueryStatus.from_dict({"port": 4353, "inbound": [], "refused": [],
                                 "peers": {"bigip2": link("connected"), "bigip3": link("connecting"),
                                           "bigip4": link("disconnected")},
                                 "trust": {"domain_ca": "ab", "authority": True, "generation": 1, "members": [],
                                           "certificate": {"fingerprint": "ab", "not_after": "x",
                                                           "issuer": "CN=x"}}})
    assert iq.open_peers() == {"bigip2"} and iq.peers["bigip2"].state is LinkState.CONNECTED
    assert iq.to_dict()["peers"]["bigip3"]["state"] == "connecting"
    with pytest.raises(ValidationError, match="state"):
        IQueryStatus.from_dict({**iq.to_dict(), "peers": {"bigip2": link("open")}})


def test_one_part_reads_as_its_declared_type_and_an_unknown_part_is_refused():
    from node.status import part_names, read_part
    assert read_part("failover", FAILOVER) == FailoverStatus.from_dict(FAILOVER)
    assert read_part("gtm", None) is None
    assert "sync" in part_names() and "name" not in part_names()
    with pytest.raises(KeyError):
        read_part("name", "bigip1")
