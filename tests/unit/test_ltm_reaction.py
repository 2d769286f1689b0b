"""What the data plane does on a commit: it looks again only when the commit can change what it
serves (AS3's bookkeeping in data groups cannot), and its reports stay right as the config moves."""
from node.config.store import ConfigStore, Op
from node.events import ConfigCommitted, Hub
from node.log import Log
from node.ltm.service import LTM, concerns_ltm


def device() -> tuple[ConfigStore, list]:
    hub, seen = Hub(), []
    hub.subscribe(ConfigCommitted, seen.append)
    store = ConfigStore(None, "bigip1", events=hub)
    store.commit([Op("create", "net vlan", "/Common/external", {}),
                  Op("create", "net self", "/Common/ext", {"address": ("set", "10.1.10.11/24"),
                                                           "vlan": ("set", "/Common/external")})])
    return store, seen


def test_a_commit_of_only_data_groups_or_gtm_objects_leaves_the_data_plane_alone():
    store, seen = device()
    store.commit([Op("create", "ltm data-group internal", "/Common/appsvcs-task", {"type": ("set", "integer")})])
    store.commit([Op("create", "gtm datacenter", "/Common/dc1", {})])
    assert [concerns_ltm(e.changes) for e in seen[1:]] == [False, False]
    store.commit([Op("create", "ltm pool", "/Common/web", {"members": ("set", {"10.1.20.21:80": {}})}),
                  Op("create", "ltm data-group internal", "/Common/other", {"type": ("set", "string")})])
    assert concerns_ltm(seen[-1].changes)


def test_data_path_follows_a_change_of_the_virtuals_profiles():
    store, _ = device()
    store.commit([Op("create", "ltm virtual", "/Common/vs", {"destination": ("set", "10.1.10.100:80"),
                                                             "profiles": ("set", ["fastL4"])})])
    ltm = LTM("bigip1", store, lambda: ["traffic-group-1"], Log(None, "bigip1"), Hub())
    assert ltm.data_path(store.get("ltm virtual", "/Common/vs")) == "fastl4"
    store.commit([Op("modify", "ltm virtual", "/Common/vs", {"profiles": ("set", ["tcp", "http"])})])
    assert ltm.data_path(store.get("ltm virtual", "/Common/vs")) == "http"


def test_pool_counts_agree_with_the_pool_report():
    store, _ = device()
    store.commit([Op("create", "ltm pool", "/Common/web", {"members": ("set", {
        "10.1.20.21:80": {}, "10.1.20.22:80": {"session": "user-disabled"}})})])
    ltm = LTM("bigip1", store, lambda: ["traffic-group-1"], Log(None, "bigip1"), Hub())
    report = ltm.pool_report()["/Common/web"]["members"]
    assert ltm.pool_counts() == {"/Common/web": (sum(m["availability"] == "available" for m in report.values()), 2)}


async def test_a_proxied_virtual_is_serving_only_once_its_socket_listens():
    """`up` waits for every virtual to be serving; a listener only started, not yet listening,
    would let a client's first connection be refused."""
    import trio
    store, _ = device()   # the address is not this host's: the listener binds it freely (as on a node
    store.commit([Op("create", "ltm virtual", "/Common/vs", {"destination": ("set", "10.1.10.100:80")})])
    ltm = LTM("bigip1", store, lambda: ["traffic-group-1"], Log(None, "bigip1"), Hub())   # before its address)
    scope, spec = trio.CancelScope(), ("10.1.10.100", 0)
    ltm.listeners["/Common/vs"] = (spec, scope)   # started, as reconcile does
    assert not ltm.virtual_health()["/Common/vs"]["serving"]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ltm._listen, "/Common/vs", spec, scope)
        await trio.sleep(0)
        with trio.fail_after(5):
            while not ltm.virtual_health()["/Common/vs"]["serving"]:
                await trio.sleep(0)
        scope.cancel()
    assert not ltm.virtual_health()["/Common/vs"]["serving"]


def test_a_udp_virtual_is_forwarded_in_the_kernel_with_its_ssl_profiles_attached_not_acting():
    """The full proxy takes TCP only: a UDP virtual's datagrams go to a member through the kernel as
    a fastL4 virtual's do, a client-ssl / server-ssl pair on it (DTLS on a BIG-IP) passed through."""
    store, _ = device()
    store.commit([Op("create", "ltm pool", "/Common/dir", {"members": ("set", {"10.1.20.21:389": {}})}),
                  Op("create", "ltm virtual", "/Common/dtls", {
                      "destination": ("set", "10.1.10.100:443"), "ip-protocol": ("set", "udp"),
                      "pool": ("set", "/Common/dir"),
                      "profiles": ("set", ["udp", "clientssl", "serverssl", "clientldap", "serverldap"])}),
                  Op("create", "ltm virtual", "/Common/tls", {"destination": ("set", "10.1.10.100:636"),
                                                              "pool": ("set", "/Common/dir"),
                                                              "profiles": ("set", ["tcp", "clientssl"])})])
    ltm = LTM("bigip1", store, lambda: ["traffic-group-1"], Log(None, "bigip1"), Hub())
    assert ltm.in_kernel(store.get("ltm virtual", "/Common/dtls"))
    assert not ltm.in_kernel(store.get("ltm virtual", "/Common/tls"))
    ltm._reconcile_fastl4()
    (udp,) = ltm._l4_wanted
    assert (udp.path, udp.protocol, [m.address for m in udp.members], udp.proxied) == (
        "/Common/dtls", "udp", ["10.1.20.21"], False)


async def test_the_kernels_counters_are_read_only_while_a_fastl4_virtual_is_in_it(autojump_clock):
    """Each read runs nft and conntrack: a device with no fastL4 virtual (most of a big lab's
    GTMs and LTMs) must not spawn two processes a second for nothing."""
    import trio
    store, _ = device()
    ltm = LTM("bigip1", store, lambda: ["traffic-group-1"], Log(None, "bigip1"), Hub())
    reads = []

    async def refresh():
        reads.append(trio.current_time())
    ltm.kernel.refresh = refresh
    ltm._mirror_kernel_records = lambda: None   # what a read feeds: the mirroring peer's records
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ltm._fastl4_stats)
        await trio.sleep(10.5)
        assert reads == []
        ltm._l4_wanted = ["a fastL4 virtual"]   # as reconcile sets it
        await trio.sleep(5)
        assert len(reads) == 5
        ltm._l4_wanted = []
        await trio.sleep(5)
        assert len(reads) == 5
        nursery.cancel_scope.cancel()
