"""fastL4's nftables batch (sans-IO): the maps, the counters and what a rewrite deletes."""
from collections import Counter

from node.ltm import fastl4
from node.ltm.fastl4 import L4Member, L4Virtual

M1 = L4Member("/Common/10.1.20.21:80", "10.1.20.21", 80, ratio=3, snat=("10.1.20.10",))
M2 = L4Member("/Common/10.1.20.22:80", "10.1.20.22", 80)


def rules(b: dict, chain: str) -> list[list]:
    return [c["add"]["rule"]["expr"] for c in b["nftables"]
            if "rule" in c.get("add", {}) and c["add"]["rule"]["chain"] == chain]


def vmap(b: dict) -> dict:
    (rule,) = rules(b, "prerouting")
    return next(e["vmap"] for e in rule if "vmap" in e)


def test_round_robin_is_one_map_slot_per_member():
    v = vmap(fastl4.batch([L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", (M1, M2))], set(), set()))
    assert v["key"]["numgen"] == {"mode": "inc", "mod": 2, "offset": 0}
    assert [s[1]["goto"]["target"] for s in v["data"]["set"]] == [
        "/Common/vs /Common/10.1.20.21:80", "/Common/vs /Common/10.1.20.22:80"]


def test_ratio_repeats_a_member_by_its_ratio():
    v = vmap(fastl4.batch([L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "ratio-member", (M1, M2))], set(), set()))
    targets = [s[1]["goto"]["target"].split()[1] for s in v["data"]["set"]]
    assert v["key"]["numgen"]["mod"] == 4 and Counter(targets) == {M1.name: 3, M2.name: 1}


def test_each_member_chain_dnats_and_snat_only_where_asked():
    b = fastl4.batch([L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", (M1, M2))], set(), set())
    (m1,) = rules(b, f"/Common/vs {M1.name}")
    assert {"dnat": {"addr": "10.1.20.21", "port": 80}} in m1
    (snat,) = rules(b, "postrouting")
    assert {"snat": {"addr": "10.1.20.10"}} in snat


def test_a_snatpool_spreads_clients_over_its_addresses_by_a_hash_of_the_client():
    pooled = L4Member("/Common/10.1.20.21:80", "10.1.20.21", 80, snat=("10.1.20.50", "10.1.20.51"))
    b = fastl4.batch([L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", (pooled,))], set(), set())
    (snat,) = rules(b, "postrouting")
    spread = next(e for e in snat if "snat" in e)["snat"]["addr"]["map"]
    assert spread["key"]["jhash"]["mod"] == 2 and spread["key"]["jhash"]["expr"]["payload"]["field"] == "saddr"
    assert spread["data"]["set"] == [[0, "10.1.20.50"], [1, "10.1.20.51"]]


def test_no_member_means_no_dnat_so_the_kernel_resets():
    b = fastl4.batch([L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", ())], set(), set())
    assert rules(b, "prerouting") == [] and "/Common/vs in" in fastl4.wanted([
        L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", ())])[1]   # its counters stay


def test_udp_destinations_the_kernel_translates_are_those_a_datagram_before_the_virtual_leaves_stuck():
    """Their untranslated conntrack entries go when they come (kernel.forget_untranslated)."""
    udp = L4Virtual("/Common/vs_udp", "10.1.10.100", 96, "udp", "round-robin", (M1,))
    others = [L4Virtual("/Common/vs_tcp", "10.1.10.100", 81, "tcp", "round-robin", (M1,)),   # a SYN retried is new
              L4Virtual("/Common/vs_none", "10.1.10.100", 97, "udp", "round-robin", ()),    # nothing to translate
              L4Virtual("/Common/vs_px", "10.1.10.100", 98, "udp", "round-robin", (M1,), proxied=True),
              L4Virtual("/Common/vs_sl", "10.1.10.100", 99, "udp", "round-robin", (M1,), stateless=True),
              L4Virtual("/Common/vs_fw", "10.9.0.0", 0, "udp", "round-robin", (), forward=True)]
    assert fastl4.translated_udp([udp, *others]) == {("10.1.10.100", 96)}
    assert fastl4.translated_udp(others) == frozenset()


def test_bytes_are_counted_by_one_map_lookup_of_the_connections_mark():
    b = fastl4.batch([L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", (M1, M2))], set(), set())
    (m1,) = rules(b, f"/Common/vs {M1.name}")
    mark = fastl4.flow_mark("/Common/vs", M1.name)
    assert {"mangle": {"key": {"ct": {"key": "mark"}}, "value": mark}} in m1   # set with the DNAT
    by_virtual, by_member = (rule[0]["counter"]["map"]["data"]["set"] for rule in rules(b, "forward"))
    assert [{"concat": ["reply", mark]}, "/Common/vs out"] in by_virtual
    assert [{"concat": ["original", mark]}, f"/Common/vs {M1.name} in"] in by_member
    assert len(by_member) == 4 and fastl4.flow_mark("/Common/vs", M2.name) != mark


def test_a_rewrite_keeps_counters_wanted_and_deletes_the_rest():
    old_chain, old_counter = "/Common/gone /Common/10.9.9.9:80", "/Common/gone conns"
    b = fastl4.batch([L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", (M2,))],
                     {"prerouting", old_chain}, {old_counter, "/Common/vs conns"})
    deleted = [next(iter(c["delete"].values()))["name"] for c in b["nftables"] if "delete" in c]
    assert deleted == [old_chain, old_counter]
    flushed = [c["flush"]["chain"]["name"] for c in b["nftables"] if "flush" in c]
    assert flushed == sorted([old_chain, "prerouting"])   # emptied, so the old chain can go


def test_listing_reads_counters_back():
    chains, counters, values, _ = fastl4.listing({"nftables": [
        {"chain": {"name": "prerouting"}},
        {"counter": {"name": "/Common/vs conns", "packets": 4, "bytes": 240}}]})
    assert chains == {"prerouting"} and values == {"/Common/vs conns": (4, 240)}




def test_established_connections_are_counted_by_virtual_and_member():
    from node.ltm.kernel import established
    line = ("tcp      6 431999 ESTABLISHED src=10.1.10.51 dst=10.1.10.100 sport=40000 dport=81 src=10.1.20.21 "
            "dst=10.1.10.51 sport=80 dport=40000 [ASSURED] mark=0 use=1")
    assert established(line + "\n" + line.replace("40000", "40001")) == {("10.1.10.100", 81, "10.1.20.21", 80): 2}


def test_source_address_persistence_is_a_kernel_map_looked_up_first_and_kept_across_rewrites():
    vs = L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", (M1, M2), ("255.255.255.0", 60))
    b = fastl4.batch([vs], set(), set())
    (new_map,) = [c["add"]["map"] for c in b["nftables"] if "map" in c.get("add", {})]
    assert (new_map["name"], new_map["map"], new_map["timeout"]) == (vs.persist_map(), "mark", 60)
    lookup, by_mark, balanced = rules(b, "prerouting")
    assert lookup[-1]["mangle"]["value"]["map"]["data"] == f"@{vs.persist_map()}"
    assert {m for m, _ in next(e["vmap"] for e in by_mark if "vmap" in e)["data"]["set"]} == {
        fastl4.mark_of(M1.name), fastl4.mark_of(M2.name)}
    assert any("numgen" in str(e) for e in balanced)
    (m1,) = rules(b, f"/Common/vs {M1.name}")   # the member's chain marks the packet with the member
    assert m1.index({"mangle": {"key": {"meta": {"key": "mark"}}, "value": fastl4.mark_of(M1.name)}}) < \
        m1.index({"dnat": {"addr": "10.1.20.21", "port": 80}})
    text = fastl4.recording([vs])
    assert f"update @{vs.persist_map()} {{ ip saddr & 255.255.255.0 timeout 60s : meta mark }}" in text
    again = fastl4.batch([vs], set(), set(), frozenset({vs.persist_map()}))
    assert not [c for c in again["nftables"] if "map" in c.get("delete", {})]   # its records stay
    gone = fastl4.batch([L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", (M1, M2))], set(), set(),
                        frozenset({vs.persist_map()}))
    assert [c["delete"]["map"]["name"] for c in gone["nftables"] if "map" in c.get("delete", {})] == [vs.persist_map()]


def test_persistence_records_read_back_from_the_map():
    listed = {"elem": [[{"elem": {"val": "10.1.10.0", "timeout": 60, "expires": 42}}, 1120711281]]}
    assert fastl4.records(listed) == [("10.1.10.0", 42, 1120711281)]


def test_mirrored_records_seed_a_new_map_in_the_same_batch_with_their_time_left():
    vs = L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", (M1, M2), ("none", 60))
    seeds = {"/Common/vs": [fastl4.Seed("10.1.10.51", fastl4.mark_of(M2.name), 41.6)]}
    cmds = fastl4.batch([vs], set(), set(), seeds=seeds)["nftables"]
    at = next(i for i, c in enumerate(cmds) if "element" in c.get("add", {}))
    assert at > next(i for i, c in enumerate(cmds) if "map" in c.get("add", {}))   # into the map just made
    assert at < next(i for i, c in enumerate(cmds) if "rule" in c.get("add", {}))   # before any packet meets it
    assert cmds[at]["add"]["element"]["elem"] == [
        [{"elem": {"val": "10.1.10.51", "timeout": 60, "expires": 42}}, fastl4.mark_of(M2.name)]]
    forever = L4Virtual("/Common/vs", "10.1.10.100", 81, "tcp", "round-robin", (M1, M2), ("none", 0))
    cmds = fastl4.batch([forever], set(), set(), seeds={"/Common/vs": [fastl4.Seed("10.1.10.51", 7, None)]})["nftables"]
    assert [c["add"]["element"]["elem"] for c in cmds if "element" in c.get("add", {})] == [[["10.1.10.51", 7]]]


def test_a_batch_never_touches_the_persistence_recording_which_members_coming_and_going_leave_as_it_is():
    """The cause of a lost fastL4 persistence record: a batch flushed the whole table and the
    recording rules came back only in a second transaction after it, so a client whose first
    connection fell in between was DNATed and never recorded (and never mirrored)."""
    vs = L4Virtual("/Common/vs", "10.1.10.100", 94, "tcp", "round-robin", (M1, M2), ("none", 180))
    have = {"prerouting", "forward", "postrouting", fastl4.RECORD, f"/Common/vs {M1.name}"}
    cmds = fastl4.batch([vs], have, set(), frozenset({vs.persist_map()}))["nftables"]
    touched = [(verb, kind, obj.get("name")) for c in cmds for verb, what in c.items() for kind, obj in what.items()
               if verb in ("flush", "delete")]
    assert ("flush", "table", None) not in touched
    assert not [t for t in touched if t[2] == fastl4.RECORD]
    text = fastl4.recording([vs])
    assert f"add chain ip biglab_ltm {fastl4.RECORD} {{ type filter hook forward priority 10; policy accept; }}" in text
    assert f"add map ip biglab_ltm {vs.persist_map()} {{ type ipv4_addr : mark; flags timeout; timeout 180s; }}" in text
    assert text.index(f"flush chain ip biglab_ltm {fastl4.RECORD}") < text.index("update @")
    assert fastl4.recording([L4Virtual(vs.path, vs.address, vs.port, "tcp", "round-robin", (M2,), vs.persist)]) == text


async def test_the_kernel_loads_the_recording_before_the_rules_that_dnat_and_again_only_when_it_changes(monkeypatch):
    from node.ltm import kernel
    calls = []

    async def nft(payload=None, *args, text=None):
        calls.append("list" if args else "recording" if text is not None else "batch")
        return {}
    monkeypatch.setattr(kernel, "nft", nft)
    monkeypatch.setattr(kernel, "forwarding", lambda on: None)
    k, vs = kernel.Kernel(), L4Virtual("/Common/vs", "10.1.10.100", 94, "tcp", "round-robin", (M1, M2), ("none", 180))
    await k.apply([vs])
    assert calls == ["list", "recording", "batch", "list"]
    calls.clear()
    await k.apply([L4Virtual(vs.path, vs.address, vs.port, "tcp", "round-robin", (M2,), vs.persist)])   # a member down
    assert calls == ["list", "batch", "list"]


def test_the_start_up_batch_is_teardown_empty_table_and_recording_chain_in_one_transaction():
    # one `nft` run at a daemon's start instead of three: what teardown, recording([]) and batch([]) make
    cmds = fastl4.fresh()["nftables"]
    assert cmds[:2] == fastl4.teardown()["nftables"]   # a killed predecessor's table goes first
    chains = {c["add"]["chain"]["name"]: c["add"]["chain"] for c in cmds if "chain" in c.get("add", {})}
    assert set(chains) == set(fastl4.BASE_CHAINS) | {fastl4.RECORD}
    assert (chains["allow"]["hook"], chains["allow"]["policy"]) == ("forward", "drop")   # a standby forwards nothing
    assert "type filter hook forward priority 10; policy accept;" in fastl4.recording([])   # the chain the text makes
    assert (chains[fastl4.RECORD]["type"], chains[fastl4.RECORD]["hook"], chains[fastl4.RECORD]["prio"],
            chains[fastl4.RECORD]["policy"]) == ("filter", "forward", 10, "accept")
    assert not [c for c in cmds if "rule" in c.get("add", {})]
